//! The demo's present: new calls keep arriving while someone watches, pushed
//! as a 110 call-taking system would push them — through the real intake
//! API with an API token — so the board moves and each new incident is
//! triaged, routed and published like any other.

use std::time::Duration;

use fengqiao_core::{Clock, SystemClock, Timestamp};
use fengqiao_server::client::Client;
use fengqiao_server::AppState;
use fengqiao_world::{Calls, Town};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Posts calls at `per_minute` on average (the gaps between calls drawn as
/// a Poisson process would make them) until the server stops.
pub async fn run(state: AppState, town: Town, seed: u64, per_minute: f64, token: String) {
    let client = Client::new(state);
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
        let body = serde_json::json!({
            "source": call.source,
            "text": call.text,
            "location_text": call.location_text,
            "reporter_name": call.reporter_name,
            "reporter_phone": call.reporter_phone,
        });
        let key = format!("demo-live-{}-{posted}", SystemClock.now().millis());
        let outcome = match client
            .post("/api/v1/incidents")
            .auth(&token)
            .header("idempotency-key", &key)
            .json(&body)
        {
            Ok(request) => request.send().await.map(|r| r.status),
            Err(err) => {
                tracing::warn!(error = %err, "demo simulator could not build a call");
                continue;
            }
        };
        match outcome {
            Ok(status) if status.is_success() => {
                tracing::debug!(posted, category = call.category, "demo call posted")
            }
            Ok(status) => tracing::warn!(%status, "demo simulator: the API refused a call"),
            Err(err) => tracing::warn!(error = %err, "demo simulator: the call failed"),
        }
    }
}
