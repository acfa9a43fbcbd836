//! 实时推送: every committed change to an incident, a work order, a
//! warning or a field report is published here once, and each open board
//! receives the ones within its viewer's jurisdiction. Publishing never
//! waits: a board that falls behind misses events and reloads (see
//! `api::live`).
//!
//! Some changes are also for named people wherever their organisation sits
//! (a warning for the grid's community officer and grid workers, who may
//! belong to a street or community rather than the station): those go out
//! on a second channel with the people's ids, and each stream sends an
//! event once, by jurisdiction or by name.

use std::sync::Arc;

use fengqiao_core::org::OrgPath;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

/// How many events a slow subscriber may lag before it is told to reload.
const BUFFER: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LiveKind {
    Incident,
    WorkOrder,
    Warning,
    /// e治采: a grid worker's report from the field.
    FieldReport,
    /// A dispute case (矛盾纠纷).
    Dispute,
    /// A unit (警力): dispatched, a status tap, a new position.
    Unit,
    /// A reinforcement request (增援) to a war zone.
    Reinforcement,
}

/// What changed, and which organisations' subtrees may see it.
#[derive(Debug, Clone, Serialize)]
pub struct LiveEvent {
    pub kind: LiveKind,
    pub id: i64,
    /// The incident the change belongs to, when there is one.
    pub incident_id: Option<i64>,
    /// created, accepted, rejected, escalated… as the timeline names it.
    pub change: String,
    #[serde(skip)]
    pub orgs: Vec<OrgPath>,
}

impl LiveEvent {
    /// Whether a viewer whose jurisdiction is `scope` may see this event.
    pub fn visible_within(&self, scope: &OrgPath) -> bool {
        self.orgs.iter().any(|path| scope.contains(path))
    }
}

/// A change for named people, beside the jurisdictions of its event.
#[derive(Debug, Clone)]
pub struct PersonalEvent {
    pub users: Vec<i64>,
    pub event: Arc<LiveEvent>,
}

#[derive(Clone)]
pub struct Live {
    sender: broadcast::Sender<Arc<LiveEvent>>,
    personal: broadcast::Sender<Arc<PersonalEvent>>,
    closing: watch::Sender<bool>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            sender: broadcast::channel(BUFFER).0,
            personal: broadcast::channel(BUFFER).0,
            closing: watch::channel(false).0,
        }
    }
}

/// Resolves once the server begins to shut down.
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    pub async fn wait(&mut self) {
        // An error means the sender is gone: the server is gone as well.
        let _ = self.0.wait_for(|closing| *closing).await;
    }
}

impl Live {
    /// Call after the change is committed, never before.
    pub fn publish(&self, event: LiveEvent) {
        // No subscriber is not an error: nobody is watching.
        let _ = self.sender.send(Arc::new(event));
    }

    /// As [`Live::publish`], and also to the accounts `users` wherever
    /// their organisation lies. Call after the commit.
    pub fn publish_to(&self, event: LiveEvent, users: Vec<i64>) {
        let event = Arc::new(event);
        let _ = self.sender.send(event.clone());
        if !users.is_empty() {
            let _ = self.personal.send(Arc::new(PersonalEvent { users, event }));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.sender.subscribe()
    }

    /// The changes published for named people.
    pub fn subscribe_personal(&self) -> broadcast::Receiver<Arc<PersonalEvent>> {
        self.personal.subscribe()
    }

    /// Ends every open stream: a board never hangs up by itself, and a
    /// graceful shutdown waits for open responses.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub fn shutdown(&self) -> Shutdown {
        Shutdown(self.closing.subscribe())
    }
}
