//! `fengqiao triage`: one incident text per line in, one JSON object per line
//! out (`category`, `group`, `priority`, `route_to`, `matched`, …; an empty
//! line gives an object with an `error` field), in input order.

use std::io::{BufRead, Write};

/// Triages every line of `input` with the embedded category table and writes
/// the suggestions to `output` as JSON lines.
pub fn run(input: impl BufRead, output: impl Write) -> anyhow::Result<()> {
    let triage = fengqiao_triage::Triage::default();
    fengqiao_triage::triage_lines(&triage, input, output)?;
    Ok(())
}
