//! The JSON API. Every route is registered through `OpenApiRouter::routes`,
//! so the OpenAPI document at `/api/openapi.json` is generated from the same
//! code that serves the route and cannot miss one.

mod addresses;
mod audit;
pub(crate) mod disputes;
pub(crate) mod field_reports;
pub(crate) mod figures;
pub(crate) mod incidents;
mod live;
pub(crate) mod ops;
mod organisations;
mod routing_rules;
mod session;
pub(crate) mod tasks;
mod tokens;
mod units;
mod users;
pub(crate) mod warnings;
pub(crate) mod work_orders;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::http::{HeaderMap, StatusCode};
use fengqiao_core::error::{FieldError, Reason};

use crate::error::ApiResult;
use crate::services::idempotency::{Outcome, IDEMPOTENCY_KEY};
use crate::state::AppState;

const MAX_KEY_CHARS: usize = 200;

/// Operations tagged with this need no sign-in; every other one does.
pub const PUBLIC_TAG: &str = "public";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fengqiao 枫桥 API",
        description = "基层治理与社区警务平台接口。People sign in for a session cookie; machine clients send `Authorization: Bearer fqt_…`. Errors are RFC 9457 problem documents in the language of `Accept-Language` (Chinese by default).",
    ),
    modifiers(&SecuritySchemes),
    security(("session" = []), ("api_token" = [])),
    components(schemas(crate::error::Problem, crate::error::ProblemField)),
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
        components.add_security_scheme(
            "api_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::sign_in, session::sign_out))
        .routes(routes!(session::me))
        .routes(routes!(organisations::list, organisations::create))
        .routes(routes!(organisations::get, organisations::update))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update))
        .routes(routes!(users::unlock))
        .routes(routes!(users::reset_password))
        .routes(routes!(users::reveal_personal_data))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(addresses::resolve))
        .routes(routes!(addresses::list_grids))
        .routes(routes!(addresses::get_grid))
        .routes(routes!(addresses::set_responsibility))
        .routes(routes!(addresses::get_building))
        .routes(routes!(addresses::plate_svg))
        .routes(routes!(addresses::plate_png))
        .routes(routes!(incidents::list, incidents::report))
        .routes(routes!(incidents::preview))
        .routes(routes!(incidents::settle))
        .routes(routes!(incidents::take_in_field_report))
        .routes(routes!(incidents::get))
        .routes(routes!(incidents::override_triage))
        .routes(routes!(incidents::route))
        .routes(routes!(incidents::owners))
        .routes(routes!(incidents::dispatch))
        .routes(routes!(incidents::feedback))
        .routes(routes!(units::recommendations))
        .routes(routes!(units::dispatch_units))
        .routes(routes!(units::request_reinforcement))
        .routes(routes!(units::eido_export))
        .routes(routes!(units::list, units::register))
        .routes(routes!(units::mine))
        .routes(routes!(units::report_positions))
        .routes(routes!(units::get))
        .routes(routes!(units::set_crew))
        .routes(routes!(units::set_status))
        .routes(routes!(units::resolve))
        .routes(routes!(units::track))
        .routes(routes!(units::reinforcements))
        .routes(routes!(units::reinforcement))
        .routes(routes!(units::decide))
        .routes(routes!(work_orders::list))
        .routes(routes!(work_orders::get))
        .routes(routes!(work_orders::accept))
        .routes(routes!(work_orders::start))
        .routes(routes!(work_orders::return_result))
        .routes(routes!(work_orders::reject))
        .routes(routes!(work_orders::confirm))
        .routes(routes!(routing_rules::list))
        .routes(routes!(routing_rules::set))
        .routes(routes!(live::stream))
        .routes(routes!(figures::get))
        .routes(routes!(figures::get_prevention))
        .routes(routes!(figures::get_overview))
        .routes(routes!(disputes::list, disputes::register))
        .routes(routes!(disputes::get))
        .routes(routes!(disputes::add_session))
        .routes(routes!(disputes::record_agreement))
        .routes(routes!(disputes::fail))
        .routes(routes!(disputes::transfer))
        .routes(routes!(disputes::record_follow_up))
        .routes(routes!(disputes::close))
        .routes(routes!(disputes::link_incident))
        .routes(routes!(warnings::list))
        .routes(routes!(warnings::get))
        .routes(routes!(warnings::acknowledge))
        .routes(routes!(warnings::close))
        .merge(field_report_routes())
        .routes(routes!(tasks::mine, tasks::assign))
        .routes(routes!(tasks::station))
        .routes(routes!(tasks::generate))
        .routes(routes!(tasks::get))
        .routes(routes!(tasks::done))
        .routes(routes!(audit::entries))
        .routes(routes!(audit::verify))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
}

/// Field reports, whose filing may carry a photo: the one route allowed a
/// body over axum's default limit (`app.rs` raises the outer one to match).
fn field_report_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(field_reports::list, field_reports::file))
        .layer(axum::extract::DefaultBodyLimit::max(
            field_reports::BODY_LIMIT,
        ))
        .routes(routes!(field_reports::get))
        .routes(routes!(field_reports::photo))
}

/// The key as sent: 1 to 200 visible ASCII characters.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim();
    let valid =
        !key.is_empty() && key.len() <= MAX_KEY_CHARS && key.bytes().all(|b| b.is_ascii_graphic());
    if !valid {
        return Err(FieldError::new(
            IDEMPOTENCY_KEY,
            Reason::InvalidFormat {
                expected: "idempotency_key",
            },
        )
        .into());
    }
    Ok(Some(key.to_owned()))
}

/// 201 for a record a request made, 200 for the one its key (or its
/// source, or the same request before) already made.
pub(crate) fn created_or_found(outcome: Outcome) -> StatusCode {
    match outcome {
        Outcome::Created => StatusCode::CREATED,
        Outcome::Replayed => StatusCode::OK,
    }
}
