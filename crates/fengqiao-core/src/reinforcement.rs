//! 增援: a station that cannot reach an incident within the arrival
//! standard asks its war zone (战区) for units of the zone's other
//! stations. The request is recorded; the zone's commander accepts it, and
//! the units are dispatched, or declines it with a note.
//!
//! ```text
//! requested ──accept──▶ accepted
//!     └─────decline───▶ declined
//! ```

use serde::{Deserialize, Serialize};

use crate::audit::Actor;
use crate::clock::Timestamp;
use crate::error::{FieldError, Reason};
use crate::label::labels;
use crate::timeline::{TimelineEvent, Transition};
use crate::work_order::HandlingNote;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReinforcementStatus {
    Requested,
    Accepted,
    Declined,
}

labels!(ReinforcementStatus {
    Requested => ("待战区决定", "Requested"),
    Accepted => ("已同意增援", "Accepted"),
    Declined => ("未同意增援", "Declined"),
});

impl ReinforcementStatus {
    pub const ALL: [ReinforcementStatus; 3] = [
        ReinforcementStatus::Requested,
        ReinforcementStatus::Accepted,
        ReinforcementStatus::Declined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReinforcementStatus::Requested => "requested",
            ReinforcementStatus::Accepted => "accepted",
            ReinforcementStatus::Declined => "declined",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| {
                FieldError::new(
                    "status",
                    Reason::UnknownValue {
                        allowed: Self::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
                    },
                )
            })
    }
}

/// What happened to a request, written on the incident's timeline. The
/// war zone is named `org_id` so the timeline shows its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ReinforcementEvent {
    ReinforcementRequested {
        reinforcement_id: i64,
        org_id: i64,
        unit_ids: Vec<i64>,
        reason: HandlingNote,
    },
    ReinforcementAccepted {
        reinforcement_id: i64,
    },
    ReinforcementDeclined {
        reinforcement_id: i64,
        note: HandlingNote,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the request was already {0:?}")]
pub struct AlreadyDecided(pub ReinforcementStatus);

/// One request for reinforcement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reinforcement {
    pub id: i64,
    pub incident_id: i64,
    pub station_org_id: i64,
    pub war_zone_org_id: i64,
    /// The units of the zone's other stations asked for.
    pub unit_ids: Vec<i64>,
    pub reason: HandlingNote,
    pub status: ReinforcementStatus,
    pub requested_by: Actor,
    pub requested_at: Timestamp,
    pub decided_by: Option<Actor>,
    pub decided_at: Option<Timestamp>,
    pub note: Option<HandlingNote>,
}

type ReinforcementResult = Result<Transition<Reinforcement, ReinforcementEvent>, AlreadyDecided>;

impl Reinforcement {
    /// The commander's answer; a request is decided once.
    pub fn decide(
        &self,
        accept: bool,
        note: Option<HandlingNote>,
        actor: Actor,
        at: Timestamp,
    ) -> ReinforcementResult {
        if self.status != ReinforcementStatus::Requested {
            return Err(AlreadyDecided(self.status));
        }
        let reinforcement_id = self.id;
        let (status, event) = if accept {
            (
                ReinforcementStatus::Accepted,
                ReinforcementEvent::ReinforcementAccepted { reinforcement_id },
            )
        } else {
            let note = note.clone().unwrap_or_else(|| {
                HandlingNote::parse("note", "战区未同意增援").expect("a valid note")
            });
            (
                ReinforcementStatus::Declined,
                ReinforcementEvent::ReinforcementDeclined {
                    reinforcement_id,
                    note,
                },
            )
        };
        let mut state = self.clone();
        state.status = status;
        state.decided_by = Some(actor.clone());
        state.decided_at = Some(at);
        state.note = note;
        Ok(Transition {
            state,
            events: vec![TimelineEvent::new(at, actor, event)],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requested() -> Reinforcement {
        Reinforcement {
            id: 1,
            incident_id: 9,
            station_org_id: 4,
            war_zone_org_id: 20,
            unit_ids: vec![31, 32],
            reason: HandlingNote::parse("reason", "本所警力5分钟内无法到达").unwrap(),
            status: ReinforcementStatus::Requested,
            requested_by: Actor::User(2),
            requested_at: Timestamp(1_000),
            decided_by: None,
            decided_at: None,
            note: None,
        }
    }

    #[test]
    fn a_request_is_decided_once() {
        let accepted = requested()
            .decide(true, None, Actor::User(5), Timestamp(2_000))
            .unwrap();
        assert_eq!(accepted.state.status, ReinforcementStatus::Accepted);
        assert_eq!(accepted.state.decided_by, Some(Actor::User(5)));
        assert_eq!(
            accepted.events[0].event,
            ReinforcementEvent::ReinforcementAccepted {
                reinforcement_id: 1
            }
        );
        assert_eq!(
            accepted
                .state
                .decide(false, None, Actor::User(5), Timestamp(3_000)),
            Err(AlreadyDecided(ReinforcementStatus::Accepted))
        );
    }

    #[test]
    fn a_declined_request_says_why() {
        let declined = requested()
            .decide(false, None, Actor::User(5), Timestamp(2_000))
            .unwrap();
        assert_eq!(declined.state.status, ReinforcementStatus::Declined);
        match &declined.events[0].event {
            ReinforcementEvent::ReinforcementDeclined { note, .. } => {
                assert_eq!(note.as_str(), "战区未同意增援")
            }
            other => panic!("{other:?}"),
        }
        for status in ReinforcementStatus::ALL {
            assert_eq!(ReinforcementStatus::parse(status.as_str()), Ok(status));
        }
    }
}
