//! Idempotency keys: a client that retries a write with the same key gets
//! the record the first request made, never a second one. The key is written
//! in the transaction of the change it made; the same key with another
//! request is refused.

use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::secret;
use serde::Serialize;

use super::{Error, Result};

/// The header (and, in refusals, the field) that carries the key.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The hash a key's request is remembered by: what was asked (`what`, the
/// action) and the body it was asked with.
pub fn request_hash<T: Serialize>(what: &str, body: &T) -> Result<Vec<u8>> {
    let json = serde_json::to_string(body).map_err(Error::internal)?;
    Ok(secret::hash(&format!("{what}\n{json}")).to_vec())
}

/// A key used again: the same request replays, another one is a 422.
pub fn same_request(first_hash: &[u8], hash: &[u8]) -> Result<()> {
    if first_hash == hash {
        Ok(())
    } else {
        Err(FieldError::new(
            IDEMPOTENCY_KEY,
            Reason::Conflict {
                detail: "idempotency_key_reused",
            },
        )
        .into())
    }
}
