//! Declares the response headers the gateway sends (issue 11: "every response header declared"), from
//! the same route policy the middlewares read: `X-Request-Id` on every answer; `RateLimit` and
//! `RateLimit-Policy` where a tenant's limit applies; `Retry-After` where an answer says when to try
//! again; `Idempotent-Replayed` on the answers of idempotent routes; `Location` on every `201`.
//! Only `X-Request-Id` and `Location` are required: the others depend on the request (a replay, a
//! limiter that is configured, a refusal that knows its wait).

use serde_json::{Map, Value, json};

use crate::policy::{Access, RouteTable};

/// `components.headers`: each header described once and referenced everywhere.
fn components() -> Value {
    json!({
        "X-Request-Id": {
            "description": "The request's id: the caller's `X-Request-Id` when well-formed (1-128 characters of \
                `[A-Za-z0-9._:-]`, no card number), else a new UUID. Logs, traces and problem bodies \
                (`request_id`) carry the same id.",
            "required": true,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
        },
        "RateLimit": {
            "description": "IETF `RateLimit` (draft-ietf-httpapi-ratelimit-headers): the tenant's remaining \
                requests `r` of this route class and the seconds `t` until the quota refills, e.g. \
                `\"write\";r=7;t=2`.",
            "schema": {"type": "string"},
        },
        "RateLimit-Policy": {
            "description": "The quota of this route class: burst `q` per window `w` seconds, e.g. `\"write\";q=20;w=2`.",
            "schema": {"type": "string"},
        },
        "Retry-After": {
            "description": "Seconds to wait before trying again (rate limit, a key still in flight, an outcome \
                being confirmed, a store that is unavailable).",
            "schema": {"type": "integer", "minimum": 0},
        },
        "Idempotent-Replayed": {
            "description": "`true` when this answer is the stored answer of an earlier request with the same \
                `Idempotency-Key`; absent on a first execution.",
            "schema": {"type": "string", "enum": ["true"]},
        },
        "Location": {
            "description": "The created object's URL (its read route; for objects without one, the operation's).",
            "required": true,
            "schema": {"type": "string", "pattern": "^/v1/[a-z-]+(/[a-z-]+)?/[A-Za-z0-9_-]{1,64}$"},
        },
    })
}

/// The headers of one response: `(name, required on this response)`.
fn for_response(public: bool, idempotent: bool, status: &str) -> Vec<&'static str> {
    let mut names = vec!["X-Request-Id"];
    let limited = !public && status != "401";
    if limited {
        names.extend(["RateLimit", "RateLimit-Policy"]);
    }
    if matches!(status, "202" | "409" | "429" | "503") {
        names.push("Retry-After");
    }
    if idempotent {
        names.push("Idempotent-Replayed");
    }
    if status == "201" {
        names.push("Location");
    }
    names
}

/// Adds `components.headers` and each response's `headers`; returns operations it could not place
/// (a path the route table lacks), which a test keeps empty.
pub fn apply(doc: &mut Value, table: &RouteTable) -> Vec<String> {
    let mut missing = Vec::new();
    if let Some(Value::Object(c)) = doc.get_mut("components") {
        c.insert("headers".to_owned(), components());
    }
    let Some(Value::Object(paths)) = doc.get_mut("paths") else { return vec!["paths".to_owned()] };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            let Ok(m) = method.to_ascii_uppercase().parse::<actix_web::http::Method>() else { continue };
            let Some(policy) = table.find(&m, path) else {
                missing.push(format!("{method} {path}"));
                continue;
            };
            let Some(Value::Object(responses)) = op.get_mut("responses") else { continue };
            for (status, response) in responses.iter_mut() {
                let mut headers = Map::new();
                for name in for_response(policy.access == Access::Public, policy.idempotent, status) {
                    headers.insert(name.to_owned(), json!({"$ref": format!("#/components/headers/{name}")}));
                }
                if let Some(r) = response.as_object_mut() {
                    r.insert("headers".to_owned(), Value::Object(headers));
                }
            }
        }
    }
    missing
}
