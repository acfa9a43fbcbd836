//! Resolves each line of standard input and prints one JSON object per line.
use std::io::{BufRead, Write};

fn main() -> anyhow::Result<()> {
    let resolver = fengqiao_address::Resolver::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let address = resolver.resolve(&line?);
        serde_json::to_writer(&mut out, &address)?;
        writeln!(out)?;
    }
    Ok(())
}
