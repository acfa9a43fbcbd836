//! Background work as named jobs, run by one runner. A job keeps no state of
//! its own: each one is a scan whose progress lives in the records it
//! changes (a work order's or a warning's `escalated_at`, a case's warning
//! flags, `task_days`, a session's last use), so running it twice, after a
//! restart or on two instances at once, does each thing once. The runner
//! records each job's last run, its outcome and what it did in `/metrics`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::services::{dispatch, dispute_warnings, escalation, sessions, tasks};
use crate::state::AppState;

/// Every job the server runs, in the order a round runs them: overdue work
/// orders first, so the warnings they raise then wait their own deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// 超时督办: work orders past a deadline escalate once to the supervisor.
    EscalateWorkOrders,
    /// 民转刑预警: high-risk disputes not mediated in time, follow-up visits
    /// missed; flagged on the case, so each is warned once.
    DisputeDeadlines,
    /// Warnings not acknowledged in time escalate once to the station chief.
    EscalateWarnings,
    /// 系统派单: the day's task lists, once the day (Asia/Shanghai) turns.
    DailyTaskLists,
    /// Sessions idle too long that nobody came back for.
    EndIdleSessions,
    /// Unit tracks older than the retention are thinned, and forgotten
    /// later: officers' movements are personal data, kept no longer and no
    /// finer than needed.
    KeepTracks,
}

impl Job {
    pub const ALL: [Job; 6] = [
        Job::EscalateWorkOrders,
        Job::DisputeDeadlines,
        Job::EscalateWarnings,
        Job::DailyTaskLists,
        Job::EndIdleSessions,
        Job::KeepTracks,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::EscalateWorkOrders => "escalate_work_orders",
            Job::DisputeDeadlines => "dispute_deadlines",
            Job::EscalateWarnings => "escalate_warnings",
            Job::DailyTaskLists => "daily_task_lists",
            Job::EndIdleSessions => "end_idle_sessions",
            Job::KeepTracks => "keep_tracks",
        }
    }

    /// How often the job runs.
    pub fn every(self) -> Duration {
        match self {
            Job::EscalateWorkOrders | Job::DisputeDeadlines | Job::EscalateWarnings => {
                Duration::from_secs(30)
            }
            Job::DailyTaskLists => Duration::from_secs(60),
            Job::EndIdleSessions | Job::KeepTracks => Duration::from_secs(300),
        }
    }

    /// Runs the job once; the count of records it changed.
    #[tracing::instrument(skip_all, fields(job = self.name()))]
    pub async fn run(self, state: &AppState) -> Result<usize, fengqiao_store::StoreError> {
        match self {
            Job::EscalateWorkOrders => escalation::escalate_due(state).await,
            Job::DisputeDeadlines => dispute_warnings::warn_due(state).await,
            Job::EscalateWarnings => escalation::escalate_warnings_due(state).await,
            Job::DailyTaskLists => Ok(tasks::generate_if_new_day(state)
                .await?
                .map_or(0, |done| done.created)),
            Job::EndIdleSessions => sessions::end_idle(state).await,
            Job::KeepTracks => Ok(dispatch::keep_tracks(state).await? as usize),
        }
    }

    /// Runs the job once and records it: last run, outcome, records changed.
    pub async fn run_recorded(self, state: &AppState) {
        let labels = [("job", self.name())];
        let started = std::time::Instant::now();
        let outcome = self.run(state).await;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        metrics::gauge!("fengqiao_job_last_run_timestamp_seconds", &labels).set(now);
        metrics::histogram!("fengqiao_job_duration_seconds", &labels)
            .record(started.elapsed().as_secs_f64());
        match outcome {
            Ok(done) => {
                metrics::counter!("fengqiao_job_runs_total", "job" => self.name(), "outcome" => "ok")
                    .increment(1);
                metrics::gauge!("fengqiao_job_last_success_timestamp_seconds", &labels).set(now);
                metrics::counter!("fengqiao_job_records_total", &labels).increment(done as u64);
                if done > 0 {
                    tracing::info!(job = self.name(), done, "job ran");
                }
            }
            Err(err) => {
                metrics::counter!("fengqiao_job_runs_total", "job" => self.name(), "outcome" => "failed")
                    .increment(1);
                tracing::warn!(job = self.name(), error = %err, "job failed");
            }
        }
    }
}

/// Runs every job at start-up — catching up on deadlines that passed while
/// the server was stopped — and then each on its schedule, one at a time in
/// [`Job::ALL`]'s order. Runs until the process ends.
pub async fn run_all(state: AppState) {
    let tick = Duration::from_secs(1);
    let mut last: Vec<Option<std::time::Instant>> = vec![None; Job::ALL.len()];
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        for (job, last) in Job::ALL.into_iter().zip(last.iter_mut()) {
            if last.is_none_or(|at| at.elapsed() >= job.every()) {
                *last = Some(std::time::Instant::now());
                job.run_recorded(&state).await;
            }
        }
    }
}
