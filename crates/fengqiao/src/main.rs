//! `fengqiao`: one binary, one subcommand per role.

#![forbid(unsafe_code)]

mod address_import;
mod admin;
mod bench_dispatch;
mod bench_intake;
mod bench_resolve;
mod config;
mod demo;
mod gen;
mod history;
mod road_import;
mod serve;
mod simulator;
mod triage_cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use fengqiao_world::TownSpec;

use crate::demo::DemoOptions;

use crate::config::FlagValues;

/// 枫桥 — grassroots governance and community policing.
#[derive(Parser, Debug)]
#[command(name = "fengqiao", version, about)]
pub struct Cli {
    /// Configuration file (TOML); missing is fine.
    #[arg(long, global = true, default_value = "fengqiao.toml")]
    config: PathBuf,
    /// Directory for the SQLite database and generated keys [default: ./data]
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://… [default: SQLite in the data directory]
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long)]
    bind: Option<String>,
}

#[derive(Args, Debug)]
struct DemoArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// The same seed makes the same town, people and history.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Police stations in the town, one per real street of 武侯区 (1–5).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=5))]
    stations: u32,
    /// Days of history played through the API before serving (0–365).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(0..=365))]
    history_days: u32,
    /// Calls a station receives a day, on average.
    #[arg(long, default_value_t = 20.0)]
    calls_per_day: f64,
    /// New calls a minute through the intake API while serving; 0 turns it off.
    #[arg(long, default_value_t = 3.0)]
    live_rate: f64,
    /// Write the world without serving it, as `fengqiao gen` does (with
    /// this command's defaults: four stations, ninety days).
    #[arg(long)]
    generate_only: bool,
    /// With --generate-only: N times the compounds and the calls.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000), requires = "generate_only")]
    scale: u32,
}

/// `fengqiao gen`: which sizes give what, on 成都市武侯区's five streets.
///
/// Each step of scale adds about 75,000 addresses (five stations) and
/// multiplies the calls: `--scale 150 --stations 5 --history-days 365
/// --calls-per-day 40` writes about 11 million addresses and 11 million
/// incidents.
#[derive(Args, Debug)]
struct GenArgs {
    /// The same seed makes the same town, people and history (on the same day).
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Police stations, one per real street of 武侯区 (1–5).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=5))]
    stations: u32,
    /// N times the demo's compounds (and so addresses), and N times its calls.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    scale: u32,
    /// Days of incidents before today (0–3650).
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(0..=3650))]
    history_days: u32,
    /// Calls a station receives a day at scale 1; the scale multiplies it.
    #[arg(long, default_value_t = 20.0)]
    calls_per_day: f64,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the web interface and the API.
    Serve(ServeArgs),
    /// Create a demonstration jurisdiction with generated accounts, then serve it.
    Demo(DemoArgs),
    /// Write a demo world N times larger into an empty database without serving,
    /// for benchmarks: --scale 150 --history-days 365 --calls-per-day 40 makes
    /// about 11 million addresses and 11 million incidents.
    Gen(GenArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Manage API tokens for machine clients.
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// Standard addresses: import the registry, resolve free text.
    #[command(subcommand)]
    Address(AddressCommand),
    /// The road network that arrival estimates and maps use.
    #[command(subcommand)]
    Road(RoadCommand),
    /// Print QR address plates (e码) of the buildings under a division as an A4 PDF sheet.
    Qr {
        /// A community code (12 digits), or any division code above it.
        #[arg(long)]
        community: String,
        #[arg(long, default_value = "plates.pdf")]
        out: PathBuf,
        /// A TrueType/OpenType font with Chinese glyphs [default: one of Debian's CJK fonts]
        #[arg(long)]
        font: Option<PathBuf>,
    },
    /// Show the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Work with the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Suggest category, group, priority and owner for incident texts, one per line on stdin.
    Triage,
    /// Benchmarks that print figures beside their targets.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand, Debug)]
enum AddressCommand {
    /// Import buildings and rooms from CSV (with a header) or JSON lines;
    /// rejected rows are written to FILE.rejected.txt.
    Import {
        /// Columns: community_code, grid_code, compound, road, road_number,
        /// building, unit, floor, room, lat, lon (WGS-84), compound_aliases.
        file: PathBuf,
    },
    /// Resolve addresses read one per line from stdin; one JSON object per line out.
    Resolve,
    /// Load villages and communities (code, township code, name; tab-separated,
    /// as written by scripts/divisions/regenerate.sh VILLAGES_TSV).
    LoadVillages { file: PathBuf },
}

#[derive(Subcommand, Debug)]
enum RoadCommand {
    /// Replace the road network with the LineString and MultiLineString
    /// features (each with properties.name) of a GeoJSON FeatureCollection;
    /// any bad feature refuses the whole file.
    Import {
        file: PathBuf,
        /// The coordinates are GCJ-02 (drawn on a Chinese web map), not WGS-84.
        #[arg(long)]
        gcj02: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Print every effective value and where it came from, secrets redacted.
    Show,
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Check the hash chain; exits non-zero at the first edited, deleted or reordered entry.
    Verify,
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Address resolution: throughput and field accuracy on the labelled sets.
    Resolve {
        /// The shared evaluation data (holding address/).
        #[arg(long, default_value = "../shared/eval")]
        eval_dir: PathBuf,
    },
    /// Address import: synthetic rows through the real import path into a fresh SQLite file.
    Import {
        #[arg(long, default_value_t = 10_000_000)]
        rows: u64,
    },
    /// Incident intake over HTTP through the real server and pipeline, beside
    /// raw inserts of the same rows, in a fresh SQLite file (or PostgreSQL schema).
    Intake {
        /// Concurrent clients for the saturation figure.
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Seconds of saturation, then seconds of offered load.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Incidents per second offered (open loop) for the latency figure.
        #[arg(long, default_value_t = 2_000)]
        rate: u32,
        /// Seconds of each kind of raw insert.
        #[arg(long, default_value_t = 3.0)]
        raw_seconds: f64,
        /// Run against this PostgreSQL server, in a schema created and dropped by the run.
        #[arg(long, value_name = "URL")]
        pg: Option<String>,
    },
    /// Dispatch through the real router: recommendation latency over a
    /// registry of units, and position batches from a GPS feed beside the
    /// store's raw write of them. A fresh SQLite file, or with the global
    /// --database-url postgres://… fresh schemas of that server, dropped after.
    Dispatch {
        /// Units in the registry the recommendation ranks.
        #[arg(long, default_value_t = 10_000)]
        registry: usize,
        /// Timed recommendation requests per case, after 50 to warm up.
        #[arg(long, default_value_t = 500)]
        requests: usize,
        /// Units of the position feed.
        #[arg(long, default_value_t = 200_000)]
        units: usize,
        /// Positions per batch (the endpoint takes up to 10,000).
        #[arg(long, default_value_t = 5_000)]
        batch: usize,
        /// The feed stops after this many positions…
        #[arg(long, default_value_t = 1_000_000)]
        positions: u64,
        /// …or this many seconds of endpoint time, whichever comes first.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// The same seed places and moves the same units.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("错误 / error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let bind = match &cli.command {
        Command::Serve(args) | Command::Demo(DemoArgs { serve: args, .. }) => args.bind.clone(),
        _ => None,
    };
    let flags = FlagValues {
        bind,
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
    };
    // The bench's database is its own throw-away one, not the configured.
    let bench_database_url = cli.database_url.clone();
    let loaded = config::load(&cli.config, flags)?;
    let settings = loaded.settings.clone();
    match cli.command {
        Command::Config(ConfigCommand::Show) => {
            for key in config::KEYS {
                println!(
                    "{key:<22} = {:<40} # {}",
                    settings.display_value(key),
                    loaded.source_of(key)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Triage => {
            let stdin = std::io::stdin();
            triage_cli::run(stdin.lock(), std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Resolve { eval_dir }) => {
            bench_resolve::run(&eval_dir)?;
            Ok(ExitCode::SUCCESS)
        }
        command => {
            serve::init_tracing(&settings.log_format);
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                match command {
                    Command::Serve(_) => serve::serve(&settings, None).await,
                    Command::Demo(args) if args.generate_only => {
                        let options = gen::GenOptions::new(
                            args.seed,
                            args.stations,
                            args.scale,
                            args.history_days,
                            args.calls_per_day,
                        );
                        gen::run(&settings, &options).await
                    }
                    Command::Gen(args) => {
                        let options = gen::GenOptions::new(
                            args.seed,
                            args.stations,
                            args.scale,
                            args.history_days,
                            args.calls_per_day,
                        );
                        gen::run(&settings, &options).await
                    }
                    Command::Demo(args) => {
                        let options = DemoOptions {
                            town: TownSpec {
                                seed: args.seed,
                                stations: args.stations as usize,
                                scale: 1,
                            },
                            history_days: args.history_days,
                            calls_per_day: args.calls_per_day.clamp(0.0, 1000.0),
                            live_rate: args.live_rate.clamp(0.0, 600.0),
                        };
                        serve::serve(&settings, Some(options)).await
                    }
                    Command::Migrate => serve::migrate(&settings).await,
                    Command::Address(AddressCommand::Import { file }) => {
                        address_import::run(&settings, &file).await
                    }
                    Command::Road(RoadCommand::Import { file, gcj02 }) => {
                        road_import::run(&settings, &file, gcj02).await
                    }
                    Command::Qr {
                        community,
                        out,
                        font,
                    } => {
                        address_import::print_plates(&settings, &community, &out, font.as_deref())
                            .await
                    }
                    Command::Address(AddressCommand::LoadVillages { file }) => {
                        address_import::load_villages(&settings, &file).await
                    }
                    Command::Address(AddressCommand::Resolve) => {
                        address_import::resolve_stdin(&settings).await
                    }
                    Command::User(command) => admin::user(&settings, command).await,
                    Command::Token(command) => admin::token(&settings, command).await,
                    Command::Audit(AuditCommand::Verify) => admin::verify_audit(&settings).await,
                    Command::Bench(BenchCommand::Import { rows }) => {
                        address_import::bench(rows).await
                    }
                    Command::Bench(BenchCommand::Intake {
                        clients,
                        seconds,
                        rate,
                        raw_seconds,
                        pg,
                    }) => {
                        bench_intake::run(bench_intake::Options {
                            clients,
                            seconds,
                            rate,
                            raw_seconds,
                            pg,
                        })
                        .await
                    }
                    Command::Bench(BenchCommand::Dispatch {
                        registry,
                        requests,
                        units,
                        batch,
                        positions,
                        seconds,
                        seed,
                    }) => {
                        bench_dispatch::run(bench_dispatch::Options {
                            registry,
                            requests,
                            units,
                            batch,
                            positions,
                            seconds,
                            database_url: bench_database_url,
                            seed,
                        })
                        .await
                    }
                    Command::Config(_)
                    | Command::Triage
                    | Command::Bench(BenchCommand::Resolve { .. }) => {
                        unreachable!("handled before the runtime starts")
                    }
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
