//! The audit log: append-only, each entry chained to the one before by a hash,
//! so an edited, deleted or reordered entry is found by `audit verify`.
//!
//! Entries name who did what to which record, never the values: no passwords,
//! tokens or personal data.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Actor {
    User(i64),
    Token(i64),
    /// A command run on the server itself (`fengqiao user add`, `demo`).
    System,
    /// Someone not signed in, e.g. a failed sign-in for an unknown account.
    Anonymous,
}

impl Actor {
    pub fn to_stored(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::Token(id) => format!("token:{id}"),
            Actor::System => "system".into(),
            Actor::Anonymous => "anonymous".into(),
        }
    }

    /// Reads what `to_stored` wrote; `None` for anything else.
    pub fn from_stored(text: &str) -> Option<Actor> {
        match text.split_once(':') {
            Some(("user", id)) => id.parse().ok().map(Actor::User),
            Some(("token", id)) => id.parse().ok().map(Actor::Token),
            None if text == "system" => Some(Actor::System),
            None if text == "anonymous" => Some(Actor::Anonymous),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    SignIn,
    SignOut,
    AccountLocked,
    AccountUnlocked,
    Create,
    Update,
    Disable,
    PasswordReset,
    RolesChanged,
    TokenCreated,
    TokenRevoked,
    /// An unmasked view of personal data, with the reason given.
    ViewPersonalData,
    ReadAuditLog,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignIn => "sign_in",
            AuditAction::SignOut => "sign_out",
            AuditAction::AccountLocked => "account_locked",
            AuditAction::AccountUnlocked => "account_unlocked",
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Disable => "disable",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::RolesChanged => "roles_changed",
            AuditAction::TokenCreated => "token_created",
            AuditAction::TokenRevoked => "token_revoked",
            AuditAction::ViewPersonalData => "view_personal_data",
            AuditAction::ReadAuditLog => "read_audit_log",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// An entry before it is appended: the store gives it its place and hash.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub actor: Actor,
    pub org_id: Option<i64>,
    pub action: AuditAction,
    pub object_type: &'static str,
    pub object_id: Option<String>,
    pub outcome: Outcome,
    /// The client address for requests, "cli" for commands.
    pub source: String,
    /// A short, value-free note: the reason given for an unmasked view, or
    /// why a sign-in failed ("wrong_password", "locked").
    pub detail: Option<String>,
}

impl AuditEvent {
    pub fn new(actor: Actor, action: AuditAction, object_type: &'static str) -> Self {
        AuditEvent {
            actor,
            org_id: None,
            action,
            object_type,
            object_id: None,
            outcome: Outcome::Success,
            source: "cli".into(),
            detail: None,
        }
    }

    pub fn object(mut self, id: impl ToString) -> Self {
        self.object_id = Some(id.to_string());
        self
    }

    pub fn org(mut self, org_id: Option<i64>) -> Self {
        self.org_id = org_id;
        self
    }

    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    pub fn failed(mut self, why: impl Into<String>) -> Self {
        self.outcome = Outcome::Failure;
        self.detail = Some(why.into());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub org_id: Option<i64>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub outcome: String,
    pub source: String,
    pub detail: Option<String>,
    #[serde(with = "hex_bytes")]
    pub prev_hash: Vec<u8>,
    #[serde(with = "hex_bytes")]
    pub hash: Vec<u8>,
}

/// The hash before the first entry.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

impl AuditEntry {
    /// Builds the stored form of `event`, chained to `prev_hash`.
    pub fn chain(event: &AuditEvent, seq: i64, at: Timestamp, prev_hash: &[u8]) -> AuditEntry {
        let mut entry = AuditEntry {
            seq,
            at,
            actor: event.actor.to_stored(),
            org_id: event.org_id,
            action: event.action.as_str().into(),
            object_type: event.object_type.into(),
            object_id: event.object_id.clone(),
            outcome: event.outcome.as_str().into(),
            source: event.source.clone(),
            detail: event.detail.clone(),
            prev_hash: prev_hash.to_vec(),
            hash: Vec::new(),
        };
        entry.hash = entry.compute_hash();
        entry
    }

    /// SHA-256 over the previous hash and every field, each length-prefixed so
    /// no two different entries serialise alike.
    pub fn compute_hash(&self) -> Vec<u8> {
        let mut hasher = Sha256::new();
        let mut field = |bytes: &[u8]| {
            hasher.update((bytes.len() as u64).to_be_bytes());
            hasher.update(bytes);
        };
        field(&self.prev_hash);
        field(&self.seq.to_be_bytes());
        field(&self.at.0.to_be_bytes());
        field(self.actor.as_bytes());
        field(
            self.org_id
                .map(|id| id.to_string())
                .unwrap_or_default()
                .as_bytes(),
        );
        field(self.action.as_bytes());
        field(self.object_type.as_bytes());
        field(self.object_id.as_deref().unwrap_or("").as_bytes());
        field(self.outcome.as_bytes());
        field(self.source.as_bytes());
        field(self.detail.as_deref().unwrap_or("").as_bytes());
        hasher.finalize().to_vec()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {seq} was edited: its content does not match its hash")]
    Edited { seq: i64 },
    #[error("entry {expected} is missing (deleted); the next one found is {found}")]
    Missing { expected: i64, found: i64 },
    #[error("entry {seq} does not follow the entry before it (reordered or replaced)")]
    Unlinked { seq: i64 },
}

impl ChainBreak {
    pub fn seq(&self) -> i64 {
        match self {
            ChainBreak::Edited { seq } | ChainBreak::Unlinked { seq } => *seq,
            ChainBreak::Missing { expected, .. } => *expected,
        }
    }
}

/// Checks entries in order as they come from storage; feed it every entry and
/// it reports the first that breaks the chain.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: Vec<u8>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_vec(),
        }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        if entry.seq != self.expected_seq {
            return Err(ChainBreak::Missing {
                expected: self.expected_seq,
                found: entry.seq,
            });
        }
        if entry.compute_hash() != entry.hash {
            return Err(ChainBreak::Edited { seq: entry.seq });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainBreak::Unlinked { seq: entry.seq });
        }
        self.expected_seq += 1;
        self.prev_hash = entry.hash.clone();
        Ok(())
    }

    pub fn verified(&self) -> i64 {
        self.expected_seq - 1
    }
}

mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        s.serialize_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_vec();
        (1..=n)
            .map(|seq| {
                let event = AuditEvent::new(Actor::User(seq), AuditAction::SignIn, "session");
                let entry = AuditEntry::chain(&event, seq, Timestamp(seq * 1000), &prev);
                prev = entry.hash.clone();
                entry
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry]) -> Result<i64, ChainBreak> {
        let mut verifier = ChainVerifier::default();
        for entry in entries {
            verifier.check(entry)?;
        }
        Ok(verifier.verified())
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
    }

    #[test]
    fn edits_deletions_and_reorders_are_found() {
        let mut edited = chain(5);
        edited[2].action = "sign_out".into();
        assert_eq!(verify(&edited), Err(ChainBreak::Edited { seq: 3 }));

        let mut deleted = chain(5);
        deleted.remove(1);
        assert_eq!(
            verify(&deleted),
            Err(ChainBreak::Missing {
                expected: 2,
                found: 3
            })
        );

        // Swapping two entries and renumbering them still breaks the links.
        let mut reordered = chain(5);
        reordered.swap(1, 2);
        reordered[1].seq = 2;
        reordered[2].seq = 3;
        let err = verify(&reordered).unwrap_err();
        assert_eq!(err.seq(), 2);
    }
}
