//! 类别: the shape of a category code. The category table itself (names,
//! groups, owners) belongs to `fengqiao-triage`; the core only knows what a
//! code looks like and that a category has a family.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Reason};

/// A snake_case code from the category table (`noise`, `wage_arrears`), or
/// the name of a category family (the table's `class`: `environment`,
/// `labour`). The core does not know the table; it only knows the shape.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CategoryCode(String);

impl CategoryCode {
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let text = text.trim();
        let valid = (1..=40).contains(&text.len())
            && text.as_bytes()[0].is_ascii_lowercase()
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(FieldError::new(
                field,
                Reason::InvalidFormat {
                    expected: "category_code",
                },
            ));
        }
        Ok(CategoryCode(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CategoryCode {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        CategoryCode::parse("category", &value)
    }
}

impl From<CategoryCode> for String {
    fn from(code: CategoryCode) -> Self {
        code.0
    }
}

impl fmt::Display for CategoryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A category with the family it belongs to: repeat calls compare both.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Category {
    pub code: CategoryCode,
    pub family: CategoryCode,
}

impl Category {
    pub fn new(code: &str, family: &str) -> Result<Self, FieldError> {
        Ok(Category {
            code: CategoryCode::parse("category", code)?,
            family: CategoryCode::parse("category_family", family)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case() {
        assert!(CategoryCode::parse("category", "Noise").is_err());
        assert!(CategoryCode::parse("category", "_noise").is_err());
        assert!(CategoryCode::parse("category", "wage_arrears").is_ok());
        assert!(Category::new("noise", "environment").is_ok());
        assert_eq!(
            Category::new("noise", "Environment").unwrap_err().field,
            "category_family"
        );
    }
}
