//! `press-apps schema GROUP COMMAND`: the JSON Schema of a command's input file, so that editors
//! validate and complete the YAML files.
//!
//! It is derived from the same OpenAPI document the client's request types are generated from
//! (OpenAPI 3.0's schema dialect turned into JSON Schema draft 7: `$ref`s to `definitions`,
//! `nullable` to a `null` type), wrapped in the file's top-level keys. Objects allow no key
//! the document does not name, as `press-apps` itself refuses unknown keys.

use serde_json::{Map, Value, json};

use crate::failure::Failure;

/// The OpenAPI document the client's types are generated from, embedded once for the schemas
/// here and for the input files' key suggestions.
const DOCUMENT: &str = include_str!("../openapi/press-apps.json");

/// The document's component schemas, as written in it.
pub fn components() -> Result<Value, Failure> {
    let mut document: Value = serde_json::from_str(DOCUMENT).map_err(|e| Failure::usage(e.to_string()))?;
    Ok(document["components"]["schemas"].take())
}

/// The commands that take a file, with the schema of their `body` and their other top-level
/// keys.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("specs", "create", "NewSpec"),
    ("specs", "create-release", "NewRelease"),
    ("specs", "update-metadata", "SpecUpdate"),
    ("deployments", "create", "NewDeployment"),
    ("deployments", "create-revision", "NewRevision"),
    ("deployments", "update-metadata", "DeploymentMetadataUpdate"),
];

/// The JSON Schema of the input file of `group command`.
pub fn of(group: &str, command: &str) -> Result<Value, Failure> {
    let body =
        COMMANDS.iter().find(|(g, c, _)| *g == group && *c == command).map(|(_, _, body)| *body).ok_or_else(
            || {
                let known: Vec<String> = COMMANDS.iter().map(|(g, c, _)| format!("{g} {c}")).collect();
                Failure::usage(format!("no input file for `{group} {command}`; one of: {}", known.join(", ")))
            },
        )?;
    let mut definitions: Map<String, Value> = components()?
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| (name.clone(), convert(schema)))
        .collect();
    let reference = |name: &str| json!({ "$ref": format!("#/definitions/{name}") });
    let mut properties = Map::new();
    properties.insert("body".to_owned(), reference(body));
    match (group, command) {
        ("specs", "create") => {
            properties.insert("featured".to_owned(), json!({ "type": ["boolean", "null"] }));
            properties.insert("scope".to_owned(), reference("NullableSpecScope"));
            properties.insert(
                "tenants".to_owned(),
                json!({ "type": ["array", "null"], "items": { "type": "string" } }),
            );
            properties.insert("parameters".to_owned(), reference("NullableParameterDefinitions"));
        }
        ("specs", "create-release") => {
            // The file gives the parameters beside the body, as the SDK's keyword arguments do.
            properties.insert("parameters".to_owned(), reference("NullableParameterDefinitions"));
            if let Some(Value::Array(required)) =
                definitions.get_mut(body).and_then(|d| d.get_mut("required"))
            {
                required.retain(|name| name != "parameters");
            }
        }
        _ => {}
    }
    Ok(json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": format!("press-apps {group} {command} input file"),
        "type": "object",
        "properties": properties,
        "required": ["body"],
        "additionalProperties": false,
        "definitions": definitions,
    }))
}

/// An OpenAPI 3.0 schema as JSON Schema draft 7.
fn convert(schema: &Value) -> Value {
    match schema {
        Value::Object(fields) => {
            let mut out = Map::new();
            for (key, value) in fields {
                match key.as_str() {
                    "$ref" => {
                        let name = value.as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default();
                        out.insert(key.clone(), Value::String(format!("#/definitions/{name}")));
                    }
                    "nullable" | "example" | "discriminator" | "xml" | "externalDocs" | "deprecated" => {}
                    // A property named like a keyword is still a property.
                    "properties" => {
                        let properties = value.as_object().into_iter().flatten();
                        out.insert(key.clone(), properties.map(|(k, v)| (k.clone(), convert(v))).collect());
                    }
                    _ => {
                        out.insert(key.clone(), convert(value));
                    }
                }
            }
            if fields.get("nullable") == Some(&Value::Bool(true))
                && let Some(Value::String(kind)) = out.get("type").cloned()
            {
                out.insert("type".to_owned(), json!([kind, "null"]));
            }
            if out.contains_key("properties") && !out.contains_key("additionalProperties") {
                out.insert("additionalProperties".to_owned(), Value::Bool(false));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(convert).collect()),
        other => other.clone(),
    }
}
