//! Address resolution against the registry, shared by the API and the
//! command line: free text → structured address (pure resolver) → the
//! registry's building, room and grid, with who answers for that grid;
//! and setting who answers for a grid (网格责任).

use std::sync::OnceLock;

use fengqiao_address::{DivisionTable, ResolvedAddress, Resolver, Village};
use fengqiao_core::audit::AuditAction;
use fengqiao_core::personal::PersonalDataCipher;
use fengqiao_core::role::Permission;
use fengqiao_store::{Building, BuildingQuery, Store};
use serde::Serialize;
use utoipa::ToSchema;

use super::access::Caller;
use super::Result;
use crate::state::AppState;

static RESOLVER: OnceLock<Resolver> = OnceLock::new();

/// The process-wide resolver: the embedded divisions, plus the villages and
/// communities loaded into the database if [`load_villages`] ran first.
pub fn resolver() -> &'static Resolver {
    RESOLVER.get_or_init(Resolver::new)
}

/// Builds the resolver with the villages and communities in the database,
/// once per process, before the first resolution. Returns how many were
/// added (0 when none are loaded or the resolver was already built).
pub async fn load_villages(store: &Store) -> anyhow::Result<usize> {
    if RESOLVER.get().is_some() {
        return Ok(0);
    }
    let rows = store.communities().await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let villages = rows
        .into_iter()
        .map(|(code, township, name)| {
            Ok(Village {
                code: code.parse()?,
                township_code: township.parse()?,
                name,
            })
        })
        .collect::<Result<Vec<_>, std::num::ParseIntError>>()?;
    let count = villages.len();
    let mut table = DivisionTable::embedded();
    table.add_villages(villages)?;
    let _ = RESOLVER.set(Resolver::with_table(table));
    Ok(count)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Resolution {
    pub input: String,
    /// The structured address: fields, division codes, confidence, alternatives.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub address: ResolvedAddress,
    /// The registry's building (and room) for this address, if one matches
    /// within the caller's jurisdiction.
    pub registry: Option<RegistryMatch>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistryMatch {
    pub building_id: i64,
    pub plate_code: String,
    pub community_code: String,
    pub compound: Option<String>,
    pub road: Option<String>,
    pub road_number: Option<String>,
    pub building: String,
    pub room: Option<RoomRef>,
    pub grid: Option<GridRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoomRef {
    pub id: i64,
    pub unit: String,
    pub room: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GridRef {
    pub id: i64,
    pub code: String,
    pub station: Option<OrgRef>,
    pub officer: Option<PersonRef>,
    pub grid_workers: Vec<PersonRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgRef {
    pub id: i64,
    pub name: String,
}

/// A responsible person as others see them: account and masked name.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonRef {
    pub id: i64,
    pub username: String,
    pub name: Option<String>,
}

/// Resolves `text` and matches it in the registry. `within` decides which
/// communities the caller may see; a building outside them is not returned.
pub async fn resolve(
    store: &Store,
    cipher: &PersonalDataCipher,
    text: &str,
    within: impl Fn(&str) -> bool,
) -> Result<Resolution> {
    let address = resolver().resolve(text);
    match_in_registry(store, cipher, text, address, within).await
}

/// What the registry is asked for an address the resolver read: a caller
/// at the desk names the compound and not the district (蜀锦家园4栋), so
/// without a township or county the whole registry is searched.
pub fn registry_query(address: &ResolvedAddress) -> BuildingQuery {
    BuildingQuery {
        division_prefix: address
            .township_code
            .clone()
            .or_else(|| address.county_code.clone())
            .unwrap_or_default(),
        compound: address.compound.clone(),
        road: address.road.clone().or_else(|| township_as_road(address)),
        road_number: address.road_number.clone(),
        building: address.building.clone(),
    }
}

/// [`resolve`] for an address already read from `text`; `within` keeps
/// what lies in the caller's jurisdiction.
pub async fn match_in_registry(
    store: &Store,
    cipher: &PersonalDataCipher,
    text: &str,
    address: ResolvedAddress,
    within: impl Fn(&str) -> bool,
) -> Result<Resolution> {
    let found = store.match_buildings(&registry_query(&address)).await?;
    let registry = match found.into_iter().find(|b| within(&b.community_code)) {
        Some(building) => Some(registry_match(store, cipher, building, &address).await?),
        None => None,
    };
    Ok(Resolution {
        input: text.to_owned(),
        address,
        registry,
    })
}

/// [`resolve`] without who answers for the building: the structured
/// address and the registry's building, what intake needs — the grid, its
/// people and their masked names are for those who look an address up.
pub async fn locate(
    store: &Store,
    text: &str,
    within: impl Fn(&str) -> bool,
) -> Result<(ResolvedAddress, Option<Building>)> {
    let address = resolver().resolve(text);
    let found = store.match_buildings(&registry_query(&address)).await?;
    let building = found.into_iter().find(|b| within(&b.community_code));
    Ok((address, building))
}

/// 浆洗街 is a street office and a road: "浆洗街12号" names the road when a
/// house number follows the township's name as written.
fn township_as_road(address: &ResolvedAddress) -> Option<String> {
    address.road_number.as_ref()?;
    address
        .mention(fengqiao_address::Level::Township)
        .map(|mention| mention.text.clone())
        .filter(|text| text.ends_with('街') || text.ends_with('路') || text.ends_with('道'))
}

async fn registry_match(
    store: &Store,
    cipher: &PersonalDataCipher,
    building: Building,
    address: &ResolvedAddress,
) -> Result<RegistryMatch> {
    let room = match address.room.as_deref() {
        Some(room) => {
            let wanted_unit = fengqiao_address::identifier(address.unit.as_deref().unwrap_or(""));
            let wanted_room = fengqiao_address::identifier(room);
            store
                .rooms_of(building.id)
                .await?
                .into_iter()
                .find(|r| {
                    r.room == wanted_room && (wanted_unit.is_empty() || r.unit == wanted_unit)
                })
                .map(|r| RoomRef {
                    id: r.id,
                    unit: r.unit,
                    room: r.room,
                })
        }
        None => None,
    };
    let grid = match building.grid_id {
        Some(id) => match store.grid(id).await? {
            Some(grid) => {
                let station = match grid.station_org_id {
                    Some(org) => store.organisation(org).await?.map(|o| OrgRef {
                        id: o.id,
                        name: o.name,
                    }),
                    None => None,
                };
                let officer = match grid.officer_user_id {
                    Some(user) => person(store, cipher, user).await?,
                    None => None,
                };
                let mut grid_workers = Vec::new();
                for user in &grid.grid_worker_ids {
                    grid_workers.extend(person(store, cipher, *user).await?);
                }
                Some(GridRef {
                    id: grid.id,
                    code: grid.code,
                    station,
                    officer,
                    grid_workers,
                })
            }
            None => None,
        },
        None => None,
    };
    Ok(RegistryMatch {
        building_id: building.id,
        plate_code: building.plate_code,
        community_code: building.community_code,
        compound: building.compound,
        road: building.road,
        road_number: building.road_number,
        building: building.building,
        room,
        grid,
    })
}

/// A responsible person with their name masked.
pub(crate) async fn person(
    store: &Store,
    cipher: &PersonalDataCipher,
    id: i64,
) -> Result<Option<PersonRef>> {
    Ok(store.user(id).await?.map(|stored| PersonRef {
        id,
        username: stored.user.username.as_str().to_owned(),
        name: stored
            .full_name
            .as_deref()
            .and_then(|bytes| cipher.decrypt(bytes).ok())
            .map(|name| name.masked()),
    }))
}

/// The address printed on a building's plate, as people read it:
/// "成都市武侯区浆洗街街道 锦里社区 锦里小区 3栋".
pub fn plate_address(building: &Building) -> String {
    let table = resolver().table();
    let code = &building.community_code;
    let name = |digits: usize, pad: usize| -> Option<String> {
        let prefix = code.get(..digits)?;
        let full: u64 = format!("{prefix}{}", "0".repeat(pad)).parse().ok()?;
        table.by_code(full).map(|d| d.name.clone())
    };
    let divisions: String = [name(4, 2), name(6, 0), name(9, 0)]
        .into_iter()
        .flatten()
        .collect();
    let community = code
        .parse()
        .ok()
        .and_then(|c: u64| table.by_code(c))
        .map(|d| d.name.clone());
    let place = match (&building.compound, &building.road) {
        (Some(compound), _) => compound.clone(),
        (None, Some(road)) => format!("{road}{}", building.road_number.as_deref().unwrap_or("")),
        (None, None) => String::new(),
    };
    [
        Some(divisions),
        community,
        Some(place),
        Some(building.building.clone()),
    ]
    .into_iter()
    .flatten()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join(" ")
}

/// The plate of a building: its code, its address, and the public report
/// page its QR code opens.
pub fn plate(building: &Building, public_url: &str) -> fengqiao_plates::Plate {
    fengqiao_plates::Plate {
        code: building.plate_code.clone(),
        address: plate_address(building),
        url: report_url(public_url, &building.plate_code),
    }
}

pub fn report_url(public_url: &str, plate_code: &str) -> String {
    format!("{}/r/{plate_code}", public_url.trim_end_matches('/'))
}

/// 网格责任: the station, community officer and grid workers answering for
/// a grid (each checked by the entry point to lie in the caller's
/// jurisdiction and hold the role), audited.
pub async fn set_responsibility(
    state: &AppState,
    caller: &Caller,
    grid_id: i64,
    station_org_id: i64,
    officer_user_id: Option<i64>,
    grid_worker_ids: &[i64],
) -> Result<()> {
    caller.require(Permission::ManageGrids)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    tx.set_grid_responsibility(
        grid_id,
        Some(station_org_id),
        officer_user_id,
        grid_worker_ids,
        now,
    )
    .await?;
    tx.append_audit(
        &caller
            .audit(AuditAction::Update, "grid")
            .object(grid_id)
            .detail("responsibility"),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
