//! Negation (否定): "没有打架", "没打人", "并未受伤", "不是诈骗" — the negated word
//! must not count. A negation word covers the words after it up to the end of
//! its clause: punctuation, a turn word (但, 就, 还, 结果…) or a few words on.
//!
//! Prohibitions (别, 不要) are deliberately not negation: "别打了" is shouted
//! during a fight and "别跳楼" at someone about to jump; the danger is real.

use jieba_rs::Token;

/// Words that negate what follows them in the same clause.
const NEGATORS: &[&str] = &[
    "没",
    "没有",
    "未",
    "并未",
    "并没",
    "并没有",
    "从未",
    "从没",
    "从没有",
    "从来没",
    "从来没有",
    "根本没",
    "根本没有",
    "也没",
    "也没有",
    "都没",
    "都没有",
    "还没",
    "还没有",
    "尚未",
    "未曾",
    "不是",
    "并不是",
    "也不是",
    "都不是",
    "并非",
    "不",
    "并不",
    "无",
    "毫无",
    "否认",
    "没再",
    "不曾",
    "没人",
    "没有人",
];

/// Idioms that begin like a negation but negate nothing that follows
/// ("没想到他拿刀" is a knife). Given to segmentation as whole words.
pub(crate) const LOOKALIKES: &[&str] = &[
    "没想到",
    "没过多久",
    "没多久",
    "没一会",
    "没几天",
    "没几分钟",
    "不一会",
    "不一会儿",
    "不久",
    "不停",
    "不断",
    "不住",
    "不知道",
    "不清楚",
    "不管",
    "不让",
    "不光",
    "不仅",
    "不到",
    "没办法",
    "没法",
    "不得不",
    "无论",
    "无缘无故",
    "没完没了",
    "不少",
];

/// Words that end a negation's scope: the clause turns or moves on.
const SCOPE_BREAKERS: &[&str] = &[
    "但", "但是", "可是", "可", "却", "就", "还", "又", "结果", "然后", "后来", "而是", "反而",
    "只是", "于是", "而且", "并且", "同时", "才", "现在", "已经", "倒是",
];

/// After 不 these verbs make a refusal, which is itself the complaint:
/// "不给算工伤", "不肯退钱" report a refused injury claim and refund.
const REFUSALS: &[&str] = &[
    "给", "肯", "愿", "愿意", "让", "发", "退", "还", "同意", "承认", "认", "认账",
];

/// How many words after a negation word it still covers.
const SCOPE_WORDS: usize = 8;

/// Whether the word starting at byte `start` of `text` is negated.
/// `tokens` is the segmentation of `text`.
pub(crate) fn is_negated(text: &str, tokens: &[Token<'_>], start: usize) -> bool {
    let Some(index) = tokens
        .iter()
        .position(|t| t.byte_start <= start && start < t.byte_end)
    else {
        return false;
    };
    // A phrase may start inside a segment: "没打人" can come out as 没打/人.
    let token = &tokens[index];
    let before = &text[token.byte_start..start];
    if !before.is_empty() {
        return NEGATORS.iter().any(|n| before.ends_with(n));
    }
    let scope = index.saturating_sub(SCOPE_WORDS)..index;
    for i in scope.rev() {
        let word = tokens[i].word;
        if ends_clause(word) {
            return false;
        }
        if NEGATORS.contains(&word) {
            let refusal = word.ends_with('不')
                && tokens
                    .get(i + 1)
                    .is_some_and(|next| i + 1 < index && REFUSALS.contains(&next.word));
            return !refusal;
        }
    }
    false
}

fn ends_clause(word: &str) -> bool {
    SCOPE_BREAKERS.contains(&word)
        || word
            .chars()
            .any(|c| c.is_whitespace() || c.is_ascii_punctuation() || is_cjk_punctuation(c))
}

fn is_cjk_punctuation(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '！'
            | '？'
            | '；'
            | '：'
            | '、'
            | '…'
            | '—'
            | '（'
            | '）'
            | '“'
            | '”'
            | '‘'
            | '’'
            | '《'
            | '》'
            | '～'
            | '·'
    )
}
