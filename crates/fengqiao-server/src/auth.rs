//! Who is calling over HTTP: a person with a session cookie, or a machine
//! with an API token. The extractor finds the secret in the request and asks
//! `services::sessions` whose it is; every route then asks the [`Caller`]
//! for a permission and for whether a record lies within its jurisdiction.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use fengqiao_core::secret::SESSION_PREFIX;

use crate::error::{ApiError, ApiResult};
use crate::services::access::Caller;
use crate::services::sessions::{session_caller, token_caller};
use crate::services::Error;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "fq_session";

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
                let secret = session_secret(&parts.headers).ok_or(Error::Unauthenticated)?;
                session_caller(state, &secret, source).await?
            }
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
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
