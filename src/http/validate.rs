//! Input validation that reports every violation with its exact location.

use crate::{
    error::{ApiError, FieldError},
    sensitive::contains_card_number,
};

/// Collected violations; `finish()` turns a non-empty set into one 422 problem.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    pub fn add(&mut self, pointer: impl Into<String>, detail: impl Into<String>) {
        self.0.push(FieldError { pointer: pointer.into(), detail: detail.into() });
    }

    /// Adds a violation unless `ok`.
    pub fn check(&mut self, ok: bool, pointer: &str, detail: &str) {
        if !ok {
            self.add(pointer, detail);
        }
    }

    /// Checks an optional free-text field: trimmed non-empty, at most `max` characters, no control
    /// characters, and no card number — free text is stored upstream and shown on every later read,
    /// in lists, operations and replays, where a PAN must never appear (docs/product.md §11).
    pub fn text(&mut self, value: Option<&str>, pointer: &str, max: usize) {
        self.identifier(value, pointer, max);
        if let Some(v) = value {
            self.check(!contains_card_number(v), pointer, "must not contain a card number");
        }
    }

    /// `text` for identifiers that may legitimately be long digit strings (identity document
    /// numbers), which are sent upstream but never shown back.
    pub fn identifier(&mut self, value: Option<&str>, pointer: &str, max: usize) {
        if let Some(v) = value {
            self.check(!v.trim().is_empty(), pointer, "must not be blank");
            self.check(v.chars().count() <= max, pointer, &format!("must be at most {max} characters"));
            self.check(!v.chars().any(char::is_control), pointer, "must not contain control characters");
        }
    }

    /// Checks a client-supplied date against [`DATE_YEARS`] before anything does arithmetic on it
    /// (chrono accepts years ±262,143, where `date - 30 days` overflows and panics).
    pub fn date(&mut self, value: Option<chrono::NaiveDate>, pointer: &str) {
        if let Some(d) = value {
            self.check(date_in_range(d), pointer, "must be a date between 1900-01-01 and 2999-12-31");
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::validation(self.0)) }
    }
}

/// Years a client-supplied date may have (birth dates, transaction windows, replay windows).
pub const DATE_YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

pub fn date_in_range(d: chrono::NaiveDate) -> bool {
    DATE_YEARS.contains(&chrono::Datelike::year(&d))
}

/// Semantic checks run after a body or query deserialised.
pub trait Validate {
    fn validate(&self, v: &mut Violations);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_refuses_card_numbers_but_identifiers_may_be_long_digit_strings() {
        let mut v = Violations::default();
        v.text(Some("ads 4111 1111 1111 1111"), "#/alias", 64);
        v.text(Some("ads-q3 2026"), "#/label", 64);
        let e = v.finish().unwrap_err();
        assert_eq!(e.errors.len(), 1, "{:?}", e.errors);
        assert_eq!(e.errors[0].pointer, "#/alias");
        assert!(!e.detail.contains("4111"), "the value is never echoed: {}", e.detail);
        let mut v = Violations::default();
        v.identifier(Some("4111111111111111"), "#/id_document/number", 40);
        assert!(v.finish().is_ok());
    }
}
