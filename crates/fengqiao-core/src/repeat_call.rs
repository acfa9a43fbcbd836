//! 重复报警: a new incident at the same address or from the same caller about
//! the same problem, within a window. Repeat calls are the first signal of a
//! dispute that may turn violent (民转刑), so at a threshold the station is
//! warned.
//!
//! Two incidents are about a similar problem when they share the category
//! code (`noise` and `noise`) or the category family, the table's `class`
//! (`wage_arrears` and `labour_dispute` are both `labour`). The catch-all
//! families (`other`, `consultation` by default) link to nothing, not even to
//! themselves: "something else" twice is not the same problem twice.

use serde::{Deserialize, Serialize};

use crate::category::{Category, CategoryCode};
use crate::clock::Timestamp;
use crate::error::{FieldError, Reason};

/// The window, the threshold and the families that never link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatCallPolicy {
    window_days: u32,
    threshold: usize,
    unlinked_families: Vec<CategoryCode>,
}

impl Default for RepeatCallPolicy {
    fn default() -> Self {
        RepeatCallPolicy {
            window_days: 30,
            threshold: 3,
            unlinked_families: ["other", "consultation"]
                .into_iter()
                .map(|f| CategoryCode::parse("unlinked_families", f).expect("valid code"))
                .collect(),
        }
    }
}

impl RepeatCallPolicy {
    /// A window of 1 to 365 days; a threshold of at least 2 incidents (one
    /// call is not a repeat).
    pub fn new(
        window_days: u32,
        threshold: usize,
        unlinked_families: Vec<CategoryCode>,
    ) -> Result<Self, FieldError> {
        if !(1..=365).contains(&window_days) {
            return Err(FieldError::new(
                "window_days",
                Reason::InvalidFormat {
                    expected: "days 1..=365",
                },
            ));
        }
        if threshold < 2 {
            return Err(FieldError::new(
                "threshold",
                Reason::InvalidFormat {
                    expected: "at least 2",
                },
            ));
        }
        Ok(RepeatCallPolicy {
            window_days,
            threshold,
            unlinked_families,
        })
    }

    /// The default catch-all families with another window and threshold,
    /// as the server's configuration sets them.
    pub fn with_limits(window_days: u32, threshold: usize) -> Result<Self, FieldError> {
        Self::new(
            window_days,
            threshold,
            RepeatCallPolicy::default().unlinked_families,
        )
    }

    pub fn window_days(&self) -> u32 {
        self.window_days
    }

    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// Same code or same family, unless the family is a catch-all.
    pub fn similar(&self, a: &Category, b: &Category) -> bool {
        self.links(a) && self.links(b) && (a.code == b.code || a.family == b.family)
    }

    /// Whether incidents of `category` link at all: those of a catch-all
    /// family never do. A look-up of candidates can leave them out, and
    /// every family but the new incident's.
    pub fn links(&self, category: &Category) -> bool {
        !self.unlinked_families.contains(&category.family)
    }
}

/// What the detector needs to know of an incident, no more: no text and no
/// personal data, only the caller's blind index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFacts {
    pub incident_id: i64,
    /// The resolved standard address, if resolution found one.
    pub address_id: Option<i64>,
    /// The HMAC blind index of the caller's phone number, if one was given.
    pub caller_index: Option<Vec<u8>>,
    pub category: Category,
    pub received_at: Timestamp,
}

/// 重复报警预警: to be raised for the station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatCallWarning {
    /// The address the warning attaches to; none when only the caller links
    /// the incidents.
    pub address_id: Option<i64>,
    /// The chain, oldest first, ending with the new incident.
    pub incidents: Vec<i64>,
}

/// What the detector found for one new incident.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RepeatCallFinding {
    /// Earlier incidents it repeats, oldest first.
    pub linked: Vec<i64>,
    pub warning: Option<RepeatCallWarning>,
}

/// 重复报警识别: links a new incident to earlier ones and says when a warning
/// is due.
#[derive(Debug, Clone, Default)]
pub struct RepeatCallDetector {
    policy: RepeatCallPolicy,
}

impl RepeatCallDetector {
    pub fn new(policy: RepeatCallPolicy) -> Self {
        RepeatCallDetector { policy }
    }

    pub fn policy(&self) -> &RepeatCallPolicy {
        &self.policy
    }

    /// The earliest time an earlier incident may have been received to
    /// count: the store loads candidates from here on.
    pub fn window_start(&self, received_at: Timestamp) -> Timestamp {
        received_at.minus_minutes(i64::from(self.policy.window_days) * 24 * 60)
    }

    /// Links `new` to those of `earlier` at the same address or from the
    /// same caller, with a similar category, received within the window and
    /// before it. `earlier` may hold anything the store found (other
    /// addresses, older incidents, the new one itself): the detector filters.
    /// The store leaves out incidents cancelled as duplicates, which are one
    /// call reported twice rather than a repeat.
    ///
    /// A warning is due when the new incident and those it links reach the
    /// threshold and no repeat-call warning is open for this chain
    /// (`warning_open`: for the address, or for the caller when there is no
    /// address), so one chain raises one warning until that warning is
    /// closed.
    pub fn check(
        &self,
        new: &CallFacts,
        earlier: &[CallFacts],
        warning_open: bool,
    ) -> RepeatCallFinding {
        let since = self.window_start(new.received_at);
        let mut linked: Vec<&CallFacts> = earlier
            .iter()
            .filter(|e| e.incident_id != new.incident_id)
            .filter(|e| e.received_at >= since && e.received_at <= new.received_at)
            .filter(|e| same_place_or_caller(new, e))
            .filter(|e| self.policy.similar(&new.category, &e.category))
            .collect();
        linked.sort_by_key(|e| (e.received_at, e.incident_id));
        linked.dedup_by_key(|e| e.incident_id);
        let linked: Vec<i64> = linked.iter().map(|e| e.incident_id).collect();

        let count = linked.len() + 1;
        let warning = (count >= self.policy.threshold && !warning_open).then(|| {
            let mut incidents = linked.clone();
            incidents.push(new.incident_id);
            RepeatCallWarning {
                address_id: new.address_id,
                incidents,
            }
        });
        RepeatCallFinding { linked, warning }
    }
}

fn same_place_or_caller(new: &CallFacts, earlier: &CallFacts) -> bool {
    let same_address = new.address_id.is_some() && new.address_id == earlier.address_id;
    let same_caller = new.caller_index.is_some() && new.caller_index == earlier.caller_index;
    same_address || same_caller
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp(1_764_000_000_000);
    const DAY: i64 = 24 * 60;

    fn call(
        id: i64,
        address: Option<i64>,
        caller: Option<&[u8]>,
        code: &str,
        family: &str,
        days_ago: i64,
    ) -> CallFacts {
        CallFacts {
            incident_id: id,
            address_id: address,
            caller_index: caller.map(<[u8]>::to_vec),
            category: Category::new(code, family).unwrap(),
            received_at: T0.minus_minutes(days_ago * DAY),
        }
    }

    #[test]
    fn links_by_address_or_caller_with_a_similar_category() {
        let detector = RepeatCallDetector::default();
        let new = call(10, Some(501), Some(b"caller-a"), "noise", "environment", 0);
        let earlier = [
            call(1, Some(501), None, "noise", "environment", 3),
            call(
                2,
                Some(777),
                Some(b"caller-a"),
                "pollution",
                "environment",
                2,
            ),
            call(3, Some(501), None, "wage_arrears", "labour", 1),
            call(4, Some(888), Some(b"caller-b"), "noise", "environment", 1),
            call(5, None, None, "noise", "environment", 1),
        ];
        let finding = detector.check(&new, &earlier, false);
        assert_eq!(
            finding.linked,
            [1, 2],
            "same address, then same caller and family"
        );
        assert_eq!(
            finding.warning,
            Some(RepeatCallWarning {
                address_id: Some(501),
                incidents: vec![1, 2, 10]
            })
        );
    }

    #[test]
    fn unknown_address_and_caller_link_nothing() {
        let detector = RepeatCallDetector::default();
        let new = call(10, None, None, "noise", "environment", 0);
        let earlier = [call(1, None, None, "noise", "environment", 1)];
        assert_eq!(
            detector.check(&new, &earlier, false),
            RepeatCallFinding::default()
        );
    }

    #[test]
    fn the_window_is_thirty_days_back_and_nothing_later() {
        let detector = RepeatCallDetector::default();
        let new = call(10, Some(501), None, "noise", "environment", 0);
        let mut edge = call(1, Some(501), None, "noise", "environment", 30);
        let too_old = call(2, Some(501), None, "noise", "environment", 31);
        let later = CallFacts {
            received_at: T0.plus_minutes(1),
            ..call(3, Some(501), None, "noise", "environment", 0)
        };
        let itself = new.clone();
        let found = detector.check(&new, &[edge.clone(), too_old, later, itself], false);
        assert_eq!(found.linked, [1]);
        assert_eq!(detector.window_start(T0), edge.received_at);
        edge.received_at = Timestamp(edge.received_at.0 - 1);
        assert!(detector.check(&new, &[edge], false).linked.is_empty());
    }

    #[test]
    fn catch_all_categories_link_to_nothing() {
        let policy = RepeatCallPolicy::default();
        let other = Category::new("other", "other").unwrap();
        let consult = Category::new("consultation", "consultation").unwrap();
        let noise = Category::new("noise", "environment").unwrap();
        let pollution = Category::new("pollution", "environment").unwrap();
        let wages = Category::new("wage_arrears", "labour").unwrap();
        assert!(!policy.similar(&other, &other));
        assert!(!policy.similar(&consult, &consult));
        assert!(policy.similar(&noise, &noise));
        assert!(policy.similar(&noise, &pollution));
        assert!(!policy.similar(&noise, &wages));
    }

    #[test]
    fn the_threshold_and_an_open_warning_decide_the_warning() {
        let detector = RepeatCallDetector::default();
        let new = call(10, Some(501), None, "noise", "environment", 0);
        let one = [call(1, Some(501), None, "noise", "environment", 5)];
        let found = detector.check(&new, &one, false);
        assert_eq!(found.linked, [1]);
        assert_eq!(found.warning, None, "two calls are below the threshold");
        let two = [
            one[0].clone(),
            call(2, Some(501), None, "noise", "environment", 4),
        ];
        assert!(detector.check(&new, &two, false).warning.is_some());
        assert!(detector.check(&new, &two, true).warning.is_none());

        let strict = RepeatCallDetector::new(RepeatCallPolicy::new(7, 2, Vec::new()).unwrap());
        assert!(strict.check(&new, &one, false).warning.is_some());
        assert!(strict.check(&new, &two[1..], false).warning.is_some());
        assert!(RepeatCallPolicy::new(0, 3, Vec::new()).is_err());
        assert!(RepeatCallPolicy::new(30, 1, Vec::new()).is_err());
    }
}
