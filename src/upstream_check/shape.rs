//! The shape check: the fields our wire types expect (name, spellings, JSON type, date format, enum
//! codes) against the fields an answer actually carried. Pure: JSON in, findings out. Findings never
//! quote a value except short enum codes; dates are shown as a digit pattern (`dddd-dd-dd dd:dd:dd`).

use serde::Serialize;
use serde_json::Value;

use crate::{config::upstream::UpstreamCodes, upstream::formats::WireClock};

/// What a field must look like. Acceptance follows `upstream::wire::lenient`.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A JSON string.
    Text,
    /// An identifier: a string, or an integer number (19-digit ids arrive either way).
    Id,
    /// An amount: a number, or a numeric string.
    Amount,
    /// A whole number or a numeric string (enum codes such as `opType`).
    Int,
    /// `true`/`false`, `1`/`0`, or their strings.
    Bool,
    /// `upstream.formats.date`.
    Date,
    /// `upstream.formats.datetime` (ISO-8601 with an offset is also accepted).
    DateTime,
    /// One of `upstream.formats.expiry`.
    Expiry,
    Object(&'static [Field]),
    /// An array of objects.
    List(&'static [Field]),
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Text => "string",
            Kind::Id => "string or integer",
            Kind::Amount => "number",
            Kind::Int => "integer",
            Kind::Bool => "boolean",
            Kind::Date | Kind::DateTime | Kind::Expiry => "date string",
            Kind::Object(_) => "object",
            Kind::List(_) => "array",
        }
    }
}

/// Enum fields whose values must be among the configured codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codes {
    CardStatus,
    GroupStatus,
    OrderStatus,
    OpType,
    CardType,
    TransStatus,
}

impl Codes {
    /// The configured values and the config keys that hold them.
    fn allowed(self, c: &UpstreamCodes) -> Vec<(String, &'static str)> {
        match self {
            Codes::CardStatus => vec![
                (c.card_status_active.clone(), "card_status_active"),
                (c.card_status_cancelled.clone(), "card_status_cancelled"),
                (c.card_status_frozen.clone(), "card_status_frozen"),
                (c.card_status_pending.clone(), "card_status_pending"),
            ],
            Codes::GroupStatus => vec![
                (c.group_status_active.clone(), "group_status_active"),
                (c.group_status_frozen.clone(), "group_status_frozen"),
                (c.group_status_closed.clone(), "group_status_closed"),
            ],
            Codes::OrderStatus => vec![
                (c.order_status_pending.clone(), "order_status_pending"),
                (c.order_status_processing.clone(), "order_status_processing"),
                (c.order_status_success.clone(), "order_status_success"),
                (c.order_status_failed.clone(), "order_status_failed"),
            ],
            Codes::OpType => vec![
                (c.op_type_apply.to_string(), "op_type_apply"),
                (c.op_type_recharge.to_string(), "op_type_recharge"),
                (c.op_type_refund.to_string(), "op_type_refund"),
                (c.op_type_cancel.to_string(), "op_type_cancel"),
                (c.op_type_group_apply.to_string(), "op_type_group_apply"),
            ],
            Codes::CardType => vec![
                (c.card_type_regular.clone(), "card_type_regular"),
                (c.card_type_shared.clone(), "card_type_shared"),
            ],
            Codes::TransStatus => vec![
                (c.trans_status_success.clone(), "trans_status_success"),
                (c.trans_status_failure.clone(), "trans_status_failure"),
            ],
        }
    }
}

/// One expected field.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    /// Other spellings the wire type accepts (serde aliases).
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    /// The wire type fails to decode without it.
    pub required: bool,
    pub codes: Option<Codes>,
}

pub const fn req(name: &'static str, kind: Kind) -> Field {
    Field { name, aliases: &[], kind, required: true, codes: None }
}

pub const fn opt(name: &'static str, kind: Kind) -> Field {
    Field { name, aliases: &[], kind, required: false, codes: None }
}

impl Field {
    pub const fn aka(self, aliases: &'static [&'static str]) -> Self {
        Field { aliases, ..self }
    }
    pub const fn coded(self, codes: Codes) -> Self {
        Field { codes: Some(codes), ..self }
    }
}

/// The top of an answer.
#[derive(Debug, Clone, Copy)]
pub enum Root {
    Object(&'static [Field]),
    /// `{totalCount, currentPage, pageSize, list: [item]}`.
    Page(&'static [Field]),
    /// A bare array of items, or a page of them.
    ListOrPage(&'static [Field]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, changes nothing (an optional field the platform did not send).
    Info,
    /// Works today, but the configuration does not describe the platform (extra fields, ISO dates).
    Warn,
    /// The gateway cannot use this answer as configured.
    Fail,
}

/// One difference between expectation and answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// JSON path, items of a list as `list[]`.
    pub path: String,
    pub severity: Severity,
    /// `missing`, `absent_optional`, `extra`, `type_differs`, `date_format`, `unknown_code`.
    pub problem: &'static str,
    pub detail: String,
    /// The configuration key to change, when one would fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_key: Option<String>,
}

/// What a check needs besides the answer: the configured formats and codes.
pub struct Expect<'a> {
    pub clock: &'a WireClock,
    pub datetime_format: &'a str,
    pub date_format: &'a str,
    pub codes: &'a UpstreamCodes,
}

/// Items of a list checked at most (findings are per field path, so more add nothing).
const MAX_ITEMS: usize = 50;

/// Compares an opened result against the expected shape. Findings are de-duplicated per path.
pub fn check(value: &Value, root: Root, expect: &Expect<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    match (root, value) {
        (Root::Object(fields), Value::Object(_)) => object(value, fields, "", expect, &mut out),
        (Root::Page(items) | Root::ListOrPage(items), Value::Object(_)) => {
            object(value, &page(items), "", expect, &mut out)
        }
        (Root::ListOrPage(items), Value::Array(list)) => {
            for item in list.iter().take(MAX_ITEMS) {
                object(item, items, "[]", expect, &mut out);
            }
        }
        (root, other) => out.push(Finding {
            path: ".".into(),
            severity: Severity::Fail,
            problem: "type_differs",
            detail: format!(
                "expected {}, got {}",
                match root {
                    Root::Object(_) | Root::Page(_) => "an object",
                    Root::ListOrPage(_) => "an array or a page object",
                },
                json_type(other)
            ),
            config_key: None,
        }),
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|f| seen.insert((f.path.clone(), f.problem)));
    out
}

/// The paging wrapper around `items`.
fn page(items: &'static [Field]) -> [Field; 4] {
    [
        opt("totalCount", Kind::Int),
        opt("currentPage", Kind::Int),
        opt("pageSize", Kind::Int),
        opt("list", Kind::List(items)).aka(&["data", "records"]),
    ]
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "decimal number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
}

fn object(v: &Value, fields: &[Field], prefix: &str, expect: &Expect<'_>, out: &mut Vec<Finding>) {
    let Value::Object(map) = v else {
        out.push(Finding {
            path: if prefix.is_empty() { ".".into() } else { prefix.to_owned() },
            severity: Severity::Fail,
            problem: "type_differs",
            detail: format!("expected object, got {}", json_type(v)),
            config_key: None,
        });
        return;
    };
    for f in fields {
        let found = std::iter::once(f.name)
            .chain(f.aliases.iter().copied())
            .find_map(|n| map.get(n).filter(|x| !x.is_null()).map(|x| (n, x)));
        let path = join(prefix, f.name);
        match found {
            None if f.required => out.push(Finding {
                path,
                severity: Severity::Fail,
                problem: "missing",
                detail: spellings(f),
                config_key: None,
            }),
            None => out.push(Finding {
                path,
                severity: Severity::Info,
                problem: "absent_optional",
                detail: "optional field not sent".into(),
                config_key: None,
            }),
            Some((_, x)) => value(x, f, &path, expect, out),
        }
    }
    for key in map.keys() {
        if !fields.iter().any(|f| f.name == key || f.aliases.contains(&key.as_str())) {
            out.push(Finding {
                path: join(prefix, key),
                severity: Severity::Warn,
                problem: "extra",
                detail: "not read by the gateway".into(),
                config_key: None,
            });
        }
    }
}

fn spellings(f: &Field) -> String {
    if f.aliases.is_empty() {
        format!("required field `{}` not sent", f.name)
    } else {
        format!("required field `{}` (or {}) not sent", f.name, f.aliases.join(", "))
    }
}

/// Digits as `d`, letters kept: shows a date's format without its value.
pub fn pattern(s: &str) -> String {
    s.chars().take(40).map(|c| if c.is_ascii_digit() { 'd' } else { c }).collect()
}

fn value(x: &Value, f: &Field, path: &str, expect: &Expect<'_>, out: &mut Vec<Finding>) {
    let differs = |out: &mut Vec<Finding>, severity, detail: String| {
        out.push(Finding { path: path.to_owned(), severity, problem: "type_differs", detail, config_key: None })
    };
    let numeric_text = |s: &str| !s.trim().is_empty() && s.trim().parse::<f64>().is_ok_and(f64::is_finite);
    match (f.kind, x) {
        (Kind::Text, Value::String(_)) | (Kind::Id, Value::String(_)) => {}
        (Kind::Id, Value::Number(n)) if !n.is_f64() => {}
        (Kind::Amount, Value::Number(_)) => {}
        (Kind::Amount, Value::String(s)) if numeric_text(s) => {
            differs(out, Severity::Info, "expected number, got a numeric string (accepted)".into())
        }
        (Kind::Int, Value::Number(n)) if !n.is_f64() => {}
        (Kind::Int, Value::String(s)) if s.trim().parse::<i64>().is_ok() => {}
        (Kind::Bool, Value::Bool(_)) => {}
        (Kind::Bool, Value::Number(n)) if n.as_u64().is_some_and(|n| n <= 1) => {}
        (Kind::Bool, Value::String(s)) if matches!(s.to_ascii_lowercase().as_str(), "true" | "false" | "1" | "0") => {}
        (Kind::Date, Value::String(s)) => {
            if expect.clock.parse_date(s).is_none() {
                out.push(date_finding(path, s, expect.date_format, "upstream.formats.date", Severity::Fail));
            }
        }
        (Kind::DateTime, Value::String(s)) => {
            let exact = chrono::NaiveDateTime::parse_from_str(s.trim(), expect.datetime_format).is_ok();
            if !exact {
                let accepted = expect.clock.parse_datetime(s).is_some();
                let sev = if accepted { Severity::Warn } else { Severity::Fail };
                out.push(date_finding(path, s, expect.datetime_format, "upstream.formats.datetime", sev));
            }
        }
        (Kind::Expiry, Value::String(s)) => {
            if expect.clock.parse_expiry(s).is_none() {
                out.push(date_finding(path, s, "upstream.formats.expiry", "upstream.formats.expiry", Severity::Fail));
            }
        }
        (Kind::Object(fields), Value::Object(_)) => object(x, fields, path, expect, out),
        (Kind::List(fields), Value::Array(items)) => {
            let p = format!("{path}[]");
            for item in items.iter().take(MAX_ITEMS) {
                object(item, fields, &p, expect, out);
            }
        }
        (kind, other) => differs(out, Severity::Fail, format!("expected {}, got {}", kind.name(), json_type(other))),
    }
    if let Some(codes) = f.codes {
        let got = match x {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        if let Some(got) = got {
            let allowed = codes.allowed(expect.codes);
            if !allowed.iter().any(|(v, _)| *v == got) {
                // Enum codes are short; anything long is not shown (it could be card data).
                let shown = if got.len() <= 6 { format!("{got:?}") } else { "a long value".to_owned() };
                let keys: Vec<String> = allowed.iter().map(|(v, k)| format!("{k} = {v:?}")).collect();
                out.push(Finding {
                    path: path.to_owned(),
                    severity: Severity::Fail,
                    problem: "unknown_code",
                    detail: format!("{shown} is none of the configured codes ({})", keys.join(", ")),
                    config_key: Some(format!("upstream.codes.{}", allowed.first().map_or("", |(_, k)| *k))),
                });
            }
        }
    }
}

fn date_finding(path: &str, s: &str, expected: &str, key: &str, severity: Severity) -> Finding {
    let accepted = if severity == Severity::Fail { "not parseable" } else { "accepted as ISO-8601" };
    Finding {
        path: path.to_owned(),
        severity,
        problem: "date_format",
        detail: format!("expected {expected}, got `{}` ({accepted})", pattern(s)),
        config_key: Some(key.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::Settings;

    const ITEM: &[Field] = &[
        req("cardId", Kind::Id),
        opt("amount", Kind::Amount),
        opt("createTime", Kind::DateTime),
        opt("cardStatus", Kind::Text).coded(Codes::CardStatus),
        opt("transactionTime", Kind::DateTime).aka(&["transTime"]),
    ];

    fn run(v: Value, root: Root) -> Vec<Finding> {
        let s = Settings::defaults().unwrap();
        let clock = WireClock::new(&s.upstream.formats).unwrap();
        let expect = Expect {
            clock: &clock,
            datetime_format: &s.upstream.formats.datetime,
            date_format: &s.upstream.formats.date,
            codes: &s.upstream.codes,
        };
        check(&v, root, &expect)
    }

    fn problems(f: &[Finding]) -> Vec<(String, &'static str)> {
        f.iter().filter(|f| f.severity > Severity::Info).map(|f| (f.path.clone(), f.problem)).collect()
    }

    #[test]
    fn a_matching_answer_has_no_warnings() {
        let v = json!({"cardId": "1", "amount": 1.5, "createTime": "2026-01-02 03:04:05", "cardStatus": "1"});
        assert_eq!(problems(&run(v, Root::Object(ITEM))), vec![]);
    }

    #[test]
    fn missing_extra_and_type_differences_are_named() {
        let v = json!({"amount": true, "colour": "red"});
        let p = problems(&run(v, Root::Object(ITEM)));
        assert!(p.contains(&("cardId".into(), "missing")), "{p:?}");
        assert!(p.contains(&("amount".into(), "type_differs")), "{p:?}");
        assert!(p.contains(&("colour".into(), "extra")), "{p:?}");
    }

    #[test]
    fn aliases_count_as_the_field() {
        let v = json!({"cardId": 7, "transTime": "2026-01-02 03:04:05"});
        let f = run(v, Root::Object(ITEM));
        assert_eq!(problems(&f), vec![]);
        assert!(!f.iter().any(|f| f.path == "transactionTime"));
    }

    #[test]
    fn iso_dates_are_accepted_but_name_the_format_key_without_the_value() {
        let f = run(json!({"cardId": "1", "createTime": "2026-01-02T03:04:05+08:00"}), Root::Object(ITEM));
        let d = f.iter().find(|f| f.problem == "date_format").unwrap();
        assert_eq!(d.severity, Severity::Warn);
        assert_eq!(d.config_key.as_deref(), Some("upstream.formats.datetime"));
        assert!(d.detail.contains("dddd-dd-ddTdd:dd:dd+dd:dd"), "{}", d.detail);
        let f = run(json!({"cardId": "1", "createTime": "02/01/2026"}), Root::Object(ITEM));
        assert_eq!(f.iter().find(|f| f.problem == "date_format").unwrap().severity, Severity::Fail);
    }

    #[test]
    fn unknown_codes_name_the_codes_key_and_hide_long_values() {
        let f = run(json!({"cardId": "1", "cardStatus": "9"}), Root::Object(ITEM));
        let c = f.iter().find(|f| f.problem == "unknown_code").unwrap();
        assert_eq!(c.config_key.as_deref(), Some("upstream.codes.card_status_active"));
        let f = run(json!({"cardId": "1", "cardStatus": "4111111111111111"}), Root::Object(ITEM));
        let c = f.iter().find(|f| f.problem == "unknown_code").unwrap();
        assert!(!c.detail.contains("4111"), "{}", c.detail);
    }

    #[test]
    fn pages_and_bare_lists_check_every_item_once_per_path() {
        let page = json!({"totalCount": 2, "list": [{"cardId": "1"}, {"x": 1}]});
        let p = problems(&run(page, Root::Page(ITEM)));
        assert_eq!(p, vec![("list[].cardId".into(), "missing"), ("list[].x".into(), "extra")]);
        let bare = json!([{"cardId": "1"}, {"cardId": "2", "x": 1}, {"cardId": "3", "x": 2}]);
        assert_eq!(problems(&run(bare, Root::ListOrPage(ITEM))), vec![("[].x".into(), "extra")]);
        let p = problems(&run(json!("text"), Root::Page(ITEM)));
        assert_eq!(p, vec![(".".into(), "type_differs")]);
    }
}
