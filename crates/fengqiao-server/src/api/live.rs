//! 实时推送: the changes of the caller's jurisdiction as server-sent events,
//! for the command-room board and the department inbox.
//!
//! The stream opens with a comment, so the response starts at once and a
//! client knows it is subscribed; then one `message` per committed change
//! the caller may see (`{"kind", "id", "incident_id", "change"}`), keep-alive
//! comments while nothing happens, and a `reload` event when this
//! subscriber fell so far behind that changes were dropped: the client then
//! reads its list again instead of trusting a partial picture.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use fengqiao_core::org::OrgPath;
use fengqiao_core::role::Permission;
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;

use crate::error::{ApiResult, Problem};
use crate::live::{LiveEvent, PersonalEvent, Shutdown};
use crate::services::access::Caller;
use crate::state::AppState;

const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Live changes to incidents, work orders and warnings within the caller's
/// jurisdiction, as `text/event-stream`.
#[utoipa::path(get, path = "/api/v1/live",
    responses(
        (status = 200, content_type = "text/event-stream", body = String,
         description = "`data: {\"kind\":\"incident\",\"id\":7,\"incident_id\":7,\"change\":\"created\"}` per change; `event: reload` when changes were missed"),
        (status = 403, body = Problem)))]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    caller.require(Permission::ViewIncidents)?;
    // Subscribed before the response starts: nothing committed after the
    // client sees the stream open can be missed.
    let subscription = Subscription {
        receiver: state.live.subscribe(),
        personal: state.live.subscribe_personal(),
        shutdown: state.live.shutdown(),
        scope: caller.scope().clone(),
        user: caller.user.as_ref().map(|u| u.id),
    };
    let opened = stream::once(async { Ok(Event::default().comment("subscribed")) });
    let changes = stream::unfold(subscription, |mut subscription| async move {
        let event = subscription.next().await?;
        Some((Ok(event), subscription))
    });
    Ok(Sse::new(opened.chain(changes)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

struct Subscription {
    receiver: Receiver<Arc<LiveEvent>>,
    /// Changes for named people: sent here only when the caller is named
    /// and the change is not within the caller's jurisdiction (then it
    /// came on `receiver` already).
    personal: Receiver<Arc<PersonalEvent>>,
    shutdown: Shutdown,
    scope: OrgPath,
    user: Option<i64>,
}

impl Subscription {
    /// The next event for this viewer; `None` when the server shuts down,
    /// so graceful shutdown does not wait for boards that never hang up.
    async fn next(&mut self) -> Option<Event> {
        loop {
            // Whether the change is for this viewer: by jurisdiction on the
            // one channel; by name, and only outside the jurisdiction (so
            // it is sent once), on the other.
            let received = tokio::select! {
                received = self.receiver.recv() => received
                    .map(|change| change.visible_within(&self.scope).then_some(change)),
                received = self.personal.recv() => received.map(|p| {
                    let named = self.user.is_some_and(|u| p.users.contains(&u));
                    (named && !p.event.visible_within(&self.scope)).then(|| p.event.clone())
                }),
                () = self.shutdown.wait() => return None,
            };
            match received {
                Ok(Some(change)) => match Event::default().json_data(change.as_ref()) {
                    Ok(event) => return Some(event),
                    Err(err) => tracing::error!(error = %err, "live event not serialisable"),
                },
                Ok(None) => {}
                Err(RecvError::Lagged(_)) => {
                    return Some(Event::default().event("reload").data(""))
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}
