//! Accounts within the caller's jurisdiction. Names and phone numbers are
//! personal data: stored encrypted, shown masked, revealed only with a reason
//! that is audited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use fengqiao_core::audit::AuditAction;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::personal::{PersonalData, PersonalDataCipher};
use fengqiao_core::role::{Permission, Role, Roles};
use fengqiao_core::user::{Password, Username};
use fengqiao_store::StoredUser;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Problem};
use crate::json::ApiJson;
use crate::services::access::Caller;
use crate::services::accounts::{self, NewAccount};
use crate::services::audit;
use crate::services::format::rfc3339;
use crate::services::organisations::visible;
use crate::services::Error;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct UserView {
    id: i64,
    username: String,
    org_id: i64,
    roles: Vec<String>,
    disabled: bool,
    locked: bool,
    /// Masked: 张*.
    full_name: Option<String>,
    /// Masked: 138****5678.
    phone: Option<String>,
    created_at: String,
}

/// Decrypts a stored value for masking or revealing. A value that cannot be
/// decrypted is a server fault (wrong key), never shown.
fn decrypt(
    cipher: &PersonalDataCipher,
    stored: &Option<Vec<u8>>,
) -> crate::services::Result<Option<PersonalData>> {
    stored
        .as_deref()
        .map(|bytes| {
            cipher
                .decrypt(bytes)
                .map_err(|e| Error::Internal(e.to_string()))
        })
        .transpose()
}

impl UserView {
    pub(crate) fn of(stored: &StoredUser, cipher: &PersonalDataCipher) -> ApiResult<UserView> {
        let user = &stored.user;
        Ok(UserView {
            id: user.id,
            username: user.username.as_str().into(),
            org_id: user.org_id,
            roles: user.roles.iter().map(|r| r.as_str().into()).collect(),
            disabled: user.disabled,
            locked: user.locked_at.is_some(),
            full_name: decrypt(cipher, &stored.full_name)?.map(|v| v.masked()),
            phone: decrypt(cipher, &stored.phone)?.map(|v| v.masked()),
            created_at: rfc3339(user.created_at),
        })
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    username: String,
    password: String,
    org_id: i64,
    roles: Vec<String>,
    full_name: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// Needs `assign_roles` (the security administrator).
    roles: Option<Vec<String>>,
    /// `true` disables the account and ends its sessions; needs `manage_users`.
    disabled: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    /// Why the full values are needed; kept in the audit log.
    reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct PersonalDataView {
    full_name: Option<String>,
    phone: Option<String>,
}

fn parse_roles(names: &[String]) -> Result<Roles, FieldError> {
    let roles = names
        .iter()
        .map(|name| name.parse::<Role>())
        .collect::<Result<Vec<_>, _>>()?;
    Roles::new(roles)
}

fn grants_separated_duty(roles: &Roles) -> bool {
    roles.iter().any(|r| {
        matches!(
            r,
            Role::Administrator | Role::SecurityAdministrator | Role::Auditor
        )
    })
}

/// An account the caller may see, or 404 as if it did not exist.
async fn visible_user(state: &AppState, caller: &Caller, id: i64) -> ApiResult<StoredUser> {
    let stored = state.store.user(id).await?.ok_or(Error::NotFound)?;
    visible(state, caller, stored.user.org_id).await?;
    Ok(stored)
}

#[utoipa::path(get, path = "/api/v1/users",
    responses((status = 200, body = [UserView]), (status = 403, body = Problem)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<UserView>>> {
    caller.require(Permission::ViewUsers)?;
    let users = state.store.users_within(caller.scope().as_str()).await?;
    let views = users
        .iter()
        .map(|u| UserView::of(u, &state.cipher))
        .collect::<ApiResult<_>>()?;
    Ok(Json(views))
}

#[utoipa::path(get, path = "/api/v1/users/{user_id}",
    params(("user_id" = i64, Path, description = "account id")),
    responses((status = 200, body = UserView), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<i64>,
) -> ApiResult<Json<UserView>> {
    caller.require(Permission::ViewUsers)?;
    let stored = visible_user(&state, &caller, user_id).await?;
    Ok(Json(UserView::of(&stored, &state.cipher)?))
}

/// Creates an account in an organisation within the caller's jurisdiction.
/// Granting administrator, security administrator or auditor also needs
/// `assign_roles`, so no single person can create the account that audits them.
#[utoipa::path(post, path = "/api/v1/users", request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    caller.require(Permission::ManageUsers)?;
    let mut errors = Vec::new();
    let username = Username::parse(&body.username)
        .map_err(|e| errors.push(e))
        .ok();
    let password = Password::parse(&body.password)
        .map_err(|e| errors.push(e))
        .ok();
    let roles = parse_roles(&body.roles).map_err(|e| errors.push(e)).ok();
    let full_name = body
        .full_name
        .as_deref()
        .map(|n| PersonalData::name("full_name", n))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let phone = body
        .phone
        .as_deref()
        .map(|p| PersonalData::phone("phone", p))
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if visible(&state, &caller, body.org_id).await.is_err() {
        errors.push(FieldError::new("org_id", Reason::NotFound));
    }
    let (Some(username), Some(password), Some(roles), true) =
        (username, password, roles, errors.is_empty())
    else {
        return Err(ApiError::from(Error::Validation(errors)));
    };
    if grants_separated_duty(&roles) {
        caller.require(Permission::AssignRoles)?;
    }
    let account = NewAccount {
        username,
        password,
        org_id: body.org_id,
        roles,
        full_name,
        phone,
    };
    let id = accounts::create(&state, account, caller.audit(AuditAction::Create, "user")).await?;
    let stored = state.store.user(id).await?.ok_or(Error::NotFound)?;
    Ok((
        StatusCode::CREATED,
        Json(UserView::of(&stored, &state.cipher)?),
    ))
}

/// Changes an account's roles or disables it.
#[utoipa::path(patch, path = "/api/v1/users/{user_id}", request_body = UpdateUser,
    params(("user_id" = i64, Path, description = "account id")),
    responses((status = 200, body = UserView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<i64>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> ApiResult<Json<UserView>> {
    if body.roles.is_some() {
        caller.require(Permission::AssignRoles)?;
    }
    if body.disabled.is_some() {
        caller.require(Permission::ManageUsers)?;
    }
    if body.roles.is_none() && body.disabled.is_none() {
        caller.require(Permission::ViewUsers)?;
    }
    let stored = visible_user(&state, &caller, user_id).await?;
    let own = caller.user.as_ref().is_some_and(|u| u.id == user_id);
    let roles = body.roles.as_deref().map(parse_roles).transpose()?;
    if own && (roles.is_some() || body.disabled == Some(true)) {
        return Err(ApiError::from(Error::field(FieldError::new(
            if roles.is_some() { "roles" } else { "disabled" },
            Reason::Conflict {
                detail: "own_account",
            },
        ))));
    }
    let disable = body.disabled == Some(true) && !stored.user.disabled;
    let stored = accounts::change(&state, &caller, user_id, roles.as_ref(), disable).await?;
    Ok(Json(UserView::of(&stored, &state.cipher)?))
}

/// Lifts the lock that failed sign-ins put on an account.
#[utoipa::path(post, path = "/api/v1/users/{user_id}/unlock",
    params(("user_id" = i64, Path, description = "account id")),
    responses((status = 200, body = UserView), (status = 404, body = Problem)))]
pub async fn unlock(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<i64>,
) -> ApiResult<Json<UserView>> {
    caller.require(Permission::UnlockUsers)?;
    visible_user(&state, &caller, user_id).await?;
    let stored = accounts::unlock(&state, &caller, user_id).await?;
    Ok(Json(UserView::of(&stored, &state.cipher)?))
}

/// Sets a new password; the account's sessions end.
#[utoipa::path(post, path = "/api/v1/users/{user_id}/password", request_body = ResetPassword,
    params(("user_id" = i64, Path, description = "account id")),
    responses((status = 204, description = "Password changed"), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<i64>,
    ApiJson(body): ApiJson<ResetPassword>,
) -> ApiResult<StatusCode> {
    caller.require(Permission::ManageUsers)?;
    visible_user(&state, &caller, user_id).await?;
    let password = Password::parse(&body.password)?;
    let by = caller.audit(AuditAction::PasswordReset, "user");
    accounts::set_password(&state, user_id, password, by).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Shows an account's name and phone number in full. The reason is required
/// and goes into the audit log with the view.
#[utoipa::path(post, path = "/api/v1/users/{user_id}/personal-data", request_body = RevealRequest,
    params(("user_id" = i64, Path, description = "account id")),
    responses((status = 200, body = PersonalDataView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reveal_personal_data(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<i64>,
    ApiJson(body): ApiJson<RevealRequest>,
) -> ApiResult<Json<PersonalDataView>> {
    caller.require(Permission::UnmaskPersonalData)?;
    let stored = visible_user(&state, &caller, user_id).await?;
    let reason = body.reason.trim();
    let length = reason.chars().count();
    if length < 2 {
        return Err(FieldError::new("reason", Reason::TooShort { min: 2 }).into());
    }
    if length > 200 {
        return Err(FieldError::new("reason", Reason::TooLong { max: 200 }).into());
    }
    let view = PersonalDataView {
        full_name: decrypt(&state.cipher, &stored.full_name)?.map(|v| v.reveal().to_owned()),
        phone: decrypt(&state.cipher, &stored.phone)?.map(|v| v.reveal().to_owned()),
    };
    let event = caller
        .audit(AuditAction::ViewPersonalData, "user")
        .object(user_id)
        .detail(reason);
    audit::record(&state, &event).await?;
    Ok(Json(view))
}
