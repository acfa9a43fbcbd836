//! Organisations, their tree and their jurisdictions (辖区).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Reason};
use crate::label::labels;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 省厅
    ProvinceBureau,
    /// 市局
    CityBureau,
    /// 分局 / 县局
    CountyBureau,
    /// 派出所
    PoliceStation,
    /// 综合指挥室
    CommandRoom,
    /// 联勤警务站
    JointDutyStation,
    /// 职能部门: urban management, market regulation, labour inspection, utilities…
    Department,
    /// 街道/乡镇综治中心
    GovernanceCentre,
    /// 战区: stations that reinforce each other.
    WarZone,
}

labels!(OrgKind {
    ProvinceBureau => ("省公安厅", "Provincial public security department"),
    CityBureau => ("市公安局", "City public security bureau"),
    CountyBureau => ("区县公安分局", "County public security bureau"),
    PoliceStation => ("派出所", "Police station"),
    CommandRoom => ("综合指挥室", "Command room"),
    JointDutyStation => ("联勤警务站", "Joint-duty station"),
    Department => ("职能部门", "Department"),
    GovernanceCentre => ("综治中心", "Governance centre"),
    WarZone => ("战区", "War zone"),
});

impl OrgKind {
    pub const ALL: [OrgKind; 9] = [
        OrgKind::ProvinceBureau,
        OrgKind::CityBureau,
        OrgKind::CountyBureau,
        OrgKind::PoliceStation,
        OrgKind::CommandRoom,
        OrgKind::JointDutyStation,
        OrgKind::Department,
        OrgKind::GovernanceCentre,
        OrgKind::WarZone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::ProvinceBureau => "province_bureau",
            OrgKind::CityBureau => "city_bureau",
            OrgKind::CountyBureau => "county_bureau",
            OrgKind::PoliceStation => "police_station",
            OrgKind::CommandRoom => "command_room",
            OrgKind::JointDutyStation => "joint_duty_station",
            OrgKind::Department => "department",
            OrgKind::GovernanceCentre => "governance_centre",
            OrgKind::WarZone => "war_zone",
        }
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrgKind {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "kind",
                    Reason::UnknownValue {
                        allowed: OrgKind::ALL.iter().map(|k| k.as_str().to_owned()).collect(),
                    },
                )
            })
    }
}

/// 行政区划代码: six digits (GB/T 2260, county and above), nine (township) or
/// twelve (village/community statistical code). Trailing zero groups of a
/// twelve-digit code are kept as given; containment is by prefix of the
/// significant part.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DivisionCode(String);

impl DivisionCode {
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let text = text.trim();
        let valid_length = matches!(text.len(), 6 | 9 | 12);
        if !valid_length || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                "division_codes",
                Reason::InvalidFormat {
                    expected: "division_code",
                },
            ));
        }
        Ok(DivisionCode(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code without its trailing zero levels: 510107000000 → 510107,
    /// 510000 → 51. Containment is a prefix test on this form.
    pub fn significant(&self) -> &str {
        let code = self.0.as_str();
        let mut end = code.len();
        // Levels: 2 (province), 2 (city), 2 (county), 3 (township), 3 (village).
        for width in [3, 3, 2, 2] {
            if end >= width + 2 && code[end - width..end].bytes().all(|b| b == b'0') {
                end -= width;
            } else {
                break;
            }
        }
        &code[..end.min(code.len())]
    }

    pub fn contains(&self, other: &DivisionCode) -> bool {
        other.significant().starts_with(self.significant())
    }
}

impl TryFrom<String> for DivisionCode {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        DivisionCode::parse(&value)
    }
}

impl From<DivisionCode> for String {
    fn from(code: DivisionCode) -> Self {
        code.0
    }
}

/// An organisation's place in the tree as the ids from the root down,
/// stored as "/1/4/9/" so a subtree is one prefix query in either backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrgPath(String);

impl OrgPath {
    pub fn root(id: i64) -> Self {
        OrgPath(format!("/{id}/"))
    }

    pub fn child(&self, id: i64) -> Self {
        OrgPath(format!("{}{id}/", self.0))
    }

    pub fn from_stored(text: String) -> Self {
        OrgPath(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this organisation or lies below it.
    pub fn contains(&self, other: &OrgPath) -> bool {
        other.0.starts_with(&self.0)
    }

    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.0.split('/').filter_map(|part| part.parse().ok())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub path: OrgPath,
    pub kind: OrgKind,
    /// For departments: what they own, e.g. `labour_inspection`. Routing rules
    /// match on it.
    pub department_type: Option<String>,
    pub name: String,
    pub division_codes: Vec<DivisionCode>,
}

impl Organisation {
    pub fn covers(&self, code: &DivisionCode) -> bool {
        self.division_codes.iter().any(|own| own.contains(code))
    }
}

/// A new organisation as submitted, checked before it reaches storage.
#[derive(Debug, Clone)]
pub struct NewOrganisation {
    pub parent_id: Option<i64>,
    pub kind: OrgKind,
    pub department_type: Option<String>,
    pub name: String,
    pub division_codes: Vec<DivisionCode>,
}

impl NewOrganisation {
    pub fn validate_name(name: &str) -> Result<String, FieldError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(FieldError::new("name", Reason::Required));
        }
        if name.chars().count() > 100 {
            return Err(FieldError::new("name", Reason::TooLong { max: 100 }));
        }
        Ok(name.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_codes_parse_and_nest() {
        let sichuan = DivisionCode::parse("510000").unwrap();
        let wuhou = DivisionCode::parse("510107").unwrap();
        let jiangxijie = DivisionCode::parse("510107001").unwrap();
        let community = DivisionCode::parse("510107001002").unwrap();
        assert!(sichuan.contains(&wuhou));
        assert!(wuhou.contains(&jiangxijie));
        assert!(jiangxijie.contains(&community));
        assert!(!wuhou.contains(&sichuan));
        assert_eq!(
            DivisionCode::parse("510107000000").unwrap().significant(),
            "510107"
        );
        assert!(DivisionCode::parse("51010").is_err());
        assert!(DivisionCode::parse("51010a").is_err());
    }

    #[test]
    fn paths_contain_their_subtree_only() {
        let county = OrgPath::root(1).child(4);
        let station = county.child(9);
        let other = OrgPath::root(1).child(40);
        assert!(county.contains(&station));
        assert!(county.contains(&county));
        assert!(!county.contains(&other));
        assert!(!station.contains(&county));
        assert_eq!(station.ids().collect::<Vec<_>>(), vec![1, 4, 9]);
    }
}
