//! `echo "有人在小区门口打架" | cargo run -p fengqiao-triage --example triage`
//!
//! One text per line on stdin, one JSON object per line on stdout: the same
//! function `fengqiao triage` calls.

fn main() -> std::io::Result<()> {
    let triage = fengqiao_triage::Triage::default();
    fengqiao_triage::triage_lines(&triage, std::io::stdin().lock(), std::io::stdout().lock())
}
