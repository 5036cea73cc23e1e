//! `Operation` as a `oneOf` keyed by `kind` (an OpenAPI discriminator), each variant stating the
//! schemas its `result` takes (`OperationKind::result_schemas`), so a generated client narrows
//! `operation.result` by checking `operation.kind`. The fields common to all stay in `OperationBase`.

use serde_json::{Map, Value, json};

use crate::domain::operation::OperationKind;

/// `CardRecharge` → `CardRechargeOperation` (from the public name `card.recharge`).
fn variant_name(kind: OperationKind) -> String {
    let mut out = String::new();
    for part in kind.name().split(['.', '_']) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out.push_str("Operation");
    out
}

/// Rewrites `components.schemas.Operation`; returns what it could not find (a test keeps it empty).
pub fn apply(doc: &mut Value) -> Vec<String> {
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
        let name = variant_name(kind);
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
        assert_eq!(variant_name(OperationKind::CardRecharge), "CardRechargeOperation");
        assert_eq!(variant_name(OperationKind::TreasuryCryptoTransfer), "TreasuryCryptoTransferOperation");
        assert_eq!(variant_name(OperationKind::PhysicalCardPinReset), "PhysicalCardPinResetOperation");
    }
}
