//! The domain core of Fengqiao: records, rules and their invariants.
//!
//! Nothing here does I/O or is async. Storage, HTTP and the binary are layers
//! around it, so every rule can be tested without a database or a server.

pub mod audit;
pub mod category;
pub mod china_time;
pub mod clock;
pub mod dispute;
pub mod error;
pub mod field_report;
pub mod figures;
pub mod geo;
pub mod incident;
pub mod label;
pub mod org;
pub mod personal;
pub mod receipt;
pub mod reinforcement;
pub mod repeat_call;
pub mod road;
pub mod role;
pub mod secret;
pub mod task;
pub mod text;
pub mod timeline;
pub mod unit;
pub mod user;
pub mod warning;
pub mod work_order;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use error::{FieldError, Reason};
