//! 派警 on the street: units registered and crewed for a shift, ranked for
//! an incident by estimated arrival, dispatched one or several in one
//! action, moved by their crew's taps until the incident is resolved on
//! scene or handed on, and reinforced by the war zone (战区) when the
//! station cannot arrive in time.
//!
//! Every write locks the incident first and then its units in id order, so
//! two operators who pick the same unit at once get one assignment and one
//! refusal, and no two writers wait on each other in a circle.

use std::collections::{BTreeMap, BTreeSet};

use fengqiao_core::audit::AuditAction;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::geo::Wgs84;
use fengqiao_core::incident::{Group, Incident, IncidentEvent};
use fengqiao_core::org::{OrgKind, OrgPath, Organisation};
use fengqiao_core::reinforcement::{Reinforcement, ReinforcementStatus};
use fengqiao_core::role::Permission;
use fengqiao_core::timeline::TimelineEvent;
use fengqiao_core::unit::{
    self, CallSign, Force, Position, Recommendation, Travel, Unit, UnitError, UnitEvent, UnitKind,
    UnitStatus, ARRIVAL_STANDARD_MINUTES,
};
use fengqiao_core::work_order::HandlingNote;
use fengqiao_core::Timestamp;
use fengqiao_store::{
    IncidentRecord, NewReinforcement, NewUnit, PositionReport, StoredIncident, Tx,
};

use super::access::Caller;
use super::incidents::{self, commanded_incident, incident_refused};
use super::{roads, Error, Result};
use crate::live::{LiveEvent, LiveKind};
use crate::state::AppState;

/// Units sent in one action, and asked of a war zone in one request.
pub const MAX_UNITS: usize = 5;
/// Crew of one unit.
pub const MAX_CREW: usize = 8;
/// Positions in one batch.
pub const MAX_POSITIONS: usize = 10_000;
/// Recommendations returned.
const MAX_RECOMMENDED: usize = 20;

fn conflict(detail: &'static str, field: &str) -> Error {
    Error::field(FieldError::new(field, Reason::Conflict { detail }))
}

/// A refused unit transition as a 409 that says why in Chinese.
pub fn unit_refused(unit: &Unit, err: UnitError) -> Error {
    let call_sign = unit.call_sign.as_str();
    let zh = match &err {
        UnitError::Busy { incident_id } => {
            format!("警力「{call_sign}」已派往警情 {incident_id}，不能重复派出。")
        }
        UnitError::NotAllowed { from, to } => {
            use fengqiao_core::label::Label;
            format!(
                "警力「{call_sign}」当前为「{}」，不能改为「{}」。",
                from.zh(),
                to.zh()
            )
        }
    };
    Error::conflict(zh, format!("unit {call_sign}: {err}."))
}

// ---------------------------------------------------------------------------
// Registry and crews

/// A unit as asked for.
pub struct UnitInput<'a> {
    pub org_id: i64,
    pub call_sign: &'a str,
    pub kind: &'a str,
}

/// 警力登记: a unit of an organisation in the caller's jurisdiction. The
/// street patrol force belongs to a governance centre; police units to a
/// station, its command room or a joint-duty station.
pub async fn register(state: &AppState, caller: &Caller, input: &UnitInput<'_>) -> Result<Unit> {
    caller.require(Permission::ManageUnits)?;
    let call_sign = CallSign::parse(input.call_sign);
    let kind = UnitKind::parse(input.kind);
    let org = state.store.organisation(input.org_id).await?;
    let mut errors = Vec::new();
    let org = match org.filter(|o| caller.sees(&o.path)) {
        None => {
            errors.push(FieldError::new("org_id", Reason::NotFound));
            None
        }
        Some(org) => Some(org),
    };
    if let (Some(org), Ok(kind)) = (&org, &kind) {
        let police = matches!(
            org.kind,
            OrgKind::PoliceStation | OrgKind::CommandRoom | OrgKind::JointDutyStation
        );
        if !police && org.kind != OrgKind::GovernanceCentre {
            errors.push(FieldError::new(
                "org_id",
                Reason::Conflict {
                    detail: "unit_org_kind",
                },
            ));
        } else if *kind != UnitKind::Volunteers && (*kind == UnitKind::StreetPatrol) == police {
            errors.push(FieldError::new(
                "kind",
                Reason::Conflict {
                    detail: "street_patrol_org",
                },
            ));
        }
    }
    errors.extend(call_sign.as_ref().err().cloned());
    errors.extend(kind.as_ref().err().cloned());
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let (org, call_sign, kind) = (org.expect("checked"), call_sign?, kind?);
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let new = NewUnit {
        org_id: org.id,
        call_sign,
        kind,
    };
    let id = tx.insert_unit(&new, now).await.map_err(|err| match err {
        fengqiao_store::StoreError::Duplicate(_) => {
            Error::field(FieldError::new("call_sign", Reason::AlreadyExists))
        }
        other => other.into(),
    })?;
    let event = caller
        .audit(AuditAction::Create, "unit")
        .object(id)
        .detail(format!("{} {}", new.kind.as_str(), new.call_sign.as_str()));
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    let unit = state.store.unit(id).await?.ok_or(Error::NotFound)?;
    publish_unit(state, &unit, "registered", Vec::new()).await?;
    Ok(unit)
}

/// The jurisdiction over units: the caller's own, and for a command room
/// its station's, whose units it sends.
async fn unit_scope(state: &AppState, caller: &Caller) -> Result<OrgPath> {
    if caller.org.kind == OrgKind::CommandRoom {
        if let Some(station) = match caller.org.parent_id {
            Some(id) => state.store.organisation(id).await?,
            None => None,
        } {
            return Ok(station.path);
        }
    }
    Ok(caller.scope().clone())
}

/// A unit whose organisation lies in the caller's jurisdiction over units,
/// with it; else 404 as if it did not exist.
pub async fn visible_unit(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<(Unit, Organisation)> {
    let unit = state.store.unit(id).await?.ok_or(Error::NotFound)?;
    let org = state
        .store
        .organisation(unit.org_id)
        .await?
        .ok_or(Error::NotFound)?;
    if unit_scope(state, caller).await?.contains(&org.path) {
        return Ok((unit, org));
    }
    Err(Error::NotFound)
}

/// Who may read units: the command room and whoever manages them.
fn require_dispatcher(caller: &Caller) -> Result<()> {
    if caller.permissions.contains(&Permission::DispatchIncidents)
        || caller.permissions.contains(&Permission::ManageUnits)
    {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The units within the caller's jurisdiction; `query` narrows by call sign.
pub async fn list(state: &AppState, caller: &Caller, query: &str) -> Result<Vec<Unit>> {
    require_dispatcher(caller)?;
    let scope = unit_scope(state, caller).await?;
    Ok(state
        .store
        .units_within(scope.as_str(), query.trim())
        .await?)
}

/// A unit with its crew, for its page.
pub async fn get(state: &AppState, caller: &Caller, id: i64) -> Result<(Unit, Vec<i64>)> {
    require_dispatcher(caller)?;
    let (unit, _) = visible_unit(state, caller, id).await?;
    let crew = state.store.crew(id).await?;
    Ok((unit, crew))
}

/// 上岗: the accounts on the unit for this shift (each taken off any other
/// unit); an empty list stands the crew down. Each must be active, within
/// the caller's jurisdiction, and of a role that crews units.
pub async fn set_crew(
    state: &AppState,
    caller: &Caller,
    unit_id: i64,
    user_ids: &[i64],
) -> Result<Vec<i64>> {
    caller.require(Permission::ManageUnits)?;
    visible_unit(state, caller, unit_id).await?;
    if user_ids.len() > MAX_CREW {
        return Err(Error::field(FieldError::new(
            "user_ids",
            Reason::TooLong { max: MAX_CREW },
        )));
    }
    let ids: BTreeSet<i64> = user_ids.iter().copied().collect();
    let mut errors = Vec::new();
    for (i, id) in user_ids.iter().enumerate() {
        let field = format!("user_ids[{i}]");
        let found = state.store.user(*id).await?;
        let user = match found {
            Some(found) if !found.user.disabled => found.user,
            _ => {
                errors.push(FieldError::new(field, Reason::NotFound));
                continue;
            }
        };
        let org = state.store.organisation(user.org_id).await?;
        if !org.is_some_and(|o| caller.sees(&o.path)) {
            errors.push(FieldError::new(field, Reason::NotFound));
        } else if !user.roles.permissions().contains(&Permission::CrewUnits) {
            errors.push(FieldError::new(
                field,
                Reason::Conflict { detail: "not_crew" },
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let ids: Vec<i64> = ids.into_iter().collect();
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.set_crew(unit_id, &ids).await?;
    let event = caller
        .audit(AuditAction::Update, "unit")
        .object(unit_id)
        .detail(format!("crew {ids:?}"));
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    Ok(ids)
}

// ---------------------------------------------------------------------------
// Recommendation

/// The units proposed for an incident, fastest first.
#[derive(Debug, Clone)]
pub struct Recommendations {
    pub incident_id: i64,
    /// Police units for a police incident; the street force first for a
    /// non-police one.
    pub force: Force,
    pub standard_minutes: f64,
    /// Police incidents of the station waiting for a unit.
    pub waiting: i64,
    /// The station cannot arrive within the standard, or has too many
    /// incidents waiting: its war zone's other stations are included.
    pub overloaded: bool,
    pub war_zone: Option<Organisation>,
    pub units: Vec<Recommendation>,
}

/// Where an incident is, for travel estimates.
fn scene(incident: &StoredIncident) -> Result<Wgs84> {
    incident.coordinates.ok_or_else(|| {
        Error::conflict(
            "该警情地址没有坐标，无法估算到达时间；请核实地址后直接指定警力。",
            "The incident has no coordinates to estimate arrival from.",
        )
    })
}

fn force_for(incident: &StoredIncident) -> Result<Force> {
    match incident.triage.as_ref().map(|t| t.group) {
        Some(Group::Police) => Ok(Force::Police),
        Some(Group::NonPolice) => Ok(Force::Street),
        None => Err(incident_refused(
            fengqiao_core::incident::IncidentError::NotTriaged,
        )),
    }
}

async fn station_of(state: &AppState, incident: &StoredIncident) -> Result<Organisation> {
    state
        .store
        .organisation(incident.station_org_id)
        .await?
        .ok_or_else(|| Error::internal("the incident's station vanished"))
}

/// The organisations whose units an incident's command room sends itself:
/// the station and what lies under it (its command room, joint-duty
/// stations), and for non-police work the governance centres serving the
/// incident's place (or the station's street).
async fn own_orgs(
    state: &AppState,
    incident: &StoredIncident,
    station: &Organisation,
) -> Result<Vec<i64>> {
    let mut ids: Vec<i64> = state
        .store
        .organisations_within(&station.path)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    if force_for(incident)? == Force::Street {
        let place = incident
            .community_code
            .as_deref()
            .and_then(|c| fengqiao_core::org::DivisionCode::parse(c).ok());
        for centre in state
            .store
            .organisations_of_kind(OrgKind::GovernanceCentre)
            .await?
        {
            let serves = match &place {
                Some(place) => centre.covers(place),
                None => station.division_codes.iter().any(|c| centre.covers(c)),
            };
            if serves {
                ids.push(centre.id);
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The war zone a station belongs to — the one whose divisions cover the
/// station's — and the zone's other stations with what lies under them.
async fn war_zone_of(
    state: &AppState,
    station: &Organisation,
) -> Result<Option<(Organisation, Vec<i64>)>> {
    let zones = state.store.organisations_of_kind(OrgKind::WarZone).await?;
    let Some(zone) = zones.into_iter().find(|z| {
        !station.division_codes.is_empty() && station.division_codes.iter().all(|c| z.covers(c))
    }) else {
        return Ok(None);
    };
    let stations = zone_stations(state, &zone).await?;
    let mut ids = Vec::new();
    for other in stations.iter().filter(|s| s.id != station.id) {
        ids.extend(
            state
                .store
                .organisations_within(&other.path)
                .await?
                .into_iter()
                .map(|o| o.id),
        );
    }
    Ok(Some((zone, ids)))
}

/// The police stations a war zone groups.
async fn zone_stations(state: &AppState, zone: &Organisation) -> Result<Vec<Organisation>> {
    Ok(state
        .store
        .organisations_of_kind(OrgKind::PoliceStation)
        .await?
        .into_iter()
        .filter(|s| !s.division_codes.is_empty() && s.division_codes.iter().all(|c| zone.covers(c)))
        .collect())
}

/// The [`MAX_RECOMMENDED`] available units of `orgs` that reach `to`
/// first (all, when there are fewer), ranked by the core. Reading and decoding every unit of a war
/// zone (10,000 rows) took ~60 ms of a request meant to take 5, so the
/// units are read from a box around the scene first: one outside the box
/// of [`Travel::bounds_within`]`(minutes)` is estimated at more than `minutes`,
/// so when the box holds enough units estimated within them, none outside
/// could rank before them. Otherwise the box widens, and at last all are
/// read.
async fn fastest(
    state: &AppState,
    orgs: &[i64],
    travel: &Travel<'_>,
    force: Force,
    local: impl Fn(i64) -> bool,
) -> Result<Vec<Recommendation>> {
    // From a quarter of the standard, doubling up to 80 minutes: a box is
    // one cheap query, and a wider one than needed reads units that cannot
    // rank (all of a station's when its nearest are a little far).
    let mut minutes = ARRIVAL_STANDARD_MINUTES / 4.0;
    for _ in 0..7 {
        let bounds = travel.bounds_within(minutes);
        let near = state.store.available_units_within(orgs, &bounds).await?;
        let mut ranked = unit::recommend(&near, travel, force, &local);
        if ranked
            .get(MAX_RECOMMENDED - 1)
            .is_some_and(|r| r.estimate.minutes <= minutes)
        {
            ranked.truncate(MAX_RECOMMENDED);
            return Ok(ranked);
        }
        minutes *= 2.0;
    }
    let units = state.store.available_units(orgs).await?;
    let mut ranked = unit::recommend(&units, travel, force, local);
    ranked.truncate(MAX_RECOMMENDED);
    Ok(ranked)
}

/// The station's own available units near enough to tell whether one
/// arrives within the standard (what [`unit::needs_reinforcement`] asks):
/// boxes of a quarter, half and all of the standard's reach, the first
/// holding one that does answers, so a station with units about reads a
/// handful of rows.
async fn own_nearest(
    state: &AppState,
    own: &[i64],
    travel: &Travel<'_>,
    force: Force,
    local: impl Fn(i64) -> bool,
) -> Result<Vec<Recommendation>> {
    let mut ranked = Vec::new();
    for share in [0.25, 0.5, 1.0] {
        let bounds = travel.bounds_within(ARRIVAL_STANDARD_MINUTES * share);
        let near = state.store.available_units_within(own, &bounds).await?;
        ranked = unit::recommend(&near, travel, force, &local);
        if ranked.iter().any(|r| r.within_standard) {
            break;
        }
    }
    Ok(ranked)
}

/// 推荐警力: the available units that can reach the incident first, by the
/// estimate the core makes; with the war zone's when the station is
/// overloaded.
pub async fn recommend(
    state: &AppState,
    caller: &Caller,
    incident_id: i64,
) -> Result<Recommendations> {
    let record = commanded_incident(state, caller, incident_id).await?;
    let to = scene(&record)?;
    let roads = roads::network(state).await?;
    let travel = Travel::to(to, &roads);
    let force = force_for(&record)?;
    let station = station_of(state, &record).await?;
    let own = own_orgs(state, &record, &station).await?;
    let local: BTreeSet<i64> = own.iter().copied().collect();
    let is_local = |org: i64| local.contains(&org);
    let mut waiting = 0;
    let mut overloaded = false;
    let mut war_zone = None;
    let mut orgs = own.clone();
    if force == Force::Police {
        waiting = state.store.police_incidents_waiting(station.id).await?;
        overloaded = unit::needs_reinforcement(
            &own_nearest(state, &own, &travel, force, is_local).await?,
            waiting as usize,
            state.settings.dispatch.max_waiting,
        );
        if overloaded {
            if let Some((zone, others)) = war_zone_of(state, &station).await? {
                // One ranking over the station's and the zone's units: the
                // fastest of both, the zone's marked as reinforcement.
                orgs.extend(others);
                war_zone = Some(zone);
            }
        }
    }
    let units = fastest(state, &orgs, &travel, force, is_local).await?;
    Ok(Recommendations {
        incident_id,
        force,
        standard_minutes: ARRIVAL_STANDARD_MINUTES,
        waiting,
        overloaded,
        war_zone,
        units,
    })
}

// ---------------------------------------------------------------------------
// Dispatch

/// The ids as asked: 1 to [`MAX_UNITS`], each once, in id order (the lock
/// order).
fn unit_ids(ids: &[i64]) -> Result<Vec<i64>> {
    if ids.is_empty() {
        return Err(Error::field(FieldError::new("unit_ids", Reason::Required)));
    }
    if ids.len() > MAX_UNITS {
        return Err(Error::field(FieldError::new(
            "unit_ids",
            Reason::TooLong { max: MAX_UNITS },
        )));
    }
    let sorted: BTreeSet<i64> = ids.iter().copied().collect();
    Ok(sorted.into_iter().collect())
}

/// In the caller's transaction: the incident (locked first) sends each unit
/// of `asked` (locked in id order), all or none. `allowed` says whose units
/// these may be; one that is not is refused on its place in `asked` with
/// `detail`.
async fn send_units(
    tx: &mut Tx,
    incident_id: i64,
    asked: &[i64],
    allowed: &BTreeSet<i64>,
    detail: &'static str,
    actor: &fengqiao_core::audit::Actor,
    now: Timestamp,
) -> Result<(Incident, Vec<Unit>)> {
    let (locked, _) = tx
        .lock_incident(incident_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut incident = locked.to_core()?;
    let mut incident_events: Vec<TimelineEvent<IncidentEvent>> = Vec::new();
    let mut sent = Vec::new();
    for id in unit_ids(asked)? {
        let unit = tx
            .lock_unit(id)
            .await?
            .filter(|u| allowed.contains(&u.org_id))
            .ok_or_else(|| {
                let i = asked.iter().position(|a| *a == id).unwrap_or(0);
                conflict(detail, &format!("unit_ids[{i}]"))
            })?;
        let moved = unit
            .dispatch(incident_id, actor.clone(), now)
            .map_err(|e| unit_refused(&unit, e))?;
        let next = incident
            .send_unit(
                unit.id,
                unit.call_sign.as_str(),
                unit.kind.force(),
                actor.clone(),
                now,
            )
            .map_err(incident_refused)?;
        incident = next.state;
        incident_events.extend(next.events);
        tx.update_unit(&moved.state, &moved.events).await?;
        sent.push(moved.state);
    }
    tx.update_incident(&incident, now).await?;
    tx.append_timeline(incident_id, None, &incident_events)
        .await?;
    Ok((incident, sent))
}

/// 派警: sends one or several of the command room's own units to an
/// incident in one action. Another station's units come through the war
/// zone ([`request_reinforcement`]).
pub async fn dispatch(
    state: &AppState,
    caller: &Caller,
    incident_id: i64,
    ids: &[i64],
) -> Result<Vec<Unit>> {
    unit_ids(ids)?;
    let record = commanded_incident(state, caller, incident_id).await?;
    let station = station_of(state, &record).await?;
    let allowed: BTreeSet<i64> = own_orgs(state, &record, &station)
        .await?
        .into_iter()
        .collect();
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let (_, sent) = send_units(
        &mut tx,
        incident_id,
        ids,
        &allowed,
        "unit_not_yours",
        &caller.actor,
        now,
    )
    .await?;
    let event = caller
        .audit(AuditAction::Update, "incident")
        .object(incident_id)
        .detail(format!("units {ids:?}"));
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    publish_sent(state, incident_id, &sent).await?;
    Ok(sent)
}

/// After the commit: the incident's boards and each crew's phone.
async fn publish_sent(state: &AppState, incident_id: i64, sent: &[Unit]) -> Result<()> {
    publish_incident(state, incident_id, "unit_dispatched").await?;
    for unit in sent {
        let crew = state.store.crew(unit.id).await?;
        publish_unit(state, unit, "dispatched", crew).await?;
    }
    Ok(())
}

/// The incident as the commit left it, told as every incident change is.
async fn publish_incident(state: &AppState, incident_id: i64, change: &str) -> Result<()> {
    if let Some(incident) = state.store.incident_row(incident_id).await? {
        let (station, owner) = (incident.station_org_id, incident.owner_org_id);
        incidents::publish(state, incident_id, station, change, owner).await;
    }
    Ok(())
}

async fn publish_unit(state: &AppState, unit: &Unit, change: &str, crew: Vec<i64>) -> Result<()> {
    let orgs = state
        .store
        .organisation(unit.org_id)
        .await?
        .map(|o| vec![o.path])
        .unwrap_or_default();
    state.live.publish_to(
        LiveEvent {
            kind: LiveKind::Unit,
            id: unit.id,
            incident_id: unit.incident_id,
            change: change.to_owned(),
            orgs,
        },
        crew,
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// The crew's taps

/// Whether the caller moves this unit: one of its crew, or the command
/// room over the unit's organisation.
async fn may_move(state: &AppState, caller: &Caller, unit_id: i64) -> Result<()> {
    if let Some(user) = &caller.user {
        if caller.permissions.contains(&Permission::CrewUnits)
            && state
                .store
                .unit_of_user(user.id)
                .await?
                .is_some_and(|u| u.id == unit_id)
        {
            return Ok(());
        }
    }
    caller.require(Permission::DispatchIncidents)?;
    // The command room of the incident a unit is on moves it for a crew
    // without a phone: a war zone's unit sent as reinforcement included.
    let unit = state.store.unit(unit_id).await?.ok_or(Error::NotFound)?;
    if let Some(incident) = unit.incident_id {
        if commanded_incident(state, caller, incident).await.is_ok() {
            return Ok(());
        }
    }
    visible_unit(state, caller, unit_id).await.map(|_| ())
}

/// The unit a crew member is on now, or 404.
pub async fn my_unit(state: &AppState, caller: &Caller) -> Result<Unit> {
    caller.require(Permission::CrewUnits)?;
    let user = caller.user.as_ref().ok_or(Error::Forbidden)?;
    state
        .store
        .unit_of_user(user.id)
        .await?
        .ok_or(Error::NotFound)
}

/// What a tap asks for.
pub enum Tap {
    /// 出发, 到场, 护送, 空闲 (clear or recall), 暂停执勤, 恢复执勤.
    Status(UnitStatus),
    /// 现场处置完毕: the unit settled the incident; it is free again.
    ResolveOnScene(HandlingNote),
}

/// One tap of the crew (or the command room for them): the unit moves, and
/// the incident records arrival, clearing or resolution with the actor and
/// time. All in one transaction; nothing changes when either refuses.
pub async fn tap(state: &AppState, caller: &Caller, unit_id: i64, tap: Tap) -> Result<Unit> {
    may_move(state, caller, unit_id).await?;
    let now = state.clock.now();
    let actor = caller.actor.clone();
    let seen = state.store.unit(unit_id).await?.ok_or(Error::NotFound)?;
    let mut tx = state.store.begin().await?;
    // Incident first, then the unit: the order dispatch locks in.
    let locked_incident = match seen.incident_id {
        Some(id) => tx.lock_incident(id).await?,
        None => None,
    };
    let unit = tx.lock_unit(unit_id).await?.ok_or(Error::NotFound)?;
    if unit.incident_id != seen.incident_id {
        return Err(Error::conflict(
            "该警力状态刚被他人更新，请刷新后再操作。",
            "The unit changed meanwhile; reload and try again.",
        ));
    }
    let to = match &tap {
        Tap::Status(to) => *to,
        Tap::ResolveOnScene(_) => UnitStatus::Available,
    };
    if let Tap::ResolveOnScene(_) = &tap {
        if unit.status != UnitStatus::OnScene && unit.status != UnitStatus::Transporting {
            return Err(unit_refused(
                &unit,
                UnitError::NotAllowed {
                    from: unit.status,
                    to: UnitStatus::OnScene,
                },
            ));
        }
    }
    let moved = unit
        .advance(to, actor.clone(), now)
        .map_err(|e| unit_refused(&unit, e))?;
    if let (Some((stored, orders)), Some(incident_id)) = (locked_incident, unit.incident_id) {
        let incident = stored.to_core()?;
        let mut events = Vec::new();
        let mut next = incident.clone();
        let mut step = |t: fengqiao_core::timeline::Transition<Incident, IncidentEvent>| {
            next = t.state;
            events.extend(t.events);
        };
        match (&tap, &moved.events[0].event) {
            (Tap::ResolveOnScene(result), _) => {
                let resolved = incident
                    .resolve_on_scene(unit.id, result.clone(), &orders, actor.clone(), now)
                    .map_err(incident_refused)?;
                let cleared = resolved.state.unit_cleared(unit.id, actor.clone(), now);
                step(resolved);
                step(cleared);
            }
            (_, UnitEvent::Arrived { .. }) => step(
                incident
                    .unit_arrived(unit.id, actor.clone(), now)
                    .map_err(incident_refused)?,
            ),
            (_, UnitEvent::Cleared { .. }) => {
                step(incident.unit_cleared(unit.id, actor.clone(), now))
            }
            _ => {}
        }
        if !events.is_empty() {
            tx.update_incident(&next, now).await?;
            tx.append_timeline(incident_id, None, &events).await?;
        }
    }
    tx.update_unit(&moved.state, &moved.events).await?;
    let event = caller
        .audit(AuditAction::Update, "unit")
        .object(unit_id)
        .detail(format!("status {}", moved.state.status.as_str()));
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    if let Some(incident_id) = unit.incident_id {
        let change = match &tap {
            Tap::ResolveOnScene(_) => "resolved_on_scene",
            Tap::Status(UnitStatus::OnScene) => "unit_arrived",
            Tap::Status(_) => "unit_status",
        };
        publish_incident(state, incident_id, change).await?;
    }
    let crew = state.store.crew(unit_id).await?;
    publish_unit(state, &moved.state, moved.state.status.as_str(), crew).await?;
    Ok(moved.state)
}

// ---------------------------------------------------------------------------
// Positions

/// One position as sent; `at` defaults to now.
pub struct PositionInput {
    pub unit_id: i64,
    pub at: Option<Timestamp>,
    pub lat: f64,
    pub lon: f64,
}

/// 定位上报: positions of the caller's own unit from the crew's phone, or of
/// many units of the caller's jurisdiction from an AVL/GPS feed (a token
/// with `report_positions`). All or none; the count stored.
pub async fn report_positions(
    state: &AppState,
    caller: &Caller,
    positions: &[PositionInput],
) -> Result<usize> {
    if positions.is_empty() {
        return Err(Error::field(FieldError::new("positions", Reason::Required)));
    }
    if positions.len() > MAX_POSITIONS {
        return Err(Error::field(FieldError::new(
            "positions",
            Reason::TooLong { max: MAX_POSITIONS },
        )));
    }
    let now = state.clock.now();
    let oldest = now.plus_minutes(-state.settings.dispatch.track_retention_days * 24 * 60);
    let latest = now.plus_minutes(1);
    let mut errors = Vec::new();
    let mut reports = Vec::with_capacity(positions.len());
    for (i, p) in positions.iter().enumerate() {
        let at = p.at.unwrap_or(now);
        if at < oldest || at > latest {
            errors.push(FieldError::new(
                format!("positions[{i}].at"),
                Reason::Conflict {
                    detail: "position_time",
                },
            ));
        }
        match Position::parse(p.lat, p.lon) {
            Ok(position) => reports.push(PositionReport {
                unit_id: p.unit_id,
                at,
                position,
            }),
            Err(err) => errors.push(FieldError::new(
                format!("positions[{i}].{}", err.field),
                err.reason,
            )),
        }
    }
    let ids: BTreeSet<i64> = positions.iter().map(|p| p.unit_id).collect();
    let allowed = allowed_reporter_units(state, caller, &ids).await?;
    for (i, p) in positions.iter().enumerate() {
        if !allowed.contains_key(&p.unit_id) {
            errors.push(FieldError::new(
                format!("positions[{i}].unit_id"),
                Reason::NotFound,
            ));
        }
    }
    if !errors.is_empty() {
        errors.truncate(50);
        return Err(Error::Validation(errors));
    }
    let mut tx = state.store.begin().await?;
    tx.record_positions(&reports).await?;
    tx.commit().await?;
    // One event per organisation whose units moved: a board redraws its
    // map once for a batch, not once per unit. Every unit of the batch is
    // among `allowed`, with its organisation's path.
    let mut paths: Vec<_> = allowed.into_values().collect();
    paths.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    paths.dedup();
    if !paths.is_empty() {
        state.live.publish(LiveEvent {
            kind: LiveKind::Unit,
            id: positions[0].unit_id,
            incident_id: None,
            change: "moved".into(),
            orgs: paths,
        });
    }
    Ok(reports.len())
}

/// The units of `ids` the caller may report for, with their
/// organisation's path: read once, as the jurisdiction check and the live
/// event both need it, where a feed's batch of 5,000 units read it twice.
async fn allowed_reporter_units(
    state: &AppState,
    caller: &Caller,
    ids: &BTreeSet<i64>,
) -> Result<BTreeMap<i64, OrgPath>> {
    if caller.permissions.contains(&Permission::ReportPositions) {
        let paths = state
            .store
            .unit_org_paths(&ids.iter().copied().collect::<Vec<_>>())
            .await?;
        return Ok(paths
            .into_iter()
            .filter(|(_, path)| caller.sees(path))
            .collect());
    }
    let mine = my_unit(state, caller).await?;
    Ok(state.store.unit_org_paths(&[mine.id]).await?)
}

/// A unit's track between two times: officers' movements are personal
/// data, so only the unit's organisation and those above it read them, and
/// each read of a past track is audited.
pub async fn track(
    state: &AppState,
    caller: &Caller,
    unit_id: i64,
    from: Timestamp,
    to: Timestamp,
    reason: &str,
) -> Result<Vec<PositionReport>> {
    require_dispatcher(caller)?;
    visible_unit(state, caller, unit_id).await?;
    let reason = HandlingNote::parse("reason", reason)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let event = caller
        .audit(AuditAction::ViewPersonalData, "unit_track")
        .object(unit_id)
        .detail(format!(
            "{} .. {}: {}",
            from.millis(),
            to.millis(),
            reason.as_str()
        ));
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    Ok(state.store.unit_track(unit_id, from, to).await?)
}

/// Keeps tracks no longer and no finer than needed, the job's one step:
/// past the retention each unit's track is thinned to one point every
/// [`DispatchPolicy::thinned_track_minutes`], and past the thinned days too
/// it is forgotten. The count of points removed.
///
/// [`DispatchPolicy::thinned_track_minutes`]: fengqiao_core::unit::DispatchPolicy
pub async fn keep_tracks(state: &AppState) -> fengqiao_store::Result<u64> {
    let policy = &state.settings.dispatch;
    let thin_before = state
        .clock
        .now()
        .plus_minutes(-policy.track_retention_days * 24 * 60);
    let forget_before = thin_before.plus_minutes(-policy.thinned_track_days * 24 * 60);
    let mut tx = state.store.begin().await?;
    let forgotten = tx.forget_positions_before(forget_before).await?;
    let thinned = tx
        .thin_positions_before(thin_before, policy.thinned_track_minutes * 60_000)
        .await?;
    tx.commit().await?;
    Ok(forgotten + thinned)
}

// ---------------------------------------------------------------------------
// War zones

/// 申请增援: the station asks its war zone for units of the zone's other
/// stations that are available now. Recorded on the request and the
/// incident's timeline; the zone's commander decides.
pub async fn request_reinforcement(
    state: &AppState,
    caller: &Caller,
    incident_id: i64,
    ids: &[i64],
    reason: &str,
) -> Result<Reinforcement> {
    let ids = unit_ids(ids)?;
    let reason = HandlingNote::parse("reason", reason)?;
    let record = commanded_incident(state, caller, incident_id).await?;
    let station = station_of(state, &record).await?;
    let (zone, others) = war_zone_of(state, &station).await?.ok_or_else(|| {
        Error::conflict(
            "本所未编入战区，不能申请增援。",
            "The station belongs to no war zone.",
        )
    })?;
    let theirs: BTreeSet<i64> = others.into_iter().collect();
    let mut errors = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let ok = state
            .store
            .unit(*id)
            .await?
            .is_some_and(|u| theirs.contains(&u.org_id) && u.status == UnitStatus::Available);
        if !ok {
            errors.push(FieldError::new(
                format!("unit_ids[{i}]"),
                Reason::Conflict {
                    detail: "not_war_zone_unit",
                },
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.lock_incident(incident_id)
        .await?
        .ok_or(Error::NotFound)?;
    let new = NewReinforcement {
        incident_id,
        station_org_id: station.id,
        war_zone_org_id: zone.id,
        unit_ids: ids.clone(),
        reason: reason.clone(),
        requested_by: caller.actor.clone(),
    };
    let id = tx.insert_reinforcement(&new, now).await?;
    let requested = fengqiao_core::reinforcement::ReinforcementEvent::ReinforcementRequested {
        reinforcement_id: id,
        org_id: zone.id,
        unit_ids: ids,
        reason,
    };
    tx.append_timeline(
        incident_id,
        None,
        &[TimelineEvent::new(now, caller.actor.clone(), requested)],
    )
    .await?;
    let event = caller
        .audit(AuditAction::Create, "reinforcement")
        .object(id)
        .detail(format!("incident {incident_id} to war zone {}", zone.id));
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    publish_reinforcement(state, id, &zone, &station, "requested");
    state.store.reinforcement(id).await?.ok_or(Error::NotFound)
}

fn publish_reinforcement(
    state: &AppState,
    id: i64,
    zone: &Organisation,
    station: &Organisation,
    change: &str,
) {
    state.live.publish(LiveEvent {
        kind: LiveKind::Reinforcement,
        id,
        incident_id: None,
        change: change.to_owned(),
        orgs: vec![zone.path.clone(), station.path.clone()],
    });
}

/// The war zones the caller commands: its organisation if it is one, else
/// those within its jurisdiction.
async fn commanded_zones(state: &AppState, caller: &Caller) -> Result<Vec<Organisation>> {
    caller.require(Permission::DispatchIncidents)?;
    Ok(state
        .store
        .organisations_of_kind(OrgKind::WarZone)
        .await?
        .into_iter()
        .filter(|z| caller.sees(&z.path))
        .collect())
}

/// The requests to the caller's war zones, newest first.
pub async fn reinforcements(
    state: &AppState,
    caller: &Caller,
    status: Option<ReinforcementStatus>,
    limit: i64,
) -> Result<Vec<Reinforcement>> {
    let zones: Vec<i64> = commanded_zones(state, caller)
        .await?
        .iter()
        .map(|z| z.id)
        .collect();
    Ok(state.store.reinforcements_to(&zones, status, limit).await?)
}

/// A request the caller may read: to a zone it commands, or from a station
/// in its jurisdiction.
pub async fn reinforcement(state: &AppState, caller: &Caller, id: i64) -> Result<Reinforcement> {
    caller.require(Permission::DispatchIncidents)?;
    let found = state
        .store
        .reinforcement(id)
        .await?
        .ok_or(Error::NotFound)?;
    for org in [found.war_zone_org_id, found.station_org_id] {
        if let Some(org) = state.store.organisation(org).await? {
            if caller.sees(&org.path) {
                return Ok(found);
            }
        }
    }
    Err(Error::NotFound)
}

/// 战区指挥长 decides: accepting dispatches the units asked for — one no
/// longer available refuses the acceptance, and the request stays open to
/// be declined or asked again — declining records the note. One
/// transaction: the request, the incident and the units.
pub async fn decide_reinforcement(
    state: &AppState,
    caller: &Caller,
    id: i64,
    accept: bool,
    note: Option<&str>,
) -> Result<Reinforcement> {
    let note = note
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| HandlingNote::parse("note", n))
        .transpose()?;
    let zones = commanded_zones(state, caller).await?;
    let found = state
        .store
        .reinforcement(id)
        .await?
        .ok_or(Error::NotFound)?;
    let zone = zones
        .into_iter()
        .find(|z| z.id == found.war_zone_org_id)
        .ok_or(Error::NotFound)?;
    let station = state
        .store
        .organisation(found.station_org_id)
        .await?
        .ok_or(Error::NotFound)?;
    let allowed: BTreeSet<i64> = war_zone_of(state, &station)
        .await?
        .map(|(_, others)| others.into_iter().collect())
        .unwrap_or_default();
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let mut sent = Vec::new();
    if accept {
        // The incident's lock first, as every dispatch takes it.
        let (_, units) = send_units(
            &mut tx,
            found.incident_id,
            &found.unit_ids,
            &allowed,
            "not_war_zone_unit",
            &caller.actor,
            now,
        )
        .await?;
        sent = units;
    } else {
        tx.lock_incident(found.incident_id)
            .await?
            .ok_or(Error::NotFound)?;
    }
    let request = tx.lock_reinforcement(id).await?.ok_or(Error::NotFound)?;
    let decided = request
        .decide(accept, note, caller.actor.clone(), now)
        .map_err(|e| {
            use fengqiao_core::label::Label;
            Error::conflict(
                format!("该增援申请已{}，不能再次决定。", e.0.zh()),
                format!("{e}."),
            )
        })?;
    tx.update_reinforcement(&decided.state).await?;
    tx.append_timeline(found.incident_id, None, &decided.events)
        .await?;
    let event = caller
        .audit(AuditAction::Update, "reinforcement")
        .object(id)
        .detail(decided.state.status.as_str().to_owned());
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    publish_reinforcement(state, id, &zone, &station, decided.state.status.as_str());
    if !sent.is_empty() {
        publish_sent(state, found.incident_id, &sent).await?;
    }
    Ok(decided.state)
}

/// The units and reinforcement requests of one incident, for its page and
/// its EIDO export: who is on it now, and every unit it ever had.
pub async fn responding_units(
    state: &AppState,
    record: &IncidentRecord,
) -> Result<BTreeMap<i64, Unit>> {
    let mut units = BTreeMap::new();
    for entry in &record.timeline {
        if entry.event.get("event").and_then(|e| e.as_str()) == Some("unit_dispatched") {
            if let Some(id) = entry.event.get("unit_id").and_then(|v| v.as_i64()) {
                if let Some(unit) = state.store.unit(id).await? {
                    units.insert(id, unit);
                }
            }
        }
    }
    Ok(units)
}
