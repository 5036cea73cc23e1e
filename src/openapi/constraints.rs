//! States the input rules of `http::rules` in the document: which schema property or parameter each
//! rule governs is listed here once, next to the same rule objects the validators run, and a test
//! fails when a listed property or parameter is missing from the document (a rename cannot silently
//! drop a constraint).

use serde_json::{Value, json};

use crate::{
    domain::list,
    http::rules::{self, Rule},
    idempotency::key,
    reference::ReferenceData,
    webhooks::events,
};

/// `(schema, property, rule)`: request-body properties.
fn properties() -> Vec<(&'static str, &'static str, &'static Rule)> {
    use rules::*;
    vec![
        ("CreateCard", "bin", &BIN),
        ("CreateCard", "currency", &CURRENCY),
        ("CreateCard", "limit", &AMOUNT),
        ("CreateCard", "alias", &ALIAS),
        ("CreateCard", "cardholder_id", &ID),
        ("CreateCard", "group_id", &ID),
        ("CreateCard", "scene_code", &SCENE_CODE),
        ("UpdateCard", "alias", &ALIAS),
        ("UpdateCard", "label", &ALIAS),
        ("UpdateCard", "limit", &AMOUNT),
        ("AmountBody", "amount", &AMOUNT_2DP),
        ("CreateCardGroup", "currency", &CURRENCY),
        ("CreateCardGroup", "amount", &AMOUNT_2DP),
        ("CreateCardGroup", "alias", &ALIAS),
        ("CreateExchange", "from_currency", &CURRENCY),
        ("CreateExchange", "to_currency", &CURRENCY),
        ("CreateExchange", "amount", &AMOUNT_2DP),
        ("CreateCryptoTransfer", "currency", &CURRENCY),
        ("CreateCryptoTransfer", "to_currency", &CURRENCY),
        ("CreateCryptoTransfer", "amount", &AMOUNT_6DP),
        ("CreateDeposit", "currency", &CURRENCY),
        ("CreateDeposit", "amount", &AMOUNT_6DP),
        ("CreateWithdrawal", "currency", &CURRENCY),
        ("CreateWithdrawal", "amount", &AMOUNT_6DP),
        ("AssignPhysicalCard", "cardholder_id", &ID),
        ("AssignPhysicalCard", "currency", &CURRENCY),
        ("AssignPhysicalCard", "kit_number", &KIT_NUMBER),
        ("ActivatePhysicalCard", "activation_code", &ACTIVATION_CODE),
        ("CreateDeposit", "chain", &CHAIN),
        ("CreateWithdrawal", "chain", &CHAIN),
        ("CreateWithdrawal", "to_address", &TO_ADDRESS),
        ("CreateEndpoint", "url", &ENDPOINT_URL),
        ("UpdateEndpoint", "url", &ENDPOINT_URL),
        ("CreateEndpoint", "description", &DESCRIPTION),
        ("CreateEndpoint", "event_types", &events::EVENT_TYPE),
        ("UpdateEndpoint", "description", &DESCRIPTION),
        ("UpdateEndpoint", "event_types", &events::EVENT_TYPE),
        ("ReplayRequest", "event_ids", &ID),
        ("ReplayRequest", "since", &DATE_YEARS),
        ("ReplayRequest", "until", &DATE_YEARS),
        ("CreateCardholder", "birth_date", &DATE_YEARS),
        ("CreateCardholder", "first_name", &PERSON_NAME),
        ("CreateCardholder", "middle_name", &PERSON_NAME),
        ("CreateCardholder", "last_name", &PERSON_NAME),
        ("CreateCardholder", "email", &EMAIL),
        ("CreateCardholder", "mobile_prefix", &MOBILE_PREFIX),
        ("CreateCardholder", "mobile", &MOBILE),
        ("CreateCardholder", "country", &COUNTRY),
        ("CreateCardholder", "remark", &DESCRIPTION),
        ("NewBillingAddress", "state", &BILLING_REGION),
        ("NewBillingAddress", "city", &BILLING_REGION),
        ("NewBillingAddress", "address", &BILLING_STREET),
        ("NewBillingAddress", "zip", &POSTAL_CODE),
        ("IdentityDocument", "number", &DOCUMENT_NUMBER),
        ("IdentityDocument", "front_image_base64", &IMAGE_BASE64),
        ("IdentityDocument", "back_image_base64", &IMAGE_BASE64),
        ("IdentityDocument", "selfie_image_base64", &IMAGE_BASE64),
        ("CreateCard", "valid_until", &DATE_YEARS),
        ("SimulateAuthorization", "amount", &AMOUNT_2DP),
        ("SimulateAuthorization", "currency", &CURRENCY),
        ("SimulateAuthorization", "merchant_name", &ALIAS),
        ("SimulateAuthorization", "mcc", &MCC),
        ("SimulateOtp", "amount", &AMOUNT_2DP),
        ("SimulateOtp", "currency", &CURRENCY),
        ("SimulateOtp", "merchant_name", &ALIAS),
        ("SimulateAmount", "amount", &AMOUNT_2DP),
        ("SimulatePayment", "amount", &AMOUNT_2DP),
        ("SimulatePayment", "from_address", &ADDRESS),
    ]
}

/// `(parameter name, location, path or "" for every path, rule)`.
fn parameters() -> Vec<(&'static str, &'static str, &'static str, &'static Rule)> {
    vec![
        ("Idempotency-Key", "header", "", &key::RULE),
        ("id", "path", "", &rules::ID),
        ("object_id", "query", "", &rules::ID),
        ("cursor", "query", "", &rules::CURSOR),
        ("last_event_id", "query", "", &events::POSITION),
        ("Last-Event-ID", "header", "", &events::POSITION),
        ("types", "query", "", &events::TYPE_LIST),
        ("type", "query", "/v1/events", &events::EVENT_TYPE),
        ("from", "query", "/v1/treasury/exchange-rates", &rules::CURRENCY),
        ("from", "query", "/v1/transactions", &rules::DATE_YEARS),
        ("to", "query", "/v1/transactions", &rules::DATE_YEARS),
        ("from", "query", "/v1/cards/{id}/transactions", &rules::DATE_YEARS),
        ("to", "query", "/v1/cards/{id}/transactions", &rules::DATE_YEARS),
        ("expand", "query", "/v1/cards/{id}/recharges", &rules::EXPAND_CARD),
        ("expand", "query", "/v1/cards/{id}/refunds", &rules::EXPAND_CARD),
        ("expand", "query", "/v1/card-groups/{id}/recharges", &rules::EXPAND_GROUP),
        ("expand", "query", "/v1/card-groups/{id}/refunds", &rules::EXPAND_GROUP),
        ("to", "query", "/v1/treasury/exchange-rates", &rules::CURRENCY),
        ("table", "path", "/v1/reference/{table}", &rules::REFERENCE_TABLE),
        ("type", "query", "/v1/transactions", &rules::TRANSACTION_TYPE),
        ("type", "query", "/v1/cards/{id}/transactions", &rules::TRANSACTION_TYPE),
        ("group_id", "query", "/v1/cards", &rules::ID),
        ("cardholder_id", "query", "/v1/cards", &rules::ID),
        ("created[gte]", "query", "/v1/cards", &rules::DATE_YEARS),
        ("created[lt]", "query", "/v1/cards", &rules::DATE_YEARS),
    ]
}

/// The JSON Schema of a string rule.
fn schema_of(rule: &Rule, description: Option<&Value>) -> Value {
    let mut s = json!({"type": "string", "pattern": rule.pattern});
    if let Some(m) = rule.min_length {
        s["minLength"] = json!(m);
    }
    if let Some(m) = rule.max_length {
        s["maxLength"] = json!(m);
    }
    if let Some(d) = description {
        s["description"] = d.clone();
    }
    s
}

/// Puts `rule` on a property schema of whichever shape utoipa gave it: a string (possibly
/// `["string", "null"]`), a `$ref` (Amount), `oneOf [null, $ref]`, or an array of them.
fn constrain(prop: &mut Value, rule: &Rule) -> bool {
    let Some(obj) = prop.as_object_mut() else { return false };
    if obj.get("type").and_then(Value::as_str) == Some("array") || obj.get("items").is_some() {
        return obj.get_mut("items").is_some_and(|i| constrain(i, rule));
    }
    if obj.contains_key("$ref") {
        *prop = schema_of(rule, obj.get("description"));
        return true;
    }
    if let Some(Value::Array(alts)) = obj.get_mut("oneOf") {
        return alts
            .iter_mut()
            .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
            .any(|a| constrain(a, rule));
    }
    let is_string = match obj.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    if !is_string {
        return false;
    }
    let Value::Object(extra) = schema_of(rule, None) else { return false };
    for (k, v) in extra {
        if k != "type" {
            obj.insert(k, v);
        }
    }
    true
}

/// Bounds on numbers and arrays: `(schema, property, JSON Schema keywords merged in)`.
fn property_keywords() -> Vec<(&'static str, &'static str, Value)> {
    use crate::webhooks::endpoints::routes::{MAX_KEEP_PREVIOUS_S, MAX_REPLAY_IDS};
    let types = events::EVENT_TYPES.len();
    vec![
        ("RotateSecret", "keep_previous_for_s", json!({"maximum": MAX_KEEP_PREVIOUS_S})),
        ("ReplayRequest", "event_ids", json!({"maxItems": MAX_REPLAY_IDS})),
        ("CreateEndpoint", "event_types", json!({"maxItems": types})),
        ("UpdateEndpoint", "event_types", json!({"maxItems": types})),
    ]
}

/// Values the reference tables allow, checked by the handlers against the same tables:
/// `(schema, property, values)`.
fn enums(r: &ReferenceData) -> Vec<(&'static str, &'static str, Vec<&str>)> {
    vec![
        ("CreateCardholder", "country", r.countries()),
        ("CreateCardholder", "mobile_prefix", r.mobile_prefixes()),
        ("CreateCard", "currency", r.currencies(None)),
        ("CreateCardGroup", "currency", r.currencies(None)),
    ]
}

/// `properties: {p: <non-null>}` with `p` required: "p is given".
fn given(p: &str) -> Value {
    let mut props = serde_json::Map::new();
    props.insert(p.to_owned(), json!({"not": {"type": "null"}}));
    json!({"required": [p], "properties": props})
}

/// `amount`'s decimal places per the currency's minor units (`domain::check_amount`), for each
/// exponent below `already` (the places the property's own pattern allows).
fn places_per_currency(r: &ReferenceData, amount: &str, already: u32) -> Vec<Value> {
    r.currency_exponents()
        .into_iter()
        .filter(|u| *u < already)
        .map(|u| {
            let mut props = serde_json::Map::new();
            props.insert(amount.to_owned(), json!({"pattern": rules::amount_within(u).pattern}));
            json!({
                "if": {"required": ["currency"], "properties": {"currency": {"enum": r.currencies(Some(u))}}},
                "then": {"properties": props},
            })
        })
        .collect()
}

/// Rules between properties that a validator checks: `(schema, JSON Schema keywords merged in)`.
fn schema_rules(r: &ReferenceData) -> Vec<(&'static str, Value)> {
    let mut card = places_per_currency(r, "limit", 8);
    // A regular card's limit is its balance: more than zero; a shared card's may be zero.
    card.push(json!({
        "if": given("group_id"),
        "else": {"properties": {"limit": {"pattern": rules::positive_amount(8).pattern}}},
    }));
    vec![
        ("CreateCard", json!({"allOf": card})),
        ("CreateCardGroup", json!({"allOf": places_per_currency(r, "amount", 2)})),
        // A US billing address names a US state (`GET /v1/reference/us-states`).
        (
            "CreateCardholder",
            json!({
                "if": {"required": ["country"], "properties": {"country": {"const": "USA"}}},
                "then": {"properties": {"billing": {"properties": {"state": {"enum": r.us_states()}}}}},
            }),
        ),
        // UpdateCard: "at least one of alias, label, limit, status is required" (non-null).
        (
            "UpdateCard",
            json!({"anyOf": [given("alias"), given("label"), given("limit"), given("status"), given("metadata")]}),
        ),
        // UpdateCardGroup: "at least one of status, metadata is required" (non-null).
        ("UpdateCardGroup", json!({"anyOf": [given("status"), given("metadata")]})),
        // Metadata: the key count, each key's and each value's rule (`domain::metadata` checks them).
        (
            "Metadata",
            json!({
                "maxProperties": rules::METADATA_MAX_KEYS,
                "propertyNames": schema_of(&rules::METADATA_KEY, None),
                "additionalProperties": schema_of(&rules::METADATA_VALUE, None),
            }),
        ),
        // ReplayRequest: "give event_ids or since".
        (
            "ReplayRequest",
            json!({"anyOf": [
                {"required": ["event_ids"], "properties": {"event_ids": {"minItems": 1}}},
                given("since"),
            ]}),
        ),
    ]
}

/// One frame of `GET /v1/events/stream`, as SSE clients (and schemathesis) parse it: `id` is the
/// stream position, `event` the type (or `token_expired`, the last frame), `data` the event as JSON.
fn sse_frame() -> Value {
    let mut types: Vec<&str> = events::EVENT_TYPES.to_vec();
    types.push("token_expired");
    json!({
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": events::POSITION.pattern},
            "event": {"type": "string", "enum": types},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"$ref": "#/components/schemas/Event"},
                "description": "The event as JSON (`{}` on `token_expired`)"
            },
            "retry": {"type": "integer", "minimum": 0}
        }
    })
}

/// `GET /v1/reference/{table}`: each embedded table is `{table, note, data}`, its rows' columns per
/// table (strings, `minor_units` a number, `countries` a list).
fn reference_table() -> Value {
    json!({
        "type": "object",
        "required": ["table", "note", "data"],
        "properties": {
            "table": {"type": "string", "enum": crate::reference::ReferenceData::table_names()},
            "note": {"type": "string", "description": "Where the table comes from and how the platform uses it."},
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "One row; the columns depend on the table (e.g. `code`, `name`).",
                    "additionalProperties": {"type": ["string", "integer", "array"]}
                }
            }
        }
    })
}

/// The platform's webhook envelope (`upstream::wire::webhook::WebhookEnvelope`): what the route reads
/// before it authenticates anything. Every generated body is still refused: only the platform's key
/// seals a `data` this gateway opens.
fn webhook_envelope() -> Value {
    json!({
        "type": "object",
        "required": ["type", "data"],
        "properties": {
            "type": {"type": "string", "description": "The notification type, e.g. `card_transaction`."},
            "data": {
                "description": "The notification, RSA-sealed as hex by the platform (plain JSON is refused unless `webhooks.inbound_accept_plain_data`).",
                "type": ["string", "object"]
            },
            "version": {"type": "string", "description": "The platform's API version, e.g. `1.0.0`."},
            "userNo": {"type": "string", "description": "The merchant number it is addressed to (ours, or refused)."}
        }
    })
}

/// Applies every rule; returns the targets that were not found (a test keeps this empty).
pub fn apply(doc: &mut Value) -> Vec<String> {
    let mut missing = Vec::new();
    for (schema, prop, keywords) in property_keywords() {
        match (doc.pointer_mut(&format!("/components/schemas/{schema}/properties/{prop}")), keywords) {
            (Some(Value::Object(p)), Value::Object(k)) => p.extend(k),
            _ => missing.push(format!("{schema}.{prop} bounds")),
        }
    }
    let reference = ReferenceData::load().unwrap_or_default();
    for (schema, keywords) in schema_rules(&reference) {
        match (doc.pointer_mut(&format!("/components/schemas/{schema}")), keywords) {
            (Some(Value::Object(s)), Value::Object(k)) => s.extend(k),
            _ => missing.push(format!("schema {schema}")),
        }
    }
    for (pointer, schema) in [
        ("/paths/~1v1~1events~1stream/get/responses/200/content/text~1event-stream/schema", sse_frame()),
        ("/paths/~1v1~1reference~1{table}/get/responses/200/content/application~1json/schema", reference_table()),
        ("/paths/~1webhooks~1merchant/post/requestBody/content/application~1json/schema", webhook_envelope()),
    ] {
        match doc.pointer_mut(pointer) {
            Some(s) => *s = schema,
            None => missing.push(format!("the schema at {pointer}")),
        }
    }
    for (schema, prop, rule) in properties() {
        let target = doc.pointer_mut(&format!("/components/schemas/{schema}/properties/{prop}"));
        if !target.is_some_and(|p| constrain(p, rule)) {
            missing.push(format!("{schema}.{prop}"));
        }
    }
    for (schema, prop, values) in enums(&reference) {
        match doc.pointer_mut(&format!("/components/schemas/{schema}/properties/{prop}")) {
            Some(Value::Object(p)) if !values.is_empty() => {
                p.insert("enum".to_owned(), json!(values));
            }
            _ => missing.push(format!("{schema}.{prop} values")),
        }
    }
    for (name, location, only, rule) in parameters() {
        let mut found = false;
        if let Some(Value::Object(paths)) = doc.get_mut("paths") {
            for (_, item) in paths.iter_mut().filter(|(p, _)| only.is_empty() || p.as_str() == only) {
                let Some(item) = item.as_object_mut() else { continue };
                for op in item.values_mut().filter_map(Value::as_object_mut) {
                    for p in op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
                        if p.get("name").and_then(Value::as_str) == Some(name)
                            && p.get("in").and_then(Value::as_str) == Some(location)
                            && let Some(s) = p.get_mut("schema")
                        {
                            // A header is absent or a string: `null` would be sent as the text "null".
                            if location == "header" {
                                s["type"] = json!("string");
                            }
                            found |= constrain(s, rule);
                        }
                    }
                }
            }
        }
        if !found {
            missing.push(format!("{location} parameter {name}"));
        }
    }
    // Every list's page size: the same bounds `domain::list` checks.
    let mut limits = 0;
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in item.values_mut().filter_map(Value::as_object_mut) {
                for p in op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
                    if p.get("name").and_then(Value::as_str) == Some("limit")
                        && p.get("in").and_then(Value::as_str) == Some("query")
                        && let Some(s) = p.get_mut("schema")
                    {
                        s["minimum"] = json!(1);
                        s["maximum"] = json!(list::MAX_LIMIT);
                        limits += 1;
                    }
                }
            }
        }
    }
    if limits == 0 {
        missing.push("query parameter limit".to_owned());
    }
    missing
}
