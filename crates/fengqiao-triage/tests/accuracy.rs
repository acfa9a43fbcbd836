//! Accuracy on the labelled set (data/labelled.tsv: text TAB category code).
//!
//! Rows are numbered from 1. Rows whose number is divisible by 4 are held
//! out: the rules are tuned on the other rows (dev) only. Run
//! `cargo test -p fengqiao-triage --test accuracy -- --nocapture` to see the
//! figures and every miss.

use fengqiao_triage::{Triage, TriageSuggestion};

const LABELLED: &str = include_str!("../data/labelled.tsv");

struct Row {
    number: usize,
    text: &'static str,
    label: &'static str,
}

fn rows() -> Vec<Row> {
    LABELLED
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            let (text, label) = line
                .split_once('\t')
                .unwrap_or_else(|| panic!("row {} has no tab: {line}", i + 1));
            Row {
                number: i + 1,
                text,
                label: label.trim(),
            }
        })
        .collect()
}

fn is_held_out(row: &Row) -> bool {
    row.number % 4 == 0
}

#[derive(Default)]
struct Score {
    total: usize,
    group_ok: usize,
    category_ok: usize,
}

impl Score {
    fn add(&mut self, group_ok: bool, category_ok: bool) {
        self.total += 1;
        self.group_ok += usize::from(group_ok);
        self.category_ok += usize::from(category_ok);
    }
    fn group(&self) -> f64 {
        self.group_ok as f64 / self.total as f64
    }
    fn category(&self) -> f64 {
        self.category_ok as f64 / self.total as f64
    }
    fn line(&self, name: &str) -> String {
        format!(
            "{name:<9} n={:<4} group {:5.1}% ({}/{})  category {:5.1}% ({}/{})",
            self.total,
            100.0 * self.group(),
            self.group_ok,
            self.total,
            100.0 * self.category(),
            self.category_ok,
            self.total
        )
    }
}

fn why(s: &TriageSuggestion) -> String {
    s.matched
        .iter()
        .map(|m| format!("{}→{}:{}", m.word, m.category, m.weight))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn labelled_set_accuracy() {
    let triage = Triage::default();
    let rows = rows();
    let (mut dev, mut held_out, mut all) = (Score::default(), Score::default(), Score::default());
    let mut police = 0;
    for row in &rows {
        let expected = triage
            .table()
            .category(row.label)
            .unwrap_or_else(|| panic!("row {}: unknown category {:?}", row.number, row.label));
        police += usize::from(expected.group == fengqiao_triage::Group::Police);
        let s = triage.suggest(row.text);
        let group_ok = s.group == expected.group;
        let category_ok = s.category == row.label;
        all.add(group_ok, category_ok);
        if is_held_out(row) {
            held_out.add(group_ok, category_ok);
        } else {
            dev.add(group_ok, category_ok);
        }
        if !category_ok {
            let part = if is_held_out(row) { "held-out" } else { "dev" };
            println!(
                "miss {part} #{}: {} | expected {} got {} | {}",
                row.number,
                row.text,
                row.label,
                s.category,
                why(&s)
            );
        }
    }
    println!("police rows: {police} of {}", rows.len());
    println!("{}", dev.line("dev"));
    println!("{}", held_out.line("held-out"));
    println!("{}", all.line("all"));

    for code in triage.table().categories.iter().map(|c| c.code.as_str()) {
        let n = rows.iter().filter(|r| r.label == code).count();
        assert!(n >= 3, "category {code} has only {n} labelled examples");
    }
    assert!(
        rows.len() >= 300,
        "the labelled set has {} rows",
        rows.len()
    );
    assert!(all.group() >= 0.97, "{}", all.line("all"));
    assert!(all.category() >= 0.90, "{}", all.line("all"));
}
