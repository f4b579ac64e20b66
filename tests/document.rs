//! The published document explains itself: every operation, parameter, schema and property says
//! what it means, so that rustdoc and the clients other languages generate from it carry real
//! docs. A property that is only a `$ref` takes the description of the schema it names (OpenAPI
//! 3.0 ignores a `$ref`'s siblings), which must then have one.

use serde_json::Value;

const DOCUMENT: &str = include_str!("../openapi/press-apps.json");

/// A description that says something: present, and more than the name it describes.
fn explains(description: Option<&Value>, name: &str) -> bool {
    let Some(text) = description.and_then(Value::as_str) else { return false };
    let text = text.trim().trim_matches('`').trim_end_matches('.');
    text.len() >= 8 && !text.eq_ignore_ascii_case(name)
}

fn schema_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// Every property of `schema` (and of the schemas nested in it) without a description of its own
/// or of the schema its `$ref` names.
fn undescribed_properties(schema: &Value, at: &str, schemas: &Value, missing: &mut Vec<String>) {
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            let here = format!("{at}.{name}");
            match property["$ref"].as_str() {
                Some(reference) => {
                    let target = schema_name(reference);
                    if !explains(schemas[target].get("description"), target) {
                        missing.push(format!("{here} (its schema {target} has no description)"));
                    }
                }
                None if !explains(property.get("description"), name) => missing.push(here.clone()),
                None => {}
            }
            undescribed_properties(property, &here, schemas, missing);
        }
    }
    for key in ["items", "additionalProperties"] {
        if schema[key].is_object() {
            undescribed_properties(&schema[key], &format!("{at}[]"), schemas, missing);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for (index, part) in schema[key].as_array().into_iter().flatten().enumerate() {
            undescribed_properties(part, &format!("{at}/{key}/{index}"), schemas, missing);
        }
    }
}

#[test]
fn every_operation_parameter_schema_and_property_is_described() {
    let document: Value = serde_json::from_str(DOCUMENT).unwrap();
    let schemas = &document["components"]["schemas"];
    let mut missing = Vec::new();

    let mut operations = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(id) = operation["operationId"].as_str() else { continue };
            operations += 1;
            for key in ["summary", "description"] {
                if !explains(operation.get(key), id) {
                    missing.push(format!("operation {id} ({method} {path}): its {key}"));
                }
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap_or_default();
                if parameter.get("$ref").is_none() && !explains(parameter.get("description"), name) {
                    missing.push(format!("operation {id}: parameter {name}"));
                }
            }
        }
    }
    assert_eq!(operations, 17, "the document's operations");
    for (name, parameter) in document["components"]["parameters"].as_object().unwrap() {
        if !explains(parameter.get("description"), name) {
            missing.push(format!("parameter {name}"));
        }
    }
    for (name, schema) in schemas.as_object().unwrap() {
        if !explains(schema.get("description"), name) {
            missing.push(format!("schema {name}"));
        }
        undescribed_properties(schema, name, schemas, &mut missing);
    }
    assert!(
        missing.is_empty(),
        "{} without a description that says what it means:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn the_check_finds_what_is_missing() {
    let document: Value = serde_json::from_str(DOCUMENT).unwrap();
    let schemas = &document["components"]["schemas"];
    let mut missing = Vec::new();
    let schema = serde_json::json!({"properties": {
        "bare": {"type": "string"},
        "named": {"type": "string", "description": "named"},
        "linked": {"$ref": "#/components/schemas/Tag"},
        "nested": {"type": "object", "description": "Holds more.", "properties": {"inner": {"type": "integer"}}}
    }});
    undescribed_properties(&schema, "Probe", schemas, &mut missing);
    assert_eq!(missing, ["Probe.bare", "Probe.named", "Probe.nested.inner"]);
}
