//! Wrappers for card data and secrets whose `Debug`, `Display` and `Serialize` never reveal them.
//!
//! Revealing is always explicit and greppable: `expose()` in code, or
//! `#[serde(serialize_with = "crate::sensitive::expose")]` on the two wire/response fields that must
//! carry the real value (the simulator's answers and `GET /v1/cards/{id}/sensitive`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Anything whose real value may only leave through an explicit call.
pub trait Reveal {
    fn expose(&self) -> &str;
}

/// `serialize_with` helper for the few fields that must carry the real value.
pub fn expose<S: Serializer, T: Reveal>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value.expose())
}

/// `serialize_with` helper for optional revealed fields.
pub fn expose_opt<S: Serializer, T: Reveal>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_str(v.expose()),
        None => s.serialize_none(),
    }
}

macro_rules! sensitive_string {
    ($(#[$doc:meta])* $name:ident, $mask:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Default)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl Reveal for $name {
            fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mask: fn(&str) -> String = $mask;
                write!(f, "{}({})", stringify!($name), mask(&self.0))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mask: fn(&str) -> String = $mask;
                f.write_str(&mask(&self.0))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mask: fn(&str) -> String = $mask;
                s.serialize_str(&mask(&self.0))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                crate::lenient::string(d).map(Self)
            }
        }
    };
}

sensitive_string!(
    /// A full card number (PAN). Prints and serialises as `bin******last4`.
    Pan,
    mask_pan
);
sensitive_string!(
    /// A card verification value. Prints and serialises as `***`.
    Cvv,
    |_| "***".to_owned()
);
sensitive_string!(
    /// A one-time password or activation code. Prints and serialises as `******`.
    Otp,
    |_| "******".to_owned()
);
sensitive_string!(
    /// A configuration secret (HMAC keys, shared secrets). Prints and serialises as `<redacted>`.
    SecretString,
    |_| "<redacted>".to_owned()
);

impl Pan {
    /// The last four digits (not sensitive on their own).
    pub fn last4(&self) -> String {
        let digits: Vec<char> = self.0.chars().filter(char::is_ascii_digit).collect();
        digits[digits.len().saturating_sub(4)..].iter().collect()
    }

    /// The first six digits (the BIN; not sensitive on their own).
    pub fn bin(&self) -> String {
        self.0.chars().filter(char::is_ascii_digit).take(6).collect()
    }

    /// `bin******last4`, the only form that may appear outside `/sensitive`.
    pub fn masked(&self) -> String {
        mask_pan(&self.0)
    }
}

/// Masks a PAN as `bin` + `*` + `last4`; anything too short to mask safely becomes all stars.
pub fn mask_pan(pan: &str) -> String {
    let digits: Vec<char> = pan.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 12 {
        return "*".repeat(digits.len().max(4));
    }
    let head: String = digits[..6].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(digits.len() - 10))
}

/// Runs of digits in free text, where digits may be separated by one space or dash (card numbers are
/// often written `4111 1111 1111 1111`): the byte range of each run and its digits.
fn digit_runs(text: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let b = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = String::new();
        let mut end = i;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                digits.push(char::from(b[i]));
                i += 1;
                end = i;
            } else if (b[i] == b' ' || b[i] == b'-') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                i += 1;
            } else {
                break;
            }
        }
        runs.push((start..end, digits));
        i = end;
    }
    runs
}

fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0;
    for (i, d) in digits.bytes().rev().map(|b| u32::from(b - b'0')).enumerate() {
        sum += if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d };
    }
    sum % 10 == 0
}

/// Whether free text contains something that is a card number: 12–19 digits (single spaces or dashes
/// allowed between them) passing the Luhn check. Such text is refused wherever the gateway would
/// store or echo it.
pub fn contains_card_number(text: &str) -> bool {
    digit_runs(text).iter().any(|(_, d)| (12..=19).contains(&d.len()) && luhn_valid(d))
}

/// Masks every run of 12 or more digits (spaces or dashes allowed between them) as `bin******last4`,
/// for text that quotes client or platform input (error details, JSON pointers, upstream messages).
pub fn mask_card_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (range, digits) in digit_runs(text) {
        if digits.len() >= 12 {
            out.push_str(&text[last..range.start]);
            out.push_str(&mask_pan(&digits));
            last = range.end;
        }
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pan_never_prints_or_serialises_in_full() {
        let pan = Pan::new("4111111111111111");
        assert_eq!(format!("{pan:?}"), "Pan(411111******1111)");
        assert_eq!(pan.to_string(), "411111******1111");
        assert_eq!(serde_json::to_string(&pan).unwrap(), "\"411111******1111\"");
        assert_eq!(pan.expose(), "4111111111111111");
        assert_eq!(pan.last4(), "1111");
        assert_eq!(pan.bin(), "411111");
    }

    #[test]
    fn cvv_otp_and_secrets_are_fully_masked() {
        assert_eq!(format!("{:?}", Cvv::new("123")), "Cvv(***)");
        assert_eq!(serde_json::to_string(&Otp::new("123456")).unwrap(), "\"******\"");
        assert_eq!(SecretString::new("hunter2").to_string(), "<redacted>");
    }

    #[test]
    fn short_values_are_masked_entirely() {
        assert_eq!(mask_pan("12345"), "*****");
        assert_eq!(mask_pan(""), "****");
    }

    #[test]
    fn explicit_expose_serialises_the_real_value() {
        #[derive(Serialize)]
        struct Out {
            #[serde(serialize_with = "expose")]
            number: Pan,
            masked: Pan,
        }
        let out = Out { number: Pan::new("4111111111111111"), masked: Pan::new("4111111111111111") };
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"{"number":"4111111111111111","masked":"411111******1111"}"#
        );
    }

    #[test]
    fn deserialises_from_numbers_too() {
        let p: Pan = serde_json::from_str("4111111111111111").unwrap();
        assert_eq!(p.last4(), "1111");
    }

    #[test]
    fn card_numbers_are_found_and_masked_in_free_text() {
        for text in ["4111111111111111", "pay 4111 1111 1111 1111 now", "4111-1111-1111-1111", "x4111111111111111y"] {
            assert!(contains_card_number(text), "{text}");
        }
        for text in ["4111111111111112", "order 20261125", "+1 555-123-4567", "2026-11-25 12:00", "ads-q3"] {
            assert!(!contains_card_number(text), "{text}");
        }
        assert_eq!(mask_card_numbers("card 4111111111111111 bad"), "card 411111******1111 bad");
        assert_eq!(mask_card_numbers("`4111 1111 1111 1111`"), "`411111******1111`");
        assert_eq!(mask_card_numbers("#/4111-1111-1111-1112/x"), "#/411111******1112/x");
        assert_eq!(mask_card_numbers("code 110005, 2026-11-25"), "code 110005, 2026-11-25");
        assert_eq!(mask_card_numbers("é 4111111111111111 é"), "é 411111******1111 é");
    }
}
