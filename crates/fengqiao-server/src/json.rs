//! JSON bodies that fail with a problem document naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use fengqiao_core::error::{FieldError, Reason};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
#[cfg(test)]
use crate::services::Error;

/// Like `axum::Json`, but every rejection says which field and why, in the
/// caller's language, and changes nothing.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::MalformedBody {
                field: None,
                expected: "json",
            });
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::MalformedBody {
                field: None,
                expected: "json",
            })?;
        parse(&bytes).map(ApiJson)
    }
}

pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    let value = result.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if !inner.is_data() {
            return ApiError::MalformedBody {
                field: None,
                expected: "json",
            };
        }
        field_error(&path, &inner.to_string())
    })?;
    deserializer.end().map_err(|_| ApiError::MalformedBody {
        field: None,
        expected: "json",
    })?;
    Ok(value)
}

/// Turns serde's message into a field and a reason. Only the shape of the
/// message is read; the offending value is never echoed back.
fn field_error(path: &str, message: &str) -> ApiError {
    let at = |name: &str| -> String {
        match path {
            "." | "" => name.to_owned(),
            _ if name.is_empty() => path.to_owned(),
            _ => format!("{path}.{name}"),
        }
    };
    let quoted = |text: &str| -> Vec<String> {
        text.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    };
    if let Some(rest) = message.strip_prefix("missing field ") {
        let name = quoted(rest).into_iter().next().unwrap_or_default();
        return ApiError::from(FieldError::new(at(&name), Reason::Required));
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        // The path already ends with the unknown field; the rest are allowed.
        let allowed = quoted(rest).into_iter().skip(1).collect();
        return ApiError::from(FieldError::new(at(""), Reason::UnknownValue { allowed }));
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let mut names = quoted(rest);
        if !names.is_empty() {
            names.remove(0);
        }
        return ApiError::from(FieldError::new(
            at(""),
            Reason::UnknownValue { allowed: names },
        ));
    }
    let expected = match message.rsplit("expected ").next().unwrap_or("") {
        e if e.starts_with("i64") || e.starts_with("u") || e.starts_with("i32") => "integer",
        e if e.starts_with("a string") => "string",
        e if e.starts_with("a sequence") => "array",
        _ => "value",
    };
    ApiError::from(FieldError::new(at(""), Reason::InvalidFormat { expected }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "fields are only parsed")]
    struct Body {
        name: String,
        parent_id: i64,
    }

    fn fields(err: ApiError) -> Vec<(String, Reason)> {
        match err {
            ApiError::Refused(Error::Validation(fields)) => {
                fields.into_iter().map(|f| (f.field, f.reason)).collect()
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn names_the_field_that_failed() {
        let err = parse::<Body>(br#"{"name": "x"}"#).unwrap_err();
        assert_eq!(fields(err), vec![("parent_id".into(), Reason::Required)]);
        let err = parse::<Body>(br#"{"name": "x", "parent_id": "seven"}"#).unwrap_err();
        assert_eq!(
            fields(err),
            vec![(
                "parent_id".into(),
                Reason::InvalidFormat {
                    expected: "integer"
                }
            )]
        );
        let err = parse::<Body>(br#"{"name": "x", "parent_id": 1, "extra": 2}"#).unwrap_err();
        assert_eq!(fields(err)[0].0, "extra");
        assert!(matches!(
            parse::<Body>(b"{not json").unwrap_err(),
            ApiError::MalformedBody { field: None, .. }
        ));
    }
}
