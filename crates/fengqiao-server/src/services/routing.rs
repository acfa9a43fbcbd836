//! 分流: who handles an incident. Police work goes to the command room of
//! the station whose jurisdiction holds the address. Non-police work goes
//! to the organisation a routing rule names for the category and the place
//! (the most specific division code wins), else to the department of the
//! category's type that covers the place most specifically, else to the
//! governance centre covering it; with none, it waits for an operator.
//! A call the rules could not read (no word decided its category) also
//! waits for the operator instead of going to a governance centre unread.

use std::sync::OnceLock;

use fengqiao_core::audit::AuditAction;
use fengqiao_core::category::CategoryCode;
use fengqiao_core::org::{DivisionCode, OrgKind, Organisation};
use fengqiao_core::role::Permission;
use fengqiao_core::work_order::DeadlinePolicy;
use fengqiao_store::{RoutingRule, Store, StoreError};
use fengqiao_triage::{Category, Group, RouteTo, Triage, TriageSuggestion};
use serde_json::Value;

use super::{Error, Result};
use crate::services::access::Caller;
use crate::state::AppState;

static TRIAGE: OnceLock<Triage> = OnceLock::new();

/// The process-wide triage with the embedded category table, built once.
pub fn triage() -> &'static Triage {
    TRIAGE.get_or_init(Triage::default)
}

/// A category of the table, or an internal error: callers pass codes that
/// came from the table.
pub(crate) fn table_category(code: &str) -> Result<&'static Category> {
    triage()
        .table()
        .category(code)
        .ok_or_else(|| Error::Internal(format!("category {code} not in the table")))
}

/// The deadlines a department has for a category, from the table.
pub(crate) fn deadlines(code: &str) -> Result<DeadlinePolicy> {
    let category = table_category(code)?;
    Ok(DeadlinePolicy::new(
        category.accept_minutes,
        category.finish_minutes,
    )?)
}

pub(crate) fn route_to_name(route: RouteTo) -> String {
    match serde_json::to_value(route) {
        Ok(Value::String(name)) => name,
        _ => String::new(),
    }
}

#[derive(Clone)]
pub(crate) enum Target {
    CommandRoom(Organisation),
    Department {
        owner: Organisation,
        deadlines: DeadlinePolicy,
    },
    /// No organisation covers the address for this category, or the rules
    /// could not read the text: the command room holds it until an
    /// operator routes it.
    Unrouted,
}

pub(crate) struct Route {
    pub station: Organisation,
    pub command_room: Organisation,
    pub target: Target,
}

/// How specifically an organisation covers `code`: the length of its most
/// specific covering division code, or `None`.
fn cover_depth(org: &Organisation, code: &DivisionCode) -> Option<usize> {
    org.division_codes
        .iter()
        .filter(|own| own.contains(code))
        .map(|own| own.significant().len())
        .max()
}

/// The organisation of `candidates` that covers `code` most specifically;
/// the first one on a tie.
pub(crate) fn best_cover(
    candidates: Vec<Organisation>,
    code: &DivisionCode,
) -> Option<Organisation> {
    let mut best: Option<(usize, Organisation)> = None;
    for org in candidates {
        if let Some(depth) = cover_depth(&org, code) {
            if best.as_ref().is_none_or(|(d, _)| depth > *d) {
                best = Some((depth, org));
            }
        }
    }
    best.map(|(_, org)| org)
}

pub(crate) async fn route(
    state: &AppState,
    caller: &Caller,
    code: Option<&DivisionCode>,
    suggestion: &TriageSuggestion,
) -> Result<Route> {
    let store = &state.store;
    // The station whose jurisdiction holds the address, among those the
    // caller answers for; else the caller's own station.
    let covering = match code {
        Some(code) => {
            let stations = store
                .organisations_of_kind(OrgKind::PoliceStation)
                .await?
                .into_iter()
                .filter(|s| caller.sees(&s.path))
                .collect();
            best_cover(stations, code)
        }
        None => None,
    };
    let station = match covering {
        Some(station) => station,
        None => own_station(state, caller).await?,
    };
    let command_room = command_room_of(store, &station).await?;
    let target = target_for(store, &station, &command_room, code, suggestion).await?;
    Ok(Route {
        station,
        command_room,
        target,
    })
}

/// Who handles a call the station covers: its command room for police
/// work; for non-police work the owner `department_for` finds at the place
/// (`code`, else the station's own), or nobody yet — also when the rules
/// could not read the text.
pub(crate) async fn target_for(
    store: &Store,
    station: &Organisation,
    command_room: &Organisation,
    code: Option<&DivisionCode>,
    suggestion: &TriageSuggestion,
) -> Result<Target> {
    Ok(if suggestion.group == Group::Police {
        Target::CommandRoom(command_room.clone())
    } else if suggestion.confidence <= 0.0 {
        // The table's fallback, chosen because nothing decided: a person
        // reads it before anyone is sent.
        Target::Unrouted
    } else {
        let deadlines = deadlines(&suggestion.category)?;
        let place = code.or_else(|| station.division_codes.first());
        let owner = match place {
            Some(place) => department_for(store, &suggestion.category, place).await?,
            None => None,
        };
        match owner {
            Some(owner) => Target::Department { owner, deadlines },
            None => Target::Unrouted,
        }
    })
}

/// The station's command room, or the station itself when it has none.
pub(crate) async fn command_room_of(store: &Store, station: &Organisation) -> Result<Organisation> {
    Ok(store
        .organisations_within(&station.path)
        .await?
        .into_iter()
        .find(|o| o.kind == OrgKind::CommandRoom)
        .unwrap_or_else(|| station.clone()))
}

/// Who handles non-police `category` at `place`: the most specific routing
/// rule, else the covering department of the category's type, else the
/// covering governance centre.
pub(crate) async fn department_for(
    store: &Store,
    category: &str,
    place: &DivisionCode,
) -> Result<Option<Organisation>> {
    let rule = store
        .routing_rules_for(category)
        .await?
        .into_iter()
        .filter(|r| r.division_code.contains(place))
        .max_by_key(|r| r.division_code.significant().len());
    if let Some(rule) = rule {
        if let Some(org) = store.organisation(rule.org_id).await? {
            return Ok(Some(org));
        }
    }
    let wanted = route_to_name(table_category(category)?.route_to);
    let departments = store
        .organisations_of_kind(OrgKind::Department)
        .await?
        .into_iter()
        .filter(|d| d.department_type.as_deref() == Some(wanted.as_str()))
        .collect();
    if let Some(department) = best_cover(departments, place) {
        return Ok(Some(department));
    }
    Ok(best_cover(
        store
            .organisations_of_kind(OrgKind::GovernanceCentre)
            .await?,
        place,
    ))
}

/// The police station the caller belongs to (the nearest one above), or the
/// caller's organisation itself when there is none above it.
pub(crate) async fn own_station(state: &AppState, caller: &Caller) -> Result<Organisation> {
    let ids: Vec<i64> = caller.org.path.ids().collect();
    for id in ids.into_iter().rev() {
        if let Some(org) = state.store.organisation(id).await? {
            if org.kind == OrgKind::PoliceStation {
                return Ok(org);
            }
        }
    }
    Ok(caller.org.clone())
}

/// Whether `org` may be handed work at `place`: a department or governance
/// centre serving the place, or any organisation within the caller's own
/// jurisdiction. Police stations and command rooms outside it may not.
pub(crate) fn may_handle(
    caller: &Caller,
    org: &Organisation,
    place: Option<&DivisionCode>,
) -> bool {
    let serves = matches!(org.kind, OrgKind::Department | OrgKind::GovernanceCentre)
        && place.is_some_and(|p| org.covers(p));
    serves || caller.sees(&org.path)
}

/// 分流规则: replaces a category's rules for the places of the caller's
/// jurisdiction (each place and organisation checked by the entry point),
/// keeping other jurisdictions' rules, audited. Returns the category's
/// rules as they are now.
pub async fn replace_rules(
    state: &AppState,
    caller: &Caller,
    code: &CategoryCode,
    rules: &[(DivisionCode, i64)],
) -> Result<Vec<RoutingRule>> {
    caller.require(Permission::ManageRoutingRules)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    match tx
        .replace_routing_rules(code, |c| caller.covers(c.as_str()), rules, now)
        .await
    {
        Ok(()) => {}
        // Another request set a rule for one of these places meanwhile.
        Err(StoreError::Duplicate(_)) => {
            return Err(Error::Conflict {
                zh: "分流规则刚被他人修改，请刷新后重试。".into(),
                en: "The routing rules were changed meanwhile; reload and try again.".into(),
            })
        }
        Err(e) => return Err(e.into()),
    }
    let detail = rules
        .iter()
        .map(|(place, org)| format!("{}→{org}", place.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let event = caller
        .audit(AuditAction::Update, "routing_rule")
        .object(code.as_str())
        .detail(detail);
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    Ok(state.store.routing_rules_for(code.as_str()).await?)
}
