//! Free-text address resolution: normalise, find every division name in the
//! text with one pass over a name index, choose the most consistent chain of parent
//! and child divisions, then scan what follows for road, compound and room.

use std::collections::HashMap;

use serde::Serialize;

use crate::detail;
use crate::division::{DivisionTable, Level, Status};
use crate::name_index::NameIndex;
use crate::names::{self, SEPARATOR};

/// How a name in the dictionary relates to its division; the order is the preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// 成都 for 成都市: only counts where it stands on its own.
    Short,
    /// 富阳市 for 富阳区: the same place with another level suffix.
    Variant,
    /// 襄樊市 for 襄阳市: an earlier name or a hand-kept alias.
    Former,
    /// The official name.
    Exact,
}

impl Kind {
    fn weight(self) -> f32 {
        match self {
            Kind::Short => 0.8,
            Kind::Variant => 0.85,
            Kind::Former => 0.95,
            Kind::Exact => 1.0,
        }
    }
}

/// A name's meaning, with the division's level and status copied in so the
/// hot path need not visit the table.
#[derive(Debug, Clone, Copy)]
struct Entry {
    division: u32,
    kind: Kind,
    level: Level,
    historic: bool,
    /// Whether a short name may follow this name directly (成都 → 武侯);
    /// the same for every entry of one name.
    anchor: bool,
    code: u64,
}

/// One division name found in the text (character offsets into the normalised text).
#[derive(Debug, Clone, Copy)]
struct Hit {
    division: u32,
    kind: Kind,
    start: usize,
    end: usize,
    weight: f32,
}

/// A division name as it was written in the text, for highlighting and scoring.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DivisionMention {
    /// The level the text names: a municipality (北京市) names its city level.
    pub level: Level,
    /// The words as written (after normalisation).
    pub text: String,
    pub code: String,
}

/// Another plausible reading of the divisions when the text is ambiguous.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alternative {
    pub province: Option<String>,
    pub city: Option<String>,
    pub county: Option<String>,
    pub township: Option<String>,
    /// Code of the deepest division of this reading.
    pub code: String,
}

/// The structured address. Division fields hold official full names (inferred
/// parents included); the rest hold what the text says, identifiers normalised.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResolvedAddress {
    pub province: Option<String>,
    pub city: Option<String>,
    pub county: Option<String>,
    pub township: Option<String>,
    pub community: Option<String>,
    pub road: Option<String>,
    pub road_number: Option<String>,
    pub compound: Option<String>,
    pub building: Option<String>,
    pub unit: Option<String>,
    pub floor: Option<String>,
    pub room: Option<String>,
    pub province_code: Option<String>,
    pub city_code: Option<String>,
    pub county_code: Option<String>,
    pub township_code: Option<String>,
    /// 0..1: how many levels the text confirmed, shared among equal readings.
    pub confidence: f32,
    pub alternatives: Vec<Alternative>,
    /// The division names found in the text, in text order.
    pub mentions: Vec<DivisionMention>,
}

impl ResolvedAddress {
    /// The mention of a level in the text, if the text named it.
    pub fn mention(&self, level: Level) -> Option<&DivisionMention> {
        self.mentions.iter().find(|m| m.level == level)
    }
}

/// What the hot path needs of a division, 16 bytes, so that walking parents
/// touches one small array instead of the table's names.
#[derive(Debug, Clone, Copy)]
struct Node {
    code: u64,
    parent: u32,
    level: Level,
    current: bool,
}

const NO_PARENT: u32 = u32::MAX;

/// A placeholder for fixed arrays of hits.
const NO_HIT: Hit = Hit {
    division: 0,
    kind: Kind::Short,
    start: 0,
    end: 0,
    weight: 0.0,
};

/// Buffers reused between resolutions on one thread.
#[derive(Default)]
struct Scratch {
    text: Vec<char>,
    raw: Vec<(u32, u32, usize, usize)>,
    hits: Vec<Hit>,
    townships: Vec<Hit>,
    scored: Vec<Scored>,
    /// Spans of the chosen lineage's hits, to find where the detail starts.
    spans: Vec<(usize, usize)>,
}

/// A candidate reading: its deepest division, score and tie-break rank.
type Scored = (
    u32,
    f32,
    (bool, std::cmp::Reverse<Level>, std::cmp::Reverse<u64>),
);

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// The resolver: the division table and its name index, built once and
/// shared (it is `Send + Sync`; resolution takes `&self`).
pub struct Resolver {
    table: DivisionTable,
    index: NameIndex,
    nodes: Vec<Node>,
    /// Number of distinct names.
    name_count: usize,
    entries: Vec<Entry>,
}

/// Characters that, right after a short name, show it is part of a longer
/// name of another kind: 中山路, 龙港镇, 武侯大道.
const SHORT_NAME_BREAKERS: &[char] = &[
    '省', '市', '区', '县', '镇', '乡', '街', '路', '道', '村', '旗', '州', '盟', '巷', '弄',
];
/// A full township name shared by more places than this says nothing on its
/// own (城关镇): it counts only where its county or city is in the text too.
const RARE_TOWNSHIP_NAME: usize = 8;
/// Whether the text after a short name shows it is part of a longer name of
/// another kind: 中山路, 龙港镇, 武侯大道, 中山东路, 兴平一路, 江南四区.
fn short_name_continues(after: &[char]) -> bool {
    const DIRECTIONS: &[char] = &['东', '西', '南', '北', '中'];
    const ROADS: &[char] = &['路', '街', '道', '巷', '大'];
    const NUMBERED: &[char] = &['路', '道', '街', '巷', '区'];
    let numeral = |c: &char| c.is_ascii_digit() || detail::is_chinese_digit(*c);
    match after {
        [c, ..] if SHORT_NAME_BREAKERS.contains(c) => true,
        ['大', '道' | '街', ..] => true,
        [d, r, ..] if DIRECTIONS.contains(d) && ROADS.contains(r) => true,
        [n, r, ..] if numeral(n) && NUMBERED.contains(r) => true,
        _ => false,
    }
}

/// Words that make the name before them the name of a zone or an estate.
const ZONE_WORDS: &[&[char]] = &[
    &['工', '业'],
    &['开', '发', '区'],
    &['经', '济'],
    &['园', '区'],
    &['科', '技', '园'],
    &['花', '园'],
    &['新', '园'],
    &['人', '家'],
    &['商', '务'],
    &['机', '场'],
    &['国', '际', '机', '场'],
];

fn starts_zone_name(after: &[char]) -> bool {
    ZONE_WORDS.iter().any(|w| detail::begins(after, w))
}

/// Gap (in characters) allowed between repeated division names before the detail starts.
const CHAIN_GAP: usize = 4;

impl Resolver {
    /// Builds the resolver over the embedded division table.
    pub fn new() -> Resolver {
        Resolver::with_table(DivisionTable::embedded())
    }

    /// Builds the resolver over any table (e.g. with villages added).
    pub fn with_table(table: DivisionTable) -> Resolver {
        let mut names: HashMap<String, Vec<Entry>> = HashMap::new();
        let mut add = |name: &str, division: u32, kind: Kind| {
            let list = names.entry(name.to_owned()).or_default();
            match list.iter_mut().find(|e| e.division == division) {
                Some(e) if e.kind < kind => e.kind = kind,
                Some(_) => {}
                None => list.push(Entry {
                    division,
                    kind,
                    level: Level::Province,
                    historic: false,
                    anchor: false,
                    code: 0,
                }),
            }
        };
        let official_cores: std::collections::HashSet<&str> = table
            .iter()
            .filter_map(|(_, d)| names::core_name(&d.name, d.level))
            .collect();
        for (index, division) in table.iter() {
            if division.level == Level::Village {
                continue;
            }
            if names::is_bare_suffix(&division.name) {
                continue;
            }
            add(&division.name, index, Kind::Exact);
            for former in &division.former_names {
                // 东街道 for 相山东街道: a former name with no core says too little.
                let coreless = names::core_name(former, division.level).is_none();
                if !(names::is_bare_suffix(former) || division.level == Level::Township && coreless)
                {
                    add(former, index, Kind::Former);
                }
            }
            let official = std::iter::once(&division.name);
            let with_former = official.chain(division.former_names.iter());
            for (n, name) in with_former.enumerate() {
                let Some(core) = names::core_name(name, division.level) else {
                    continue;
                };
                // 绍兴县 (now 柯桥区) lends its core to nothing: 绍兴 is the city.
                if n > 0 && official_cores.contains(core) {
                    continue;
                }
                add(core, index, Kind::Short);
                for suffix in names::variant_suffixes(division.level) {
                    add(&format!("{core}{suffix}"), index, Kind::Variant);
                }
            }
        }
        let mut patterns: Vec<(String, Vec<Entry>)> = names.into_iter().collect();
        patterns.sort_by(|a, b| a.0.cmp(&b.0));
        let mut entries = Vec::new();
        let mut ranges = Vec::with_capacity(patterns.len());
        for (_, list) in &mut patterns {
            for entry in list.iter_mut() {
                let division = table.get(entry.division);
                entry.level = division.level;
                entry.historic = division.status == Status::Historic;
                entry.code = division.code;
            }
            list.sort_by_key(|e| (e.level, e.division));
            let anchor = list
                .iter()
                .any(|e| e.kind != Kind::Short || e.level <= Level::City);
            for entry in list.iter_mut() {
                entry.anchor = anchor;
            }
            let start = entries.len() as u32;
            entries.extend(list.iter().copied());
            ranges.push((start, entries.len() as u32));
        }
        let index = NameIndex::new(
            patterns
                .iter()
                .zip(&ranges)
                .map(|((name, _), &range)| (name.as_str(), range)),
        );
        let nodes = table
            .iter()
            .map(|(_, d)| Node {
                code: d.code,
                parent: d.parent.unwrap_or(NO_PARENT),
                level: d.level,
                current: d.status == Status::Current,
            })
            .collect();
        Resolver {
            table,
            index,
            nodes,
            name_count: patterns.len(),
            entries,
        }
    }

    pub fn table(&self) -> &DivisionTable {
        &self.table
    }

    /// Number of names (official, former, variant, short) in the index.
    pub fn name_count(&self) -> usize {
        self.name_count
    }

    /// Approximate heap bytes of the whole index: table, names, entries.
    pub fn heap_bytes(&self) -> usize {
        self.table.heap_bytes()
            + self.index.heap_bytes()
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.nodes.capacity() * std::mem::size_of::<Node>()
    }

    /// Resolves one free-text address. Never panics, whatever the input.
    pub fn resolve(&self, text: &str) -> ResolvedAddress {
        // Filled in place: the address is a large value, and returning it up
        // through the helpers copied it several times.
        let mut address = ResolvedAddress::default();
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => self.resolve_with(text, &mut scratch, &mut address),
            Err(_) => self.resolve_with(text, &mut Scratch::default(), &mut address),
        });
        address
    }

    fn resolve_with(&self, text: &str, scratch: &mut Scratch, address: &mut ResolvedAddress) {
        let mut normalized = std::mem::take(&mut scratch.text);
        names::normalize_chars(text, &mut normalized);
        self.resolve_normalized(&normalized, scratch, address);
        scratch.text = normalized;
    }

    fn resolve_normalized(
        &self,
        text: &[char],
        scratch: &mut Scratch,
        address: &mut ResolvedAddress,
    ) {
        self.find_hits(text, scratch);
        let Scratch {
            hits,
            scored,
            spans,
            ..
        } = scratch;
        let hits = hits.as_slice();
        let Some(reading) = self.choose(hits, scored) else {
            fill_detail(address, detail::scan(text, true));
            address.confidence = if address.compound.is_some() || address.road.is_some() {
                0.1
            } else {
                0.0
            };
            return;
        };
        self.fill_divisions(address, reading.division);
        let chosen = self.lineage_hits(hits, reading.division);
        let mut chosen_hits = [(Level::Province, NO_HIT); 6];
        for (slot, &i) in chosen_hits.iter_mut().zip(chosen.hits()) {
            *slot = (self.mention_level(hits[i].division), hits[i]);
        }
        let mentions = &mut chosen_hits[..chosen.hits().len()];
        mentions.sort_unstable_by_key(|(_, h)| h.start);
        let chain_start = mentions.first().map_or(0, |(_, h)| h.start);
        // Repeated names of the chosen divisions (重庆重庆大足区中国重庆…) extend
        // the division part while each follows the last within a short gap.
        spans.clear();
        spans.extend(
            hits.iter()
                .filter(|h| h.start >= chain_start)
                .filter(|h| self.is_ancestor_or_self(h.division, reading.division))
                .map(|h| (h.start, h.end)),
        );
        spans.sort_unstable();
        let mut detail_start = 0;
        for &(start, end) in spans.iter() {
            if detail_start == 0 || start <= detail_start + CHAIN_GAP {
                detail_start = detail_start.max(end);
            }
        }
        address.mentions = mentions
            .iter()
            .map(|(level, h)| {
                let node = self.nodes[h.division as usize];
                // A mentioned division is in the lineage just filled in: copy
                // its code rather than format it again.
                let filled = match node.level {
                    Level::Province => &address.province_code,
                    Level::City => &address.city_code,
                    Level::County => &address.county_code,
                    _ => &address.township_code,
                };
                DivisionMention {
                    level: *level,
                    text: detail::chars_to_string(&text[h.start..h.end]),
                    code: filled.clone().unwrap_or_else(|| format_code(node.code)),
                }
            })
            .collect();
        let has_township = address.township.is_some();
        let detail = detail::scan(&text[detail_start..], !has_township);
        fill_detail(address, detail);
        let levels = address.mentions.len() as f32;
        let shared = 1.0 + reading.tied as f32;
        let exactness = if mentions.iter().all(|(_, h)| h.kind == Kind::Exact) {
            1.0
        } else {
            0.9
        };
        let confidence = (0.4 + 0.2 * levels).min(1.0) * exactness / shared;
        address.confidence = (confidence * 100.0).round().clamp(0.0, 100.0) / 100.0;
        address.alternatives = reading
            .alternatives
            .iter()
            .map(|&division| {
                let mut alt = ResolvedAddress::default();
                self.fill_divisions(&mut alt, division);
                Alternative {
                    province: alt.province,
                    city: alt.city,
                    county: alt.county,
                    township: alt.township,
                    code: format_code(self.nodes[division as usize].code),
                }
            })
            .collect();
    }

    /// Every division name in the text that may stand for a division there.
    /// Leaves them in `scratch.hits`, sorted by division.
    fn find_hits(&self, text: &[char], scratch: &mut Scratch) {
        let raw = &mut scratch.raw;
        raw.clear();
        self.index
            .find_all(division_part(text), |(from, to), start, end| {
                raw.push((from, to, start, end))
            });
        let raw = &*raw;
        let entries_of = |from: u32, to: u32| &self.entries[from as usize..to as usize];
        let anchored = |start: usize| {
            start == 0
                || text[start - 1] == SEPARATOR
                || raw.iter().any(|&(from, _, s, e)| {
                    e == start && s < start && self.entries[from as usize].anchor
                })
        };
        let broken = |end: usize| short_name_continues(&text[end.min(text.len())..]);
        let hits = &mut scratch.hits;
        hits.clear();
        let hit = |entry: &Entry, start, end| Hit {
            division: entry.division,
            kind: entry.kind,
            start,
            end,
            weight: entry.kind.weight() * if entry.historic { 0.95 } else { 1.0 },
        };
        for &(from, to, start, end) in raw {
            let entries = entries_of(from, to);
            let short_ok = !broken(end) && anchored(start);
            // 城东区 in 轻纺城东区 is not a county: a county's name starts the text
            // or follows a division, a separator or another division's suffix.
            let county_ok = anchored(start)
                || matches!(
                    text[start - 1],
                    '省' | '市' | '区' | '县' | '州' | '洲' | '盟' | '旗' | '国'
                );
            // 白云山, 九龙湖: a county's short name before 山 or 湖 names the
            // mountain or lake (a city's does not: 浙江湖州, 金华山口).
            let feature = matches!(text.get(end), Some('山' | '湖'));
            // 马山市场路: a variant name ending in 市 (马山县 written 马山市) before 场
            // is the word 市场 (market); an official name (义乌市场) still counts.
            let market = text[end - 1] == '市' && text.get(end) == Some(&'场');
            for entry in entries.iter().take_while(|e| e.level < Level::Township) {
                let ok = match (entry.kind, entry.level) {
                    (Kind::Short, Level::County) => short_ok && !feature,
                    (Kind::Short, _) => short_ok,
                    (Kind::Variant, _) if market => false,
                    (_, Level::County) => county_ok,
                    _ => true,
                };
                if ok {
                    hits.push(hit(entry, start, end));
                }
            }
        }
        // 城区, 郊区, 西区: a two-character county name is a common word unless its
        // city or province is named too. So is a county's short name that begins
        // the name of a zone or an estate (滨海工业园, 东洲花园, 西湖科技园): such
        // zones are often named after a town, not the far county of that name.
        let mut k = 0;
        while k < hits.len() {
            let h = hits[k];
            let county = self.nodes[h.division as usize].level == Level::County;
            let zone = h.kind == Kind::Short && starts_zone_name(&text[h.end..]);
            let common_word = county && (zone || (h.end - h.start == 2 && h.kind != Kind::Short));
            let parent_named = || {
                hits.iter().any(|a| {
                    a.division != h.division && self.is_ancestor_or_self(a.division, h.division)
                })
            };
            if common_word && !parent_named() {
                hits.swap_remove(k);
            } else {
                k += 1;
            }
        }
        // A township's short name counts only right after its own county or city;
        // a full township name shared by many places only with its county or city.
        let supported = |hits: &[Hit], code: u64| {
            let county = code / 1000;
            let city = code / 100_000 * 100;
            let province = code / 10_000_000 * 10_000;
            hits.iter().any(|h| {
                let c = self.nodes[h.division as usize].code;
                c == county || c == city || c == province
            })
        };
        let townships_found = &mut scratch.townships;
        townships_found.clear();
        for &(from, to, start, end) in raw {
            let entries = entries_of(from, to);
            let first = entries.partition_point(|e| e.level < Level::Township);
            let townships = &entries[first..];
            if townships.is_empty() {
                continue;
            }
            if broken(end) {
                continue;
            }
            let after_upper = hits.iter().any(|h| h.end == start);
            let after_own = |entry: &Entry| {
                hits.iter()
                    .any(|h| h.end == start && self.is_ancestor_or_self(h.division, entry.division))
            };
            // 九堡镇 is not 堡镇: a township name starts the text or follows a
            // division, and 乐清盘石镇 is not the 盘石镇 of another province.
            let at_start = start == 0 || text[start - 1] == SEPARATOR;
            let rare = townships.len() <= RARE_TOWNSHIP_NAME;
            for entry in townships {
                let keep = match entry.kind {
                    Kind::Short => after_upper && after_own(entry),
                    _ if after_upper => after_own(entry) || (rare && supported(hits, entry.code)),
                    _ => at_start && (rare || supported(hits, entry.code)),
                };
                if keep {
                    townships_found.push(hit(entry, start, end));
                }
            }
        }
        hits.extend_from_slice(townships_found);
        // 鹿城区 is not 城区: a name inside a longer name found there does not count.
        // In text order, longest first, a hit is inside a longer one when an
        // earlier hit reaches past its end, or to its end from further left.
        hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
        let mut reach = (0usize, 0usize);
        hits.retain(|h| {
            let inside = reach.1 > h.end || (reach.1 == h.end && reach.0 < h.start);
            if h.end > reach.1 {
                reach = (h.start, h.end);
            }
            !inside
        });
        hits.sort_by_key(|h| (h.division, h.start));
    }

    /// The deepest division whose lineage the text supports best.
    fn choose(&self, hits: &[Hit], scored: &mut Vec<Scored>) -> Option<Reading> {
        if hits.is_empty() {
            return None;
        }
        let rank = |d: u32| {
            let node = self.nodes[d as usize];
            (
                node.current,
                std::cmp::Reverse(node.level),
                std::cmp::Reverse(node.code),
            )
        };
        scored.clear();
        for (i, hit) in hits.iter().enumerate() {
            if i > 0 && hits[i - 1].division == hit.division {
                continue;
            }
            let score = self.lineage_hits(hits, hit.division).score;
            scored.push((hit.division, score, rank(hit.division)));
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.cmp(&a.2)));
        let (division, best, _) = scored[0];
        let mut tied = 0;
        let mut alternatives = Vec::new();
        for &(other, score, _) in &scored[1..] {
            if best - score > 0.05 || self.is_ancestor_or_self(other, division) {
                continue;
            }
            if alternatives
                .iter()
                .any(|&a| self.is_ancestor_or_self(other, a))
            {
                continue;
            }
            if best - score < 1e-4 {
                tied += 1;
            }
            if alternatives.len() < 5 {
                alternatives.push(other);
            }
        }
        Some(Reading {
            division,
            tied,
            alternatives,
        })
    }

    /// How well the text supports `division` and its ancestors: the best hit of
    /// each, top level first, where one span of text counts for one level only
    /// (长沙市 is the city, not also 长沙县 written with 市).
    fn lineage_hits(&self, hits: &[Hit], division: u32) -> Chosen {
        let mut lineage = [0u32; 5];
        let mut depth = 0;
        let mut member = division;
        while depth < lineage.len() {
            lineage[depth] = member;
            depth += 1;
            member = self.nodes[member as usize].parent;
            if member == NO_PARENT {
                break;
            }
        }
        let mut used: [(usize, usize); 5] = [(0, 0); 5];
        let mut used_count = 0;
        let overlaps_used =
            |used: &[(usize, usize)], h: &Hit| used.iter().any(|&(s, e)| h.start < e && s < h.end);
        let mut chosen = Chosen::default();
        for &member in lineage[..depth].iter().rev() {
            // The member's heaviest hit on unused text, the leftmost of equals
            // (hits are sorted by division, then start).
            let mut best: Option<usize> = None;
            let mut i = hits.partition_point(|h| h.division < member);
            while i < hits.len() && hits[i].division == member {
                let h = &hits[i];
                if !overlaps_used(&used[..used_count], h) {
                    let better = match best {
                        None => true,
                        Some(b) => {
                            let b = &hits[b];
                            h.weight > b.weight || (h.weight == b.weight && h.start == b.start)
                        }
                    };
                    if better {
                        best = Some(i);
                    }
                }
                i += 1;
            }
            if let Some(index) = best {
                let hit = &hits[index];
                used[used_count] = (hit.start, hit.end);
                used_count += 1;
                chosen.push(index, hit.weight);
            }
        }
        // 江干区白杨街道: the county named before a township may be its former
        // county (merged, renamed) in the same city; it counts for half.
        let own = self.nodes[division as usize];
        if own.level == Level::Township && depth >= 2 {
            let county = lineage[1];
            let named = chosen.hits().iter().any(|&i| hits[i].division == county);
            // Any mention of the township after the county will do: 大仓盖镇河北省
            // 张家口市宣化县大仓盖镇 repeats it.
            let from = hits.partition_point(|h| h.division < division);
            let own_hits =
                &hits[from..from + hits[from..].partition_point(|h| h.division == division)];
            let township_end = own_hits.iter().map(|h| h.start).max();
            let city = own.code / 100_000 * 100;
            let former = hits.iter().enumerate().find(|(_, h)| {
                let d = self.nodes[h.division as usize];
                d.level == Level::County
                    && d.code / 100 * 100 == city
                    && township_end.is_some_and(|t| h.end <= t)
                    && !overlaps_used(&used[..used_count], h)
            });
            if let (false, Some((index, hit))) = (named, former) {
                chosen.push(index, hit.weight * 0.5);
            }
        }
        chosen
    }

    /// `index` and its ancestors, nearest first.
    fn lineage(&self, index: u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(Some(index), move |&i| {
            let parent = self.nodes[i as usize].parent;
            (parent != NO_PARENT).then_some(parent)
        })
    }

    fn is_ancestor_or_self(&self, ancestor: u32, index: u32) -> bool {
        self.lineage(index).any(|i| i == ancestor)
    }

    /// A municipality's name (北京市) is the city level in what people write.
    fn mention_level(&self, index: u32) -> Level {
        let division = self.table.get(index);
        if division.level == Level::Province && is_municipality(division.code) {
            Level::City
        } else {
            division.level
        }
    }

    fn fill_divisions(&self, address: &mut ResolvedAddress, index: u32) {
        for i in self.table.lineage(index) {
            let division = self.table.get(i);
            let (name, code) = (
                Some(division.name.clone()),
                Some(format_code(division.code)),
            );
            match division.level {
                Level::Province => {
                    if is_municipality(division.code) {
                        address.city.clone_from(&name);
                        address.city_code = Some(format_code(division.code + 100));
                    }
                    address.province = name;
                    address.province_code = code;
                }
                Level::City => {
                    address.city = name;
                    address.city_code = code;
                }
                Level::County => {
                    address.county = name;
                    address.county_code = code;
                }
                Level::Township => {
                    address.township = name;
                    address.township_code = code;
                }
                Level::Village => address.community = name,
            }
        }
    }
}

impl Default for Resolver {
    fn default() -> Self {
        Resolver::new()
    }
}

/// The hits chosen for a reading, one per level at most, and their score.
#[derive(Default)]
struct Chosen {
    score: f32,
    hits: [usize; 6],
    len: usize,
}

impl Chosen {
    fn push(&mut self, hit: usize, weight: f32) {
        if self.len < self.hits.len() {
            self.hits[self.len] = hit;
            self.len += 1;
            self.score += weight;
        }
    }

    fn hits(&self) -> &[usize] {
        &self.hits[..self.len]
    }
}

struct Reading {
    division: u32,
    /// How many other readings score exactly as well.
    tied: usize,
    alternatives: Vec<u32>,
}

/// The text up to its first number: divisions come before house numbers in a
/// Chinese address (big to small) and no division name holds a digit, so the
/// rest need not be searched. A text that starts with a number is searched whole.
fn division_part(text: &[char]) -> &[char] {
    let first_digit = text.iter().position(char::is_ascii_digit);
    match first_digit {
        Some(i) if i >= 2 => &text[..i],
        _ => text,
    }
}

/// 北京, 天津, 上海, 重庆: provinces whose counties have no city between.
fn is_municipality(code: u64) -> bool {
    matches!(code, 110_000 | 120_000 | 310_000 | 500_000)
}

fn format_code(code: u64) -> String {
    code.to_string()
}

fn fill_detail(address: &mut ResolvedAddress, detail: detail::Detail) {
    if address.township.is_none() {
        address.township = detail.township;
    }
    address.community = address.community.take().or(detail.community);
    address.road = detail.road;
    address.road_number = detail.road_number;
    address.compound = detail.compound;
    address.building = detail.building;
    address.unit = detail.unit;
    address.floor = detail.floor;
    address.room = detail.room;
}
