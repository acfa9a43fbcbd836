//! Text normalisation and the rules that derive short names from official ones.

use crate::division::Level;

/// The one separator normalised text uses for spaces and punctuation.
pub const SEPARATOR: char = ' ';

/// The 56 ethnic groups' names as they appear in autonomous division names.
const ETHNIC_GROUPS: &[&str] = &[
    "柯尔克孜",
    "维吾尔",
    "哈萨克",
    "布依",
    "朝鲜",
    "土家",
    "哈尼",
    "傈僳",
    "拉祜",
    "东乡",
    "纳西",
    "景颇",
    "达斡尔",
    "仫佬",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
    "蒙古",
    "回",
    "藏",
    "苗",
    "彝",
    "壮",
    "满",
    "侗",
    "瑶",
    "白",
    "傣",
    "黎",
    "佤",
    "畲",
    "水",
    "土",
    "羌",
    "怒",
    "京",
    "各",
];

/// Official suffixes per level, longest first so the longest is stripped.
fn level_suffixes(level: Level) -> &'static [&'static str] {
    match level {
        Level::Province => &["特别行政区", "自治区", "省", "市"],
        Level::City => &["自治州", "地区", "市", "盟", "州"],
        Level::County => &[
            "自治县",
            "自治旗",
            "新区",
            "林区",
            "特区",
            "区",
            "县",
            "市",
            "旗",
        ],
        Level::Township => &[
            "街道办事处",
            "民族乡",
            "民族镇",
            "街道",
            "苏木",
            "地区",
            "镇",
            "乡",
        ],
        Level::Village => &["居委会", "村委会", "社区", "村"],
    }
}

/// Suffixes a name of this level is also written with, because divisions
/// change kind (县 → 市 → 区, 乡 → 镇 → 街道, 地区 → 市) more often than name.
pub fn variant_suffixes(level: Level) -> &'static [&'static str] {
    match level {
        Level::Province => &["省"],
        Level::City => &["市", "地区"],
        Level::County => &["区", "县", "市"],
        Level::Township => &["镇", "乡", "街道"],
        Level::Village => &[],
    }
}

/// The name without its level suffix and ethnic qualifier: 广西壮族自治区 → 广西,
/// 浆洗街街道 → 浆洗街, 恩施土家族苗族自治州 → 恩施. `None` when what is left would
/// be shorter than two characters (城区, 矿区) and so too ambiguous to match alone.
pub fn core_name(name: &str, level: Level) -> Option<&str> {
    let suffix = level_suffixes(level)
        .iter()
        .find(|s| name.ends_with(*s) && name.len() > s.len())?;
    let mut core = &name[..name.len() - suffix.len()];
    let ethnic = suffix.starts_with("自治") || suffix.starts_with("民族");
    if ethnic || (level == Level::Township && suffix.ends_with('乡')) {
        core = strip_ethnic(core);
    }
    if core.chars().count() >= 2 && core != name {
        Some(core)
    } else {
        None
    }
}

/// Strips trailing "X族" qualifiers: 长阳土家族 → 长阳, 恩施土家族苗族 → 恩施.
fn strip_ethnic(mut core: &str) -> &str {
    loop {
        let Some(without_zu) = core.strip_suffix('族') else {
            return core;
        };
        let Some(group) = ETHNIC_GROUPS.iter().find(|g| without_zu.ends_with(*g)) else {
            return core;
        };
        let rest = &without_zu[..without_zu.len() - group.len()];
        if rest.chars().count() < 2 {
            return core;
        }
        core = rest;
    }
}

/// Whether a name is nothing but a level suffix (a placeholder row such as 街道).
pub fn is_bare_suffix(name: &str) -> bool {
    [Level::Province, Level::City, Level::County, Level::Township]
        .iter()
        .any(|&level| level_suffixes(level).contains(&name))
}

/// Whether a character is part of a word (CJK, letter or digit) rather than punctuation.
pub fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '#' || c == '-' || (c as u32 >= 0x3400 && !is_cjk_punct(c))
}

fn is_cjk_punct(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x303F | 0xFE10..=0xFE6F | 0xFF00..=0xFF0F | 0xFF1A..=0xFF20)
        || matches!(c, '【' | '】' | '“' | '”' | '‘' | '’' | '…' | '—' | '·')
}

/// Normalises what people type: full-width to half-width, letters upper-case,
/// remarks in parentheses dropped, every run of spaces and punctuation one
/// [`SEPARATOR`], and a dash kept only between two word characters.
pub fn normalize(text: &str, out: &mut String) {
    let mut chars = Vec::with_capacity(text.len());
    normalize_chars(text, &mut chars);
    out.clear();
    out.extend(chars);
}

/// [`normalize`] into characters, the form the resolver works on.
pub(crate) fn normalize_chars(text: &str, out: &mut Vec<char>) {
    out.clear();
    let mut paren_depth = 0u32;
    for raw in text.chars() {
        // Most characters are ideographs outside any parenthesis: push them straight.
        if paren_depth == 0 && ('\u{4E00}'..='\u{9FFF}').contains(&raw) {
            push_word(out, raw);
            continue;
        }
        let c = half_width(raw);
        match c {
            '(' | '（' | '﹙' => {
                paren_depth += 1;
                continue;
            }
            ')' | '）' | '﹚' => {
                paren_depth = paren_depth.saturating_sub(1);
                push_separator(out);
                continue;
            }
            _ if paren_depth > 0 => continue,
            _ => {}
        }
        match c {
            'a'..='z' => push_word(out, c.to_ascii_uppercase()),
            '-' | '—' | '–' | '~' | '～' | '_' => push_dash(out),
            _ if c.is_ascii_digit() => push_digit(out, c),
            _ if c.is_ascii_alphanumeric() || c == '#' => push_word(out, c),
            _ if is_word_char(c) && !c.is_whitespace() => push_word(out, c),
            _ => push_separator(out),
        }
    }
    while matches!(out.last(), Some(&SEPARATOR) | Some('-')) {
        out.pop();
    }
}

#[inline]
fn push_word(out: &mut Vec<char>, c: char) {
    if out.last() == Some(&'-') && !c.is_ascii_alphanumeric() {
        out.pop();
        push_separator(out);
    }
    out.push(c);
}

/// 12一7一944: 一 typed for a dash between numbers.
fn push_digit(out: &mut Vec<char>, c: char) {
    if let [.., before, '一'] = out.as_slice() {
        if before.is_ascii_alphanumeric() {
            out.pop();
            out.push('-');
        }
    }
    out.push(c);
}

fn push_dash(out: &mut Vec<char>) {
    match out.last() {
        Some('-') => {}
        Some(prev) if prev.is_ascii_alphanumeric() => out.push('-'),
        _ => push_separator(out),
    }
}

fn push_separator(out: &mut Vec<char>) {
    if out.last() == Some(&'-') {
        out.pop();
    }
    if !out.is_empty() && out.last() != Some(&SEPARATOR) {
        out.push(SEPARATOR);
    }
}

fn half_width(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(text: &str) -> String {
        let mut out = String::new();
        normalize(text, &mut out);
        out
    }

    #[test]
    fn core_names_follow_the_suffix_rules() {
        assert_eq!(core_name("广西壮族自治区", Level::Province), Some("广西"));
        assert_eq!(core_name("内蒙古自治区", Level::Province), Some("内蒙古"));
        assert_eq!(core_name("成都市", Level::City), Some("成都"));
        assert_eq!(core_name("恩施土家族苗族自治州", Level::City), Some("恩施"));
        assert_eq!(core_name("浆洗街街道", Level::Township), Some("浆洗街"));
        assert_eq!(core_name("长阳土家族自治县", Level::County), Some("长阳"));
        assert_eq!(core_name("常营回族乡", Level::Township), Some("常营"));
        assert_eq!(core_name("城区", Level::County), None);
        assert_eq!(core_name("浦东新区", Level::County), Some("浦东"));
    }

    #[test]
    fn normalisation_unifies_width_punctuation_and_remarks() {
        assert_eq!(norm("浙江省-金华市-义乌市"), "浙江省 金华市 义乌市");
        assert_eq!(
            norm("【碧玉江南１０－２０－１】(大足汽车站附近)"),
            "碧玉江南10-20-1"
        );
        assert_eq!(norm("ｂ栋 ３０１室"), "B栋 301室");
        assert_eq!(norm("朝阳路 1220弄 6-605  "), "朝阳路 1220弄 6-605");
        assert_eq!(norm("（县委附近）墨玉县"), "墨玉县");
        assert_eq!(norm("3#楼"), "3#楼");
        assert_eq!(norm("永安坊12一7一944"), "永安坊12-7-944");
        assert_eq!(norm("一单元十一楼"), "一单元十一楼");
    }
}
