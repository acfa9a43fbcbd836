//! The official administrative divisions (行政区划), province to township,
//! embedded in the binary, and the village/community file loaded later.

use std::collections::HashMap;

use serde::Serialize;

/// The embedded table: see `data/README.md` for its source and version.
const DIVISIONS_TSV: &str = include_str!("../data/divisions.tsv");
/// Hand-kept aliases for renamed, merged and abolished divisions.
const ALIASES_TSV: &str = include_str!("../data/aliases.tsv");

/// The level of a division, from province (省级) down to village (村级).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 省级: province, autonomous region, municipality.
    Province,
    /// 地级: prefecture-level city, prefecture, league, autonomous prefecture.
    City,
    /// 县级: district, county, county-level city, banner.
    County,
    /// 乡级: township, town, street (街道).
    Township,
    /// 村级: village committee or community (居委会).
    Village,
}

impl Level {
    /// The level a statistical code of 6, 9 or 12 digits denotes.
    pub fn of_code(code: u64) -> Option<Level> {
        match code {
            100_000..=999_999 if code % 10_000 == 0 => Some(Level::Province),
            100_000..=999_999 if code % 100 == 0 => Some(Level::City),
            100_000..=999_999 => Some(Level::County),
            100_000_000..=999_999_999 => Some(Level::Township),
            100_000_000_000..=999_999_999_999 => Some(Level::Village),
            _ => None,
        }
    }
}

/// Whether a division is in force in the newest table or only in an older one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In the civil-affairs table of 2025-12-31.
    Current,
    /// Only in the statistics table of 2023; people still write it.
    Historic,
}

/// One division with its official code and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    /// GB/T 2260 six digits, nine-digit township or twelve-digit village code.
    pub code: u64,
    pub name: String,
    pub level: Level,
    pub status: Status,
    /// Index of the parent in the table; `None` for provinces.
    pub parent: Option<u32>,
    /// Earlier official names of the same code and hand-kept aliases.
    pub former_names: Vec<String>,
}

/// A village or community (村/社区) read from the village file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Village {
    /// Twelve-digit statistical code.
    pub code: u64,
    /// Nine-digit code of its township.
    pub township_code: u64,
    pub name: String,
}

/// Why a division or village file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DataError {
    #[error("line {line}: expected {expected} tab-separated columns")]
    Columns { line: usize, expected: usize },
    #[error("line {line}: {code:?} is not a division code of the expected length")]
    Code { line: usize, code: String },
    #[error("line {line}: parent {parent} of {code} is not in the table")]
    UnknownParent { line: usize, code: u64, parent: u64 },
    #[error("line {line}: empty name")]
    EmptyName { line: usize },
}

/// The division table: every division once, parents before children.
#[derive(Debug, Clone)]
pub struct DivisionTable {
    divisions: Vec<Division>,
    by_code: HashMap<u64, u32>,
}

impl DivisionTable {
    /// The table embedded in the binary, province to township.
    pub fn embedded() -> DivisionTable {
        let mut table = DivisionTable::parse(DIVISIONS_TSV)
            .expect("the embedded division table is generated and checked by the tests");
        table
            .add_aliases(ALIASES_TSV)
            .expect("the embedded alias table is checked by the tests");
        table
    }

    /// Reads `code<TAB>parent<TAB>name<TAB>status<TAB>former|names`, sorted by code.
    pub fn parse(tsv: &str) -> Result<DivisionTable, DataError> {
        let mut table = DivisionTable {
            divisions: Vec::with_capacity(50_000),
            by_code: HashMap::with_capacity(50_000),
        };
        for (index, line) in tsv.lines().enumerate() {
            let line_no = index + 1;
            if line.is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() != 5 {
                return Err(DataError::Columns {
                    line: line_no,
                    expected: 5,
                });
            }
            let code = parse_code(cols[0], line_no)?;
            let level = Level::of_code(code).ok_or_else(|| DataError::Code {
                line: line_no,
                code: cols[0].to_owned(),
            })?;
            let parent = if cols[1].is_empty() {
                None
            } else {
                let parent_code = parse_code(cols[1], line_no)?;
                Some(
                    *table
                        .by_code
                        .get(&parent_code)
                        .ok_or(DataError::UnknownParent {
                            line: line_no,
                            code,
                            parent: parent_code,
                        })?,
                )
            };
            if cols[2].is_empty() {
                return Err(DataError::EmptyName { line: line_no });
            }
            let status = if cols[3] == "h" {
                Status::Historic
            } else {
                Status::Current
            };
            let former_names = cols[4]
                .split('|')
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect();
            table.push(Division {
                code,
                name: cols[2].to_owned(),
                level,
                status,
                parent,
                former_names,
            });
        }
        Ok(table)
    }

    /// Adds `alias<TAB>code<TAB>why` lines as former names; `#` starts a comment line.
    pub fn add_aliases(&mut self, tsv: &str) -> Result<(), DataError> {
        for (index, line) in tsv.lines().enumerate() {
            let line_no = index + 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 2 || cols[0].is_empty() {
                return Err(DataError::Columns {
                    line: line_no,
                    expected: 3,
                });
            }
            let code = parse_code(cols[1], line_no)?;
            let index = *self.by_code.get(&code).ok_or(DataError::UnknownParent {
                line: line_no,
                code,
                parent: code,
            })?;
            let names = &mut self.divisions[index as usize].former_names;
            if !names.iter().any(|n| n == cols[0]) {
                names.push(cols[0].to_owned());
            }
        }
        Ok(())
    }

    /// Adds villages/communities under their townships, e.g. from [`parse_villages`].
    pub fn add_villages(&mut self, villages: Vec<Village>) -> Result<(), DataError> {
        for (line, village) in villages.into_iter().enumerate() {
            let parent =
                *self
                    .by_code
                    .get(&village.township_code)
                    .ok_or(DataError::UnknownParent {
                        line: line + 1,
                        code: village.code,
                        parent: village.township_code,
                    })?;
            if self.by_code.contains_key(&village.code) {
                continue;
            }
            self.push(Division {
                code: village.code,
                name: village.name,
                level: Level::Village,
                status: Status::Current,
                parent: Some(parent),
                former_names: Vec::new(),
            });
        }
        Ok(())
    }

    fn push(&mut self, division: Division) {
        self.by_code
            .insert(division.code, self.divisions.len() as u32);
        self.divisions.push(division);
    }

    pub fn len(&self) -> usize {
        self.divisions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.divisions.is_empty()
    }

    pub fn get(&self, index: u32) -> &Division {
        &self.divisions[index as usize]
    }

    pub fn index_of(&self, code: u64) -> Option<u32> {
        self.by_code.get(&code).copied()
    }

    pub fn by_code(&self, code: u64) -> Option<&Division> {
        self.index_of(code).map(|i| self.get(i))
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, &Division)> {
        self.divisions
            .iter()
            .enumerate()
            .map(|(i, d)| (i as u32, d))
    }

    /// The division at `index` and its ancestors, nearest first.
    pub fn lineage(&self, index: u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(Some(index), move |&i| self.get(i).parent)
    }

    /// Whether `ancestor` is `index` itself or one of its ancestors.
    pub fn is_ancestor_or_self(&self, ancestor: u32, index: u32) -> bool {
        self.lineage(index).any(|i| i == ancestor)
    }

    /// Approximate heap bytes held by the table.
    pub fn heap_bytes(&self) -> usize {
        let names: usize = self
            .divisions
            .iter()
            .map(|d| d.name.len() + d.former_names.iter().map(|n| n.len() + 24).sum::<usize>())
            .sum();
        self.divisions.capacity() * std::mem::size_of::<Division>()
            + names
            + self.by_code.capacity() * (std::mem::size_of::<(u64, u32)>() + 1)
    }
}

/// Reads the village file written by `scripts/divisions/regenerate.sh VILLAGES_TSV`:
/// `code<TAB>township code<TAB>name`, one village or community per line.
pub fn parse_villages(tsv: &str) -> Result<Vec<Village>, DataError> {
    let mut villages = Vec::new();
    for (index, line) in tsv.lines().enumerate() {
        let line_no = index + 1;
        if line.is_empty() {
            continue;
        }
        let mut cols = line.split('\t');
        let (Some(code), Some(township), Some(name), None) =
            (cols.next(), cols.next(), cols.next(), cols.next())
        else {
            return Err(DataError::Columns {
                line: line_no,
                expected: 3,
            });
        };
        let code_value = parse_code(code, line_no)?;
        let township_code = parse_code(township, line_no)?;
        if Level::of_code(code_value) != Some(Level::Village)
            || Level::of_code(township_code) != Some(Level::Township)
        {
            return Err(DataError::Code {
                line: line_no,
                code: code.to_owned(),
            });
        }
        if name.is_empty() {
            return Err(DataError::EmptyName { line: line_no });
        }
        villages.push(Village {
            code: code_value,
            township_code,
            name: name.to_owned(),
        });
    }
    Ok(villages)
}

fn parse_code(text: &str, line: usize) -> Result<u64, DataError> {
    let valid = matches!(text.len(), 6 | 9 | 12) && text.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return Err(DataError::Code {
            line,
            code: text.to_owned(),
        });
    }
    text.parse().map_err(|_| DataError::Code {
        line,
        code: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_has_every_level() {
        let table = DivisionTable::embedded();
        let count = |level| table.iter().filter(|(_, d)| d.level == level).count();
        assert_eq!(count(Level::Province), 33);
        assert!(count(Level::City) >= 330);
        assert!(count(Level::County) >= 2840);
        assert!(count(Level::Township) >= 38_000);
        let xiuzhou = table.by_code(330_411).unwrap();
        assert_eq!(xiuzhou.name, "秀洲区");
        assert_eq!(table.get(xiuzhou.parent.unwrap()).name, "嘉兴市");
    }

    #[test]
    fn aliases_point_at_current_divisions() {
        let table = DivisionTable::embedded();
        let xiangyang = table.by_code(420_600).unwrap();
        assert!(xiangyang.former_names.iter().any(|n| n == "襄樊市"));
    }

    #[test]
    fn villages_parse_and_merge_under_their_township() {
        let mut table = DivisionTable::embedded();
        let villages = parse_villages("110101001001\t110101001\t多福巷社区居委会\n").unwrap();
        table.add_villages(villages).unwrap();
        let village = table.by_code(110_101_001_001).unwrap();
        assert_eq!(village.level, Level::Village);
        assert_eq!(table.get(village.parent.unwrap()).code, 110_101_001);
    }

    #[test]
    fn village_file_errors_name_the_line() {
        assert_eq!(
            parse_villages("110101001001\t110101001\n"),
            Err(DataError::Columns {
                line: 1,
                expected: 3
            })
        );
        assert!(matches!(
            parse_villages("ok\n12\t110101001\tx\n"),
            Err(DataError::Columns { line: 1, .. }) | Err(DataError::Code { line: 1, .. })
        ));
        let mut table = DivisionTable::embedded();
        let orphan = parse_villages("999999999001\t999999999\t无名村\n").unwrap();
        assert!(matches!(
            table.add_villages(orphan),
            Err(DataError::UnknownParent { .. })
        ));
    }
}
