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
    let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") else {
        return vec!["components.schemas".to_owned()];
    };
    let mut missing = union(schemas, operations());
    missing.extend(union(schemas, events()));
    missing
}

/// A schema turned into a `oneOf` keyed by one of its properties; the fields common to all stay in
/// `<name>Base`, without `member`, which each variant states.
struct Union {
    name: &'static str,
    /// The discriminating property (`kind`, `type`).
    key: &'static str,
    /// The property whose schema depends on `key` (`result`, `data`).
    member: &'static str,
    /// Properties each variant requires (beyond the base's).
    required: &'static [&'static str],
    base_description: &'static str,
    description: &'static str,
    /// `(key value, member schema, the component schemas it names)`.
    variants: Vec<(String, Value, Vec<String>)>,
}

fn reference(schema: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{schema}")})
}

fn operations() -> Union {
    let variants = OperationKind::ALL
        .iter()
        .map(|kind| {
            let results = kind.result_schemas();
            let result = if results.is_empty() {
                json!({"type": "null", "description": "This kind of operation has no resulting object."})
            } else {
                let mut alts = vec![json!({"type": "null"})];
                alts.extend(results.iter().map(|r| reference(r)));
                json!({"anyOf": alts, "description": "The resulting object once succeeded; `null` before and after a failure."})
            };
            (kind.name().to_owned(), result, results)
        })
        .collect();
    Union {
        name: "Operation",
        key: "kind",
        member: "result",
        required: &[],
        base_description: "The fields every operation has (`result` is per kind).",
        description: "The record of a state-changing call: `kind` says which, and which schema `result` takes.",
        variants,
    }
}

fn events() -> Union {
    let variants = event_data::data_schemas()
        .into_iter()
        .map(|(kind, schema, secret)| {
            let mut data = reference(&schema);
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
            (kind.to_owned(), data, vec![schema])
        })
        .collect();
    Union {
        name: "Event",
        key: "type",
        member: "data",
        required: &["type", "data"],
        base_description: "The fields every event has (`data` is per type).",
        description: "A public event: `type` says which, and which schema `data` takes.",
        variants,
    }
}

fn union(schemas: &mut Map<String, Value>, u: Union) -> Vec<String> {
    let Some(mut base) = schemas.remove(u.name) else { return vec![format!("schema {}", u.name)] };
    let example = base.as_object_mut().and_then(|b| b.remove("example"));
    let base_name = format!("{}Base", u.name);
    let mut missing = Vec::new();
    let (mut one_of, mut mapping) = (Vec::new(), Map::new());
    for (value, member, named) in u.variants {
        for n in named.iter().filter(|n| !schemas.contains_key(*n)) {
            missing.push(format!("schema {n} (in the `{}` of {value})", u.member));
        }
        let name = variant_name(&value, u.name);
        let mut props = Map::new();
        props.insert(u.key.to_owned(), json!({"const": value}));
        props.insert(u.member.to_owned(), member);
        let mut own = json!({"type": "object", "properties": props});
        if !u.required.is_empty() {
            own["required"] = json!(u.required);
        }
        let article = if u.name.starts_with(['A', 'E', 'I', 'O', 'U']) { "An" } else { "A" };
        schemas.insert(
            name.clone(),
            json!({
                "description": format!("{article} {} of {} `{value}`.", u.name.to_lowercase(), u.key),
                "allOf": [reference(&base_name), own],
            }),
        );
        mapping.insert(value, json!(format!("#/components/schemas/{name}")));
        one_of.push(reference(&name));
    }
    if let Some(b) = base.as_object_mut() {
        b.insert("description".to_owned(), json!(u.base_description));
        // Each variant states the member; a generic one here would intersect with theirs.
        if let Some(Value::Object(props)) = b.get_mut("properties") {
            props.remove(u.member);
        }
        if let Some(Value::Array(required)) = b.get_mut("required") {
            required.retain(|r| r != u.member);
        }
    }
    schemas.insert(base_name, base);
    let mut union = json!({
        "description": u.description,
        "oneOf": one_of,
        "discriminator": {"propertyName": u.key, "mapping": mapping},
    });
    if let Some(e) = example {
        union["example"] = e;
    }
    schemas.insert(u.name.to_owned(), union);
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
