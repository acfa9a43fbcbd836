//! Idempotency keys: a client that retries a write with the same key gets
//! the record the first request made, never a second one. The key is written
//! in the transaction of the change it made; the same key with another
//! request is refused.

use std::future::Future;

use fengqiao_core::error::{FieldError, Reason};
use fengqiao_core::secret;
use serde::Serialize;

use super::{Error, Result};

/// The header (and, in refusals, the field) that carries the key.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The hash a key's request is remembered by: what was asked (`what`, the
/// action) and the body it was asked with. A dispute key names a
/// registration or a session alike, so the action is part of it.
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

/// The hash of a request whose key names one kind of record (an incident,
/// a field report): its body alone.
pub fn body_hash<T: Serialize>(body: &T) -> Result<Vec<u8>> {
    let json = serde_json::to_string(body).map_err(Error::internal)?;
    Ok(secret::hash(&json).to_vec())
}

/// What a write with a key did: made its record, or answered with the one
/// made before (by this key, or by a registration of the same source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Replayed,
}

/// What a keyed write found when it wrote.
pub enum Written<T> {
    /// It made this record, with its key in the same transaction.
    Created(T),
    /// The record the request asks for was there already (a case
    /// registered from the same incident); nothing was written.
    Found(T),
    /// A request with the same key committed first; this one rolled back.
    KeyUsed,
}

/// One record per key: a key already used answers with what it made
/// (`find` gives the hash it was used with and the id of its record, which
/// `load` reads — within the caller's jurisdiction), `write` otherwise
/// writes the record and the key in one transaction, and when a concurrent
/// request with the same key committed first, that request's record
/// answers. Without a key every request writes.
///
/// Plain closures returning futures rather than async closures: the
/// futures of an `AsyncFn` called twice cannot be shown `Send`, which every
/// handler's future must be.
pub async fn once<'k, T, F, L>(
    key: Option<&'k str>,
    hash: &[u8],
    find: impl Fn(&'k str) -> F,
    load: impl Fn(i64) -> L,
    write: impl Future<Output = Result<Written<T>>>,
) -> Result<(Outcome, T)>
where
    F: Future<Output = Result<Option<(Vec<u8>, i64)>>>,
    L: Future<Output = Result<T>>,
{
    if let Some(key) = key {
        if let Some((first_hash, id)) = find(key).await? {
            same_request(&first_hash, hash)?;
            return Ok((Outcome::Replayed, load(id).await?));
        }
    }
    match write.await? {
        Written::Created(record) => Ok((Outcome::Created, record)),
        Written::Found(record) => Ok((Outcome::Replayed, record)),
        Written::KeyUsed => {
            let key = key.ok_or_else(|| Error::internal("a key used without a key"))?;
            let (first_hash, id) = find(key)
                .await?
                .ok_or_else(|| Error::internal("idempotency key vanished"))?;
            same_request(&first_hash, hash)?;
            Ok((Outcome::Replayed, load(id).await?))
        }
    }
}
