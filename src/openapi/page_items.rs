//! List pages `$ref` their item schema. utoipa inlines a generic's argument (`inline(Page<Card>)`
//! copies `Card` into every page), so generators would make a second, anonymous `Card` type and a
//! change to the item schema (e.g. `Operation` as a `oneOf`) would not reach the lists. Each inlined
//! item that equals a named component exactly becomes a `$ref` to it; one that equals none is reported.

use serde_json::{Value, json};

/// Runs before the schemas are rewritten (`variants`), while items still equal their components.
pub fn apply(doc: &mut Value) -> Vec<String> {
    let components: Vec<(String, Value)> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|s| s.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let mut missing = Vec::new();
    let Some(Value::Object(paths)) = doc.get_mut("paths") else { return vec!["paths".to_owned()] };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            let Some(Value::Object(responses)) = op.get_mut("responses") else { continue };
            for (status, response) in responses.iter_mut() {
                // A page is `{data: [...], next_cursor}`.
                let Some(page) = response.pointer_mut("/content/application~1json/schema/properties") else { continue };
                if page.get("next_cursor").is_none() {
                    continue;
                }
                let Some(items) = page.pointer_mut("/data/items") else { continue };
                if items.get("$ref").is_some() {
                    continue;
                }
                match components.iter().find(|(_, schema)| schema == items) {
                    Some((name, _)) => *items = json!({"$ref": format!("#/components/schemas/{name}")}),
                    None => missing.push(format!("the items of {method} {path} {status} equal no named schema")),
                }
            }
        }
    }
    missing
}
