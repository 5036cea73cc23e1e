//! The keyed fingerprint of a request, compared whenever an idempotency key is reused: same key with
//! a different fingerprint is a 422, never a replay.
//!
//! `Fingerprint = HMAC-SHA256(secret, encoding)` where `encoding` is a sequence of length-prefixed
//! fields (8-byte big-endian length, then the bytes), so no two different requests share an
//! encoding however their parts are split:
//!
//! 1. the domain tag `card-gateway/idempotency-fingerprint/v1`,
//! 2. the method (as given; actix hands over the canonical upper-case form),
//! 3. the route template (`/v1/cards/{id}/recharges`), not the concrete path,
//! 4. the number of path parameters, then each `name`, `value` pair, sorted by name (then value),
//! 5. the body kind (`empty`, `json` or `raw`) and the body: canonical JSON for `json`, the bytes
//!    as received for `raw` (not JSON, or JSON with a duplicated object key, whose meaning depends on
//!    the parser).
//!
//! Canonical JSON: objects with their keys sorted by their UTF-8 bytes (recursively), no
//! insignificant whitespace, strings re-escaped by serde_json's minimal escaping (so `"\u00e9"` and
//! `"é"` are the same string). **Numbers keep their exact token text**: serde_json is built here
//! without `arbitrary_precision`, so going through `Value` would round large or precise numbers to
//! `f64`; instead each number is taken verbatim from the body through `RawValue`. Consequently `1`,
//! `1.0` and `1e0` are different fingerprints — a client that changes a number's spelling under the
//! same key gets a 422 rather than a replay of a possibly different request, which is the safe side.
//! Money travels as decimal strings anyway (docs/product.md §2).

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{
    config::{ConfigError, resolve_text, stores::IdempotencySettings},
    sensitive::Reveal,
};

/// Used when `idempotency.fingerprint_secret` is empty (development only; production refuses it).
pub const DEV_FINGERPRINT_SECRET: &str = "card-gateway development fingerprint secret";

const DOMAIN: &[u8] = b"card-gateway/idempotency-fingerprint/v1";

/// HMAC-SHA256 of a request's identity. Displays as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Self(out))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

/// Computes fingerprints with the configured secret.
#[derive(Clone)]
pub struct Fingerprinter {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fingerprinter(<keyed>)")
    }
}

impl Fingerprinter {
    /// An empty secret means the development secret.
    pub fn new(secret: &[u8]) -> Self {
        let secret = if secret.is_empty() { DEV_FINGERPRINT_SECRET.as_bytes() } else { secret };
        match Hmac::<Sha256>::new_from_slice(secret) {
            Ok(mac) => Self { mac },
            // HMAC takes keys of any length (long ones are hashed first): no error exists to handle.
            Err(_) => unreachable!("HMAC-SHA256 accepts keys of every length"),
        }
    }

    /// The configured secret, resolved like every other secret: the value itself or `file:PATH`
    /// (whose contents are the key, never the literal `file:…` text).
    pub fn from_settings(settings: &IdempotencySettings) -> Result<Self, ConfigError> {
        let secret = resolve_text(settings.fingerprint_secret.expose())?;
        Ok(Self::new(secret.as_deref().unwrap_or_default().as_bytes()))
    }

    /// A 32-byte key for another use of the same secret (`label` is that use's domain tag; fingerprint
    /// encodings start with a length prefix, so no label collides with one).
    pub fn derive_key(&self, label: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(label);
        mac.finalize().into_bytes().into()
    }

    /// Fingerprint of one request. `path_params` may come in any order.
    pub fn fingerprint(&self, method: &str, route: &str, path_params: &[(&str, &str)], body: &[u8]) -> Fingerprint {
        let mut mac = self.mac.clone();
        let mut field = |bytes: &[u8]| {
            mac.update(&(bytes.len() as u64).to_be_bytes());
            mac.update(bytes);
        };
        field(DOMAIN);
        field(method.as_bytes());
        field(route.as_bytes());
        let mut params = path_params.to_vec();
        params.sort_unstable();
        field(&(params.len() as u64).to_be_bytes());
        for (name, value) in params {
            field(name.as_bytes());
            field(value.as_bytes());
        }
        let (kind, canonical): (&[u8], Option<Vec<u8>>) = if body.is_empty() {
            (b"empty", None)
        } else {
            match canonical_json(body) {
                Some(c) => (b"json", Some(c)),
                None => (b"raw", None),
            }
        };
        field(kind);
        field(canonical.as_deref().unwrap_or(body));
        Fingerprint(mac.finalize().into_bytes().into())
    }
}

/// Deepest nesting of arrays and objects canonicalised: the JSON extractors' limit, which `http` owns.
/// A deeper body is fingerprinted as its raw bytes and refused by the handler's extractor.
pub use crate::http::extract::MAX_JSON_DEPTH;

/// Canonical form of a JSON document (see the module docs), or `None` when `body` is not JSON, has a
/// duplicated object key, or nests deeper than [`MAX_JSON_DEPTH`].
pub fn canonical_json(body: &[u8]) -> Option<Vec<u8>> {
    canonicalise(body).map(|(out, _)| out)
}

/// One pass over the bytes: every input byte is read once, and each value's canonical bytes are
/// copied once per enclosing object (at most [`MAX_JSON_DEPTH`] times). Returns the output and the
/// work done (bytes read plus bytes copied), which the tests bound.
fn canonicalise(body: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut p = Canon { s: body, pos: 0, work: 0 };
    let mut out = Vec::with_capacity(body.len());
    p.ws();
    p.value(&mut out, 0)?;
    p.ws();
    (p.pos == body.len()).then_some(())?;
    let work = p.work + p.pos;
    Some((out, work))
}

struct Canon<'a> {
    s: &'a [u8],
    pos: usize,
    work: usize,
}

impl Canon<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek() == Some(b)).then(|| self.pos += 1)
    }

    fn value(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        match self.peek()? {
            b'{' => self.object(out, depth + 1),
            b'[' => self.array(out, depth + 1),
            b'"' => {
                let s = self.string()?;
                serde_json::to_writer(&mut *out, &s).ok()
            }
            b't' => self.literal(out, b"true"),
            b'f' => self.literal(out, b"false"),
            b'n' => self.literal(out, b"null"),
            _ => self.number(out),
        }
    }

    fn literal(&mut self, out: &mut Vec<u8>, word: &[u8]) -> Option<()> {
        self.s.get(self.pos..)?.starts_with(word).then_some(())?;
        self.pos += word.len();
        out.extend_from_slice(word);
        Some(())
    }

    /// RFC 8259 number grammar; the token is kept exactly as written (see the module docs).
    fn number(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let start = self.pos;
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.eat(b'.').is_some() {
            self.peek().filter(u8::is_ascii_digit)?;
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.peek().filter(u8::is_ascii_digit)?;
            self.digits();
        }
        // serde_json refuses a number beyond f64's range (e.g. 1e310): so must we.
        let token = std::str::from_utf8(&self.s[start..self.pos]).ok()?;
        if token.parse::<f64>().ok()?.is_infinite() {
            return None;
        }
        out.extend_from_slice(&self.s[start..self.pos]);
        Some(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// A string token, decoded by serde_json (escapes, surrogate pairs, UTF-8 and control characters
    /// checked exactly as the extractors will).
    fn string(&mut self) -> Option<String> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' => self.pos += 2,
                _ => self.pos += 1,
            }
        }
        self.pos += 1;
        let token = self.s.get(start..self.pos)?;
        self.work += token.len();
        serde_json::from_slice(token).ok()
    }

    fn object(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        (depth <= MAX_JSON_DEPTH).then_some(())?;
        self.pos += 1;
        let mut members: Vec<(String, Vec<u8>)> = Vec::new();
        self.ws();
        if self.eat(b'}').is_none() {
            loop {
                self.ws();
                (self.peek()? == b'"').then_some(())?;
                let key = self.string()?;
                self.ws();
                self.eat(b':')?;
                self.ws();
                let mut v = Vec::new();
                self.value(&mut v, depth)?;
                members.push((key, v));
                self.ws();
                if self.eat(b',').is_some() {
                    continue;
                }
                self.eat(b'}')?;
                break;
            }
        }
        members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        if members.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
        out.push(b'{');
        for (i, (k, v)) in members.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut *out, k).ok()?;
            out.push(b':');
            out.extend_from_slice(v);
            self.work += v.len();
        }
        out.push(b'}');
        Some(())
    }

    fn array(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        (depth <= MAX_JSON_DEPTH).then_some(())?;
        self.pos += 1;
        out.push(b'[');
        self.ws();
        if self.eat(b']').is_some() {
            out.push(b']');
            return Some(());
        }
        let mut first = true;
        loop {
            if !first {
                out.push(b',');
            }
            first = false;
            self.ws();
            self.value(out, depth)?;
            self.ws();
            if self.eat(b',').is_some() {
                continue;
            }
            self.eat(b']')?;
            out.push(b']');
            return Some(());
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn fp(method: &str, route: &str, params: &[(&str, &str)], body: &str) -> Fingerprint {
        Fingerprinter::new(b"test-secret").fingerprint(method, route, params, body.as_bytes())
    }

    const ROUTE: &str = "/v1/cards/{id}/recharges";

    #[test]
    fn a_file_fingerprint_secret_keys_with_the_files_contents_not_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fingerprint.key");
        let key = "f".repeat(40);
        std::fs::write(&path, &key).unwrap();
        let settings = |secret: String| IdempotencySettings {
            fingerprint_secret: crate::sensitive::SecretString::new(secret),
            ..crate::config::Settings::defaults().unwrap().idempotency
        };
        let from_file = Fingerprinter::from_settings(&settings(format!("file:{}", path.display()))).unwrap();
        let literal_path = Fingerprinter::new(format!("file:{}", path.display()).as_bytes());
        let fp = |f: &Fingerprinter| f.fingerprint("POST", ROUTE, &[("id", "c1")], b"{}");
        assert_eq!(fp(&from_file), fp(&Fingerprinter::new(key.as_bytes())));
        assert_ne!(fp(&from_file), fp(&literal_path), "the path text must not be the key");
        // The same key given inline is the same fingerprinter; an unreadable file is a start-up error.
        assert_eq!(fp(&Fingerprinter::from_settings(&settings(key)).unwrap()), fp(&from_file));
        assert!(Fingerprinter::from_settings(&settings("file:/nonexistent/fp.key".into())).is_err());
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let c = canonical_json(br#" { "b" : [ 1 , {"z":true,"a":null} ], "a":"x\u00e9" } "#).unwrap();
        assert_eq!(String::from_utf8(c).unwrap(), r#"{"a":"xé","b":[1,{"a":null,"z":true}]}"#);
    }

    #[test]
    fn numbers_keep_their_token_text() {
        let c = canonical_json(br#"{"big":123456789012345678901234567890,"p":0.10000000000000000001,"e":1E+2,"n":-0}"#)
            .unwrap();
        assert_eq!(
            String::from_utf8(c).unwrap(),
            r#"{"big":123456789012345678901234567890,"e":1E+2,"n":-0,"p":0.10000000000000000001}"#
        );
    }

    #[test]
    fn non_json_and_duplicate_keys_are_not_canonicalised() {
        assert_eq!(canonical_json(b"amount=1"), None);
        assert_eq!(canonical_json(br#"{"a":1,"a":2}"#), None);
        assert_eq!(canonical_json(br#"{"a":1}trailing"#), None);
        assert_eq!(canonical_json(b""), None);
    }

    #[test]
    fn same_logical_request_same_fingerprint() {
        let a = fp("POST", ROUTE, &[("id", "c1"), ("g", "x")], r#"{"amount":"12.50","meta":{"b":1,"a":2}}"#);
        let b = fp(
            "POST",
            ROUTE,
            &[("g", "x"), ("id", "c1")],
            "{\n  \"meta\": {\"a\": 2, \"b\": 1},\n  \"amount\": \"12.50\"\n}\n",
        );
        assert_eq!(a, b);
        assert_eq!(a.to_hex().len(), 64);
        assert_eq!(Fingerprint::from_hex(&a.to_string()), Some(a));
    }

    #[test]
    fn any_change_gives_a_different_fingerprint() {
        let base = fp("POST", ROUTE, &[("id", "c1")], r#"{"amount":"12.50"}"#);
        let variants = [
            fp("PUT", ROUTE, &[("id", "c1")], r#"{"amount":"12.50"}"#),
            fp("POST", "/v1/cards/{id}/refunds", &[("id", "c1")], r#"{"amount":"12.50"}"#),
            fp("POST", ROUTE, &[("id", "c2")], r#"{"amount":"12.50"}"#),
            fp("POST", ROUTE, &[("card", "c1")], r#"{"amount":"12.50"}"#),
            fp("POST", ROUTE, &[], r#"{"amount":"12.50"}"#),
            fp("POST", ROUTE, &[("id", "c1")], r#"{"amount":"12.51"}"#),
            fp("POST", ROUTE, &[("id", "c1")], r#"{"amount":12.50}"#),
            fp("POST", ROUTE, &[("id", "c1")], r#"{"amount":"12.50","x":null}"#),
            fp("POST", ROUTE, &[("id", "c1")], r#"[{"amount":"12.50"}]"#),
            fp("POST", ROUTE, &[("id", "c1")], ""),
        ];
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(&base, v, "variant {i}");
        }
        let other_secret =
            Fingerprinter::new(b"other").fingerprint("POST", ROUTE, &[("id", "c1")], br#"{"amount":"12.50"}"#);
        assert_ne!(base, other_secret);
    }

    #[test]
    fn length_prefixing_keeps_fields_apart() {
        assert_ne!(fp("POST", ROUTE, &[("ab", "c")], ""), fp("POST", ROUTE, &[("a", "bc")], ""));
        assert_ne!(fp("POS", &format!("T{ROUTE}"), &[], ""), fp("POST", ROUTE, &[], ""));
    }

    #[test]
    fn empty_raw_and_json_bodies_are_distinct() {
        let empty = fp("POST", ROUTE, &[], "");
        let null = fp("POST", ROUTE, &[], "null");
        let raw = fp("POST", ROUTE, &[], "not json");
        let raw2 = fp("POST", ROUTE, &[], "not  json");
        assert_ne!(empty, null);
        assert_ne!(null, raw);
        assert_ne!(raw, raw2, "raw bodies are compared byte for byte");
        assert_eq!(fp("POST", ROUTE, &[], "not json"), raw);
    }

    #[test]
    fn empty_secret_means_the_development_secret() {
        let a = Fingerprinter::new(b"").fingerprint("POST", ROUTE, &[], b"{}");
        let b = Fingerprinter::new(DEV_FINGERPRINT_SECRET.as_bytes()).fingerprint("POST", ROUTE, &[], b"{}");
        assert_eq!(a, b);
    }

    fn nested(depth: usize) -> String {
        format!("{}1{}", r#"{"a":["#.repeat(depth / 2), "]}".repeat(depth / 2))
    }

    #[test]
    fn nesting_deeper_than_32_is_not_canonicalised() {
        assert!(canonical_json(nested(MAX_JSON_DEPTH).as_bytes()).is_some());
        assert_eq!(canonical_json(nested(MAX_JSON_DEPTH + 2).as_bytes()), None);
        assert_eq!(canonical_json(format!("{}{}", "[".repeat(33), "]".repeat(33)).as_bytes()), None);
        assert!(canonical_json(format!("{}{}", "[".repeat(32), "]".repeat(32)).as_bytes()).is_some());
        // The 126-level body of the security review, and a far deeper one: refused, not re-parsed per level.
        assert_eq!(canonical_json(nested(126).as_bytes()), None);
        assert_eq!(canonical_json(format!("{}{}", "[".repeat(1 << 20), "]".repeat(1 << 20)).as_bytes()), None);
    }

    #[test]
    fn canonicalising_reads_each_byte_once_and_copies_at_most_once_per_level() {
        // Deep: every level wraps the rest in an object, the worst case for copying.
        let deep = nested(MAX_JSON_DEPTH);
        let (_, work) = canonicalise(deep.as_bytes()).unwrap();
        assert!(work <= deep.len() * (MAX_JSON_DEPTH / 2 + 2), "{work} for {} bytes", deep.len());
        // Flat and large: linear with a small constant, however long.
        let flat = format!("[{}1]", r#"{"k":"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv","n":12.5},"#.repeat(20_000));
        let (_, work) = canonicalise(flat.as_bytes()).unwrap();
        assert!(work <= flat.len() * 3, "{work} for {} bytes", flat.len());
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "[a-zé\"\\\\ ]{0,8}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::from),
                prop::collection::btree_map("[a-c]{1,3}", inner, 0..5)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn pretty_and_compact_forms_fingerprint_alike(v in json_value()) {
            let compact = serde_json::to_string(&v).unwrap();
            let pretty = serde_json::to_string_pretty(&v).unwrap();
            prop_assert_eq!(fp("POST", ROUTE, &[], &compact), fp("POST", ROUTE, &[], &pretty));
            // The canonical form is itself valid JSON with the same value.
            let canon = canonical_json(compact.as_bytes()).unwrap();
            let back: serde_json::Value = serde_json::from_slice(&canon).unwrap();
            prop_assert_eq!(back, v);
        }

        #[test]
        fn canonical_json_accepts_exactly_what_serde_json_accepts(v in json_value(), ws in "[ \t\r\n]{0,2}") {
            // Re-spaced documents (whitespace around every token) are still the same JSON.
            let text = serde_json::to_string(&v).unwrap();
            let spaced: String = text.chars().flat_map(|c| if matches!(c, ',' | ':' | '[' | ']' | '{' | '}') {
                vec![ws.clone(), c.to_string(), ws.clone()] } else { vec![c.to_string()] }).collect();
            let canon = canonical_json(spaced.as_bytes());
            let compact = canonical_json(text.as_bytes());
            prop_assert_eq!(canon.as_deref(), compact.as_deref());
            prop_assert!(canon.is_some());
        }

        #[test]
        fn canonical_json_never_accepts_what_serde_json_refuses(body in prop::collection::vec(prop::sample::select(b"{}[]\",:0123456789.eE+-tfnulrsa \\u".to_vec()), 0..40)) {
            if canonical_json(&body).is_some() {
                prop_assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok(), "{:?}", String::from_utf8_lossy(&body));
            }
        }

        #[test]
        fn fingerprint_never_panics(body in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = Fingerprinter::new(b"k").fingerprint("POST", ROUTE, &[], &body);
        }
    }
}
