//! OpenAPI `links`, so stateful tools (schemathesis) and readers chain real ids: a create's `201`
//! links to every operation on the created object (`POST /v1/cards` → `/v1/cards/{id}…`), and an
//! answer that is an operation links to reading it (`GET /v1/operations/{id}`) and, in development,
//! completing it. Derived from the paths, so a new route under a collection is linked by itself.

use serde_json::{Map, Value, json};

const OPERATION_SCHEMA: &str = "#/components/schemas/Operation";

/// `(path, method, operationId)` of every operation.
fn operations(doc: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if let Some(id) = op["operationId"].as_str() {
                out.push((path.clone(), method.clone(), id.to_owned()));
            }
        }
    }
    out
}

/// `get_card` → `GetCard`.
fn link_name(operation_id: &str) -> String {
    operation_id
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

fn link(operation_id: &str, description: String) -> Value {
    json!({"operationId": operation_id, "parameters": {"id": "$response.body#/id"}, "description": description})
}

pub fn apply(doc: &mut Value) {
    let all = operations(doc);
    let on_operation: Vec<&(String, String, String)> = all
        .iter()
        .filter(|(p, _, _)| p.starts_with("/v1/operations/{id}") || p == "/v1/test-helpers/operations/{id}/complete")
        .collect();
    let Some(Value::Object(paths)) = doc.get_mut("paths") else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            let Some(Value::Object(responses)) = op.get_mut("responses") else { continue };
            for (status, response) in responses.iter_mut() {
                let mut links = Map::new();
                if method == "post" && status == "201" {
                    let prefix = format!("{path}/{{id}}");
                    for (p, _, id) in
                        all.iter().filter(|(p, _, _)| *p == prefix || p.starts_with(&format!("{prefix}/")))
                    {
                        links.insert(link_name(id), link(id, format!("`{p}` on the created object")));
                    }
                }
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                if schema == OPERATION_SCHEMA && !path.starts_with("/v1/operations/{id}") {
                    for (p, _, id) in &on_operation {
                        links.insert(link_name(id), link(id, format!("`{p}` on this operation")));
                    }
                }
                if !links.is_empty()
                    && let Some(r) = response.as_object_mut()
                {
                    r.insert("links".to_owned(), Value::Object(links));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_link_names_an_operation_with_an_id_parameter() {
        let doc = crate::openapi::document(&crate::routes::table());
        let ops = super::operations(&doc);
        let mut links = 0;
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for op in item.as_object().into_iter().flatten().map(|(_, o)| o) {
                for r in op["responses"].as_object().into_iter().flatten().map(|(_, r)| r) {
                    for (name, l) in r["links"].as_object().into_iter().flatten() {
                        links += 1;
                        let target = ops.iter().find(|(_, _, id)| l["operationId"] == id.as_str());
                        let Some((p, _, _)) = target else { panic!("{path}: link {name} names no operation") };
                        assert!(p.contains("{id}"), "{path}: link {name} fills `id`, which {p} lacks");
                    }
                }
            }
        }
        assert!(links > 40, "links: {links}");
    }
}
