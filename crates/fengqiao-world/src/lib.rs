//! 演示辖区: a synthetic jurisdiction built on the real division table, and
//! the calls its people make over time — deterministic from a seed, so two
//! runs with one seed make the same world, and streamed, so the same
//! generator feeds the demo (one district, ninety days) and the benchmarks
//! (ten million addresses and incidents). Pure: it plans; the `fengqiao`
//! binary writes the plan through the store and the intake API.

#![forbid(unsafe_code)]

pub mod calls;
pub mod casework;
pub mod names;
pub mod town;

pub use calls::{Call, Calls, FollowThrough, Place};
pub use casework::Casework;
pub use town::{Town, TownSpec};
