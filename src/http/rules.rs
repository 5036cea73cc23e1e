//! Input rules stated once. Each rule is both the check a validator runs and the JSON Schema
//! constraint the OpenAPI document states (`openapi::constraints` applies it to the named schema
//! properties and parameters), and a pattern is checked with the very regex the document shows —
//! so the server and the spec cannot drift (issue 11: "derive the spec's constraints from the same
//! validators"). Patterns stay in the subset ECMA-262, Python's `re` (schemathesis) and Rust's
//! `regex` read alike: character classes, `[0-9]` (never `\d`: Rust and Python read it as any Unicode digit), `\s`, `\xHH`, counted repetition, no look-around.

use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize as _;

use super::validate::Violations;

/// A string rule: length bounds in characters (as JSON Schema counts them) and a full-match pattern.
#[derive(Debug)]
pub struct Rule {
    pub pattern: String,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    /// The violation's `detail` (never the value).
    pub detail: String,
    regex: Option<Regex>,
}

impl Rule {
    pub fn new(pattern: impl Into<String>, detail: impl Into<String>) -> Self {
        let pattern = pattern.into();
        // Patterns are constants of this module; one that does not compile matches nothing (and the
        // unit test below fails), rather than panicking on a request.
        let regex = Regex::new(&pattern).ok();
        Self { pattern, min_length: None, max_length: None, detail: detail.into(), regex }
    }

    pub fn lengths(mut self, min: usize, max: usize) -> Self {
        self.min_length = Some(min);
        self.max_length = Some(max);
        self
    }

    pub fn matches(&self, s: &str) -> bool {
        let n = s.chars().count();
        self.min_length.is_none_or(|m| n >= m)
            && self.max_length.is_none_or(|m| n <= m)
            && self.regex.as_ref().is_some_and(|r| r.is_match(s))
    }

    /// Adds a violation at `pointer` unless `value` is absent or matches.
    pub fn check(&self, v: &mut Violations, value: Option<&str>, pointer: &str) {
        if let Some(s) = value {
            v.check(self.matches(s), pointer, &self.detail);
        }
    }

    /// [`check`](Self::check) for text shown back to callers: a card number in it is refused too
    /// (which no JSON Schema can state; the property's description says so).
    pub fn check_text(&self, v: &mut Violations, value: Option<&str>, pointer: &str) {
        self.check(v, value, pointer);
        if let Some(s) = value {
            v.check(!crate::sensitive::contains_card_number(s), pointer, "must not contain a card number");
        }
    }
}

/// A whole number of JSON type `integer` as JSON Schema reads it: `4500` and also `4500.0` (a number
/// with a zero fraction is an integer there), never `4500.5` or a negative number.
pub fn integral_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    use serde::de::Error as _;
    match serde_json::Number::deserialize(d)? {
        n if n.as_u64().is_some() => n.as_u64().ok_or_else(|| D::Error::custom("must be a whole number")),
        n => match n.as_f64() {
            // 2^53: beyond it an f64 is not an exact whole number.
            Some(f) if f >= 0.0 && f.fract() == 0.0 && f <= 9_007_199_254_740_992.0 => Ok(f as u64),
            _ => Err(D::Error::custom("must be a whole number of seconds")),
        },
    }
}

/// Characters Rust's `char::is_control` names (Unicode Cc): C0, DEL and C1.
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

/// Free text shown back to callers (aliases, labels, descriptions): 1–`max` characters, no control
/// characters, not only whitespace. (Card numbers are refused too; JSON Schema cannot say so — the
/// property's description does.)
pub fn text(max: usize) -> Rule {
    Rule::new(
        format!("^[^{CONTROL}]*[^\\s{CONTROL}][^{CONTROL}]*$"),
        "must be 1-N characters of text, not blank, without control characters".replace('N', &max.to_string()),
    )
    .lengths(1, max)
}

/// A positive decimal string with at most `places` significant decimals (trailing zeros are
/// free: `"1.500"` is 1.5), at most 18 integer digits: `"0.01"`, `"25"`, `"25.5"`. Built as
/// alternatives because "not all zeros" needs no look-ahead that way. The validators check the
/// parsed amount with [`positive_within`], which the property test below holds to this pattern.
pub fn positive_amount(places: u32) -> Rule {
    let fraction = if places == 0 { "(\\.0+)?".to_owned() } else { format!("(\\.[0-9]{{1,{places}}}0*)?") };
    let mut alts = vec![format!("0*[1-9][0-9]{{0,17}}{fraction}")];
    for lead in 0..places {
        // `0.`, then `lead` zeros, a non-zero digit, and the rest of the places.
        alts.push(format!("0+\\.0{{{lead}}}[1-9][0-9]{{0,{}}}0*", places - lead - 1));
    }
    Rule::new(
        format!("^({})$", alts.join("|")),
        format!("must be a decimal string greater than zero with at most {places} decimal places"),
    )
    .lengths(1, 24)
}

/// A non-negative decimal string with at most `places` significant decimals (trailing zeros free):
/// what `domain::check_amount` checks for a currency of `places` minor units, on a string that
/// already matched [`AMOUNT`].
pub fn amount_within(places: u32) -> Rule {
    let fraction = if places == 0 { "(\\.0+)?".to_owned() } else { format!("(\\.[0-9]{{1,{places}}}0*)?") };
    Rule::new(
        format!("^0*[0-9]{{1,18}}{fraction}$"),
        format!("must have at most {places} decimal places for this currency"),
    )
    .lengths(1, 24)
}

/// [`positive_amount`]'s check on a parsed amount (the string already matched [`AMOUNT`]).
pub fn positive_within(v: &mut Violations, amount: rust_decimal::Decimal, places: u32, pointer: &str) {
    v.check(!amount.is_zero(), pointer, "must be greater than zero");
    v.check(amount.normalize().scale() <= places, pointer, &format!("must have at most {places} decimal places"));
}

/// Any amount the API reads: a non-negative decimal string, at most 18 integer and 8 decimal digits.
/// `Amount`'s deserializer checks exactly this.
pub static AMOUNT: LazyLock<Rule> = LazyLock::new(|| {
    Rule::new(r"^0*[0-9]{1,18}(\.[0-9]{1,8}0*)?$", "must be a non-negative decimal string such as \"12.50\"")
        .lengths(1, 24)
});
/// Recharges, refunds, exchanges: fiat cents.
pub static AMOUNT_2DP: LazyLock<Rule> = LazyLock::new(|| positive_amount(2));
/// Digital currency (USDT): six decimals.
pub static AMOUNT_6DP: LazyLock<Rule> = LazyLock::new(|| positive_amount(6));

/// Ids are opaque but bounded: 1–64 characters of `[A-Za-z0-9_-]`.
pub static ID: LazyLock<Rule> = LazyLock::new(|| Rule::new(r"^[A-Za-z0-9_-]{1,64}$", "must be an id"));
/// Currency codes: three (four: USDT) upper-case letters.
pub static CURRENCY: LazyLock<Rule> =
    LazyLock::new(|| Rule::new(r"^[A-Z]{3,4}$", "must be a currency code such as USD"));
/// A list cursor as this API issues them: base64url state, `.`, a 16-character base64url tag. A
/// well-formed cursor the gateway did not issue (for this tenant and list) is still refused, 422.
pub static CURSOR: LazyLock<Rule> = LazyLock::new(|| {
    Rule::new(r"^[A-Za-z0-9_-]{1,1000}\.[A-Za-z0-9_-]{16}$", "is not a cursor issued by this API").lengths(18, 1017)
});
pub static BIN: LazyLock<Rule> = LazyLock::new(|| Rule::new(r"^[0-9]{6}$", "must be 6 digits"));
pub static SCENE_CODE: LazyLock<Rule> = LazyLock::new(|| Rule::new(r"^[0-9]{1,8}$", "must be numeric"));
pub static MCC: LazyLock<Rule> = LazyLock::new(|| Rule::new(r"^[0-9]{4}$", "must be four digits"));
pub static ALIAS: LazyLock<Rule> = LazyLock::new(|| text(64));
pub static DESCRIPTION: LazyLock<Rule> = LazyLock::new(|| text(200));
/// The reference on a physical card's carrier: 6–32 letters or digits, fewer than 12 of them digits
/// (so a card number can never be typed in as one).
pub static KIT_NUMBER: LazyLock<Rule> = LazyLock::new(|| {
    Rule::new("^[A-Za-z]*([0-9][A-Za-z]*){0,11}$", "must be 6-32 letters or digits, fewer than 12 of them digits")
        .lengths(6, 32)
});
pub static ACTIVATION_CODE: LazyLock<Rule> =
    LazyLock::new(|| Rule::new("^[A-Za-z0-9]{4,12}$", "must be 4-12 letters or digits"));
/// A blockchain name such as `TRON`.
pub static CHAIN: LazyLock<Rule> = LazyLock::new(|| Rule::new("^[A-Z0-9]{2,16}$", "must be a chain name such as TRON"));
/// A withdrawal's destination address: 20–128 letters or digits.
pub static TO_ADDRESS: LazyLock<Rule> =
    LazyLock::new(|| Rule::new("^[A-Za-z0-9]{20,128}$", "must be an on-chain address"));
/// Dates a client sends (transaction windows, replay windows, birth dates): years 1900–2999, the
/// range `Violations::date` checks on the parsed value; stated beside `format: date(-time)`.
pub static DATE_YEARS: LazyLock<Rule> =
    LazyLock::new(|| Rule::new("^(19|2[0-9])[0-9]{2}-", "must be a date between 1900-01-01 and 2999-12-31"));
/// A webhook endpoint URL as the document states it: `https://`, a public host name (dot-separated
/// labels; its last label letters only and none of the internal suffixes `url_guard` refuses:
/// `localhost`, `local`, `internal`, `lan`, `arpa`), an optional port and path, visible characters
/// only. No IP literal: an address cannot present a certificate a client verifies, and it would
/// skip the resolver's public-address check. `url_guard` checks the target fully besides (no card
/// number, no private address behind the name at delivery); this is its necessary shape.
pub static ENDPOINT_URL: LazyLock<Rule> = LazyLock::new(|| endpoint_url(false));
/// The shape where `webhooks.allow_private_targets` is on (development and tests): host names with
/// any last label, dotted-quad IPv4 literals, and `http://` too (checked with `https://` put first).
pub static ENDPOINT_URL_PRIVATE: LazyLock<Rule> = LazyLock::new(|| endpoint_url(true));

/// Internal top-level labels a tenant's endpoint may not use outside development.
pub const INTERNAL_TLDS: [&str; 5] = ["localhost", "local", "internal", "lan", "arpa"];

fn endpoint_url(private: bool) -> Rule {
    // A host label: letters and digits joined by single hyphens (so no `xn--` punycode label, which
    // URL parsers decode and may refuse); a dotted-quad IPv4 address without leading zeros.
    let octet = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
    let label = "[A-Za-z0-9]{1,20}(-[A-Za-z0-9]{1,20}){0,3}";
    // The last label starts with a letter (a numeric one makes parsers read an IPv4 address). At
    // least one dot: a single-label name is an internal host, refused outside development.
    let host = if private {
        let last = "[A-Za-z][A-Za-z0-9]{0,20}(-[A-Za-z0-9]{1,20}){0,3}";
        format!("(({label}\\.){{1,8}}{last}|{octet}(\\.{octet}){{3}})")
    } else {
        format!("({label}\\.){{1,8}}{}", letters_except(&INTERNAL_TLDS, 21))
    };
    let port = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})";
    Rule::new(format!("^https://{host}(:{port})?([/?][!-\"$-~]*)?$"), "must be an absolute URL").lengths(8, 2048)
}

/// A regex (no look-around) for 1-`max` ASCII letters, any case, spelling none of `words` (lower-case
/// letters): a walk down the words' trie where every step either leaves the trie (a letter no word
/// continues with, then any letters) or follows it, and may stop only where no word ends.
fn letters_except(words: &[&str], max: usize) -> String {
    fn walk(words: &[&str], prefix: &str, max: usize) -> String {
        let depth = prefix.len();
        let mut next: Vec<char> = words
            .iter()
            .filter(|w| w.len() > depth && w.starts_with(prefix))
            .filter_map(|w| w[depth..].chars().next())
            .collect();
        next.sort_unstable();
        next.dedup();
        let mut alts = Vec::new();
        if depth < max {
            let mut class = String::new();
            for c in 'a'..='z' {
                if !next.contains(&c) {
                    class.push(c);
                    class.push(c.to_ascii_uppercase());
                }
            }
            alts.push(format!("[{class}][A-Za-z]{{0,{}}}", max - depth - 1));
            for c in &next {
                let rest = walk(words, &format!("{prefix}{c}"), max);
                alts.push(format!("[{c}{}]{rest}", c.to_ascii_uppercase()));
            }
        }
        let ends_a_word = words.contains(&prefix);
        let may_stop = depth > 0 && !ends_a_word;
        match (alts.is_empty(), may_stop) {
            (true, _) => String::new(),
            (false, true) => format!("({})?", alts.join("|")),
            (false, false) => format!("({})", alts.join("|")),
        }
    }
    walk(words, "", max)
}
/// `?expand=` of a card's recharge or refund, and of a group's.
pub static EXPAND_CARD: LazyLock<Rule> = LazyLock::new(|| Rule::new("^card$", "must be \"card\" on this route"));
pub static EXPAND_GROUP: LazyLock<Rule> =
    LazyLock::new(|| Rule::new("^card_group$", "must be \"card_group\" on this route"));
/// A cardholder's names: what the platform takes (40 characters).
pub static PERSON_NAME: LazyLock<Rule> = LazyLock::new(|| text(40));
/// An e-mail address as the platform takes it: up to 40 characters, `local@domain`, one `@`, a dot in
/// the domain but not first or last, no white space or control characters.
pub static EMAIL: LazyLock<Rule> = LazyLock::new(|| {
    let c = format!("@\\s{CONTROL}");
    Rule::new(format!("^[^{c}]+@[^.{c}][^{c}]*\\.[^{c}]*[^.{c}]$"), "must be an email address").lengths(4, 40)
});
/// A country calling code without `+` (the reference table `mobile-prefixes` is the enum).
pub static MOBILE_PREFIX: LazyLock<Rule> = LazyLock::new(|| Rule::new("^[0-9]{1,4}$", "must be 1-4 digits"));
pub static MOBILE: LazyLock<Rule> = LazyLock::new(|| Rule::new("^[0-9]{4,11}$", "must be 4-11 digits"));
/// ISO 3166-1 alpha-3 (the reference table `countries` is the enum).
pub static COUNTRY: LazyLock<Rule> = LazyLock::new(|| Rule::new("^[A-Z]{3}$", "must be an ISO 3166-1 alpha-3 code"));
pub static BILLING_REGION: LazyLock<Rule> = LazyLock::new(|| text(50));
pub static BILLING_STREET: LazyLock<Rule> = LazyLock::new(|| text(100));
pub static POSTAL_CODE: LazyLock<Rule> = LazyLock::new(|| text(10));
/// An identity document's number (long digit strings are legitimate here: it is sent upstream and
/// never shown back, so no card-number check).
pub static DOCUMENT_NUMBER: LazyLock<Rule> = LazyLock::new(|| text(40));
/// A base64 image of at most 4 MB.
pub const MAX_IMAGE_B64: usize = 4 * 1024 * 1024 * 4 / 3 + 4;
pub static IMAGE_BASE64: LazyLock<Rule> =
    LazyLock::new(|| Rule::new("^[A-Za-z0-9+/=]*$", "must be base64 of at most 4 MB").lengths(0, MAX_IMAGE_B64));
/// A platform transaction type code (`GET /v1/reference/transaction-types`), as a list filter.
pub static TRANSACTION_TYPE: LazyLock<Rule> =
    LazyLock::new(|| Rule::new("^[A-Za-z0-9_]{1,16}$", "must be a transaction type code"));
/// `metadata` (cards, card groups, cardholders): at most this many keys, Stripe's bound.
pub const METADATA_MAX_KEYS: usize = 50;
/// A `metadata` key: 1–40 characters of `[A-Za-z0-9_.:-]` (Stripe: 40). Narrower than Stripe's "any
/// but brackets", so a key is safe in a JSON Pointer, a log line and a query string as it is.
pub static METADATA_KEY: LazyLock<Rule> = LazyLock::new(|| {
    Rule::new("^[A-Za-z0-9_.:-]{1,40}$", "keys must be 1-40 characters of letters, digits, `_`, `.`, `:` or `-`")
        .lengths(1, 40)
});
/// A `metadata` value: at most 500 characters (Stripe: 500), no control characters; `""` removes the
/// key (PATCH) or sets nothing (create). Card numbers are refused too (the schema's description says
/// so; JSON Schema cannot).
pub static METADATA_VALUE: LazyLock<Rule> = LazyLock::new(|| {
    Rule::new(format!("^[^{CONTROL}]*$"), "values must be at most 500 characters without control characters")
        .lengths(0, 500)
});

/// `GET /v1/reference/{table}`: the names of the embedded tables (any other answers 404).
pub static REFERENCE_TABLE: LazyLock<Rule> = LazyLock::new(|| {
    let names = crate::reference::ReferenceData::table_names().join("|");
    Rule::new(format!("^({names})$"), "is not a reference table")
});
/// Blockchain addresses in test helpers (sent upstream, never a card number check: they are long).
pub static ADDRESS: LazyLock<Rule> = LazyLock::new(|| text(128));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles() {
        for r in [
            &*DATE_YEARS,
            &*ENDPOINT_URL,
            &*ENDPOINT_URL_PRIVATE,
            &*KIT_NUMBER,
            &*ACTIVATION_CODE,
            &*CHAIN,
            &*EXPAND_CARD,
            &*EXPAND_GROUP,
            &*CURSOR,
            &*AMOUNT,
            &*AMOUNT_2DP,
            &*AMOUNT_6DP,
            &*ID,
            &*CURRENCY,
            &*BIN,
            &*SCENE_CODE,
            &*MCC,
            &*ALIAS,
            &*DESCRIPTION,
            &*PERSON_NAME,
            &*EMAIL,
            &*MOBILE_PREFIX,
            &*MOBILE,
            &*COUNTRY,
            &*BILLING_REGION,
            &*BILLING_STREET,
            &*POSTAL_CODE,
            &*DOCUMENT_NUMBER,
            &*IMAGE_BASE64,
            &*METADATA_KEY,
            &*REFERENCE_TABLE,
            &*TRANSACTION_TYPE,
            &*METADATA_VALUE,
        ] {
            assert!(r.regex.is_some(), "{}", r.pattern);
        }
    }

    #[test]
    fn positive_amounts_refuse_zero_and_extra_places() {
        let r = positive_amount(2);
        for ok in ["1", "0.01", "0.1", "00.10", "25.50", "999999999999999999", "0.5"] {
            assert!(r.matches(ok), "{ok}");
        }
        for bad in ["0", "0.00", "0.0", "000", "1.234", "0.001", "-1", "1e3", "", ".5", "1.", "1,5"] {
            assert!(!r.matches(bad), "{bad}");
        }
        let r6 = positive_amount(6);
        assert!(r.matches("1.500") && r.matches("0.100") && !r.matches("0.0010"));
        assert!(
            r6.matches("0.000001") && r6.matches("0.100000") && !r6.matches("0.0000001") && !r6.matches("0.000000")
        );
    }

    proptest::proptest! {
        #[test]
        fn the_positive_amount_pattern_agrees_with_the_parsed_check(s in "0{0,2}[0-9]{0,3}(\\.[0-9]{0,4})?", places in 0u32..4) {
            let parsed = AMOUNT.matches(&s).then(|| s.parse::<rust_decimal::Decimal>().ok()).flatten();
            let by_check = parsed.is_some_and(|d| {
                let mut v = Violations::default();
                positive_within(&mut v, d, places, "#");
                v.finish().is_ok()
            });
            proptest::prop_assert_eq!(positive_amount(places).matches(&s), by_check, "{:?} at {} places", s, places);
        }

        #[test]
        fn the_text_pattern_agrees_with_the_character_checks(s in "[ \t\u{0}\u{7f}\u{85}\u{a0}a\u{2028}é]{0,7}") {
            let mut v = Violations::default();
            v.identifier(Some(&s), "#", 5);
            proptest::prop_assert_eq!(text(5).matches(&s), v.finish().is_ok(), "{:?}", s);
        }
    }

    #[test]
    fn letters_except_spells_every_word_but_the_excluded_ones() {
        let r = Rule::new(format!("^{}$", letters_except(&INTERNAL_TLDS, 21)), "");
        for ok in
            ["com", "io", "dev", "lo", "loc", "locals", "localhostx", "la", "lans", "interna", "arp", "arpas", "X"]
        {
            assert!(r.matches(ok), "{ok}");
        }
        for bad in ["local", "LOCAL", "Localhost", "internal", "lan", "LAN", "arpa", "", "a1", "co-m"] {
            assert!(!r.matches(bad), "{bad:?}");
        }
        assert!(r.matches(&"q".repeat(21)) && !r.matches(&"q".repeat(22)));
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain_without_white_space() {
        for ok in ["ada@example.com", "a@b.c", "a.b+c@mail.example.org", "a@b.c.d"] {
            assert!(EMAIL.matches(ok), "{ok}");
        }
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@.example.com",
            "ada@example",
            "0@0.",
            "a@b.c.",
            "x@y.z@w",
            "a da@example.com",
            "ada@exa\tmple.com",
            "ada@example.com\n",
            &format!("{}@example.com", "a".repeat(30)),
        ] {
            assert!(!EMAIL.matches(bad), "{bad:?}");
        }
    }

    #[test]
    fn kit_numbers_are_letters_and_digits_but_never_a_card_number() {
        for ok in ["KIT000123", "ABCDEF", "A1B2C3D4E5F6G7H8I9J0K1", "12345678901x"] {
            assert!(KIT_NUMBER.matches(ok), "{ok}");
        }
        for bad in ["KIT-000123", "ABC", "123456789012", "4111111111111111", &"A".repeat(33)] {
            assert!(!KIT_NUMBER.matches(bad), "{bad}");
        }
    }

    #[test]
    fn text_refuses_blank_control_and_overlong() {
        let r = text(5);
        for ok in ["a", " a ", "héllo", "ads-q"] {
            assert!(r.matches(ok), "{ok:?}");
        }
        for bad in ["", "   ", "\t", "a\u{7}b", "a\u{85}", "toolong"] {
            assert!(!r.matches(bad), "{bad:?}");
        }
    }
}
