//! An in-process client of the router: requests go through the whole
//! router (middleware, extractors, problem documents) with tower's
//! `oneshot`, no socket in between. The demo's history, `gen`'s checks, the
//! demo simulator and the API tests all call the server through it, so
//! there is one way to sign in, to send a session or token, and to read an
//! answer.

use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::Router;
use fengqiao_core::secret::API_TOKEN_PREFIX;
use http_body_util::BodyExt;
use serde::Serialize;
use tower::ServiceExt;

use crate::auth::SESSION_COOKIE;
use crate::AppState;

/// The router of one [`AppState`], called in this process.
#[derive(Clone)]
pub struct Client {
    router: Router,
}

/// A request that could not be built (a header that is not one) or an
/// answer whose body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid request: {0}")]
    Request(#[from] axum::http::Error),
    #[error("invalid header value for {0}")]
    Header(String),
    #[error("reading the response body: {0}")]
    Body(#[from] axum::Error),
    #[error("serialising the request body: {0}")]
    Json(#[from] serde_json::Error),
}

impl Client {
    pub fn new(state: AppState) -> Client {
        Client {
            router: crate::router(state),
        }
    }

    /// A request to `path` (with its query string), sent by
    /// [`RequestBuilder::send`].
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        RequestBuilder {
            router: self.router.clone(),
            method,
            path: path.to_owned(),
            cookies: Vec::new(),
            headers: Vec::new(),
            body: None,
            peer: None,
        }
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    /// `POST /api/v1/session`; on success [`Response::session_cookie`] is
    /// the secret to pass to [`RequestBuilder::auth`].
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<Response, ClientError> {
        self.post("/api/v1/session")
            .json(&serde_json::json!({ "username": username, "password": password }))?
            .send()
            .await
    }
}

/// One request being built; nothing is sent until [`send`](Self::send) or
/// [`open`](Self::open).
pub struct RequestBuilder {
    router: Router,
    method: Method,
    path: String,
    cookies: Vec<String>,
    headers: Vec<(String, String)>,
    body: Option<(&'static str, Vec<u8>)>,
    peer: Option<SocketAddr>,
}

impl RequestBuilder {
    /// Authenticates as the holder of `secret`: an API token (`fqt_…`) as a
    /// bearer token, anything else as the session cookie.
    pub fn auth(self, secret: &str) -> Self {
        if secret.starts_with(API_TOKEN_PREFIX) {
            self.header(header::AUTHORIZATION.as_str(), &format!("Bearer {secret}"))
        } else {
            self.cookie(SESSION_COOKIE, secret)
        }
    }

    /// [`auth`](Self::auth) when there is a secret, else anonymous.
    pub fn auth_opt(self, secret: Option<&str>) -> Self {
        match secret {
            Some(secret) => self.auth(secret),
            None => self,
        }
    }

    /// A cookie, beside any others already set.
    pub fn cookie(mut self, name: &str, value: &str) -> Self {
        self.cookies.push(format!("{name}={value}"));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A JSON body from a value.
    pub fn json(self, value: &impl Serialize) -> Result<Self, ClientError> {
        Ok(self.json_text(serde_json::to_string(value)?))
    }

    /// A body sent as `application/json` as it is, JSON or not: for tests
    /// of what the server makes of a malformed one.
    pub fn json_text(mut self, text: impl Into<String>) -> Self {
        self.body = Some(("application/json", text.into().into_bytes()));
        self
    }

    /// A form as a browser posts it (`application/x-www-form-urlencoded`).
    pub fn form(mut self, encoded: impl Into<String>) -> Self {
        self.body = Some((
            "application/x-www-form-urlencoded",
            encoded.into().into_bytes(),
        ));
        self
    }

    /// The socket address the server sees the request come from, as axum's
    /// `ConnectInfo` gives it behind a listener; without it there is none.
    pub fn peer(mut self, address: SocketAddr) -> Self {
        self.peer = Some(address);
        self
    }

    fn build(self) -> Result<(Router, Request<Body>), ClientError> {
        let mut builder = Request::builder().method(self.method).uri(&self.path);
        let mut headers = HeaderMap::new();
        if !self.cookies.is_empty() {
            headers.insert(header::COOKIE, value(&self.cookies.join("; "))?);
        }
        let body = match self.body {
            Some((content_type, bytes)) => {
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        for (name, text) in &self.headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| ClientError::Header(name.clone()))?;
            headers.append(name, value(text)?);
        }
        if let Some(map) = builder.headers_mut() {
            map.extend(headers);
        }
        let mut request = builder.body(body)?;
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        Ok((self.router, request))
    }

    /// Sends the request and reads the whole answer.
    pub async fn send(self) -> Result<Response, ClientError> {
        let response = self.open().await?;
        let status = response.status();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await?.to_bytes();
        Ok(Response {
            status,
            headers: parts.headers,
            bytes,
        })
    }

    /// Sends the request and returns the answer unread: for a stream
    /// (`/api/v1/live`) that ends only when the server ends it.
    pub async fn open(self) -> Result<axum::response::Response, ClientError> {
        let (router, request) = self.build()?;
        let response = match router.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        Ok(response)
    }
}

fn value(text: &str) -> Result<HeaderValue, ClientError> {
    HeaderValue::from_str(text).map_err(|_| ClientError::Header(text.to_owned()))
}

/// A whole answer: status, headers and body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Bytes,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// The body as JSON; an error when it is not (an empty body, a page).
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.bytes)
    }

    /// The value the answer sets for cookie `name` ([`set_cookie`]).
    pub fn cookie(&self, name: &str) -> Option<String> {
        set_cookie(&self.headers, name)
    }

    /// The session secret a sign-in answered with.
    pub fn session_cookie(&self) -> Option<String> {
        self.cookie(SESSION_COOKIE)
    }
}

/// The value `headers` set for cookie `name`, if they set one that is not
/// empty (a cleared cookie is empty).
pub fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(prefix.as_str()))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .filter(|v| !v.is_empty())
}
