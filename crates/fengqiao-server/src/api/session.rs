//! Sign-in, sign-out and who am I.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::PUBLIC_TAG;
use crate::auth::{self, ClientAddress};
use crate::error::{ApiResult, Problem};
use crate::json::ApiJson;
use crate::services::access::Caller;
use crate::services::{sessions, Error};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    /// `user:ID` for people, `token:ID` for machine clients.
    actor: String,
    username: Option<String>,
    roles: Vec<String>,
    permissions: Vec<String>,
    org_id: i64,
    org_name: String,
    org_kind: String,
}

impl Me {
    fn of(caller: &Caller) -> Me {
        Me {
            actor: caller.actor.to_stored(),
            username: caller.user.as_ref().map(|u| u.username.as_str().to_owned()),
            roles: caller
                .user
                .iter()
                .flat_map(|u| u.roles.iter().map(|r| r.as_str().to_owned()))
                .collect(),
            permissions: caller
                .permissions
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
            org_id: caller.org.id,
            org_name: caller.org.name.clone(),
            org_kind: caller.org.kind.as_str().to_owned(),
        }
    }
}

/// Signs in and sets the session cookie. Five failures within fifteen
/// minutes lock the account.
#[utoipa::path(post, path = "/api/v1/session", tag = PUBLIC_TAG, security(()),
    request_body = SignIn,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = Me),
        (status = 401, description = "Wrong username or password", body = Problem),
        (status = 423, description = "Account locked", body = Problem),
    ))]
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
    ApiJson(body): ApiJson<SignIn>,
) -> ApiResult<impl IntoResponse> {
    let previous = auth::session_secret(&headers);
    let (session, _) = sessions::sign_in(
        &state,
        &body.username,
        &body.password,
        previous.as_deref(),
        &source,
    )
    .await?;
    let caller = sessions::session_caller(&state, &session.text, source).await?;
    Ok((
        [(SET_COOKIE, auth::session_cookie(&state, &session.text))],
        Json(Me::of(&caller)),
    ))
}

/// Ends the session on the server and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session",
    responses((status = 204, description = "Signed out"), (status = 401, body = Problem)))]
pub async fn sign_out(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let secret = auth::session_secret(&headers).ok_or(Error::Unauthenticated)?;
    sessions::sign_out(&state, &caller, &secret).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(SET_COOKIE, auth::cleared_session_cookie(&state))],
    ))
}

/// The caller: account, roles, permissions and organisation.
#[utoipa::path(get, path = "/api/v1/me",
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me::of(&caller))
}
