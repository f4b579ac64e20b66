//! Changes to the parsed copy of the document, so that progenitor generates what the facade
//! needs. The published document stays precise: one success code, every documented error, the
//! listings' comma-joined filters.

use std::collections::HashSet;

use openapiv3::{OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, SchemaKind, StatusCode, Type};

/// Every change, in order:
/// - error responses are removed: progenitor then hands any non-2xx response to the facade as
///   `UnexpectedResponse`, with status, headers and body intact, instead of decoding it itself and
///   losing the status when the body is empty, HTML or off-schema;
/// - the one success code becomes the range `2XX`, so a service answering 200 where the document
///   says 201 is still understood;
/// - the four listings answer raw bytes: the pager holds prefetched pages as their bodies and
///   decodes each only when it reaches the head of the queue, so what a listing holds in memory is
///   bounded in bytes;
/// - the listings' filters take one value each (the document also allows several comma-joined,
///   as the official CLI sends them);
/// - a required property with a default (such as `NewSpec.kind`) is no longer required, so the
///   generated builder fills it in; the field is not optional in Rust and is always sent;
/// - path parameters lose their length rule: progenitor would make a newtype of each
///   (`DescribeSpecSpecId`, fourteen of them) that only the generated code uses, and the facade
///   refuses an empty id itself, in its own words, before anything is built.
pub fn adjust(document: &mut OpenAPI) {
    keep_success_responses(document);
    raw_listings(document);
    single_value_filters(document);
    default_required_properties(document);
    plain_path_parameters(document);
}

fn plain_path_parameters(document: &mut OpenAPI) {
    let Some(components) = document.components.as_mut() else {
        return;
    };
    for parameter in components.parameters.values_mut() {
        let ReferenceOr::Item(Parameter::Path { parameter_data, .. }) = parameter else { continue };
        let ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) = &mut parameter_data.format else {
            continue;
        };
        if let SchemaKind::Type(Type::String(string)) = &mut schema.schema_kind {
            string.min_length = None;
            string.max_length = None;
            string.pattern = None;
        }
    }
}

fn keep_success_responses(document: &mut OpenAPI) {
    for item in document.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else { continue };
        let slots = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in slots.into_iter().flatten() {
            let responses = &mut operation.responses;
            responses.default = None;
            let success = std::mem::take(&mut responses.responses)
                .into_iter()
                .find(|(code, _)| is_success(code))
                .map(|(_, response)| response);
            if let Some(response) = success {
                responses.responses.insert(StatusCode::Range(2), response);
            }
        }
    }
}

/// The operations whose success body the facade decodes itself: the listings.
const RAW_OPERATIONS: &[&str] =
    &["list_specs", "list_spec_releases", "list_deployments", "list_deployment_revisions"];

fn raw_listings(document: &mut OpenAPI) {
    for item in document.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else { continue };
        let Some(operation) = item.get.as_mut() else { continue };
        if !RAW_OPERATIONS.contains(&operation.operation_id.as_deref().unwrap_or_default()) {
            continue;
        }
        for response in operation.responses.responses.values_mut() {
            let ReferenceOr::Item(response) = response else { continue };
            // progenitor generates a byte stream for any media type but JSON.
            if let Some(json) = response.content.shift_remove("application/json") {
                response.content.insert("application/octet-stream".to_owned(), json);
            }
        }
    }
}

/// A `*Filter` schema is one value or several joined with commas; the client sends one value per
/// key, so its filters take the plain schema, such as `SpecStatus` for `SpecStatusFilter`.
fn single_value_filters(document: &mut OpenAPI) {
    const FILTER: &str = "Filter";
    for item in document.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else { continue };
        let Some(operation) = item.get.as_mut() else { continue };
        for parameter in &mut operation.parameters {
            let ReferenceOr::Item(Parameter::Query { parameter_data, .. }) = parameter else { continue };
            let ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) = &mut parameter_data.format
            else {
                continue;
            };
            let SchemaKind::Type(Type::Array(array)) = &mut schema.schema_kind else { continue };
            if let Some(ReferenceOr::Reference { reference }) = &mut array.items
                && let Some(plain) = reference.strip_suffix(FILTER)
            {
                *reference = plain.to_owned();
            }
        }
    }
    if let Some(components) = document.components.as_mut() {
        components.schemas.retain(|name, _| !name.ends_with(FILTER));
    }
}

fn is_success(code: &StatusCode) -> bool {
    match code {
        StatusCode::Code(n) => (200..300).contains(n),
        StatusCode::Range(n) => *n == 2,
    }
}

fn default_required_properties(document: &mut OpenAPI) {
    let Some(components) = document.components.as_mut() else {
        return;
    };
    for schema in components.schemas.values_mut() {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        let SchemaKind::Type(Type::Object(object)) = &mut schema.schema_kind else {
            continue;
        };
        let properties = &object.properties;
        object.required.retain(|name| match properties.get(name) {
            Some(ReferenceOr::Item(property)) => property.schema_data.default.is_none(),
            _ => true,
        });
    }
}

/// The schemas that only answers use: reachable from a success response, not from any request
/// body or parameter.
pub fn answer_only_schemas(text: &str) -> HashSet<String> {
    let document: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let schemas = &document["components"]["schemas"];
    let (mut answers, mut requests) = (Vec::new(), Vec::new());
    for item in document["paths"].as_object().into_iter().flatten().map(|(_, item)| item) {
        for operation in item.as_object().into_iter().flatten().map(|(_, operation)| operation) {
            for (code, response) in operation["responses"].as_object().into_iter().flatten() {
                if code.starts_with('2') {
                    refs(response, &mut answers);
                }
            }
            refs(&operation["requestBody"], &mut requests);
            refs(&operation["parameters"], &mut requests);
        }
    }
    let reached = |mut pending: Vec<String>| {
        let mut seen = HashSet::new();
        while let Some(name) = pending.pop() {
            if seen.insert(name.clone()) {
                refs(&schemas[name.as_str()], &mut pending);
            }
        }
        seen
    };
    let requests = reached(requests);
    reached(answers).into_iter().filter(|name| !requests.contains(name)).collect()
}

/// Every schema named by a `$ref` inside `value`.
fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(fields) => {
            for (key, field) in fields {
                match (key.as_str(), field.as_str()) {
                    ("$ref", Some(reference)) => {
                        out.push(reference.rsplit('/').next().unwrap_or_default().to_owned())
                    }
                    _ => refs(field, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
        _ => {}
    }
}
