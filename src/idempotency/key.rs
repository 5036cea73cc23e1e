//! The `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-key-header: an Item
//! Structured Field whose value is a String).
//!
//! Accepted forms, after optional surrounding spaces/tabs (HTTP OWS):
//! - an SF string `"abc"` — only `\"` and `\\` escapes, as RFC 8941 §3.3.3 allows;
//! - a bare token `abc` — many clients send a UUID unquoted, and refusing them helps nobody.
//!
//! Either way the key (after unquoting) is 1–255 visible ASCII characters (0x21–0x7E). Lists
//! (`"a", "b"`, which is also what two `Idempotency-Key` headers combine into) and parameters
//! (`"a";x=1`) are refused: they would make the key ambiguous.

use std::fmt;

use thiserror::Error;

/// Longest key accepted, in characters after unquoting.
pub const MAX_KEY_LEN: usize = 255;

/// The header's grammar as the OpenAPI document states it: a bare token (visible ASCII but `"`, `,`,
/// `;`) or an SF string (visible ASCII, `\"` and `\\` escaped), 1–255 characters either way,
/// with optional surrounding spaces or tabs. `parse` is the implementation; a property test below
/// holds the two to the same answers.
pub static RULE: std::sync::LazyLock<crate::http::rules::Rule> = std::sync::LazyLock::new(|| {
    crate::http::rules::Rule::new(
        r#"^[ \t]*([\x21\x23-\x2b\x2d-\x3a\x3c-\x7e]{1,255}|"([\x21\x23-\x5b\x5d-\x7e]|\\["\\]){1,255}")[ \t]*$"#,
        "must be 1-255 visible ASCII characters, bare or as a quoted string",
    )
});

/// A validated idempotency key: 1–255 visible ASCII characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

/// Why a header value is not a usable key. `Display` is written for a 400 problem `detail` and
/// never echoes the (client-controlled) value itself.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    #[error("the Idempotency-Key header is empty")]
    Empty,
    #[error("the Idempotency-Key is longer than {MAX_KEY_LEN} characters")]
    TooLong,
    #[error("the Idempotency-Key contains a character that is not visible ASCII (0x21-0x7E) at position {0}")]
    InvalidChar(usize),
    #[error("the Idempotency-Key string has an invalid escape at position {0}: only \\\" and \\\\ are allowed")]
    BadEscape(usize),
    #[error("the Idempotency-Key string is not terminated by a closing quote")]
    Unterminated,
    #[error("the Idempotency-Key must be a single string: lists and parameters are not allowed")]
    NotAnItem,
}

impl IdempotencyKey {
    /// Parses the header value (see the module docs for the accepted forms).
    pub fn parse(header: &str) -> Result<Self, KeyError> {
        let value = header.trim_matches([' ', '\t']);
        if value.is_empty() {
            return Err(KeyError::Empty);
        }
        let key = if let Some(rest) = value.strip_prefix('"') { parse_quoted(rest)? } else { parse_bare(value)? };
        if key.is_empty() {
            return Err(KeyError::Empty);
        }
        if key.len() > MAX_KEY_LEN {
            return Err(KeyError::TooLong);
        }
        Ok(Self(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({:?})", self.0)
    }
}

fn is_visible(c: char) -> bool {
    ('\x21'..='\x7e').contains(&c)
}

/// `rest` is what follows the opening quote. Positions in errors count characters of the trimmed
/// value, the opening quote being position 0.
fn parse_quoted(rest: &str) -> Result<String, KeyError> {
    let mut out = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        let pos = i + 1;
        match c {
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\'))) => out.push(e),
                Some(_) => return Err(KeyError::BadEscape(pos)),
                None => return Err(KeyError::Unterminated),
            },
            '"' => {
                // Only optional whitespace was trimmed after the item, so anything here is a list
                // member or a parameter.
                if rest[i + 1..].is_empty() {
                    return Ok(out);
                }
                return Err(KeyError::NotAnItem);
            }
            c if is_visible(c) => out.push(c),
            _ => return Err(KeyError::InvalidChar(pos)),
        }
        // Stop early on hostile input: the key can only get longer.
        if out.len() > MAX_KEY_LEN {
            return Err(KeyError::TooLong);
        }
    }
    Err(KeyError::Unterminated)
}

fn parse_bare(value: &str) -> Result<String, KeyError> {
    for (i, c) in value.char_indices() {
        match c {
            ',' | ';' => return Err(KeyError::NotAnItem),
            // A quote inside a bare token is neither a string nor a token: refuse it rather than
            // guess what the client meant.
            '"' => return Err(KeyError::InvalidChar(i)),
            c if is_visible(c) => {}
            _ => return Err(KeyError::InvalidChar(i)),
        }
        if i >= MAX_KEY_LEN {
            return Err(KeyError::TooLong);
        }
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ok(s: &str) -> String {
        IdempotencyKey::parse(s).unwrap().as_str().to_owned()
    }

    #[test]
    fn accepts_sf_strings_and_bare_tokens() {
        assert_eq!(ok("\"abc\""), "abc");
        assert_eq!(ok("  \"8e03978e-40d5-43e8-bc93-6894a57f9324\"\t"), "8e03978e-40d5-43e8-bc93-6894a57f9324");
        assert_eq!(ok("8e03978e-40d5-43e8-bc93-6894a57f9324"), "8e03978e-40d5-43e8-bc93-6894a57f9324");
        assert_eq!(ok(r#""a\"b\\c""#), r#"a"b\c"#);
        assert_eq!(ok("x"), "x");
        assert_eq!(ok(":YWJj:"), ":YWJj:");
    }

    #[test]
    fn quoted_and_bare_forms_of_the_same_key_are_equal() {
        assert_eq!(IdempotencyKey::parse("\"k-1\"").unwrap(), IdempotencyKey::parse("k-1").unwrap());
    }

    #[test]
    fn length_limits() {
        let max = "a".repeat(255);
        assert_eq!(ok(&max), max);
        assert_eq!(ok(&format!("\"{max}\"")), max);
        assert_eq!(IdempotencyKey::parse(&"a".repeat(256)), Err(KeyError::TooLong));
        assert_eq!(IdempotencyKey::parse(&format!("\"{}\"", "a".repeat(256))), Err(KeyError::TooLong));
        // 255 characters once unescaped, 256 written: accepted.
        let escaped = format!("\"{}\\\\\"", "a".repeat(254));
        assert_eq!(ok(&escaped).len(), 255);
    }

    #[test]
    fn refuses_malformed_values() {
        use KeyError::*;
        let cases: &[(&str, KeyError)] = &[
            ("", Empty),
            ("   ", Empty),
            ("\"\"", Empty),
            ("\"a b\"", InvalidChar(2)),
            ("a b", InvalidChar(1)),
            ("\"abc", Unterminated),
            ("\"abc\\", Unterminated),
            ("\"a\\nb\"", BadEscape(2)),
            ("\"a\", \"b\"", NotAnItem),
            ("a, b", NotAnItem),
            ("\"a\";p=1", NotAnItem),
            ("a;p=1", NotAnItem),
            ("\"a\"b", NotAnItem),
            ("a\"b", InvalidChar(1)),
            ("\"caf\u{e9}\"", InvalidChar(4)),
            ("caf\u{e9}", InvalidChar(3)),
            ("a\u{7f}", InvalidChar(1)),
            ("a\u{1}b", InvalidChar(1)),
            ("\"a\tb\"", InvalidChar(2)),
        ];
        for (input, want) in cases {
            assert_eq!(IdempotencyKey::parse(input).as_ref(), Err(want), "{input:?}");
        }
    }

    #[test]
    fn errors_read_as_problem_details_without_echoing_the_value() {
        let e = IdempotencyKey::parse("\"secret-ish value\"").unwrap_err().to_string();
        assert!(e.starts_with("the Idempotency-Key"), "{e}");
        assert!(!e.contains("secret-ish"));
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = IdempotencyKey::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_near_misses(s in "[ \t\"\\\\,;a-z\u{0}-\u{1f}\u{80}-\u{10ff}]{0,300}") {
            let _ = IdempotencyKey::parse(&s);
        }

        #[test]
        fn every_valid_key_round_trips_through_the_quoted_form(k in "[!-~]{1,255}") {
            let quoted = format!("\"{}\"", k.replace('\\', "\\\\").replace('"', "\\\""));
            let parsed = IdempotencyKey::parse(&quoted).unwrap();
            prop_assert_eq!(parsed.as_str(), k.as_str());
            prop_assert!(parsed.as_str().chars().all(is_visible));
        }

        #[test]
        fn the_documented_pattern_accepts_exactly_what_parse_accepts(
            s in prop_oneof!["[ \t\"\\\\,;a\u{0}\u{80}!-~]{0,12}", "\"?[!-~]{250,260}\"?", "\\PC{0,20}"]
        ) {
            prop_assert_eq!(RULE.matches(&s), IdempotencyKey::parse(&s).is_ok(), "{:?}", s);
        }

        #[test]
        fn accepted_keys_are_always_visible_ascii_and_bounded(s in "\\PC{0,300}") {
            if let Ok(k) = IdempotencyKey::parse(&s) {
                prop_assert!(!k.as_str().is_empty() && k.as_str().len() <= MAX_KEY_LEN);
                prop_assert!(k.as_str().chars().all(is_visible));
            }
        }
    }
}
