//! Sessions and API tokens: who a secret belongs to, signing in with the
//! lock after repeated failures, and signing out. Every attempt is audited.

use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::secret::{self, NewSecret, SESSION_PREFIX};
use fengqiao_core::user::{User, Username};

use super::access::Caller;
use super::{Error, Result};
use crate::state::AppState;

pub(crate) async fn token_caller(state: &AppState, token: &str, source: String) -> Result<Caller> {
    let token = state
        .store
        .api_token_by_hash(&secret::hash(token))
        .await?
        .ok_or(Error::Unauthenticated)?;
    let org = state
        .store
        .organisation(token.org_id)
        .await?
        .ok_or(Error::Unauthenticated)?;
    Ok(Caller {
        actor: Actor::Token(token.id),
        org,
        permissions: token.permissions,
        user: None,
        source,
    })
}

/// Resolves a session cookie, ending the session when it has been idle too
/// long or lived too long, or when its account can no longer sign in.
pub async fn session_caller(state: &AppState, secret: &str, source: String) -> Result<Caller> {
    let hash = secret::hash(secret);
    let session = state
        .store
        .session(&hash)
        .await?
        .ok_or(Error::Unauthenticated)?;
    let now = state.clock.now();
    let settings = &state.settings;
    let expired = session
        .last_seen_at
        .plus_minutes(settings.session_idle_minutes)
        <= now
        || session
            .created_at
            .plus_minutes(settings.session_max_minutes)
            <= now;
    let stored = state.store.user(session.user_id).await?;
    let user = match stored {
        Some(stored) if !expired && stored.user.can_sign_in() => stored.user,
        _ => {
            let mut tx = state.store.begin().await?;
            tx.delete_session(&hash).await?;
            tx.commit().await?;
            return Err(Error::Unauthenticated);
        }
    };
    // Refreshing at most once a minute keeps reads from turning into writes.
    if now.millis() - session.last_seen_at.millis() >= 60_000 {
        state.store.touch_session(&hash, now).await?;
    }
    let org = state
        .store
        .organisation(user.org_id)
        .await?
        .ok_or(Error::Unauthenticated)?;
    Ok(Caller {
        actor: Actor::User(user.id),
        permissions: user.roles.permissions(),
        org,
        user: Some(user),
        source,
    })
}

/// Checks a username and password and opens a new session. A session the
/// client already had is ended (a new id at every sign-in). Failures count
/// towards the lock; every attempt is audited without the values typed.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    previous_session: Option<&str>,
    source: &str,
) -> Result<(NewSecret, User)> {
    let now = state.clock.now();
    let refuse = |event: AuditEvent| async move {
        let mut tx = state.store.begin().await?;
        tx.append_audit(&event.source(source), now).await?;
        tx.commit().await?;
        Ok::<_, Error>(())
    };
    let stored = match Username::parse(username) {
        Ok(name) => state.store.user_by_username(&name).await?,
        Err(_) => None,
    };
    let Some(stored) = stored else {
        verify_blocking(state, password, None).await;
        let event = AuditEvent::new(Actor::Anonymous, AuditAction::SignIn, "session")
            .failed("unknown_account");
        refuse(event).await?;
        return Err(Error::InvalidCredentials);
    };
    let user = stored.user;
    let attempt = AuditEvent::new(Actor::User(user.id), AuditAction::SignIn, "session")
        .org(Some(user.org_id))
        .object(user.id);
    let correct = verify_blocking(state, password, Some(stored.password_hash)).await;

    if user.disabled {
        refuse(attempt.failed("disabled")).await?;
        return Err(Error::InvalidCredentials);
    }
    if user.locked_at.is_some() {
        refuse(attempt.failed("locked")).await?;
        return Err(if correct {
            Error::AccountLocked
        } else {
            Error::InvalidCredentials
        });
    }
    let mut tx = state.store.begin().await?;
    if !correct {
        let policy = state.settings.lockout;
        let failures = tx
            .record_sign_in_failure(user.id, now, policy.window_start(now))
            .await?;
        tx.append_audit(
            &attempt.clone().source(source).failed("wrong_password"),
            now,
        )
        .await?;
        let locked = policy.locks_after(failures);
        if locked {
            tx.lock_user(user.id, now).await?;
            let lock = AuditEvent::new(Actor::System, AuditAction::AccountLocked, "user")
                .org(Some(user.org_id))
                .object(user.id)
                .source(source)
                .detail(format!("{failures}_failures"));
            tx.append_audit(&lock, now).await?;
        }
        tx.commit().await?;
        return Err(if locked {
            Error::AccountLocked
        } else {
            Error::InvalidCredentials
        });
    }
    tx.clear_sign_in_failures(user.id).await?;
    if let Some(previous) = previous_session {
        tx.delete_session(&secret::hash(previous)).await?;
    }
    let new_session = secret::generate(SESSION_PREFIX);
    tx.insert_session(&new_session.hash, user.id, now).await?;
    tx.append_audit(&attempt.source(source), now).await?;
    tx.commit().await?;
    Ok((new_session, user))
}

/// Argon2 takes tens of milliseconds: keep it off the async workers.
async fn verify_blocking(state: &AppState, password: &str, hash: Option<String>) -> bool {
    let hashing = state.hashing.clone();
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => hashing.verify(&password, &hash),
        None => {
            hashing.verify_dummy(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

pub async fn sign_out(state: &AppState, caller: &Caller, secret: &str) -> Result<()> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    if tx.delete_session(&secret::hash(secret)).await? {
        tx.append_audit(&caller.audit(AuditAction::SignOut, "session"), now)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sessions end on their next use once idle too long; this removes the ones
/// nobody comes back for, so the table holds only live sessions.
pub async fn end_idle(state: &AppState) -> Result<usize, fengqiao_store::StoreError> {
    let idle_since = state
        .clock
        .now()
        .minus_minutes(state.settings.session_idle_minutes);
    let mut tx = state.store.begin().await?;
    let ended = tx.delete_idle_sessions(idle_since).await?;
    tx.commit().await?;
    Ok(ended as usize)
}
