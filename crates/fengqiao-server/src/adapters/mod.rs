//! Protocol adapters: other systems' ways of reporting, each translated into
//! a call of `services::intake` and the services' answers translated back.
//! Open311 GeoReport v2 today; MQTT and CAP 1.2 come next.

pub(crate) mod open311;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The adapters' documented routes, merged into the API's document.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    open311::router()
}
