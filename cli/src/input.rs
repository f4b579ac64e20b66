//! Input files as the official CLI reads them: a YAML file or a Jinja template of one, with
//! variables from `-v` and `-p` and the environment as `os_env`, and `{% include %}` relative to
//! the including file. Unlike the official CLI, an undefined variable, a circular include or a key
//! that nothing reads is an error that names the file, the line and the key.
//!
//! Each kind of file is one Rust type ([`FileKind`]): what it parses into, its sample for
//! `--generate`, and its JSON Schema for `--schema`, derived from the type with schemars.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    io::Read as _,
    path::{Path, PathBuf},
};

use schemars::{
    JsonSchema,
    r#gen::SchemaSettings,
    schema::{Metadata, RootSchema, Schema, SchemaObject, SubschemaValidation},
    visit::{Visitor, visit_schema_object},
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{args::InputFile, failure::Failure, output::Printer};

/// The deepest chain of includes followed.
const MAX_INCLUDE_DEPTH: usize = 32;

/// A kind of input file: the type it parses into, which also gives its JSON Schema.
pub trait FileKind: DeserializeOwned + JsonSchema + Send + Sync + 'static {
    /// What `--generate` prints: a sample that runs as it is.
    const SAMPLE: &'static str;
}

impl<T: FileKind> InputFile<T> {
    /// The file, parsed; or `None` once the sample or the schema asked for instead was printed.
    pub fn load(&self, printer: &mut Printer) -> Result<Option<T>, Failure> {
        if self.generate {
            printer.text(T::SAMPLE)?;
            return Ok(None);
        }
        if self.schema {
            printer.value(&schema::<T>())?;
            return Ok(None);
        }
        let file = self.file.as_deref().ok_or_else(|| Failure::usage("no input file was given"))?;
        Template::new(self.params_file.as_deref(), &self.params)?.render(file)?.parse().map(Some)
    }
}

/// The variables that input files are rendered with: a params file, `-p` pairs over it, and the
/// environment as `os_env`.
pub struct Template {
    variables: BTreeMap<String, Value>,
}

impl Template {
    pub fn new(params_file: Option<&Path>, params: &[String]) -> Result<Self, Failure> {
        let mut variables = BTreeMap::new();
        if let Some(path) = params_file {
            let text = std::fs::read_to_string(path)
                .map_err(|error| Failure::usage(format!("cannot read {}: {error}", path.display())))?;
            let map: BTreeMap<String, Value> = yaml_serde::from_str(&text).map_err(|error| {
                Failure::usage(format!("{}: not a YAML map of variables: {error}", path.display()))
            })?;
            variables.extend(map);
        }
        for pair in params {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| Failure::usage(format!("-p {pair:?}: expected KEY=VALUE")))?;
            variables.insert(key.trim().to_owned(), Value::String(value.to_owned()));
        }
        let environment: serde_json::Map<String, Value> =
            std::env::vars().map(|(k, v)| (k, Value::String(v))).collect();
        variables.insert("os_env".to_owned(), Value::Object(environment));
        Ok(Self { variables })
    }

    /// `file` (`-`: standard input) rendered, its includes with it.
    pub fn render(&self, file: &Path) -> Result<Rendered, Failure> {
        let (shown, source) = if file == Path::new("-") {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|error| Failure::usage(format!("cannot read standard input: {error}")))?;
            (STANDARD_INPUT.to_owned(), text)
        } else {
            let text = std::fs::read_to_string(file)
                .map_err(|error| Failure::usage(format!("cannot read {}: {error}", file.display())))?;
            (file.display().to_string(), text)
        };
        check_includes(&shown, &source, &mut Vec::new())?;
        let text = render(&shown, &source, self.variables.clone())?;
        Ok(Rendered { shown, text })
    }
}

/// How messages name a file read from standard input; its includes are found from the working
/// directory.
const STANDARD_INPUT: &str = "standard input";

/// A file as rendered, ready to parse.
pub struct Rendered {
    /// How messages name the file.
    pub shown: String,
    pub text: String,
}

impl Rendered {
    /// The file as YAML, untyped.
    pub fn value(&self) -> Result<Value, Failure> {
        yaml_serde::from_str(&self.text).map_err(|error| Failure::usage(format!("{}: {error}", self.shown)))
    }

    /// The line and column of the key at `path`, as a message's suffix.
    pub fn place(&self, path: &str) -> String {
        place_of(&self.text, path)
            .map(|(line, column)| format!(" (line {line}, column {column})"))
            .unwrap_or_default()
    }

    /// The file as `T`, then checked against the rules the service would refuse it for, so that
    /// every mistake names the file, line and key.
    pub fn parse<T: DeserializeOwned + JsonSchema>(&self) -> Result<T, Failure> {
        let shown = &self.shown;
        let mut unknown = Vec::new();
        let mut track = serde_path_to_error::Track::new();
        let deserializer = serde_path_to_error::Deserializer::new(
            yaml_serde::Deserializer::from_str(&self.text),
            &mut track,
        );
        // serde_ignored marks a step into an `Option` with `?`, which is no key of the file.
        let parsed = serde_ignored::deserialize(deserializer, |path| {
            unknown
                .push(path.to_string().split('.').filter(|part| *part != "?").collect::<Vec<_>>().join("."))
        });
        // A misspelt key is reported before what it leaves missing: it is the likelier cause.
        match (parsed, unknown.first()) {
            (_, Some(path)) => {
                let mut message = format!("{shown}: unknown key `{path}`");
                if let Some(suggestion) =
                    suggest(&serde_json::to_value(schema::<T>()).unwrap_or_default(), path)
                {
                    let _ = write!(message, "; did you mean `{suggestion}`?");
                }
                message.push_str(&self.place(path));
                Err(Failure::usage(message))
            }
            (Ok(value), None) => {
                check_versions(shown, &self.text)?;
                Ok(value)
            }
            (Err(error), None) => {
                let path: Vec<String> = track
                    .path()
                    .iter()
                    .filter_map(|segment| match segment {
                        serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                        serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                        serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
                        _ => None,
                    })
                    .collect();
                Err(Failure::usage(self.explain::<T>(&path, &error)))
            }
        }
    }

    /// Why the file is not a `T`, in the file's terms, built from what is known of it: where
    /// (the path the reading stopped at, and the parser's line), what is there (the file's value
    /// at that path) and what belongs there (the file's JSON Schema at that path). The YAML
    /// library's own message, unchanged, when none of these explains it.
    fn explain<T: JsonSchema>(&self, path: &[String], error: &yaml_serde::Error) -> String {
        let shown = &self.shown;
        let fallback = || format!("{shown}: {error}");
        let Ok(document) = yaml_serde::from_str::<Value>(&self.text) else { return fallback() };
        let schema = serde_json::to_value(schema::<T>()).unwrap_or_default();
        let definitions = &schema["definitions"];
        let mut expected = resolve(definitions, &schema);
        let mut found = Some(&document);
        for key in path {
            found = found.and_then(|value| match value {
                Value::Array(items) => items.get(key.parse::<usize>().ok()?),
                other => other.get(key),
            });
            let next = expected.get("properties").and_then(|p| p.get(key)).or_else(|| expected.get("items"));
            expected = resolve(definitions, next.unwrap_or(&Value::Null));
        }
        let dotted = path.join(".");
        let at = if dotted.is_empty() { String::new() } else { format!("`{dotted}`: ") };
        let place = error
            .location()
            .map(|location| format!(" (line {}, column {})", location.line(), location.column()))
            .unwrap_or_else(|| self.place(&dotted));
        let Some(found) = found else { return fallback() };
        let allowed = types_of(definitions, expected);
        if !allowed.is_empty() && !allowed.iter().any(|kind| fits(kind, found)) {
            let belongs: Vec<&str> = allowed.iter().map(|kind| in_words(kind)).collect();
            return format!(
                "{shown}: {at}{} where {} belongs{place}",
                described(found),
                belongs.join(" or ")
            );
        }
        if let Some(choices) = expected.get("enum").and_then(Value::as_array)
            && !found.is_null()
            && !choices.contains(found)
        {
            let choices: Vec<String> = choices.iter().map(Value::to_string).collect();
            return format!("{shown}: {at}{found} is not one of {}{place}", choices.join(", "));
        }
        if let (Some(required), Some(given)) =
            (expected.get("required").and_then(Value::as_array), found.as_object())
            && let Some(missing) =
                required.iter().filter_map(Value::as_str).find(|key| !given.contains_key(*key))
        {
            return format!("{shown}: {at}`{missing}` is required here{place}");
        }
        fallback()
    }
}

/// The JSON Schema (draft 7) of a kind of file. Objects allow no key their type does not name,
/// as `press-apps` itself refuses unknown keys.
pub fn schema<T: JsonSchema>() -> RootSchema {
    SchemaSettings::draft07().with_visitor(NoUnknownKeys).into_generator().into_root_schema_for::<T>()
}

/// The JSON Schema of a file that is either an `A` or a `B`.
pub fn either_schema<A: JsonSchema, B: JsonSchema>(title: &str) -> RootSchema {
    let mut generator = SchemaSettings::draft07().into_generator();
    let choices = vec![generator.subschema_for::<A>(), generator.subschema_for::<B>()];
    let mut root = RootSchema {
        meta_schema: generator.settings().meta_schema.clone(),
        schema: SchemaObject {
            metadata: Some(Box::new(Metadata { title: Some(title.to_owned()), ..Metadata::default() })),
            subschemas: Some(Box::new(SubschemaValidation {
                any_of: Some(choices),
                ..SubschemaValidation::default()
            })),
            ..SchemaObject::default()
        },
        definitions: generator.take_definitions(),
    };
    NoUnknownKeys.visit_root_schema(&mut root);
    root
}

#[derive(Debug, Clone)]
struct NoUnknownKeys;

impl Visitor for NoUnknownKeys {
    fn visit_schema_object(&mut self, schema: &mut SchemaObject) {
        if let Some(object) = schema.object.as_mut()
            && !object.properties.is_empty()
            && object.additional_properties.is_none()
        {
            object.additional_properties = Some(Box::new(Schema::Bool(false)));
        }
        visit_schema_object(self, schema);
    }
}

/// The file an include names, as its template's name: relative to the including file's
/// directory (the working directory's for standard input).
fn joined(name: &str, parent: &str) -> String {
    let dir = if parent == STANDARD_INPUT {
        Path::new(".")
    } else {
        Path::new(parent).parent().unwrap_or(Path::new("."))
    };
    dir.join(name).display().to_string()
}

/// Refuses a circle of includes, naming its chain, and a chain deeper than
/// [`MAX_INCLUDE_DEPTH`], before anything is rendered. `chain` holds the files being followed.
fn check_includes(shown: &str, source: &str, chain: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let canonical = Path::new(shown).canonicalize().unwrap_or_else(|_| PathBuf::from(shown));
    if chain.contains(&canonical) {
        let circle: Vec<String> = chain.iter().chain([&canonical]).map(|p| p.display().to_string()).collect();
        return Err(Failure::usage(format!("circular include: {}", circle.join(" -> "))));
    }
    if chain.len() >= MAX_INCLUDE_DEPTH {
        return Err(Failure::usage(format!("{shown}: includes nest deeper than {MAX_INCLUDE_DEPTH}")));
    }
    chain.push(canonical);
    for target in source.lines().filter_map(include_target) {
        let included = joined(target, shown);
        // A file that cannot be read is the template's own error, with its line.
        if let Ok(text) = std::fs::read_to_string(&included) {
            check_includes(&included, &text, chain)?;
        }
    }
    chain.pop();
    Ok(())
}

/// A template's source with each include that stands indented on its line wrapped in Jinja's
/// `indent` filter, so that every line of the included file keeps that indentation (the first
/// has the line's own), as the official CLI keeps it. Line numbers do not change.
fn indented_includes(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for line in source.split_inclusive('\n') {
        let width = line.len() - line.trim_start_matches(' ').len();
        match include_target(line) {
            Some(_) if width > 0 => {
                let (body, end) = line.split_at(line.trim_end_matches(['\n', '\r']).len());
                let include = body[width..].trim_end();
                let _ = write!(
                    out,
                    "{}{{% filter indent({width}) %}}{include}{{% endfilter %}}{end}",
                    &body[..width]
                );
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// The file named by a line that is only `{% include "file" %}` (or with single quotes).
fn include_target(line: &str) -> Option<&str> {
    let inner = line.trim().strip_prefix("{%")?.strip_suffix("%}")?;
    let inner = inner.trim_matches('-').trim().strip_prefix("include")?.trim();
    let quote = inner.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    inner.strip_prefix(quote)?.strip_suffix(quote)
}

/// Renders the template, its includes through minijinja's loader; an undefined variable, or any
/// other mistake, is an error naming the file it is in (an included one too) and its line.
fn render(shown: &str, source: &str, variables: BTreeMap<String, Value>) -> Result<String, Failure> {
    let mut environment = minijinja::Environment::new();
    environment.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    environment.set_keep_trailing_newline(true);
    environment.set_path_join_callback(|name, parent| joined(name, parent).into());
    environment.set_loader(|name| match std::fs::read_to_string(name) {
        Ok(text) => Ok(Some(indented_includes(&text))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("cannot read {name}: {error}"),
        )),
    });
    let failure = |environment: &minijinja::Environment<'_>, error: minijinja::Error| {
        // The innermost template error says where: an include's own file and line.
        let mut error = &error;
        while let Some(inner) =
            std::error::Error::source(error).and_then(|e| e.downcast_ref::<minijinja::Error>())
        {
            error = inner;
        }
        let name = error.name().unwrap_or(shown);
        let line = error.line().map(|line| format!(" at line {line}")).unwrap_or_default();
        // The expression at fault, such as `spec_id` for an undefined variable.
        let what = environment
            .get_template(name)
            .ok()
            .and_then(|template| {
                error.range().and_then(|range| template.source().get(range)).map(str::to_owned)
            })
            .map(|code| format!(" `{code}`"))
            .unwrap_or_default();
        let detail = error.detail().map(|d| format!(" ({d})")).unwrap_or_default();
        Failure::usage(format!("{name}{line}: {}{what}{detail}", error.kind()))
    };
    if let Err(error) = environment.add_template_owned(shown.to_owned(), indented_includes(source)) {
        return Err(failure(&environment, error));
    }
    let rendered = environment.get_template(shown).and_then(|template| template.render(variables));
    rendered.map_err(|error| failure(&environment, error))
}

/// The line and column of the key at `path` (such as `body.release.version`), counted from 1,
/// as the YAML parser found it.
fn place_of(text: &str, path: &str) -> Option<(usize, usize)> {
    crate::places::Places::of(text).get(path)
}

/// Every `release.version` (and `releaseVersion`) in the file must be a semantic version: the
/// service refuses anything else, and here the mistake can still be shown where it is.
fn check_versions(shown: &str, rendered: &str) -> Result<(), Failure> {
    let Ok(document) = yaml_serde::from_str::<Value>(rendered) else { return Ok(()) };
    let mut versions = Vec::new();
    release_versions(&document, String::new(), false, &mut versions);
    for (path, value) in versions {
        let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
        if value.is_string() && semver::Version::parse(&text).is_ok() {
            continue;
        }
        let place = place_of(rendered, &path)
            .map(|(line, column)| format!(" (line {line}, column {column})"))
            .unwrap_or_default();
        return Err(Failure::usage(format!(
            "{shown}: `{path}`: {text:?} is not a semantic version such as 1.0.0 (quote it if YAML reads it as a number){place}"
        )));
    }
    Ok(())
}

/// The (path, value) of each release version under `value`.
fn release_versions(value: &Value, path: String, in_release: bool, out: &mut Vec<(String, Value)>) {
    let child = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
    match value {
        Value::Object(map) => {
            for (key, field) in map {
                if (in_release && key == "version") || key == "releaseVersion" {
                    out.push((child(key), field.clone()));
                } else {
                    release_versions(field, child(key), key == "release", out);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                release_versions(item, child(&index.to_string()), false, out);
            }
        }
        _ => {}
    }
}

/// The JSON types a schema allows (`"object"`, `"integer"`, ...), through its choices; none when
/// it says nothing of types.
fn types_of(definitions: &Value, schema: &Value) -> Vec<String> {
    match &schema["type"] {
        Value::String(kind) => return vec![kind.clone()],
        Value::Array(kinds) => return kinds.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => {}
    }
    let choices = ["anyOf", "oneOf"].iter().filter_map(|key| schema[*key].as_array()).flatten();
    let mut kinds: Vec<String> =
        choices.flat_map(|choice| types_of(definitions, resolve_ref(definitions, choice))).collect();
    kinds.dedup();
    kinds
}

/// A schema's `$ref` followed, once.
fn resolve_ref<'d>(definitions: &'d Value, schema: &'d Value) -> &'d Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => &definitions[reference.rsplit('/').next().unwrap_or_default()],
        None => schema,
    }
}

/// Whether `value` is of the JSON type `kind`.
fn fits(kind: &str, value: &Value) -> bool {
    match (kind, value) {
        ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("string", Value::String(_))
        | ("boolean", Value::Bool(_))
        | ("null", Value::Null)
        | ("number", Value::Number(_)) => true,
        ("integer", Value::Number(number)) => number.is_i64() || number.is_u64(),
        _ => false,
    }
}

/// A JSON type as a file's author says it.
fn in_words(kind: &str) -> &'static str {
    match kind {
        "object" => "a map of keys",
        "array" => "a list",
        "string" => "text",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        "null" => "nothing",
        _ => "a value",
    }
}

/// What a file holds at some place, as its author would say it.
fn described(value: &Value) -> String {
    match value {
        Value::Object(_) => "a map of keys".to_owned(),
        Value::Array(_) => "a list".to_owned(),
        Value::String(text) => format!("the text {text:?}"),
        Value::Number(number) => format!("the number {number}"),
        Value::Bool(flag) => format!("`{flag}`"),
        Value::Null => "nothing".to_owned(),
    }
}

/// The known key closest to the last key of `path`, from the properties of the object that
/// `schema` (a file's JSON Schema) gives at that place.
fn suggest(schema: &Value, path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('.').filter(|part| part.parse::<usize>().is_err()).collect();
    let (last, parents) = parts.split_last()?;
    let definitions = &schema["definitions"];
    let mut current = resolve(definitions, schema);
    for key in parents {
        current = resolve(definitions, current.get("properties")?.get(*key)?);
    }
    current
        .get("properties")?
        .as_object()?
        .keys()
        .map(|candidate| (strsim::jaro_winkler(last, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate.clone())
}

/// A schema with `$ref`s, array `items` and `allOf`/`anyOf`/`oneOf` choices followed to the
/// first schema that names properties.
fn resolve<'d>(definitions: &'d Value, mut schema: &'d Value) -> &'d Value {
    for _ in 0..8 {
        if schema.get("properties").is_some() {
            break;
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            schema = &definitions[reference.rsplit('/').next().unwrap_or_default()];
        } else if let Some(items) = schema.get("items") {
            schema = items;
        } else if let Some(choice) = ["allOf", "anyOf", "oneOf"].iter().find_map(|key| {
            schema.get(*key)?.as_array()?.iter().find(|c| c.get("type") != Some(&"null".into()))
        }) {
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
        .map_err(|error| Failure::usage(format!("cannot read {}: {error}", path.display())))
}
