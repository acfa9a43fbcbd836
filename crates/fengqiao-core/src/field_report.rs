//! e治采: a field report (网格上报) by a grid worker or a village or
//! community cadre — a dispute found, a safety risk seen, a visit made —
//! at a standard address, with an optional photo.
//!
//! A report is a fact from the field, not a case: it does not move through
//! states. A report of a dispute can be registered as a dispute case (矛盾纠纷)
//! once; the report then names the case.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{FieldError, Reason};
use crate::label::labels;
use crate::text::bounded_text;

/// What the reporter found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldReportKind {
    /// 矛盾纠纷: a conflict between parties, to screen and perhaps register.
    Dispute,
    /// 安全隐患: a hazard to people or property.
    SafetyRisk,
    /// 走访: a routine call on a building or household, and what was seen.
    Visit,
}

/// (code, Chinese, English) of each category of a kind. Dispute categories
/// are the codes of `dispute::DisputeType`, so a report registers as a case
/// of the same type.
const DISPUTE_CATEGORIES: &[(&str, &str, &str)] = &[
    ("neighbour", "邻里纠纷", "Neighbours"),
    ("family_marriage", "婚姻家庭纠纷", "Family or marriage"),
    ("labour_wages", "劳动争议/欠薪", "Labour or wages"),
    ("property_management", "物业纠纷", "Property management"),
    ("land_demolition", "土地征收拆迁纠纷", "Land or demolition"),
    ("rental", "房屋租赁纠纷", "Rental"),
    ("consumer", "消费纠纷", "Consumer"),
    ("traffic", "交通事故纠纷", "Traffic"),
    ("other", "其他纠纷", "Other"),
];

const SAFETY_RISK_CATEGORIES: &[(&str, &str, &str)] = &[
    ("fire", "消防隐患（堵塞通道、飞线充电）", "Fire hazard"),
    ("gas", "燃气隐患", "Gas"),
    ("electrical", "用电隐患", "Electrical"),
    ("building", "房屋安全（危房、高空坠物）", "Building safety"),
    ("public_order", "治安隐患", "Public order"),
    ("road", "道路交通隐患", "Road traffic"),
    ("other", "其他隐患", "Other"),
];

const VISIT_CATEGORIES: &[(&str, &str, &str)] = &[
    ("routine", "日常走访", "Routine visit"),
    ("rental_housing", "出租房屋走访", "Rental housing"),
    ("business", "商户走访", "Business"),
    ("follow_up", "回访", "Follow-up"),
    ("other", "其他走访", "Other"),
];

labels!(FieldReportKind {
    Dispute => ("矛盾纠纷", "Dispute"),
    SafetyRisk => ("安全隐患", "Safety risk"),
    Visit => ("走访", "Visit"),
});

impl FieldReportKind {
    pub const ALL: [FieldReportKind; 3] = [
        FieldReportKind::Dispute,
        FieldReportKind::SafetyRisk,
        FieldReportKind::Visit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldReportKind::Dispute => "dispute",
            FieldReportKind::SafetyRisk => "safety_risk",
            FieldReportKind::Visit => "visit",
        }
    }

    /// The categories of this kind: (code, Chinese, English).
    pub fn categories(self) -> &'static [(&'static str, &'static str, &'static str)] {
        match self {
            FieldReportKind::Dispute => DISPUTE_CATEGORIES,
            FieldReportKind::SafetyRisk => SAFETY_RISK_CATEGORIES,
            FieldReportKind::Visit => VISIT_CATEGORIES,
        }
    }

    /// The category `code` of this kind, as the table spells it.
    pub fn category(self, code: &str) -> Result<&'static str, FieldError> {
        let categories = self.categories();
        categories
            .iter()
            .map(|(c, _, _)| *c)
            .find(|c| *c == code)
            .ok_or_else(|| {
                FieldError::new(
                    "category",
                    Reason::UnknownValue {
                        allowed: categories.iter().map(|(c, _, _)| (*c).to_owned()).collect(),
                    },
                )
            })
    }
}

impl fmt::Display for FieldReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FieldReportKind {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FieldReportKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "kind",
                    Reason::UnknownValue {
                        allowed: FieldReportKind::ALL
                            .iter()
                            .map(|k| k.as_str().to_owned())
                            .collect(),
                    },
                )
            })
    }
}

/// What a photo is, as its first bytes say — never as the client claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoType {
    Jpeg,
    Png,
    Webp,
}

impl PhotoType {
    pub const ALL: [PhotoType; 3] = [PhotoType::Jpeg, PhotoType::Png, PhotoType::Webp];

    pub fn media_type(self) -> &'static str {
        match self {
            PhotoType::Jpeg => "image/jpeg",
            PhotoType::Png => "image/png",
            PhotoType::Webp => "image/webp",
        }
    }

    pub fn from_media_type(text: &str) -> Option<PhotoType> {
        PhotoType::ALL.into_iter().find(|t| t.media_type() == text)
    }

    /// The type the bytes begin with: the JPEG SOI marker, the PNG
    /// signature, or a RIFF container of WebP.
    pub fn sniff(bytes: &[u8]) -> Option<PhotoType> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(PhotoType::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(PhotoType::Png)
        } else if bytes.len() >= 16 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(PhotoType::Webp)
        } else {
            None
        }
    }
}

/// A photo taken in the field: at most 5 MB, and a JPEG, PNG or WebP image
/// by its bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Photo {
    photo_type: PhotoType,
    bytes: Vec<u8>,
}

impl fmt::Debug for Photo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Photo")
            .field("photo_type", &self.photo_type)
            .field("size", &self.bytes.len())
            .finish()
    }
}

impl Photo {
    /// A phone camera's JPEG is 2–5 MB; more is not a photo worth keeping.
    pub const MAX_BYTES: usize = 5 * 1024 * 1024;

    pub fn parse(field: &str, bytes: Vec<u8>) -> Result<Photo, FieldError> {
        if bytes.is_empty() {
            return Err(FieldError::new(field, Reason::Required));
        }
        if bytes.len() > Self::MAX_BYTES {
            return Err(FieldError::new(
                field,
                Reason::TooLarge {
                    max_bytes: Self::MAX_BYTES,
                },
            ));
        }
        let photo_type = PhotoType::sniff(&bytes)
            .ok_or_else(|| FieldError::new(field, Reason::InvalidFormat { expected: "photo" }))?;
        Ok(Photo { photo_type, bytes })
    }

    pub fn photo_type(&self) -> PhotoType {
        self.photo_type
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// What a reporter typed, before validation. The address is resolved to a
/// building by the layer that can read the registry.
#[derive(Debug, Clone, Default)]
pub struct FieldReportInput<'a> {
    pub kind: Option<&'a str>,
    pub category: Option<&'a str>,
    pub description: Option<&'a str>,
    pub address_text: Option<&'a str>,
    /// Already decoded from its transport encoding; `None` without a photo.
    pub photo: Option<Vec<u8>>,
}

/// A field report that passed validation, not yet located or stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFieldReport {
    pub kind: FieldReportKind,
    pub category: &'static str,
    pub description: String,
    pub address_text: String,
    pub photo: Option<Photo>,
}

impl NewFieldReport {
    pub const MAX_DESCRIPTION_CHARS: usize = 2000;
    pub const MAX_ADDRESS_CHARS: usize = 200;

    /// Every wrong field at once. The category is checked against the kind
    /// only when the kind is valid.
    pub fn parse(input: FieldReportInput<'_>) -> Result<NewFieldReport, Vec<FieldError>> {
        let mut errors = Vec::new();
        let kind = match present(input.kind) {
            None => {
                errors.push(FieldError::new("kind", Reason::Required));
                None
            }
            Some(k) => FieldReportKind::from_str(k)
                .map_err(|e| errors.push(e))
                .ok(),
        };
        let category = match (kind, present(input.category)) {
            (_, None) => {
                errors.push(FieldError::new("category", Reason::Required));
                None
            }
            (Some(kind), Some(code)) => kind.category(code).map_err(|e| errors.push(e)).ok(),
            (None, Some(_)) => None,
        };
        let description = bounded_text(
            "description",
            input.description.unwrap_or(""),
            Self::MAX_DESCRIPTION_CHARS,
        )
        .map_err(|e| errors.push(e))
        .ok();
        let address_text = bounded_text(
            "address_text",
            input.address_text.unwrap_or(""),
            Self::MAX_ADDRESS_CHARS,
        )
        .map_err(|e| errors.push(e))
        .ok();
        let photo = match input.photo {
            None => None,
            Some(bytes) => Photo::parse("photo", bytes)
                .map_err(|e| errors.push(e))
                .ok(),
        };
        match (kind, category, description, address_text) {
            (Some(kind), Some(category), Some(description), Some(address_text))
                if errors.is_empty() =>
            {
                Ok(NewFieldReport {
                    kind,
                    category,
                    description,
                    address_text,
                    photo,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Where a report lies, as the registry answered: the building, its grid
/// and community, and the station that answers for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPlace {
    pub building_id: i64,
    pub grid_id: Option<i64>,
    pub community_code: String,
    pub station_org_id: i64,
}

/// A stored photo's type and size; its bytes are read only when served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoInfo {
    pub photo_type: PhotoType,
    pub size: usize,
}

/// e治采 as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldReport {
    pub id: i64,
    pub kind: FieldReportKind,
    pub category: String,
    pub description: String,
    pub address_text: String,
    pub place: ReportPlace,
    /// The signed-in account that filed it.
    pub reporter_user_id: i64,
    pub reported_at: Timestamp,
    pub photo: Option<PhotoInfo>,
    /// The dispute case it was registered as, if any.
    pub dispute_id: Option<i64>,
    /// The incident the station took it in as (警情), if any: once.
    pub incident_id: Option<i64>,
}

/// Why a report cannot be registered as a dispute case. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldReportError {
    #[error("a field report of kind {0} is not a dispute")]
    NotADispute(FieldReportKind),
    #[error("the field report is already registered as dispute {0}")]
    AlreadyRegistered(i64),
}

impl FieldReport {
    /// 登记为矛盾纠纷: only a report of a dispute, and only once.
    pub fn register_as_dispute(&self, dispute_id: i64) -> Result<FieldReport, FieldReportError> {
        if self.kind != FieldReportKind::Dispute {
            return Err(FieldReportError::NotADispute(self.kind));
        }
        if let Some(existing) = self.dispute_id {
            return Err(FieldReportError::AlreadyRegistered(existing));
        }
        Ok(FieldReport {
            dispute_id: Some(dispute_id),
            ..self.clone()
        })
    }
}

impl FieldReport {
    /// What the incident taken in from this report says: the kind and
    /// category the grid worker chose, then their words, so the triage
    /// reads both; cut at an incident text's length.
    pub fn incident_text(&self) -> String {
        let category = self
            .kind
            .categories()
            .iter()
            .find(|(code, _, _)| *code == self.category)
            .map_or(self.category.as_str(), |(_, zh, _)| zh);
        let text = format!(
            "【网格上报·{}·{category}】{}",
            crate::label::Label::zh(self.kind),
            self.description
        );
        // A report's description may be as long as an incident's text.
        text.chars()
            .take(crate::incident::IncidentText::MAX_CHARS)
            .collect()
    }
}

/// The text when there is some besides blanks.
fn present(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];

    fn input() -> FieldReportInput<'static> {
        FieldReportInput {
            kind: Some("dispute"),
            category: Some("neighbour"),
            description: Some("3栋2单元楼上楼下因漏水争吵，双方情绪激动"),
            address_text: Some("锦里小区3栋2单元"),
            photo: Some(JPEG.to_vec()),
        }
    }

    #[test]
    fn a_complete_report_parses_with_its_photo_typed_by_its_bytes() {
        let report = NewFieldReport::parse(input()).unwrap();
        assert_eq!(report.kind, FieldReportKind::Dispute);
        assert_eq!(report.category, "neighbour");
        assert_eq!(report.photo.unwrap().photo_type(), PhotoType::Jpeg);
    }

    #[test]
    fn every_wrong_field_is_named_at_once() {
        let errors = NewFieldReport::parse(FieldReportInput {
            kind: Some("rumour"),
            category: Some("neighbour"),
            description: Some("  "),
            address_text: None,
            photo: Some(b"GIF89a not allowed".to_vec()),
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["kind", "description", "address_text", "photo"]);
        assert_eq!(
            errors[3].reason,
            Reason::InvalidFormat { expected: "photo" }
        );
    }

    #[test]
    fn a_category_belongs_to_its_kind() {
        let errors = NewFieldReport::parse(FieldReportInput {
            kind: Some("visit"),
            category: Some("neighbour"),
            ..input()
        })
        .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "category");
        assert!(NewFieldReport::parse(FieldReportInput {
            kind: Some("safety_risk"),
            category: Some("fire"),
            ..input()
        })
        .is_ok());
    }

    #[test]
    fn photos_are_known_by_their_signature_and_limited_in_size() {
        assert_eq!(
            PhotoType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(PhotoType::Png)
        );
        assert_eq!(
            PhotoType::sniff(b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0"),
            Some(PhotoType::Webp)
        );
        assert_eq!(PhotoType::sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(PhotoType::sniff(b"<svg xmlns="), None);
        let mut big = JPEG.to_vec();
        big.resize(Photo::MAX_BYTES + 1, 0);
        assert_eq!(
            Photo::parse("photo", big).unwrap_err().reason,
            Reason::TooLarge {
                max_bytes: Photo::MAX_BYTES
            }
        );
        assert_eq!(
            Photo::parse("photo", Vec::new()).unwrap_err().reason,
            Reason::Required
        );
    }

    #[test]
    fn dispute_categories_are_the_dispute_types_of_a_case() {
        for (code, _, _) in FieldReportKind::Dispute.categories() {
            assert!(
                code.parse::<crate::dispute::DisputeType>().is_ok(),
                "{code} is not a dispute type"
            );
        }
    }

    #[test]
    fn only_a_dispute_registers_as_a_case_and_only_once() {
        let report = FieldReport {
            id: 1,
            kind: FieldReportKind::Dispute,
            category: "neighbour".into(),
            description: "漏水争吵".into(),
            address_text: "锦里小区3栋".into(),
            place: ReportPlace {
                building_id: 5,
                grid_id: Some(2),
                community_code: "510107001001".into(),
                station_org_id: 3,
            },
            reporter_user_id: 9,
            reported_at: Timestamp(1_764_000_000_000),
            photo: None,
            dispute_id: None,
            incident_id: None,
        };
        assert_eq!(
            report.incident_text(),
            "【网格上报·矛盾纠纷·邻里纠纷】漏水争吵"
        );
        let registered = report.register_as_dispute(40).unwrap();
        assert_eq!(registered.dispute_id, Some(40));
        assert_eq!(
            registered.register_as_dispute(41),
            Err(FieldReportError::AlreadyRegistered(40))
        );
        let visit = FieldReport {
            kind: FieldReportKind::Visit,
            ..report
        };
        assert_eq!(
            visit.register_as_dispute(40),
            Err(FieldReportError::NotADispute(FieldReportKind::Visit))
        );
    }
}
