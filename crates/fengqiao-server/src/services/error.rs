//! The services' one error type: what a use case refuses, in the domain's
//! words. The HTTP layer turns it into a problem document (`crate::error`);
//! a job logs it; an adapter answers its own protocol.

use fengqiao_core::error::FieldError;
use fengqiao_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Fields that are wrong, each with its reason. Nothing changed.
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("not signed in")]
    Unauthenticated,
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("account locked")]
    AccountLocked,
    #[error("permission denied")]
    Forbidden,
    /// Missing, or outside the caller's jurisdiction: the two look the same.
    #[error("not found")]
    NotFound,
    #[error("too many requests")]
    TooManyRequests,
    /// The action is not allowed in the record's current state; the
    /// sentence names the state. Nothing changed.
    #[error("conflict: {en}")]
    Conflict { zh: String, en: String },
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn field(field: FieldError) -> Error {
        Error::Validation(vec![field])
    }

    /// A 409-style refusal from its two sentences.
    pub fn conflict(zh: impl Into<String>, en: impl Into<String>) -> Error {
        Error::Conflict {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> Error {
        Error::Internal(err.to_string())
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        Error::Internal(err.to_string())
    }
}

impl From<FieldError> for Error {
    fn from(err: FieldError) -> Self {
        Error::field(err)
    }
}
