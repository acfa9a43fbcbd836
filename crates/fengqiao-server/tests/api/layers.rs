//! The server's layers, checked from its source: services never reach up
//! into the ways in (`api`, `pages`, `adapters`) or the `jobs`, and know no
//! HTTP; no `api` module imports another; adapters and jobs go through the
//! services; only services open a transaction. docs/ARCHITECTURE.md states
//! the same rules.

use std::path::{Path, PathBuf};

/// A layer and what its files must not name.
struct Rule {
    layer: &'static str,
    /// Modules of the crate (`crate::NAME`) the layer must not import.
    forbidden: &'static [&'static str],
    /// Outside crates the layer must not use.
    forbidden_crates: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        layer: "services",
        forbidden: &[
            "api", "pages", "adapters", "jobs", "error", "auth", "json", "app",
        ],
        forbidden_crates: &["axum", "axum_extra", "tower", "tower_http", "askama"],
    },
    Rule {
        layer: "jobs",
        forbidden: &["api", "pages", "adapters", "error", "auth", "json", "app"],
        forbidden_crates: &["axum", "axum_extra", "askama"],
    },
    Rule {
        layer: "adapters",
        forbidden: &["pages", "jobs"],
        forbidden_crates: &["askama"],
    },
    Rule {
        layer: "pages",
        forbidden: &["adapters", "jobs"],
        forbidden_crates: &[],
    },
    Rule {
        layer: "api",
        forbidden: &["pages", "adapters", "jobs"],
        forbidden_crates: &["askama"],
    },
];

/// Every `crate::…`, `super::…` and outside-crate path a file names, as the
/// first segment after the prefix, with its line; comments are skipped and
/// grouped imports (`crate::{a, b::c}`) are opened.
fn named_paths(source: &str) -> Vec<(usize, String, String)> {
    let mut found = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        for prefix in ["crate::", "super::"] {
            let mut rest = code;
            while let Some(at) = rest.find(prefix) {
                let after = &rest[at + prefix.len()..];
                let names: Vec<String> = if let Some(group) = after.strip_prefix('{') {
                    let end = group.find('}').unwrap_or(group.len());
                    group[..end]
                        .split(',')
                        .map(|p| first_segment(p.trim()))
                        .collect()
                } else {
                    vec![first_segment(after)]
                };
                for name in names.into_iter().filter(|n| !n.is_empty()) {
                    found.push((number + 1, prefix.trim_end_matches("::").to_owned(), name));
                }
                rest = after;
            }
        }
        let trimmed = code.trim_start();
        for keyword in ["use ", "pub use ", "pub(crate) use "] {
            if let Some(path) = trimmed.strip_prefix(keyword) {
                found.push((number + 1, "extern".into(), first_segment(path)));
            }
        }
    }
    found
}

fn first_segment(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// What breaks the rules under `src`, one line each.
fn violations(src: &Path) -> Vec<String> {
    let api_modules: Vec<String> = rust_files(&src.join("api"))
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|m| m != "mod")
        .collect();
    let mut found = Vec::new();
    for rule in RULES {
        for file in rust_files(&src.join(rule.layer)) {
            let source = std::fs::read_to_string(&file).expect("a readable source file");
            let shown = file
                .strip_prefix(src)
                .unwrap_or(&file)
                .display()
                .to_string();
            let in_api_module = rule.layer == "api" && !shown.ends_with("mod.rs");
            for (line, prefix, name) in named_paths(&source) {
                let wrong = match prefix.as_str() {
                    "crate" => {
                        rule.forbidden.contains(&name.as_str())
                            || (in_api_module && name == "api" && {
                                // `crate::api::X` where X is another api module.
                                let text = source.lines().nth(line - 1).unwrap_or("");
                                api_modules.iter().any(|m| {
                                    text.contains(&format!("crate::api::{m}::"))
                                        || text.contains(&format!("crate::api::{{{m}"))
                                })
                            })
                    }
                    "super" => in_api_module && api_modules.contains(&name),
                    _ => rule.forbidden_crates.contains(&name.as_str()),
                };
                if wrong {
                    found.push(format!(
                        "{shown}:{line}: {} must not use {prefix}::{name}",
                        rule.layer
                    ));
                }
            }
        }
    }
    found
}

/// The ways in, which call services and never open a transaction.
const WAYS_IN: &[&str] = &["api", "pages", "adapters"];

/// Lines that open a transaction (`.begin()`) or hold one (`Tx`), with
/// their numbers; comments are skipped.
fn transactions(source: &str) -> Vec<usize> {
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = match line.find("//") {
                Some(at) => &line[..at],
                None => line,
            };
            code.contains(".begin()")
                || code
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|word| word == "Tx")
        })
        .map(|(number, _)| number + 1)
        .collect()
}

/// Transactions opened or held by a way in, one line each.
fn transactions_outside_services(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for layer in WAYS_IN {
        for file in rust_files(&src.join(layer)) {
            let source = std::fs::read_to_string(&file).expect("a readable source file");
            let shown = file
                .strip_prefix(src)
                .unwrap_or(&file)
                .display()
                .to_string();
            for line in transactions(&source) {
                found.push(format!(
                    "{shown}:{line}: {layer} must not open or hold a transaction"
                ));
            }
        }
    }
    found
}

#[test]
fn only_services_open_transactions() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = transactions_outside_services(&src);
    assert!(
        found.is_empty(),
        "transactions outside services (docs/ARCHITECTURE.md):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_transaction_opened_or_held() {
    let source = "let mut tx = state.store.begin().await?;\n\
                  // state.store.begin() in a comment\n\
                  async fn record_key(tx: &mut Tx) {}\n\
                  use fengqiao_store::{StoredParty, Tx};\n\
                  let begin = TxLike::begin;\n\
                  services::disputes::register(&state).await?;";
    assert_eq!(transactions(source), [1, 3, 4]);
}

#[test]
fn the_layers_import_only_what_they_may() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(
        found.is_empty(),
        "imports that break the layers (docs/ARCHITECTURE.md):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_grouped_and_nested_imports() {
    let names: Vec<String> = named_paths(
        "use crate::{api, services::intake};\nuse super::incidents::IncidentView;\n// crate::pages in a comment\nuse axum::Json;",
    )
    .into_iter()
    .map(|(line, prefix, name)| format!("{line} {prefix} {name}"))
    .collect();
    assert_eq!(
        names,
        [
            "1 crate api",
            "1 crate services",
            "1 extern crate",
            "2 super incidents",
            "2 extern super",
            "4 extern axum"
        ]
    );
}
