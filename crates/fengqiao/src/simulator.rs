//! The demo's present: new calls keep arriving while someone watches, pushed
//! as a 110 call-taking system would push them — through the real intake
//! API with an API token — so the board moves and each new incident is
//! triaged, routed and published like any other. Police incidents are
//! answered as a station would: its operator (signed in with the demo's
//! account) sends the recommended unit, which drives to the scene — its
//! vehicle GPS reporting through the positions API every few seconds — and
//! settles it or hands it on. Travel runs four times faster than the
//! estimate so a watcher sees it happen.

use std::time::Duration;

use fengqiao_core::{Clock, SystemClock, Timestamp};
use fengqiao_server::client::Client;
use fengqiao_server::AppState;
use fengqiao_world::{Calls, Town};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::demo::DemoAccount;

/// The credentials the simulator acts with.
pub struct Tokens {
    /// The 110 system's token: reports incidents.
    pub intake: String,
    /// The vehicles' GPS feed: reports positions.
    pub gps: String,
    /// The demo's accounts: the command rooms' operators answer.
    pub accounts: Vec<DemoAccount>,
}

/// Travel on the screen runs this many times faster than the estimate.
const SPEEDUP: f64 = 4.0;
/// Seconds between two GPS reports of a moving unit.
const GPS_EVERY: u64 = 5;

/// Posts calls at `per_minute` on average (the gaps between calls drawn as
/// a Poisson process would make them) until the server stops; answers the
/// police ones.
pub async fn run(state: AppState, town: Town, seed: u64, per_minute: f64, tokens: Tokens) {
    let client = Client::new(state);
    let operators = sign_in_operators(&client, &tokens.accounts).await;
    let calls = Calls::new(&town, seed, 20.0);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x11fe);
    let mut posted: u64 = 0;
    let mut pending = Vec::new();
    // Each simulated "day" gives a shuffled batch of calls whose words and
    // places are the town's; their own times are not used.
    let mut day: u64 = 1_000_000;
    loop {
        let gap = -(1.0 - rng.gen::<f64>()).ln() * 60.0 / per_minute;
        tokio::time::sleep(Duration::from_secs_f64(gap.min(3600.0))).await;
        if pending.is_empty() {
            day += 1;
            pending = calls.day(day, Timestamp(0));
            pending.reverse();
        }
        let Some(call) = pending.pop() else { continue };
        posted += 1;
        let body = json!({
            "source": call.source,
            "text": call.text,
            "location_text": call.location_text,
            "reporter_name": call.reporter_name,
            "reporter_phone": call.reporter_phone,
        });
        let key = format!("demo-live-{}-{posted}", SystemClock.now().millis());
        let outcome = match client
            .post("/api/v1/incidents")
            .auth(&tokens.intake)
            .header("idempotency-key", &key)
            .json(&body)
        {
            Ok(request) => request.send().await,
            Err(err) => {
                tracing::warn!(error = %err, "demo simulator could not build a call");
                continue;
            }
        };
        match outcome {
            Ok(response) if response.status.is_success() => {
                tracing::debug!(posted, category = call.category, "demo call posted");
                let view = response.json().unwrap_or(Value::Null);
                if let (Some("dispatched"), Some(id)) =
                    (view["status"].as_str(), view["id"].as_i64())
                {
                    let responder = Responder {
                        client: client.clone(),
                        operators: operators.clone(),
                        gps: tokens.gps.clone(),
                        resolve: rng.gen_bool(0.7),
                    };
                    tokio::spawn(async move {
                        if let Err(err) = responder.answer(id).await {
                            tracing::warn!(error = %err, incident = id, "demo simulator: a unit could not answer");
                        }
                    });
                }
            }
            Ok(response) => {
                tracing::warn!(status = %response.status, "demo simulator: the API refused a call")
            }
            Err(err) => tracing::warn!(error = %err, "demo simulator: the call failed"),
        }
    }
}

/// The sessions of every command room's operator of the demo.
async fn sign_in_operators(client: &Client, accounts: &[DemoAccount]) -> Vec<String> {
    let mut sessions = Vec::new();
    for account in accounts.iter().filter(|a| a.role == "operator") {
        match client.sign_in(&account.username, &account.password).await {
            Ok(response) => sessions.extend(response.session_cookie()),
            Err(err) => {
                tracing::warn!(error = %err, "demo simulator: an operator could not sign in")
            }
        }
    }
    sessions
}

struct Responder {
    client: Client,
    operators: Vec<String>,
    gps: String,
    resolve: bool,
}

impl Responder {
    async fn call(
        &self,
        secret: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let method: axum::http::Method = method.parse()?;
        let mut request = self.client.request(method, path).auth(secret);
        if let Some(body) = body {
            request = request.json(&body)?;
        }
        let response = request.send().await?;
        Ok((
            response.status.as_u16(),
            response.json().unwrap_or(Value::Null),
        ))
    }

    /// 派警 → 出发 → GPS along the way → 到场 → settled or handed on.
    async fn answer(&self, incident: i64) -> anyhow::Result<()> {
        tokio::time::sleep(Duration::from_secs(10)).await;
        // The operator of the incident's command room: the one who may.
        let path = format!("/api/v1/incidents/{incident}/recommendations");
        let mut found = None;
        for secret in &self.operators {
            let (status, view) = self.call(secret, "GET", &path, None).await?;
            if status == 200 {
                found = Some((secret.clone(), view));
                break;
            }
        }
        let Some((operator, view)) = found else {
            return Ok(());
        };
        let Some(first) = view["units"]
            .as_array()
            .and_then(|units| units.iter().find(|u| u["reinforcement"] == false))
        else {
            return Ok(());
        };
        let unit = first["unit"]["id"].as_i64().unwrap_or_default();
        let from = (first["unit"]["lat"].as_f64(), first["unit"]["lon"].as_f64());
        let minutes = first["minutes"].as_f64().unwrap_or(3.0);
        let body = json!({ "unit_ids": [unit] });
        let (status, _) = self
            .call(
                &operator,
                "POST",
                &format!("/api/v1/incidents/{incident}/units"),
                Some(body),
            )
            .await?;
        if status != 200 {
            return Ok(());
        }
        let (_, scene) = self
            .call(
                &operator,
                "GET",
                &format!("/api/v1/incidents/{incident}"),
                None,
            )
            .await?;
        let to = (
            scene["location"]["lat"].as_f64(),
            scene["location"]["lon"].as_f64(),
        );
        let tap = |status: &'static str| json!({ "status": status });
        let status_path = format!("/api/v1/units/{unit}/status");
        tokio::time::sleep(Duration::from_secs(5)).await;
        self.call(&operator, "POST", &status_path, Some(tap("en_route")))
            .await?;
        let travel = (minutes * 60.0 / SPEEDUP).clamp(10.0, 150.0);
        let steps = (travel / GPS_EVERY as f64).ceil().max(1.0) as u32;
        for step in 1..=steps {
            tokio::time::sleep(Duration::from_secs(GPS_EVERY)).await;
            if let ((Some(a), Some(b)), (Some(c), Some(d))) = (from, to) {
                let f = step as f64 / steps as f64;
                let body = json!({"positions": [{"unit_id": unit, "lat": a + (c - a) * f, "lon": b + (d - b) * f}]});
                self.call(&self.gps, "POST", "/api/v1/units/positions", Some(body))
                    .await?;
            }
        }
        self.call(&operator, "POST", &status_path, Some(tap("on_scene")))
            .await?;
        tokio::time::sleep(Duration::from_secs(60)).await;
        if self.resolve {
            let body = json!({"result": "民警到场处置，当事双方已劝离，现场化解"});
            self.call(
                &operator,
                "POST",
                &format!("/api/v1/units/{unit}/resolve"),
                Some(body),
            )
            .await?;
        } else {
            self.call(&operator, "POST", &status_path, Some(tap("available")))
                .await?;
        }
        Ok(())
    }
}
