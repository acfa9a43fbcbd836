//! Bearer secrets: session cookies and API tokens. Only the SHA-256 of a
//! secret is stored, so a copy of the database grants no access.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A freshly generated secret: `text` goes to the client once, `hash` to the database.
pub struct NewSecret {
    pub text: String,
    pub hash: Vec<u8>,
}

/// 256 random bits, URL-safe, with a prefix that tells what it is
/// (`fqs_` session, `fqt_` API token) so a leaked one is recognised.
pub fn generate(prefix: &str) -> NewSecret {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let text = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
    NewSecret {
        hash: hash(&text),
        text,
    }
}

pub fn hash(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

pub const SESSION_PREFIX: &str = "fqs_";
pub const API_TOKEN_PREFIX: &str = "fqt_";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_and_hash_consistently() {
        let a = generate(SESSION_PREFIX);
        let b = generate(SESSION_PREFIX);
        assert_ne!(a.text, b.text);
        assert!(a.text.starts_with("fqs_"));
        assert_eq!(hash(&a.text), a.hash);
    }
}
