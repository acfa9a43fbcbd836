//! The HTTP layer: JSON API (with its OpenAPI document), server-rendered
//! pages, sessions and API tokens, problem documents, health and metrics.
//! It knows the domain core and the store; nothing below it knows HTTP.

#![forbid(unsafe_code)]

pub mod accounts;
pub mod addresses;
mod api;
mod app;
mod assets;
pub mod auth;
pub mod bulk_intake;
mod dispute_pages;
pub mod dispute_warnings;
pub mod error;
pub mod escalation;
mod field_report_page;
pub mod group_commit;
pub mod i18n;
mod json;
pub mod live;
mod live_pages;
mod ops;
mod overview;
mod pages;
mod repeat_calls;
mod report;
mod routing;
pub mod state;
mod task_pages;
pub mod tasks;
pub mod threat_words;
mod warning_pages;

pub use api::PUBLIC_TAG;
pub use app::{openapi, router};
pub use state::{AppState, ServerSettings};
