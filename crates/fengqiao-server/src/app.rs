//! The router: API, pages, assets and operations endpoints, with the layers
//! every response passes through.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Router};
use http_body_util::Limited;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::error::{render_problems, ApiError};
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

use crate::api::{self, ops};
use crate::pages::{
    self, assets, board, disputes, field_reports, overview, report, tasks, units, warnings,
};
use crate::services::Error;

/// Nothing is loaded from outside the server; no inline script or style.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The generated OpenAPI document, served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented_routes().split_for_parts().1
}

/// Every documented route: the API's and the adapters'.
fn documented_routes() -> OpenApiRouter<AppState> {
    api::router().merge(crate::adapters::router())
}

/// Requests carry small JSON or forms…
const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// …except a field report, which may carry a photo of up to 5 MB in Base64.
async fn limit_body(request: Request, next: Next) -> Response {
    let limit =
        if request.method() == Method::POST && request.uri().path() == api::field_reports::PATH {
            api::field_reports::BODY_LIMIT
        } else {
            BODY_LIMIT
        };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    next.run(request.map(|body| Body::new(Limited::new(body, limit))))
        .await
}

pub fn router(state: AppState) -> Router {
    // Installed before the first request: the jobs record their runs too.
    let _ = ops::prometheus();
    let (api_routes, document) = documented_routes().split_for_parts();
    let document = std::sync::Arc::new(document);
    let pages = Router::new()
        .route("/", get(pages::home))
        .route("/board", get(board::board))
        .route("/board/map.svg", get(board::map))
        .route("/inbox", get(board::inbox))
        .route("/warnings", get(warnings::board))
        .route("/warnings/{id}/acknowledge", post(warnings::acknowledge))
        .route("/warnings/{id}/close", post(warnings::close))
        .route("/unit", get(units::page))
        .route("/tasks", get(tasks::list))
        .route("/tasks/{id}", get(tasks::show).post(tasks::record))
        .route("/disputes", get(disputes::list))
        .route("/disputes/{id}", get(disputes::case))
        .route("/field-reports", get(field_reports::page))
        .route("/overview", get(overview::page))
        .route("/overview/records", get(overview::records))
        .route("/signin", get(pages::sign_in_form).post(pages::sign_in))
        .route("/signout", post(pages::sign_out))
        .route("/lang/{code}", get(pages::switch_language))
        .route("/assets/{*path}", get(assets::serve))
        .route("/r/track", get(report::track))
        .route("/r/{plate}", get(report::form).post(report::submit))
        .route(
            "/open311/v2/services/{file}",
            get(crate::adapters::open311::service_definition),
        )
        .route(
            "/open311/v2/requests/{file}",
            get(crate::adapters::open311::get_request),
        );
    Router::new()
        .merge(api_routes)
        .route(
            "/api/openapi.json",
            get(move || {
                let document = document.clone();
                async move { axum::Json(document.as_ref().clone()) }
            }),
        )
        .merge(pages)
        .fallback(|| async { ApiError::from(Error::NotFound) })
        .layer(middleware::from_fn(render_problems))
        .layer(middleware::from_fn(ops::record_metrics))
        .layer(middleware::from_fn(limit_body))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
