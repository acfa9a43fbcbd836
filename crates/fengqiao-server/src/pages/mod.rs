//! Pages rendered by the server: sign-in and each role's home page. No page
//! loads anything from outside the server.

pub(crate) mod assets;
pub(crate) mod board;
pub(crate) mod disputes;
pub(crate) mod field_reports;
pub(crate) mod overview;
pub(crate) mod report;
pub(crate) mod tasks;
pub(crate) mod units;
pub(crate) mod warnings;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use fengqiao_core::label::Label;
use fengqiao_core::role::{Permission, Role};
use serde::Deserialize;

use crate::auth::{self, ClientAddress};
use crate::error::ApiError;
use crate::i18n::{Lang, LANG_COOKIE};
use crate::services::access::Caller;
use crate::services::{sessions, Error};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    lang: Lang,
    error: Option<String>,
    username: String,
}

struct RoleView {
    code: &'static str,
    name: String,
}

struct OrgRow {
    name: String,
    kind: &'static str,
    depth: usize,
    codes: String,
}

struct UserRow {
    username: String,
    full_name: String,
    roles: String,
    status: String,
}

/// One line of the address lookup's answer: a label and a value.
struct Fact {
    label: &'static str,
    value: String,
}

struct AddressLookup {
    query: String,
    facts: Vec<Fact>,
    registry: Vec<Fact>,
    found_in_registry: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    lookup: Option<AddressLookup>,
    lang: Lang,
    username: String,
    org_name: String,
    org_kind: String,
    roles: Vec<RoleView>,
    orgs: Vec<OrgRow>,
    users: Option<Vec<UserRow>>,
    audit: Option<String>,
    /// Links to the live pages the roles may open.
    board: bool,
    inbox: bool,
    /// 我的工作清单, for those who keep one.
    tasks: bool,
    /// 矛盾纠纷台账
    disputes: bool,
    /// 网格上报: the form for those who file, the list for those who read.
    field_reports: bool,
    /// 预警看板, for those who see warnings.
    warnings: bool,
    /// 站情概览, for those who see the figures.
    overview: bool,
    /// 我的警力, for those who crew units.
    unit: bool,
}

pub(crate) fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => Error::Internal(err.to_string()).into_response(),
    }
}

fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_owned())]).into_response()
}

pub async fn sign_in_form(headers: HeaderMap) -> Response {
    render(&SignInPage {
        lang: Lang::of_request(&headers),
        error: None,
        username: String::new(),
    })
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
    Form(form): Form<SignInForm>,
) -> Response {
    let lang = Lang::of_request(&headers);
    let previous = auth::session_secret(&headers);
    match sessions::sign_in(
        &state,
        &form.username,
        &form.password,
        previous.as_deref(),
        &source,
    )
    .await
    {
        Ok((session, _)) => (
            StatusCode::SEE_OTHER,
            [
                (LOCATION, "/".to_owned()),
                (SET_COOKIE, auth::session_cookie(&state, &session.text)),
            ],
        )
            .into_response(),
        Err(err) => {
            let status = match err {
                Error::InvalidCredentials => StatusCode::UNAUTHORIZED,
                Error::AccountLocked => StatusCode::LOCKED,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(error = %err, "sign-in page failed");
            }
            let problem = ApiError::from(err).problem(lang);
            let mut response = render(&SignInPage {
                lang,
                error: Some(problem.detail),
                username: form.username.chars().take(64).collect(),
            });
            *response.status_mut() = status;
            response
        }
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
) -> Response {
    if let Some(secret) = auth::session_secret(&headers) {
        if let Ok(caller) = sessions::session_caller(&state, &secret, source).await {
            if let Err(err) = sessions::sign_out(&state, &caller, &secret).await {
                return err.into_response();
            }
        }
    }
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, "/signin".to_owned()),
            (SET_COOKIE, auth::cleared_session_cookie(&state)),
        ],
    )
        .into_response()
}

/// The signed-in person's home: who they are, their organisation and, by
/// role, the work they can do here.
#[derive(Deserialize)]
pub struct HomeQuery {
    /// An address to look up in the standard-address registry.
    q: Option<String>,
}

pub async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddress(source): ClientAddress,
    Query(query): Query<HomeQuery>,
) -> Response {
    let lang = Lang::of_request(&headers);
    let caller = match page_caller(&state, &headers, source).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    match home_page(&state, &caller, lang, query.q).await {
        Ok(page) => render(&page),
        Err(err) => err.into_response(),
    }
}

/// The signed-in person a page is for; without a session, the way to the
/// sign-in page.
pub(crate) async fn page_caller(
    state: &AppState,
    headers: &HeaderMap,
    source: String,
) -> Result<Caller, Response> {
    let Some(secret) = auth::session_secret(headers) else {
        return Err(redirect("/signin"));
    };
    match sessions::session_caller(state, &secret, source).await {
        Ok(caller) => Ok(caller),
        Err(Error::Unauthenticated) => Err(redirect("/signin")),
        Err(err) => Err(err.into_response()),
    }
}

/// [`page_caller`] who must hold `permission`: otherwise the page answers
/// as the API would (403).
pub(crate) async fn permitted_page_caller(
    state: &AppState,
    headers: &HeaderMap,
    source: String,
    permission: Permission,
) -> Result<Caller, Response> {
    let caller = page_caller(state, headers, source).await?;
    caller
        .require(permission)
        .map_err(IntoResponse::into_response)?;
    Ok(caller)
}

async fn address_lookup(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    query: Option<String>,
) -> Result<Option<AddressLookup>, ApiError> {
    if !caller.permissions.contains(&Permission::ViewAddresses) {
        return Ok(None);
    }
    let query: String = query.unwrap_or_default().trim().chars().take(200).collect();
    if query.is_empty() {
        return Ok(Some(AddressLookup {
            query,
            facts: Vec::new(),
            registry: Vec::new(),
            found_in_registry: false,
        }));
    }
    let found = crate::services::addresses::resolve(&state.store, &state.cipher, &query, |code| {
        caller.covers(code)
    })
    .await?;
    let a = &found.address;
    let pick = |zh, en| lang.pick(zh, en);
    let division = |name: &Option<String>, code: &Option<String>| match (name, code) {
        (Some(name), Some(code)) => format!("{name}（{code}）"),
        (Some(name), None) => name.clone(),
        _ => String::new(),
    };
    let facts = [
        (
            pick("省", "Province"),
            division(&a.province, &a.province_code),
        ),
        (pick("市", "City"), division(&a.city, &a.city_code)),
        (pick("区县", "County"), division(&a.county, &a.county_code)),
        (
            pick("乡镇街道", "Township"),
            division(&a.township, &a.township_code),
        ),
        (
            pick("村社区", "Community"),
            a.community.clone().unwrap_or_default(),
        ),
        (
            pick("道路门牌", "Road"),
            [a.road.clone(), a.road_number.clone()]
                .into_iter()
                .flatten()
                .collect::<String>(),
        ),
        (
            pick("小区", "Compound"),
            a.compound.clone().unwrap_or_default(),
        ),
        (
            pick("楼栋", "Building"),
            a.building.clone().unwrap_or_default(),
        ),
        (pick("单元", "Unit"), a.unit.clone().unwrap_or_default()),
        (pick("楼层", "Floor"), a.floor.clone().unwrap_or_default()),
        (pick("户室", "Room"), a.room.clone().unwrap_or_default()),
        (pick("置信度", "Confidence"), format!("{:.2}", a.confidence)),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .map(|(label, value)| Fact { label, value })
    .collect();
    let mut registry = Vec::new();
    if let Some(hit) = &found.registry {
        registry.push(Fact {
            label: pick("门牌码", "Plate code"),
            value: hit.plate_code.clone(),
        });
        if let Some(room) = &hit.room {
            registry.push(Fact {
                label: pick("登记户室", "Registered room"),
                value: format!("{}-{}", room.unit, room.room),
            });
        }
        if let Some(grid) = &hit.grid {
            registry.push(Fact {
                label: pick("网格", "Grid"),
                value: grid.code.clone(),
            });
            if let Some(station) = &grid.station {
                registry.push(Fact {
                    label: pick("责任派出所", "Station"),
                    value: station.name.clone(),
                });
            }
            if let Some(officer) = &grid.officer {
                registry.push(Fact {
                    label: pick("社区民警", "Community officer"),
                    value: format!(
                        "{}（{}）",
                        officer.name.clone().unwrap_or_default(),
                        officer.username
                    ),
                });
            }
            for worker in &grid.grid_workers {
                registry.push(Fact {
                    label: pick("网格员", "Grid worker"),
                    value: format!(
                        "{}（{}）",
                        worker.name.clone().unwrap_or_default(),
                        worker.username
                    ),
                });
            }
        }
    }
    Ok(Some(AddressLookup {
        query,
        facts,
        found_in_registry: found.registry.is_some(),
        registry,
    }))
}

async fn home_page(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    query: Option<String>,
) -> Result<HomePage, ApiError> {
    let lookup = address_lookup(state, caller, lang, query).await?;
    let user = caller.user.as_ref().ok_or(Error::Unauthenticated)?;
    let base_depth = caller.org.path.ids().count();
    let orgs = state
        .store
        .organisations_within(caller.scope())
        .await?
        .into_iter()
        .map(|org| OrgRow {
            depth: org.path.ids().count() - base_depth,
            kind: org.kind.zh(),
            codes: org
                .division_codes
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            name: org.name,
        })
        .collect();
    let users = if caller.permissions.contains(&Permission::ViewUsers) {
        let stored = state.store.users_within(caller.scope().as_str()).await?;
        let rows = stored
            .iter()
            .map(|s| {
                let full_name = s
                    .full_name
                    .as_deref()
                    .and_then(|bytes| state.cipher.decrypt(bytes).ok())
                    .map(|v| v.masked())
                    .unwrap_or_default();
                UserRow {
                    username: s.user.username.as_str().into(),
                    full_name,
                    roles: s
                        .user
                        .roles
                        .iter()
                        .map(|r| role_name(r, lang))
                        .collect::<Vec<_>>()
                        .join("、"),
                    status: if s.user.disabled {
                        lang.pick("已停用", "disabled").into()
                    } else if s.user.locked_at.is_some() {
                        lang.pick("已锁定", "locked").into()
                    } else {
                        lang.pick("正常", "active").into()
                    },
                }
            })
            .collect();
        Some(rows)
    } else {
        None
    };
    let audit = if caller.permissions.contains(&Permission::ReadAuditLog) {
        Some(match state.store.verify_audit_chain().await? {
            Ok(count) => format!(
                "{} {count}",
                lang.pick(
                    "审计链完整，已校验条目数：",
                    "Audit chain intact; entries verified:"
                )
            ),
            Err(broken) => format!(
                "{} {}",
                lang.pick(
                    "审计链被篡改，首个异常条目：",
                    "Audit chain broken at entry"
                ),
                broken.seq()
            ),
        })
    } else {
        None
    };
    Ok(HomePage {
        lookup,
        lang,
        username: user.username.as_str().into(),
        org_name: caller.org.name.clone(),
        org_kind: caller.org.kind.zh().into(),
        roles: user
            .roles
            .iter()
            .map(|r| RoleView {
                code: r.as_str(),
                name: role_name(r, lang),
            })
            .collect(),
        orgs,
        users,
        audit,
        board: caller.permissions.contains(&Permission::ViewIncidents),
        tasks: caller.permissions.contains(&Permission::DoTasks),
        warnings: caller.permissions.contains(&Permission::ViewWarnings),
        overview: caller.permissions.contains(&Permission::ViewFigures),
        unit: caller.permissions.contains(&Permission::CrewUnits),
        disputes: caller.permissions.contains(&Permission::ViewDisputes),
        inbox: caller.permissions.contains(&Permission::HandleWorkOrders)
            && caller.permissions.contains(&Permission::ViewIncidents),
        field_reports: caller.permissions.contains(&Permission::FileFieldReports)
            || (caller.permissions.contains(&Permission::ViewDisputes)
                && caller.permissions.contains(&Permission::ViewIncidents)),
    })
}

fn role_name(role: Role, lang: Lang) -> String {
    lang.label(role).to_owned()
}

#[derive(Deserialize)]
pub struct LangQuery {
    back: Option<String>,
}

/// Switches the interface language and returns to the page the user was on.
pub async fn switch_language(Path(code): Path<String>, Query(query): Query<LangQuery>) -> Response {
    let lang = Lang::from_code(&code).unwrap_or_default();
    // Only paths on this server: never an open redirect.
    let back = query
        .back
        .filter(|b| b.starts_with('/') && !b.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, back),
            (
                SET_COOKIE,
                format!(
                    "{LANG_COOKIE}={}; Path=/; SameSite=Strict; Max-Age=31536000",
                    lang.code()
                ),
            ),
        ],
    )
        .into_response()
}
