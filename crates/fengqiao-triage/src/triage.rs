//! 警情分类建议: from an incident's text to a suggested category, group,
//! priority and owner, with the words that decided.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::lexicon::{Lexicon, Pattern};
use crate::table::{CategoryTable, Group, RouteTo, TableError, FALLBACK_CATEGORY};

/// A rule word found in the text and the category it counted for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matched {
    pub word: String,
    pub weight: f32,
    pub category: String,
}

/// 分类建议: what triage suggests for one text. An operator sees `matched`
/// (and `negated`) and may override the category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriageSuggestion {
    /// Category code from the table.
    pub category: String,
    pub group: Group,
    /// 1 is the most urgent, 4 the least.
    pub priority: u8,
    pub route_to: RouteTo,
    /// The words that counted, in text order.
    pub matched: Vec<Matched>,
    /// Words found but cancelled by a negation ("没有打架").
    pub negated: Vec<Matched>,
    /// 0 when nothing matched; near 1 when strong evidence points to one
    /// category alone.
    pub confidence: f32,
}

#[derive(Debug, Clone, Default)]
struct PatternRole {
    /// (category index, weight)
    categories: Vec<(usize, f32)>,
    danger: bool,
}

/// 警情分类器: suggests a category for incident text.
#[derive(Debug)]
pub struct Triage {
    table: CategoryTable,
    lexicon: Lexicon,
    roles: Vec<PatternRole>,
    fallback: usize,
}

impl Default for Triage {
    /// Triage with the embedded default table.
    fn default() -> Self {
        // The embedded table's words are checked by the unit tests.
        Self::new(CategoryTable::default()).expect("embedded table builds a matcher")
    }
}

impl Triage {
    /// Builds the matcher for a table (segmentation dictionary, phrase
    /// automaton). Takes a fraction of a second; build once and share.
    pub fn new(table: CategoryTable) -> Result<Self, TableError> {
        table.validate()?;
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut roles: Vec<PatternRole> = Vec::new();
        let mut slot = |word: &str, patterns: &mut Vec<Pattern>, roles: &mut Vec<PatternRole>| {
            let word = word.trim();
            *index.entry(word.to_owned()).or_insert_with(|| {
                patterns.push(Pattern {
                    text: word.to_owned(),
                    whole_word: word.chars().count() == 1,
                    neutral: true,
                });
                roles.push(PatternRole::default());
                patterns.len() - 1
            })
        };
        for (ci, category) in table.categories.iter().enumerate() {
            for (word, &weight) in &category.words {
                let i = slot(word, &mut patterns, &mut roles);
                patterns[i].neutral = false;
                patterns[i].whole_word |= category.whole_words.iter().any(|w| w == word);
                roles[i].categories.push((ci, weight));
            }
        }
        for word in &table.signals.danger {
            let i = slot(word, &mut patterns, &mut roles);
            patterns[i].neutral = false;
            roles[i].danger = true;
        }
        for word in &table.signals.neutral {
            slot(word, &mut patterns, &mut roles);
        }
        let fallback = table
            .categories
            .iter()
            .position(|c| c.code == FALLBACK_CATEGORY)
            .ok_or(TableError::NoFallback)?;
        Ok(Self {
            lexicon: Lexicon::new(patterns)?,
            table,
            roles,
            fallback,
        })
    }

    /// The table this triage was built from.
    pub fn table(&self) -> &CategoryTable {
        &self.table
    }

    /// Suggests a category for `text`. Never fails: a text nothing matches
    /// is `other`, non-police, for the street governance centre.
    pub fn suggest(&self, text: &str) -> TriageSuggestion {
        let categories = &self.table.categories;
        let mut scores = vec![0.0_f32; categories.len()];
        let mut counted: HashSet<(usize, usize)> = HashSet::new();
        let mut matched = Vec::new();
        let mut negated = Vec::new();
        let mut danger = false;

        for hit in self.lexicon.find(text) {
            let role = &self.roles[hit.pattern];
            let word = &self.lexicon.pattern(hit.pattern).text;
            danger |= role.danger && !hit.negated;
            for &(ci, weight) in &role.categories {
                let category = &categories[ci];
                let entry = Matched {
                    word: word.clone(),
                    weight,
                    category: category.code.clone(),
                };
                if hit.negated && category.negatable {
                    negated.push(entry);
                } else if counted.insert((hit.pattern, ci)) {
                    // A word said twice is still one piece of evidence.
                    scores[ci] += weight;
                    matched.push(entry);
                }
            }
        }

        let rank = |ci: usize| (scores[ci], std::cmp::Reverse(categories[ci].priority));
        let best_of = |police_only: bool| {
            (0..categories.len())
                .filter(|&ci| scores[ci] > 0.0)
                .filter(|&ci| !police_only || categories[ci].group == Group::Police)
                .fold(None::<usize>, |best, ci| match best {
                    Some(b) if rank(b) >= rank(ci) => Some(b),
                    _ => Some(ci),
                })
        };
        // Danger to a person outranks every non-police reading of the text.
        let chosen = if danger { best_of(true) } else { None }
            .or_else(|| best_of(false))
            .filter(|&ci| scores[ci] >= self.table.min_score);

        let Some(ci) = chosen else {
            let other = &categories[self.fallback];
            return TriageSuggestion {
                category: other.code.clone(),
                group: other.group,
                priority: other.priority,
                route_to: other.route_to,
                matched,
                negated,
                confidence: 0.0,
            };
        };

        let category = &categories[ci];
        let best = scores[ci];
        let runner_up = (0..categories.len())
            .filter(|&o| o != ci)
            .map(|o| scores[o].max(0.0))
            .fold(0.0_f32, f32::max);
        // Confidence grows with the evidence (saturating at a score of 4) and
        // with the margin over the next category.
        let confidence = (best / 4.0).min(1.0) * best / (best + runner_up);
        let priority = if danger && category.group == Group::Police {
            1
        } else {
            category.priority
        };
        TriageSuggestion {
            category: category.code.clone(),
            group: category.group,
            priority,
            route_to: category.route_to,
            matched,
            negated,
            confidence: (confidence * 100.0).round() / 100.0,
        }
    }
}
