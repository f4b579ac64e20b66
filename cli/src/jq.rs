//! `--jq EXPR`: the JSON output filtered with the jq language, as gh's `--jq` does, evaluated in
//! this process by jaq: no jq needs to be installed. Each result is one line: text as it is
//! (`--jq .id` prints the bare id), anything else as compact JSON.

use jaq_core::{
    Compiler, Ctx, Vars,
    data::JustLut,
    load::{Arena, File, Loader},
    unwrap_valr,
};
use jaq_json::Val;

use crate::failure::Failure;

/// A compiled jq filter.
pub struct Jq {
    expression: String,
    filter: jaq_core::Filter<JustLut<Val>>,
}

impl Jq {
    /// Compiles `expression`; one that does not parse, or names a filter that does not exist, is
    /// a usage error before any request is sent.
    pub fn new(expression: &str) -> Result<Self, Failure> {
        let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs());
        let funs = jaq_core::funs().chain(jaq_std::funs()).chain(jaq_json::funs());
        let arena = Arena::default();
        let modules = Loader::new(defs)
            .load(&arena, File { code: expression, path: () })
            .map_err(|_| Failure::usage(format!("--jq {expression:?} is not a jq expression")))?;
        let filter = Compiler::default().with_funs(funs).compile(modules).map_err(|errors| {
            let undefined: Vec<&str> =
                errors.iter().flat_map(|(_, names)| names.iter().map(|(name, _)| *name)).collect();
            Failure::usage(format!("--jq {expression:?}: undefined: {}", undefined.join(", ")))
        })?;
        Ok(Self { expression: expression.to_owned(), filter })
    }

    /// The lines that the filter makes of `value`.
    pub fn lines(&self, value: &serde_json::Value) -> Result<Vec<String>, Failure> {
        let text = value.to_string();
        let input = jaq_json::read::parse_single(text.as_bytes())
            .map_err(|error| Failure::usage(format!("--jq: the answer is not JSON: {error}")))?;
        let context = Ctx::<JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        self.filter
            .id
            .run((context, input))
            .map(unwrap_valr)
            .map(|result| match result {
                Ok(Val::TStr(text)) => Ok(String::from_utf8_lossy(&text).into_owned()),
                Ok(other) => Ok(other.to_string()),
                Err(error) => Err(Failure::usage(format!("--jq {:?}: {error}", self.expression))),
            })
            .collect()
    }
}
