//! The same code as `fengqiao bench resolve`, runnable without the binary crate:
//! `cargo run --release -p fengqiao-address --example bench [SHARED_EVAL_DIR]`.

#[path = "../../fengqiao/src/bench_resolve.rs"]
mod bench_resolve;

fn main() -> anyhow::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/eval").into());
    bench_resolve::run(&dir)
}
