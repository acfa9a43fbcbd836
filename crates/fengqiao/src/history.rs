//! The demo's past: the town's calls of the last days played through the
//! real API — the router in this process, signed in as the station's
//! operators and the departments' handlers — at the times the calls were
//! made, on a manual clock. Intake, triage, routing, repeat calls, deadlines
//! and escalation all happen as they would have, so what a newcomer sees is
//! what Fengqiao itself made of those days. Every step is a request; a step
//! the API refuses is counted and reported, never forced.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use anyhow::Context;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use fengqiao_core::personal::PersonalDataCipher;
use fengqiao_core::user::PasswordHashing;
use fengqiao_core::{ManualClock, Timestamp};
use fengqiao_server::{AppState, ServerSettings};
use fengqiao_store::Store;
use fengqiao_world::{Call, Town};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::demo::Seeded;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// What the played history made.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Played {
    pub incidents: u64,
    pub work_orders_closed: u64,
    pub escalations: u64,
    /// Steps the API refused (a state the script did not foresee).
    pub refused: u64,
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
}

struct Player<'a> {
    router: axum::Router,
    clock: Arc<ManualClock>,
    town: &'a Town,
    calls: Vec<Call>,
    passwords: HashMap<&'a str, &'a str>,
    /// username → session cookie.
    sessions: HashMap<String, String>,
    /// organisation id → the username that handles its work orders.
    handlers: HashMap<i64, String>,
    /// organisation key → id.
    orgs: HashMap<String, i64>,
    queue: BinaryHeap<Reverse<(Timestamp, u64, Step)>>,
    scheduled: u64,
    played: Played,
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
    let mut player = Player {
        router: fengqiao_server::router(state.clone()),
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
    };
    for (i, call) in player.calls.iter().enumerate() {
        player
            .queue
            .push(Reverse((call.at, i as u64, Step::Intake(i))));
    }
    player.scheduled = player.calls.len() as u64;
    let progress = indicatif::ProgressBar::new(player.calls.len() as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template("历史警情 / history {bar:30} {pos}/{len} {eta}")
            .expect("a valid template"),
    );
    let mut next_scan = player.queue.peek().map_or(until, |Reverse((at, ..))| *at);
    while let Some(Reverse((at, _, step))) = player.queue.pop() {
        if at > until {
            break;
        }
        // Deadlines that passed before this step escalate first, once an
        // hour of the clock, as the server's scan would have.
        while next_scan <= at {
            player.clock.set(next_scan);
            player.played.escalations +=
                fengqiao_server::escalation::escalate_due(&state).await? as u64;
            next_scan = Timestamp(next_scan.millis() + HOUR_MS);
        }
        player.clock.set(at);
        if matches!(step, Step::Intake(_)) {
            progress.inc(1);
        }
        player.step(at, step).await?;
    }
    player.clock.set(until);
    player.played.escalations += fengqiao_server::escalation::escalate_due(&state).await? as u64;
    progress.finish_and_clear();
    Ok(player.played)
}

impl Player<'_> {
    fn schedule(&mut self, at: Timestamp, step: Step) {
        self.scheduled += 1;
        self.queue.push(Reverse((at, self.scheduled, step)));
    }

    fn operator_of(&self, call: usize) -> String {
        format!("zhihui.{}", self.town.streets[self.calls[call].station].key)
    }

    async fn step(&mut self, at: Timestamp, step: Step) -> anyhow::Result<()> {
        match step {
            Step::Intake(i) => self.intake(at, i).await,
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
                let centre = format!("{}_centre", self.town.streets[self.calls[call].station].key);
                let centre = self.orgs[&centre];
                let operator = self.operator_of(call);
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
                    self.played.refused += 1;
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
                    self.played.refused += 1;
                    return Ok(());
                }
                self.played.work_orders_closed += 1;
                let incident = item["incident_id"]
                    .as_i64()
                    .context("a work order's incident")?;
                // The caller is asked the next day.
                self.schedule(at.plus_minutes(18 * 60), Step::Feedback { incident, call });
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
                // A multi-department incident answers once all are closed;
                // earlier attempts are refused, which is the API's rule.
                if status != StatusCode::OK {
                    self.played.refused += 1;
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
            self.played.refused += 1;
            return Ok(());
        }
        self.played.incidents += 1;
        let at = self.calls[i].at;
        self.route_work_orders(at, &view, i, true);
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
            self.played.refused += 1;
            return Ok(false);
        };
        let path = format!("/api/v1/work-orders/{order}/{action}");
        let (status, _) = self
            .request(&handler, Method::POST, &path, Some(body))
            .await?;
        if status != StatusCode::OK {
            self.played.refused += 1;
        }
        Ok(status == StatusCode::OK)
    }

    async fn session(&mut self, username: &str) -> anyhow::Result<String> {
        if let Some(cookie) = self.sessions.get(username) {
            return Ok(cookie.clone());
        }
        let password = self
            .passwords
            .get(username)
            .with_context(|| format!("no demo account {username}"))?;
        let body = json!({ "username": username, "password": password });
        let request = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))?;
        let response = self.router.clone().oneshot(request).await?;
        anyhow::ensure!(
            response.status().is_success(),
            "{username} cannot sign in: {}",
            response.status()
        );
        let cookie = response
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .context("a session cookie")?
            .to_owned();
        self.sessions.insert(username.to_owned(), cookie.clone());
        Ok(cookie)
    }

    async fn request(
        &mut self,
        username: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let cookie = self.session(username).await?;
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT_LANGUAGE, "zh-CN")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))?;
        let response = self.router.clone().oneshot(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, value))
    }
}

/// Local midnight (China) of the day `at` falls in.
pub fn midnight_of(at: Timestamp) -> Timestamp {
    const DAY_MS: i64 = 24 * HOUR_MS;
    const CST_MS: i64 = 8 * HOUR_MS;
    Timestamp((at.millis() + CST_MS).div_euclid(DAY_MS) * DAY_MS - CST_MS)
}
