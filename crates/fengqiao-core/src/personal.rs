//! 个人信息: names, phone and ID numbers.
//!
//! A value is checked when it enters, encrypted before it is stored, masked
//! whenever it is shown, and only revealed to a role that may see it, with a
//! reason that goes into the audit log.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Serialize;
use sha2::Sha256;

use crate::error::{FieldError, Reason};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalDataKind {
    Name,
    Phone,
    IdNumber,
}

impl PersonalDataKind {
    fn tag(self) -> u8 {
        match self {
            PersonalDataKind::Name => 1,
            PersonalDataKind::Phone => 2,
            PersonalDataKind::IdNumber => 3,
        }
    }
}

/// A checked personal value in plain text. It lives only in memory, its
/// `Debug` shows the masked form, and it leaves the process only encrypted or
/// masked.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonalData {
    kind: PersonalDataKind,
    value: String,
}

impl std::fmt::Debug for PersonalData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PersonalData({:?}, {})", self.kind, self.masked())
    }
}

impl PersonalData {
    pub fn name(field: &str, text: &str) -> Result<Self, FieldError> {
        let value = text.trim();
        let count = value.chars().count();
        if count == 0 {
            return Err(FieldError::new(field, Reason::Required));
        }
        if count > 50 {
            return Err(FieldError::new(field, Reason::TooLong { max: 50 }));
        }
        Ok(PersonalData {
            kind: PersonalDataKind::Name,
            value: value.to_owned(),
        })
    }

    /// A mainland mobile number (11 digits starting with 1) or a fixed line
    /// with area code; spaces, dashes and a +86 prefix are removed.
    pub fn phone(field: &str, text: &str) -> Result<Self, FieldError> {
        let digits: String = text
            .trim()
            .trim_start_matches("+86")
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        let mobile = digits.len() == 11 && digits.starts_with('1');
        let fixed = (10..=12).contains(&digits.len()) && digits.starts_with('0');
        if !digits.bytes().all(|b| b.is_ascii_digit()) || !(mobile || fixed) {
            return Err(FieldError::new(
                field,
                Reason::InvalidFormat { expected: "phone" },
            ));
        }
        Ok(PersonalData {
            kind: PersonalDataKind::Phone,
            value: digits,
        })
    }

    /// A resident ID number (GB 11643): 17 digits and a check character.
    pub fn id_number(field: &str, text: &str) -> Result<Self, FieldError> {
        let value = text.trim().to_ascii_uppercase();
        let invalid = || {
            FieldError::new(
                field,
                Reason::InvalidFormat {
                    expected: "id_number",
                },
            )
        };
        let bytes = value.as_bytes();
        if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
            return Err(invalid());
        }
        const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        const CHECK: &[u8; 11] = b"10X98765432";
        let sum: u32 = bytes[..17]
            .iter()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        if CHECK[(sum % 11) as usize] != bytes[17] {
            return Err(invalid());
        }
        Ok(PersonalData {
            kind: PersonalDataKind::IdNumber,
            value,
        })
    }

    pub fn kind(&self) -> PersonalDataKind {
        self.kind
    }

    /// The plain value: call only where a reason was given and audited, or to
    /// encrypt it.
    pub fn reveal(&self) -> &str {
        &self.value
    }

    /// 138****5678, 5101**********1234, 张*.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.value.chars().collect();
        let keep = |head: usize, tail: usize| -> String {
            if chars.len() <= head + tail {
                return "*".repeat(chars.len());
            }
            let mut out: String = chars[..head].iter().collect();
            out.extend(std::iter::repeat_n('*', chars.len() - head - tail));
            out.extend(&chars[chars.len() - tail..]);
            out
        };
        match self.kind {
            PersonalDataKind::Phone => keep(3, 4),
            PersonalDataKind::IdNumber => keep(4, 4),
            PersonalDataKind::Name if chars.len() == 1 => "*".into(),
            PersonalDataKind::Name => keep(1, 0),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error("the personal-data key must be 32 bytes, given as 64 hex characters")]
    BadKey,
    #[error("a stored personal value could not be decrypted (wrong key or damaged data)")]
    Undecryptable,
}

/// Encrypts personal data at rest (XChaCha20-Poly1305, a random nonce per
/// value) and computes blind indexes (HMAC-SHA-256 under a derived key) so an
/// exact match can be found without decrypting every row.
#[derive(Clone)]
pub struct PersonalDataCipher {
    aead: XChaCha20Poly1305,
    index_key: [u8; 32],
}

impl std::fmt::Debug for PersonalDataCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonalDataCipher(<redacted>)")
    }
}

const FORMAT_VERSION: u8 = 1;

impl PersonalDataCipher {
    pub fn from_hex(key_hex: &str) -> Result<Self, CipherError> {
        let key = hex_decode_32(key_hex.trim()).ok_or(CipherError::BadKey)?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("any key length");
        mac.update(b"fengqiao blind index v1");
        let index_key: [u8; 32] = mac.finalize().into_bytes().into();
        Ok(PersonalDataCipher {
            aead: XChaCha20Poly1305::new((&key).into()),
            index_key,
        })
    }

    pub fn generate_key_hex() -> String {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        key.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// version ‖ kind ‖ nonce ‖ ciphertext; the kind is bound as associated
    /// data so a phone number cannot be passed off as a name.
    pub fn encrypt(&self, data: &PersonalData) -> Vec<u8> {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let header = [FORMAT_VERSION, data.kind.tag()];
        let ciphertext = self
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                chacha20poly1305::aead::Payload {
                    msg: data.value.as_bytes(),
                    aad: &header,
                },
            )
            .expect("encryption of a short value cannot fail");
        let mut out = Vec::with_capacity(2 + 24 + ciphertext.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    pub fn decrypt(&self, stored: &[u8]) -> Result<PersonalData, CipherError> {
        if stored.len() < 2 + 24 || stored[0] != FORMAT_VERSION {
            return Err(CipherError::Undecryptable);
        }
        let kind = match stored[1] {
            1 => PersonalDataKind::Name,
            2 => PersonalDataKind::Phone,
            3 => PersonalDataKind::IdNumber,
            _ => return Err(CipherError::Undecryptable),
        };
        let plain = self
            .aead
            .decrypt(
                XNonce::from_slice(&stored[2..26]),
                chacha20poly1305::aead::Payload {
                    msg: &stored[26..],
                    aad: &stored[..2],
                },
            )
            .map_err(|_| CipherError::Undecryptable)?;
        let value = String::from_utf8(plain).map_err(|_| CipherError::Undecryptable)?;
        Ok(PersonalData { kind, value })
    }

    pub fn blind_index(&self, data: &PersonalData) -> Vec<u8> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key).expect("any key length");
        mac.update(&[data.kind.tag()]);
        mac.update(data.value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

impl PersonalDataCipher {
    /// A MAC of `data` for `purpose` (a receipt's tracking code, a form's
    /// token), under the blind-index key: domain-separated by the purpose,
    /// so it never equals a blind index.
    pub fn tag(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key).expect("any key length");
        mac.update(b"tag\0");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

fn hex_decode_32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_as_people_expect() {
        assert_eq!(
            PersonalData::phone("phone", "138 1234 5678")
                .unwrap()
                .masked(),
            "138****5678"
        );
        let id = PersonalData::id_number("id", "11010519491231002X").unwrap();
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(PersonalData::name("name", "张三").unwrap().masked(), "张*");
        assert_eq!(
            PersonalData::name("name", "欧阳娜娜").unwrap().masked(),
            "欧***"
        );
        assert!(!format!("{id:?}").contains("19491231"));
    }

    #[test]
    fn rejects_bad_numbers_naming_the_field() {
        let err = PersonalData::phone("reporter_phone", "12345").unwrap_err();
        assert_eq!(err.field, "reporter_phone");
        assert!(PersonalData::id_number("id", "110105194912310021").is_err());
    }

    #[test]
    fn encryption_round_trips_and_hides_the_value() {
        let cipher = PersonalDataCipher::from_hex(&PersonalDataCipher::generate_key_hex()).unwrap();
        let phone = PersonalData::phone("phone", "13812345678").unwrap();
        let stored = cipher.encrypt(&phone);
        assert!(!String::from_utf8_lossy(&stored).contains("13812345678"));
        assert_eq!(cipher.decrypt(&stored).unwrap(), phone);
        assert_ne!(cipher.encrypt(&phone), stored, "nonces differ");
        assert_eq!(cipher.blind_index(&phone), cipher.blind_index(&phone));
        assert_eq!(cipher.tag("receipt", b"1"), cipher.tag("receipt", b"1"));
        assert_ne!(cipher.tag("receipt", b"1"), cipher.tag("form", b"1"));

        let other = PersonalDataCipher::from_hex(&PersonalDataCipher::generate_key_hex()).unwrap();
        assert!(other.decrypt(&stored).is_err());
        let mut tampered = stored.clone();
        tampered[1] = 1;
        assert!(cipher.decrypt(&tampered).is_err());
    }
}
