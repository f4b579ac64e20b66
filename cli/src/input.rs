//! Input files as the official CLI reads them: a YAML file or a Jinja template of one, with
//! variables from `-v` and `-p` and the environment as `os_env`, `{% include %}` relative to the
//! including file, and camelCase or snake_case top-level keys. Unlike the official CLI, an
//! undefined variable, a circular include or a key that nothing reads is an error that names the
//! file, the line and the key.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{args::InputFile, failure::Failure};

/// The deepest chain of includes followed.
const MAX_INCLUDE_DEPTH: usize = 32;

/// Reads `input` into `T`: includes, then the template, then YAML. `body_schema` names the
/// document's schema of the file's `body`, for suggestions.
pub fn load<T: DeserializeOwned>(
    input: &InputFile,
    top_keys: &[&str],
    body_schema: &str,
) -> Result<T, Failure> {
    let file = input.file.as_deref().ok_or_else(|| Failure::usage("no input file was given"))?;
    let shown = file.display().to_string();
    let text = expand(file, &mut Vec::new())?;
    let rendered = render(&shown, &text, variables(input)?)?;
    let rendered = snake_case_top_level(&rendered);
    let mut unknown = Vec::new();
    let deserializer = serde_yaml::Deserializer::from_str(&rendered);
    // serde_ignored marks a step into an `Option` with `?`, which is no key of the file.
    let parsed = serde_ignored::deserialize(deserializer, |path| {
        unknown.push(path.to_string().split('.').filter(|part| *part != "?").collect::<Vec<_>>().join("."))
    });
    // A misspelt key is reported before what it leaves missing: it is the likelier cause.
    match (parsed, unknown.first()) {
        (_, Some(path)) => {
            let mut message = format!("{shown}: unknown key `{path}`");
            if let Some(suggestion) = suggest(path, top_keys, body_schema) {
                let _ = write!(message, "; did you mean `{suggestion}`?");
            }
            if let Some((line, column)) = place_of(&rendered, path) {
                let _ = write!(message, " (line {line}, column {column})");
            }
            Err(Failure::bad_file(message))
        }
        (Ok(value), None) => Ok(value),
        // serde_yaml says where: "body.release: invalid type: ... at line 5 column 12".
        (Err(error), None) => Err(Failure::bad_file(format!("{shown}: {error}"))),
    }
}

/// The file's text with every `{% include "other" %}` line replaced by that file, each of its
/// lines indented as the include line was. `chain` holds the files being expanded, to refuse a
/// circle.
fn expand(file: &Path, chain: &mut Vec<PathBuf>) -> Result<String, Failure> {
    let canonical = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    if chain.contains(&canonical) {
        let circle: Vec<String> = chain.iter().chain([&canonical]).map(|p| p.display().to_string()).collect();
        return Err(Failure::bad_file(format!("circular include: {}", circle.join(" -> "))));
    }
    if chain.len() >= MAX_INCLUDE_DEPTH {
        return Err(Failure::bad_file(format!(
            "{}: includes nest deeper than {MAX_INCLUDE_DEPTH}",
            file.display()
        )));
    }
    let text = std::fs::read_to_string(file)
        .map_err(|error| Failure::bad_file(format!("cannot read {}: {error}", file.display())))?;
    chain.push(canonical);
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        match include_target(line) {
            Some(target) => {
                let indent = &line[..line.len() - line.trim_start().len()];
                let path = file.parent().unwrap_or(Path::new(".")).join(target);
                for included in expand(&path, chain)?.lines() {
                    out.push_str(indent);
                    out.push_str(included);
                    out.push('\n');
                }
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    chain.pop();
    Ok(out)
}

/// The file named by a line that is only `{% include "file" %}` (or with single quotes).
fn include_target(line: &str) -> Option<&str> {
    let inner = line.trim().strip_prefix("{%")?.strip_suffix("%}")?;
    let inner = inner.trim_matches('-').trim().strip_prefix("include")?.trim();
    let quote = inner.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    inner.strip_prefix(quote)?.strip_suffix(quote)
}

/// The template's variables: the params file, then `-p` pairs over it, and `os_env`.
fn variables(input: &InputFile) -> Result<BTreeMap<String, Value>, Failure> {
    let mut variables = BTreeMap::new();
    if let Some(path) = &input.params_file {
        let text = std::fs::read_to_string(path)
            .map_err(|error| Failure::bad_file(format!("cannot read {}: {error}", path.display())))?;
        let map: BTreeMap<String, Value> = serde_yaml::from_str(&text).map_err(|error| {
            Failure::bad_file(format!("{}: not a YAML map of variables: {error}", path.display()))
        })?;
        variables.extend(map);
    }
    for pair in &input.params {
        let (key, value) =
            pair.split_once('=').ok_or_else(|| Failure::usage(format!("-p {pair:?}: expected KEY=VALUE")))?;
        variables.insert(key.trim().to_owned(), Value::String(value.to_owned()));
    }
    let environment: serde_json::Map<String, Value> =
        std::env::vars().map(|(k, v)| (k, Value::String(v))).collect();
    variables.insert("os_env".to_owned(), Value::Object(environment));
    Ok(variables)
}

/// Renders the template; an undefined variable is an error with its line.
fn render(shown: &str, text: &str, variables: BTreeMap<String, Value>) -> Result<String, Failure> {
    let mut environment = minijinja::Environment::new();
    environment.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    environment.set_keep_trailing_newline(true);
    environment.render_str(text, variables).map_err(|error| {
        let line = error.line().map(|line| format!(" at line {line}")).unwrap_or_default();
        // The expression at fault, such as `spec_id` for an undefined variable.
        let what = error
            .range()
            .and_then(|range| text.get(range))
            .map(|code| format!(" `{code}`"))
            .unwrap_or_default();
        let detail = error.detail().map(|d| format!(" ({d})")).unwrap_or_default();
        Failure::bad_file(format!("{shown}{line}: {}{what}{detail}", error.kind()))
    })
}

/// The text with its top-level keys in snake_case (`appParameters:` becomes `app_parameters:`),
/// as the official CLI converts them. Nested keys are the API's and stay as written.
fn snake_case_top_level(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let is_top_key = line.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && line
                .split_once(':')
                .is_some_and(|(key, _)| key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        if is_top_key {
            let (key, rest) = line.split_once(':').expect("checked above");
            for c in key.chars() {
                if c.is_ascii_uppercase() {
                    out.push('_');
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            out.push(':');
            out.push_str(rest);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The line and column where the last key of `path` first appears, counted from 1.
fn place_of(text: &str, path: &str) -> Option<(usize, usize)> {
    let key = format!("{}:", path.rsplit('.').next()?);
    text.lines().enumerate().find_map(|(index, line)| {
        let rest = line.trim_start().trim_start_matches("- ");
        rest.starts_with(&key).then(|| (index + 1, line.len() - rest.len() + 1))
    })
}

/// The known key closest to the last key of `path`: from `top_keys` at the top level, from the
/// document's schema of the body below it.
fn suggest(path: &str, top_keys: &[&str], body_schema: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('.').filter(|part| part.parse::<usize>().is_err()).collect();
    let (last, parents) = parts.split_last()?;
    let known: Vec<String> = match parents {
        [] => top_keys.iter().map(|k| k.to_string()).collect(),
        [first, rest @ ..] if *first == "body" => properties_at(body_schema, rest)?,
        _ => return None,
    };
    known
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(last, &candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// The property names of the schema reached from `schema` through `path`.
fn properties_at(schema: &str, path: &[&str]) -> Option<Vec<String>> {
    let schemas = &crate::schema::components().ok()?;
    let mut current = resolve(schemas, &schemas[schema]);
    for key in path {
        current = resolve(schemas, current.get("properties")?.get(*key)?);
    }
    Some(current.get("properties")?.as_object()?.keys().cloned().collect())
}

/// A schema with `$ref`, array `items` and one-of choices followed to an object's schema.
fn resolve<'d>(schemas: &'d Value, mut schema: &'d Value) -> &'d Value {
    for _ in 0..8 {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            schema = &schemas[reference.rsplit('/').next().unwrap_or_default()];
        } else if let Some(items) = schema.get("items") {
            schema = items;
        } else if let Some(choice) = schema.get("oneOf").and_then(|c| c.get(0)) {
            schema = choice;
        } else {
            break;
        }
    }
    schema
}

/// The text of a `-d` or `-n` file, which must be markdown or plain text.
pub fn text_file(path: &Path) -> Result<String, Failure> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
    if !matches!(extension, "md" | "txt") {
        return Err(Failure::usage(format!("{}: only .md and .txt files are accepted", path.display())));
    }
    std::fs::read_to_string(path)
        .map_err(|error| Failure::bad_file(format!("cannot read {}: {error}", path.display())))
}
