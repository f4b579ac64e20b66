//! The client that `build/` generates from `openapi/press-apps.json`: one request builder per
//! operation, and the types of the document's schemas. Nothing here is written by hand.
//!
//! The facade uses what it needs of it; the rest (such as `Client::new`, which would build a
//! client without the facade's settings) stays unused rather than being rewritten away.
#![allow(missing_docs, unused_imports, dead_code, clippy::all, clippy::pedantic)]

include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
