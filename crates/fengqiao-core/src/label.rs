//! 显示名: the one Chinese and one English word of each value users see — a
//! status, a kind, a rule, a source. The board, the refusals, the pages, the
//! JSON API's `*_name` fields and the scripts (which get their words from
//! the page) all read them here, so a status has one word everywhere.
//!
//! Chinese words follow docs/GLOSSARY.md first, then what the pages say.

/// A value with a word for people, in Chinese and in English.
pub trait Label: Copy {
    fn zh(self) -> &'static str;
    fn en(self) -> &'static str;
}

/// `impl Label` from a table: `Variant => ("中文", "English")`, one line a
/// value, every value listed (the match is exhaustive).
macro_rules! labels {
    ($ty:ident { $($variant:ident => ($zh:literal, $en:literal)),+ $(,)? }) => {
        impl $crate::label::Label for $ty {
            fn zh(self) -> &'static str {
                match self {
                    $($ty::$variant => $zh),+
                }
            }

            fn en(self) -> &'static str {
                match self {
                    $($ty::$variant => $en),+
                }
            }
        }
    };
}

pub(crate) use labels;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::Label;
    use crate::dispute::{DisputeStatus, DisputeType, FollowUpStatus, RiskLevel, TransferTarget};
    use crate::field_report::FieldReportKind;
    use crate::incident::{IncidentSource, IncidentStatus};
    use crate::org::OrgKind;
    use crate::reinforcement::ReinforcementStatus;
    use crate::role::Role;
    use crate::task::{TaskKind, TaskOutcome, TaskStatus};
    use crate::unit::{UnitKind, UnitStatus};
    use crate::warning::{WarningAction, WarningRule, WarningStatus};
    use crate::work_order::WorkOrderStatus;

    /// Within one enum, no two values share a word in either language.
    fn distinct<T: Label + std::fmt::Debug>(values: &[T]) {
        for words in [
            values.iter().map(|v| v.zh()).collect::<Vec<_>>(),
            values.iter().map(|v| v.en()).collect::<Vec<_>>(),
        ] {
            assert!(words.iter().all(|w| !w.trim().is_empty()), "{values:?}");
            let unique: HashSet<&str> = words.iter().copied().collect();
            assert_eq!(unique.len(), words.len(), "{words:?}");
        }
    }

    #[test]
    fn every_value_has_its_own_word_in_each_language() {
        distinct(&IncidentStatus::ALL);
        distinct(&IncidentSource::ALL);
        distinct(&WorkOrderStatus::ALL);
        distinct(DisputeStatus::ALL);
        distinct(DisputeType::ALL);
        distinct(RiskLevel::ALL);
        distinct(FollowUpStatus::ALL);
        distinct(TransferTarget::ALL);
        distinct(&WarningStatus::ALL);
        distinct(&WarningRule::ALL);
        distinct(&WarningAction::ALL);
        distinct(&TaskKind::ALL);
        distinct(&TaskStatus::ALL);
        distinct(&TaskOutcome::ALL);
        distinct(&FieldReportKind::ALL);
        distinct(&Role::ALL);
        distinct(&OrgKind::ALL);
        distinct(&UnitKind::ALL);
        distinct(&UnitStatus::ALL);
        distinct(&ReinforcementStatus::ALL);
    }

    /// The words the board and the refusals used to disagree on.
    #[test]
    fn the_board_and_the_refusals_say_the_same() {
        assert_eq!(IncidentStatus::Triaged.zh(), "待派转");
        assert_eq!(IncidentStatus::Diverted.zh(), "已分流");
        assert_eq!(IncidentStatus::Resolved.zh(), "已办结");
        assert_eq!(IncidentStatus::Reopened.zh(), "已重启");
        assert_eq!(IncidentStatus::Cancelled.zh(), "已撤销");
        assert_eq!(WorkOrderStatus::InProgress.zh(), "办理中");
        assert_eq!(WorkOrderStatus::Returned.zh(), "已反馈");
        assert_eq!(WarningRule::FollowUpMissed.zh(), "纠纷回访超期");
        assert_eq!(WarningRule::ThreatWords.zh(), "威胁暴力言语");
    }
}
