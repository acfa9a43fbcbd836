//! Scoring against labelled addresses, shared by the accuracy test and
//! `fengqiao bench resolve`, so there is one scoring rule.
//!
//! The rule, the same for every field: a field is correct when our value and
//! the label agree, and also when both are absent. The labels (NCAP) mark only
//! what the text says, so a division level counts as ours only when the text
//! named it (a parent we inferred is not compared). Division names agree when
//! their cores agree (金华 = 金华市, 方岩镇 = 方岩街道), comparing the label with
//! both our official name and the words we matched (江东区 → 鄞州区). Building,
//! unit and room agree when their identifiers agree ("3栋" = "3", "三单元" = "3").
//! A label with several values agrees with any of them.
//!
//! One convention of the labels is followed, stated here because it changes
//! two fields: NCAP files the first 市 a text names under city, so a
//! county-level city (县级市: a county whose official name ends in 市) named
//! without its prefecture city ("余姚市梁弄镇…") is labelled city, not district.
//! When the text names no city and the city label agrees with our county, the
//! city counts as agreeing and the county is compared as if we had none. A
//! text that names both ("宁波余姚市") is scored by the plain rule.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::detail::identifier;
use crate::division::Level;
use crate::names::core_name;
use crate::resolver::{ResolvedAddress, Resolver};

/// A field scored against the labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Province,
    City,
    County,
    Township,
    Building,
    Unit,
    Room,
}

impl Field {
    pub const ALL: [Field; 7] = [
        Field::Province,
        Field::City,
        Field::County,
        Field::Township,
        Field::Building,
        Field::Unit,
        Field::Room,
    ];

    /// The NCAP label this field is compared with.
    pub fn label_key(self) -> &'static str {
        match self {
            Field::Province => "prov",
            Field::City => "city",
            Field::County => "district",
            Field::Township => "town",
            Field::Building => "houseno",
            Field::Unit => "cellno",
            Field::Room => "roomno",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Field::Province => "province",
            Field::City => "city",
            Field::County => "county",
            Field::Township => "township",
            Field::Building => "building",
            Field::Unit => "unit",
            Field::Room => "room",
        }
    }

    fn level(self) -> Option<Level> {
        match self {
            Field::Province => Some(Level::Province),
            Field::City => Some(Level::City),
            Field::County => Some(Level::County),
            Field::Township => Some(Level::Township),
            _ => None,
        }
    }
}

/// One labelled address of the NCAP set.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledAddress {
    pub text: String,
    #[serde(default)]
    pub fields: HashMap<String, Vec<String>>,
}

impl LabelledAddress {
    /// Parses one line of `ncap_*.jsonl`.
    pub fn parse(line: &str) -> Result<LabelledAddress, serde_json::Error> {
        serde_json::from_str(line)
    }

    pub fn labels(&self, field: Field) -> &[String] {
        self.fields
            .get(field.label_key())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// Parses every non-empty line of a jsonl file's contents.
pub fn parse_labelled(jsonl: &str) -> Result<Vec<LabelledAddress>, serde_json::Error> {
    jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(LabelledAddress::parse)
        .collect()
}

/// Our value of a field as the labels see it: what the text named, with the
/// words matched for a division (for comparing renamed places).
pub fn predicted(address: &ResolvedAddress, field: Field) -> Option<(String, Option<String>)> {
    let identifier_field = |v: &Option<String>| v.clone().map(|v| (v, None));
    let Some(level) = field.level() else {
        return match field {
            Field::Building => identifier_field(&address.building),
            Field::Unit => identifier_field(&address.unit),
            _ => identifier_field(&address.room),
        };
    };
    let official = match level {
        Level::Province => &address.province,
        Level::City => &address.city,
        Level::County => &address.county,
        _ => &address.township,
    };
    match address.mention(level) {
        Some(mention) => Some((official.clone()?, Some(mention.text.clone()))),
        None if level == Level::Township && address.township_code.is_none() => {
            official.clone().map(|t| (t, None))
        }
        None => None,
    }
}

/// Whether our value agrees with the labels under the rule above.
pub fn agrees(field: Field, ours: Option<(&str, Option<&str>)>, labels: &[String]) -> bool {
    match (ours, labels.is_empty()) {
        (None, true) => true,
        (None, false) | (Some(_), true) => false,
        (Some((official, matched)), false) => labels.iter().any(|label| match field.level() {
            Some(level) => {
                let core = |s: &str| core_name(s, level).unwrap_or(s).to_owned();
                let label = core(label.trim());
                label == core(official) || matched.is_some_and(|m| label == core(m))
            }
            None => identifier(label) == identifier(official),
        }),
    }
}

/// Correct counts per field over a set of labelled addresses.
#[derive(Debug, Clone, Default)]
pub struct Accuracy {
    pub total: usize,
    pub correct: HashMap<Field, usize>,
}

impl Accuracy {
    pub fn of(&self, field: Field) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        *self.correct.get(&field).unwrap_or(&0) as f64 / self.total as f64
    }
}

/// Scores the resolver on labelled addresses.
pub fn accuracy(resolver: &Resolver, cases: &[LabelledAddress]) -> Accuracy {
    let mut result = Accuracy {
        total: cases.len(),
        ..Accuracy::default()
    };
    for case in cases {
        let address = resolver.resolve(&case.text);
        for field in Field::ALL {
            if field_agrees(&address, case, field) {
                *result.correct.entry(field).or_default() += 1;
            }
        }
    }
    result
}

/// Whether one field of one resolved address agrees with its labels.
pub fn field_agrees(address: &ResolvedAddress, case: &LabelledAddress, field: Field) -> bool {
    if matches!(field, Field::City | Field::County) && county_city_labelled_city(address, case) {
        return field == Field::City || case.labels(Field::County).is_empty();
    }
    let ours = predicted(address, field);
    let ours = ours.as_ref().map(|(o, m)| (o.as_str(), m.as_deref()));
    agrees(field, ours, case.labels(field))
}

/// Whether the text names a county-level city but no city, and the labels
/// file that county-level city under city (the convention in the module doc).
fn county_city_labelled_city(address: &ResolvedAddress, case: &LabelledAddress) -> bool {
    if address.mention(Level::City).is_some() {
        return false;
    }
    let Some((official, matched)) = predicted(address, Field::County) else {
        return false;
    };
    official.ends_with('市')
        && agrees(
            Field::County,
            Some((&official, matched.as_deref())),
            case.labels(Field::City),
        )
}

/// The best peers measured on the same machine and files (issue 3).
pub struct Peer {
    pub name: &'static str,
    pub addresses_per_second: f64,
    pub accuracy: &'static [(Field, f64)],
}

pub const PEERS: [Peer; 2] = [
    Peer {
        name: "cpca (Rust)",
        addresses_per_second: 2_170_000.0,
        accuracy: &[(Field::County, 0.85)],
    },
    Peer {
        name: "bitlap/geocoding (Java)",
        addresses_per_second: 7_100.0,
        accuracy: &[
            (Field::Province, 0.994),
            (Field::City, 0.988),
            (Field::County, 0.979),
            (Field::Township, 0.883),
        ],
    },
];

/// What `fengqiao bench resolve` prints.
#[derive(Debug, Clone)]
pub struct BenchReport {
    pub ncap_test_per_second: f64,
    pub messy_per_second: f64,
    pub accuracy: Accuracy,
    pub divisions: usize,
    pub names: usize,
    pub index_heap_bytes: usize,
    /// Resident memory the index added, when the caller could measure it.
    pub index_resident_bytes: Option<usize>,
}

/// Resolves each set repeatedly for at least `min_time`, single-threaded,
/// and scores `ncap_test`.
pub fn benchmark(
    resolver: &Resolver,
    ncap_test: &[LabelledAddress],
    messy: &[&str],
    min_time: Duration,
) -> BenchReport {
    let test_texts: Vec<&str> = ncap_test.iter().map(|c| c.text.as_str()).collect();
    BenchReport {
        ncap_test_per_second: throughput(resolver, &test_texts, min_time),
        messy_per_second: throughput(resolver, messy, min_time),
        accuracy: accuracy(resolver, ncap_test),
        divisions: resolver.table().len(),
        names: resolver.name_count(),
        index_heap_bytes: resolver.heap_bytes(),
        index_resident_bytes: None,
    }
}

fn throughput(resolver: &Resolver, texts: &[&str], min_time: Duration) -> f64 {
    if texts.is_empty() {
        return 0.0;
    }
    let start = Instant::now();
    let mut count = 0usize;
    let mut sink = 0usize;
    while start.elapsed() < min_time {
        for text in texts {
            let address = resolver.resolve(text);
            sink = sink.wrapping_add(address.building.map_or(0, |b| b.len()));
            count += 1;
        }
    }
    std::hint::black_box(sink);
    count as f64 / start.elapsed().as_secs_f64()
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let best_speed = PEERS.iter().map(|p| p.addresses_per_second);
        let fastest = best_speed.fold(0.0, f64::max);
        writeln!(f, "throughput (one thread, addresses/s)")?;
        for (set, rate) in [
            ("ncap_test", self.ncap_test_per_second),
            ("10k messy", self.messy_per_second),
        ] {
            writeln!(
                f,
                "  {set:<10} {rate:>12.0}   x{:.2} of cpca, x{:.0} of geocoding",
                rate / fastest,
                rate / PEERS[1].addresses_per_second
            )?;
        }
        writeln!(
            f,
            "  peers: {}",
            PEERS
                .iter()
                .map(|p| format!("{} {:.0}/s", p.name, p.addresses_per_second))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        writeln!(
            f,
            "accuracy on ncap_test ({} addresses)        ours    best peer   ratio",
            self.accuracy.total
        )?;
        for field in Field::ALL {
            let ours = self.accuracy.of(field);
            let peer = PEERS
                .iter()
                .flat_map(|p| p.accuracy.iter().map(move |(pf, v)| (p.name, *pf, *v)))
                .filter(|(_, pf, _)| *pf == field)
                .max_by(|a, b| a.2.total_cmp(&b.2));
            match peer {
                Some((name, _, value)) => writeln!(
                    f,
                    "  {:<38} {ours:.3}   {value:.3}      x{:.3}  ({name})",
                    field.name(),
                    ours / value
                )?,
                None => writeln!(f, "  {:<38} {ours:.3}   (none: goal 0.950)", field.name())?,
            }
        }
        writeln!(
            f,
            "index: {} divisions, {} names, ~{} bytes heap ({:.0} bytes per division)",
            self.divisions,
            self.names,
            self.index_heap_bytes,
            self.index_heap_bytes as f64 / self.divisions.max(1) as f64
        )?;
        if let Some(rss) = self.index_resident_bytes {
            writeln!(
                f,
                "index resident memory: ~{rss} bytes ({:.0} bytes per division)",
                rss as f64 / self.divisions.max(1) as f64
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_labels_compare_by_core() {
        assert!(agrees(
            Field::City,
            Some(("金华市", Some("金华"))),
            &["金华".into()]
        ));
        assert!(agrees(
            Field::County,
            Some(("鄞州区", Some("江东区"))),
            &["江东区".into()]
        ));
        assert!(agrees(
            Field::Township,
            Some(("方岩街道", None)),
            &["方岩镇".into()]
        ));
        assert!(!agrees(Field::County, Some(("秀洲区", None)), &[]));
        assert!(agrees(Field::County, None, &[]));
        assert!(!agrees(Field::County, None, &["秀洲区".into()]));
    }

    #[test]
    fn identifier_labels_compare_by_identifier() {
        assert!(agrees(Field::Building, Some(("3", None)), &["3栋".into()]));
        assert!(agrees(Field::Unit, Some(("2", None)), &["二单元".into()]));
        assert!(agrees(Field::Room, Some(("501", None)), &["501室".into()]));
        assert!(!agrees(Field::Room, Some(("502", None)), &["501室".into()]));
    }

    #[test]
    fn a_county_level_city_named_alone_may_be_labelled_city() {
        let resolver = Resolver::new();
        let case = |json: &str| LabelledAddress::parse(json).unwrap();
        let alone = case(r#"{"text": "余姚市梁弄镇东路943号", "fields": {"city": ["余姚市"]}}"#);
        let address = resolver.resolve(&alone.text);
        assert_eq!(address.county.as_deref(), Some("余姚市"));
        assert!(field_agrees(&address, &alone, Field::City));
        assert!(field_agrees(&address, &alone, Field::County));
        // Labelled as a district, it is scored as one.
        let district =
            case(r#"{"text": "余姚市梁弄镇东路943号", "fields": {"district": ["余姚市"]}}"#);
        assert!(field_agrees(&address, &district, Field::County));
        assert!(field_agrees(&address, &district, Field::City));
        // A city label that names another place does not agree.
        let other = case(r#"{"text": "余姚市梁弄镇东路943号", "fields": {"city": ["宁波"]}}"#);
        assert!(!field_agrees(&address, &other, Field::City));
        assert!(!field_agrees(&address, &other, Field::County));
    }

    #[test]
    fn ncap_lines_parse() {
        let case = LabelledAddress::parse(
            r#"{"text": "金华永康市", "spans": [], "fields": {"city": ["金华"], "district": ["永康市"]}}"#,
        )
        .unwrap();
        assert_eq!(case.labels(Field::City), ["金华"]);
        assert!(case.labels(Field::Province).is_empty());
    }
}
