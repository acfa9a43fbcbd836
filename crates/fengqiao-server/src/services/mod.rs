//! The use cases: what Fengqiao does, whoever asks — an HTTP handler, a
//! page, an adapter (Open311, and later MQTT and CAP), a job or the demo's
//! history. A service takes domain input and returns records or an
//! [`Error`] of its own; it never knows HTTP, and never imports `api`,
//! `pages`, `adapters` or `jobs` (a test in `tests/api/layers.rs` checks).

pub mod access;
pub mod accounts;
pub mod addresses;
pub mod audit;
pub mod bulk_intake;
pub mod desk;
pub mod dispatch;
pub mod dispute_warnings;
pub mod disputes;
pub mod eido;
mod error;
pub mod escalation;
pub mod field_reports;
pub mod format;
pub mod group_commit;
pub mod idempotency;
pub mod incidents;
pub mod intake;
pub mod organisations;
pub mod overview;
pub mod repeat_calls;
pub mod roads;
pub mod routing;
pub mod sessions;
pub mod tasks;
pub mod threat_words;
pub mod tokens;
pub mod transition;
pub mod warnings;
pub mod work_orders;

pub use error::{Error, Result};
