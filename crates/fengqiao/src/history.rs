//! The demo's past: the town's calls of the last days played through the
//! real API — the router in this process, signed in as the station's
//! operators and the departments' handlers — at the times the calls were
//! made, on a manual clock. Intake, triage, routing, repeat calls, deadlines
//! and escalation all happen as they would have, so what a newcomer sees is
//! what Fengqiao itself made of those days. The casework the world crate
//! plans is played the same way: quarrels registered as dispute cases by the
//! community officer (some first reported from the field by a grid worker),
//! mediated, agreed, followed up and closed; every warning the history
//! raises acknowledged and closed by whoever it was delivered to; each
//! Beijing morning of the last thirty days the task lists generated and
//! worked through. Every step is a request; a step the API refuses is
//! counted and reported, never forced.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;

use anyhow::Context;
use axum::http::{header, Method, StatusCode};
use fengqiao_core::china_time::ChinaDay;
use fengqiao_core::personal::PersonalDataCipher;
use fengqiao_core::task::TaskKind;
use fengqiao_core::user::PasswordHashing;
use fengqiao_core::warning::{RecipientKind, WarningRule};
use fengqiao_core::{Clock, ManualClock, Timestamp};
use fengqiao_server::client::Client;
use fengqiao_server::jobs::Job;
use fengqiao_server::{AppState, ServerSettings};
use fengqiao_store::Store;
use fengqiao_world::casework::{DisputePlan, FieldReportPlan, Outcome};
use fengqiao_world::{Call, Casework, Town};
use serde_json::{json, Value};

use crate::demo::Seeded;

#[path = "history_units.rs"]
mod units;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Daily task lists are played for the last days of the history only: one
/// routine-visit period (30 days), so that by today every building has its
/// last visit and the lists carry over what they would — the same lists
/// for all ninety days would cost the demo half a minute more to start.
const TASK_LIST_DAYS: i64 = 30;

/// What the played history made.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Played {
    pub incidents: u64,
    pub work_orders_closed: u64,
    pub escalations: u64,
    pub field_reports: u64,
    pub disputes: u64,
    pub sessions: u64,
    pub agreements: u64,
    pub disputes_closed: u64,
    pub warnings_raised: u64,
    pub warnings_closed: u64,
    pub tasks_created: u64,
    pub tasks_done: u64,
    pub tasks_withdrawn: u64,
    /// Incidents a unit resolved on scene.
    pub resolved_on_scene: u64,
    /// Steps the API refused (a state the script did not foresee).
    pub refused: u64,
    /// The refused steps by request and status, to say which they were.
    pub refused_by: BTreeMap<String, u64>,
}

/// One scheduled request. Ordered by time, then by the order scheduled.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Intake(usize),
    Accept {
        order: i64,
        owner: i64,
        call: usize,
    },
    Start {
        order: i64,
        owner: i64,
        call: usize,
    },
    Return {
        order: i64,
        owner: i64,
        call: usize,
    },
    Reject {
        order: i64,
        owner: i64,
        incident: i64,
        call: usize,
    },
    Reroute {
        incident: i64,
        call: usize,
    },
    Confirm {
        order: i64,
        call: usize,
    },
    Feedback {
        incident: i64,
        call: usize,
    },
    /// A grid worker files the field report of `reports[i]`.
    FieldReport(usize),
    /// The community officer registers `cases[i]`.
    Register(usize),
    Session {
        case: usize,
        index: usize,
    },
    /// The case's outcome: agreement, failure or transfer.
    Conclude(usize),
    FollowUp {
        case: usize,
        index: usize,
    },
    /// A broken agreement goes to the court.
    TransferBroken(usize),
    CloseCase(usize),
    Acknowledge {
        warning: i64,
        n: u64,
    },
    CloseWarning {
        warning: i64,
        n: u64,
    },
    /// Each Beijing day's lists, generated as the day begins.
    GenerateTasks,
    /// The morning round: everyone looks at their list.
    WorkTasks,
    TaskDone {
        task: i64,
        user: i64,
    },
    /// 派警: the command room sends the recommended unit.
    SendUnit {
        incident: i64,
        call: usize,
    },
    /// The war zone's commander accepts a request for `unit`.
    Reinforce {
        request: i64,
        unit: i64,
        incident: i64,
        minutes: i64,
    },
    /// The crew's tap: en_route, on_scene, or done (resolved or cleared).
    Tap {
        unit: i64,
        incident: i64,
        status: &'static str,
    },
}

/// Where a case comes from, once the API has said it.
#[derive(Debug, Clone, Copy)]
enum CaseSource {
    Incident(i64),
    FieldReport(i64),
}

/// A planned case and what the API answered so far.
struct Case {
    plan: DisputePlan,
    source: Option<CaseSource>,
    dispute_id: Option<i64>,
    /// (id, due) of the follow-up visits of its agreement.
    follow_ups: Vec<(i64, Timestamp)>,
}

struct Player<'a> {
    client: Client,
    clock: Arc<ManualClock>,
    town: &'a Town,
    calls: Vec<Call>,
    passwords: HashMap<&'a str, &'a str>,
    /// username → session secret.
    sessions: HashMap<String, String>,
    /// organisation id → the username that handles its work orders.
    handlers: HashMap<i64, String>,
    /// organisation key → id.
    orgs: HashMap<String, i64>,
    queue: BinaryHeap<Reverse<(Timestamp, u64, Step)>>,
    scheduled: u64,
    played: Played,
    state: AppState,
    casework: Casework<'a>,
    reports: Vec<FieldReportPlan>,
    cases: Vec<Case>,
    /// Account id → username.
    usernames: HashMap<i64, String>,
    /// Warning changes as the server publishes them.
    live: tokio::sync::broadcast::Receiver<Arc<fengqiao_server::live::LiveEvent>>,
    /// Travel times and outcomes of the units' responses.
    rng: rand_chacha::ChaCha8Rng,
}

/// Plays `calls` (oldest first) through the API as of their times, up to
/// `until`; steps due later are left undone, as they would be today.
pub async fn play(
    store: &Store,
    cipher: &PersonalDataCipher,
    town: &Town,
    seeded: &Seeded,
    calls: impl Iterator<Item = Call>,
    clock: Arc<ManualClock>,
    until: Timestamp,
) -> anyhow::Result<Played> {
    let state = AppState::new(
        store.clone(),
        cipher.clone(),
        clock.clone(),
        PasswordHashing::recommended(),
        ServerSettings {
            // The history spans months of the manual clock: its sessions
            // must outlive them.
            session_idle_minutes: 400 * 24 * 60,
            session_max_minutes: 400 * 24 * 60,
            ..ServerSettings::default()
        },
    );
    let orgs = seeded.orgs.clone();
    let mut handlers = HashMap::new();
    for person in &town.people {
        if person.role == fengqiao_core::role::Role::DepartmentHandler {
            handlers
                .entry(orgs[&person.org])
                .or_insert_with(|| person.username.clone());
        }
    }
    let live = state.live.subscribe();
    let mut player = Player {
        state: state.clone(),
        casework: Casework::new(town, town.spec.seed),
        reports: Vec::new(),
        cases: Vec::new(),
        usernames: seeded
            .users
            .iter()
            .map(|(name, id)| (*id, name.clone()))
            .collect(),
        live,
        client: Client::new(state.clone()),
        clock,
        town,
        calls: calls.collect(),
        passwords: seeded
            .accounts
            .iter()
            .map(|a| (a.username.as_str(), a.password.as_str()))
            .collect(),
        sessions: HashMap::new(),
        handlers,
        orgs,
        queue: BinaryHeap::new(),
        scheduled: 0,
        played: Played::default(),
        rng: rand::SeedableRng::seed_from_u64(town.spec.seed ^ 0x5e_7d),
    };
    player.muster().await?;
    for (i, call) in player.calls.iter().enumerate() {
        player
            .queue
            .push(Reverse((call.at, i as u64, Step::Intake(i))));
    }
    player.scheduled = player.calls.len() as u64;
    // Each day of the history: the lists as the day begins, the morning
    // round, and the disputes grid workers find on their rounds.
    let first = player
        .calls
        .first()
        .map_or(player.clock.now(), |c| c.at)
        .min(player.clock.now());
    let mut midnight = ChinaDay::of(first).starts_at();
    let lists_from = ChinaDay::of(until).plus_days(-TASK_LIST_DAYS).starts_at();
    while midnight < until {
        let day = ChinaDay::of(midnight).number() as u64;
        if midnight >= lists_from {
            player.schedule(
                Timestamp(midnight.millis() + MINUTE_MS),
                Step::GenerateTasks,
            );
            player.schedule(Timestamp(midnight.millis() + 8 * HOUR_MS), Step::WorkTasks);
        }
        for report in player.casework.field_reports(day, midnight) {
            let at = report.at;
            player.reports.push(report);
            let i = player.reports.len() - 1;
            player.schedule(at, Step::FieldReport(i));
        }
        midnight = Timestamp(midnight.millis() + DAY_MS);
    }
    let progress = indicatif::ProgressBar::new(player.calls.len() as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template("历史警情 / history {bar:30} {pos}/{len} {eta}")
            .expect("a valid template"),
    );
    let mut next_scan = player.queue.peek().map_or(until, |Reverse((at, ..))| *at);
    // Units still on a job when the history ends report in as the demo
    // starts, so none is left assigned with nobody to clear it.
    let mut still_out = Vec::new();
    while let Some(Reverse((at, _, step))) = player.queue.pop() {
        if at > until {
            if matches!(step, Step::Tap { .. }) {
                still_out.push(step);
            }
            continue;
        }
        // Deadlines that passed before this step escalate first, once an
        // hour of the clock, as the server's scan would have.
        while next_scan <= at {
            player.clock.set(next_scan);
            player.scan().await?;
            next_scan = Timestamp(next_scan.millis() + HOUR_MS);
        }
        player.clock.set(at);
        if matches!(step, Step::Intake(_)) {
            progress.inc(1);
        }
        player.step(at, step).await?;
        player.follow_warnings(at).await?;
    }
    player.clock.set(until);
    for step in still_out {
        player.step(until, step).await?;
    }
    player.scan().await?;
    progress.finish_and_clear();
    Ok(player.played)
}

impl Player<'_> {
    /// The server's deadline jobs, as its 30-second tick would have run
    /// them: overdue work orders, dispute deadlines, warnings nobody
    /// acknowledged.
    async fn scan(&mut self) -> anyhow::Result<()> {
        self.played.escalations += Job::EscalateWorkOrders.run(&self.state).await? as u64;
        Job::DisputeDeadlines.run(&self.state).await?;
        Job::EscalateWarnings.run(&self.state).await?;
        self.follow_warnings(self.clock.now()).await
    }

    /// Every warning raised since the last look is handed to whoever it
    /// was delivered to, to be acknowledged and closed as the casework
    /// plans.
    async fn follow_warnings(&mut self, at: Timestamp) -> anyhow::Result<()> {
        use tokio::sync::broadcast::error::TryRecvError;
        loop {
            let event = match self.live.try_recv() {
                Ok(event) => event,
                Err(TryRecvError::Lagged(n)) => {
                    anyhow::bail!("the history lost {n} live events")
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => return Ok(()),
            };
            if event.kind != fengqiao_server::live::LiveKind::Warning || event.change != "raised" {
                continue;
            }
            let Some(warning) = self.state.store.warning(event.id).await? else {
                continue;
            };
            let n = self.played.warnings_raised;
            self.played.warnings_raised += 1;
            let rule = warning.rule();
            let plan = self
                .casework
                .warning(n, rule.as_str(), rule.acknowledge_minutes());
            if plan.left_open {
                continue;
            }
            self.schedule(
                at.plus_minutes(plan.acknowledge_after_minutes),
                Step::Acknowledge {
                    warning: warning.id,
                    n,
                },
            );
        }
    }

    /// Who handles a warning: the community officer it was delivered to,
    /// else its grid worker, else the chief of the station that must act.
    async fn warning_handler(&self, warning: i64) -> anyhow::Result<Option<String>> {
        let recipients = self.state.store.warning_recipients(warning).await?;
        let pick = recipients
            .iter()
            .find(|r| r.kind == RecipientKind::Officer)
            .or_else(|| {
                recipients
                    .iter()
                    .find(|r| r.kind == RecipientKind::GridWorker)
            })
            .and_then(|r| self.usernames.get(&r.user_id).cloned());
        if pick.is_some() {
            return Ok(pick);
        }
        let Some(found) = self.state.store.warning(warning).await? else {
            return Ok(None);
        };
        Ok(self
            .orgs
            .iter()
            .find(|(_, id)| **id == found.org_id)
            .map(|(key, _)| format!("suozhang.{key}"))
            .filter(|chief| self.passwords.contains_key(chief.as_str())))
    }

    /// A request whose refusal is counted; the answer when it succeeded.
    async fn attempt(
        &mut self,
        username: &str,
        path: &str,
        body: Value,
        what: &str,
    ) -> anyhow::Result<Option<Value>> {
        let (status, value) = self
            .request(username, Method::POST, path, Some(body))
            .await?;
        if status.is_success() {
            return Ok(Some(value));
        }
        self.refuse(&refusal(what, &value), status);
        Ok(None)
    }

    fn refuse(&mut self, what: &str, status: StatusCode) {
        self.played.refused += 1;
        *self
            .played
            .refused_by
            .entry(format!("{what} {}", status.as_u16()))
            .or_default() += 1;
    }

    fn schedule(&mut self, at: Timestamp, step: Step) {
        self.scheduled += 1;
        self.queue.push(Reverse((at, self.scheduled, step)));
    }

    fn operator_of(&self, call: usize) -> String {
        format!("zhihui.{}", self.town.streets[self.calls[call].station].key)
    }

    async fn step(&mut self, at: Timestamp, step: Step) -> anyhow::Result<()> {
        match step {
            Step::FieldReport(i) => self.field_report(at, i).await,
            Step::Register(_)
            | Step::Session { .. }
            | Step::Conclude(_)
            | Step::FollowUp { .. }
            | Step::TransferBroken(_)
            | Step::CloseCase(_) => self.casework(at, step).await,
            Step::Acknowledge { .. } | Step::CloseWarning { .. } => {
                self.handle_warning(at, step).await
            }
            Step::GenerateTasks => {
                // As `serve`'s tick does when a Beijing day begins.
                if let Some(made) =
                    fengqiao_server::services::tasks::generate_if_new_day(&self.state).await?
                {
                    self.played.tasks_created += made.created as u64;
                    self.played.tasks_withdrawn += made.withdrawn as u64;
                }
                Ok(())
            }
            Step::WorkTasks => self.work_tasks(at).await,
            Step::TaskDone { task, user } => self.task_done(task, user).await,
            Step::Intake(i) => self.intake(at, i).await,
            Step::SendUnit { incident, call } => self.send_unit(at, incident, call).await,
            Step::Reinforce {
                request,
                unit,
                incident,
                minutes,
            } => self.reinforce(at, request, unit, incident, minutes).await,
            Step::Tap {
                unit,
                incident,
                status,
            } => self.tap(unit, incident, status).await,
            Step::Accept { order, owner, call } => {
                if self.act(owner, order, "accept", json!({})).await? {
                    self.schedule(at.plus_minutes(5), Step::Start { order, owner, call });
                }
                Ok(())
            }
            Step::Start { order, owner, call } => {
                if self.act(owner, order, "start", json!({})).await? {
                    let follow = self.calls[call].follow;
                    let finish = self.calls[call]
                        .at
                        .plus_minutes(follow.finish_after_minutes);
                    let finish = finish.max(at.plus_minutes(30));
                    self.schedule(finish, Step::Return { order, owner, call });
                }
                Ok(())
            }
            Step::Return { order, owner, call } => {
                let result = json!({ "result": "已到现场核实处理，与当事人沟通并处置完毕" });
                if self.act(owner, order, "return", result).await? {
                    self.schedule(at.plus_minutes(20), Step::Confirm { order, call });
                }
                Ok(())
            }
            Step::Reject {
                order,
                owner,
                incident,
                call,
            } => {
                let reason = json!({ "reason": "经核实不属于本部门职责，请重新分派" });
                if self.act(owner, order, "reject", reason).await? {
                    self.schedule(at.plus_minutes(15), Step::Reroute { incident, call });
                }
                Ok(())
            }
            Step::Reroute { incident, call } => {
                // The governance centre covering the place the incident was
                // placed at (its community, else its station's street),
                // which may not be the street the caller meant.
                let Some(found) = self.state.store.incident(incident).await? else {
                    return Ok(());
                };
                let station = found.incident.station_org_id;
                let station_key = self
                    .orgs
                    .iter()
                    .find(|(_, id)| **id == station)
                    .map_or(
                        self.town.streets[self.calls[call].station].key,
                        |(key, _)| key.as_str(),
                    )
                    .to_owned();
                let covering = found.incident.community_code.as_deref().and_then(|code| {
                    self.town
                        .orgs
                        .iter()
                        .filter(|o| o.kind == fengqiao_core::org::OrgKind::GovernanceCentre)
                        .find(|o| {
                            o.division_codes
                                .iter()
                                .any(|d| code.starts_with(d.as_str()))
                        })
                        .map(|o| o.key.clone())
                });
                let centre_key = covering.unwrap_or_else(|| format!("{station_key}_centre"));
                let Some(&centre) = self.orgs.get(&centre_key) else {
                    return Ok(());
                };
                let operator = format!("zhihui.{station_key}");
                let body = json!({ "owner_org_ids": [centre] });
                let (status, view) = self
                    .request(
                        &operator,
                        Method::POST,
                        &format!("/api/v1/incidents/{incident}/route"),
                        Some(body),
                    )
                    .await?;
                if status != StatusCode::OK {
                    self.refuse(&refusal("route", &view), status);
                    return Ok(());
                }
                self.route_work_orders(at, &view, call, false);
                Ok(())
            }
            Step::Confirm { order, call } => {
                let operator = self.operator_of(call);
                let path = format!("/api/v1/work-orders/{order}/confirm");
                let (status, item) = self.request(&operator, Method::POST, &path, None).await?;
                if status != StatusCode::OK {
                    self.refuse("confirm", status);
                    return Ok(());
                }
                self.played.work_orders_closed += 1;
                let incident = item["incident_id"]
                    .as_i64()
                    .context("a work order's incident")?;
                // The caller is asked the next day, once every department
                // has finished: confirming the last work order resolves it.
                let resolved = self
                    .state
                    .store
                    .incident(incident)
                    .await?
                    .is_some_and(|found| {
                        found.incident.status == fengqiao_core::incident::IncidentStatus::Resolved
                    });
                if resolved {
                    self.schedule(at.plus_minutes(18 * 60), Step::Feedback { incident, call });
                }
                Ok(())
            }
            Step::Feedback { incident, call } => {
                let follow = self.calls[call].follow;
                let operator = self.operator_of(call);
                let body =
                    json!({ "resolved": follow.resolved, "satisfaction": follow.satisfaction });
                let path = format!("/api/v1/incidents/{incident}/feedback");
                let (status, _) = self
                    .request(&operator, Method::POST, &path, Some(body))
                    .await?;
                if status != StatusCode::OK {
                    self.refuse("feedback", status);
                }
                Ok(())
            }
        }
    }

    async fn intake(&mut self, _at: Timestamp, i: usize) -> anyhow::Result<()> {
        let call = &self.calls[i];
        let body = json!({
            "source": call.source,
            "text": call.text,
            "location_text": call.location_text,
            "reporter_name": call.reporter_name,
            "reporter_phone": call.reporter_phone,
        });
        let operator = self.operator_of(i);
        let (status, view) = self
            .request(&operator, Method::POST, "/api/v1/incidents", Some(body))
            .await?;
        if status != StatusCode::CREATED {
            self.refuse("intake", status);
            return Ok(());
        }
        self.played.incidents += 1;
        let at = self.calls[i].at;
        self.route_work_orders(at, &view, i, true);
        // Police work gets a unit; a third of the rest the street force.
        let street_first = view["status"] == "diverted" && rand::Rng::gen_bool(&mut self.rng, 0.3);
        if let (true, Some(incident)) = (
            view["status"] == "dispatched" || street_first,
            view["id"].as_i64(),
        ) {
            self.schedule(at, Step::SendUnit { incident, call: i });
        }
        if let (Some(plan), Some(incident)) = (
            self.casework.dispute_for(&self.calls[i]),
            view["id"].as_i64(),
        ) {
            let when = at.plus_minutes(plan.register_after_minutes);
            self.cases.push(Case {
                plan,
                source: Some(CaseSource::Incident(incident)),
                dispute_id: None,
                follow_ups: Vec::new(),
            });
            self.schedule(when, Step::Register(self.cases.len() - 1));
        }
        Ok(())
    }

    /// e治采: the grid worker files what they found; the officer registers
    /// it as a case later.
    async fn field_report(&mut self, at: Timestamp, i: usize) -> anyhow::Result<()> {
        let report = &self.reports[i];
        let body = json!({
            "kind": "dispute",
            "category": report.dispute.dispute_type,
            "description": report.description,
            "address_text": report.address_text,
        });
        let reporter = report.reporter.clone();
        let Some(view) = self
            .attempt(&reporter, "/api/v1/field-reports", body, "field report")
            .await?
        else {
            return Ok(());
        };
        self.played.field_reports += 1;
        let plan = self.reports[i].dispute.clone();
        let when = at.plus_minutes(plan.register_after_minutes);
        self.cases.push(Case {
            plan,
            source: view["id"].as_i64().map(CaseSource::FieldReport),
            dispute_id: None,
            follow_ups: Vec::new(),
        });
        self.schedule(when, Step::Register(self.cases.len() - 1));
        Ok(())
    }

    /// A step of a case: the officer's request on it, the next steps
    /// scheduled from what the API answered.
    async fn casework(&mut self, at: Timestamp, step: Step) -> anyhow::Result<()> {
        let case = match step {
            Step::Register(c)
            | Step::Session { case: c, .. }
            | Step::Conclude(c)
            | Step::FollowUp { case: c, .. }
            | Step::TransferBroken(c)
            | Step::CloseCase(c) => c,
            _ => return Ok(()),
        };
        let plan = self.cases[case].plan.clone();
        let officer = plan.officer.clone();
        let Some(officer_id) = self
            .usernames
            .iter()
            .find(|(_, name)| **name == officer)
            .map(|(id, _)| *id)
        else {
            return Ok(());
        };
        if let Step::Register(_) = step {
            let parties: Vec<Value> = plan
                .parties
                .iter()
                .map(|p| {
                    if p.organisation {
                        json!({ "kind": "organisation", "name": p.name })
                    } else {
                        json!({ "name": p.name, "phone": p.phone })
                    }
                })
                .collect();
            let mut body = json!({
                "dispute_type": plan.dispute_type,
                "parties": parties,
                "risk_level": plan.risk_level,
                "risk_reason": plan.risk_reason,
                "officer_user_id": officer_id,
                "mediators": plan.mediators,
            });
            match self.cases[case].source {
                Some(CaseSource::Incident(id)) => {
                    body["source"] = json!("incident");
                    body["incident_id"] = json!(id);
                }
                Some(CaseSource::FieldReport(id)) => {
                    body["source"] = json!("field_report");
                    body["field_report_id"] = json!(id);
                }
                None => return Ok(()),
            }
            let Some(view) = self
                .attempt(&officer, "/api/v1/disputes", body, "register dispute")
                .await?
            else {
                return Ok(());
            };
            self.played.disputes += 1;
            self.cases[case].dispute_id = view["id"].as_i64();
            let first = plan.sessions[0].after_minutes;
            self.schedule(at.plus_minutes(first), Step::Session { case, index: 0 });
            return Ok(());
        }
        let Some(dispute) = self.cases[case].dispute_id else {
            return Ok(());
        };
        let path = |tail: &str| format!("/api/v1/disputes/{dispute}/{tail}");
        match step {
            Step::Session { index, .. } => {
                let session = &plan.sessions[index];
                let next = plan.sessions.get(index + 1);
                let mut body = json!({
                    "place": plan.place,
                    "participants": plan.participants,
                    "note": session.note,
                    "next_step": session.next_step,
                });
                if let Some(next) = next {
                    body["next_session_at"] =
                        json!(crate::history::rfc3339(at.plus_minutes(next.after_minutes)));
                }
                if self
                    .attempt(&officer, &path("sessions"), body, "session")
                    .await?
                    .is_none()
                {
                    return Ok(());
                }
                self.played.sessions += 1;
                match next {
                    Some(next) => self.schedule(
                        at.plus_minutes(next.after_minutes),
                        Step::Session {
                            case,
                            index: index + 1,
                        },
                    ),
                    // The outcome is written up the same day.
                    None => self.schedule(at.plus_minutes(40), Step::Conclude(case)),
                }
            }
            Step::Conclude(_) => match &plan.outcome {
                Outcome::Agreement { text, follow_ups } => {
                    let body = json!({ "text": text });
                    let Some(view) = self
                        .attempt(&officer, &path("agreement"), body, "agreement")
                        .await?
                    else {
                        return Ok(());
                    };
                    self.played.agreements += 1;
                    let scheduled: Vec<(i64, Timestamp)> = view["follow_ups"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|f| f["status"] == "pending")
                        .filter_map(|f| {
                            let due =
                                chrono::DateTime::parse_from_rfc3339(f["due_at"].as_str()?).ok()?;
                            Some((f["id"].as_i64()?, Timestamp(due.timestamp_millis())))
                        })
                        .collect();
                    for (index, (_, due)) in scheduled.iter().enumerate() {
                        if let Some(visit) = follow_ups.get(index) {
                            let when = due
                                .plus_minutes(visit.late_minutes)
                                .max(at.plus_minutes(60));
                            self.schedule(when, Step::FollowUp { case, index });
                        }
                    }
                    self.cases[case].follow_ups = scheduled;
                }
                Outcome::Failed { reason } => {
                    let body = json!({ "reason": reason });
                    if self
                        .attempt(&officer, &path("fail"), body, "fail")
                        .await?
                        .is_some()
                    {
                        self.schedule(
                            at.plus_minutes(plan.close_after_minutes),
                            Step::CloseCase(case),
                        );
                    }
                }
                Outcome::Transferred { target, to, reason } => {
                    let body = json!({ "target": target, "to": to, "reason": reason });
                    if self
                        .attempt(&officer, &path("transfer"), body, "transfer")
                        .await?
                        .is_some()
                    {
                        self.schedule(
                            at.plus_minutes(plan.close_after_minutes),
                            Step::CloseCase(case),
                        );
                    }
                }
            },
            Step::FollowUp { index, .. } => {
                let Outcome::Agreement { follow_ups, .. } = &plan.outcome else {
                    return Ok(());
                };
                let (Some(visit), Some(&(id, _))) = (
                    follow_ups.get(index),
                    self.cases[case].follow_ups.get(index),
                ) else {
                    return Ok(());
                };
                // A visit after a broken one is cancelled: nothing to do.
                if index > 0 && !follow_ups[..index].iter().all(|v| v.holding) {
                    return Ok(());
                }
                let body =
                    json!({ "follow_up_id": id, "holding": visit.holding, "note": visit.note });
                if self
                    .attempt(&officer, &path("follow-ups"), body, "follow-up")
                    .await?
                    .is_none()
                {
                    return Ok(());
                }
                let last = index + 1 == self.cases[case].follow_ups.len();
                if !visit.holding {
                    self.schedule(at.plus_minutes(2 * 24 * 60), Step::TransferBroken(case));
                } else if last {
                    self.schedule(
                        at.plus_minutes(plan.close_after_minutes),
                        Step::CloseCase(case),
                    );
                }
            }
            Step::TransferBroken(_) => {
                let body = json!({
                    "target": "court",
                    "to": "成都市武侯区人民法院",
                    "reason": "一方反悔拒不履行调解协议，经再次做工作无果，引导当事人向法院起诉。",
                });
                if self
                    .attempt(&officer, &path("transfer"), body, "transfer")
                    .await?
                    .is_some()
                {
                    self.schedule(
                        at.plus_minutes(plan.close_after_minutes),
                        Step::CloseCase(case),
                    );
                }
            }
            Step::CloseCase(_) => {
                let note = match &plan.outcome {
                    Outcome::Agreement { .. } => "协议履行完毕，回访无异常，予以结案。",
                    Outcome::Failed { .. } => "调解不成，已告知当事人诉讼途径，予以结案。",
                    Outcome::Transferred { .. } => "已移交并确认接收，予以结案。",
                };
                if self
                    .attempt(
                        &officer,
                        &path("close"),
                        json!({ "note": note }),
                        "close dispute",
                    )
                    .await?
                    .is_some()
                {
                    self.played.disputes_closed += 1;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// 签收, then 办结 with the action record, by whoever handles it.
    async fn handle_warning(&mut self, at: Timestamp, step: Step) -> anyhow::Result<()> {
        let (warning, n, closing) = match step {
            Step::Acknowledge { warning, n } => (warning, n, false),
            Step::CloseWarning { warning, n } => (warning, n, true),
            _ => return Ok(()),
        };
        let Some(found) = self.state.store.warning(warning).await? else {
            return Ok(());
        };
        let rule: WarningRule = found.rule();
        let plan = self
            .casework
            .warning(n, rule.as_str(), rule.acknowledge_minutes());
        let Some(handler) = self.warning_handler(warning).await? else {
            self.refuse("warning (nobody to handle it)", StatusCode::NOT_FOUND);
            return Ok(());
        };
        if !closing {
            let path = format!("/api/v1/warnings/{warning}/acknowledge");
            if self
                .attempt(&handler, &path, json!({}), "acknowledge warning")
                .await?
                .is_some()
            {
                self.schedule(
                    at.plus_minutes(plan.close_after_minutes),
                    Step::CloseWarning { warning, n },
                );
            }
            return Ok(());
        }
        let path = format!("/api/v1/warnings/{warning}/close");
        let body = json!({ "action": plan.action, "note": plan.note });
        if self
            .attempt(&handler, &path, body, "close warning")
            .await?
            .is_some()
        {
            self.played.warnings_closed += 1;
        }
        Ok(())
    }

    /// The morning round: each person's open tasks, done as the casework
    /// plans (warnings are closed on their own, and their tasks withdrawn).
    async fn work_tasks(&mut self, at: Timestamp) -> anyhow::Result<()> {
        let today = ChinaDay::of(at);
        for user in self.state.store.task_doers().await? {
            for task in self.state.store.tasks_on_list(user, today).await? {
                if task.kind == TaskKind::CloseWarning {
                    continue;
                }
                let plan = self.casework.task(task.id, task.kind.as_str());
                let Some(after) = plan.done_after_days else {
                    continue;
                };
                if task.day.plus_days(after) != today {
                    continue;
                }
                self.schedule(
                    at.plus_minutes(plan.minutes_into_day),
                    Step::TaskDone {
                        task: task.id,
                        user,
                    },
                );
            }
        }
        Ok(())
    }

    async fn task_done(&mut self, task_id: i64, user: i64) -> anyhow::Result<()> {
        let Some(task) = self.state.store.task(task_id).await? else {
            return Ok(());
        };
        // Withdrawn meanwhile (the session was held, the case moved on).
        if task.status != fengqiao_core::task::TaskStatus::Open {
            return Ok(());
        }
        let Some(username) = self.usernames.get(&user).cloned() else {
            return Ok(());
        };
        let plan = self.casework.task(task.id, task.kind.as_str());
        let place = task
            .title
            .split_once(['：', ' '])
            .map_or(task.title.as_str(), |(_, place)| place)
            .to_owned();
        let body = json!({ "outcome": plan.outcome, "place": place, "note": plan.note });
        let path = format!("/api/v1/tasks/{task_id}/done");
        if self
            .attempt(&username, &path, body, "task done")
            .await?
            .is_some()
        {
            self.played.tasks_done += 1;
        }
        Ok(())
    }

    /// Schedules the department's side of each new work order of `view`.
    fn route_work_orders(&mut self, at: Timestamp, view: &Value, call: usize, first: bool) {
        let incident = view["id"].as_i64().unwrap_or_default();
        let follow = self.calls[call].follow;
        let orders: Vec<(i64, i64)> = view["work_orders"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|o| o["status"] == "created")
            .filter_map(|o| Some((o["id"].as_i64()?, o["owner_org_id"].as_i64()?)))
            .collect();
        for (order, owner) in orders {
            let when = at.plus_minutes(follow.accept_after_minutes);
            if first && follow.rejected_first {
                self.schedule(
                    when,
                    Step::Reject {
                        order,
                        owner,
                        incident,
                        call,
                    },
                );
            } else {
                self.schedule(when, Step::Accept { order, owner, call });
            }
        }
    }

    /// A department's action on its work order; false when refused.
    async fn act(
        &mut self,
        owner: i64,
        order: i64,
        action: &str,
        body: Value,
    ) -> anyhow::Result<bool> {
        let Some(handler) = self.handlers.get(&owner).cloned() else {
            self.refuse(&format!("{action} (no handler)"), StatusCode::NOT_FOUND);
            return Ok(false);
        };
        let path = format!("/api/v1/work-orders/{order}/{action}");
        let (status, _) = self
            .request(&handler, Method::POST, &path, Some(body))
            .await?;
        if status != StatusCode::OK {
            self.refuse(action, status);
        }
        Ok(status == StatusCode::OK)
    }

    async fn session(&mut self, username: &str) -> anyhow::Result<String> {
        if let Some(secret) = self.sessions.get(username) {
            return Ok(secret.clone());
        }
        let password = self
            .passwords
            .get(username)
            .with_context(|| format!("no demo account {username}"))?;
        let response = self.client.sign_in(username, password).await?;
        anyhow::ensure!(
            response.status.is_success(),
            "{username} cannot sign in: {}",
            response.status
        );
        let secret = response.session_cookie().context("a session cookie")?;
        self.sessions.insert(username.to_owned(), secret.clone());
        Ok(secret)
    }

    async fn request(
        &mut self,
        username: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let secret = self.session(username).await?;
        let mut request = self
            .client
            .request(method, path)
            .auth(&secret)
            .header(header::ACCEPT_LANGUAGE.as_str(), "zh-CN");
        if let Some(body) = body {
            request = request.json(&body)?;
        }
        let response = request.send().await?;
        Ok((response.status, response.json().unwrap_or(Value::Null)))
    }
}

/// A refused request as the summary names it: what, and the fields the
/// problem document names, so a refusal says where it came from.
fn refusal(what: &str, problem: &Value) -> String {
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    if fields.is_empty() {
        what.to_owned()
    } else {
        format!("{what} ({})", fields.join(","))
    }
}

/// RFC 3339 in UTC, as the API reads times.
fn rfc3339(at: Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(at.millis())
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
