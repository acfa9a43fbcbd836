//! 统计: the figures of an organisation and period, for people who steer the
//! work (station chiefs, analysts). What each figure means is defined once in
//! `fengqiao_core::figures` and repeated in the OpenAPI description below.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::Json;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::figures::{self, Minutes, Rate};
use fengqiao_core::role::Permission;
use fengqiao_core::Timestamp;
use fengqiao_store::Narrowing;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, Problem};
use crate::services::access::Caller;
use crate::services::format::{parse_time, rfc3339};
use crate::services::{organisations, Error};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
pub struct FiguresQuery {
    /// The organisation whose subtree is counted; within the caller's
    /// jurisdiction. Default: the caller's own organisation.
    pub(crate) org_id: Option<String>,
    /// Start of the period (inclusive), RFC 3339, e.g. 2026-11-01T00:00:00+08:00.
    pub(crate) from: Option<String>,
    /// End of the period (exclusive), RFC 3339; after `from`.
    pub(crate) to: Option<String>,
}

/// A count over its denominator and their share (null when the denominator is 0).
#[derive(Serialize, ToSchema)]
pub struct RateView {
    count: u64,
    of: u64,
    rate: Option<f64>,
}

impl From<Rate> for RateView {
    fn from(r: Rate) -> Self {
        RateView {
            count: r.count,
            of: r.of,
            rate: r.rate,
        }
    }
}

/// Durations in minutes.
#[derive(Serialize, ToSchema)]
pub struct MinutesView {
    /// How many work orders the figure is over.
    count: u64,
    mean: Option<f64>,
    /// 90th percentile, nearest rank.
    p90: Option<f64>,
}

impl From<Minutes> for MinutesView {
    fn from(m: Minutes) -> Self {
        MinutesView {
            count: m.count,
            mean: m.mean,
            p90: m.p90,
        }
    }
}

/// 5分钟到达: units' arrivals at the incidents of the period.
#[derive(Serialize, ToSchema)]
pub struct ArrivalView {
    /// Incidents whose first unit arrived within 5 minutes of receipt ÷
    /// incidents a unit was sent to (one still on its way counts once 5
    /// minutes have passed).
    within_standard: RateView,
    /// Receipt → first unit on scene, over incidents a unit reached.
    time_to_arrival: MinutesView,
}

impl From<figures::ArrivalFigure> for ArrivalView {
    fn from(a: figures::ArrivalFigure) -> Self {
        ArrivalView {
            within_standard: a.within_standard.into(),
            time_to_arrival: a.time_to_arrival.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SatisfactionView {
    /// Incidents with an answer from the caller.
    count: u64,
    /// Mean of each incident's latest answer, 1 to 5.
    mean: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct FiguresView {
    org_id: i64,
    from: String,
    to: String,
    /// Incidents received in the period that concern the organisation's
    /// subtree (received by a station in it, handled by or sent as a work
    /// order to an organisation in it).
    incidents: u64,
    /// police, non_police, untriaged → incidents.
    by_group: BTreeMap<String, u64>,
    /// Category code → incidents (untriaged ones are not counted here).
    by_category: BTreeMap<String, u64>,
    /// 非警务分流率: non-police incidents with at least one work order ÷
    /// non-police incidents.
    diversion: RateView,
    /// 联动处置率: incidents whose work orders (rejected ones not counted)
    /// go to more than one organisation ÷ incidents with a work order.
    linked_handling: RateView,
    /// 就地化解率: incidents now resolved or closed that never had a work
    /// order ÷ all incidents.
    on_scene_resolution: RateView,
    /// 重复报警率: incidents linked as repeats of earlier ones ÷ all incidents.
    repeat_calls: RateView,
    /// Work order created → accepted, over those accepted.
    time_to_accept: MinutesView,
    /// Work order created → returned with a result, over those returned.
    time_to_finish: MinutesView,
    /// Work orders of these incidents.
    work_orders: u64,
    /// 超期工单: work orders accepted after the accept deadline, returned
    /// after the finish deadline, or past a deadline now and still not
    /// accepted or returned.
    overdue_work_orders: u64,
    /// 满意度: the caller's latest answer per incident.
    satisfaction: SatisfactionView,
    /// 民警5分钟到达率: police units.
    police_arrival: ArrivalView,
    /// 综治路面力量5分钟到达率: the street patrol force, counted apart.
    street_arrival: ArrivalView,
    /// 现场处置率: incidents a unit resolved on scene ÷ incidents a unit
    /// arrived at.
    resolved_on_scene: RateView,
}

/// The query checked field by field: every wrong one is named at once.
pub(crate) fn parse_query(query: &FiguresQuery) -> ApiResult<(Option<i64>, Timestamp, Timestamp)> {
    let mut errors = Vec::new();
    let org_id = match query.org_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => match text.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new(
                    "org_id",
                    Reason::InvalidFormat {
                        expected: "integer",
                    },
                ));
                None
            }
        },
    };
    let from = parse_time("from", query.from.as_deref()).map_err(|e| errors.push(e));
    let to = parse_time("to", query.to.as_deref()).map_err(|e| errors.push(e));
    if let (Ok(from), Ok(to)) = (from, to) {
        if to <= from {
            errors.push(FieldError::new(
                "to",
                Reason::Conflict {
                    detail: "period_order",
                },
            ));
        }
    }
    match (from, to) {
        (Ok(from), Ok(to)) if errors.is_empty() => Ok((org_id, from, to)),
        _ => Err(ApiError::from(Error::Validation(errors))),
    }
}

/// 统计: the figures of the incidents an organisation's subtree received in
/// a period — counts by group and category, non-police diversion rate,
/// linked-handling rate, on-scene resolution rate, repeat-call rate, mean and
/// 90th-percentile minutes to accept and to finish work orders, overdue work
/// orders and callers' satisfaction. Each field's description gives its exact
/// definition. An organisation outside the caller's jurisdiction is a 404.
#[utoipa::path(get, path = "/api/v1/figures", params(FiguresQuery),
    responses((status = 200, body = FiguresView), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<FiguresQuery>,
) -> ApiResult<Json<FiguresView>> {
    caller.require(Permission::ViewFigures)?;
    let (org_id, from, to) = parse_query(&query)?;
    let org = organisations::in_jurisdiction(&state, &caller, org_id).await?;
    let facts = state
        .store
        .figure_facts(org.path.as_str(), from, to)
        .await?;
    let f = figures::compute(&facts, state.clock.now());
    Ok(Json(FiguresView {
        org_id: org.id,
        from: rfc3339(from),
        to: rfc3339(to),
        incidents: f.incidents,
        by_group: f.by_group,
        by_category: f.by_category,
        diversion: f.diversion.into(),
        linked_handling: f.linked_handling.into(),
        on_scene_resolution: f.on_scene_resolution.into(),
        repeat_calls: f.repeat_calls.into(),
        time_to_accept: f.time_to_accept.into(),
        time_to_finish: f.time_to_finish.into(),
        work_orders: f.work_orders,
        overdue_work_orders: f.overdue_work_orders,
        satisfaction: SatisfactionView {
            count: f.satisfaction.count,
            mean: f.satisfaction.mean,
        },
        police_arrival: f.police_arrival.into(),
        street_arrival: f.street_arrival.into(),
        resolved_on_scene: f.resolved_on_scene.into(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct PreventionQuery {
    /// The organisation whose subtree is counted; within the caller's
    /// jurisdiction. Default: the caller's own organisation.
    org_id: Option<String>,
    /// Start of the period (inclusive), RFC 3339.
    from: Option<String>,
    /// End of the period (exclusive), RFC 3339; after `from`.
    to: Option<String>,
    /// Only the work of this community officer (user id): the cases they
    /// answer for, the warnings and field reports of their grids, their tasks.
    officer_user_id: Option<String>,
    /// Only this grid: cases and field reports at its buildings, warnings
    /// whose subject lies in it, the tasks of its officer and grid workers.
    grid_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PreventionView {
    org_id: i64,
    from: String,
    to: String,
    officer_user_id: Option<i64>,
    grid_id: Option<i64>,
    /// 排查: field reports of kind dispute filed in the period.
    disputes_screened: u64,
    /// Of those, the ones registered as a dispute case.
    screened_registered: u64,
    /// 登记: dispute cases registered in the period (any source); the rates
    /// below are over these cases as they stand now.
    disputes_registered: u64,
    /// 调解成功率: cases ended with an agreement ÷ cases whose mediation
    /// ended (agreement, failure or transfer).
    mediation_success: RateView,
    /// 按期化解率: cases ended with an agreement recorded by the risk
    /// level's mediation deadline (critical 1, high 3, medium 7, low 15
    /// days after registration) ÷ cases whose mediation ended or whose
    /// deadline has passed.
    resolved_within_deadline: RateView,
    /// 回访履约率: follow-up visits recorded as holding ÷ visits recorded.
    follow_ups_holding: RateView,
    /// 预警按期处置率: warnings raised in the period now closed and
    /// acknowledged by their deadline ÷ warnings raised in the period.
    warnings_closed_on_time: RateView,
    /// 任务按期完成率: tasks done on their own day ÷ tasks for the China
    /// days that start in the period (withdrawn ones not counted).
    tasks_done_on_time: RateView,
    /// 未化解纠纷: cases registered in the period whose mediation has not
    /// ended (registered or mediating), by risk level (low, medium, high,
    /// critical; every level present).
    open_disputes_by_risk: BTreeMap<String, u64>,
    /// 超时预警: warnings raised in the period still not acknowledged,
    /// past their acknowledge-by time.
    warnings_overdue: u64,
}

fn parse_id(field: &'static str, text: Option<&str>, errors: &mut Vec<FieldError>) -> Option<i64> {
    match text.map(str::trim) {
        None | Some("") => None,
        Some(text) => text
            .parse::<i64>()
            .map_err(|_| {
                errors.push(FieldError::new(
                    field,
                    Reason::InvalidFormat {
                        expected: "integer",
                    },
                ))
            })
            .ok(),
    }
}

/// 矛盾纠纷预防化解统计: the prevention figures of an organisation's subtree
/// and period, optionally of one community officer or one grid — disputes
/// screened and registered, mediation success rate, share resolved within
/// the deadline, agreements holding at follow-up, warnings closed on time,
/// tasks done on time. Each field's description gives its exact definition.
/// An organisation outside the caller's jurisdiction is a 404.
#[utoipa::path(get, path = "/api/v1/figures/prevention", params(PreventionQuery),
    responses((status = 200, body = PreventionView), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_prevention(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PreventionQuery>,
) -> ApiResult<Json<PreventionView>> {
    caller.require(Permission::ViewFigures)?;
    let base = parse_query(&FiguresQuery {
        org_id: query.org_id.clone(),
        from: query.from.clone(),
        to: query.to.clone(),
    });
    let mut errors = Vec::new();
    let narrowing = Narrowing {
        officer_user_id: parse_id(
            "officer_user_id",
            query.officer_user_id.as_deref(),
            &mut errors,
        ),
        grid_id: parse_id("grid_id", query.grid_id.as_deref(), &mut errors),
    };
    let (org_id, from, to) = match base {
        Ok(parsed) if errors.is_empty() => parsed,
        Ok(_) => return Err(ApiError::from(Error::Validation(errors))),
        Err(ApiError::Refused(Error::Validation(mut first))) => {
            first.extend(errors);
            return Err(ApiError::from(Error::Validation(first)));
        }
        Err(other) => return Err(other),
    };
    let org = organisations::in_jurisdiction(&state, &caller, org_id).await?;
    let facts = state
        .store
        .prevention_facts(org.path.as_str(), from, to, narrowing)
        .await?;
    let f = figures::compute_prevention(&facts, state.clock.now());
    Ok(Json(PreventionView {
        org_id: org.id,
        from: rfc3339(from),
        to: rfc3339(to),
        officer_user_id: narrowing.officer_user_id,
        grid_id: narrowing.grid_id,
        disputes_screened: f.disputes_screened,
        screened_registered: f.screened_registered,
        disputes_registered: f.disputes_registered,
        mediation_success: f.mediation_success.into(),
        resolved_within_deadline: f.resolved_within_deadline.into(),
        follow_ups_holding: f.follow_ups_holding.into(),
        warnings_closed_on_time: f.warnings_closed_on_time.into(),
        tasks_done_on_time: f.tasks_done_on_time.into(),
        open_disputes_by_risk: f.open_disputes_by_risk,
        warnings_overdue: f.warnings_overdue,
    }))
}

/// A department's overdue work orders.
#[derive(Serialize, ToSchema)]
pub struct DepartmentOverdue {
    name: String,
    /// Its work orders among `overdue_work_orders` of `/api/v1/figures`.
    count: u64,
}

/// A building's incidents in the period.
#[derive(Serialize, ToSchema)]
pub struct BuildingFigure {
    /// Compound (or road and number) and building, e.g. 锦里小区3栋.
    label: String,
    grid_id: Option<i64>,
    /// WGS-84; null while the building is not located.
    lat: Option<f64>,
    lon: Option<f64>,
    /// Incidents of the period placed at this building.
    incidents: u64,
    /// Of those, the ones linked as repeats of earlier calls.
    repeats: u64,
}

#[derive(Serialize, ToSchema)]
pub struct OverviewView {
    org_id: i64,
    from: String,
    to: String,
    /// 超期工单（按部门）: owner organisation id → its overdue work orders
    /// (as `overdue_work_orders` of `/api/v1/figures` counts them; they add
    /// up to it).
    overdue_by_department: BTreeMap<i64, DepartmentOverdue>,
    /// Building id → the incidents of the period placed there (the same
    /// incidents `/api/v1/figures` counts).
    incidents_by_building: BTreeMap<i64, BuildingFigure>,
    /// 重复报警地址: buildings with at least one incident of the period
    /// linked as a repeat.
    repeat_addresses: u64,
    /// Incidents of the period placed at no registry building.
    incidents_without_building: u64,
}

/// 站情概览: what the overview page shows besides `/api/v1/figures` and
/// `/api/v1/figures/prevention` for the same organisation and period —
/// overdue work orders by owning department, incidents and repeat calls by
/// building (with coordinates, for a map), and the repeat-call addresses.
/// An organisation outside the caller's jurisdiction is a 404.
#[utoipa::path(get, path = "/api/v1/figures/overview", params(FiguresQuery),
    responses((status = 200, body = OverviewView), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_overview(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<FiguresQuery>,
) -> ApiResult<Json<OverviewView>> {
    caller.require(Permission::ViewFigures)?;
    let (org_id, from, to) = parse_query(&query)?;
    let org = organisations::in_jurisdiction(&state, &caller, org_id).await?;
    let overview = crate::services::overview::gather(&state, org, from, to).await?;
    Ok(Json(overview_view(&overview)))
}

pub(crate) fn overview_view(overview: &crate::services::overview::Overview) -> OverviewView {
    let f = &overview.figures;
    OverviewView {
        org_id: overview.org.id,
        from: rfc3339(overview.from),
        to: rfc3339(overview.to),
        overdue_by_department: f
            .overdue_by_owner
            .iter()
            .map(|(&id, &count)| {
                let name = overview.departments.get(&id).cloned().unwrap_or_default();
                (id, DepartmentOverdue { name, count })
            })
            .collect(),
        incidents_by_building: f
            .by_building
            .iter()
            .map(|(&id, &incidents)| {
                let point = overview.buildings.get(&id);
                (
                    id,
                    BuildingFigure {
                        label: point.map_or_else(|| format!("#{id}"), |p| p.label.clone()),
                        grid_id: point.and_then(|p| p.grid_id),
                        lat: point.and_then(|p| p.lat),
                        lon: point.and_then(|p| p.lon),
                        incidents,
                        repeats: f.repeats_by_building.get(&id).copied().unwrap_or(0),
                    },
                )
            })
            .collect(),
        repeat_addresses: overview.repeat_addresses(),
        incidents_without_building: overview.incidents_without_building(),
    }
}
