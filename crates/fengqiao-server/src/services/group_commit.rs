//! 成组提交: intakes that arrive together share one transaction.
//!
//! Intake decides everything it can outside the database — the body, the
//! address, the category, who handles it — and hands the prepared intake
//! to the store's one writer task. The writer takes whatever is queued (up
//! to [`MAX_BATCH`]; under light load that is one, so nothing waits for a
//! window), opens one transaction and writes them in order:
//!
//! 1. each intake's checks, the plate's rate limit after a savepoint, so
//!    one that is refused is undone alone; a key already used by an
//!    earlier intake of the batch makes no second incident;
//! 2. the ids, and the receipt numbers as one range per station, all
//!    stations in one statement;
//! 3. the core's transitions, in memory; every incident row, work order and
//!    timeline event in a few multi-row statements;
//! 4. the repeat-call links, from one look-up of candidates for the whole
//!    batch — the earlier incidents of the batch are already written, so a
//!    repeat within the batch links — written with their timeline events
//!    in a statement or two; per incident, the warnings due;
//! 5. the idempotency keys and the audit entries (chained in memory), a few
//!    statements again;
//!
//! then commits once, and only then answers each caller, who publishes the
//! live events. The profile of one intake per transaction showed the one
//! writer connection held for ~16 statements and an fsync per incident;
//! here the statements and the fsync are shared.
//!
//! When the batch fails in the database as a whole (a key a concurrent
//! server used between its check and its insert, say), each of its intakes
//! is written again alone, so none fails because of another; alone, a key
//! used concurrently answers with the first incident.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use fengqiao_core::audit::{Actor, AuditAction};
use fengqiao_core::incident::{
    Incident, IncidentEvent, NewIncident, Triage as CoreTriage, TriagedBy,
};
use fengqiao_core::receipt::{ReceiptDate, ReceiptNumber, StationCode};
use fengqiao_core::repeat_call::{CallFacts, RepeatCallDetector, RepeatCallPolicy};
use fengqiao_core::timeline::TimelineEvent;
use fengqiao_core::work_order::{NewWorkOrder, WorkOrder, WorkOrderEvent};
use fengqiao_core::Clock;
use fengqiao_store::{
    BulkEvent, BulkIncident, IncidentExtras, IncidentRecord, NewIdempotencyKey, RepeatCandidate,
    RepeatLink, Store, StoreError, StoredIncident, TimelineEntry,
};
use tokio::sync::{mpsc, oneshot};

use super::access::Caller;
use super::intake::PlateLimit;
use super::routing::{Route, Target};
use super::{repeat_calls, threat_words, Error, Result};

/// Intakes one transaction takes at most.
pub const MAX_BATCH: usize = 256;
/// Intakes waiting for the writer before callers wait to hand theirs in.
const QUEUE: usize = 4 * MAX_BATCH;

/// An intake decided up to what only the transaction can tell.
pub(crate) struct PreparedIntake {
    pub caller: Caller,
    /// The idempotency key and the hash of the request that used it.
    pub key: Option<(String, Vec<u8>)>,
    pub new: NewIncident,
    pub extras: IncidentExtras,
    pub triage: CoreTriage,
    pub triaged_by: TriagedBy,
    pub triage_actor: Actor,
    pub route: Route,
    /// A plate's limit, counted at the building, in the transaction.
    pub limit: Option<(PlateLimit, i64)>,
    /// The category the operator chose at the desk over the rules'
    /// suggestion: recorded as an override, so both stay in the timeline.
    pub overridden: Option<CoreTriage>,
    /// The field report (e治采) this intake takes in: linked in the
    /// transaction, once per report.
    pub field_report: Option<i64>,
}

/// What the writer did with an intake.
pub(crate) enum Written {
    Created(Box<Created>),
    /// An earlier intake used the key (in this batch or committed before):
    /// the first incident answers.
    KeyUsed,
    /// The field report was taken in before, as this incident: nothing
    /// was written.
    Found(i64),
}

/// A committed incident, as a read would return it, and what to publish.
pub(crate) struct Created {
    pub record: IncidentRecord,
    pub warnings: Vec<i64>,
}

struct Job {
    intake: PreparedIntake,
    answer: oneshot::Sender<Result<Written>>,
}

/// The store's writer of intakes: one task, started with the first intake.
pub struct IntakeWriter {
    store: Store,
    clock: Arc<dyn Clock>,
    policy: RepeatCallPolicy,
    queue: OnceLock<mpsc::Sender<Job>>,
    counts: Arc<Counts>,
}

/// How the writer's batches came out, for the benchmark and the tests.
#[derive(Debug, Default)]
struct Counts {
    batches: AtomicU64,
    intakes: AtomicU64,
    largest: AtomicUsize,
}

impl IntakeWriter {
    /// Transactions committed so far and the intakes they held.
    pub fn batches(&self) -> (u64, u64) {
        (
            self.counts.batches.load(Ordering::Relaxed),
            self.counts.intakes.load(Ordering::Relaxed),
        )
    }

    /// Intakes handed in that no batch has taken yet.
    pub fn queued(&self) -> usize {
        self.queue
            .get()
            .map_or(0, |queue| queue.max_capacity() - queue.capacity())
    }

    /// The most intakes one transaction held so far.
    pub fn largest_batch(&self) -> usize {
        self.counts.largest.load(Ordering::Relaxed)
    }

    pub fn new(store: Store, clock: Arc<dyn Clock>, policy: RepeatCallPolicy) -> Self {
        IntakeWriter {
            store,
            clock,
            policy,
            queue: OnceLock::new(),
            counts: Arc::default(),
        }
    }

    /// Writes `intake` with whatever else is waiting, and answers once the
    /// transaction holding it is durable.
    pub(crate) async fn write(&self, intake: PreparedIntake) -> Result<Written> {
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            let batches = Batches {
                store: self.store.clone(),
                clock: self.clock.clone(),
                detector: RepeatCallDetector::new(self.policy.clone()),
                counts: self.counts.clone(),
            };
            // Polled on a thread of its own, so the writer's next statement
            // never waits behind the requests queued on the server's
            // workers: a batch is a chain of round trips to the database,
            // and every other intake waits for it. Through the server's
            // runtime handle, so the connections it opens belong to that
            // runtime like every other. It holds no sender: it ends when
            // the state is dropped.
            let runtime = tokio::runtime::Handle::current();
            let spawned = std::thread::Builder::new()
                .name("intake-writer".into())
                .spawn(move || runtime.block_on(batches.run(receiver)));
            if let Err(error) = spawned {
                // The receiver is gone with the closure: intakes are
                // refused with an internal error, none waits forever.
                tracing::error!(%error, "the intake writer's thread did not start");
            }
            sender
        });
        let (answer, answered) = oneshot::channel();
        queue
            .send(Job { intake, answer })
            .await
            .map_err(|_| Error::Internal("the intake writer has stopped".into()))?;
        answered
            .await
            .map_err(|_| Error::Internal("the intake writer dropped an intake".into()))?
    }
}

struct Batches {
    store: Store,
    clock: Arc<dyn Clock>,
    detector: RepeatCallDetector,
    counts: Arc<Counts>,
}

/// An incident made in memory, waiting for its batch to be written.
struct Made<'a> {
    intake: &'a PreparedIntake,
    incident: Incident,
    events: Vec<TimelineEvent<IncidentEvent>>,
    order: Option<(WorkOrder, Vec<TimelineEvent<WorkOrderEvent>>)>,
    link_events: Vec<TimelineEvent<IncidentEvent>>,
    repeats: Vec<RepeatLink>,
    warnings: Vec<i64>,
}

impl Batches {
    async fn run(self, mut receiver: mpsc::Receiver<Job>) {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        while receiver.recv_many(&mut jobs, MAX_BATCH).await > 0 {
            self.counts.batches.fetch_add(1, Ordering::Relaxed);
            self.counts
                .intakes
                .fetch_add(jobs.len() as u64, Ordering::Relaxed);
            self.counts.largest.fetch_max(jobs.len(), Ordering::Relaxed);
            self.write(std::mem::take(&mut jobs)).await;
        }
    }

    #[tracing::instrument(skip_all, fields(batch = jobs.len()))]
    async fn write(&self, jobs: Vec<Job>) {
        let intakes: Vec<&PreparedIntake> = jobs.iter().map(|j| &j.intake).collect();
        let answers = match self.commit(&intakes).await {
            Ok(answers) => answers,
            Err(error) if intakes.len() > 1 => {
                tracing::warn!(%error, batch = intakes.len(), "group commit failed; writing its intakes one by one");
                let mut answers = Vec::with_capacity(intakes.len());
                for intake in &intakes {
                    let alone = self.commit(std::slice::from_ref(intake)).await;
                    answers.push(alone.and_then(|mut a| {
                        a.pop()
                            .unwrap_or_else(|| Err(Error::Internal("no answer".into())))
                    }));
                }
                answers
            }
            Err(error) => vec![Err(error)],
        };
        for (job, answer) in jobs.into_iter().zip(answers) {
            // A caller that went away no longer waits for its answer.
            let _ = job.answer.send(answer);
        }
    }

    /// Writes `intakes` in one transaction and answers each, in order. An
    /// error is the whole batch's: nothing of it was committed.
    async fn commit(&self, intakes: &[&PreparedIntake]) -> Result<Vec<Result<Written>>> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut answers: Vec<Option<Result<Written>>> = intakes.iter().map(|_| None).collect();

        // 1. Checks, each intake alone.
        let mut keys: HashSet<(String, &str)> = HashSet::new();
        let mut reports: HashSet<i64> = HashSet::new();
        let mut accepted = Vec::with_capacity(intakes.len());
        for (index, intake) in intakes.iter().enumerate() {
            let key = intake
                .key
                .as_ref()
                .map(|(key, _)| (intake.caller.actor.to_stored(), key.as_str()));
            if key.as_ref().is_some_and(|k| keys.contains(k)) {
                answers[index] = Some(Ok(Written::KeyUsed));
                continue;
            }
            if let Some((limit, building)) = &intake.limit {
                tx.savepoint().await?;
                if let Err(refused) = limit.count(&mut tx, *building, now).await {
                    tx.rollback_to_savepoint().await?;
                    answers[index] = Some(Err(refused));
                    continue;
                }
                tx.release_savepoint().await?;
            }
            if let Some(report) = intake.field_report {
                // A second intake of one report in the batch is refused
                // alone: written one by one, it finds the first incident.
                if reports.contains(&report) {
                    return Err(Error::Internal("one field report twice in a batch".into()));
                }
                match tx.lock_field_report_incident(report).await? {
                    None => {
                        answers[index] = Some(Err(Error::NotFound));
                        continue;
                    }
                    Some(Some(incident)) => {
                        answers[index] = Some(Ok(Written::Found(incident)));
                        continue;
                    }
                    Some(None) => {
                        reports.insert(report);
                    }
                }
            }
            keys.extend(key);
            accepted.push(index);
        }
        if accepted.is_empty() {
            return Ok(answers.into_iter().flatten().collect());
        }

        // 2. Ids and receipt numbers.
        let ids = tx.reserve_ids("incidents", accepted.len()).await?;
        let departments = accepted
            .iter()
            .filter(|&&i| matches!(intakes[i].route.target, Target::Department { .. }))
            .count();
        let mut order_ids = tx
            .reserve_ids("work_orders", departments)
            .await?
            .into_iter();
        let day = ReceiptDate::of(now);
        let mut per_station: BTreeMap<i64, u32> = BTreeMap::new();
        for &index in &accepted {
            *per_station
                .entry(intakes[index].route.station.id)
                .or_default() += 1;
        }
        let counts: Vec<(i64, u32)> = per_station.into_iter().collect();
        let mut sequences = tx.receipt_ranges(day, &counts).await?;

        // 3. The core's transitions, then the rows.
        let mut made = Vec::with_capacity(accepted.len());
        for (&index, &id) in accepted.iter().zip(&ids) {
            let intake = intakes[index];
            let station = intake.route.station.id;
            let sequence = sequences
                .get_mut(&station)
                .and_then(Iterator::next)
                .ok_or_else(|| Error::Internal("receipt range used up".into()))?;
            made.push(make(intake, id, station, sequence, &mut order_ids, now)?);
        }
        let rows = made
            .iter()
            .map(|m| m.bulk(now))
            .collect::<Result<Vec<_>>>()?;
        tx.insert_incidents_bulk(&rows).await?;

        // 4. Repeat calls and threat words.
        self.link_and_warn(&mut tx, &mut made, now).await?;

        // 5. Field reports, keys and audit entries. A report another
        // transaction linked first fails the batch; written alone, the
        // intake then finds that incident in its checks.
        for m in &made {
            if let Some(report) = m.intake.field_report {
                if !tx.set_field_report_incident(report, m.incident.id).await? {
                    return Err(Error::Internal(format!(
                        "field report {report} was taken in concurrently"
                    )));
                }
            }
        }
        let actors: Vec<String> = made
            .iter()
            .map(|m| m.intake.caller.actor.to_stored())
            .collect();
        let new_keys: Vec<NewIdempotencyKey> = made
            .iter()
            .zip(&actors)
            .filter_map(|(m, actor)| {
                m.intake
                    .key
                    .as_ref()
                    .map(|(key, request_hash)| NewIdempotencyKey {
                        actor,
                        key,
                        request_hash,
                        incident_id: m.incident.id,
                    })
            })
            .collect();
        match tx.insert_idempotency_keys(&new_keys, now).await {
            Ok(()) => {}
            // Alone, the key a concurrent request committed first: this
            // one's work is rolled back and the first incident answers.
            Err(StoreError::Duplicate(_)) if intakes.len() == 1 => {
                return Ok(vec![Ok(Written::KeyUsed)]);
            }
            Err(e) => return Err(e.into()),
        }
        let audits: Vec<_> = made
            .iter()
            .map(|m| {
                m.intake
                    .caller
                    .audit(AuditAction::Create, "incident")
                    .object(m.incident.id)
                    .detail(match m.intake.field_report {
                        Some(report) => {
                            format!("{} from field report {report}", m.incident.receipt)
                        }
                        None => m.incident.receipt.to_string(),
                    })
            })
            .collect();
        tx.append_audit_many(&audits, now).await?;
        tx.commit().await?;

        for (m, &index) in made.into_iter().zip(&accepted) {
            answers[index] = Some(m.created().map(|c| Written::Created(Box::new(c))));
        }
        Ok(answers.into_iter().flatten().collect())
    }

    /// Links each intake of the batch to the earlier incidents it repeats
    /// and raises its warnings, in order: each sees the incidents before
    /// it, those of this batch included. One look-up finds the candidates
    /// of the whole batch; the links and their timeline events are written
    /// together.
    async fn link_and_warn(
        &self,
        tx: &mut fengqiao_store::Tx,
        made: &mut [Made<'_>],
        now: fengqiao_core::Timestamp,
    ) -> Result<()> {
        let since = self.detector.window_start(now);
        let linking: Vec<&Made> = made
            .iter()
            .filter(|m| {
                m.incident
                    .triage
                    .as_ref()
                    .is_some_and(|t| self.detector.policy().links(&t.category))
            })
            .collect();
        let mut buildings: Vec<i64> = linking
            .iter()
            .filter_map(|m| m.incident.location.address_id)
            .collect();
        let mut callers: Vec<&[u8]> = linking
            .iter()
            .filter_map(|m| m.intake.extras.reporter_phone_index.as_deref())
            .collect();
        let mut families: Vec<&str> = linking
            .iter()
            .filter_map(|m| m.incident.triage.as_ref())
            .map(|t| t.category.family.as_str())
            .collect();
        buildings.sort_unstable();
        buildings.dedup();
        callers.sort_unstable();
        callers.dedup();
        families.sort_unstable();
        families.dedup();
        let candidates = tx
            .repeat_candidates(&buildings, &callers, &families, since)
            .await?;
        // Per station, in id order: the incidents before one of the batch
        // are a prefix of its station's list.
        let mut by_station: BTreeMap<i64, (Vec<CallFacts>, Vec<&RepeatCandidate>)> =
            BTreeMap::new();
        let mut sorted: Vec<&RepeatCandidate> = candidates.iter().collect();
        sorted.sort_by_key(|c| c.facts.incident_id);
        for candidate in sorted {
            let (facts, of) = by_station.entry(candidate.station_org_id).or_default();
            facts.push(candidate.facts.clone());
            of.push(candidate);
        }
        let mut links = Vec::new();
        let mut link_events = Vec::new();
        for m in made.iter_mut() {
            let incident = &m.incident;
            let station = &m.intake.route.station;
            if let Some(triage) = &incident.triage {
                let facts = CallFacts {
                    incident_id: incident.id,
                    address_id: incident.location.address_id,
                    caller_index: m.intake.extras.reporter_phone_index.clone(),
                    category: triage.category.clone(),
                    received_at: incident.received_at,
                };
                let (facts_earlier, earlier): (&[CallFacts], &[&RepeatCandidate]) =
                    match by_station.get(&station.id) {
                        Some((facts, of)) => {
                            let before = facts.partition_point(|f| f.incident_id < incident.id);
                            (&facts[..before], &of[..before])
                        }
                        None => (&[], &[]),
                    };
                let linked = repeat_calls::link_among(
                    &self.detector,
                    tx,
                    incident,
                    station,
                    &facts,
                    facts_earlier,
                    now,
                )
                .await?;
                for event in &linked.events {
                    link_events.push((incident.id, BulkEvent::of(None, event)?));
                }
                links.extend(linked.earlier.iter().map(|&e| (incident.id, e)));
                let mut repeats: Vec<RepeatLink> = linked
                    .earlier
                    .iter()
                    .filter_map(|id| {
                        let at = earlier.binary_search_by_key(id, |c| c.facts.incident_id);
                        at.ok().map(|at| earlier[at].link())
                    })
                    .collect();
                repeats.sort_by_key(|r| (r.received_at, r.incident_id));
                m.repeats = repeats;
                m.link_events = linked.events;
                m.warnings.extend(linked.warning);
            }
            let threat = threat_words::raise_on_incident(tx, incident, station, now).await?;
            m.warnings.extend(threat);
        }
        let link_events: Vec<(i64, &BulkEvent)> =
            link_events.iter().map(|(id, e)| (*id, e)).collect();
        tx.insert_events_bulk(&link_events).await?;
        tx.insert_repeat_links(&links).await?;
        Ok(())
    }
}

/// Receives, triages and routes one intake in memory, as the core decides.
fn make<'a>(
    intake: &'a PreparedIntake,
    id: i64,
    station: i64,
    sequence: u32,
    order_ids: &mut impl Iterator<Item = i64>,
    now: fengqiao_core::Timestamp,
) -> Result<Made<'a>> {
    let route = &intake.route;
    let station_code = StationCode::parse(&format!("P{station}"))?;
    let receipt = ReceiptNumber::new(station_code, now, sequence)?;
    let received = Incident::receive(
        id,
        station,
        receipt,
        intake.new.clone(),
        intake.caller.actor.clone(),
        now,
    );
    let triaged = received
        .state
        .triage(
            intake.triage.clone(),
            intake.triaged_by,
            intake.triage_actor.clone(),
            now,
        )
        .map_err(internal)?;
    let mut events = received.events;
    events.extend(triaged.events);
    let triaged = match &intake.overridden {
        Some(chosen) => {
            let overridden = triaged
                .state
                .triage(
                    chosen.clone(),
                    TriagedBy::Operator,
                    intake.caller.actor.clone(),
                    now,
                )
                .map_err(internal)?;
            events.extend(overridden.events);
            overridden.state
        }
        None => triaged.state,
    };
    let mut order = None;
    let incident = match &route.target {
        Target::CommandRoom(room) => {
            let dispatched = triaged
                .dispatch(room.id, Actor::System, now)
                .map_err(internal)?;
            events.extend(dispatched.events);
            dispatched.state
        }
        Target::Department { owner, deadlines } => {
            let new = NewWorkOrder {
                id: order_ids
                    .next()
                    .ok_or_else(|| Error::Internal("work order ids used up".into()))?,
                originator_org_id: route.command_room.id,
                owner_org_id: owner.id,
                supervisor_org_id: owner.parent_id,
                deadlines: *deadlines,
            };
            let diversion = triaged.divert(new, Actor::System, now).map_err(internal)?;
            events.extend(diversion.incident.events);
            order = Some((diversion.work_order.state, diversion.work_order.events));
            diversion.incident.state
        }
        // Held without an event of its own, as intake has always written it.
        Target::Unrouted => {
            triaged
                .hold(route.command_room.id, Actor::System, now)
                .map_err(internal)?
                .state
        }
    };
    Ok(Made {
        intake,
        incident,
        events,
        order,
        link_events: Vec::new(),
        repeats: Vec::new(),
        warnings: Vec::new(),
    })
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

impl Made<'_> {
    /// The rows of the incident, its work order and its timeline so far.
    fn bulk(&self, now: fengqiao_core::Timestamp) -> Result<BulkIncident> {
        let mut events = self
            .events
            .iter()
            .map(|e| BulkEvent::of(None, e))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some((order, order_events)) = &self.order {
            for event in order_events {
                events.push(BulkEvent::of(Some(order.id), event)?);
            }
        }
        Ok(BulkIncident {
            incident: self.incident.clone(),
            extras: self.intake.extras.clone(),
            updated_at: now,
            work_orders: self.order.iter().map(|(o, _)| (o.clone(), now)).collect(),
            events,
        })
    }

    /// The answer: the incident as a read would return it now.
    fn created(self) -> Result<Created> {
        let mut timeline = self
            .events
            .iter()
            .map(|e| TimelineEntry::of(None, e))
            .collect::<Result<Vec<_>, _>>()?;
        let mut work_orders = Vec::new();
        if let Some((order, order_events)) = self.order {
            for event in &order_events {
                timeline.push(TimelineEntry::of(Some(order.id), event)?);
            }
            work_orders.push(order);
        }
        for event in &self.link_events {
            timeline.push(TimelineEntry::of(None, event)?);
        }
        Ok(Created {
            record: IncidentRecord {
                incident: StoredIncident::written(&self.incident, &self.intake.extras),
                timeline,
                work_orders,
                repeats: self.repeats,
            },
            warnings: self.warnings,
        })
    }
}
