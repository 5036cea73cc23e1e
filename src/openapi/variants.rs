//! `Operation` as a `oneOf` keyed by `kind` (an OpenAPI discriminator), each variant stating the
//! schemas its `result` takes (`OperationKind::result_schemas`), so a generated client narrows
//! `operation.result` by checking `operation.kind`; the fields common to all stay in `OperationBase`.
//! `Event` likewise, keyed by `type`, its `data` from `webhooks::event_data`.

use serde_json::{Map, Value, json};

use crate::{domain::operation::OperationKind, webhooks::event_data};

/// `card.recharge` + `Operation` → `CardRechargeOperation`.
fn variant_name(public_name: &str, suffix: &str) -> String {
    let mut out = String::new();
    for part in public_name.split(['.', '_']) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out.push_str(suffix);
    out
}

/// Rewrites `Operation` and `Event`; returns what it could not find (a test keeps it empty).
pub fn apply(doc: &mut Value) -> Vec<String> {
    let mut missing = operations(doc);
    missing.extend(events(doc));
    missing
}

fn events(doc: &mut Value) -> Vec<String> {
    let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") else {
        return vec!["components.schemas".to_owned()];
    };
    let Some(mut base) = schemas.remove("Event") else { return vec!["schema Event".to_owned()] };
    let example = base.as_object_mut().and_then(|b| b.remove("example"));
    let mut missing = Vec::new();
    let (mut one_of, mut mapping) = (Vec::new(), Map::new());
    for (kind, schema, secret) in event_data::data_schemas() {
        if !schemas.contains_key(&schema) {
            missing.push(format!("schema {schema} (the data of {kind})"));
        }
        let mut data = json!({"$ref": format!("#/components/schemas/{schema}")});
        if let Some(field) = secret {
            let mut props = Map::new();
            props.insert(
                field.to_owned(),
                json!({"type": ["string", "null"], "description": "The one-time code: only to a token with \
                    `events:secrets`, and only within `webhooks.secret_ttl_s`; `null` otherwise."}),
            );
            props.insert(
                event_data::REDACTED_FIELD.to_owned(),
                json!({"type": "boolean", "description": "`true` when the code was withheld from this reader."}),
            );
            data = json!({"allOf": [data, {"type": "object", "properties": props}]});
        }
        let name = variant_name(kind, "Event");
        let reference = format!("#/components/schemas/{name}");
        schemas.insert(
            name,
            json!({
                "description": format!("An event of type `{kind}`."),
                "allOf": [
                    {"$ref": "#/components/schemas/EventBase"},
                    {"type": "object", "required": ["type", "data"], "properties": {"type": {"const": kind}, "data": data}},
                ],
            }),
        );
        mapping.insert(kind.to_owned(), json!(reference));
        one_of.push(json!({"$ref": reference}));
    }
    if let Some(b) = base.as_object_mut() {
        b.insert("description".to_owned(), json!("The fields every event has (`data` is per type)."));
        if let Some(Value::Object(props)) = b.get_mut("properties") {
            props.remove("data");
        }
        if let Some(Value::Array(required)) = b.get_mut("required") {
            required.retain(|r| r != "data");
        }
    }
    schemas.insert("EventBase".to_owned(), base);
    let mut event = json!({
        "description": "A public event: `type` says which, and which schema `data` takes.",
        "oneOf": one_of,
        "discriminator": {"propertyName": "type", "mapping": mapping},
    });
    if let Some(e) = example {
        event["example"] = e;
    }
    schemas.insert("Event".to_owned(), event);
    missing
}

fn operations(doc: &mut Value) -> Vec<String> {
    let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") else {
        return vec!["components.schemas".to_owned()];
    };
    let Some(mut base) = schemas.remove("Operation") else { return vec!["schema Operation".to_owned()] };
    let example = base.as_object_mut().and_then(|b| b.remove("example"));
    let mut missing = Vec::new();
    let (mut one_of, mut mapping) = (Vec::new(), Map::new());
    for kind in OperationKind::ALL {
        let results = kind.result_schemas();
        for r in &results {
            if !schemas.contains_key(r) {
                missing.push(format!("schema {r} (a result of {})", kind.name()));
            }
        }
        let result = if results.is_empty() {
            json!({"type": "null", "description": "This kind of operation has no resulting object."})
        } else {
            let mut alts = vec![json!({"type": "null"})];
            alts.extend(results.iter().map(|r| json!({"$ref": format!("#/components/schemas/{r}")})));
            json!({"anyOf": alts, "description": "The resulting object once succeeded; `null` before and after a failure."})
        };
        let name = variant_name(kind.name(), "Operation");
        let reference = format!("#/components/schemas/{name}");
        schemas.insert(
            name,
            json!({
                "description": format!("An operation of kind `{}`.", kind.name()),
                "allOf": [
                    {"$ref": "#/components/schemas/OperationBase"},
                    {"type": "object", "properties": {"kind": {"const": kind.name()}, "result": result}},
                ],
            }),
        );
        mapping.insert(kind.name().to_owned(), json!(reference));
        one_of.push(json!({"$ref": reference}));
    }
    if let Some(b) = base.as_object_mut() {
        b.insert("description".to_owned(), json!("The fields every operation has (`result` is per kind)."));
        // Each variant states `result`; a generic one here would intersect with theirs.
        if let Some(Value::Object(props)) = b.get_mut("properties") {
            props.remove("result");
        }
    }
    schemas.insert("OperationBase".to_owned(), base);
    let mut operation = json!({
        "description": "The record of a state-changing call: `kind` says which, and which schema `result` takes.",
        "oneOf": one_of,
        "discriminator": {"propertyName": "kind", "mapping": mapping},
    });
    if let Some(e) = example {
        operation["example"] = e;
    }
    schemas.insert("Operation".to_owned(), operation);
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names_are_the_kinds_in_pascal_case() {
        assert_eq!(variant_name(OperationKind::CardRecharge.name(), "Operation"), "CardRechargeOperation");
        assert_eq!(variant_name("treasury.crypto_transfer", "Operation"), "TreasuryCryptoTransferOperation");
        assert_eq!(variant_name("card.3ds_otp", "Event"), "Card3dsOtpEvent");
        assert_eq!(variant_name("card.operation.succeeded", "Event"), "CardOperationSucceededEvent");
    }
}
