//! Who is calling: a person with a session cookie, or a machine with an API
//! token. Every route takes a [`Caller`] and asks it for a permission and for
//! whether a record lies within its jurisdiction.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use fengqiao_core::audit::{Actor, AuditAction, AuditEvent};
use fengqiao_core::org::{OrgPath, Organisation};
use fengqiao_core::role::Permission;
use fengqiao_core::secret::{self, NewSecret, SESSION_PREFIX};
use fengqiao_core::user::{User, Username};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "fq_session";

#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub org: Organisation,
    pub permissions: BTreeSet<Permission>,
    /// Set for people; machines have none.
    pub user: Option<User>,
    pub source: String,
}

impl Caller {
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.permissions.contains(&permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    pub fn scope(&self) -> &OrgPath {
        &self.org.path
    }

    /// Whether a record of the organisation at `path` is within jurisdiction.
    pub fn sees(&self, path: &OrgPath) -> bool {
        self.org.path.contains(path)
    }

    /// An audit event with this caller as actor, organisation and source.
    pub fn audit(&self, action: AuditAction, object_type: &'static str) -> AuditEvent {
        AuditEvent::new(self.actor.clone(), action, object_type)
            .org(Some(self.org.id))
            .source(self.source.clone())
    }
}

/// The client address as the socket saw it. No proxy header is trusted.
pub fn source_address(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The client address as an extractor, for handlers that record it.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(source_address(parts)))
    }
}

pub fn session_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix("fq_session="))
        .find(|value| value.starts_with(SESSION_PREFIX))
        .map(str::to_owned)
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let source = source_address(parts);
        let caller = match bearer_token(&parts.headers) {
            Some(token) => token_caller(state, token, source).await?,
            None => {
                let secret = session_secret(&parts.headers).ok_or(ApiError::Unauthenticated)?;
                session_caller(state, &secret, source).await?
            }
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

pub(crate) async fn token_caller(
    state: &AppState,
    token: &str,
    source: String,
) -> ApiResult<Caller> {
    let token = state
        .store
        .api_token_by_hash(&secret::hash(token))
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let org = state
        .store
        .organisation(token.org_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
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
pub async fn session_caller(state: &AppState, secret: &str, source: String) -> ApiResult<Caller> {
    let hash = secret::hash(secret);
    let session = state
        .store
        .session(&hash)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
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
            return Err(ApiError::Unauthenticated);
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
        .ok_or(ApiError::Unauthenticated)?;
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
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    previous_session: Option<&str>,
    source: &str,
) -> ApiResult<(NewSecret, User)> {
    let now = state.clock.now();
    let refuse = |event: AuditEvent| async move {
        let mut tx = state.store.begin().await?;
        tx.append_audit(&event.source(source), now).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(())
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
        return Err(ApiError::InvalidCredentials);
    };
    let user = stored.user;
    let attempt = AuditEvent::new(Actor::User(user.id), AuditAction::SignIn, "session")
        .org(Some(user.org_id))
        .object(user.id);
    let correct = verify_blocking(state, password, Some(stored.password_hash)).await;

    if user.disabled {
        refuse(attempt.failed("disabled")).await?;
        return Err(ApiError::InvalidCredentials);
    }
    if user.locked_at.is_some() {
        refuse(attempt.failed("locked")).await?;
        return Err(if correct {
            ApiError::AccountLocked
        } else {
            ApiError::InvalidCredentials
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
            ApiError::AccountLocked
        } else {
            ApiError::InvalidCredentials
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

pub async fn sign_out(state: &AppState, caller: &Caller, secret: &str) -> ApiResult<()> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    if tx.delete_session(&secret::hash(secret)).await? {
        tx.append_audit(&caller.audit(AuditAction::SignOut, "session"), now)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub fn session_cookie(state: &AppState, secret: &str) -> String {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

pub fn cleared_session_cookie(state: &AppState) -> String {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

impl Caller {
    /// Whether a place with this division code (a community's, a grid's)
    /// lies within the caller organisation's jurisdiction.
    pub fn covers(&self, code: &str) -> bool {
        fengqiao_core::org::DivisionCode::parse(code).is_ok_and(|code| self.org.covers(&code))
    }
}
