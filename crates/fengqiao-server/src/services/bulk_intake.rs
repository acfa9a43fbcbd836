//! 批量接警: incidents of a generated world (`fengqiao gen`) written in
//! batches, one transaction each, instead of one request each — the demo's
//! history plays calls through the router at a few hundred a second, and
//! the benchmarks need ten million.
//!
//! Nothing is decided here that the real path does not decide the same
//! way: the body is parsed by the core, the text triaged by the same rules,
//! the incident routed by `routing.rs`, and every step of its life — intake,
//! a department's accept, start, return or reject, the command room's
//! re-route and confirmation, the caller's feedback, a deadline's
//! escalation — is the core's transition, taken at the time the plan gives,
//! by the account that would have taken it. Repeat calls are linked by the
//! core's detector (the recent incidents of each station are kept in
//! memory, so no query per call), and threat words, repeat calls and
//! overdue deadlines raise their warnings through the same functions as
//! intake and the escalation job. What differs is how the rows travel: each
//! incident is written once, in the state its last transition left it, by
//! `Tx::insert_incidents_bulk`.
//!
//! The generator knows where each call came from, so the building is given
//! (as the plate page gives it) instead of resolved from the caller's words.
//!
//! Audit: one entry per batch (what it made, which ids) instead of one per
//! incident and per step. A generated world is one administrative act, and
//! the per-record hash chain would otherwise be most of the work and most of
//! the rows; warnings keep their own entries, as the functions that raise
//! them write them.

use std::collections::HashMap;

use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::geo::Wgs84;
use fengqiao_core::incident::{
    Feedback, Group, Incident, IncidentInput, IncidentStatus, NewIncident, Satisfaction, TriagedBy,
};
use fengqiao_core::org::{DivisionCode, Organisation};
use fengqiao_core::personal::PersonalData;
use fengqiao_core::receipt::{ReceiptDate, ReceiptNumber, StationCode};
use fengqiao_core::repeat_call::{CallFacts, RepeatCallDetector};
use fengqiao_core::warning::NewWarning;
use fengqiao_core::work_order::{Escalation, HandlingNote, NewWorkOrder, OrgActor, WorkOrder};
use fengqiao_core::Timestamp;
use fengqiao_store::{BulkEvent, BulkIncident, IncidentExtras, Tx};

use super::intake::core_triage;
use super::routing::triage;
use super::{Error, Result};
use crate::services::routing::{command_room_of, deadlines, target_for, Target};
use crate::services::{repeat_calls, threat_words};
use crate::state::AppState;

const MINUTE_MS: i64 = 60_000;
/// The escalation job runs every 30 s while serving.
const SCAN_MS: i64 = 30_000;
const RESULT: &str = "已到现场核实处理，与当事人沟通并处置完毕";
const REJECTION: &str = "经核实不属于本部门职责，请重新分派";

/// A registry building the generator placed a call at.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownBuilding {
    pub id: i64,
    pub community_code: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// How the people involved later act on a call's work order, in minutes
/// after intake; the same plan the demo's history plays through the API.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FollowPlan {
    pub rejected_first: bool,
    pub accept_after_minutes: i64,
    pub finish_after_minutes: i64,
    pub resolved: bool,
    pub satisfaction: u8,
}

/// One call as a call-taking system would post it, and what is known about it.
#[derive(Debug, Clone)]
pub struct GeneratedCall {
    pub received_at: Timestamp,
    /// The station covering the building; its operator takes the call.
    pub station_org_id: i64,
    pub source: String,
    pub text: String,
    pub location_text: String,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub building: Option<KnownBuilding>,
    pub plan: FollowPlan,
}

/// What the batches made, summed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BulkTotals {
    pub incidents: u64,
    pub police: u64,
    pub work_orders: u64,
    /// Confirmed by the command room.
    pub work_orders_closed: u64,
    pub escalations: u64,
    pub warnings: u64,
    /// Incidents linked to earlier ones as repeat calls.
    pub repeats: u64,
    /// Calls or steps the core refused (counted, never forced).
    pub refused: u64,
}

/// The people who act for a station: its operator (intake, re-routing,
/// confirmation, feedback) and where a rejected work order goes.
#[derive(Debug, Clone)]
pub struct StationPeople {
    pub operator: Actor,
    /// The street's governance centre, which takes what a department refused.
    pub reroute_to: Option<i64>,
}

struct Station {
    org: Organisation,
    command_room: Organisation,
    people: StationPeople,
}

/// The recent incidents of one station, for the repeat-call detector.
#[derive(Default)]
struct Recent {
    by_building: HashMap<i64, Vec<CallFacts>>,
    by_caller: HashMap<Vec<u8>, Vec<CallFacts>>,
}

/// What pass two does for one incident after the rows are written.
struct Later {
    incident: Incident,
    station: i64,
    repeat: Option<(CallFacts, Vec<CallFacts>)>,
    overdue: Vec<(i64, Vec<Escalation>, Timestamp)>,
}

/// Writes generated calls in batches; keeps what spans batches (routing
/// answers, receipt counters, recent incidents) between them.
pub struct BulkIntake {
    state: AppState,
    stations: HashMap<i64, Station>,
    /// Organisation id → the account that handles its work orders.
    handlers: HashMap<i64, Actor>,
    /// Routing answers by station, group, category, place and whether the
    /// rules read the text: all `target_for` looks at.
    targets: HashMap<(i64, bool, String, String, bool), Target>,
    /// Organisations read once for re-routing.
    orgs: HashMap<i64, Organisation>,
    receipts: HashMap<(i64, ReceiptDate), u32>,
    detector: RepeatCallDetector,
    recent: HashMap<i64, Recent>,
    pruned_at: Timestamp,
    pub totals: BulkTotals,
}

impl BulkIntake {
    /// `stations` by station organisation id; `handlers` by organisation id.
    pub async fn new(
        state: AppState,
        stations: HashMap<i64, StationPeople>,
        handlers: HashMap<i64, Actor>,
    ) -> Result<BulkIntake> {
        let mut known = HashMap::new();
        for (id, people) in stations {
            let org = state
                .store
                .organisation(id)
                .await?
                .ok_or_else(|| Error::Internal(format!("no station {id}")))?;
            let command_room = command_room_of(&state.store, &org).await?;
            known.insert(
                id,
                Station {
                    org,
                    command_room,
                    people,
                },
            );
        }
        let detector = RepeatCallDetector::new(state.settings.repeat_calls.clone());
        Ok(BulkIntake {
            state,
            stations: known,
            handlers,
            targets: HashMap::new(),
            orgs: HashMap::new(),
            receipts: HashMap::new(),
            detector,
            recent: HashMap::new(),
            pruned_at: Timestamp(i64::MIN),
            totals: BulkTotals::default(),
        })
    }

    /// Takes `calls` (oldest first, after every call of earlier batches) in
    /// one transaction, with every step of their lives due by `until`.
    pub async fn take_in(&mut self, calls: &[GeneratedCall], until: Timestamp) -> Result<()> {
        let Some(first) = calls.first() else {
            return Ok(());
        };
        self.prune(first.received_at);
        let mut tx = self.state.store.begin().await?;
        // Parse and triage first: ids go only to calls intake accepts.
        let mut parsed = Vec::with_capacity(calls.len());
        for call in calls {
            match parse(call) {
                Some(p) => parsed.push((call, p)),
                None => self.totals.refused += 1,
            }
        }
        let ids = tx.reserve_ids("incidents", parsed.len()).await?;
        let orders_needed = parsed
            .iter()
            .filter(|(_, p)| p.group == Group::NonPolice)
            .map(|(call, _)| 1 + usize::from(call.plan.rejected_first))
            .sum();
        let mut order_ids = tx
            .reserve_ids("work_orders", orders_needed)
            .await?
            .into_iter();
        let mut rows = Vec::with_capacity(parsed.len());
        let mut later = Vec::with_capacity(parsed.len());
        for ((call, parsed), id) in parsed.into_iter().zip(ids) {
            let (row, next) = self
                .plan_incident(&mut tx, call, parsed, id, &mut order_ids, until)
                .await?;
            rows.push(row);
            later.push(next);
        }
        tx.insert_incidents_bulk(&rows).await?;
        let used: Vec<(i64, ReceiptDate, u32)> = self
            .receipts
            .iter()
            .map(|(&(station, day), &last)| (station, day, last))
            .collect();
        tx.set_receipt_sequences(&used).await?;
        for next in &later {
            self.raise(&mut tx, next).await?;
        }
        let (first_id, last_id) = (
            rows.first().map_or(0, |r| r.incident.id),
            rows.last().map_or(0, |r| r.incident.id),
        );
        let orders: usize = rows.iter().map(|r| r.work_orders.len()).sum();
        let audit = AuditEvent::new(Actor::System, AuditAction::Create, "incident")
            .source("gen")
            .detail(format!(
                "generated {} incidents {first_id}..{last_id}, {orders} work orders",
                rows.len()
            ));
        tx.append_audit(&audit, until).await?;
        tx.commit().await?;
        // Receipt days before this batch's last day never come again.
        let last_day = ReceiptDate::of(calls[calls.len() - 1].received_at);
        self.receipts.retain(|(_, day), _| *day >= last_day);
        Ok(())
    }

    /// Forgets incidents that left every repeat window, once a day of calls.
    fn prune(&mut self, now: Timestamp) {
        if now.millis().saturating_sub(self.pruned_at.millis()) < 24 * 60 * MINUTE_MS {
            return;
        }
        let since = self.detector.window_start(now);
        for recent in self.recent.values_mut() {
            recent.by_building.retain(|_, facts| {
                facts.retain(|f| f.received_at >= since);
                !facts.is_empty()
            });
            recent.by_caller.retain(|_, facts| {
                facts.retain(|f| f.received_at >= since);
                !facts.is_empty()
            });
        }
        self.pruned_at = now;
    }

    /// `routing::target_for`, asked once per category, place and reading.
    async fn target(
        &mut self,
        station_id: i64,
        place: Option<&str>,
        suggestion: &fengqiao_triage::TriageSuggestion,
    ) -> Result<Target> {
        let key = (
            station_id,
            suggestion.group == fengqiao_triage::Group::Police,
            suggestion.category.clone(),
            place.unwrap_or_default().to_owned(),
            suggestion.confidence <= 0.0,
        );
        if let Some(target) = self.targets.get(&key) {
            return Ok(target.clone());
        }
        let code = place.map(DivisionCode::parse).transpose()?;
        let station = &self.stations[&station_id];
        let target = target_for(
            &self.state.store,
            &station.org,
            &station.command_room,
            code.as_ref(),
            suggestion,
        )
        .await?;
        self.targets.insert(key, target.clone());
        Ok(target)
    }

    async fn next_receipt(&mut self, tx: &mut Tx, station: i64, at: Timestamp) -> Result<u32> {
        let day = ReceiptDate::of(at);
        let last = match self.receipts.get(&(station, day)) {
            Some(&last) => last,
            None => tx.receipt_sequence(station, day).await?,
        };
        self.receipts.insert((station, day), last + 1);
        Ok(last + 1)
    }

    /// Intake and every later step of one call, in memory.
    async fn plan_incident(
        &mut self,
        tx: &mut Tx,
        call: &GeneratedCall,
        parsed: Parsed,
        id: i64,
        order_ids: &mut impl Iterator<Item = i64>,
        until: Timestamp,
    ) -> Result<(BulkIncident, Later)> {
        let t0 = call.received_at;
        let station_id = call.station_org_id;
        let (room, operator, reroute_to) = {
            let station = self
                .stations
                .get(&station_id)
                .ok_or_else(|| Error::Internal(format!("no station {station_id}")))?;
            (
                station.command_room.clone(),
                station.people.operator.clone(),
                station.people.reroute_to,
            )
        };
        let sequence = self.next_receipt(tx, station_id, t0).await?;
        let receipt =
            ReceiptNumber::new(StationCode::parse(&format!("P{station_id}"))?, t0, sequence)?;
        let Parsed {
            new,
            name,
            phone,
            suggestion,
            group,
        } = parsed;
        let core = core_triage(&suggestion)?;
        let received = Incident::receive(id, station_id, receipt, new, operator.clone(), t0);
        let triaged = received
            .state
            .triage(core, TriagedBy::Rules, Actor::System, t0)
            .map_err(internal)?;
        let mut events = Vec::new();
        push(&mut events, None, &received.events)?;
        push(&mut events, None, &triaged.events)?;
        let community = call.building.as_ref().map(|b| b.community_code.clone());
        let mut life = Life {
            incident: triaged.state,
            updated_at: t0,
            orders: Vec::new(),
            events,
            overdue: Vec::new(),
        };
        let mut orders_to_follow = None;
        if group == Group::Police {
            self.totals.police += 1;
        }
        let target = self
            .target(station_id, community.as_deref(), &suggestion)
            .await?;
        match target {
            Target::CommandRoom(room) => {
                let dispatched = life
                    .incident
                    .dispatch(room.id, Actor::System, t0)
                    .map_err(internal)?;
                push(&mut life.events, None, &dispatched.events)?;
                life.incident = dispatched.state;
            }
            Target::Department { owner, deadlines } => {
                let order = NewWorkOrder {
                    id: order_ids.next().ok_or_else(|| internal("work order ids"))?,
                    originator_org_id: room.id,
                    owner_org_id: owner.id,
                    supervisor_org_id: owner.parent_id,
                    deadlines,
                };
                let diversion = life
                    .incident
                    .divert(order, Actor::System, t0)
                    .map_err(internal)?;
                push(&mut life.events, None, &diversion.incident.events)?;
                let order = diversion.work_order.state;
                push(
                    &mut life.events,
                    Some(order.id),
                    &diversion.work_order.events,
                )?;
                life.incident = diversion.incident.state;
                life.orders.push((order, t0));
                orders_to_follow = Some(suggestion.category.clone());
            }
            // Nobody to send it to, or words the rules could not read: the
            // command room holds it for an operator, as intake does.
            Target::Unrouted => {
                let held = life
                    .incident
                    .hold(room.id, Actor::System, t0)
                    .map_err(internal)?;
                push(&mut life.events, None, &held.events)?;
                life.incident = held.state;
            }
        }
        let intake_state = life.incident.clone();
        if let Some(category) = orders_to_follow {
            let followed = self
                .follow(
                    &mut life, call, &operator, &room, reroute_to, &category, order_ids, until,
                )
                .await;
            if followed == Err(Stop::Refused) {
                self.totals.refused += 1;
            }
            // What stays open escalates up to `until`, as the job would have.
            let _ = life.step(until, until);
            let closed = life
                .orders
                .iter()
                .filter(|(o, _)| o.status == fengqiao_core::work_order::WorkOrderStatus::Confirmed)
                .count();
            self.totals.work_orders_closed += closed as u64;
            self.totals.work_orders += life.orders.len() as u64;
        }
        self.totals.incidents += 1;
        self.totals.escalations += life
            .overdue
            .iter()
            .map(|(_, due, _)| due.len() as u64)
            .sum::<u64>();

        let extras = IncidentExtras {
            reporter_name: name.as_ref().map(|n| self.state.cipher.encrypt(n)),
            reporter_phone: phone.as_ref().map(|p| self.state.cipher.encrypt(p)),
            reporter_phone_index: phone.as_ref().map(|p| self.state.cipher.blind_index(p)),
            reporter_id_number: None,
            community_code: community,
            triage_matched: suggestion.matched.iter().map(|m| m.word.clone()).collect(),
        };
        let repeat = self.repeat_candidates(&intake_state, extras.reporter_phone_index.as_deref());
        let row = BulkIncident {
            incident: life.incident,
            extras,
            updated_at: life.updated_at,
            work_orders: life.orders,
            events: life.events,
        };
        Ok((
            row,
            Later {
                incident: intake_state,
                station: station_id,
                repeat,
                overdue: life.overdue,
            },
        ))
    }

    /// The earlier incidents of the station at the same building or from
    /// the same caller within the window (what `Tx::repeat_candidates`
    /// reads), and remembers this one for the calls after it.
    fn repeat_candidates(
        &mut self,
        incident: &Incident,
        caller_index: Option<&[u8]>,
    ) -> Option<(CallFacts, Vec<CallFacts>)> {
        let triage = incident.triage.as_ref()?;
        let facts = CallFacts {
            incident_id: incident.id,
            address_id: incident.location.address_id,
            caller_index: caller_index.map(<[u8]>::to_vec),
            category: triage.category.clone(),
            received_at: incident.received_at,
        };
        let since = self.detector.window_start(incident.received_at);
        let recent = self.recent.entry(incident.station_id).or_default();
        let mut earlier: Vec<CallFacts> = Vec::new();
        if let Some(building) = facts.address_id {
            earlier.extend(
                recent
                    .by_building
                    .get(&building)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        if let Some(index) = &facts.caller_index {
            for f in recent.by_caller.get(index).into_iter().flatten() {
                if !earlier.iter().any(|e| e.incident_id == f.incident_id) {
                    earlier.push(f.clone());
                }
            }
        }
        earlier.retain(|f| f.received_at >= since);
        if let Some(building) = facts.address_id {
            recent
                .by_building
                .entry(building)
                .or_default()
                .push(facts.clone());
        }
        if let Some(index) = &facts.caller_index {
            recent
                .by_caller
                .entry(index.clone())
                .or_default()
                .push(facts.clone());
        }
        (!earlier.is_empty()).then_some((facts, earlier))
    }

    /// The work order's life after intake, as the history plays it: a
    /// department accepts (or first rejects, and the command room re-routes
    /// to the governance centre), starts, returns; the command room confirms
    /// and asks the caller the next day. Steps due after `until` are not
    /// taken; deadlines that pass meanwhile escalate as the job would.
    #[allow(clippy::too_many_arguments)]
    async fn follow(
        &mut self,
        life: &mut Life,
        call: &GeneratedCall,
        operator: &Actor,
        room: &Organisation,
        reroute_to: Option<i64>,
        category: &str,
        order_ids: &mut impl Iterator<Item = i64>,
        until: Timestamp,
    ) -> Result<(), Stop> {
        let plan = call.plan;
        let t0 = call.received_at;
        let mut current = 0;
        let mut accept_at = t0.plus_minutes(plan.accept_after_minutes);
        if plan.rejected_first {
            let (order, _) = life.orders[0].clone();
            let handler = self.handler(order.owner_org_id)?;
            life.step(accept_at, until)?;
            let by = OrgActor::new(handler.clone(), order.owner_org_id);
            let note = HandlingNote::parse("reason", REJECTION).map_err(|_| Stop::Refused)?;
            let rejected = order
                .reject(&by, note, accept_at)
                .map_err(|_| Stop::Refused)?;
            life.set_order(0, rejected.state.clone(), &rejected.events, accept_at)?;
            let sent = life
                .incident
                .send_back(&rejected.state, handler, accept_at)
                .map_err(|_| Stop::Refused)?;
            life.set_incident(sent.state, &sent.events, accept_at)?;
            let reroute_at = accept_at.plus_minutes(15);
            life.step(reroute_at, until)?;
            let centre_id = reroute_to.ok_or(Stop::Refused)?;
            let centre = match self.orgs.get(&centre_id) {
                Some(centre) => centre.clone(),
                None => {
                    let centre = self
                        .state
                        .store
                        .organisation(centre_id)
                        .await
                        .map_err(|_| Stop::Refused)?
                        .ok_or(Stop::Refused)?;
                    self.orgs.insert(centre_id, centre.clone());
                    centre
                }
            };
            let new = NewWorkOrder {
                id: order_ids.next().ok_or(Stop::Refused)?,
                originator_org_id: room.id,
                owner_org_id: centre.id,
                supervisor_org_id: centre.parent_id,
                deadlines: deadlines(category).map_err(|_| Stop::Refused)?,
            };
            let diversion = life
                .incident
                .reroute(&rejected.state, new, operator.clone(), reroute_at)
                .map_err(|_| Stop::Refused)?;
            let order = diversion.work_order.state;
            life.set_incident(
                diversion.incident.state,
                &diversion.incident.events,
                reroute_at,
            )?;
            push(
                &mut life.events,
                Some(order.id),
                &diversion.work_order.events,
            )
            .map_err(|_| Stop::Refused)?;
            life.orders.push((order, reroute_at));
            current = 1;
            accept_at = reroute_at.plus_minutes(plan.accept_after_minutes);
        }
        let owner = life.orders[current].0.owner_org_id;
        let handler = self.handler(owner)?;
        let by = OrgActor::new(handler.clone(), owner);

        life.step(accept_at, until)?;
        let accepted = life.orders[current]
            .0
            .accept(&by, accept_at)
            .map_err(|_| Stop::Refused)?;
        life.set_order(current, accepted.state, &accepted.events, accept_at)?;
        if life.incident.status == IncidentStatus::Diverted {
            let started = life
                .incident
                .start_handling(handler.clone(), accept_at)
                .map_err(|_| Stop::Refused)?;
            life.set_incident(started.state, &started.events, accept_at)?;
        }

        let start_at = accept_at.plus_minutes(5);
        life.step(start_at, until)?;
        let started = life.orders[current]
            .0
            .start(&by, start_at)
            .map_err(|_| Stop::Refused)?;
        life.set_order(current, started.state, &started.events, start_at)?;

        let return_at = t0
            .plus_minutes(plan.finish_after_minutes)
            .max(start_at.plus_minutes(30));
        life.step(return_at, until)?;
        let note = HandlingNote::parse("result", RESULT).map_err(|_| Stop::Refused)?;
        let returned = life.orders[current]
            .0
            .return_result(&by, note, return_at)
            .map_err(|_| Stop::Refused)?;
        life.set_order(current, returned.state, &returned.events, return_at)?;

        let confirm_at = return_at.plus_minutes(20);
        life.step(confirm_at, until)?;
        let originator = OrgActor::new(operator.clone(), room.id);
        let confirmed = life.orders[current]
            .0
            .confirm(&originator, confirm_at)
            .map_err(|_| Stop::Refused)?;
        life.set_order(current, confirmed.state, &confirmed.events, confirm_at)?;
        let orders: Vec<WorkOrder> = life.orders.iter().map(|(o, _)| o.clone()).collect();
        let open = orders.iter().any(|o| o.status.is_open());
        let awaiting = crate::services::incidents::awaiting_reroute(&orders);
        if life.incident.status == IncidentStatus::InProgress && !open && awaiting.is_empty() {
            let resolved = life
                .incident
                .resolve(&orders, operator.clone(), confirm_at)
                .map_err(|_| Stop::Refused)?;
            life.set_incident(resolved.state, &resolved.events, confirm_at)?;
        }

        let feedback_at = confirm_at.plus_minutes(18 * 60);
        life.step(feedback_at, until)?;
        let answer = Feedback {
            resolved: plan.resolved,
            satisfaction: Satisfaction::parse(plan.satisfaction).map_err(|_| Stop::Refused)?,
        };
        let recorded = life
            .incident
            .record_feedback(answer, &orders, operator.clone(), feedback_at)
            .map_err(|_| Stop::Refused)?;
        life.set_incident(recorded.state, &recorded.events, feedback_at)?;
        Ok(())
    }

    fn handler(&self, org_id: i64) -> Result<Actor, Stop> {
        self.handlers.get(&org_id).cloned().ok_or(Stop::Refused)
    }

    /// Pass two, after the rows are written: repeat links and the warnings
    /// intake and the escalation job raise, through their own functions.
    async fn raise(&mut self, tx: &mut Tx, later: &Later) -> Result<()> {
        let station = &self.stations[&later.station].org;
        let at = later.incident.received_at;
        if let Some((facts, earlier)) = &later.repeat {
            let linked = repeat_calls::link_among(
                &self.detector,
                tx,
                &later.incident,
                station,
                facts,
                earlier,
                at,
            )
            .await?;
            let id = later.incident.id;
            tx.append_timeline(id, None, &linked.events).await?;
            let links: Vec<(i64, i64)> = linked.earlier.iter().map(|&e| (id, e)).collect();
            tx.insert_repeat_links(&links).await?;
            self.totals.repeats += u64::from(!links.is_empty());
            self.totals.warnings += u64::from(linked.warning.is_some());
        }
        let threat = threat_words::raise_on_incident(tx, &later.incident, station, at).await?;
        self.totals.warnings += u64::from(threat.is_some());
        for (to_org, due, at) in &later.overdue {
            let Some(new) = NewWarning::work_order_overdue(*to_org, due, *at) else {
                continue;
            };
            if let Some(warning_id) = tx.raise_warning(&new, *at).await? {
                self.totals.warnings += 1;
                let work_order = due.first().map_or(0, |d| d.work_order_id);
                let audit = AuditEvent::new(Actor::System, AuditAction::Create, "warning")
                    .object(warning_id)
                    .org(Some(*to_org))
                    .detail(format!("work_order_overdue work order {work_order}"));
                tx.append_audit(&audit, *at).await?;
            }
        }
        Ok(())
    }
}

/// A step that cannot be taken: the plan stops there, as the history stops
/// a work order whose step the API refused.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// Due after `until`: not taken yet, as today it would not have been.
    NotYet,
    /// The core refused it, or nobody could take it.
    Refused,
}

/// One incident being carried through its life in memory.
struct Life {
    incident: Incident,
    updated_at: Timestamp,
    /// Each work order with the time of its last change.
    orders: Vec<(WorkOrder, Timestamp)>,
    events: Vec<BulkEvent>,
    /// Escalations for pass two: (supervising organisation, what was due, when).
    overdue: Vec<(i64, Vec<Escalation>, Timestamp)>,
}

impl Life {
    /// Before a step at `at`: the deadlines that passed escalate first, at
    /// the scan after each; a step after `until` is not taken (and what is
    /// due by `until` escalates).
    fn step(&mut self, at: Timestamp, until: Timestamp) -> Result<(), Stop> {
        let upto = at.min(until);
        for i in 0..self.orders.len() {
            let mut deadlines: Vec<Timestamp> =
                [self.orders[i].0.accept_by, self.orders[i].0.finish_by].to_vec();
            deadlines.sort();
            for deadline in deadlines {
                let scan = Timestamp(deadline.millis() + SCAN_MS);
                if scan > upto {
                    break;
                }
                let (order, _) = &self.orders[i];
                let due = order.escalations_due(scan);
                if due.is_empty() {
                    continue;
                }
                let escalated = order.escalate(scan);
                let to_org = order.supervisor_org_id.unwrap_or(order.originator_org_id);
                let id = order.id;
                for event in &escalated.events {
                    self.events
                        .push(BulkEvent::of(Some(id), event).map_err(|_| Stop::Refused)?);
                }
                self.orders[i] = (escalated.state, scan);
                self.overdue.push((to_org, due, scan));
            }
        }
        if at > until {
            return Err(Stop::NotYet);
        }
        Ok(())
    }

    fn set_order<E: serde::Serialize>(
        &mut self,
        index: usize,
        order: WorkOrder,
        events: &[fengqiao_core::timeline::TimelineEvent<E>],
        at: Timestamp,
    ) -> Result<(), Stop> {
        push(&mut self.events, Some(order.id), events).map_err(|_| Stop::Refused)?;
        self.orders[index] = (order, at);
        Ok(())
    }

    fn set_incident<E: serde::Serialize>(
        &mut self,
        incident: Incident,
        events: &[fengqiao_core::timeline::TimelineEvent<E>],
        at: Timestamp,
    ) -> Result<(), Stop> {
        push(&mut self.events, None, events).map_err(|_| Stop::Refused)?;
        self.incident = incident;
        self.updated_at = at;
        Ok(())
    }
}

struct Parsed {
    new: NewIncident,
    name: Option<PersonalData>,
    phone: Option<PersonalData>,
    suggestion: fengqiao_triage::TriageSuggestion,
    group: Group,
}

/// What intake's `parse_body` and triage make of the call; `None` where
/// intake would answer 422.
fn parse(call: &GeneratedCall) -> Option<Parsed> {
    let name = match call.reporter_name.as_deref() {
        Some(n) => Some(PersonalData::name("reporter_name", n).ok()?),
        None => None,
    };
    let phone = match call.reporter_phone.as_deref() {
        Some(p) => Some(PersonalData::phone("reporter_phone", p).ok()?),
        None => None,
    };
    let mut new = NewIncident::parse(IncidentInput {
        source: &call.source,
        text: &call.text,
        location_text: &call.location_text,
        reporter: name.clone().or(phone.clone()),
        ..Default::default()
    })
    .ok()?;
    if let Some(building) = &call.building {
        new.location.address_id = Some(building.id);
        new.location.coordinates = match (building.lat, building.lon) {
            (Some(lat), Some(lon)) => Wgs84::new(lat, lon).ok(),
            _ => None,
        };
    }
    let suggestion = triage().suggest(new.text.as_str());
    let group = suggestion.group;
    Some(Parsed {
        new,
        name,
        phone,
        suggestion,
        group,
    })
}

fn push<E: serde::Serialize>(
    into: &mut Vec<BulkEvent>,
    work_order_id: Option<i64>,
    events: &[fengqiao_core::timeline::TimelineEvent<E>],
) -> Result<()> {
    for event in events {
        into.push(BulkEvent::of(work_order_id, event)?);
    }
    Ok(())
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}
