//! The category table (警情类别表): what an incident can be, who owns it, how
//! urgent it is, and the weighted words that point to it. Loaded from TOML so
//! that a province or a station can adapt it without a new build.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

/// The table shipped with Fengqiao, embedded in the binary.
pub const DEFAULT_CATEGORIES_TOML: &str = include_str!("../data/categories.toml");

/// The category code used when no rule matches.
pub const FALLBACK_CATEGORY: &str = "other";

/// 警务类 / 非警务类: one definition, the core's.
pub use fengqiao_core::incident::Group;

/// The type of organisation an incident is routed to (分流去向); the routing
/// rules elsewhere turn a type plus a jurisdiction into one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteTo {
    /// 综合指挥室: every police incident.
    CommandRoom,
    /// 综合行政执法 / 城管.
    UrbanManagement,
    /// 市场监管.
    MarketRegulation,
    /// 劳动保障监察.
    LabourInspection,
    /// 住建 / 物业管理.
    HousingProperty,
    UtilitiesWater,
    UtilitiesPower,
    UtilitiesGas,
    /// 市政设施: manholes, street lights, roads, drains.
    MunicipalFacilities,
    /// 生态环境.
    Environment,
    /// 犬类管理 / 动物防疫.
    AnimalControl,
    /// 民政: help for vagrants and people without support.
    CivilAffairs,
    /// 司法所 / 人民调解: neighbour and family disputes.
    JusticeMediation,
    /// 街道综治中心: the default owner of anything unassigned.
    GovernanceCentre,
    /// 应急: dangers that need the emergency services at once (a gas smell).
    Emergency,
}

/// One category of the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Stable snake_case code, used in the API, the database and statistics.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub group: Group,
    /// A larger class for statistics (criminal, public_order, dispute…).
    pub class: String,
    /// 1 is the most urgent, 4 the least.
    pub priority: u8,
    pub route_to: RouteTo,
    /// Minutes the owner has to accept (签收) a work order or an incident.
    pub accept_minutes: u32,
    /// Minutes the owner has to finish and return it.
    pub finish_minutes: u32,
    /// Whether negation cancels this category's words. Off where the
    /// complaint is itself an absence: "不给工资", "没水", "孩子没回家".
    #[serde(default = "yes")]
    pub negatable: bool,
    /// Word or phrase → weight. Negative weights argue against the category.
    #[serde(default)]
    pub words: BTreeMap<String, f32>,
    /// Words here must be whole words of the segmented text; words of one
    /// character always are.
    #[serde(default)]
    pub whole_words: Vec<String>,
}

fn yes() -> bool {
    true
}

/// Signals that hold across categories.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signals {
    /// Danger to a person (刀, 流血, 打人, 抢): when one is present and not
    /// negated, the best police category wins over any non-police one and
    /// the priority becomes 1.
    #[serde(default)]
    pub danger: Vec<String>,
    /// Phrases that carry no weight but hide the rule words inside them
    /// (抢修 hides 抢, 跳楼价 hides 跳楼).
    #[serde(default)]
    pub neutral: Vec<String>,
}

/// 警情类别表: the configurable category table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryTable {
    /// The lowest score that still counts as a match; below it the text is
    /// `other`.
    #[serde(default = "default_min_score")]
    pub min_score: f32,
    #[serde(default)]
    pub signals: Signals,
    #[serde(rename = "category")]
    pub categories: Vec<Category>,
}

fn default_min_score() -> f32 {
    1.0
}

/// Why a category table was refused.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("category table is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("category code {0:?} appears twice")]
    DuplicateCode(String),
    #[error("category {0:?}: code must be snake_case ASCII (a-z, 0-9, _)")]
    BadCode(String),
    #[error("category {code:?}: priority {priority} is outside 1..=4")]
    BadPriority { code: String, priority: u8 },
    #[error("category {code:?}: the word {word:?} is empty or its weight is not a finite number")]
    BadWord { code: String, word: String },
    #[error("category {code:?}: whole word {word:?} is not one of its words")]
    UnknownWholeWord { code: String, word: String },
    #[error("category {code:?}: police categories route to command_room")]
    PoliceNotToCommandRoom { code: String },
    #[error(
        "the table has no {FALLBACK_CATEGORY:?} category (non-police) for texts nothing matches"
    )]
    NoFallback,
    #[error("an empty word in signals")]
    EmptySignal,
    #[error("the word matcher could not be built: {0}")]
    Matcher(#[from] aho_corasick::BuildError),
}

impl CategoryTable {
    /// Parses and checks a table written in TOML.
    pub fn from_toml(source: &str) -> Result<Self, TableError> {
        let table: CategoryTable = toml::from_str(source)?;
        table.validate()?;
        Ok(table)
    }

    /// The category with this code.
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// Checks what serde cannot: unique codes, sane priorities and weights,
    /// and a fallback category.
    pub fn validate(&self) -> Result<(), TableError> {
        let mut seen = HashSet::new();
        for c in &self.categories {
            let code_ok = !c.code.is_empty()
                && c.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !code_ok {
                return Err(TableError::BadCode(c.code.clone()));
            }
            if !seen.insert(c.code.as_str()) {
                return Err(TableError::DuplicateCode(c.code.clone()));
            }
            if !(1..=4).contains(&c.priority) {
                return Err(TableError::BadPriority {
                    code: c.code.clone(),
                    priority: c.priority,
                });
            }
            if c.group == Group::Police && c.route_to != RouteTo::CommandRoom {
                return Err(TableError::PoliceNotToCommandRoom {
                    code: c.code.clone(),
                });
            }
            for (word, weight) in &c.words {
                if word.trim().is_empty() || !weight.is_finite() {
                    return Err(TableError::BadWord {
                        code: c.code.clone(),
                        word: word.clone(),
                    });
                }
            }
            if let Some(word) = c.whole_words.iter().find(|w| !c.words.contains_key(*w)) {
                return Err(TableError::UnknownWholeWord {
                    code: c.code.clone(),
                    word: word.clone(),
                });
            }
        }
        match self.category(FALLBACK_CATEGORY) {
            Some(c) if c.group == Group::NonPolice => {}
            _ => return Err(TableError::NoFallback),
        }
        if self
            .signals
            .danger
            .iter()
            .chain(&self.signals.neutral)
            .any(|w| w.trim().is_empty())
        {
            return Err(TableError::EmptySignal);
        }
        Ok(())
    }
}

impl Default for CategoryTable {
    /// The embedded default table.
    fn default() -> Self {
        // The embedded table is checked by a unit test; failing here means the
        // binary was built from a broken data file.
        Self::from_toml(DEFAULT_CATEGORIES_TOML).expect("embedded categories.toml is valid")
    }
}
