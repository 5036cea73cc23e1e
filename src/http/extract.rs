//! `ValidJson<T>`, `OptionalJson<T>` and `ValidQuery<T>`: strict extractors (unknown fields rejected by the DTOs'
//! `deny_unknown_fields`) whose errors name the exact field — and never echo a value.

use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web::BytesMut};
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;

use super::validate::{Validate, Violations};
use crate::{error::ApiError, sensitive::mask_card_numbers};

/// Largest body accepted, per route template (default for the rest); registered as app data.
#[derive(Debug, Clone)]
pub struct BodyLimits {
    default: usize,
    routes: Vec<(&'static str, usize)>,
}

impl BodyLimits {
    pub fn new(default: usize) -> Self {
        Self { default, routes: Vec::new() }
    }

    pub fn with_route(mut self, pattern: &'static str, limit: usize) -> Self {
        self.routes.push((pattern, limit));
        self
    }

    pub fn for_pattern(&self, pattern: Option<&str>) -> usize {
        pattern.and_then(|p| self.routes.iter().find(|(r, _)| *r == p)).map_or(self.default, |(_, l)| *l)
    }
}

/// A JSON body that deserialised strictly and passed `Validate`.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

/// A query string that deserialised strictly and passed `Validate`.
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

/// Raw JSON body bytes (checked content type and size); used where the body is optional.
pub async fn read_json_body(req: &HttpRequest, payload: &mut Payload) -> Result<BytesMut, ApiError> {
    let limit = req.app_data::<BodyLimits>().map_or(65536, |l| l.for_pattern(req.match_pattern().as_deref()));
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "application/json" && !essence.ends_with("+json") {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the request body must be application/json",
        ));
    }
    if let Some(len) = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        && len > limit
    {
        return Err(too_large(limit));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad_request("malformed_body", "the request body could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the request body exceeds {limit} bytes"),
    )
}

/// Strict JSON decoding: syntax errors → 400 `malformed_json`; type, missing or unknown fields →
/// 422 with a JSON Pointer to the field. serde's own messages are reduced to their category so a
/// rejected value (a PAN typed into the wrong field) is never echoed.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if nesting_exceeds(bytes, MAX_JSON_DEPTH) {
        return Err(ApiError::bad_request(
            "json_too_deep",
            format!("the body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels"),
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let inner = e.inner();
            match inner.classify() {
                serde_json::error::Category::Syntax
                | serde_json::error::Category::Eof
                | serde_json::error::Category::Io => Err(ApiError::bad_request(
                    "malformed_json",
                    format!("the body is not valid JSON (line {}, column {})", inner.line(), inner.column()),
                )),
                // Field names are client input too: a card number sent as a key is masked.
                serde_json::error::Category::Data => Err(ApiError::field(
                    mask_card_numbers(&pointer_of(e.path())),
                    mask_card_numbers(&describe(&inner.to_string())),
                )),
            }
        }
    }
}

/// [`decode_json`] for a request body, which is a JSON object on every route: serde would also read a
/// struct from an array of its fields in order (`["222929", "USD"]`), which the document forbids.
fn decode_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.trim_ascii_start().first() {
        Some(b'[') => Err(ApiError::field("#".to_owned(), "invalid type, expected an object".to_owned())),
        _ => decode_json(bytes),
    }
}

/// A nested object field (`#[serde(deserialize_with = "...")]`): a JSON object only, never the array
/// form serde's derived structs also take (see [`decode_object`]).
pub fn object<'de, D: serde::Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<T, D::Error> {
    use serde::{Deserialize as _, de::Error as _};
    let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    T::deserialize(serde_json::Value::Object(map)).map_err(D::Error::custom)
}

/// [`object`] for an optional field (absent or `null` → `None`).
pub fn optional_object<'de, D: serde::Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    use serde::{Deserialize as _, de::Error as _};
    match Option::<serde_json::Map<String, serde_json::Value>>::deserialize(d)? {
        Some(map) => T::deserialize(serde_json::Value::Object(map)).map(Some).map_err(D::Error::custom),
        None => Ok(None),
    }
}

/// Deepest nesting of arrays and objects the JSON extractors accept: no request body of this API nests
/// deeper than a few levels. The idempotency fingerprint canonicalises up to the same depth (a deeper
/// body is fingerprinted as its raw bytes and refused here).
pub const MAX_JSON_DEPTH: usize = 32;

/// Whether `bytes` nest arrays/objects deeper than `max`, in one pass that understands strings (a
/// bracket inside a string does not count). Malformed input is left to the parser.
pub fn nesting_exceeds(bytes: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// `a.b[0].c` → `#/a/b/0/c` (RFC 6901, as RFC 9457's examples use).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::from("#");
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push_str(&key.replace('~', "~0").replace('/', "~1"))
            }
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// Keeps serde's explanation but drops any quoted input value.
fn describe(msg: &str) -> String {
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        let field = rest.split(',').next().unwrap_or("").trim_matches('`');
        return format!("unknown field `{field}`");
    }
    if let Some(rest) = msg.strip_prefix("missing field ") {
        return format!("missing field {rest}");
    }
    if msg.starts_with("invalid type") {
        let expected = msg.split("expected ").nth(1).unwrap_or("another type");
        return format!("invalid type, expected {expected}");
    }
    if msg.starts_with("invalid value") || msg.starts_with("unknown variant") {
        let expected = msg.split("expected ").nth(1).unwrap_or("another value");
        return format!("invalid value, expected {expected}");
    }
    // Our own Deserialize impls write fixed messages without values.
    msg.chars().take(200).collect()
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_json_body(&req, &mut payload).await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Err(ApiError::bad_request("malformed_json", "the request body is empty"));
            }
            let value: T = decode_object(&body)?;
            let mut v = Violations::default();
            value.validate(&mut v);
            v.finish()?;
            Ok(ValidJson(value))
        })
    }
}

/// An optional JSON body: no body at all → `None`; otherwise decoded and validated exactly like
/// [`ValidJson`] (`Option<ValidJson<T>>` would turn an invalid body silently into `None`).
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if !req.headers().contains_key(header::CONTENT_TYPE) {
                // Without a content type only an empty body is "no body".
                return match payload.next().await {
                    None => Ok(OptionalJson(None)),
                    Some(Ok(chunk)) if chunk.is_empty() && payload.next().await.is_none() => Ok(OptionalJson(None)),
                    Some(_) => Err(ApiError::new(
                        actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "unsupported_media_type",
                        "the request body must be application/json",
                    )),
                };
            }
            let body = read_json_body(&req, &mut payload).await?;
            // No body, or JSON `null` (what the document's `oneOf [null, T]` allows): absent.
            if body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null" {
                return Ok(OptionalJson(None));
            }
            let value: T = decode_object(&body)?;
            let mut v = Violations::default();
            value.validate(&mut v);
            v.finish()?;
            Ok(OptionalJson(Some(value)))
        })
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(decode_query(req.query_string()))
    }
}

pub fn decode_query<T: DeserializeOwned + Validate>(qs: &str) -> Result<ValidQuery<T>, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(qs));
    let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let name = if path == "." { "query".to_owned() } else { format!("query.{path}") };
        ApiError::field(mask_card_numbers(&name), mask_card_numbers(&describe(&e.inner().to_string())))
    })?;
    let mut v = Violations::default();
    value.validate(&mut v);
    v.finish()?;
    Ok(ValidQuery(value))
}

fn form_urlencoded_parse(qs: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(qs.as_bytes())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        zip: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        billing: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        name: String,
        #[serde(deserialize_with = "super::object")]
        billing: Inner,
        #[serde(default, deserialize_with = "super::optional_object")]
        other: Option<Inner>,
    }

    #[test]
    fn bodies_and_nested_objects_given_as_arrays_are_refused() {
        // serde's derived structs read `[fields in order]` too; the document says object.
        assert!(decode_json::<Outer>(br#"["a", {"zip": "1"}]"#).is_ok(), "what serde alone accepts");
        let e = decode_object::<Outer>(br#" ["a", {"zip": "1"}]"#).unwrap_err();
        assert_eq!((e.status.as_u16(), e.errors[0].pointer.as_str()), (422, "#"));
        let e = decode_object::<Strict>(br#"{"name": "a", "billing": ["1"]}"#).unwrap_err();
        assert_eq!((e.status.as_u16(), e.errors[0].pointer.as_str()), (422, "#/billing"));
        let e = decode_object::<Strict>(br#"{"name": "a", "billing": {"zip": "1"}, "other": ["1"]}"#).unwrap_err();
        assert_eq!(e.errors[0].pointer, "#/other");
        let e = decode_object::<Strict>(br#"{"name": "a", "billing": {"zip": "1", "cvv": "123"}}"#).unwrap_err();
        assert_eq!(e.errors[0].detail, "unknown field `cvv`");
        let ok = decode_object::<Strict>(br#"{"name": "a", "billing": {"zip": "1"}, "other": null}"#);
        assert!(ok.is_ok(), "{ok:?}");
    }

    #[test]
    fn nested_type_errors_point_at_the_field_without_echoing_the_value() {
        let e = decode_json::<Outer>(br#"{"name":"a","billing":{"zip":4111111111111111}}"#).unwrap_err();
        assert_eq!(e.status.as_u16(), 422);
        assert_eq!(e.errors[0].pointer, "#/billing/zip");
        assert!(!e.errors[0].detail.contains("4111"), "{}", e.errors[0].detail);
    }

    #[test]
    fn unknown_fields_are_rejected_with_their_location() {
        let e = decode_json::<Outer>(br#"{"name":"a","billing":{"zip":"1"},"cvv":"123"}"#).unwrap_err();
        assert_eq!(e.status.as_u16(), 422);
        assert!(e.errors[0].detail.contains("unknown field `cvv`"), "{:?}", e.errors);
    }

    #[test]
    fn a_card_number_sent_as_a_field_name_is_masked_in_the_problem() {
        let e = decode_json::<Outer>(br#"{"name":"a","billing":{"zip":"1"},"4111 1111 1111 1111":"123"}"#).unwrap_err();
        let text = format!("{} {:?}", e.detail, e.errors);
        assert!(!text.contains("1111 1111") && !text.contains("4111111111111111"), "{text}");
        assert!(e.errors[0].detail.contains("unknown field `411111******1111`"), "{:?}", e.errors);
        let Err(e) = decode_query::<crate::domain::list::ListQuery>("4111111111111111=1") else {
            panic!("unknown parameter accepted")
        };
        assert!(!format!("{} {:?}", e.detail, e.errors).contains("4111111111111111"), "{:?}", e.errors);
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Overlap {
        seconds: u64,
    }

    impl Validate for Overlap {
        fn validate(&self, v: &mut Violations) {
            v.check(self.seconds <= 10, "#/seconds", "must be at most 10");
        }
    }

    async fn optional(content_type: Option<&str>, body: &'static str) -> Result<Option<u64>, ApiError> {
        let mut req = actix_web::test::TestRequest::post();
        if let Some(ct) = content_type {
            req = req.insert_header((header::CONTENT_TYPE, ct));
        }
        let (req, mut payload) = req.set_payload(body).to_http_parts();
        OptionalJson::<Overlap>::from_request(&req, &mut payload).await.map(|o| o.0.map(|x| x.seconds))
    }

    #[actix_web::test]
    async fn an_optional_body_may_be_absent_but_a_present_one_is_checked() {
        assert_eq!(optional(None, "").await.unwrap(), None);
        assert_eq!(optional(Some("application/json"), "").await.unwrap(), None);
        assert_eq!(optional(Some("application/json"), r#"{"seconds": 5}"#).await.unwrap(), Some(5));
        let status = |r: Result<Option<u64>, ApiError>| r.unwrap_err().status.as_u16();
        assert_eq!(status(optional(Some("application/json"), r#"{"seconds": 50}"#).await), 422);
        assert_eq!(status(optional(Some("application/json"), r#"{"seconds": "5"}"#).await), 422);
        assert_eq!(status(optional(Some("application/json"), r#"{"second": 5}"#).await), 422);
        assert_eq!(status(optional(Some("application/json"), "{").await), 400);
        assert_eq!(status(optional(None, r#"{"seconds": 5}"#).await), 415);
    }

    #[test]
    fn bodies_nested_deeper_than_32_are_refused_before_parsing() {
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        let e = decode_json::<serde_json::Value>(deep.as_bytes()).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code.as_str()), (400, "json_too_deep"));
        assert!(decode_json::<serde_json::Value>(format!("{}{}", "[".repeat(32), "]".repeat(32)).as_bytes()).is_ok());
        // Brackets inside strings (escaped quotes included) are text, not nesting.
        let text = format!(r#"{{"a":"\"{}"}}"#, "[".repeat(100));
        assert!(!nesting_exceeds(text.as_bytes(), 32));
    }

    #[test]
    fn malformed_json_is_a_400() {
        let e = decode_json::<Outer>(br#"{"name": "#).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code.as_str()), (400, "malformed_json"));
    }

    fn depth(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
            serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn the_json_extractor_never_panics_and_refuses_exactly_the_bodies_deeper_than_32(
            body in proptest::collection::vec(proptest::sample::select(b"[]{}\"\\:,0a ".to_vec()), 0..120),
            levels in 1usize..80,
        ) {
            // Arbitrary bracket soup: an answer, never a panic.
            let _ = decode_json::<serde_json::Value>(&body);
            // A valid document `levels` deep: refused as too deep exactly beyond the limit.
            let doc = format!("{}{}", "[".repeat(levels), "]".repeat(levels));
            match decode_json::<serde_json::Value>(doc.as_bytes()) {
                Ok(v) => proptest::prop_assert!(levels <= MAX_JSON_DEPTH && depth(&v) == levels),
                Err(e) => proptest::prop_assert!(levels > MAX_JSON_DEPTH && e.code == "json_too_deep", "{levels}: {}", e.code),
            }
        }
    }
}
