//! Extreme values in every field (issue 10 item 13): driven by the OpenAPI document the running
//! gateway serves, every operation gets its query parameters, its request-body properties (top level
//! and one level down) and its path id replaced by hostile values — huge and negative numbers,
//! out-of-range dates, empty and 10 KB strings, unicode and control characters, wrong JSON types,
//! over-long decimals, odd currency codes, ids with `/`, `..` and `%00`.
//!
//! Two passes: a sweep that gives every field each extreme of its kind (a date field every
//! out-of-range date, an amount every over-long decimal, …) and every path id each hostile id, and
//! proptest cases (1–3 fields at once, any extreme in any field) from a seed printed at the start
//! (`EXTREMES_SEED=<n>` replays a run).
//!
//! Whatever it is fed, the gateway answers: never a 500 (a 502/503/504 only as a documented
//! `upstream_*` failure of the platform), every error an RFC 9457 problem with `type`, `title`,
//! `status` and `code`, no panic in any thread or in the logs, and `/healthz` still 200 afterwards.

use std::{
    collections::BTreeMap,
    sync::{Mutex, Once, OnceLock},
    time::Instant,
};

use card_gateway::routes::{
    self,
    table::{RoutePolicy, RouteTable},
};
use card_gateway::{
    dev_keys,
    envelope::{EnvelopeCodec, PrivateKey},
};
use proptest::{
    collection::vec,
    prelude::*,
    strategy::ValueTree,
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::{
    common::{Resp, TestApp, captured_logs},
    support::{
        BODY_TIMEOUT, HEADERS_TIMEOUT, Ids, Receiver, Sample, is_event_stream, merchant_no, request, sample, spawn,
    },
};

/// Generated cases per operation (about 50 operations: the proptest pass stays around 10 s).
const CASES_PER_OPERATION: u32 = 24;
const METHODS: [&str; 5] = ["get", "post", "patch", "delete", "put"];

// ---------------------------------------------------------------------------------------------
// Panics anywhere in the process.

/// Panics raised outside the test's own code (the gateway's workers, its dependencies), with where.
static PANICS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
static HOOK: Once = Once::new();

/// Chains a panic hook that records every panic not raised by test code (`tests/…`) on a thread that
/// is not a test's own: a handler's panic is printed by the default hook, not logged, so the logs
/// alone would not show it.
fn record_panics() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            let thread = std::thread::current().name().unwrap_or("").to_owned();
            if !location.starts_with("tests/") && !thread.contains("::") {
                let msg = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                if let Ok(mut p) = PANICS.get_or_init(Mutex::default).lock() {
                    p.push(format!("thread {thread:?} panicked at {location}: {msg}"));
                }
            }
            previous(info);
        }));
    });
}

fn recorded_panics() -> Vec<String> {
    PANICS.get_or_init(Mutex::default).lock().map(|p| p.clone()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The fields of the served document.

/// What a field holds, which decides the extremes it is swept with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Date,
    Integer,
    Decimal,
    Currency,
    Id,
    Text,
}

/// Where an extreme value goes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Query(String),
    /// A documented header (`Idempotency-Key`, `Last-Event-ID`); values no HTTP client can send
    /// (control characters) are left out.
    Header(String),
    /// The body itself (no name), a property at its top level (one name) or one level down (two).
    Body(Vec<String>),
}

#[derive(Debug, Clone)]
struct Field {
    target: Target,
    kind: Kind,
}

/// One documented operation and what can be fed to it.
struct Op<'t> {
    method: Method,
    path: String,
    route: &'t RoutePolicy,
    fields: Vec<Field>,
    /// Whether the path has a parameter (an id, or the reference table's name).
    has_path_param: bool,
}

impl Op<'_> {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// Follows `$ref`s and picks the non-null branch of `oneOf`/`anyOf`, so a schema's properties show.
fn resolve<'d>(doc: &'d Value, mut schema: &'d Value) -> &'d Value {
    for _ in 0..8 {
        if let Some(r) = schema["$ref"].as_str() {
            let Some(name) = r.strip_prefix("#/components/schemas/") else { return schema };
            schema = &doc["components"]["schemas"][name];
        } else if let Some(branches) = schema["oneOf"].as_array().or_else(|| schema["anyOf"].as_array()) {
            match branches.iter().find(|b| b["type"] != "null") {
                Some(b) => schema = b,
                None => return schema,
            }
        } else {
            return schema;
        }
    }
    schema
}

/// A field's kind, from its schema, its name and the value the route's sample gives it.
fn kind_of(doc: &Value, name: &str, schema: &Value, sample_value: Option<&Value>) -> Kind {
    let name = name.to_ascii_lowercase().replace('-', "_");
    let name = name.as_str();
    let raw_ref = schema["$ref"].as_str().unwrap_or_default();
    let s = resolve(doc, schema);
    let types = |t: &str| s["type"] == t || s["type"].as_array().is_some_and(|a| a.iter().any(|x| x == t));
    let sample_text = sample_value.and_then(Value::as_str).unwrap_or_default();
    let looks_like_currency =
        (3..=4).contains(&sample_text.len()) && sample_text.chars().all(|c| c.is_ascii_uppercase());
    if matches!(s["format"].as_str(), Some("date" | "date-time")) {
        Kind::Date
    } else if types("integer") || types("number") {
        Kind::Integer
    } else if raw_ref.ends_with("/Amount") || name == "amount" || name == "limit" && types("string") {
        Kind::Decimal
    } else if name.contains("currency") || looks_like_currency {
        Kind::Currency
    } else if name.ends_with("_id") || name.ends_with("_ids") || name == "cursor" || name == "id" {
        Kind::Id
    } else {
        Kind::Text
    }
}

fn policy<'t>(table: &'t RouteTable, method: &Method, path: &str) -> Option<&'t RoutePolicy> {
    table.find(&method.as_str().parse().ok()?, path)
}

/// Every operation of `doc` with its query parameters and body properties (top level and one level
/// down), plus whatever the route's sample body carries (the inbound webhook's envelope fields).
fn operations<'t>(doc: &Value, ids: &Ids, table: &'t RouteTable) -> Result<Vec<Op<'t>>, String> {
    let mut out = Vec::new();
    let paths = doc["paths"].as_object().ok_or("the document has no paths")?;
    for (path, item) in paths {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).map_err(|e| e.to_string())?;
            let route = policy(table, &method, path).ok_or(format!("{method} {path} is documented but not routed"))?;
            let s = sample(route, ids);
            let sample_query: BTreeMap<String, Value> = s
                .path
                .split_once('?')
                .map(|(_, q)| form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), json!(v))).collect())
                .unwrap_or_default();
            let sample_body = s.body.unwrap_or(Value::Null);

            let mut fields: BTreeMap<Target, Kind> = BTreeMap::new();
            let mut has_path_param = false;
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap_or_default();
                match p["in"].as_str() {
                    Some("query") => {
                        let kind = kind_of(doc, name, &p["schema"], sample_query.get(name));
                        fields.insert(Target::Query(name.to_owned()), kind);
                    }
                    Some("header") => {
                        let kind = kind_of(doc, name, &p["schema"], None);
                        fields.insert(Target::Header(name.to_owned()), kind);
                    }
                    Some("path") => has_path_param = true,
                    _ => {}
                }
            }
            let body = resolve(doc, &op["requestBody"]["content"]["application/json"]["schema"]);
            if body.is_object() || sample_body.is_object() {
                fields.insert(Target::Body(Vec::new()), Kind::Text);
            }
            for (name, prop) in body["properties"].as_object().into_iter().flatten() {
                let here = sample_body.get(name);
                fields.insert(Target::Body(vec![name.clone()]), kind_of(doc, name, prop, here));
                for (sub, sub_schema) in resolve(doc, prop)["properties"].as_object().into_iter().flatten() {
                    let kind = kind_of(doc, sub, sub_schema, here.and_then(|h| h.get(sub)));
                    fields.insert(Target::Body(vec![name.clone(), sub.clone()]), kind);
                }
            }
            for (k, v) in sample_body.as_object().into_iter().flatten() {
                fields.entry(Target::Body(vec![k.clone()])).or_insert_with(|| kind_of(doc, k, &Value::Null, Some(v)));
                for (sub, sv) in v.as_object().into_iter().flatten() {
                    fields
                        .entry(Target::Body(vec![k.clone(), sub.clone()]))
                        .or_insert_with(|| kind_of(doc, sub, &Value::Null, Some(sv)));
                }
            }
            let fields = fields.into_iter().map(|(target, kind)| Field { target, kind }).collect();
            out.push(Op { method, path: path.clone(), route, fields, has_path_param });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The extremes.

fn numbers() -> Vec<Value> {
    vec![
        json!(i64::MIN),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(u64::MAX.to_string()),
        json!(i64::MIN.to_string()),
        json!("18446744073709551616"),
        json!(1e308),
        json!(-1e308),
        json!(f64::MIN_POSITIVE),
        json!(-0.0),
        json!("-0"),
        json!(0),
        json!(-1),
        json!(1.5),
        json!("NaN"),
        json!("Infinity"),
        json!("-Infinity"),
        json!("1e309"),
        json!("0x7fffffffffffffff"),
        json!(" 1"),
    ]
}

fn dates() -> Vec<Value> {
    vec![
        json!("-262143-01-01"),
        json!("+262143-12-31"),
        json!("262142-12-31"),
        json!("262144-01-01"),
        json!("0000-01-01"),
        json!("0001-01-01"),
        json!("1899-12-31"),
        json!("3000-01-01"),
        json!("9999-12-31"),
        json!("9999-12-31T23:59:60Z"),
        json!("-262143-01-01T00:00:00Z"),
        json!("+262143-12-31T23:59:59.999999999-23:59"),
        json!("+262142-12-31T23:59:59Z"),
        json!("1900-01-01T00:00:00+14:00"),
        json!("0000-00-00"),
        json!("2026-02-30"),
        json!("2026-13-01T25:61:61+99:99"),
        json!("1970-01-01T00:00:00.0000000000000000001Z"),
    ]
}

fn decimals() -> Vec<Value> {
    vec![
        json!("1".repeat(40)),
        json!(format!("0.{}1", "0".repeat(29))),
        json!(format!("1.{}", "9".repeat(30))),
        json!("79228162514264337593543950335"),
        json!("79228162514264337593543950336"),
        json!("-79228162514264337593543950335.5"),
        json!("999999999999999999.99999999"),
        json!("0.00000001"),
        json!("1e5"),
        json!("1E-30"),
        json!("+1.00"),
        json!("-1.00"),
        json!("0.00"),
        json!("-0.00"),
        json!(".5"),
        json!("5."),
        json!("1,00"),
        json!("١٢٣"),
        json!(1.0),
        json!(1e308),
    ]
}

fn currencies() -> Vec<Value> {
    vec![
        json!("XXXX"),
        json!("usd"),
        json!(""),
        json!("US"),
        json!("USD\0"),
        json!("ZZZ"),
        json!("XXX"),
        json!("ＵＳＤ"),
    ]
}

fn id_values() -> Vec<Value> {
    vec![
        json!("../../etc/passwd"),
        json!("a/b"),
        json!(".."),
        json!("%00"),
        json!("%2e%2e%2f"),
        json!("9".repeat(40)),
        json!(format!("op_{}", "1".repeat(200))),
        json!("evt_"),
        json!("we_00000000000000000000000000000000000000000000000000000"),
        json!("0-0"),
        json!("18446744073709551615-18446744073709551615"),
        json!("-1"),
    ]
}

fn texts() -> Vec<Value> {
    vec![
        json!(""),
        json!(" "),
        json!("x".repeat(10 * 1024)),
        json!("e\u{301}".repeat(3 * 1024)),
        json!("\u{202E}\u{200F}evil\u{200E}\u{2066}"),
        json!("\0"),
        json!("a\0b"),
        json!("😀🏳️‍🌈👩‍👩‍👧‍👦"),
        json!("e\u{301}\u{302}\u{303}\u{304}\u{305}\u{306}\u{307}"),
        json!("\u{1}\u{7}\u{8}\u{1b}[31m\u{7f}\u{9f}"),
        json!("\r\nX-Injected: 1\r\n"),
        json!("\u{feff}"),
        json!("\u{fffd}\u{ffff}"),
        json!("<script>alert(1)</script>"),
        json!("${jndi:ldap://x}"),
    ]
}

/// Wrong JSON types where a string (or a number) is expected.
fn wrong_types() -> Vec<Value> {
    vec![
        json!([]),
        json!({}),
        json!(true),
        Value::Null,
        json!([1, "a", null]),
        json!({"a": {"b": [1]}}),
        json!(vec!["x".repeat(64); 64]),
    ]
}

fn of_kind(kind: Kind) -> Vec<Value> {
    match kind {
        Kind::Date => dates(),
        Kind::Integer => numbers(),
        Kind::Decimal => decimals(),
        Kind::Currency => currencies(),
        Kind::Id => id_values(),
        Kind::Text => texts(),
    }
}

/// What the sweep gives a field: every extreme of its kind, every wrong type, and a few strings.
fn sweep_values(kind: Kind) -> Vec<Value> {
    let mut v = of_kind(kind);
    v.extend(wrong_types());
    if kind != Kind::Text {
        v.extend([json!(""), json!("x".repeat(10 * 1024)), json!("a\0b"), json!("😀\u{202E}")]);
    }
    v
}

fn everything() -> Vec<Value> {
    let mut v = Vec::new();
    for k in [Kind::Date, Kind::Integer, Kind::Decimal, Kind::Currency, Kind::Id, Kind::Text] {
        v.extend(of_kind(k));
    }
    v.extend(wrong_types());
    v
}

/// Hostile path ids (inserted raw: `/` and `..` change the path, `%xx` is decoded by the router).
fn extreme_ids() -> Vec<String> {
    [
        "",
        "..",
        ".",
        "a/b",
        "%00",
        "%2F",
        "%2e%2e",
        "-1",
        "0",
        "18446744073709551616",
        "-9223372036854775808",
        "%F0%9F%98%80",
        "%E2%80%AE",
        "%0d%0aX-Injected:%201",
        "%ff%fe",
        ";",
        "?x=1",
        "#x",
        "op_",
        "evt_",
        "we_",
        "%20",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(["9".repeat(64), "x".repeat(4096)])
    .collect()
}

/// Any extreme for a field of `kind`: mostly its kind's, often any, sometimes random.
fn value_for(kind: Kind) -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => proptest::sample::select(of_kind(kind)),
        3 => proptest::sample::select(everything()),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        1 => any::<String>().prop_map(Value::String),
        1 => vec(any::<char>(), 0..24).prop_map(|c| Value::String(c.into_iter().collect())),
    ]
}

fn id_for() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(extreme_ids()),
        1 => "[a-zA-Z0-9_~.-]{1,80}",
        1 => any::<String>().prop_map(|s| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()),
    ]
}

/// One request's changes to its route's sample: values for fields (by index), maybe a path id.
#[derive(Debug, Clone)]
struct Case {
    values: Vec<(usize, Value)>,
    id: Option<String>,
}

/// 1–3 fields of `op` set to extremes of their kind (or any), and a hostile path id a quarter of the
/// time.
fn case_for(op: &Op) -> BoxedStrategy<Case> {
    let kinds: Vec<Kind> = op.fields.iter().map(|f| f.kind).collect();
    let id = if op.has_path_param { proptest::option::weighted(0.25, id_for()).boxed() } else { Just(None).boxed() };
    if kinds.is_empty() {
        return id.prop_map(|id| Case { values: Vec::new(), id }).boxed();
    }
    let one = (0..kinds.len()).prop_flat_map(move |i| (Just(i), value_for(kinds[i])));
    (vec(one, 1..=3), id).prop_map(|(values, id)| Case { values, id }).boxed()
}

// ---------------------------------------------------------------------------------------------
// Requests and verdicts.

fn as_query_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Sets `body[path…]` to `v` (the whole body for an empty path), making the level above an object
/// when it is not one.
fn set_body(body: &mut Value, path: &[String], v: Value) {
    if path.is_empty() {
        *body = v;
        return;
    }
    if !body.is_object() {
        *body = Value::Object(Map::new());
    }
    match path {
        [name] => body[name.as_str()] = v,
        [name, sub] => {
            let parent = &mut body[name.as_str()];
            if !parent.is_object() {
                *parent = Value::Object(Map::new());
            }
            parent[sub.as_str()] = v;
        }
        _ => {}
    }
}

/// The request of `c` for `op`: the route's sample with the case's values put in, and the headers
/// to set.
fn build(op: &Op, ids: &Ids, c: &Case) -> (Sample, Vec<(String, String)>) {
    let s = sample(op.route, ids);
    let (mut path, mut query) = match s.path.split_once('?') {
        Some((p, q)) => (p.to_owned(), form_urlencoded::parse(q.as_bytes()).into_owned().collect::<Vec<_>>()),
        None => (s.path.clone(), Vec::new()),
    };
    let mut body = s.body.clone();
    let mut headers = Vec::new();
    for (i, v) in &c.values {
        match op.fields.get(*i).map(|f| &f.target) {
            Some(Target::Query(name)) => {
                query.retain(|(k, _)| k != name);
                query.push((name.clone(), as_query_text(v)));
            }
            Some(Target::Header(name)) => headers.push((name.clone(), as_query_text(v))),
            Some(Target::Body(at)) => set_body(body.get_or_insert_with(|| json!({})), at, v.clone()),
            None => {}
        }
    }
    if let (Some(id), true) = (&c.id, op.has_path_param) {
        // The template's `{…}` segment gets the id.
        let template: Vec<&str> = op.path.split('/').collect();
        let mut segments: Vec<String> = path.split('/').map(str::to_owned).collect();
        for (seg, t) in segments.iter_mut().zip(&template) {
            if t.starts_with('{') {
                seg.clone_from(id);
            }
        }
        path = segments.join("/");
    }
    if !query.is_empty() {
        let q = form_urlencoded::Serializer::new(String::new()).extend_pairs(&query).finish();
        path = format!("{path}?{q}");
    }
    (Sample { method: op.method.clone(), path, body, junk: s.junk }, headers)
}

/// What is wrong with an answer, if anything.
fn verdict(r: &Resp) -> Option<String> {
    if r.status == StatusCode::INTERNAL_SERVER_ERROR {
        return Some(format!("500 {:?}", r.code()));
    }
    if r.status.is_server_error() {
        let documented = matches!(r.status.as_u16(), 502..=504) && r.code().starts_with("upstream_");
        if !documented {
            return Some(format!("{} with code {:?} is not a documented upstream failure", r.status, r.code()));
        }
    }
    if r.status.is_client_error() || r.status.is_server_error() {
        if !r.is_problem() {
            return Some(format!("{} is not application/problem+json ({:?})", r.status, r.header("content-type")));
        }
        for m in ["type", "title", "code"] {
            if !r.json[m].is_string() {
                return Some(format!("{} problem lacks `{m}`", r.status));
            }
        }
        if r.json["status"] != r.status.as_u16() {
            return Some(format!("{} problem has status member {}", r.status, r.json["status"]));
        }
    }
    None
}

fn excerpt(s: &str) -> String {
    let mut e: String = s.chars().take(300).collect();
    if e.len() < s.len() {
        e.push('…');
    }
    e
}

/// A gateway with one object of every kind, the document it serves and its operations.
struct Harness {
    app: TestApp,
    ids: Ids,
    token: String,
    doc: Value,
    logs_before: usize,
    started: Instant,
    sent: usize,
    answers: BTreeMap<(u16, String), usize>,
    failures: Vec<String>,
    _rx: Receiver,
}

impl Harness {
    async fn start() -> Self {
        record_panics();
        let started = Instant::now();
        let app = spawn().await;
        let logs_before = captured_logs().len();
        let rx = Receiver::start().await;
        let token = app.admin("extremes");
        let ids = Ids::create(&app, &token, &rx).await;
        let served = request(&app, Method::GET, "/api-docs/openapi.json", None, None, None).await;
        assert_eq!(served.status, StatusCode::OK, "the served OpenAPI document");
        Self {
            app,
            ids,
            token,
            doc: served.json,
            logs_before,
            started,
            sent: 0,
            answers: BTreeMap::new(),
            failures: Vec::new(),
            _rx: rx,
        }
    }

    /// The served document's operations, checked to be all of them with their fields.
    fn operations<'t>(&self, table: &'t RouteTable) -> Vec<Op<'t>> {
        let ops = operations(&self.doc, &self.ids, table).unwrap_or_else(|e| panic!("{e}"));
        assert!(ops.len() >= 40, "only {} operations in the served document?", ops.len());
        let fields: usize = ops.iter().map(|o| o.fields.len()).sum();
        assert!(fields >= 60, "only {fields} query parameters and body properties in the served document?");
        let dates = ops.iter().flat_map(|o| &o.fields).filter(|f| f.kind == Kind::Date).count();
        assert!(dates >= 6, "only {dates} date fields found: is the document's `format: date` read?");
        ops
    }

    async fn check(&mut self, op: &Op<'_>, c: &Case) {
        let (s, headers) = build(op, &self.ids, c);
        let r = match self.send(op, &s, &headers).await {
            Ok(r) => r,
            Err(e) => {
                self.failures.push(format!("{} {}: {e}", op.method, excerpt(&s.path)));
                return;
            }
        };
        self.sent += 1;
        *self.answers.entry((r.status.as_u16(), r.code().to_owned())).or_default() += 1;
        if let Some(why) = verdict(&r) {
            let fed: Vec<String> = c
                .values
                .iter()
                .map(|(i, v)| format!("{:?} = {}", op.fields.get(*i).map(|f| &f.target), excerpt(&v.to_string())))
                .collect();
            self.failures.push(format!(
                "{} {}: {why}\n  fed: {} (path id {:?})\n  body sent: {}\n  answer: {}",
                op.method,
                excerpt(&s.path),
                fed.join("; "),
                c.id.as_deref().map(excerpt),
                s.body.map_or_else(String::new, |b| excerpt(&b.to_string())),
                excerpt(&r.text)
            ));
        }
    }

    /// Posts a platform notification of `kind` whose `data` is `payload`, genuinely sealed with the
    /// platform's (development) key, so the extremes reach the opener's output and the normaliser.
    async fn check_notification(&mut self, platform: &EnvelopeCodec, kind: &str, fed: &str, payload: &Value) {
        let data = match platform.seal(payload) {
            Ok(d) => d,
            Err(e) => panic!("sealing a notification: {e}"),
        };
        let body = json!({"type": kind, "data": data, "version": "1.0.0", "userNo": merchant_no()});
        let req = self.app.client.post(format!("{}/webhooks/merchant", self.app.base));
        let req = req.header("content-type", "application/json").body(body.to_string());
        let r = match tokio::time::timeout(HEADERS_TIMEOUT, req.send()).await {
            Err(_) => Err(format!("no status and headers within {HEADERS_TIMEOUT:?}")),
            Ok(Err(e)) => Err(format!("request failed (connection dropped?): {e}")),
            Ok(Ok(res)) => {
                let (status, headers) = (res.status(), res.headers().clone());
                let text = tokio::time::timeout(BODY_TIMEOUT, res.text()).await.ok().and_then(Result::ok);
                text.map(|text| Resp {
                    status,
                    headers,
                    json: serde_json::from_str(&text).unwrap_or(Value::Null),
                    text,
                })
                .ok_or_else(|| format!("{status}: no complete body"))
            }
        };
        self.sent += 1;
        let why = match &r {
            Ok(r) => {
                *self.answers.entry((r.status.as_u16(), r.code().to_owned())).or_default() += 1;
                verdict(r).map(|w| format!("{w}; answer: {}", excerpt(&r.text)))
            }
            Err(e) => Some(e.clone()),
        };
        if let Some(why) = why {
            self.failures.push(format!(
                "POST /webhooks/merchant, sealed {kind} with {fed}: {why}\n  payload: {}",
                excerpt(&payload.to_string())
            ));
        }
    }

    /// Like `support::send` (all scopes, a fresh Idempotency-Key for writes, an event stream not
    /// read), but a dropped connection — what a handler's panic looks like from outside — is a
    /// failure to report with the others, not a panic of the test.
    async fn send(&self, op: &Op<'_>, s: &Sample, headers: &[(String, String)]) -> Result<Resp, String> {
        let mut req = self.app.client.request(s.method.clone(), format!("{}{}", self.app.base, s.path));
        req = req.bearer_auth(&self.token);
        let mut fed_key = false;
        for (name, value) in headers {
            // Raw UTF-8 (obs-text) is sendable; control characters are not, by any client.
            if let Ok(v) = reqwest::header::HeaderValue::from_bytes(value.as_bytes()) {
                fed_key |= name.eq_ignore_ascii_case("idempotency-key");
                req = req.header(name.as_str(), v);
            }
        }
        if op.route.idempotent && !fed_key {
            req = req.header("Idempotency-Key", uuid::Uuid::new_v4().to_string());
        }
        if let Some(b) = &s.body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let res = tokio::time::timeout(HEADERS_TIMEOUT, req.send())
            .await
            .map_err(|_| format!("no status and headers within {HEADERS_TIMEOUT:?}"))?
            .map_err(|e| format!("request failed (connection dropped?): {e}"))?;
        let (status, headers) = (res.status(), res.headers().clone());
        if is_event_stream(&headers) {
            return Ok(Resp { status, headers, text: String::new(), json: Value::Null });
        }
        let text = tokio::time::timeout(BODY_TIMEOUT, res.text())
            .await
            .map_err(|_| format!("{status}: body not complete within {BODY_TIMEOUT:?}"))?
            .map_err(|e| format!("{status}: body failed: {e}"))?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Resp { status, headers, text, json })
    }

    async fn still_alive(&mut self, after: &str) {
        let r = request(&self.app, Method::GET, "/healthz", None, None, None).await;
        if r.status != StatusCode::OK {
            self.failures.push(format!("GET /healthz is {} after {after}", r.status));
        }
    }

    /// Fails with every bad answer, a panic anywhere, or a dead gateway.
    async fn finish(mut self, what: &str) {
        self.still_alive("the last request").await;
        eprintln!(
            "extremes ({what}): {} requests in {:?}; answers (status, code) → count: {:?}",
            self.sent,
            self.started.elapsed(),
            self.answers
        );
        let logs = captured_logs();
        let ours = logs.get(self.logs_before..).unwrap_or(&logs);
        if let Some(at) = ours.find("panicked at") {
            self.failures.push(format!("the logs show a panic: {}", excerpt(&ours[at..])));
        }
        self.failures.extend(recorded_panics());
        assert!(
            self.failures.is_empty(),
            "{what}: {} failures in {} requests:\n{}",
            self.failures.len(),
            self.sent,
            self.failures.join("\n")
        );
    }
}

/// The sweep: every field of every operation, alone, with each extreme of its kind, each wrong JSON
/// type and a few hostile strings; every path id with each hostile id.
#[tokio::test(flavor = "multi_thread")]
async fn every_documented_field_given_each_extreme_of_its_kind_answers_without_a_500_or_a_panic() {
    let mut h = Harness::start().await;
    let table = routes::table();
    let ops = h.operations(&table);
    let plan: Vec<(&Op, Vec<Case>)> = ops
        .iter()
        .map(|op| {
            let mut cases: Vec<Case> = op
                .fields
                .iter()
                .enumerate()
                .flat_map(|(i, f)| {
                    sweep_values(f.kind).into_iter().map(move |v| Case { values: vec![(i, v)], id: None })
                })
                .collect();
            if op.has_path_param {
                cases.extend(extreme_ids().into_iter().map(|id| Case { values: Vec::new(), id: Some(id) }));
            }
            if cases.is_empty() {
                cases.push(Case { values: Vec::new(), id: None });
            }
            (op, cases)
        })
        .collect();
    for (op, cases) in plan {
        for c in &cases {
            h.check(op, c).await;
        }
        h.still_alive(&op.name()).await;
    }
    h.finish("sweep").await;
}

/// Proptest cases: 1–3 fields of an operation at once given any extreme (mostly of their kind), and
/// a hostile path id a quarter of the time, [`CASES_PER_OPERATION`] per operation, from a seed.
#[tokio::test(flavor = "multi_thread")]
async fn random_extreme_values_in_any_documented_fields_never_get_a_500_a_panic_or_a_non_problem_error() {
    let seed = std::env::var("EXTREMES_SEED").ok().and_then(|s| s.trim().parse().ok()).unwrap_or_else(rand::random);
    eprintln!("extremes: EXTREMES_SEED={seed} (set it to replay this run)");
    let bytes: Vec<u8> = u64::to_le_bytes(seed).iter().copied().cycle().take(32).collect();
    let mut runner = TestRunner::new_with_rng(
        Config { cases: CASES_PER_OPERATION, failure_persistence: None, ..Config::default() },
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    let mut h = Harness::start().await;
    let table = routes::table();
    let ops = h.operations(&table);
    let plan: Vec<(&Op, Vec<Case>)> = ops
        .iter()
        .map(|op| {
            let nothing_to_vary = op.fields.is_empty() && !op.has_path_param;
            let cases = if nothing_to_vary { 1 } else { runner.config().cases };
            let strategy = case_for(op);
            let cases = (0..cases)
                .map(|_| strategy.new_tree(&mut runner).map(|t| t.current()).unwrap_or_else(|e| panic!("{e}")))
                .collect();
            (op, cases)
        })
        .collect();
    for (op, cases) in plan {
        for c in &cases {
            h.check(op, c).await;
        }
        h.still_alive(&op.name()).await;
    }
    let what = format!("proptest, EXTREMES_SEED={seed}");
    h.finish(&what).await;
}

/// One notification of every type the platform sends (as the normaliser's tests have them), about
/// `card` (the tenant's own, so a notification reaches routing, not just the opener).
fn notifications(card: &str) -> Vec<(&'static str, Value)> {
    vec![
        (
            "card_operate",
            json!({"orderId": "77", "cardId": card, "userReqNo": "cg1_extremes_ab", "opType": 15, "status": 1,
                   "amount": "10", "fee": "1.5", "createAt": "2026-01-01 08:00:00",
                   "cardInfo": {"cardNo": "5229290000004242", "cardVerifyNo": "123", "cardExpiryDate": "2028-12",
                                "localCurrency": "USD", "cardAlias": "a", "cardLabel": "l"}}),
        ),
        (
            "card_transaction",
            json!({"recordNo": "EXT-1", "cardId": card, "transactionTime": "2026-01-01 08:00:00",
                   "transCurrency": "EUR", "transCurrencyAmt": "10.5", "localCurrency": "USD", "localCurrencyAmt": "11.34",
                   "merchantName": "Shop", "merchantCategoryCode": "5999", "transType": "1", "transStatus": "1",
                   "transCategory": 1, "respCode": "000000", "respCodeDesc": "ok"}),
        ),
        (
            "trade_fee",
            json!({"cardId": card, "opType": 97, "receiptNo": "R1", "recordNo": "T1", "realCcy": "USD",
                   "realFee": "0.3", "createAt": "2026-01-01 08:00:00"}),
        ),
        (
            "card_3ds_otp",
            json!({"otp": "918273", "cardId": card, "cardNo": "5229290000004242", "transactionCurrency": "USD",
                   "transactionAmount": "12", "merchantName": "Shop"}),
        ),
        (
            "dpt_payment_bill",
            json!({"txId": "0xabc", "fromAddress": "A", "toAddress": "B", "paymentAmount": "100", "factAmount": "99.5",
                   "fee": "0.5", "serialNumber": "cg1_extremes_x", "orderNo": "D1",
                   "transactionTime": "2024-11-20T13:49:56.000+08:00"}),
        ),
        ("card_activation_code", json!({"cardId": card, "activationCode": "ABC123"})),
        ("card_activation_status", json!({"cardId": card, "status": "2"})),
    ]
}

/// A platform field's kind, from its (camelCase) name.
fn wire_kind(name: &str) -> Kind {
    let n = name.to_ascii_lowercase();
    if n.contains("time") || n.contains("createat") || n.contains("date") {
        Kind::Date
    } else if n.contains("amt") || n.contains("amount") || n.contains("fee") {
        Kind::Decimal
    } else if n.contains("ccy") || n.contains("currency") {
        Kind::Currency
    } else if n.contains("status") || n.contains("type") || n.contains("category") {
        Kind::Integer
    } else if n.ends_with("id") || n.ends_with("no") {
        Kind::Id
    } else {
        Kind::Text
    }
}

/// The platform's own date and expiry spellings, out of range.
fn wire_dates() -> Vec<Value> {
    vec![
        json!("+262143-12-31 23:59:59"),
        json!("-262143-01-01 00:00:00"),
        json!("262143-12-31 23:59:59"),
        json!("9999-12-31 23:59:60"),
        json!("2026-01-01 24:00:00"),
        json!("0000-00-00 00:00:00"),
        json!("-262143-01"),
        json!("262143-12"),
        json!("9999-99"),
        json!("12/99"),
        json!("00/00"),
    ]
}

/// Genuinely sealed platform notifications of every type, each field (top level and `cardInfo`'s)
/// given each extreme of its kind and every wrong JSON type, and whole payloads of the wrong type:
/// the opener's output and the normaliser never make a 500 or a panic.
#[tokio::test(flavor = "multi_thread")]
async fn sealed_platform_notifications_with_extreme_fields_never_get_a_500_or_a_panic() {
    let mut h = Harness::start().await;
    let platform = EnvelopeCodec::new(
        PrivateKey::parse(dev_keys::PLATFORM_PRIVATE_PEM).unwrap(),
        PrivateKey::parse(dev_keys::MERCHANT_PRIVATE_PEM).unwrap().public_key().unwrap(),
    );
    let card = h.ids.card.clone();
    for (kind, payload) in notifications(&card) {
        let mut fields: Vec<Vec<String>> = Vec::new();
        for (k, v) in payload.as_object().into_iter().flatten() {
            fields.push(vec![k.clone()]);
            for sub in v.as_object().into_iter().flat_map(|o| o.keys()) {
                fields.push(vec![k.clone(), sub.clone()]);
            }
        }
        for at in &fields {
            let wk = wire_kind(at.last().map_or("", String::as_str));
            let mut values = of_kind(wk);
            if wk == Kind::Date {
                values.extend(wire_dates());
            }
            values.extend(wrong_types());
            values.extend([json!(""), json!("x".repeat(10 * 1024)), json!("a\0b"), json!(i64::MIN), json!(u64::MAX)]);
            for v in values {
                let mut p = payload.clone();
                set_body(&mut p, at, v.clone());
                let fed = format!("{} = {}", at.join("."), excerpt(&v.to_string()));
                h.check_notification(&platform, kind, &fed, &p).await;
            }
        }
        for whole in wrong_types().into_iter().chain([json!("x"), json!(1), json!(-0.0)]) {
            h.check_notification(&platform, kind, &format!("the whole payload = {whole}"), &whole).await;
        }
        h.still_alive(&format!("sealed {kind} notifications")).await;
    }
    h.finish("sealed notifications").await;
}
