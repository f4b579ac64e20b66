//! Generates the typed client from `openapi/press-apps.json` with progenitor.
//!
//! The published document stays precise (one success code, every documented error). Before
//! generating, two things are changed in the parsed copy only, so that the facade sees every
//! response whole:
//! - error responses are removed: progenitor then hands any non-2xx response to the facade as
//!   `UnexpectedResponse`, with status, headers and body intact, instead of decoding it itself and
//!   losing the status when the body is empty, HTML or off-schema;
//! - the one success code becomes the range `2XX`, so a service answering 200 where the document
//!   says 201 is still understood;
//! - a required property with a default (such as `NewSpec.kind`) is no longer required, so the
//!   generated builder fills it in; the field is not optional in Rust and is always sent;
//! - the listings' filters take one value each (the document also allows several comma-joined,
//!   as the official CLI sends them);
//! - (after generation) the builders' setters of optional fields take plain values;
//! - (after generation) the types that only answers use keep their empty lists and maps when
//!   serialized (`"tenants": []`), so that what a program or the CLI prints of an answer is what
//!   the service sent; request types still leave an unset list out, so a PATCH does not clear it;
//! - the four listings answer raw bytes: the pager holds prefetched pages as their bodies and
//!   decodes each into the generated `*Page` type only when it reaches the head of the queue, so
//!   what a listing holds in memory is bounded in bytes.

use std::{collections::HashSet, env, fs, panic, path::Path, str::FromStr, time::Instant};

use openapiv3::{OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, SchemaKind, StatusCode, Type};
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle, TypeImpl};

const DOCUMENT: &str = "openapi/press-apps.json";

/// Schemas replaced by handwritten types in `src/model.rs`: statuses and scopes stay decodable
/// when the service adds a value, and parameter values keep integers apart from floats.
const REPLACEMENTS: &[(&str, &str)] = &[
    ("SpecStatus", "crate::model::SpecStatus"),
    ("SpecStatusValue", "crate::model::SpecStatus"),
    ("SpecScope", "crate::model::SpecScope"),
    ("SpecScopeValue", "crate::model::SpecScope"),
    ("DeploymentStatus", "crate::model::DeploymentStatus"),
    ("DeploymentStatusValue", "crate::model::DeploymentStatus"),
    ("RevisionStatus", "crate::model::RevisionStatus"),
    ("RevisionStatusValue", "crate::model::RevisionStatus"),
    ("ParameterValue", "crate::model::ParameterValue"),
    // The document spells "a scope or null" and "parameters or null" as schemas of their own, as
    // OpenAPI 3.0 requires for every tool to read them; in Rust they are plain options.
    ("NullableSpecScope", "::std::option::Option<crate::model::SpecScope>"),
    ("NullableParameterDefinitions", "::std::option::Option<crate::generated::types::ParameterDefinitions>"),
];

fn main() {
    println!("cargo:rerun-if-changed={DOCUMENT}");
    println!("cargo:rerun-if-changed=build.rs");

    let text = fs::read_to_string(DOCUMENT).unwrap_or_else(|e| fail(&format!("cannot read {DOCUMENT}: {e}")));
    let mut document: OpenAPI = serde_json::from_str(&text)
        .unwrap_or_else(|e| fail(&format!("{DOCUMENT} is not a valid OpenAPI 3.0 document: {e}")));
    let answers_only = answer_only_schemas(&text);
    keep_success_responses(&mut document);
    raw_listings(&mut document);
    single_value_filters(&mut document);
    default_required_properties(&mut document);

    let started = Instant::now();
    let code = match generate(&document, &answers_only) {
        Ok(code) => code,
        Err(why) => fail(&format!("progenitor rejected {DOCUMENT}{}: {why}", culprit(&document))),
    };
    let generation = started.elapsed();
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out_dir).join("codegen.rs");
    fs::write(&out, code).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", out.display())));
    // For the benchmark suite, which reports what generation costs.
    let timing = Path::new(&out_dir).join("codegen-micros.txt");
    fs::write(&timing, generation.as_micros().to_string())
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", timing.display())));
}

fn fail(message: &str) -> ! {
    panic!("\n\npeak-press-apps build: {message}\n\n");
}

fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type(tokens("crate::transport::Transport"))
        .with_derive("PartialEq");
    for (schema, rust_type) in REPLACEMENTS {
        settings.with_replacement(schema, rust_type, std::iter::empty::<TypeImpl>());
    }
    settings
}

fn tokens(code: &str) -> proc_macro2::TokenStream {
    proc_macro2::TokenStream::from_str(code).expect("a Rust path")
}

/// Generates the client, turning progenitor's panics into errors.
fn generate(document: &OpenAPI, answers_only: &HashSet<String>) -> Result<String, String> {
    let tokens = panic::catch_unwind(|| Generator::new(&settings()).generate_tokens(document))
        .map_err(|payload| panic_text(payload.as_ref()))?
        .map_err(|e| e.to_string())?;
    let mut file = syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    let mut setters = PlainSetters::default();
    syn::visit_mut::VisitMut::visit_file_mut(&mut setters, &mut file);
    syn::visit_mut::VisitMut::visit_file_mut(&mut UnsetIsNone(setters.optional), &mut file);
    syn::visit_mut::VisitMut::visit_file_mut(&mut KeepEmpty(answers_only), &mut file);
    Ok(prettyplease::unparse(&file))
}

/// Makes the builders' setters of optional fields take the value itself: `.title("x")` rather
/// than `.title(Some("x".to_owned()))`. Progenitor's setters are generic over
/// `T: TryInto<Option<Inner>>`; the bound becomes `T: TryInto<Inner>` and the value is wrapped in
/// `Some` after the conversion. It notes each builder's fields so changed, for [`UnsetIsNone`].
#[derive(Default)]
struct PlainSetters {
    /// The builder whose `impl` block is being visited.
    current: Option<String>,
    /// (builder, field) of every setter made plain.
    optional: HashSet<(String, String)>,
}

/// The last segment of a type's path, such as `NewRelease`.
fn type_name(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(path) = ty else { return None };
    Some(path.path.segments.last()?.ident.to_string())
}

impl syn::visit_mut::VisitMut for PlainSetters {
    fn visit_item_impl_mut(&mut self, block: &mut syn::ItemImpl) {
        self.current = if block.trait_.is_none() { type_name(&block.self_ty) } else { None };
        syn::visit_mut::visit_item_impl_mut(self, block);
        self.current = None;
    }

    fn visit_impl_item_fn_mut(&mut self, function: &mut syn::ImplItemFn) {
        let Some(clause) = function.sig.generics.where_clause.as_mut() else { return };
        let mut unwrapped = false;
        for predicate in &mut clause.predicates {
            let syn::WherePredicate::Type(bound) = predicate else { continue };
            for bound in &mut bound.bounds {
                let syn::TypeParamBound::Trait(bound) = bound else { continue };
                let Some(last) = bound.path.segments.last_mut() else { continue };
                if last.ident != "TryInto" {
                    continue;
                }
                let syn::PathArguments::AngleBracketed(arguments) = &mut last.arguments else { continue };
                let Some(syn::GenericArgument::Type(target)) = arguments.args.first_mut() else { continue };
                if let Some(inner) = option_inner(target) {
                    *target = inner;
                    unwrapped = true;
                }
            }
        }
        if unwrapped {
            syn::visit_mut::visit_block_mut(&mut WrapInSome, &mut function.block);
            if let Some(builder) = &self.current {
                self.optional.insert((builder.clone(), function.sig.ident.to_string()));
            }
        }
    }
}

/// Makes a builder's required but nullable fields (`NewRelease.parameters`) start as `None`
/// rather than as "no value supplied": their plain setter can no longer be given `None`, and null
/// is what the service expects when there is nothing to say. The field is still always sent.
struct UnsetIsNone(HashSet<(String, String)>);

impl syn::visit_mut::VisitMut for UnsetIsNone {
    fn visit_item_impl_mut(&mut self, block: &mut syn::ItemImpl) {
        let is_default = block.trait_.as_ref().is_some_and(|(_, path, _)| {
            path.segments.last().is_some_and(|segment| segment.ident == "Default")
        });
        let Some(builder) = type_name(&block.self_ty).filter(|_| is_default) else { return };
        for item in &mut block.items {
            let syn::ImplItem::Fn(function) = item else { continue };
            let Some(syn::Stmt::Expr(syn::Expr::Struct(init), _)) = function.block.stmts.last_mut() else {
                continue;
            };
            for field in &mut init.fields {
                let syn::Member::Named(name) = &field.member else { continue };
                if self.0.contains(&(builder.clone(), name.to_string())) {
                    field.expr = syn::parse_quote!(Ok(Default::default()));
                }
            }
        }
    }
}

/// The `Inner` of a type spelled `Option<Inner>` (with any path before `Option`).
fn option_inner(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else { return None };
    match arguments.args.first()? {
        syn::GenericArgument::Type(inner) => Some(inner.clone()),
        _ => None,
    }
}

/// Turns `value.try_into()` into `value.try_into().map(Some)` in a setter's body.
struct WrapInSome;

impl syn::visit_mut::VisitMut for WrapInSome {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr
            && call.method == "try_into"
            && call.args.is_empty()
        {
            let converted = call.clone();
            *expr = syn::parse_quote!(#converted.map(Some));
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "progenitor panicked".to_string())
}

/// Names the first operation that progenitor rejects on its own, by generating one at a time.
fn culprit(document: &OpenAPI) -> String {
    let quiet = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let mut found = String::new();
    for (path, item) in &document.paths.paths {
        let ReferenceOr::Item(item) = item else { continue };
        for (method, operation) in item.iter() {
            let mut single = document.clone();
            let mut only = item.clone();
            for (other, slot) in [
                ("get", &mut only.get),
                ("put", &mut only.put),
                ("post", &mut only.post),
                ("delete", &mut only.delete),
                ("patch", &mut only.patch),
            ] {
                if other != method {
                    *slot = None;
                }
            }
            single.paths.paths.clear();
            single.paths.paths.insert(path.clone(), ReferenceOr::Item(only));
            if generate(&single, &HashSet::new()).is_err() {
                let id = operation.operation_id.as_deref().unwrap_or("(no operationId)");
                found = format!(" in operation {id} ({} {path})", method.to_uppercase());
                break;
            }
        }
        if !found.is_empty() {
            break;
        }
    }
    panic::set_hook(quiet);
    found
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
fn answer_only_schemas(text: &str) -> HashSet<String> {
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

/// Drops `skip_serializing_if = "...is_empty"` from the fields of the types in its set.
struct KeepEmpty<'a>(&'a HashSet<String>);

impl syn::visit_mut::VisitMut for KeepEmpty<'_> {
    fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
        if !self.0.contains(&item.ident.to_string()) {
            return;
        }
        for field in &mut item.fields {
            for attribute in &mut field.attrs {
                let syn::Meta::List(list) = &attribute.meta else { continue };
                if list.path.is_ident("serde") && list.tokens.to_string().contains("is_empty") {
                    *attribute = syn::parse_quote!(#[serde(default)]);
                }
            }
        }
    }
}
