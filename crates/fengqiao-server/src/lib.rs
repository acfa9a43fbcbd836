//! Fengqiao's server: the use cases (`services`), and the ways in to them —
//! the JSON API with its OpenAPI document (`api`), the server-rendered
//! pages (`pages`), the protocol adapters (`adapters`) — and the background
//! jobs (`jobs`). It knows the domain core and the store; nothing below it
//! knows HTTP. docs/ARCHITECTURE.md draws the layers and their import rules.

#![forbid(unsafe_code)]

pub mod adapters;
mod api;
mod app;
pub mod auth;
pub mod client;
pub mod error;
pub mod i18n;
pub mod jobs;
mod json;
pub mod live;
mod pages;
pub mod services;
pub mod state;

pub use api::PUBLIC_TAG;
pub use app::{openapi, router};
pub use state::{AppState, ServerSettings};
