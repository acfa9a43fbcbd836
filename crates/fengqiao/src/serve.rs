//! Wiring: configuration → store → state → router → listener.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use fengqiao_core::dispute::FollowUpPolicy;
use fengqiao_core::org::OrgKind;
use fengqiao_core::personal::PersonalDataCipher;
use fengqiao_core::repeat_call::RepeatCallPolicy;
use fengqiao_core::task::{StalledPolicy, VisitPolicy};
use fengqiao_core::unit::DispatchPolicy;
use fengqiao_core::user::PasswordHashing;
use fengqiao_core::SystemClock;
use fengqiao_server::{AppState, ServerSettings};
use fengqiao_store::Store;

use crate::config::Settings;
use crate::demo::{self, DemoOptions};

pub fn init_tracing(format: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Connects and migrates: every command that touches data starts here.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                settings.data_dir.display()
            )
        })?;
    }
    let store = Store::connect(&url).await.with_context(|| {
        format!(
            "cannot open the database {}",
            settings.display_value("database_url")
        )
    })?;
    store.migrate().await.context("database migration failed")?;
    Ok(store)
}

pub fn cipher(settings: &Settings) -> anyhow::Result<PersonalDataCipher> {
    let (key, source) = settings.personal_data_key()?;
    PersonalDataCipher::from_hex(&key).with_context(|| format!("personal-data key from {source}"))
}

pub async fn migrate(settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    println!(
        "数据库已是最新结构 / database schema is up to date ({}: {})",
        store.backend().name(),
        settings.display_value("database_url")
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn serve(settings: &Settings, demo: Option<DemoOptions>) -> anyhow::Result<ExitCode> {
    let repeat_calls = RepeatCallPolicy::with_limits(
        settings.repeat_call_window_days,
        settings.repeat_call_threshold,
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "配置项 repeat_call_{0} 无效：窗口应为 1–365 天，阈值至少为 2 / \
             invalid repeat_call_{0}: the window must be 1 to 365 days, the threshold at least 2",
            e.field
        )
    })?;
    let visits = VisitPolicy::with_period(settings.visit_period_days).map_err(|_| {
        anyhow::anyhow!(
            "配置项 visit_period_days 无效：应为 1–365 天 / \
             invalid visit_period_days: it must be 1 to 365 days"
        )
    })?;
    let stalled_disputes =
        StalledPolicy::with_days(settings.stalled_dispute_days).map_err(|_| {
            anyhow::anyhow!(
                "配置项 stalled_dispute_days 无效：应为 1–365 天 / \
             invalid stalled_dispute_days: it must be 1 to 365 days"
            )
        })?;
    let dispute_follow_ups = settings
        .dispute_follow_up_days
        .split(',')
        .map(|d| d.trim().parse::<u32>())
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .and_then(|days| FollowUpPolicy::new(days).ok())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "配置项 dispute_follow_up_days 无效：应为 1–6 个递增的天数，每个 1–365 天，以逗号分隔 / \
                 invalid dispute_follow_up_days: 1 to 6 ascending day counts, each 1 to 365, comma-separated"
            )
        })?;
    let dispatch = DispatchPolicy::new(
        settings.track_retention_days,
        settings.thinned_track_minutes,
        settings.thinned_track_days,
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "配置项 {0} 无效：轨迹保留 1–365 天，抽稀间隔 1–1440 分钟，抽稀后保留 1–3650 天 / \
             invalid {0}: a track is kept 1 to 365 days, thinned to 1 to 1440 minutes, then kept 1 to 3650 days",
            e.field
        )
    })?;
    let store = open_store(settings).await?;
    let cipher = cipher(settings)?;
    let hashing = PasswordHashing::recommended();
    // The demo's communities go in before the resolver loads them.
    let demo = match demo {
        Some(options) => {
            let (town, accounts) =
                demo::ensure(&store, &cipher, &hashing, settings, &options).await?;
            Some((town, accounts, options))
        }
        None => None,
    };
    let villages = fengqiao_server::services::addresses::load_villages(&store).await?;
    // Built before listening, not by the first call that needs them.
    let _ = fengqiao_server::services::addresses::resolver();
    let _ = fengqiao_server::services::routing::triage();
    tracing::info!(villages, "address resolver and triage ready");
    let listener = tokio::net::TcpListener::bind(&settings.bind)
        .await
        .with_context(|| {
            format!(
                "无法监听 {}（端口可能已被占用，可用 --bind 指定其他地址）/ cannot listen on {}",
                settings.bind, settings.bind
            )
        })?;
    let address = listener.local_addr()?;
    let url = if settings.public_url.is_empty() {
        format!("http://{address}")
    } else {
        settings.public_url()
    };
    if let Some((town, accounts, _)) = &demo {
        demo::write_credentials(&settings.data_dir, &url, accounts)?;
        demo::print_accounts(accounts, town, &url, &settings.data_dir);
    }
    let state = AppState::new(
        store.clone(),
        cipher,
        Arc::new(SystemClock),
        hashing,
        ServerSettings {
            session_idle_minutes: settings.session_idle_minutes,
            secure_cookies: url.starts_with("https://"),
            public_url: url.clone(),
            repeat_calls,
            visits,
            stalled_disputes,
            dispute_follow_ups,
            dispatch,
            ..ServerSettings::default()
        },
    );
    if let Some((town, accounts, options)) = demo.filter(|(.., o)| o.live_rate > 0.0) {
        let county = store
            .organisations_of_kind(OrgKind::CountyBureau)
            .await?
            .into_iter()
            .next()
            .context("the demo has a county bureau")?;
        let token =
            demo::issue_intake_token(&store, county.id, "110 接警系统（演示模拟）", "demo").await?;
        let gps = demo::issue_token(
            &store,
            county.id,
            "车载定位（演示模拟）",
            "report_positions",
            "demo",
        )
        .await?;
        println!(
            "演示模拟：每分钟约 {} 起新警情经接警接口送入 / the simulator posts about {} calls a minute",
            options.live_rate, options.live_rate
        );
        tokio::spawn(crate::simulator::run(
            state.clone(),
            town,
            options.town.seed,
            options.live_rate,
            crate::simulator::Tokens {
                intake: token,
                gps,
                accounts,
            },
        ));
    }
    // Today's lists exist before the first person can ask for theirs.
    match fengqiao_server::services::tasks::generate_all(&state).await {
        Ok(done) => tracing::info!(
            people = done.people,
            created = done.created,
            "daily task lists generated"
        ),
        Err(err) => tracing::warn!(error = %err, "could not generate the daily task lists"),
    }
    // The background jobs: at once, to catch up on deadlines that passed
    // while the server was stopped, then each on its schedule.
    tokio::spawn(fengqiao_server::jobs::run_all(state.clone()));
    println!("枫桥已启动 / Fengqiao is serving at {url}");
    tracing::info!(%address, backend = store.backend().name(), "listening");
    let live = state.live.clone();
    axum::serve(
        listener,
        fengqiao_server::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        // Open live streams would otherwise keep the shutdown waiting.
        live.close();
    })
    .await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
