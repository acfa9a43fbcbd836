//! Triage of incident text (警情分类) for Fengqiao: Chinese text → category,
//! group (police / non-police), priority and the type of organisation that
//! owns it, with the words that decided; and threat-word detection for early
//! warnings. Pure: no I/O, no async; the default tables are embedded.
//!
//! ```
//! use fengqiao_triage::{Group, Triage, ThreatDetector};
//!
//! let triage = Triage::default();
//! let s = triage.suggest("有人在小区门口打架，一个人头上流血了");
//! assert_eq!(s.category, "fight");
//! assert_eq!(s.group, Group::Police);
//!
//! let threats = ThreatDetector::default();
//! assert_eq!(threats.detect("他说要弄死对方")[0].word, "弄死");
//! assert!(threats.detect("没有说要打人").is_empty());
//! ```
//!
//! How a text is read: it is segmented with jieba (rule words added to its
//! dictionary), every rule word and phrase is found with one Aho-Corasick
//! automaton (phrases may span segments; one-character words and listed
//! whole words must align with segments), a word inside a longer found
//! phrase is dropped, and a negation word cancels the words after it up to
//! the end of its clause. Each category sums the weights of its words; danger
//! to a person (刀, 流血, 打人, 抢) makes the best police category win.

#![forbid(unsafe_code)]

mod lexicon;
mod lines;
mod negation;
mod table;
mod threat;
mod triage;

pub use lexicon::MAX_TEXT_BYTES;
pub use lines::{triage_lines, LineResult};
pub use table::{
    Category, CategoryTable, Group, RouteTo, Signals, TableError, DEFAULT_CATEGORIES_TOML,
    FALLBACK_CATEGORY,
};
pub use threat::{ThreatDetector, ThreatMatch, ThreatRule, ThreatRules, DEFAULT_THREATS_TOML};
pub use triage::{Matched, Triage, TriageSuggestion};

/// The labelled set (text TAB category code, one per line) written in the
/// words callers use: the accuracy test scores it, benchmarks send it.
pub const LABELLED_TSV: &str = include_str!("../data/labelled.tsv");
