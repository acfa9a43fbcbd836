//! The organisations and routing rules in memory. Intake routes every call
//! through them (stations covering the address, the command room, the
//! department or governance centre, the rules of the category), and the
//! profile of `bench intake` showed those reads — six to ten small queries
//! a call — among its largest costs; they change a few times a year.
//!
//! The snapshot is read again when a transaction of this process that
//! changed an organisation or a routing rule commits (its generation moves
//! on), and at most [`STALE_AFTER`] after it was read, for changes made by
//! another process (the command line, another server on the same
//! PostgreSQL database).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use fengqiao_core::org::{OrgKind, OrgPath, Organisation};

use crate::closed_loop::RoutingRule;

/// How long a snapshot is trusted without a change of this process.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(1);

/// Every organisation and routing rule, as one read found them.
#[derive(Debug)]
pub(crate) struct Snapshot {
    generation: u64,
    read_at: Instant,
    /// By id.
    organisations: Vec<Organisation>,
    by_id: HashMap<i64, usize>,
    /// By category, then division code.
    rules: Vec<RoutingRule>,
}

impl Snapshot {
    pub fn new(generation: u64, organisations: Vec<Organisation>, rules: Vec<RoutingRule>) -> Self {
        let by_id = organisations
            .iter()
            .enumerate()
            .map(|(index, org)| (org.id, index))
            .collect();
        Snapshot {
            generation,
            read_at: Instant::now(),
            organisations,
            by_id,
            rules,
        }
    }

    pub fn organisation(&self, id: i64) -> Option<&Organisation> {
        self.by_id.get(&id).map(|&index| &self.organisations[index])
    }

    /// In id order.
    pub fn of_kind(&self, kind: OrgKind) -> impl Iterator<Item = &Organisation> {
        self.organisations.iter().filter(move |o| o.kind == kind)
    }

    /// In path order, as `ORDER BY path` sorts the text.
    pub fn within(&self, scope: &OrgPath) -> Vec<&Organisation> {
        let mut found: Vec<&Organisation> = self
            .organisations
            .iter()
            .filter(|o| o.path.as_str().starts_with(scope.as_str()))
            .collect();
        found.sort_by(|a, b| a.path.as_str().cmp(b.path.as_str()));
        found
    }

    /// The rules of `category`, by division code.
    pub fn rules_for<'s>(&'s self, category: &'s str) -> impl Iterator<Item = &'s RoutingRule> {
        self.rules
            .iter()
            .filter(move |r| r.category.as_str() == category)
    }
}

/// The snapshot shared by all clones of a store, and the generation of its
/// organisations and rules in this process.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    generation: AtomicU64,
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    loading: tokio::sync::Mutex<()>,
}

impl Directory {
    /// The current snapshot, unless a change or time made it stale.
    pub fn fresh(&self) -> Option<Arc<Snapshot>> {
        let snapshot = self.snapshot.read().expect("directory lock").clone()?;
        let current =
            snapshot.generation == self.generation() && snapshot.read_at.elapsed() < STALE_AFTER;
        current.then_some(snapshot)
    }

    /// The generation to tag a snapshot with: read before the snapshot's
    /// queries, so a change committed during them makes it stale.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Held while one caller reads a new snapshot.
    pub async fn loading(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.loading.lock().await
    }

    pub fn install(&self, snapshot: Arc<Snapshot>) {
        *self.snapshot.write().expect("directory lock") = Some(snapshot);
    }

    /// A transaction that changed organisations or rules committed.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}
