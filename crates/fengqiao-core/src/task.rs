//! 派单 / 工作清单: the work the system (or a station chief, by hand) gives a
//! community officer or a grid worker for a day.
//!
//! ```text
//! open ──done (with a record: time, place, note, outcome)──▶ done
//!   └───withdrawn (what it was for went away: the warning was closed)──▶ withdrawn
//! ```
//!
//! A task is for one China day (`ChinaDay`, Asia/Shanghai). Undone, it stays on
//! the list of every later day and is *late*; done, it leaves the list. Each
//! task has a natural key (what it is about, for whom, for which day), so
//! generating a day's list twice makes nothing new; the store holds that rule.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::Actor;
use crate::china_time::{ChinaDay, DAY_MS};
use crate::clock::Timestamp;
use crate::error::{FieldError, Reason};
use crate::label::labels;
use crate::text::bounded_text;
use crate::work_order::HandlingNote;

/// What a task asks for. Stored as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// 预警待办结: a warning on the person's grid is not closed yet.
    CloseWarning,
    /// 回访: a dispute's follow-up visit is due.
    FollowUpVisit,
    /// 调解: a mediation session is scheduled for the day.
    MediationSession,
    /// 纠纷久未推进: a dispute without progress for N days.
    StalledDispute,
    /// 走访: the routine visit of a building in the person's grids.
    RoutineVisit,
    /// 交办: assigned by hand by a station chief.
    Assigned,
}

labels!(TaskKind {
    CloseWarning => ("预警待办结", "Warning to close"),
    FollowUpVisit => ("纠纷回访", "Follow-up visit"),
    MediationSession => ("调解安排", "Mediation session"),
    StalledDispute => ("纠纷久未推进", "Dispute without progress"),
    RoutineVisit => ("日常走访", "Routine visit"),
    Assigned => ("领导交办", "Assigned by hand"),
});

impl TaskKind {
    pub const ALL: [TaskKind; 6] = [
        TaskKind::CloseWarning,
        TaskKind::FollowUpVisit,
        TaskKind::MediationSession,
        TaskKind::StalledDispute,
        TaskKind::RoutineVisit,
        TaskKind::Assigned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::CloseWarning => "close_warning",
            TaskKind::FollowUpVisit => "follow_up_visit",
            TaskKind::MediationSession => "mediation_session",
            TaskKind::StalledDispute => "stalled_dispute",
            TaskKind::RoutineVisit => "routine_visit",
            TaskKind::Assigned => "assigned",
        }
    }

    /// The order on a list: what cannot wait first.
    pub fn urgency(self) -> u8 {
        match self {
            TaskKind::CloseWarning => 0,
            TaskKind::MediationSession => 1,
            TaskKind::FollowUpVisit => 2,
            TaskKind::Assigned => 3,
            TaskKind::StalledDispute => 4,
            TaskKind::RoutineVisit => 5,
        }
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskKind {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| unknown("kind", TaskKind::ALL.map(TaskKind::as_str)))
    }
}

fn unknown<const N: usize>(field: &str, allowed: [&str; N]) -> FieldError {
    FieldError::new(
        field,
        Reason::UnknownValue {
            allowed: allowed.iter().map(|a| (*a).to_owned()).collect(),
        },
    )
}

/// In which capacity the person does the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssigneeRole {
    /// 社区民警 (or an auxiliary officer working with one).
    CommunityOfficer,
    /// 网格员
    GridWorker,
}

impl AssigneeRole {
    pub fn as_str(self) -> &'static str {
        match self {
            AssigneeRole::CommunityOfficer => "community_officer",
            AssigneeRole::GridWorker => "grid_worker",
        }
    }

    pub fn parse_stored(s: &str) -> Option<AssigneeRole> {
        match s {
            "community_officer" => Some(AssigneeRole::CommunityOfficer),
            "grid_worker" => Some(AssigneeRole::GridWorker),
            _ => None,
        }
    }
}

/// Who does the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Assignee {
    pub user_id: i64,
    pub role: AssigneeRole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Done,
    /// What it was for went away (the warning was closed elsewhere).
    Withdrawn,
}

labels!(TaskStatus {
    Open => ("待办", "Open"),
    Done => ("已完成", "Done"),
    Withdrawn => ("已撤销", "Withdrawn"),
});

impl TaskStatus {
    pub const ALL: [TaskStatus; 3] = [TaskStatus::Open, TaskStatus::Done, TaskStatus::Withdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Done => "done",
            TaskStatus::Withdrawn => "withdrawn",
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskStatus {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| unknown("status", TaskStatus::ALL.map(TaskStatus::as_str)))
    }
}

/// How it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskOutcome {
    /// 已完成，无异常
    Completed,
    /// 发现问题，已处置或已上报
    IssueFound,
    /// 未见到人: went, nobody there; counted as done, and said so.
    NobodyMet,
    /// 已移交: handed to a department, a court, the station.
    Referred,
}

labels!(TaskOutcome {
    Completed => ("已完成，无异常", "Done, nothing wrong"),
    IssueFound => ("发现问题，已处置或上报", "Problem found, handled or reported"),
    NobodyMet => ("未见到人", "Nobody met"),
    Referred => ("已移交处理", "Referred"),
});

impl TaskOutcome {
    pub const ALL: [TaskOutcome; 4] = [
        TaskOutcome::Completed,
        TaskOutcome::IssueFound,
        TaskOutcome::NobodyMet,
        TaskOutcome::Referred,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskOutcome::Completed => "completed",
            TaskOutcome::IssueFound => "issue_found",
            TaskOutcome::NobodyMet => "nobody_met",
            TaskOutcome::Referred => "referred",
        }
    }
}

impl FromStr for TaskOutcome {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskOutcome::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| unknown("outcome", TaskOutcome::ALL.map(TaskOutcome::as_str)))
    }
}

/// 完成记录: what a task is done with. The time is the server's clock when
/// the record arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoneRecord {
    pub outcome: TaskOutcome,
    /// Where it was done, 1 to 200 characters.
    pub place: String,
    /// What was found and done, 1 to 1000 characters.
    pub note: HandlingNote,
}

impl DoneRecord {
    pub const PLACE_MAX_CHARS: usize = 200;

    /// All three are required; every missing or wrong one is reported.
    pub fn parse(
        outcome: Option<&str>,
        place: Option<&str>,
        note: Option<&str>,
    ) -> Result<DoneRecord, Vec<FieldError>> {
        let mut errors = Vec::new();
        let outcome = match outcome.map(str::trim).filter(|o| !o.is_empty()) {
            None => {
                errors.push(FieldError::new("outcome", Reason::Required));
                None
            }
            Some(o) => TaskOutcome::from_str(o).map_err(|e| errors.push(e)).ok(),
        };
        let place = bounded_text("place", place.unwrap_or(""), Self::PLACE_MAX_CHARS)
            .map_err(|e| errors.push(e))
            .ok();
        let note = HandlingNote::parse("note", note.unwrap_or(""))
            .map_err(|e| errors.push(e))
            .ok();
        match (outcome, place, note) {
            (Some(outcome), Some(place), Some(note)) => Ok(DoneRecord {
                outcome,
                place,
                note,
            }),
            _ => Err(errors),
        }
    }
}

/// A task's title as its list shows it, 1 to 100 characters.
pub fn parse_title(text: &str) -> Result<String, FieldError> {
    bounded_text("title", text, 100)
}

/// Details of a task assigned by hand, up to 1000 characters.
pub fn parse_details(text: Option<&str>) -> Result<Option<String>, FieldError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => bounded_text("details", t, 1000).map(Some),
    }
}

/// A task to put on a list. The store gives it an id, or says the same task
/// (same person, same thing, same day — or still open from an earlier day)
/// is there already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// The organisation whose lists it is on: the station of the grid, or
    /// of the chief who assigned it.
    pub org_id: i64,
    pub assignee: Assignee,
    pub kind: TaskKind,
    /// The warning, follow-up, session, dispute or building it is about.
    pub subject_id: Option<i64>,
    /// What makes two tasks the same task: the kind and what it is about.
    pub natural_key: String,
    pub day: ChinaDay,
    pub title: String,
    pub details: Option<String>,
    pub created_at: Timestamp,
    pub created_by: Actor,
}

impl NewTask {
    /// A generated task about `subject_id`; its key is the kind and the
    /// subject, so a day's list generated twice has it once.
    #[expect(clippy::too_many_arguments, reason = "one field of the task each")]
    pub fn generated(
        org_id: i64,
        assignee: Assignee,
        kind: TaskKind,
        subject_id: i64,
        day: ChinaDay,
        title: String,
        details: Option<String>,
        at: Timestamp,
    ) -> NewTask {
        NewTask {
            org_id,
            assignee,
            kind,
            subject_id: Some(subject_id),
            natural_key: format!("{}:{subject_id}", kind.as_str()),
            day,
            title,
            details,
            created_at: at,
            created_by: Actor::System,
        }
    }

    /// 交办: a task a chief assigns by hand. Its key is a digest of what it
    /// says, so a retried assignment puts it on the list once.
    #[expect(clippy::too_many_arguments, reason = "one field of the task each")]
    pub fn assigned(
        org_id: i64,
        assignee: Assignee,
        day: ChinaDay,
        title: String,
        details: Option<String>,
        building_id: Option<i64>,
        by: Actor,
        at: Timestamp,
    ) -> NewTask {
        let mut digest = Sha256::new();
        digest.update(title.as_bytes());
        digest.update([0]);
        digest.update(details.as_deref().unwrap_or("").as_bytes());
        digest.update([0]);
        digest.update(building_id.unwrap_or(0).to_be_bytes());
        let hex: String = digest.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        NewTask {
            org_id,
            assignee,
            kind: TaskKind::Assigned,
            subject_id: building_id,
            natural_key: format!("assigned:{hex}"),
            day,
            title,
            details,
            created_at: at,
            created_by: by,
        }
    }
}

/// Why a task could not be done. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    #[error("a task that is {0} cannot be done")]
    NotOpen(TaskStatus),
    #[error("only the person the task is for can do it")]
    NotAssignee,
}

/// 任务 as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: i64,
    pub org_id: i64,
    pub assignee: Assignee,
    pub kind: TaskKind,
    pub subject_id: Option<i64>,
    pub natural_key: String,
    pub day: ChinaDay,
    pub title: String,
    pub details: Option<String>,
    pub status: TaskStatus,
    pub created_at: Timestamp,
    pub created_by: Actor,
    pub done_at: Option<Timestamp>,
    pub done_by: Option<Actor>,
    pub record: Option<DoneRecord>,
    pub withdrawn_at: Option<Timestamp>,
}

impl Task {
    /// On the list of `today`: open, for today or carried over.
    pub fn on_list(&self, today: ChinaDay) -> bool {
        self.status == TaskStatus::Open && self.day <= today
    }

    /// 逾期: carried over past its day, undone.
    pub fn late(&self, today: ChinaDay) -> bool {
        self.status == TaskStatus::Open && self.day < today
    }

    /// Done on (or before) the day it was for; `None` while not done.
    pub fn done_on_time(&self) -> Option<bool> {
        self.done_at.map(|at| ChinaDay::of(at) <= self.day)
    }

    /// 完成: by the person it is for, with a record, once.
    pub fn done(&self, record: DoneRecord, by_user: i64, at: Timestamp) -> Result<Task, TaskError> {
        if self.status != TaskStatus::Open {
            return Err(TaskError::NotOpen(self.status));
        }
        if by_user != self.assignee.user_id {
            return Err(TaskError::NotAssignee);
        }
        Ok(Task {
            status: TaskStatus::Done,
            done_at: Some(at),
            done_by: Some(Actor::User(by_user)),
            record: Some(record),
            ..self.clone()
        })
    }

    /// 撤销: the thing it was for is gone; only an open task.
    pub fn withdraw(&self, at: Timestamp) -> Result<Task, TaskError> {
        if self.status != TaskStatus::Open {
            return Err(TaskError::NotOpen(self.status));
        }
        Ok(Task {
            status: TaskStatus::Withdrawn,
            withdrawn_at: Some(at),
            ..self.clone()
        })
    }
}

/// 走访周期: each building of a person's grids is visited at least once in
/// `period_days`, spread evenly so a day's list stays short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitPolicy {
    period_days: u32,
}

impl Default for VisitPolicy {
    fn default() -> Self {
        VisitPolicy { period_days: 30 }
    }
}

impl VisitPolicy {
    /// 1 to 365 days.
    pub fn with_period(period_days: u32) -> Result<VisitPolicy, FieldError> {
        if !(1..=365).contains(&period_days) {
            return Err(FieldError::new(
                "visit_period_days",
                Reason::InvalidFormat {
                    expected: "1..=365",
                },
            ));
        }
        Ok(VisitPolicy { period_days })
    }

    pub fn period_days(self) -> u32 {
        self.period_days
    }

    /// Routine visits a day for `buildings` buildings: enough to visit each
    /// one within the period, no more (500 buildings in 30 days: 17 a day).
    pub fn daily_load(self, buildings: usize) -> usize {
        buildings.div_ceil(self.period_days as usize)
    }

    /// Whether a building last visited on `last` (never: `None`) is due on
    /// `today`.
    pub fn due(self, last: Option<ChinaDay>, today: ChinaDay) -> bool {
        last.is_none_or(|last| today.days_since(last) >= i64::from(self.period_days))
    }
}

/// 纠纷久未推进: a case registered or in mediation with no step of its
/// lifecycle for this many days goes on its officer's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StalledPolicy {
    days: u32,
}

impl Default for StalledPolicy {
    fn default() -> Self {
        StalledPolicy { days: 14 }
    }
}

impl StalledPolicy {
    /// 1 to 365 days.
    pub fn with_days(days: u32) -> Result<StalledPolicy, FieldError> {
        if !(1..=365).contains(&days) {
            return Err(FieldError::new(
                "stalled_dispute_days",
                Reason::InvalidFormat {
                    expected: "1..=365",
                },
            ));
        }
        Ok(StalledPolicy { days })
    }

    pub fn days(self) -> u32 {
        self.days
    }

    /// No progress since `progress_at` for the whole period by `now`.
    pub fn stalled(self, progress_at: Timestamp, now: Timestamp) -> bool {
        now.millis() - progress_at.millis() >= i64::from(self.days) * DAY_MS
    }
}

/// A building of a person's grids, as the routine-visit source sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitCandidate {
    pub building_id: i64,
    /// The day of its last done visit, by anyone.
    pub last_visited: Option<ChinaDay>,
    /// Someone has its visit on their list already.
    pub visit_open: bool,
}

/// The buildings to add to a person's list on `today`: those due and on
/// nobody's list yet, never visited first, then the longest unvisited, at
/// most the daily load less the routine visits already on today's list
/// (`on_list_today`, including those carried over).
pub fn routine_visits_due(
    policy: VisitPolicy,
    candidates: &[VisitCandidate],
    on_list_today: usize,
    today: ChinaDay,
) -> Vec<i64> {
    let room = policy
        .daily_load(candidates.len())
        .saturating_sub(on_list_today);
    let mut due: Vec<&VisitCandidate> = candidates
        .iter()
        .filter(|c| !c.visit_open && policy.due(c.last_visited, today))
        .collect();
    due.sort_by_key(|c| (c.last_visited, c.building_id));
    due.into_iter().take(room).map(|c| c.building_id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    /// 2025-11-24T16:00:00Z = 2025-11-25 00:00 in Beijing.
    const T0: Timestamp = Timestamp(1_764_000_000_000);

    fn officer() -> Assignee {
        Assignee {
            user_id: 7,
            role: AssigneeRole::CommunityOfficer,
        }
    }

    fn task(day: ChinaDay) -> Task {
        let new = NewTask::generated(
            1,
            officer(),
            TaskKind::RoutineVisit,
            501,
            day,
            "走访 锦里小区3栋".into(),
            None,
            T0,
        );
        Task {
            id: 1,
            org_id: new.org_id,
            assignee: new.assignee,
            kind: new.kind,
            subject_id: new.subject_id,
            natural_key: new.natural_key,
            day: new.day,
            title: new.title,
            details: new.details,
            status: TaskStatus::Open,
            created_at: new.created_at,
            created_by: new.created_by,
            done_at: None,
            done_by: None,
            record: None,
            withdrawn_at: None,
        }
    }

    fn record() -> DoneRecord {
        DoneRecord::parse(
            Some("completed"),
            Some("锦里小区3栋"),
            Some("走访住户，无异常"),
        )
        .unwrap()
    }

    #[test]
    fn an_undone_task_carries_over_late_and_a_done_one_leaves_the_list() {
        let clock = ManualClock::new(T0.plus_minutes(9 * 60));
        let today = ChinaDay::of(clock.now());
        let open = task(today);
        assert!(open.on_list(today));
        assert!(!open.late(today));
        let tomorrow = today.plus_days(1);
        assert!(open.on_list(tomorrow));
        assert!(open.late(tomorrow));
        assert!(!open.on_list(today.plus_days(-1)), "not before its day");

        clock.advance_minutes(24 * 60);
        let done = open.done(record(), 7, clock.now()).unwrap();
        assert_eq!(done.status, TaskStatus::Done);
        assert!(!done.on_list(tomorrow));
        assert!(!done.late(tomorrow.plus_days(3)));
        assert_eq!(done.done_on_time(), Some(false), "done the day after");
        assert_eq!(
            open.done(record(), 7, T0.plus_minutes(60))
                .unwrap()
                .done_on_time(),
            Some(true)
        );
    }

    #[test]
    fn only_the_assignee_does_an_open_task_once() {
        let open = task(ChinaDay::of(T0));
        assert_eq!(open.done(record(), 8, T0), Err(TaskError::NotAssignee));
        let done = open.done(record(), 7, T0).unwrap();
        assert_eq!(
            done.done(record(), 7, T0),
            Err(TaskError::NotOpen(TaskStatus::Done))
        );
        assert_eq!(done.withdraw(T0), Err(TaskError::NotOpen(TaskStatus::Done)));
        let withdrawn = open.withdraw(T0).unwrap();
        assert!(!withdrawn.on_list(ChinaDay::of(T0)));
        assert_eq!(
            withdrawn.done(record(), 7, T0),
            Err(TaskError::NotOpen(TaskStatus::Withdrawn))
        );
    }

    #[test]
    fn a_done_record_needs_an_outcome_a_place_and_a_note() {
        let errors = DoneRecord::parse(None, None, None).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["outcome", "place", "note"]);
        let errors = DoneRecord::parse(Some("shrugged"), Some("门口"), Some("看过")).unwrap_err();
        assert!(matches!(errors[0].reason, Reason::UnknownValue { .. }));
        let long = "地".repeat(201);
        assert!(DoneRecord::parse(Some("completed"), Some(&long), Some("看过")).is_err());
        assert_eq!(record().outcome, TaskOutcome::Completed);
    }

    #[test]
    fn the_same_assignment_has_the_same_key() {
        let at = T0;
        let day = ChinaDay::of(at);
        let a = NewTask::assigned(
            1,
            officer(),
            day,
            "核查出租屋".into(),
            None,
            Some(3),
            Actor::User(2),
            at,
        );
        let b = NewTask::assigned(
            1,
            officer(),
            day,
            "核查出租屋".into(),
            None,
            Some(3),
            Actor::User(2),
            at,
        );
        let c = NewTask::assigned(
            1,
            officer(),
            day,
            "核查出租屋".into(),
            Some("三楼".into()),
            Some(3),
            Actor::User(2),
            at,
        );
        assert_eq!(a.natural_key, b.natural_key);
        assert_ne!(a.natural_key, c.natural_key);
        assert!(a.natural_key.starts_with("assigned:"));
        let generated = NewTask::generated(
            1,
            officer(),
            TaskKind::CloseWarning,
            9,
            day,
            "办结预警".into(),
            None,
            at,
        );
        assert_eq!(generated.natural_key, "close_warning:9");
    }

    #[test]
    fn routine_visits_are_spread_over_the_period() {
        let policy = VisitPolicy::default();
        let today = ChinaDay::of(T0);
        let candidates: Vec<VisitCandidate> = (1..=500)
            .map(|id| VisitCandidate {
                building_id: id,
                last_visited: None,
                visit_open: false,
            })
            .collect();
        let first = routine_visits_due(policy, &candidates, 0, today);
        assert_eq!(first.len(), 17, "500 buildings in 30 days");
        assert_eq!(first[0], 1);
        // Generated again the same day: today's list is full already.
        assert!(routine_visits_due(policy, &candidates, 17, today).is_empty());
        // Visited recently, on someone's list, or never: only the due ones,
        // the never visited first, then the longest unvisited.
        let few = [
            VisitCandidate {
                building_id: 1,
                last_visited: Some(today.plus_days(-3)),
                visit_open: false,
            },
            VisitCandidate {
                building_id: 2,
                last_visited: Some(today.plus_days(-40)),
                visit_open: false,
            },
            VisitCandidate {
                building_id: 3,
                last_visited: None,
                visit_open: true,
            },
            VisitCandidate {
                building_id: 4,
                last_visited: None,
                visit_open: false,
            },
            VisitCandidate {
                building_id: 5,
                last_visited: Some(today.plus_days(-30)),
                visit_open: false,
            },
        ];
        let policy = VisitPolicy::with_period(2).unwrap();
        assert_eq!(routine_visits_due(policy, &few, 0, today), [4, 2, 5]);
        assert_eq!(
            routine_visits_due(VisitPolicy::default(), &few, 0, today),
            [4]
        );
        assert!(VisitPolicy::with_period(0).is_err());
        let stalled = StalledPolicy::default();
        assert!(!stalled.stalled(T0, T0.plus_minutes(14 * 24 * 60 - 1)));
        assert!(stalled.stalled(T0, T0.plus_minutes(14 * 24 * 60)));
        assert!(StalledPolicy::with_days(0).is_err());
        assert!(VisitPolicy::with_period(366).is_err());
    }
}
