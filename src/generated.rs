//! The client that `build.rs` generates from `openapi/press-apps.json`: one request builder per
//! operation, and the types of the document's schemas. Nothing here is written by hand.
#![allow(missing_docs, unused_imports, clippy::all, clippy::pedantic)]

include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
