//! Free text as people type it: trimmed, required, and at most so many
//! characters (characters, not bytes: 2000 Chinese characters are 6000 bytes).

use crate::error::{FieldError, Reason};

/// `text` without surrounding whitespace; `Required` when nothing is left,
/// `TooLong` past `max` characters.
pub(crate) fn bounded_text(field: &str, text: &str, max: usize) -> Result<String, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, Reason::Required));
    }
    if text.chars().count() > max {
        return Err(FieldError::new(field, Reason::TooLong { max }));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_required_and_counted_in_characters() {
        assert_eq!(bounded_text("note", "  吵  ", 1).unwrap(), "吵");
        assert_eq!(
            bounded_text("note", " \n ", 5).unwrap_err().reason,
            Reason::Required
        );
        assert_eq!(
            bounded_text("note", "吵吵", 1).unwrap_err().reason,
            Reason::TooLong { max: 1 }
        );
    }
}
