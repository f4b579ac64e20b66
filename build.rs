//! Generates the typed client from `openapi/press-apps.json` with progenitor, in three steps,
//! each in its own module:
//! - [`document`]: the parsed copy of the published document is adjusted so that progenitor
//!   generates what the facade needs (the published file itself stays as it is);
//! - progenitor generates the client and the types, with the facade's replacements for the open
//!   enums and the requirement that the facade implements the transport hooks;
//! - [`rewrite`]: the generated syntax tree is adjusted where progenitor has no setting for what
//!   the facade needs.
//!
//! When progenitor rejects the document, [`culprit`] names the operation at fault.
//!
//! This file is the entry, where readers and tools look for a build script; its modules live in
//! `build/`.

#[path = "build/culprit.rs"]
mod culprit;
#[path = "build/document.rs"]
mod document;
#[path = "build/rewrite.rs"]
mod rewrite;

use std::{env, fs, panic, path::Path, str::FromStr};

use openapiv3::OpenAPI;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};

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
    println!("cargo:rerun-if-changed=build");

    let text = fs::read_to_string(DOCUMENT).unwrap_or_else(|e| fail(&format!("cannot read {DOCUMENT}: {e}")));
    let mut parsed: OpenAPI = serde_json::from_str(&text)
        .unwrap_or_else(|e| fail(&format!("{DOCUMENT} is not a valid OpenAPI 3.0 document: {e}")));
    let answers_only = document::answer_only_schemas(&text);
    document::adjust(&mut parsed);

    let tokens = generate(&parsed).unwrap_or_else(|why| {
        fail(&format!("progenitor rejected {DOCUMENT}{}: {why}", culprit::find(&parsed)))
    });
    let mut file: syn::File =
        syn::parse2(tokens).unwrap_or_else(|e| fail(&format!("generated code does not parse: {e}")));
    if let Err(why) = rewrite::all(&mut file, &answers_only) {
        fail(&why);
    }
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out_dir).join("codegen.rs");
    fs::write(&out, prettyplease::unparse(&file))
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", out.display())));
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
        // No silent default: without the facade's impl of the hooks (auth header, tracing, body
        // cap) the crate does not compile, rather than sending requests without `Authorization`.
        .with_hooks(HooksMode::Expected)
        .with_derive("PartialEq");
    if env::var_os("CARGO_FEATURE_SCHEMARS").is_some() {
        settings.with_derive("::schemars::JsonSchema");
    }
    for (schema, rust_type) in REPLACEMENTS {
        settings.with_replacement(schema, rust_type, std::iter::empty::<TypeImpl>());
    }
    settings
}

fn tokens(code: &str) -> proc_macro2::TokenStream {
    proc_macro2::TokenStream::from_str(code).expect("a Rust path")
}

/// Generates the client, turning progenitor's panics into errors.
fn generate(document: &OpenAPI) -> Result<proc_macro2::TokenStream, String> {
    panic::catch_unwind(|| Generator::new(&settings()).generate_tokens(document))
        .map_err(|payload| culprit::panic_text(payload.as_ref()))?
        .map_err(|e| e.to_string())
}
