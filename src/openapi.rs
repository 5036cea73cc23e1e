//! The OpenAPI 3.1 document: generated from the handlers' annotations, then completed from the route
//! table (security, and the problem responses every route can give). `openapi/openapi.json` is this
//! document, committed; a test fails when they drift (`cargo run -- openapi > openapi/openapi.json`).

use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, Components, ContentBuilder, RefOr, ResponseBuilder,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::{
    config::Settings,
    error::{FieldError, Problem},
    routes::{
        ApiPaths,
        table::{Access, RouteTable},
    },
};

mod constraints;
mod headers;
mod links;
mod page_items;
mod variants;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "card-gateway",
        description = "Tenant-scoped card-management API in front of the card-issuing platform's encrypted Merchant API.\n\n\
Authenticate with a bearer JWT (`Authorize` in Swagger UI). Every state-changing request needs an `Idempotency-Key`; \
a retry with the same key replays the first answer (`Idempotent-Replayed: true`). Money is a decimal string. \
Errors are RFC 9457 `application/problem+json` with a stable `code`.\n\n\
When the platform does not confirm an outcome (timeout, its status-unknown code), the answer is `202` with the operation \
in status `unknown`; reading the operation or retrying with the same key asks the platform and finishes it.",
        license(name = "Internal"),
    ),
    // Relative: generated clients and Swagger UI call the host that served the document.
    servers((url = "/", description = "The gateway that served this document")),
    // Named here: list items (which utoipa would only inline) and the funds movement of a recharge.
    components(schemas(
        Problem,
        FieldError,
        crate::domain::card::FundsMovement,
        crate::domain::card::CardBinOut,
        crate::domain::card::SceneOut,
        crate::domain::treasury::Balance,
        crate::webhooks::events::DeadLetter,
        crate::webhooks::delivery::Delivery
    )),
    modifiers(&BearerScheme),
    tags(
        (name = "cards", description = "Virtual cards: issue, read (masked), reveal, update, cancel, recharge, refund"),
        (name = "card-groups", description = "Shared cards: one balance, many sub-cards"),
        (name = "cardholders", description = "Cardholders"),
        (name = "transactions", description = "Card transactions"),
        (name = "operations", description = "The record of every state-changing call"),
        (name = "physical-cards", description = "Physical cards: assign, activate, PIN reset"),
        (name = "crypto", description = "Digital-currency deposits and withdrawals"),
        (name = "treasury", description = "Merchant-wide account: balances, FX, transfers (treasury scopes only)"),
        (name = "reference", description = "BINs, scenes and reference tables"),
        (name = "health", description = "Liveness and readiness"),
        (name = "events", description = "The tenant's events from the platform's notifications: log, SSE stream; dead letters for operators"),
        (name = "webhook-endpoints", description = "The tenant's delivery endpoints (Standard Webhooks signing), deliveries and replay"),
        (name = "test-helpers", description = "Development and test environments only: platform-side events on demand (purchases, settlements, 3DS codes, activation, crypto payments, async completions) against the embedded simulator; 404 against a real platform and in production"),
        (name = "webhooks", description = "Inbound notifications from the card platform (envelope-authenticated, no JWT)"),
    )
)]
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Components::new);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(bearer_description()))
                    .build(),
            ),
        );
    }
}

/// The bearer scheme's description, listing every scope (from `Scope::ALL`, so none is forgotten).
fn bearer_description() -> String {
    let scopes: Vec<String> = crate::auth::Scope::ALL.iter().map(|s| format!("`{s}`")).collect();
    format!(
        "A JWT with `tenant_id` and `scope` claims. `card-gateway token --tenant T` prints a development token. \
         Scopes: {}. `events:secrets` adds the one-time codes (3-D Secure OTPs, activation codes) to \
         `/v1/events*` answers, which redact them otherwise.",
        scopes.join(", ")
    )
}

fn problem(description: &str) -> RefOr<openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new().schema(Some(openapi::Ref::from_schema_name("Problem"))).build(),
        )
        .into()
}

/// The upstream error table as Markdown, for the document's description.
fn error_table(settings: &Settings) -> String {
    let mut out = String::from("\n\n### Upstream refusals\n\n| platform code | HTTP | `code` |\n|---|---|---|\n");
    for (code, m) in &settings.upstream.error_map {
        out.push_str(&format!("| {code} | {} | `{}` |\n", m.status, m.code));
    }
    out.push_str("| other codes | 422 | `upstream_rejected` |\n");
    out.push_str("\nTransport: timeout → 504 `upstream_timeout`; unreachable → 502 `upstream_unreachable`; an answer that cannot be opened or read → 502 `upstream_bad_response`.\n");
    out
}

/// The complete document: the annotated one, completed from the route table, with the input rules of
/// `http::rules` stated on the properties and parameters they govern. A JSON value, not utoipa's
/// types: those cannot hold every keyword the rules need (`anyOf` beside `properties`, `not`,
/// `contentSchema`), and a round trip through them would silently drop a rule.
pub fn document(table: &RouteTable) -> serde_json::Value {
    let doc = annotated(table);
    let Ok(mut value) = serde_json::to_value(&doc) else { return serde_json::json!({}) };
    let mut missing = constraints::apply(&mut value);
    missing.extend(headers::apply(&mut value, table));
    missing.extend(page_items::apply(&mut value));
    missing.extend(variants::apply(&mut value));
    links::apply(&mut value);
    if !missing.is_empty() {
        tracing::warn!(?missing, "OpenAPI constraints name properties the document lacks");
    }
    value
}

/// Rule targets the document lacks (a test keeps this empty).
pub fn missing_constraints(table: &RouteTable) -> Vec<String> {
    serde_json::to_value(annotated(table))
        .map(|mut v| {
            let mut missing = constraints::apply(&mut v);
            missing.extend(headers::apply(&mut v, table));
            missing.extend(page_items::apply(&mut v));
            missing.extend(variants::apply(&mut v));
            missing
        })
        .unwrap_or_else(|e| vec![e.to_string()])
}

fn annotated(table: &RouteTable) -> openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(ApiPaths::openapi());
    doc.merge(crate::webhooks::event_data::EventDataSchemas::openapi());
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    if let Ok(defaults) = Settings::defaults() {
        let d = doc.info.description.get_or_insert_with(String::new);
        d.push_str(&error_table(&defaults));
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in [
            ("GET", item.get.as_mut()),
            ("POST", item.post.as_mut()),
            ("PATCH", item.patch.as_mut()),
            ("DELETE", item.delete.as_mut()),
            ("PUT", item.put.as_mut()),
        ] {
            let Some(op) = op else { continue };
            let Ok(m) = method.parse::<actix_web::http::Method>() else { continue };
            let Some(policy) = table.find(&m, path) else { continue };
            let mut add = |code: &str, desc: &str| {
                op.responses.responses.entry(code.to_owned()).or_insert_with(|| problem(desc));
            };
            if policy.access != Access::Public {
                add("401", "Missing or invalid bearer token (`WWW-Authenticate` says why)");
                add("429", "Rate limited (`Retry-After`, `RateLimit` and `RateLimit-Policy` headers)");
                add(
                    "503",
                    if policy.idempotent {
                        "The gateway's state store is unavailable (fail closed), or the identity provider's signing \
                         keys could not be refreshed for `auth.jwks_max_stale_s` (`identity_keys_stale`); `Retry-After`"
                    } else {
                        "The identity provider's signing keys could not be refreshed for `auth.jwks_max_stale_s` \
                         (`identity_keys_stale`, `Retry-After`)"
                    },
                );
            }
            if matches!(policy.access, Access::Scope(_)) {
                add("403", "The token lacks this route's scope");
            }
            if path.contains('{') || policy.idempotent {
                add("404", "No such object for this tenant (another tenant's object answers the same)");
            }
            if policy.idempotent || method == "GET" && path.starts_with("/v1/") {
                add("400", "Malformed request (bad JSON, bad or missing Idempotency-Key)");
                add("422", "Invalid input (`errors` locates each field) or a platform refusal (`upstream_code`)");
            }
            if op.request_body.is_some() {
                add("400", "Malformed request (bad JSON)");
                add("413", "Body too large");
                add("415", "Body is not application/json");
                add("422", "Invalid input (`errors` locates each field)");
            }
            if policy.idempotent {
                add("409", "The same Idempotency-Key is still in flight (`Retry-After`), or a state conflict");
                add("413", "Body too large");
                add("415", "Body is not application/json");
                add("503", "The gateway's state store is unavailable (fail closed; `Retry-After`)");
            }
            if path.starts_with("/v1/") {
                add("500", "Internal error");
                add("502", "The platform was unreachable or answered badly");
                add("504", "The platform did not answer in time");
            }
        }
    }
    doc
}

/// The document as pretty JSON with a trailing newline (the committed form).
pub fn document_json(table: &RouteTable) -> String {
    let mut s = serde_json::to_string_pretty(&document(table)).unwrap_or_else(|_| "{}".to_owned());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_operation_variants_cover_every_kind_the_document_names() {
        let doc = super::document(&crate::routes::table());
        let kinds: Vec<&str> = doc["components"]["schemas"]["OperationKind"]["enum"]
            .as_array()
            .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
            .unwrap_or_default();
        let all: Vec<&str> = crate::domain::operation::OperationKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(kinds, all, "OperationKind::ALL must list every kind, in the enum's order");
        let mapping = doc["components"]["schemas"]["Operation"]["discriminator"]["mapping"].as_object().cloned();
        assert_eq!(mapping.map(|m| m.len()), Some(all.len()));
    }

    #[test]
    fn every_input_rule_names_a_property_or_parameter_the_document_has() {
        let missing = super::missing_constraints(&crate::routes::table());
        assert!(missing.is_empty(), "constraints for targets the document lacks: {missing:?}");
    }
}
