//! The organisation tree within the caller's jurisdiction.

use std::str::FromStr;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::label::Label;
use fengqiao_core::org::{DivisionCode, NewOrganisation, OrgKind, Organisation};
use fengqiao_core::role::Permission;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Problem};
use crate::json::ApiJson;
use crate::services::access::Caller;
use crate::services::organisations::{self, visible};
use crate::services::Error;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct OrganisationView {
    id: i64,
    parent_id: Option<i64>,
    kind: String,
    /// The kind in Chinese, e.g. 派出所.
    kind_name: String,
    department_type: Option<String>,
    name: String,
    division_codes: Vec<String>,
}

impl From<&Organisation> for OrganisationView {
    fn from(org: &Organisation) -> Self {
        OrganisationView {
            id: org.id,
            parent_id: org.parent_id,
            kind: org.kind.as_str().into(),
            kind_name: org.kind.zh().into(),
            department_type: org.department_type.clone(),
            name: org.name.clone(),
            division_codes: org
                .division_codes
                .iter()
                .map(|c| c.as_str().into())
                .collect(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganisation {
    parent_id: i64,
    kind: String,
    department_type: Option<String>,
    name: String,
    #[serde(default)]
    division_codes: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganisation {
    name: Option<String>,
    division_codes: Option<Vec<String>>,
}

fn parse_codes(codes: &[String]) -> Result<Vec<DivisionCode>, FieldError> {
    codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            DivisionCode::parse(code)
                .map_err(|e| FieldError::new(format!("division_codes[{i}]"), e.reason))
        })
        .collect()
}

/// The caller's organisation and everything below it.
#[utoipa::path(get, path = "/api/v1/organisations",
    responses((status = 200, body = [OrganisationView]), (status = 401, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<OrganisationView>>> {
    caller.require(Permission::ViewOrganisations)?;
    let orgs = state.store.organisations_within(caller.scope()).await?;
    Ok(Json(orgs.iter().map(OrganisationView::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/organisations/{org_id}",
    params(("org_id" = i64, Path, description = "organisation id")),
    responses((status = 200, body = OrganisationView), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(org_id): Path<i64>,
) -> ApiResult<Json<OrganisationView>> {
    caller.require(Permission::ViewOrganisations)?;
    let org = visible(&state, &caller, org_id).await?;
    Ok(Json(OrganisationView::from(&org)))
}

/// Adds an organisation below one within the caller's jurisdiction.
#[utoipa::path(post, path = "/api/v1/organisations", request_body = CreateOrganisation,
    responses((status = 201, body = OrganisationView), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateOrganisation>,
) -> ApiResult<(StatusCode, Json<OrganisationView>)> {
    caller.require(Permission::ManageOrganisations)?;
    let mut errors = Vec::new();
    let kind = OrgKind::from_str(&body.kind)
        .map_err(|e| errors.push(e))
        .ok();
    let name = NewOrganisation::validate_name(&body.name)
        .map_err(|e| errors.push(e))
        .ok();
    let codes = parse_codes(&body.division_codes)
        .map_err(|e| errors.push(e))
        .ok();
    let parent = visible(&state, &caller, body.parent_id).await.ok();
    if parent.is_none() {
        errors.push(FieldError::new("parent_id", Reason::NotFound));
    }
    let (Some(kind), Some(name), Some(codes), Some(parent)) = (kind, name, codes, parent) else {
        return Err(ApiError::from(Error::Validation(errors)));
    };
    let new = NewOrganisation {
        parent_id: Some(parent.id),
        kind,
        department_type: body.department_type.filter(|t| !t.trim().is_empty()),
        name,
        division_codes: codes,
    };
    let org = organisations::create(&state, &caller, &new).await?;
    Ok((StatusCode::CREATED, Json(OrganisationView::from(&org))))
}

/// Renames an organisation or changes its jurisdiction.
#[utoipa::path(patch, path = "/api/v1/organisations/{org_id}", request_body = UpdateOrganisation,
    params(("org_id" = i64, Path, description = "organisation id")),
    responses((status = 200, body = OrganisationView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(org_id): Path<i64>,
    ApiJson(body): ApiJson<UpdateOrganisation>,
) -> ApiResult<Json<OrganisationView>> {
    caller.require(Permission::ManageOrganisations)?;
    let mut org = visible(&state, &caller, org_id).await?;
    if let Some(name) = &body.name {
        org.name = NewOrganisation::validate_name(name)?;
    }
    if let Some(codes) = &body.division_codes {
        org.division_codes = parse_codes(codes)?;
    }
    organisations::update(&state, &caller, &org).await?;
    Ok(Json(OrganisationView::from(&org)))
}
