//! The overview page (`/overview`) and the records behind its figures
//! (`/overview/records`). Server-rendered, no script: the charts are SVG
//! drawn by `chart.rs`, the choice of organisation is a plain form.

use std::collections::BTreeMap;
use std::str::FromStr;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use fengqiao_core::china_time::{self, ChinaDay};
use fengqiao_core::dispute::RiskLevel;
use fengqiao_core::figures::IncidentSelector;
use fengqiao_core::label::Label;
use fengqiao_core::role::Permission;
use fengqiao_core::Timestamp;
use fengqiao_store::Narrowing;
use serde::Deserialize;

pub(crate) mod chart;
mod geometry;

use crate::api::figures::{parse_query, FiguresQuery};
use crate::auth::ClientAddress;
use crate::error::ApiResult;
use crate::i18n::Lang;
use crate::pages::{permitted_page_caller, render};
use crate::services::access::Caller;
use crate::services::format::rfc3339;
use crate::services::organisations;
use crate::services::overview::{gather, periods, Overview, Period};
use crate::services::Error;
use crate::state::AppState;
use chart::{Bar, GridShape, Spot};
pub(crate) use chart::{Ground, Marker};

/// A figure as the page shows it, with its path in the statistics API
/// and its value as the API writes it (empty for null).
struct Figure {
    key: String,
    value: String,
    shown: String,
}

struct Tile {
    id: &'static str,
    label: &'static str,
    href: Option<String>,
    main: Option<Figure>,
    parts: Vec<Figure>,
    note: String,
}

struct Chart {
    id: &'static str,
    title: &'static str,
    /// The SVG, or `None` with `empty` said instead.
    svg: Option<String>,
    empty: &'static str,
    note: String,
}

struct PeriodView {
    key: &'static str,
    name: String,
    from: String,
    to: String,
    tiles: Vec<Tile>,
    charts: Vec<Chart>,
}

struct OrgChoice {
    id: i64,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    lang: Lang,
    org_name: String,
    orgs: Vec<OrgChoice>,
    periods: Vec<PeriodView>,
}

#[derive(Deserialize)]
pub struct OverviewQuery {
    org_id: Option<String>,
}

fn group_name(code: &str, lang: Lang) -> &'static str {
    match code {
        "police" => lang.pick("警务类", "Police"),
        "non_police" => lang.pick("非警务类", "Non-police"),
        _ => lang.pick("未分类", "Untriaged"),
    }
}

fn category_names(lang: Lang) -> BTreeMap<String, String> {
    crate::services::routing::triage()
        .table()
        .categories
        .iter()
        .map(|c| (c.code.clone(), lang.pick(&c.name_zh, &c.name_en).to_owned()))
        .collect()
}

fn risk_name(code: &str, lang: Lang) -> &'static str {
    lang.label(RiskLevel::from_str(code).unwrap_or(RiskLevel::Low))
}

fn count(key: String, value: u64) -> Figure {
    Figure {
        key,
        value: value.to_string(),
        shown: value.to_string(),
    }
}

/// A float as serde_json writes it (shortest round trip), empty for null.
fn float(key: String, value: Option<f64>, shown: String) -> Figure {
    Figure {
        key,
        value: value.map(|v| v.to_string()).unwrap_or_default(),
        shown,
    }
}

/// The records page of one selection of the period's records.
fn records_href(kind: &str, o: &Overview, selection: &str) -> String {
    format!(
        "/overview/records?kind={kind}&org_id={}&from={}&to={}{selection}",
        o.org.id,
        rfc3339(o.from),
        rfc3339(o.to)
    )
}

fn tiles(o: &Overview, lang: Lang) -> Vec<Tile> {
    let f = &o.figures;
    let p = &o.prevention;
    vec![
        Tile {
            id: "incidents",
            label: lang.pick("警情总数", "Incidents"),
            href: Some(records_href("incidents", o, "")),
            main: Some(count("figures/incidents".into(), f.incidents)),
            parts: Vec::new(),
            note: String::new(),
        },
        Tile {
            id: "diversion",
            label: lang.pick("非警务分流率", "Non-police diversion"),
            href: Some(records_href("incidents", o, "&diverted=1")),
            main: Some(float(
                "figures/diversion/rate".into(),
                f.diversion.rate,
                percent(f.diversion.rate),
            )),
            parts: vec![
                count("figures/diversion/count".into(), f.diversion.count),
                count("figures/diversion/of".into(), f.diversion.of),
            ],
            note: lang
                .pick("已分流 / 非警务警情", "diverted / non-police")
                .into(),
        },
        Tile {
            id: "overdue",
            label: lang.pick("超期工单", "Overdue work orders"),
            href: None,
            main: Some(count(
                "figures/overdue_work_orders".into(),
                f.overdue_work_orders,
            )),
            parts: vec![count("figures/work_orders".into(), f.work_orders)],
            note: lang.pick("张工单中", "of the work orders").into(),
        },
        Tile {
            id: "repeat-addresses",
            label: lang.pick("重复报警地址", "Repeat-call addresses"),
            href: None,
            main: Some(count(
                "overview/repeat_addresses".into(),
                o.repeat_addresses(),
            )),
            parts: vec![count(
                "figures/repeat_calls/count".into(),
                f.repeat_calls.count,
            )],
            note: lang.pick("起重复报警", "repeat calls").into(),
        },
        Tile {
            id: "warnings-overdue",
            label: lang.pick("超时未签收预警", "Warnings overdue"),
            href: Some(records_href("warnings", o, "")),
            main: Some(count(
                "prevention/warnings_overdue".into(),
                p.warnings_overdue,
            )),
            parts: Vec::new(),
            note: String::new(),
        },
        Tile {
            id: "satisfaction",
            label: lang.pick("群众满意度", "Satisfaction"),
            href: Some(records_href("incidents", o, "&answered=1")),
            main: Some(float(
                "figures/satisfaction/mean".into(),
                f.satisfaction.mean,
                f.satisfaction.mean.map_or_else(
                    || lang.pick("暂无数据", "No data").to_owned(),
                    |m| format!("{m:.2} / 5"),
                ),
            )),
            parts: vec![count(
                "figures/satisfaction/count".into(),
                f.satisfaction.count,
            )],
            note: lang.pick("件回访作答", "answers").into(),
        },
        arrival_tile(
            "arrival",
            lang.pick("民警5分钟到达率", "Police 5-minute arrival"),
            "police_arrival",
            &f.police_arrival,
            lang,
        ),
        arrival_tile(
            "street-arrival",
            lang.pick("综治力量5分钟到达率", "Street force 5-minute arrival"),
            "street_arrival",
            &f.street_arrival,
            lang,
        ),
        Tile {
            id: "resolved-on-scene",
            label: lang.pick("现场处置率", "Resolved on scene"),
            href: None,
            main: Some(float(
                "figures/resolved_on_scene/rate".into(),
                f.resolved_on_scene.rate,
                percent(f.resolved_on_scene.rate),
            )),
            parts: vec![
                count(
                    "figures/resolved_on_scene/count".into(),
                    f.resolved_on_scene.count,
                ),
                count(
                    "figures/resolved_on_scene/of".into(),
                    f.resolved_on_scene.of,
                ),
            ],
            note: lang
                .pick(
                    "现场处置完毕 / 警力到场",
                    "resolved on scene / units arrived",
                )
                .into(),
        },
    ]
}

/// A rate as the tiles print it: 95.1%, or — when there is none.
fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

/// A force's 5-minute arrival rate, its count over incidents a unit was
/// sent to, and the mean and 90th percentile from receipt to arrival.
fn arrival_tile(
    id: &'static str,
    label: &'static str,
    figure: &str,
    a: &fengqiao_core::figures::ArrivalFigure,
    lang: Lang,
) -> Tile {
    let rate = &a.within_standard;
    let t = &a.time_to_arrival;
    let note = match (t.mean, t.p90) {
        (Some(mean), Some(p90)) => format!(
            "{} {mean:.1} {} · P90 {p90:.0} {}",
            lang.pick(
                "5分钟内到达 / 派出警力；平均",
                "within 5 min / units sent; mean"
            ),
            lang.pick("分钟", "min"),
            lang.pick("分钟", "min")
        ),
        _ => lang
            .pick(
                "暂无数据：期内未派出警力。",
                "No data: no unit was sent in the period.",
            )
            .into(),
    };
    Tile {
        id,
        label,
        href: None,
        main: Some(float(
            format!("figures/{figure}/within_standard/rate"),
            rate.rate,
            percent(rate.rate),
        )),
        parts: vec![
            count(
                format!("figures/{figure}/within_standard/count"),
                rate.count,
            ),
            count(format!("figures/{figure}/within_standard/of"), rate.of),
        ],
        note,
    }
}

/// What every map of an organisation draws under its records: the grids'
/// outlines (from every located building of its places) with their names,
/// and its roads with theirs. Shared by both periods, and by the board.
pub(crate) async fn ground(
    state: &AppState,
    division_codes: &[fengqiao_core::org::DivisionCode],
) -> ApiResult<Ground> {
    let prefixes: Vec<String> = division_codes
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    let names: BTreeMap<i64, String> = state
        .store
        .grids_under(&prefixes)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name.unwrap_or(g.code)))
        .collect();
    let mut points: BTreeMap<i64, Vec<(f64, f64)>> = BTreeMap::new();
    for b in state.store.building_points_under(&prefixes).await? {
        if let (Some(grid), Some(lat), Some(lon)) = (b.grid_id, b.lat, b.lon) {
            points.entry(grid).or_default().push((lat, lon));
        }
    }
    let grids: Vec<GridShape> = points
        .into_iter()
        .map(|(id, points)| GridShape {
            label: names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
            points,
        })
        .collect();
    // The roads that come near the grids (a deployment's network may
    // cover the whole city).
    let everything = grids_points(&grids);
    let network = crate::services::roads::network(state).await?;
    let roads = match bounds_of(&everything) {
        Some(b) => network
            .lines()
            .iter()
            .filter(|road| road.points.iter().any(|p| b.contains(p)))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    Ok(Ground { grids, roads })
}

fn grids_points(grids: &[GridShape]) -> Vec<(f64, f64)> {
    grids
        .iter()
        .flat_map(|g| g.points.iter().copied())
        .collect()
}

/// The box of `points`, widened by about half a kilometre.
fn bounds_of(points: &[(f64, f64)]) -> Option<fengqiao_core::geo::Bounds> {
    let widen = 0.005;
    let (&(lat, lon), rest) = points.split_first()?;
    let start = fengqiao_core::geo::Bounds {
        south: lat - widen,
        north: lat + widen,
        west: lon - widen,
        east: lon + widen,
    };
    Some(
        rest.iter()
            .fold(start, |b, &(lat, lon)| fengqiao_core::geo::Bounds {
                south: b.south.min(lat - widen),
                north: b.north.max(lat + widen),
                west: b.west.min(lon - widen),
                east: b.east.max(lon + widen),
            }),
    )
}

/// Hot spots: this many of the buildings with most incidents, and as many
/// with most repeat calls.
const HOT_SPOTS: usize = 5;

fn charts(o: &Overview, grids: &Ground, lang: Lang) -> Vec<Chart> {
    let f = &o.figures;
    let groups: Vec<Bar> = ["police", "non_police", "untriaged"]
        .into_iter()
        .map(|g| Bar {
            label: group_name(g, lang).into(),
            value: f.by_group.get(g).copied().unwrap_or(0),
            href: records_href("incidents", o, &format!("&group={g}")),
            figure: format!("figures/by_group/{g}"),
            class: g.replace('_', "-"),
        })
        .filter(|b| b.value > 0)
        .collect();
    let names = category_names(lang);
    let mut categories: Vec<(&String, &u64)> = f.by_category.iter().collect();
    categories.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let category_bars: Vec<Bar> = categories
        .iter()
        .take(10)
        .map(|(code, n)| Bar {
            label: names.get(*code).cloned().unwrap_or_else(|| (*code).clone()),
            value: **n,
            href: records_href("incidents", o, &format!("&category={code}")),
            figure: format!("figures/by_category/{code}"),
            class: "category".into(),
        })
        .collect();
    let more = categories.len().saturating_sub(10);
    let mut overdue: Vec<(&i64, &u64)> = f.overdue_by_owner.iter().collect();
    overdue.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let overdue_bars: Vec<Bar> = overdue
        .iter()
        .map(|(id, n)| Bar {
            label: o.departments.get(*id).cloned().unwrap_or_default(),
            value: **n,
            href: records_href("incidents", o, &format!("&overdue_owner={id}")),
            figure: format!("overview/overdue_by_department/{id}/count"),
            class: "overdue".into(),
        })
        .collect();
    let label_of = |id: i64| {
        o.buildings
            .get(&id)
            .map_or_else(|| format!("#{id}"), |b| b.label.clone())
    };
    let mut repeats: Vec<(&i64, &u64)> = f.repeats_by_building.iter().collect();
    repeats.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let repeat_bars: Vec<Bar> = repeats
        .iter()
        .take(10)
        .map(|(id, n)| Bar {
            label: label_of(**id),
            value: **n,
            href: records_href("incidents", o, &format!("&repeats_at={id}")),
            figure: format!("overview/incidents_by_building/{id}/repeats"),
            class: "repeat".into(),
        })
        .collect();
    let risk_bars: Vec<Bar> = ["critical", "high", "medium", "low"]
        .into_iter()
        .map(|r| Bar {
            label: risk_name(r, lang).into(),
            value: o
                .prevention
                .open_disputes_by_risk
                .get(r)
                .copied()
                .unwrap_or(0),
            href: records_href("disputes", o, &format!("&risk={r}")),
            figure: format!("prevention/open_disputes_by_risk/{r}"),
            class: format!("risk-{r}"),
        })
        .collect();
    let mut busiest: Vec<(&i64, &u64)> = f.by_building.iter().collect();
    busiest.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let hot: Vec<i64> = busiest
        .iter()
        .take(HOT_SPOTS)
        .chain(repeats.iter().take(HOT_SPOTS))
        .map(|(id, _)| **id)
        .collect();
    let spots: Vec<Spot> = f
        .by_building
        .iter()
        .filter_map(|(&id, &incidents)| {
            let b = o.buildings.get(&id)?;
            let repeats = f.repeats_by_building.get(&id).copied().unwrap_or(0);
            Some(Spot {
                label: b.label.clone(),
                lat: b.lat?,
                lon: b.lon?,
                incidents,
                repeats,
                href: records_href("incidents", o, &format!("&building_id={id}")),
                figure: format!("overview/incidents_by_building/{id}/incidents"),
                hot: hot.contains(&id),
            })
        })
        .collect();
    let on_map: u64 = spots.iter().map(|s| s.incidents).sum();
    let chart_of = |title, bars: &[Bar]| (!bars.is_empty()).then(|| chart::bar_chart(title, bars));
    let none = lang.pick("本期没有。", "None in this period.");
    vec![
        Chart {
            id: "groups",
            title: lang.pick("警情分类", "Incidents by group"),
            svg: chart_of(lang.pick("警情分类", "Incidents by group"), &groups),
            empty: none,
            note: String::new(),
        },
        Chart {
            id: "categories",
            title: lang.pick("警情类别（前十）", "Top categories"),
            svg: chart_of(lang.pick("警情类别", "Categories"), &category_bars),
            empty: none,
            note: if more > 0 {
                match lang {
                    Lang::Zh => format!("另有 {more} 类未列出。"),
                    Lang::En => format!("{more} more categories not shown."),
                }
            } else {
                String::new()
            },
        },
        Chart {
            id: "overdue",
            title: lang.pick("超期工单（按部门）", "Overdue work orders by department"),
            svg: chart_of(lang.pick("超期工单", "Overdue work orders"), &overdue_bars),
            empty: lang.pick("本期没有超期工单。", "No overdue work orders."),
            note: String::new(),
        },
        Chart {
            id: "repeats",
            title: lang.pick("重复报警地址（前十）", "Repeat-call addresses"),
            svg: chart_of(lang.pick("重复报警地址", "Repeat-call addresses"), &repeat_bars),
            empty: lang.pick("本期没有重复报警。", "No repeat calls."),
            note: String::new(),
        },
        Chart {
            id: "disputes",
            title: lang.pick("未化解纠纷（按风险等级）", "Open disputes by risk"),
            svg: chart_of(lang.pick("未化解纠纷", "Open disputes"), &risk_bars),
            empty: none,
            note: lang
                .pick("本期登记、尚在登记或调解中的案件。", "Cases registered in the period, still registered or in mediation.")
                .into(),
        },
        Chart {
            id: "map",
            title: lang.pick("辖区警情分布", "Where the incidents were"),
            svg: chart::map(lang.pick("辖区地图", "Map of the jurisdiction"), grids, &spots, &[]),
            empty: lang.pick("辖区楼栋尚无坐标，无法绘制地图。", "No building has coordinates yet."),
            note: match lang {
                Lang::Zh => format!(
                    "网格按其楼栋围成；圆点为有警情的楼栋，越大越多，红色为热点（警情最多或重复报警最多的楼栋）。图上 {on_map} 起，另有 {} 起未落到有坐标的标准地址楼栋。",
                    f.incidents - on_map
                ),
                Lang::En => format!(
                    "Grids are drawn around their buildings; dots are buildings with incidents, larger for more, red for hot spots (most incidents or most repeat calls). {on_map} on the map, {} not placed at a located registry building.",
                    f.incidents - on_map
                ),
            },
        },
    ]
}

fn period_name(period: &Period, lang: Lang) -> String {
    let day = |at: Timestamp| ChinaDay::of(at).to_string();
    let last = Timestamp(period.to.0 - 1);
    match period.key {
        "yesterday" => format!("{} {}", lang.pick("昨日", "Yesterday"), day(period.from)),
        _ => format!(
            "{} {} – {}",
            lang.pick("近30日", "Last 30 days"),
            day(period.from),
            day(last)
        ),
    }
}

/// 站情概览
pub(crate) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
    Query(query): Query<OverviewQuery>,
) -> Response {
    let lang = Lang::of_request(&headers);
    let caller =
        match permitted_page_caller(&state, &headers, source, Permission::ViewFigures).await {
            Ok(caller) => caller,
            Err(response) => return response,
        };
    match overview_page(&state, &caller, lang, query).await {
        Ok(page) => render(&page),
        Err(err) => err.into_response(),
    }
}

async fn overview_page(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    query: OverviewQuery,
) -> ApiResult<OverviewPage> {
    let org_id = match query.org_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            Error::Validation(vec![fengqiao_core::error::FieldError::new(
                "org_id",
                fengqiao_core::error::Reason::InvalidFormat {
                    expected: "integer",
                },
            )])
        })?),
    };
    let org = organisations::in_jurisdiction(state, caller, org_id).await?;
    let orgs = state
        .store
        .organisations_within(caller.scope())
        .await?
        .into_iter()
        .map(|o| OrgChoice {
            selected: o.id == org.id,
            id: o.id,
            name: o.name,
        })
        .collect();
    let mut views = Vec::new();
    let grids = ground(state, &org.division_codes).await?;
    for period in periods(state.clock.now()) {
        let overview = gather(state, org.clone(), period.from, period.to).await?;
        views.push(PeriodView {
            key: period.key,
            name: period_name(&period, lang),
            from: rfc3339(period.from),
            to: rfc3339(period.to),
            tiles: tiles(&overview, lang),
            charts: charts(&overview, &grids, lang),
        });
    }
    Ok(OverviewPage {
        lang,
        org_name: org.name,
        orgs,
        periods: views,
    })
}

#[derive(Deserialize)]
pub struct RecordsQuery {
    kind: Option<String>,
    org_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    group: Option<String>,
    category: Option<String>,
    building_id: Option<String>,
    repeats_at: Option<String>,
    overdue_owner: Option<String>,
    diverted: Option<String>,
    answered: Option<String>,
    risk: Option<String>,
}

struct RecordRow {
    /// The record's own page, where there is one.
    href: Option<String>,
    number: String,
    at: String,
    what: String,
    status: String,
    place: String,
}

#[derive(Template)]
#[template(path = "overview_records.html")]
struct RecordsPage {
    lang: Lang,
    title: String,
    period: String,
    back: String,
    total: usize,
    rows: Vec<RecordRow>,
    cut: bool,
}

/// At most this many records are listed on one page.
const RECORDS_SHOWN: usize = 300;

fn id_param(field: &'static str, text: Option<&str>) -> crate::services::Result<Option<i64>> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|_| {
            Error::Validation(vec![fengqiao_core::error::FieldError::new(
                field,
                fengqiao_core::error::Reason::InvalidFormat {
                    expected: "integer",
                },
            )])
        }),
    }
}

/// The records behind one figure of the overview: chosen from the same
/// facts by the same rule that counted them, within the caller's
/// jurisdiction.
pub(crate) async fn records(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
    Query(query): Query<RecordsQuery>,
) -> Response {
    let lang = Lang::of_request(&headers);
    let caller =
        match permitted_page_caller(&state, &headers, source, Permission::ViewFigures).await {
            Ok(caller) => caller,
            Err(response) => return response,
        };
    match records_page(&state, &caller, lang, query).await {
        Ok(page) => render(&page),
        Err(err) => err.into_response(),
    }
}

async fn records_page(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    query: RecordsQuery,
) -> ApiResult<RecordsPage> {
    let (org_id, from, to) = parse_query(&FiguresQuery {
        org_id: query.org_id.clone(),
        from: query.from.clone(),
        to: query.to.clone(),
    })?;
    let org = organisations::in_jurisdiction(state, caller, org_id).await?;
    let now = state.clock.now();
    let period = format!(
        "{} {} – {}",
        org.name,
        china_time::minutes(from),
        china_time::minutes(to)
    );
    let back = format!("/overview?org_id={}", org.id);
    let scope = org.path.as_str();
    let page = |title: String, total: usize, rows: Vec<RecordRow>| RecordsPage {
        lang,
        title,
        period: period.clone(),
        back: back.clone(),
        total,
        cut: total > rows.len(),
        rows,
    };
    match query.kind.as_deref().unwrap_or("incidents") {
        "incidents" => {
            caller.require(Permission::ViewIncidents)?;
            let names = category_names(lang);
            let selector = if let Some(g) = query.group.as_deref() {
                IncidentSelector::Group(g.into())
            } else if let Some(c) = query.category.as_deref() {
                IncidentSelector::Category(c.into())
            } else if let Some(b) = id_param("building_id", query.building_id.as_deref())? {
                IncidentSelector::Building(b)
            } else if let Some(b) = id_param("repeats_at", query.repeats_at.as_deref())? {
                IncidentSelector::RepeatsAt(b)
            } else if let Some(o) = id_param("overdue_owner", query.overdue_owner.as_deref())? {
                IncidentSelector::OverdueFor(o)
            } else if query.diverted.is_some() {
                IncidentSelector::Diverted
            } else if query.answered.is_some() {
                IncidentSelector::Answered
            } else {
                IncidentSelector::All
            };
            let facts = state.store.figure_facts(scope, from, to).await?;
            let mut selected: Vec<(Timestamp, i64)> = facts
                .iter()
                .filter(|i| selector.selects(i, now))
                .map(|i| (i.received_at, i.id))
                .collect();
            let total = selected.len();
            // Only the newest are read and listed.
            selected.sort_unstable_by(|a, b| b.cmp(a));
            selected.truncate(RECORDS_SHOWN);
            let ids: Vec<i64> = selected.iter().map(|(_, id)| *id).collect();
            // A building or department is named only when records of the
            // caller's concern lead to it: an id alone tells nothing.
            let named = total > 0;
            let title = match &selector {
                IncidentSelector::Group(g) => group_name(g, lang).to_owned(),
                IncidentSelector::Category(c) => names.get(c).cloned().unwrap_or_else(|| c.clone()),
                IncidentSelector::Building(b) => building_title(state, *b, named, lang).await?,
                IncidentSelector::RepeatsAt(b) => format!(
                    "{} · {}",
                    building_title(state, *b, named, lang).await?,
                    lang.pick("重复报警", "repeat calls")
                ),
                IncidentSelector::OverdueFor(o) => {
                    let name = match named {
                        true => state.store.organisation(*o).await?.map(|o| o.name),
                        false => None,
                    };
                    format!(
                        "{} · {}",
                        name.unwrap_or_else(|| format!("#{o}")),
                        lang.pick("超期工单", "overdue work orders")
                    )
                }
                IncidentSelector::Diverted => lang
                    .pick("已分流的非警务警情", "Diverted non-police incidents")
                    .into(),
                IncidentSelector::Answered => lang
                    .pick("有回访作答的警情", "Incidents with an answer")
                    .into(),
                IncidentSelector::All => lang.pick("全部警情", "All incidents").into(),
            };
            let shown = state.store.incidents_by_ids(&ids).await?;
            let rows = shown
                .into_iter()
                .map(|i| RecordRow {
                    href: None,
                    number: i.receipt_number.to_string(),
                    at: china_time::minutes(i.received_at),
                    what: i.triage.as_ref().map_or_else(
                        || lang.pick("未分类", "Untriaged").to_owned(),
                        |t| {
                            names
                                .get(t.category.code.as_str())
                                .cloned()
                                .unwrap_or_else(|| t.category.code.as_str().to_owned())
                        },
                    ),
                    status: status_name(i.status, lang),
                    place: i.location_text,
                })
                .collect();
            Ok(page(title, total, rows))
        }
        "disputes" => {
            caller.require(Permission::ViewDisputes)?;
            let risk = query.risk.clone().unwrap_or_default();
            let facts = state
                .store
                .prevention_facts(scope, from, to, Narrowing::default())
                .await?;
            let ids: Vec<i64> = facts
                .disputes
                .iter()
                .filter(|d| d.open() && d.risk.as_str() == risk)
                .map(|d| d.id)
                .collect();
            let mut rows = Vec::new();
            // A few cases a page: each is read as its own page reads it.
            for &id in ids.iter().rev().take(RECORDS_SHOWN) {
                let Some(record) = state.store.dispute(id).await? else {
                    continue;
                };
                let d = record.dispute;
                rows.push(RecordRow {
                    href: Some(format!("/disputes/{id}")),
                    number: format!("#{id}"),
                    at: china_time::minutes(d.registered_at),
                    what: d.dispute_type.zh().into(),
                    status: d.status.zh().into(),
                    place: d.address_text.as_str().into(),
                });
            }
            let title = format!(
                "{} · {}",
                lang.pick("未化解纠纷", "Open disputes"),
                risk_name(&risk, lang)
            );
            Ok(page(title, ids.len(), rows))
        }
        "warnings" => {
            caller.require(Permission::ViewWarnings)?;
            let facts = state
                .store
                .prevention_facts(scope, from, to, Narrowing::default())
                .await?;
            let ids: Vec<i64> = facts
                .warnings
                .iter()
                .filter(|w| w.overdue(now))
                .map(|w| w.id)
                .collect();
            let mut rows = Vec::new();
            for &id in ids.iter().rev().take(RECORDS_SHOWN) {
                let Some(w) = state.store.warning(id).await? else {
                    continue;
                };
                rows.push(RecordRow {
                    href: Some(format!("/warnings?status=overdue#warning-{id}")),
                    number: format!("#{id}"),
                    at: china_time::minutes(w.raised_at),
                    what: w.rule().zh().into(),
                    status: format!(
                        "{}{}",
                        lang.pick("签收时限 ", "acknowledge by "),
                        china_time::minutes(w.acknowledge_by)
                    ),
                    place: String::new(),
                });
            }
            Ok(page(
                lang.pick("超时未签收预警", "Warnings overdue").into(),
                ids.len(),
                rows,
            ))
        }
        _ => Err(Error::NotFound.into()),
    }
}

async fn building_title(state: &AppState, id: i64, named: bool, lang: Lang) -> ApiResult<String> {
    let found = match named {
        true => state.store.building_points(&[id]).await?.into_iter().next(),
        false => None,
    };
    Ok(found.map_or_else(
        || format!("{}{id}", lang.pick("楼栋 #", "Building #")),
        |b| b.label,
    ))
}

fn status_name(status: fengqiao_core::incident::IncidentStatus, lang: Lang) -> String {
    lang.label(status).to_owned()
}
