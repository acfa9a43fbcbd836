//! Resolves every line of a file (plain text, or the `text` of JSON lines)
//! `N` times: a steady workload for `valgrind --tool=callgrind`.
//! `cargo run --release -p fengqiao-address --example resolve_file -- FILE [N]`

use fengqiao_address::Resolver;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: resolve_file FILE [N]"))?;
    let rounds: usize = args.next().map_or(Ok(1), |n| n.parse())?;
    let contents = std::fs::read_to_string(&path)?;
    let texts: Vec<String> = contents
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(
            |line| match serde_json::from_str::<serde_json::Value>(line) {
                Ok(serde_json::Value::Object(o)) => o
                    .get("text")
                    .and_then(|t| t.as_str())
                    .unwrap_or(line)
                    .to_owned(),
                _ => line.to_owned(),
            },
        )
        .collect();
    let resolver = Resolver::new();
    let mut sink = 0usize;
    for _ in 0..rounds {
        for text in &texts {
            let address = resolver.resolve(text);
            sink = sink.wrapping_add(address.building.map_or(0, |b| b.len()));
        }
    }
    println!("{} resolutions, sink {sink}", texts.len() * rounds);
    Ok(())
}
