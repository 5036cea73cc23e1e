//! The OpenAPI contract: the committed document is the generated one, it is valid OpenAPI 3.1 (the
//! official schema, vendored in tests/fixtures), every `$ref` resolves, every operation names its
//! handler and declares its tag, security and problem responses, and every documented operation
//! answers on a running gateway with a documented status, content type and body.

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
    common::{Resp, spawn_app},
    support::{Ids, sample, send},
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
    let Some(content) = documented["content"].as_object() else { return };
    let ct = r.header("content-type").unwrap_or("").split(';').next().unwrap_or("").trim().to_owned();
    let Some(media) = content.get(&ct) else {
        problems.push(format!("{at}: {code} answered {ct:?}, documented {:?}", content.keys().collect::<Vec<_>>()));
        return;
    };
    if let Some(schema) = media.get("schema") {
        *checked += 1;
        let errors = body_errors(doc, schema, &r.json);
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

    let app = spawn_app().await;
    let t = app.admin("docs");
    let real = Ids::create(&app, &t).await;
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

    // The document the running gateway serves is the committed one, and Swagger UI is up.
    let served = app.send(Method::GET, "/api-docs/openapi.json", None, None, None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert!(served.json == doc, "the served /api-docs/openapi.json differs from openapi/openapi.json");
    let ui = app.send(Method::GET, "/swagger-ui/", None, None, None).await;
    assert_eq!(ui.status, StatusCode::OK, "{}", ui.text);
}
