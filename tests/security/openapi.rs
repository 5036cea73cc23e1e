//! The OpenAPI contract: the committed document is the generated one, it is valid OpenAPI 3.1 (the
//! official schema, vendored in tests/fixtures), every `$ref` resolves, every operation names its
//! handler and declares its tag, security and problem responses, and every documented operation
//! answers on a running gateway with a documented status, content type and body (an event stream by
//! its content type: it never ends, so it is not read).

use std::collections::{BTreeMap, BTreeSet};

use card_gateway::{
    openapi::document_json,
    routes::{
        self,
        table::{Access, RoutePolicy},
    },
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    common::Resp,
    support::{
        Ids, Receiver, card_transaction_event, merchant_no, recent, request, sample, send, spawn, spawn_configured,
    },
};

const REGENERATE: &str = "cargo run -- openapi > openapi/openapi.json";
const METHODS: [&str; 5] = ["get", "post", "patch", "delete", "put"];

fn repo_file(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn committed() -> Value {
    serde_json::from_str(&repo_file("openapi/openapi.json")).expect("openapi/openapi.json is JSON")
}

/// Every operation of the document: (METHOD, path, operation object).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.push((m.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

fn is_docs_route(path: &str) -> bool {
    path.starts_with("/swagger-ui") || path.starts_with("/api-docs")
}

fn policy<'t>(table: &'t routes::table::RouteTable, method: &str, path: &str) -> &'t RoutePolicy {
    table
        .find(&method.parse().unwrap(), path)
        .unwrap_or_else(|| panic!("{method} {path} is documented but not in the route table"))
}

#[test]
fn the_committed_openapi_document_is_the_generated_one() {
    let generated = document_json(&routes::table());
    let on_disk = repo_file("openapi/openapi.json");
    if generated != on_disk {
        let line = generated.lines().zip(on_disk.lines()).position(|(a, b)| a != b).map_or_else(
            || format!("lengths differ ({} vs {} lines)", generated.lines().count(), on_disk.lines().count()),
            |i| {
                format!(
                    "first difference at line {}:\n  generated: {}\n  committed: {}",
                    i + 1,
                    generated.lines().nth(i).unwrap_or(""),
                    on_disk.lines().nth(i).unwrap_or("")
                )
            },
        );
        panic!("openapi/openapi.json is stale; regenerate it with `{REGENERATE}` and commit it ({line})");
    }
}

fn oas31_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&repo_file("tests/fixtures/openapi-3.1-schema.json")).unwrap();
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the OAS 3.1 schema compiles")
}

fn oas_errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

#[test]
fn the_openapi_document_is_valid_openapi_3_1() {
    let doc = committed();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")), "openapi = {}", doc["openapi"]);
    let v = oas31_validator();
    let errors = oas_errors(&v, &doc);
    assert!(errors.is_empty(), "openapi/openapi.json is not valid OpenAPI 3.1:\n{}", errors.join("\n"));

    // Controls: the validator does catch broken documents.
    let mut no_info = doc.clone();
    no_info.as_object_mut().unwrap().remove("info");
    assert!(!oas_errors(&v, &no_info).is_empty(), "a document without info must be invalid");
    let mut old = doc.clone();
    old["openapi"] = json!("3.0.3");
    assert!(!oas_errors(&v, &old).is_empty(), "a 3.0 version string must be invalid");
    let mut bad_param = doc.clone();
    bad_param["paths"]["/v1/cards/{id}"]["get"]["parameters"][0]["in"] = json!("body");
    assert!(!oas_errors(&v, &bad_param).is_empty(), "`in: body` (Swagger 2) must be invalid");
}

/// Every JSON Schema in the document (component schemas, parameter and media-type schemas).
fn schemas(v: &Value, at: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                let here = format!("{at}/{k}");
                if k == "schema" {
                    out.push((here.clone(), child.clone()));
                }
                schemas(child, here, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                schemas(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_schema_in_the_document_is_json_schema_2020_12_without_openapi_3_0_leftovers() {
    let doc = committed();
    let mut all: Vec<(String, Value)> = Vec::new();
    for (name, s) in doc["components"]["schemas"].as_object().unwrap() {
        all.push((format!("#/components/schemas/{name}"), s.clone()));
    }
    schemas(&doc["paths"], "#/paths".into(), &mut all);
    assert!(all.len() > 50, "found only {} schemas", all.len());
    let mut problems = Vec::new();
    for (at, s) in &all {
        if let Err(e) = jsonschema::meta::validate(s) {
            problems.push(format!("{at}: not a valid JSON Schema: {e}"));
        }
        let text = s.to_string();
        if text.contains("\"nullable\"") {
            problems.push(format!("{at}: `nullable` is OpenAPI 3.0; 3.1 uses type [\"…\", \"null\"]"));
        }
        if text.contains("\"exclusiveMinimum\":true") || text.contains("\"exclusiveMaximum\":true") {
            problems.push(format!("{at}: boolean exclusiveMinimum/Maximum is OpenAPI 3.0"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref") {
                out.push(r.clone());
            }
            o.values().for_each(|c| refs(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| refs(c, out)),
        _ => {}
    }
}

#[test]
fn every_ref_in_the_document_resolves() {
    let doc = committed();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    let dangling: BTreeSet<&String> =
        all.iter().filter(|r| !r.starts_with("#/") || doc.pointer(&r[1..]).is_none()).collect();
    assert!(dangling.is_empty(), "unresolvable $ref: {dangling:?}");
    // And every component schema is used (a dangling definition usually means a renamed type).
    let used: BTreeSet<&str> = all.iter().filter_map(|r| r.strip_prefix("#/components/schemas/")).collect();
    let unused: Vec<&String> =
        doc["components"]["schemas"].as_object().unwrap().keys().filter(|k| !used.contains(k.as_str())).collect();
    assert!(unused.is_empty(), "component schemas nothing refers to: {unused:?}");
}

/// `(METHOD, path) → handler function name`, read from the `routes!` list in src/routes/mod.rs.
fn handlers() -> BTreeMap<(String, String), String> {
    let src = repo_file("src/routes/mod.rs");
    let mut out = BTreeMap::new();
    for line in src.lines().map(str::trim) {
        let Some((method, rest)) = line.split_once(' ') else { continue };
        if !METHODS.contains(&method.to_lowercase().as_str()) || method != method.to_uppercase() {
            continue;
        }
        let Some((path, rest)) = rest.trim().strip_prefix('"').and_then(|r| r.split_once('"')) else { continue };
        let Some(handler) = rest.trim().strip_prefix("=>").and_then(|r| r.split(',').next()) else { continue };
        let name = handler.trim().rsplit("::").next().unwrap().to_owned();
        out.insert((method.to_owned(), path.to_owned()), name);
    }
    out
}

#[test]
fn every_operation_names_its_handler_and_declares_tag_security_and_problem_responses() {
    let doc = committed();
    let table = routes::table();
    let handlers = handlers();
    assert_eq!(handlers.len(), table.routes().len(), "parsed handlers of src/routes/mod.rs: {handlers:?}");
    let declared_tags: BTreeSet<&str> =
        doc["tags"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(doc.get("security").is_none(), "no document-wide security: each operation declares its own");
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let at = format!("{method} {path}");
        let p = policy(&table, &method, &path);
        let handler = &handlers[&(method.clone(), path.clone())];
        if op["operationId"].as_str() != Some(handler.as_str()) {
            problems.push(format!("{at}: operationId {} is not the handler name {handler}", op["operationId"]));
        }
        if !ids.insert(op["operationId"].to_string()) {
            problems.push(format!("{at}: duplicate operationId {}", op["operationId"]));
        }
        let tags: Vec<&str> =
            op["tags"].as_array().map(|t| t.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        if tags.is_empty() || !tags.iter().all(|t| declared_tags.contains(t)) {
            problems.push(format!("{at}: tags {tags:?} (declared: {declared_tags:?})"));
        }
        let expected_security = match p.access {
            Access::Public => Value::Null,
            Access::Authenticated => json!([{"bearer": []}]),
            Access::Scope(s) => json!([{"bearer": [s.as_str()]}]),
        };
        let security = op.get("security").cloned().unwrap_or(Value::Null);
        let public_ok = p.access == Access::Public && (security.is_null() || security == json!([]));
        if !public_ok && security != expected_security {
            problems.push(format!("{at}: security {security}, the route table says {expected_security}"));
        }
        let responses = op["responses"].as_object().unwrap();
        if !responses.keys().any(|k| k.starts_with('2')) {
            problems.push(format!("{at}: no success response"));
        }
        for (code, r) in responses {
            let is_error = code.starts_with('4') || code.starts_with('5');
            let content = r["content"].as_object().cloned().unwrap_or_default();
            if is_error
                && (content.keys().collect::<Vec<_>>() != ["application/problem+json"]
                    || content["application/problem+json"]["schema"]["$ref"] != "#/components/schemas/Problem")
                && !(p.access == Access::Public && code == "503")
            {
                problems.push(format!("{at}: {code} is not an application/problem+json Problem: {r}"));
            }
        }
        let mut required: Vec<&str> = Vec::new();
        if p.access != Access::Public {
            required.extend(["401", "429", "500"]);
        }
        if matches!(p.access, Access::Scope(_)) {
            required.push("403");
        }
        if path.contains('{') {
            required.push("404");
        }
        if p.idempotent {
            required.extend(["400", "409", "422", "503"]);
        }
        for code in required {
            if !responses.contains_key(code) {
                problems.push(format!("{at}: does not document {code}"));
            }
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let has = |name: &str, location: &str| {
            params.iter().any(|x| x["name"] == name && x["in"] == location && x["required"] == true)
        };
        if p.idempotent && !has("Idempotency-Key", "header") {
            problems.push(format!("{at}: no required Idempotency-Key header parameter"));
        }
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            if !has(name, "path") {
                problems.push(format!("{at}: path parameter `{name}` is not documented as required"));
            }
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// Validates `body` against the documented schema of one response (refs into the document's
/// components resolve because the document's components travel with it).
fn body_errors(doc: &Value, schema: &Value, body: &Value) -> Vec<String> {
    let mut wrapped = schema.as_object().cloned().unwrap_or_default();
    wrapped.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    wrapped.insert("components".into(), doc["components"].clone());
    let v = jsonschema::draft202012::new(&Value::Object(wrapped)).expect("the response schema compiles");
    v.iter_errors(body).map(|e| format!("{e} at {}", e.instance_path())).take(5).collect()
}

/// The documented response headers: each required one is sent, and each one sent matches its schema
/// (as text: `Retry-After` is validated as the integer it spells).
fn header_errors(doc: &Value, documented: &Value, at: &str, r: &Resp, problems: &mut Vec<String>) {
    let Some(headers) = documented["headers"].as_object() else { return };
    for (name, h) in headers {
        let h = match h["$ref"].as_str().and_then(|p| p.strip_prefix("#/components/headers/")) {
            Some(n) => &doc["components"]["headers"][n],
            None => h,
        };
        let Some(value) = r.header(name) else {
            if h["required"] == true {
                problems.push(format!("{at}: {} without its required `{name}` header", r.status));
            }
            continue;
        };
        let as_json = match h["schema"]["type"].as_str() {
            Some("integer") => value.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(value)),
            _ => json!(value),
        };
        for e in body_errors(doc, &h["schema"], &as_json) {
            problems.push(format!("{at}: header `{name}: {value}` does not match its schema: {e}"));
        }
    }
}

/// Checks one live answer against its operation in the document.
fn check_answer(doc: &Value, op: &Value, at: &str, r: &Resp, problems: &mut Vec<String>, checked: &mut usize) {
    let code = r.status.as_u16().to_string();
    if r.status == StatusCode::METHOD_NOT_ALLOWED || r.code() == "route_not_found" {
        problems.push(format!("{at}: the documented route does not exist: {} {}", r.status, r.text));
        return;
    }
    if r.status.is_server_error() {
        problems.push(format!("{at}: {} {}", r.status, r.text));
    }
    let Some(documented) = op["responses"].get(&code).or_else(|| op["responses"].get("default")) else {
        problems.push(format!("{at}: answered {} which is not documented: {}", r.status, r.text));
        return;
    };
    header_errors(doc, documented, at, r, problems);
    let ct = r.header("content-type").unwrap_or("").split(';').next().unwrap_or("").trim().to_owned();
    let Some(content) = documented["content"].as_object().filter(|c| !c.is_empty()) else {
        // Documented without a body (204): there must be none.
        *checked += 1;
        if !r.text.is_empty() {
            problems.push(format!("{at}: {code} is documented without a body but answered {ct:?}: {}", r.text));
        }
        return;
    };
    let Some(media) = content.get(&ct) else {
        problems.push(format!("{at}: {code} answered {ct:?}, documented {:?}", content.keys().collect::<Vec<_>>()));
        return;
    };
    if ct == "text/event-stream" {
        // A stream that never ends by itself: its content type is the contract (checked above).
        *checked += 1;
        return;
    }
    if let Some(schema) = media.get("schema") {
        *checked += 1;
        // A non-JSON body (text/plain) is validated as the string it is.
        let body = if ct.ends_with("json") { r.json.clone() } else { Value::String(r.text.clone()) };
        let errors = body_errors(doc, schema, &body);
        if !errors.is_empty() {
            problems.push(format!(
                "{at}: {code} body does not match its documented schema: {errors:?}\n  body: {}",
                r.text
            ));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_documented_operation_answers_on_a_running_gateway_with_a_documented_status() {
    let doc = committed();
    let table = routes::table();
    let documented: BTreeSet<(String, String)> =
        operations(&doc).into_iter().map(|(m, p, _)| (m, p)).filter(|(_, p)| !is_docs_route(p)).collect();
    let routed: BTreeSet<(String, String)> = table
        .routes()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .filter(|(_, p)| !is_docs_route(p))
        .collect();
    assert_eq!(
        documented.difference(&routed).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented but not routed"
    );
    assert_eq!(
        routed.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "routed but not documented"
    );

    let app = spawn().await;
    let rx = Receiver::start().await;
    let t = app.admin("docs");
    let real = Ids::create(&app, &t, &rx).await;
    let mut problems = Vec::new();
    let mut checked = 0;
    for (ids, label) in [(Ids::nonexistent(), "nonexistent ids"), (real, "real ids")] {
        for (method, path, op) in operations(&doc) {
            let route = policy(&table, &method, &path);
            let r = send(&app, route, &sample(route, &ids), Some(&t), None).await;
            check_answer(&doc, &op, &format!("{method} {path} ({label})"), &r, &mut problems, &mut checked);
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    assert_eq!(checked, 2 * documented.len(), "every answer was checked against a documented body schema");
    // Control: the body check does reject a wrong body.
    let card = json!({"$ref": "#/components/schemas/Card"});
    assert!(!body_errors(&doc, &card, &json!({"id": 7, "status": "exploded"})).is_empty());
    // Control: the header check rejects a 201 without its Location and a malformed X-Request-Id, and
    // `Operation` (a oneOf keyed by kind) rejects a result of another kind's shape.
    let created = &operation(&doc, "POST", "/v1/cards")["responses"]["201"];
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-request-id", "not a valid id!".parse().unwrap());
    let bare = Resp { status: StatusCode::CREATED, headers, text: String::new(), json: Value::Null };
    let mut found = Vec::new();
    header_errors(&doc, created, "control", &bare, &mut found);
    assert_eq!(found.len(), 2, "{found:?}");
    let operation_schema = json!({"$ref": "#/components/schemas/Operation"});
    let op = json!({"id": "op_1", "kind": "card.create", "status": "succeeded", "user_req_no": "r",
        "created_at": "2026-12-04T00:00:00Z", "result": {"object": "funds_movement", "holder": "card", "id": "1",
        "direction": "recharge", "amount": "1.00", "currency": "USD"}});
    assert!(!body_errors(&doc, &operation_schema, &op).is_empty(), "a card.create whose result is a funds movement");

    // The document the running gateway serves is the committed one, and Swagger UI is up.
    let served = app.send(Method::GET, "/api-docs/openapi.json", None, None, None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert!(served.json == doc, "the served /api-docs/openapi.json differs from openapi/openapi.json");
    let ui = app.send(Method::GET, "/swagger-ui/", None, None, None).await;
    assert_eq!(ui.status, StatusCode::OK, "{}", ui.text);
}

/// The operation `METHOD path` of the document.
fn operation(doc: &Value, method: &str, path: &str) -> Value {
    let op = doc["paths"][path][method.to_lowercase()].clone();
    assert!(op.is_object(), "{method} {path} is not documented");
    op
}

/// The documented contract holds beyond the samples for the webhook routes too: a genuine platform
/// notification, refusals of the inbound route, stream errors, a replay to a disabled endpoint, an
/// endpoint create retried after its idempotency record expired.
#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_routes_other_answers_are_documented_too() {
    let doc = committed();
    // Idempotency records expire after a second, so a late retry of a create reaches the handler.
    let app = spawn_configured(|s| s.idempotency.retention_s = 1).await;
    let rx = Receiver::start().await;
    let t = app.admin("docs-extra");
    let ids = Ids::create(&app, &t, &rx).await;
    let mut problems = Vec::new();
    let (mut checked, mut answers) = (0, 0);
    let mut check = |method: &str, path: &str, what: &str, r: &Resp, want: StatusCode| {
        let at = format!("{method} {path} ({what})");
        assert_eq!(r.status, want, "{at}: {}", r.text);
        answers += 1;
        check_answer(&doc, &operation(&doc, method, path), &at, r, &mut problems, &mut checked);
    };

    // The inbound webhook: a genuine notification is answered exactly `SUCCESS`, as documented.
    let hook = "/webhooks/merchant";
    let codec = card_gateway::envelope::EnvelopeCodec::new(
        card_gateway::envelope::PrivateKey::parse(card_gateway::dev_keys::PLATFORM_PRIVATE_PEM).unwrap(),
        card_gateway::envelope::PrivateKey::parse(card_gateway::dev_keys::MERCHANT_PRIVATE_PEM)
            .unwrap()
            .public_key()
            .unwrap(),
    );
    let data = json!({"cardId": "9999000000000000042", "opType": 99, "receiptNo": "DOC-FEE-1", "realCcy": "USD",
        "realFee": 0.1, "createAt": recent()});
    let genuine =
        json!({"type": "trade_fee", "data": codec.seal(&data).unwrap(), "version": "1.0.0", "userNo": merchant_no()});
    let r = request(&app, Method::POST, hook, None, None, Some(genuine)).await;
    assert_eq!(r.text, "SUCCESS");
    check("POST", hook, "a genuine notification", &r, StatusCode::OK);
    for (what, body, want) in [
        ("not JSON", json!("hello"), StatusCode::BAD_REQUEST),
        ("for another merchant", json!({"type": "trade_fee", "data": "00", "userNo": "1"}), StatusCode::FORBIDDEN),
        ("plain data", json!({"type": "trade_fee", "data": data, "userNo": merchant_no()}), StatusCode::BAD_REQUEST),
    ] {
        let r = request(&app, Method::POST, hook, None, None, Some(body)).await;
        check("POST", hook, what, &r, want);
    }
    let big = app
        .client
        .post(format!("{}{hook}", app.base))
        .header("content-type", "application/json")
        .body(format!("{{\"type\":\"trade_fee\",\"data\":\"{}\"}}", "ab".repeat(1 << 20)))
        .send()
        .await
        .unwrap();
    let (status, headers) = (big.status(), big.headers().clone());
    let text = big.text().await.unwrap_or_default();
    let r = Resp { status, headers, json: serde_json::from_str(&text).unwrap_or(Value::Null), text };
    check("POST", hook, "a 2 MiB body", &r, StatusCode::PAYLOAD_TOO_LARGE);

    // The stream: a bad resume position is a documented problem.
    let stream = "/v1/events/stream";
    let bad = app.client.get(format!("{}{stream}", app.base)).bearer_auth(&t).header("Last-Event-ID", "nope");
    let bad = bad.send().await.unwrap();
    let (status, headers) = (bad.status(), bad.headers().clone());
    let text = bad.text().await.unwrap_or_default();
    let r = Resp { status, headers, json: serde_json::from_str(&text).unwrap_or(Value::Null), text };
    check("GET", stream, "Last-Event-ID not a position", &r, StatusCode::BAD_REQUEST);
    let r = request(&app, Method::GET, &format!("{stream}?types=card.nope"), Some(&t), None, None).await;
    check("GET", stream, "unknown type", &r, StatusCode::UNPROCESSABLE_ENTITY);
    let r = request(&app, Method::GET, &format!("{stream}?types=card.fee"), Some(&t), None, None).await;
    check("GET", stream, "filtered", &r, StatusCode::OK);

    // Endpoints: rotations with and without a body (an invalid one is refused, not ignored), a replay
    // to a disabled endpoint, an invalid URL.
    let ep = format!("/v1/webhook-endpoints/{}", ids.endpoint);
    let rotate = "/v1/webhook-endpoints/{id}/rotate-secret";
    for (what, body, want) in [
        ("no body", None, StatusCode::OK),
        ("an overlap", Some(json!({"keep_previous_for_s": 60})), StatusCode::OK),
        ("an overlap over a day", Some(json!({"keep_previous_for_s": 86_401})), StatusCode::UNPROCESSABLE_ENTITY),
        ("an overlap as a string", Some(json!({"keep_previous_for_s": "60"})), StatusCode::UNPROCESSABLE_ENTITY),
        ("an unknown field", Some(json!({"keep_previous": 60})), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let key = uuid::Uuid::new_v4().to_string();
        let r = request(&app, Method::POST, &format!("{ep}/rotate-secret"), Some(&t), Some(&key), body).await;
        check("POST", rotate, what, &r, want);
    }
    let r = app.patch(&ep, &t, json!({"status": "disabled"})).await;
    check("PATCH", "/v1/webhook-endpoints/{id}", "disable", &r, StatusCode::OK);
    let r = app.post(&format!("{ep}/replay"), &t, json!({"event_ids": [ids.event]})).await;
    check("POST", "/v1/webhook-endpoints/{id}/replay", "to a disabled endpoint", &r, StatusCode::CONFLICT);
    let r = app.post("/v1/webhook-endpoints", &t, json!({"url": "ftp://example.com/x"})).await;
    check("POST", "/v1/webhook-endpoints", "an ftp URL", &r, StatusCode::UNPROCESSABLE_ENTITY);
    // A create retried after its idempotency record expired finds the endpoint it made: 200, no secret.
    let body = json!({"url": rx.url, "description": "retried"});
    let first = app.post_key("/v1/webhook-endpoints", &t, "docs-late-retry", body.clone()).await;
    check("POST", "/v1/webhook-endpoints", "create", &first, StatusCode::CREATED);
    let late = crate::support::eventually("the idempotency record expires", std::time::Duration::from_secs(5), || {
        let (app, t, body) = (&app, &t, body.clone());
        async move {
            let r = app.post_key("/v1/webhook-endpoints", t, "docs-late-retry", body).await;
            r.header("idempotent-replayed").is_none().then_some(r)
        }
    })
    .await;
    check("POST", "/v1/webhook-endpoints", "retried after the idempotency window", &late, StatusCode::OK);
    assert_eq!(late.json["id"], first.json["id"], "{}", late.text);
    assert!(late.json.get("secret").is_none(), "the secret is shown once: {}", late.text);
    // Deliveries of a real event are documented ones.
    let e = card_transaction_event(&app, &t, &ids.card, rust_decimal::Decimal::new(100, 2)).await;
    rx.wait_for_event(e["id"].as_str().unwrap()).await;
    let r = app.get(&format!("/v1/webhook-endpoints/{}/deliveries", ids.endpoint_to_delete), &t).await;
    check("GET", "/v1/webhook-endpoints/{id}/deliveries", "with attempts", &r, StatusCode::OK);
    assert!(r.json["data"].as_array().is_some_and(|d| !d.is_empty()), "{}", r.text);

    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    assert_eq!(checked, answers, "every answer was checked against its documented body");
}
