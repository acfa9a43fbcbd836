//! 分流规则: which organisation takes a non-police category at a place.
//! A station chief sets the rules of the places in the station's
//! jurisdiction; intake consults them before the type-based default (see
//! `routing.rs`).

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::Json;
use fengqiao_core::category::CategoryCode;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::incident::Group;
use fengqiao_core::org::DivisionCode;
use fengqiao_core::role::Permission;
use fengqiao_store::RoutingRule;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Problem};
use crate::json::ApiJson;
use crate::services::access::Caller;
use crate::services::format::rfc3339;
use crate::services::routing::{self, may_handle, triage};
use crate::services::Error;
use crate::state::AppState;

const MAX_RULES: usize = 200;

#[derive(Serialize, ToSchema)]
pub struct RoutingRuleView {
    category: String,
    /// The category's Chinese name.
    category_name: String,
    /// The place: a division code and everything below it.
    division_code: String,
    org_id: i64,
    org_name: String,
    updated_at: String,
}

async fn views(
    state: &AppState,
    caller: &Caller,
    rules: Vec<RoutingRule>,
) -> ApiResult<Vec<RoutingRuleView>> {
    let mut out = Vec::new();
    for rule in rules
        .into_iter()
        .filter(|r| caller.covers(r.division_code.as_str()))
    {
        let org_name = state
            .store
            .organisation(rule.org_id)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        let category_name = triage()
            .table()
            .category(rule.category.as_str())
            .map(|c| c.name_zh.clone())
            .unwrap_or_default();
        out.push(RoutingRuleView {
            category: rule.category.as_str().into(),
            category_name,
            division_code: rule.division_code.as_str().into(),
            org_id: rule.org_id,
            org_name,
            updated_at: rfc3339(rule.updated_at),
        });
    }
    Ok(out)
}

/// The routing rules of the places in the caller's jurisdiction.
#[utoipa::path(get, path = "/api/v1/routing-rules",
    responses((status = 200, body = [RoutingRuleView]), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<RoutingRuleView>>> {
    caller.require(Permission::ManageRoutingRules)?;
    let rules = state.store.routing_rules().await?;
    Ok(Json(views(&state, &caller, rules).await?))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// A division code within the caller's jurisdiction.
    division_code: String,
    /// A department or governance centre serving that place, or an
    /// organisation within the caller's jurisdiction.
    org_id: i64,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRoutingRules {
    /// The category's rules for the caller's places; the ones there before
    /// are replaced, other jurisdictions' are kept. An empty list removes
    /// them.
    rules: Vec<RuleInput>,
}

/// Sets a non-police category's rules for the caller's jurisdiction.
#[utoipa::path(put, path = "/api/v1/routing-rules/{category}", request_body = SetRoutingRules,
    params(("category" = String, Path, description = "category code of the triage table")),
    responses((status = 200, body = [RoutingRuleView]), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn set(
    State(state): State<AppState>,
    caller: Caller,
    Path(category): Path<String>,
    ApiJson(body): ApiJson<SetRoutingRules>,
) -> ApiResult<Json<Vec<RoutingRuleView>>> {
    caller.require(Permission::ManageRoutingRules)?;
    let entry = triage()
        .table()
        .category(&category)
        .ok_or(Error::NotFound)?;
    if entry.group == Group::Police {
        // Police work always goes to the command room.
        return Err(FieldError::new(
            "category",
            Reason::Conflict {
                detail: "police_category",
            },
        )
        .into());
    }
    let code = CategoryCode::parse("category", &entry.code)?;
    if body.rules.len() > MAX_RULES {
        return Err(FieldError::new("rules", Reason::TooLong { max: MAX_RULES }).into());
    }
    let mut errors = Vec::new();
    let mut rules = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, input) in body.rules.iter().enumerate() {
        let field = |name: &str| format!("rules[{i}].{name}");
        let place = match DivisionCode::parse(&input.division_code) {
            Ok(place) if caller.covers(place.as_str()) => place,
            Ok(_) => {
                errors.push(FieldError::new(field("division_code"), Reason::NotFound));
                continue;
            }
            Err(mut e) => {
                e.field = field("division_code");
                errors.push(e);
                continue;
            }
        };
        if !seen.insert(place.significant().to_owned()) {
            errors.push(FieldError::new(
                field("division_code"),
                Reason::AlreadyExists,
            ));
            continue;
        }
        match state.store.organisation(input.org_id).await? {
            Some(org) if may_handle(&caller, &org, Some(&place)) => rules.push((place, org.id)),
            _ => errors.push(FieldError::new(field("org_id"), Reason::NotFound)),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::from(Error::Validation(errors)));
    }
    let rules = routing::replace_rules(&state, &caller, &code, &rules).await?;
    Ok(Json(views(&state, &caller, rules).await?))
}
