//! The registry below the divisions (标准地址): grid (网格), compound (小区) or
//! road and number (路/街 + 号), building (楼栋), unit (单元), floor and room
//! (户). A record is checked on construction; its natural key makes imports
//! idempotent and its plate code (e码) is stable across re-imports.

use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::geo::Wgs84;
use fengqiao_core::org::DivisionCode;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::detail::identifier;

/// 网格: a community's twelve-digit code followed by three digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct GridCode(String);

impl GridCode {
    pub fn parse(field: &str, text: &str) -> Result<GridCode, FieldError> {
        let text = text.trim();
        if text.len() != 15 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                field,
                Reason::InvalidFormat {
                    expected: "grid_code",
                },
            ));
        }
        Ok(GridCode(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The community the grid belongs to.
    pub fn community_code(&self) -> &str {
        &self.0[..12]
    }
}

/// One row of the registry as imported: a building, or a room in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddressRecord {
    /// The twelve-digit code of the community or village.
    pub community_code: DivisionCode,
    pub grid_code: Option<GridCode>,
    pub compound: Option<String>,
    pub road: Option<String>,
    pub road_number: Option<String>,
    pub building: String,
    pub unit: Option<String>,
    pub floor: Option<String>,
    pub room: Option<String>,
    /// Other names of the compound (泰和小区 is also 泰和花园), found at
    /// resolution as the compound itself.
    pub compound_aliases: Vec<String>,
    /// Where the building stands, in WGS-84.
    pub location: Option<Wgs84>,
}

/// The fields of a row as text, before they are checked.
#[derive(Debug, Default, Clone)]
pub struct RawAddressRecord {
    pub community_code: String,
    pub grid_code: String,
    pub compound: String,
    pub road: String,
    pub road_number: String,
    pub building: String,
    pub unit: String,
    pub floor: String,
    pub room: String,
    pub lat: String,
    pub lon: String,
    /// Separated by `;`, `；` or `、`.
    pub compound_aliases: String,
}

fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn label(field: &str, text: &str) -> Result<Option<String>, FieldError> {
    match optional(text) {
        Some(value) if value.chars().count() > 50 => {
            Err(FieldError::new(field, Reason::TooLong { max: 50 }))
        }
        other => Ok(other),
    }
}

fn coordinate(field: &str, text: &str) -> Result<Option<f64>, FieldError> {
    let Some(text) = optional(text) else {
        return Ok(None);
    };
    text.parse::<f64>().map(Some).map_err(|_| {
        FieldError::new(
            field,
            Reason::InvalidFormat {
                expected: "coordinate",
            },
        )
    })
}

impl AddressRecord {
    /// Checks every field and reports all that are wrong.
    pub fn parse(raw: &RawAddressRecord) -> Result<AddressRecord, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut keep = |result: Result<Option<String>, FieldError>| {
            result.map_err(|e| errors.push(e)).ok().flatten()
        };
        let compound = keep(label("compound", &raw.compound));
        let road = keep(label("road", &raw.road));
        let road_number = keep(label("road_number", &raw.road_number));
        let building = keep(label("building", &raw.building));
        let unit = keep(label("unit", &raw.unit));
        let floor = keep(label("floor", &raw.floor));
        let room = keep(label("room", &raw.room));
        let community_code = match DivisionCode::parse(&raw.community_code) {
            Ok(code) if code.as_str().len() == 12 => Some(code),
            _ => {
                errors.push(FieldError::new(
                    "community_code",
                    Reason::InvalidFormat {
                        expected: "community_code",
                    },
                ));
                None
            }
        };
        let grid_code = match optional(&raw.grid_code) {
            Some(text) => match GridCode::parse("grid_code", &text) {
                Ok(grid) => {
                    if community_code
                        .as_ref()
                        .is_some_and(|c| c.as_str() != grid.community_code())
                    {
                        errors.push(FieldError::new(
                            "grid_code",
                            Reason::Conflict {
                                detail: "grid_outside_community",
                            },
                        ));
                    }
                    Some(grid)
                }
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
            None => None,
        };
        if building.is_none() {
            errors.push(FieldError::new("building", Reason::Required));
        }
        if compound.is_none() && road.is_none() {
            errors.push(FieldError::new("compound", Reason::Required));
        }
        if unit.is_some() && room.is_none() {
            errors.push(FieldError::new("room", Reason::Required));
        }
        // The range check is the one geo::Wgs84 makes everywhere.
        let location = match (coordinate("lat", &raw.lat), coordinate("lon", &raw.lon)) {
            (Ok(Some(lat)), Ok(Some(lon))) => Wgs84::new(lat, lon).map_err(|e| errors.push(e)).ok(),
            (Ok(None), Ok(None)) => None,
            (Ok(lat), Ok(_)) => {
                let missing = if lat.is_none() { "lat" } else { "lon" };
                errors.push(FieldError::new(missing, Reason::Required));
                None
            }
            (lat, lon) => {
                errors.extend(lat.err());
                errors.extend(lon.err());
                None
            }
        };
        let mut compound_aliases = Vec::new();
        for alias in raw.compound_aliases.split([';', '；', '、']) {
            match label("compound_aliases", alias) {
                Ok(Some(alias)) => compound_aliases.push(alias),
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        if !compound_aliases.is_empty() && compound.is_none() {
            errors.push(FieldError::new("compound", Reason::Required));
        }
        match (community_code, building, errors.is_empty()) {
            (Some(community_code), Some(building), true) => Ok(AddressRecord {
                community_code,
                grid_code,
                compound,
                road,
                road_number,
                building,
                unit,
                floor,
                room,
                compound_aliases,
                location,
            }),
            _ => Err(errors),
        }
    }

    /// Identifies the building whatever the labels' spelling: "3栋", "3幢"
    /// and "三号楼" in the same compound are one building.
    pub fn building_key(&self) -> String {
        let place = match (&self.compound, &self.road) {
            (Some(compound), _) => format!("c:{compound}"),
            (None, Some(road)) => format!(
                "r:{road}:{}",
                identifier(self.road_number.as_deref().unwrap_or(""))
            ),
            (None, None) => String::new(),
        };
        format!(
            "{}|{place}|{}",
            self.community_code.as_str(),
            identifier(&self.building)
        )
    }

    /// The room's unit and room identifiers, when the row is a room.
    pub fn room_key(&self) -> Option<(String, String)> {
        let room = self.room.as_deref()?;
        Some((
            identifier(self.unit.as_deref().unwrap_or("")),
            identifier(room),
        ))
    }

    /// The building's plate code (e码): the county's code and eight
    /// characters derived from the building key, so re-importing the same
    /// building always prints the same plate.
    pub fn plate_code(&self) -> String {
        plate_code(&self.building_key())
    }
}

/// Crockford base-32 without I, L, O, U: nothing to misread on a plate.
const PLATE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub fn plate_code(building_key: &str) -> String {
    let digest = Sha256::digest(building_key.as_bytes());
    let mut bits: u64 = u64::from_be_bytes(digest[..8].try_into().expect("eight bytes"));
    let mut code = String::with_capacity(15);
    code.push_str(&building_key[..6.min(building_key.len())]);
    code.push('-');
    for _ in 0..8 {
        code.push(PLATE_ALPHABET[(bits & 31) as usize] as char);
        bits >>= 5;
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawAddressRecord {
        RawAddressRecord {
            community_code: "510107001001".into(),
            grid_code: "510107001001002".into(),
            compound: "锦里小区".into(),
            building: "3栋".into(),
            unit: "2单元".into(),
            floor: "5".into(),
            room: "501".into(),
            lat: "30.6465".into(),
            lon: "104.0487".into(),
            ..Default::default()
        }
    }

    #[test]
    fn spellings_of_one_building_share_a_key_and_plate() {
        let a = AddressRecord::parse(&raw()).unwrap();
        let b = AddressRecord::parse(&RawAddressRecord {
            building: "三号楼".into(),
            ..raw()
        })
        .unwrap();
        assert_eq!(a.building_key(), b.building_key());
        assert_eq!(a.plate_code(), b.plate_code());
        assert!(a.plate_code().starts_with("510107-"));
        assert_eq!(a.plate_code().len(), 15);
        assert_eq!(a.room_key(), Some(("2".into(), "501".into())));
        let other = AddressRecord::parse(&RawAddressRecord {
            building: "4栋".into(),
            ..raw()
        })
        .unwrap();
        assert_ne!(a.plate_code(), other.plate_code());
    }

    #[test]
    fn every_wrong_field_is_named() {
        let errors = AddressRecord::parse(&RawAddressRecord {
            community_code: "51010700".into(),
            grid_code: "510107001009".into(),
            compound: String::new(),
            building: String::new(),
            lat: "91".into(),
            ..raw()
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["community_code", "grid_code", "building", "compound", "lat"]
        );
    }

    #[test]
    fn a_grid_belongs_to_its_community() {
        let errors = AddressRecord::parse(&RawAddressRecord {
            grid_code: "510107002001002".into(),
            ..raw()
        })
        .unwrap_err();
        assert_eq!(errors[0].field, "grid_code");
    }
}
