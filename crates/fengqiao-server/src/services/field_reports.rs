//! e治采: field reports by grid workers and village or community cadres,
//! filed at a building of the registry (the address resolved as typed, or
//! the building the resolver offered) with an optional photo whose type its
//! bytes decide, and read within the caller's reach.

use base64::Engine;
use fengqiao_core::audit::AuditAction;
use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::field_report::{FieldReport, FieldReportInput, NewFieldReport, ReportPlace};
use fengqiao_core::org::{DivisionCode, OrgKind, Organisation};
use fengqiao_core::role::Permission;
use fengqiao_store::{Building, ReportKey, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::Caller;
use super::addresses;
use super::idempotency::{self, Outcome, Written};
use super::routing::{best_cover, own_station};
use super::{Error, Result};
use crate::live::{LiveEvent, LiveKind};
use crate::state::AppState;

/// A report the caller may see, or 404 as if it did not exist: within the
/// caller's subtree by its station, filed by the caller, or of a grid the
/// caller is the community officer of.
pub async fn visible_report(state: &AppState, caller: &Caller, id: i64) -> Result<FieldReport> {
    let report = state.store.field_report(id).await?.ok_or(Error::NotFound)?;
    let me = caller.user.as_ref().map(|u| u.id);
    if me == Some(report.reporter_user_id) {
        return Ok(report);
    }
    if let Some(station) = state
        .store
        .organisation(report.place.station_org_id)
        .await?
    {
        if caller.sees(&station.path) {
            return Ok(report);
        }
    }
    if let Some(grid_id) = report.place.grid_id {
        let grid = state.store.grid(grid_id).await?;
        if me.is_some() && grid.is_some_and(|g| g.officer_user_id == me) {
            return Ok(report);
        }
    }
    Err(Error::NotFound)
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileFieldReport {
    /// dispute (矛盾纠纷), safety_risk (安全隐患) or visit (走访).
    kind: Option<String>,
    /// A category of the kind, e.g. neighbour, fire, routine.
    category: Option<String>,
    /// What was found, 1 to 2000 characters.
    description: Option<String>,
    /// The address as typed, 1 to 200 characters.
    address_text: Option<String>,
    /// The registry building `GET /api/v1/addresses/resolve` offered; when
    /// absent the server resolves `address_text` itself.
    building_id: Option<i64>,
    /// The photo's bytes in Base64 (a `data:` URL is accepted): a JPEG,
    /// PNG or WebP image of at most 5 MB.
    photo: Option<String>,
}

/// 上报: files a report from the field, for a signed-in person. With a key,
/// the same key and body answer with the first report; the same key with
/// another body is a 422. A wrong field, a photo that is not a JPEG, PNG or
/// WebP image or is over 5 MB, or an address outside the registry of the
/// caller's jurisdiction is a 422, and nothing is stored.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn file(
    state: &AppState,
    caller: &Caller,
    key: Option<&str>,
    body: &FileFieldReport,
) -> Result<(Outcome, FieldReport)> {
    caller.require(Permission::FileFieldReports)?;
    // The reporter is a signed-in person; machines file incidents instead.
    let reporter = caller.user.as_ref().ok_or(Error::Forbidden)?.id;
    let hash = idempotency::body_hash(body)?;
    idempotency::once(
        key,
        &hash,
        |key| async move {
            let first = state.store.field_report_by_key(reporter, key).await?;
            Ok(first.map(|(report, hash)| (hash, report.id)))
        },
        |id| visible_report(state, caller, id),
        file_new(state, caller, reporter, key, &hash, body),
    )
    .await
}

async fn file_new(
    state: &AppState,
    caller: &Caller,
    reporter: i64,
    key: Option<&str>,
    request_hash: &[u8],
    body: &FileFieldReport,
) -> Result<Written<FieldReport>> {
    let mut errors = Vec::new();
    let photo = match body
        .photo
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(text) => decode_photo(text).map_err(|e| errors.push(e)).ok(),
    };
    let new = NewFieldReport::parse(FieldReportInput {
        kind: body.kind.as_deref(),
        category: body.category.as_deref(),
        description: body.description.as_deref(),
        address_text: body.address_text.as_deref(),
        photo,
    })
    .map_err(|e| errors.extend(e))
    .ok();
    let building = locate(state, caller, body)
        .await?
        .map_err(|e| errors.extend(e))
        .ok();
    let (Some(new), Some(building)) = (new, building) else {
        return Err(Error::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let (place, station) = place_of(state, caller, &building).await?;

    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let report_key = key.map(|key| ReportKey { key, request_hash });
    let id = match tx
        .insert_field_report(&new, &place, reporter, report_key, now)
        .await
    {
        Ok(id) => id,
        // A concurrent request with the same key committed first: this one
        // rolls back and the first one answers.
        Err(StoreError::Duplicate(_)) if key.is_some() => return Ok(Written::KeyUsed),
        Err(e) => return Err(e.into()),
    };
    let event = caller
        .audit(AuditAction::Create, "field_report")
        .object(id)
        .detail(format!("{} {}", new.kind.as_str(), new.category));
    tx.append_audit(&event, now).await?;
    tx.commit().await?;
    state.live.publish(LiveEvent {
        kind: LiveKind::FieldReport,
        id,
        incident_id: None,
        change: "created".into(),
        orgs: vec![station.path],
    });
    let report = state.store.field_report(id).await?.ok_or(Error::NotFound)?;
    Ok(Written::Created(report))
}

/// Base64 (standard alphabet, padding optional), or a `data:` URL of it.
fn decode_photo(text: &str) -> Result<Vec<u8>, FieldError> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let encoded = match text.strip_prefix("data:") {
        Some(url) => url.split_once(',').map_or("", |(_, data)| data),
        None => text,
    };
    let encoded: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    LENIENT
        .decode(encoded)
        .map_err(|_| FieldError::new("photo", Reason::InvalidFormat { expected: "base64" }))
}

/// The building the report is at: the one named by `building_id`, or the
/// one `address_text` resolves to, within the caller's jurisdiction. The
/// inner error names what the reporter must fix; `None` when the core
/// already refuses the text itself.
async fn locate(
    state: &AppState,
    caller: &Caller,
    body: &FileFieldReport,
) -> Result<Result<Building, Option<FieldError>>> {
    if let Some(id) = body.building_id {
        return Ok(match state.store.building(id).await? {
            Some(building) if caller.covers(&building.community_code) => Ok(building),
            _ => Err(Some(FieldError::new("building_id", Reason::NotFound))),
        });
    }
    let text = body.address_text.as_deref().map(str::trim).unwrap_or("");
    if text.is_empty() || text.chars().count() > NewFieldReport::MAX_ADDRESS_CHARS {
        return Ok(Err(None));
    }
    let resolution = addresses::resolve(&state.store, &state.cipher, text, |code| {
        caller.covers(code)
    })
    .await?;
    Ok(match resolution.registry {
        Some(found) => match state.store.building(found.building_id).await? {
            Some(building) => Ok(building),
            None => Err(Some(not_in_registry())),
        },
        None => Err(Some(not_in_registry())),
    })
}

fn not_in_registry() -> FieldError {
    FieldError::new(
        "address_text",
        Reason::Conflict {
            detail: "not_in_registry",
        },
    )
}

/// Where the report lies and the station that answers for it: the grid's
/// station, else the station covering the community most specifically,
/// else the reporter's own.
async fn place_of(
    state: &AppState,
    caller: &Caller,
    building: &Building,
) -> Result<(ReportPlace, Organisation)> {
    let grid = match building.grid_id {
        Some(id) => state.store.grid(id).await?,
        None => None,
    };
    let mut station = None;
    if let Some(org) = grid.as_ref().and_then(|g| g.station_org_id) {
        station = state.store.organisation(org).await?;
    }
    if station.is_none() {
        if let Ok(code) = DivisionCode::parse(&building.community_code) {
            let stations = state
                .store
                .organisations_of_kind(OrgKind::PoliceStation)
                .await?;
            station = best_cover(stations, &code);
        }
    }
    let station = match station {
        Some(station) => station,
        None => own_station(state, caller).await?,
    };
    Ok((
        ReportPlace {
            building_id: building.id,
            grid_id: building.grid_id,
            community_code: building.community_code.clone(),
            station_org_id: station.id,
        },
        station,
    ))
}
