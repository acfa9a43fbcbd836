//! Validation errors that name the field and the reason, so every layer can
//! tell the user precisely what to fix, in their language.

use std::fmt;

/// Why a value was refused. The server turns each reason into a sentence in
/// the caller's language; the core only names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Required,
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    /// A file (a photo) larger than this many bytes.
    TooLarge {
        max_bytes: usize,
    },
    InvalidFormat {
        expected: &'static str,
    },
    UnknownValue {
        allowed: Vec<String>,
    },
    AlreadyExists,
    NotFound,
    Conflict {
        detail: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FieldError {
    pub field: String,
    pub reason: Reason,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: Reason) -> Self {
        FieldError {
            field: field.into(),
            reason,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?}", self.field, self.reason)
    }
}
