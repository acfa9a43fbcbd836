//! The API's one error type. Every error becomes a JSON problem document
//! (RFC 9457: `type`, `title`, `status`, `detail`, and `errors` naming each
//! refused field) in the caller's language. A 500 is logged in full and shows
//! the client nothing internal.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fengqiao_core::error::FieldError;
use fengqiao_store::StoreError;
use serde::Serialize;

use crate::i18n::Lang;
use crate::services::Error;

/// What a request answers when it fails: a service's refusal, or a body
/// that is not JSON of the expected shape (which only HTTP can receive).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Refused(#[from] Error),
    /// The body is not JSON of the expected shape; `field` is the path to the
    /// first value that did not fit, when there is one.
    #[error("malformed body at {field:?}")]
    MalformedBody {
        field: Option<String>,
        expected: &'static str,
    },
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedBody { .. } => StatusCode::BAD_REQUEST,
            ApiError::Refused(refusal) => match refusal {
                Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
                Error::Unauthenticated | Error::InvalidCredentials => StatusCode::UNAUTHORIZED,
                Error::AccountLocked => StatusCode::LOCKED,
                Error::Forbidden => StatusCode::FORBIDDEN,
                Error::NotFound => StatusCode::NOT_FOUND,
                Error::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
                Error::Conflict { .. } => StatusCode::CONFLICT,
                Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ApiError::MalformedBody { .. } => "malformed-body",
            ApiError::Refused(refusal) => match refusal {
                Error::Validation(_) => "validation",
                Error::Unauthenticated => "unauthenticated",
                Error::InvalidCredentials => "invalid-credentials",
                Error::AccountLocked => "account-locked",
                Error::Forbidden => "forbidden",
                Error::NotFound => "not-found",
                Error::TooManyRequests => "too-many-requests",
                Error::Conflict { .. } => "conflict",
                Error::Internal(_) => "internal",
            },
        }
    }

    /// The problem document in `lang`.
    pub fn problem(&self, lang: Lang) -> Problem {
        let (title, detail) = match self {
            ApiError::Refused(Error::Validation(_)) => (
                lang.pick("输入有误", "Invalid input"),
                lang.pick("请按提示修改标出的字段后重试。", "Correct the fields listed and try again."),
            ),
            ApiError::MalformedBody { .. } => (
                lang.pick("请求格式错误", "Malformed request"),
                lang.pick("请求体不是所需格式的 JSON。", "The body is not JSON of the expected shape."),
            ),
            ApiError::Refused(Error::Unauthenticated) => (
                lang.pick("未登录", "Not signed in"),
                lang.pick("请先登录，或会话已超时。", "Sign in first; your session may have expired."),
            ),
            ApiError::Refused(Error::InvalidCredentials) => (
                lang.pick("登录失败", "Sign-in failed"),
                lang.pick("用户名或密码错误。", "Wrong username or password."),
            ),
            ApiError::Refused(Error::AccountLocked) => (
                lang.pick("账号已锁定", "Account locked"),
                lang.pick(
                    "连续多次登录失败，账号已锁定，请联系管理员解锁。",
                    "Too many failed sign-ins: the account is locked until an administrator unlocks it.",
                ),
            ),
            ApiError::Refused(Error::Forbidden) => (
                lang.pick("无权操作", "Permission denied"),
                lang.pick("您的角色无权执行此操作。", "Your role does not allow this action."),
            ),
            ApiError::Refused(Error::NotFound) => (
                lang.pick("未找到", "Not found"),
                lang.pick("记录不存在或不在您的辖区内。", "No such record within your jurisdiction."),
            ),
            ApiError::Refused(Error::TooManyRequests) => (
                lang.pick("请求过于频繁", "Too many requests"),
                lang.pick("请稍后再试。", "Please try again later."),
            ),
            ApiError::Refused(Error::Conflict { zh, en }) => (
                lang.pick("当前状态下不能执行此操作", "Not allowed in the current state"),
                lang.pick(zh.as_str(), en.as_str()),
            ),
            ApiError::Refused(Error::Internal(_)) => (
                lang.pick("服务器内部错误", "Internal server error"),
                lang.pick("处理请求时出错，已记录，请稍后重试。", "Something went wrong; it has been logged. Please try again later."),
            ),
        };
        let errors = match self {
            ApiError::Refused(Error::Validation(fields)) => fields
                .iter()
                .map(|f| ProblemField {
                    field: f.field.clone(),
                    reason: lang.reason(&f.reason),
                })
                .collect(),
            ApiError::MalformedBody { field, expected } => vec![ProblemField {
                field: field.clone().unwrap_or_else(|| "body".into()),
                reason: lang.reason(&fengqiao_core::Reason::InvalidFormat { expected }),
            }],
            _ => Vec::new(),
        };
        Problem {
            r#type: format!("urn:fengqiao:problem:{}", self.kind()),
            title: title.to_owned(),
            status: self.status().as_u16(),
            detail: detail.to_owned(),
            errors,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub reason: String,
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        ApiError::Refused(err.into())
    }
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        ApiError::Refused(err.into())
    }
}

/// The error travels to `render_problems` in the response's extensions;
/// that middleware knows the request's language and writes the body.
#[derive(Clone)]
struct PendingProblem(std::sync::Arc<ApiError>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Refused(Error::Internal(message)) = &self {
            tracing::error!(error = %message, "request failed");
        }
        let mut response = self.status().into_response();
        response
            .extensions_mut()
            .insert(PendingProblem(std::sync::Arc::new(self)));
        response
    }
}

pub async fn render_problems(request: Request, next: Next) -> Response {
    let lang = Lang::of_request(request.headers());
    let mut response = next.run(request).await;
    if let Some(PendingProblem(error)) = response.extensions_mut().remove::<PendingProblem>() {
        let body = serde_json::to_vec(&error.problem(lang)).unwrap_or_default();
        let (mut parts, _) = response.into_parts();
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        parts.headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.html_code()),
        );
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, axum::body::Body::from(body));
    }
    response
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A service's refusal answers a request as its problem document.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}
