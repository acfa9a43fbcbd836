//! One text per line in, one JSON object per line out: the format of
//! `fengqiao triage`, kept here so the CLI and the example share it.

use std::io::{BufRead, Write};

use serde::Serialize;

use crate::triage::{Triage, TriageSuggestion};

/// The JSON object written for one input line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LineResult {
    Suggestion(TriageSuggestion),
    Error { error: String },
}

impl Triage {
    /// The result for one input line: a suggestion, or an error for an empty
    /// line (there is nothing to triage and the operator should see it).
    pub fn suggest_line(&self, line: &str) -> LineResult {
        let text = line.trim();
        if text.is_empty() {
            return LineResult::Error {
                error: "empty line: no incident text to triage".to_owned(),
            };
        }
        LineResult::Suggestion(self.suggest(text))
    }
}

/// Reads one text per line and writes one JSON object per line, in input
/// order. A line that is not UTF-8 gets an error object, not an abort.
pub fn triage_lines(
    triage: &Triage,
    input: impl BufRead,
    mut output: impl Write,
) -> std::io::Result<()> {
    for line in input.split(b'\n') {
        let line = line?;
        let result = match std::str::from_utf8(&line) {
            Ok(text) => triage.suggest_line(text.trim_end_matches('\r')),
            Err(_) => LineResult::Error {
                error: "line is not valid UTF-8".to_owned(),
            },
        };
        serde_json::to_writer(&mut output, &result)?;
        output.write_all(b"\n")?;
    }
    output.flush()
}
