//! 威胁/暴力词语预警: threat and violence words in an incident text or a
//! mediation note, the evidence of a dispute that may turn violent (民转刑).

use std::collections::{BTreeMap, HashSet};

use fengqiao_core::warning::FoundThreat;
use serde::{Deserialize, Serialize};

use crate::lexicon::{Lexicon, Pattern};
use crate::table::TableError;

/// The threat rules shipped with Fengqiao, embedded in the binary.
pub const DEFAULT_THREATS_TOML: &str = include_str!("../data/threats.toml");

/// One threat rule: a kind of threat and the words that show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreatRule {
    /// Stable snake_case code, named in the warning.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub words: Vec<String>,
    /// Words that must be whole words of the segmented text (跳楼 but not
    /// 跳楼价); words of one character always are.
    #[serde(default)]
    pub whole_words: Vec<String>,
}

/// The configurable threat rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreatRules {
    /// Phrases that hide the threat words inside them (拼命工作, 刀削面).
    #[serde(default)]
    pub neutral: Vec<String>,
    #[serde(rename = "rule")]
    pub rules: Vec<ThreatRule>,
}

impl ThreatRules {
    pub fn from_toml(source: &str) -> Result<Self, TableError> {
        let rules: ThreatRules = toml::from_str(source)?;
        let mut seen = HashSet::new();
        for rule in &rules.rules {
            if !seen.insert(rule.code.as_str()) {
                return Err(TableError::DuplicateCode(rule.code.clone()));
            }
            if let Some(word) = rule.words.iter().find(|w| w.trim().is_empty()) {
                return Err(TableError::BadWord {
                    code: rule.code.clone(),
                    word: word.clone(),
                });
            }
            if let Some(word) = rule.whole_words.iter().find(|w| !rule.words.contains(w)) {
                return Err(TableError::UnknownWholeWord {
                    code: rule.code.clone(),
                    word: word.clone(),
                });
            }
        }
        Ok(rules)
    }
}

impl Default for ThreatRules {
    fn default() -> Self {
        // Checked by a unit test.
        Self::from_toml(DEFAULT_THREATS_TOML).expect("embedded threats.toml is valid")
    }
}

/// A threat word found in a text: which word, which rule, and where (byte
/// offsets into the text, end exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreatMatch {
    pub word: String,
    pub rule: String,
    pub start: usize,
    pub end: usize,
}

/// As the core's warning takes it: the rule's code is the kind of threat.
impl From<ThreatMatch> for FoundThreat {
    fn from(m: ThreatMatch) -> Self {
        FoundThreat {
            word: m.word,
            kind: m.rule,
            start: m.start,
            end: m.end,
        }
    }
}

/// 威胁词检测器: finds threat and violence words, negation understood:
/// "他说要弄死对方" names 弄死; "没有说要打人" finds nothing.
#[derive(Debug)]
pub struct ThreatDetector {
    lexicon: Lexicon,
    /// Pattern index → rule code; `None` for neutral phrases.
    rule_of: Vec<Option<String>>,
}

impl Default for ThreatDetector {
    fn default() -> Self {
        Self::new(ThreatRules::default()).expect("embedded threat rules build a matcher")
    }
}

impl ThreatDetector {
    pub fn new(rules: ThreatRules) -> Result<Self, TableError> {
        // A word in two rules is reported under the first.
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut patterns = Vec::new();
        let mut rule_of = Vec::new();
        for rule in &rules.rules {
            for word in &rule.words {
                let word = word.trim();
                if index.contains_key(word) {
                    continue;
                }
                index.insert(word.to_owned(), patterns.len());
                patterns.push(Pattern {
                    text: word.to_owned(),
                    whole_word: word.chars().count() == 1
                        || rule.whole_words.iter().any(|w| w == word),
                    neutral: false,
                });
                rule_of.push(Some(rule.code.clone()));
            }
        }
        for word in &rules.neutral {
            let word = word.trim();
            if word.is_empty() || index.contains_key(word) {
                continue;
            }
            index.insert(word.to_owned(), patterns.len());
            patterns.push(Pattern {
                text: word.to_owned(),
                whole_word: false,
                neutral: true,
            });
            rule_of.push(None);
        }
        Ok(Self {
            lexicon: Lexicon::new(patterns)?,
            rule_of,
        })
    }

    /// The threat words in `text` that are not negated, in text order.
    pub fn detect(&self, text: &str) -> Vec<ThreatMatch> {
        self.lexicon
            .find(text)
            .into_iter()
            .filter(|hit| !hit.negated)
            .filter_map(|hit| {
                let rule = self.rule_of[hit.pattern].clone()?;
                Some(ThreatMatch {
                    word: self.lexicon.pattern(hit.pattern).text.clone(),
                    rule,
                    start: hit.start,
                    end: hit.end,
                })
            })
            .collect()
    }
}
