//! API tokens for machine clients, issued by an administrator.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::role::{token_permissions, Permission};
use fengqiao_store::ApiToken;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Problem};
use crate::json::ApiJson;
use crate::services::access::Caller;
use crate::services::format::rfc3339;
use crate::services::organisations::visible;
use crate::services::tokens;
use crate::services::Error;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct TokenView {
    id: i64,
    name: String,
    org_id: i64,
    permissions: Vec<String>,
    created_at: String,
    revoked_at: Option<String>,
}

impl From<&ApiToken> for TokenView {
    fn from(token: &ApiToken) -> Self {
        TokenView {
            id: token.id,
            name: token.name.clone(),
            org_id: token.org_id,
            permissions: token
                .permissions
                .iter()
                .map(|p| p.as_str().into())
                .collect(),
            created_at: rfc3339(token.created_at),
            revoked_at: token.revoked_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    token: TokenView,
    /// Shown once; only its hash is kept.
    secret: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    name: String,
    org_id: i64,
    permissions: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/tokens",
    responses((status = 200, body = [TokenView]), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<TokenView>>> {
    caller.require(Permission::ManageTokens)?;
    let tokens = state
        .store
        .api_tokens_within(caller.scope().as_str())
        .await?;
    Ok(Json(tokens.iter().map(TokenView::from).collect()))
}

/// Issues a token scoped to an organisation and a set of permissions.
#[utoipa::path(post, path = "/api/v1/tokens", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    caller.require(Permission::ManageTokens)?;
    let mut errors = Vec::new();
    let name = body.name.trim();
    if name.is_empty() {
        errors.push(FieldError::new("name", Reason::Required));
    }
    let permissions = token_permissions(&body.permissions)
        .map_err(|e| errors.push(e))
        .ok();
    if visible(&state, &caller, body.org_id).await.is_err() {
        errors.push(FieldError::new("org_id", Reason::NotFound));
    }
    let (Some(permissions), true) = (permissions, errors.is_empty()) else {
        return Err(ApiError::from(Error::Validation(errors)));
    };
    let (token, secret) = tokens::issue(&state, &caller, name, body.org_id, &permissions).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: TokenView::from(&token),
            secret,
        }),
    ))
}

/// Revokes a token at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{token_id}",
    params(("token_id" = i64, Path, description = "token id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(token_id): Path<i64>,
) -> ApiResult<StatusCode> {
    tokens::revoke(&state, &caller, token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
