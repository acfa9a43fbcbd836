//! Accounts, passwords and the sign-in rules.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use serde::Serialize;

use crate::clock::Timestamp;
use crate::error::{FieldError, Reason};
use crate::role::Roles;

/// A sign-in name: 3 to 64 characters of letters, digits, `.`, `_` or `-`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let text = text.trim();
        let count = text.chars().count();
        if count == 0 {
            return Err(FieldError::new("username", Reason::Required));
        }
        if count < 3 {
            return Err(FieldError::new("username", Reason::TooShort { min: 3 }));
        }
        if count > 64 {
            return Err(FieldError::new("username", Reason::TooLong { max: 64 }));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if !text.chars().all(allowed) {
            return Err(FieldError::new(
                "username",
                Reason::InvalidFormat {
                    expected: "username",
                },
            ));
        }
        Ok(Username(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: 8 to 128 characters, used whole (no silent truncation).
/// It never implements `Debug` output of its content.
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

impl Password {
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let count = text.chars().count();
        if count == 0 {
            return Err(FieldError::new("password", Reason::Required));
        }
        if count < PASSWORD_MIN {
            return Err(FieldError::new(
                "password",
                Reason::TooShort { min: PASSWORD_MIN },
            ));
        }
        if count > PASSWORD_MAX {
            return Err(FieldError::new(
                "password",
                Reason::TooLong { max: PASSWORD_MAX },
            ));
        }
        Ok(Password(text.to_owned()))
    }

    /// A random password for generated accounts (demo, resets by command).
    pub fn generate() -> Self {
        use rand::Rng;
        const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut rng = rand::thread_rng();
        let text = (0..16)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        Password(text)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Argon2id with the parameters of the deployment; tests use cheaper ones.
#[derive(Debug, Clone)]
pub struct PasswordHashing {
    argon2: Argon2<'static>,
}

impl PasswordHashing {
    /// OWASP's recommended Argon2id parameters (19 MiB, 2 passes).
    pub fn recommended() -> Self {
        PasswordHashing {
            argon2: Argon2::default(),
        }
    }

    /// Minimal cost, for tests only: the algorithm is the same.
    pub fn fast_for_tests() -> Self {
        let params = argon2::Params::new(256, 1, 1, None).expect("valid argon2 params");
        PasswordHashing {
            argon2: Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params),
        }
    }

    pub fn hash(&self, password: &Password) -> String {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2
            .hash_password(password.0.as_bytes(), &salt)
            .expect("argon2 hashing with valid params cannot fail")
            .to_string()
    }

    /// Verifies against a stored hash, whatever parameters it was made with.
    pub fn verify(&self, password: &str, stored_hash: &str) -> bool {
        match PasswordHash::new(stored_hash) {
            Ok(parsed) => self
                .argon2
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Spends the time of one verification, so an unknown username cannot be
    /// told apart from a wrong password by timing.
    pub fn verify_dummy(&self, password: &str) {
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let hash = DUMMY.get_or_init(|| self.hash(&Password("dummy-password".into())));
        let _ = self.verify(password, hash);
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub username: Username,
    pub org_id: i64,
    pub roles: Roles,
    pub disabled: bool,
    pub locked_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl User {
    pub fn can_sign_in(&self) -> bool {
        !self.disabled && self.locked_at.is_none()
    }
}

/// Five failed sign-ins within fifteen minutes lock the account until an
/// administrator unlocks it.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub window_minutes: i64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            max_failures: 5,
            window_minutes: 15,
        }
    }
}

impl LockoutPolicy {
    pub fn window_start(&self, now: Timestamp) -> Timestamp {
        now.minus_minutes(self.window_minutes)
    }

    pub fn locks_after(&self, failures_in_window: u32) -> bool {
        failures_in_window >= self.max_failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_checked_whole() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        let long = format!("{}A", "x".repeat(127));
        let hashing = PasswordHashing::fast_for_tests();
        let hash = hashing.hash(&Password::parse(&long).unwrap());
        assert!(hashing.verify(&long, &hash));
        // The last character matters: nothing is truncated.
        assert!(!hashing.verify(&format!("{}B", "x".repeat(127)), &hash));
    }

    #[test]
    fn chinese_passwords_count_characters() {
        assert!(Password::parse("枫桥经验好").is_err());
        assert!(Password::parse("枫桥经验好好好好").is_ok());
    }

    #[test]
    fn usernames_are_normalised() {
        assert_eq!(
            Username::parse(" Zhang.San ").unwrap().as_str(),
            "zhang.san"
        );
        assert!(Username::parse("张三").is_err());
        assert!(Username::parse("ab").is_err());
    }

    #[test]
    fn lockout_counts_within_the_window() {
        let policy = LockoutPolicy::default();
        assert!(!policy.locks_after(4));
        assert!(policy.locks_after(5));
        assert_eq!(policy.window_start(Timestamp(15 * 60_000)), Timestamp(0));
    }
}
