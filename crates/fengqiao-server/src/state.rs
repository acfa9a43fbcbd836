//! What every request handler shares.

use std::sync::Arc;

use fengqiao_core::dispute::FollowUpPolicy;
use fengqiao_core::personal::PersonalDataCipher;
use fengqiao_core::repeat_call::RepeatCallPolicy;
use fengqiao_core::task::{StalledPolicy, VisitPolicy};
use fengqiao_core::unit::DispatchPolicy;
use fengqiao_core::user::{LockoutPolicy, PasswordHashing};
use fengqiao_core::Clock;
use fengqiao_store::Store;

use crate::live::Live;
use crate::services::group_commit::IntakeWriter;
use crate::services::roads::RoadCache;

/// Server settings that requests depend on; the binary fills them from the
/// configuration.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// A session unused this long ends.
    pub session_idle_minutes: i64,
    /// A session ends this long after sign-in, used or not.
    pub session_max_minutes: i64,
    pub lockout: LockoutPolicy,
    /// Set the cookie's Secure flag: the public URL is https.
    pub secure_cookies: bool,
    /// The address people and plates use to reach the server.
    pub public_url: String,
    /// 重复报警: the window and threshold of the repeat-call warning.
    pub repeat_calls: RepeatCallPolicy,
    /// 走访周期: how often each building of a grid is visited.
    pub visits: VisitPolicy,
    /// 回访: when follow-up visits fall after a dispute's agreement.
    pub dispute_follow_ups: FollowUpPolicy,
    /// 纠纷久未推进: days without progress before a case goes on the list.
    pub stalled_disputes: StalledPolicy,
    /// 增援 and track retention.
    pub dispatch: DispatchPolicy,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            session_idle_minutes: 30,
            session_max_minutes: 12 * 60,
            lockout: LockoutPolicy::default(),
            secure_cookies: false,
            public_url: "http://127.0.0.1:8080".into(),
            repeat_calls: RepeatCallPolicy::default(),
            visits: VisitPolicy::default(),
            dispute_follow_ups: FollowUpPolicy::default(),
            stalled_disputes: StalledPolicy::default(),
            dispatch: DispatchPolicy::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub cipher: PersonalDataCipher,
    pub clock: Arc<dyn Clock>,
    pub hashing: PasswordHashing,
    pub settings: ServerSettings,
    pub live: Live,
    /// Commits concurrent intakes in groups (`services/group_commit.rs`).
    pub intake: IntakeWriter,
    /// The road network as last read (`services/roads.rs`).
    pub roads: RoadCache,
}

impl AppState {
    pub fn new(
        store: Store,
        cipher: PersonalDataCipher,
        clock: Arc<dyn Clock>,
        hashing: PasswordHashing,
        settings: ServerSettings,
    ) -> Self {
        let intake = IntakeWriter::new(store.clone(), clock.clone(), settings.repeat_calls.clone());
        AppState(Arc::new(Inner {
            store,
            cipher,
            clock,
            hashing,
            settings,
            live: Live::default(),
            intake,
            roads: RoadCache::default(),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
