//! Finding rule words in Chinese text: one implementation shared by the
//! classifier and the threat detector, so that both agree on what a word is
//! and on what negation cancels.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use jieba_rs::Jieba;

use crate::negation;

/// Texts longer than this are cut before analysis: a call or a field report
/// is a few sentences, and the bound keeps one pasted document from stalling
/// the intake pipeline.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// One word or phrase the lexicon looks for.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pub text: String,
    /// Must start and end on word boundaries found by segmentation, so that
    /// 抢 does not fire inside 抢修 nor 刀 inside 刀削面.
    pub whole_word: bool,
    /// Matches only to hide the shorter rule words inside it (跳楼价 hides 跳楼);
    /// never reported.
    pub neutral: bool,
}

/// A rule word found in a text, with its byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub pattern: usize,
    pub start: usize,
    pub end: usize,
    pub negated: bool,
}

#[derive(Debug)]
pub(crate) struct Lexicon {
    jieba: Jieba,
    automaton: AhoCorasick,
    patterns: Vec<Pattern>,
}

impl Lexicon {
    pub fn new(patterns: Vec<Pattern>) -> Result<Self, aho_corasick::BuildError> {
        let mut jieba = Jieba::new();
        // Rule words and the idioms that only look like negation become
        // dictionary words, so segmentation keeps them whole.
        for word in patterns
            .iter()
            .map(|p| p.text.as_str())
            .chain(negation::LOOKALIKES.iter().copied())
        {
            if word.chars().count() > 1 && !jieba.has_word(word) {
                jieba.add_word(word, None, None);
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .build(patterns.iter().map(|p| p.text.as_str()))?;
        Ok(Self {
            jieba,
            automaton,
            patterns,
        })
    }

    pub fn pattern(&self, index: usize) -> &Pattern {
        &self.patterns[index]
    }

    /// The rule words in `text` (byte offsets), in text order, shorter words
    /// inside a longer match dropped, each marked negated or not.
    pub fn find(&self, text: &str) -> Vec<Hit> {
        let text = truncate(text, MAX_TEXT_BYTES);
        let tokens = self.jieba.cut(text, true);
        let mut boundaries: Vec<usize> = tokens.iter().map(|t| t.byte_start).collect();
        boundaries.push(text.len());

        let mut hits: Vec<Hit> = self
            .automaton
            .find_overlapping_iter(text)
            .filter(|m| {
                !self.patterns[m.pattern().as_usize()].whole_word
                    || (boundaries.binary_search(&m.start()).is_ok()
                        && boundaries.binary_search(&m.end()).is_ok())
            })
            .map(|m| Hit {
                pattern: m.pattern().as_usize(),
                start: m.start(),
                end: m.end(),
                negated: false,
            })
            .collect();

        let inside_longer = |hit: &Hit, all: &[Hit]| {
            all.iter().any(|o| {
                o.start <= hit.start
                    && hit.end <= o.end
                    && (o.end - o.start) > (hit.end - hit.start)
            })
        };
        let kept: Vec<bool> = hits.iter().map(|h| !inside_longer(h, &hits)).collect();
        let mut kept = kept.into_iter();
        hits.retain(|_| kept.next().unwrap_or(false));
        hits.retain(|h| !self.patterns[h.pattern].neutral);

        for hit in &mut hits {
            hit.negated = negation::is_negated(text, &tokens, hit.start);
        }
        hits.sort_by_key(|h| (h.start, h.end));
        hits
    }
}

/// The longest prefix of `text` no longer than `max` bytes that ends on a
/// character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
