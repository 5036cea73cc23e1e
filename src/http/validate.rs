//! Input validation that reports every violation with its exact location.

use crate::error::{ApiError, FieldError};

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

    /// Checks an optional free-text field: trimmed non-empty, at most `max` characters, no control characters.
    pub fn text(&mut self, value: Option<&str>, pointer: &str, max: usize) {
        if let Some(v) = value {
            self.check(!v.trim().is_empty(), pointer, "must not be blank");
            self.check(v.chars().count() <= max, pointer, &format!("must be at most {max} characters"));
            self.check(!v.chars().any(char::is_control), pointer, "must not contain control characters");
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::validation(self.0)) }
    }
}

/// Semantic checks run after a body or query deserialised.
pub trait Validate {
    fn validate(&self, v: &mut Violations);
}
