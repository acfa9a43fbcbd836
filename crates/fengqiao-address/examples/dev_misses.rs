//! Prints the development-set misses for one field, to find systematic causes:
//! `cargo run --release -p fengqiao-address --example dev_misses -- building [FILE]`.
//! Tune on `ncap_dev.jsonl` only; `ncap_test.jsonl` is for reporting.

use fengqiao_address::eval::{self, Field};
use fengqiao_address::Resolver;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let field_name = args.next().unwrap_or_else(|| "building".into());
    let field = Field::ALL
        .into_iter()
        .find(|f| f.name() == field_name)
        .ok_or_else(|| anyhow::anyhow!("unknown field {field_name}"))?;
    let path = args.next().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/eval/address/ncap_dev.jsonl"
        )
        .into()
    });
    anyhow::ensure!(!path.contains("ncap_test"), "do not tune on ncap_test");
    let cases = eval::parse_labelled(&std::fs::read_to_string(&path)?)?;
    let resolver = Resolver::new();
    let mut misses = 0;
    for case in &cases {
        let address = resolver.resolve(&case.text);
        if !eval::field_agrees(&address, case, field) {
            misses += 1;
            println!(
                "{} | label {:?} | ours {:?}",
                case.text,
                case.labels(field),
                eval::predicted(&address, field).map(|p| p.0)
            );
        }
    }
    println!("{misses} misses of {} on {}", cases.len(), field.name());
    Ok(())
}
