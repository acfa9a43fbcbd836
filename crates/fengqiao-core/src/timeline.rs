//! A record's timeline: every state machine of the core (incident, work
//! order, dispute, …) returns its new state with the events it caused, and
//! each event says what happened, who did it and when.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::audit::Actor;
use crate::clock::Timestamp;

/// A record after a transition, with the events the transition caused; shared
/// by every state machine of the core.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition<S, E> {
    pub state: S,
    pub events: Vec<TimelineEvent<E>>,
}

/// One entry of a record's timeline: what happened, who did it and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent<E> {
    pub at: Timestamp,
    #[serde(
        serialize_with = "actor_as_stored",
        deserialize_with = "actor_from_stored"
    )]
    pub actor: Actor,
    #[serde(flatten)]
    pub event: E,
}

impl<E> TimelineEvent<E> {
    pub fn new(at: Timestamp, actor: Actor, event: E) -> Self {
        TimelineEvent { at, actor, event }
    }
}

/// Actors are written as the audit log writes them ("user:7", "system"), so
/// one actor has one spelling in every table.
fn actor_as_stored<S: Serializer>(actor: &Actor, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&actor.to_stored())
}

fn actor_from_stored<'de, D: Deserializer<'de>>(d: D) -> Result<Actor, D::Error> {
    let text = String::deserialize(d)?;
    let id = |rest: &str| {
        rest.parse::<i64>()
            .map_err(|_| serde::de::Error::custom(format!("bad actor {text:?}")))
    };
    match text.split_once(':') {
        Some(("user", rest)) => Ok(Actor::User(id(rest)?)),
        Some(("token", rest)) => Ok(Actor::Token(id(rest)?)),
        None if text == "system" => Ok(Actor::System),
        None if text == "anonymous" => Ok(Actor::Anonymous),
        _ => Err(serde::de::Error::custom(format!("bad actor {text:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "event", rename_all = "snake_case")]
    enum Happened {
        Closed,
    }

    #[test]
    fn actors_are_stored_as_the_audit_log_spells_them() {
        for (actor, stored) in [
            (Actor::User(7), "user:7"),
            (Actor::Token(3), "token:3"),
            (Actor::System, "system"),
            (Actor::Anonymous, "anonymous"),
        ] {
            let event = TimelineEvent::new(Timestamp(1), actor, Happened::Closed);
            let text = serde_json::to_string(&event).unwrap();
            assert!(text.contains(&format!("\"actor\":\"{stored}\"")), "{text}");
            assert_eq!(
                serde_json::from_str::<TimelineEvent<Happened>>(&text).unwrap(),
                event
            );
        }
        let bad = r#"{"at":1,"actor":"user:x","event":"closed"}"#;
        assert!(serde_json::from_str::<TimelineEvent<Happened>>(bad).is_err());
    }
}
