//! Times and personal data as the API and the pages show them.

use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::personal::PersonalDataCipher;
use fengqiao_core::Timestamp;

use super::{Error, Result};

/// Milliseconds since the epoch as RFC 3339 UTC text, for JSON responses.
pub fn rfc3339(at: Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(at.millis())
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Personal data stored encrypted, decrypted and shown masked (张*, 138****5678).
pub fn masked(cipher: &PersonalDataCipher, stored: &Option<Vec<u8>>) -> Result<Option<String>> {
    stored
        .as_deref()
        .map(|bytes| {
            cipher
                .decrypt(bytes)
                .map(|d| d.masked())
                .map_err(Error::internal)
        })
        .transpose()
}

/// An RFC 3339 time with its offset, required, as a field's value.
pub fn parse_time(
    field: &'static str,
    text: Option<&str>,
) -> std::result::Result<Timestamp, FieldError> {
    let text = text
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| FieldError::new(field, Reason::Required))?;
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| Timestamp(t.timestamp_millis()))
        .map_err(|_| {
            FieldError::new(
                field,
                Reason::InvalidFormat {
                    expected: "datetime",
                },
            )
        })
}
