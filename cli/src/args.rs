//! The argument groups that several commands share: an input file with its template variables,
//! a listing's options, a wait, and the output format. The command tree that uses them is in
//! `app.rs`; each command group's own flags are in its file under `commands/`.

use std::{marker::PhantomData, path::PathBuf, time::Duration};

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Json,
    Yaml,
    /// A table, for lists.
    Table,
    /// For `plan`: a pull-request comment.
    Markdown,
}

/// An input file of type `T` and the variables of its template; or, instead, `T`'s sample or
/// schema.
#[derive(Debug, Args)]
pub struct InputFile<T: Send + Sync + 'static> {
    /// A YAML file, or a Jinja template of one; `-` reads standard input.
    #[arg(required_unless_present_any = ["generate", "schema"])]
    pub file: Option<PathBuf>,
    /// Print a sample input file for this command, and nothing else.
    #[arg(long)]
    pub generate: bool,
    /// Print the JSON Schema of this command's input file, and nothing else.
    #[arg(long, conflicts_with = "generate")]
    pub schema: bool,
    /// A YAML map of template variables.
    #[arg(short = 'v', long)]
    pub params_file: Option<PathBuf>,
    /// A template variable as key=value (repeatable; wins over the params file).
    #[arg(short = 'p', long = "params", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    #[arg(skip)]
    pub kind: PhantomData<T>,
}

/// Paging of a list; one page unless `--all`.
#[derive(Debug, Args)]
pub struct Listing {
    /// Items per page.
    #[arg(long)]
    pub page_size: Option<u64>,
    /// The page to print, from 1.
    #[arg(long, conflicts_with = "all")]
    pub page_number: Option<u64>,
    /// Sort keys (repeatable or comma-separated): field, field:asc or field:desc.
    #[arg(long, value_delimiter = ',', value_parser = non_empty)]
    pub sort: Vec<String>,
    /// Every item on every page: JSON lines, YAML documents or one table.
    #[arg(long)]
    pub all: bool,
}

/// Waiting for a deployment to settle after the call.
#[derive(Debug, Args)]
pub struct Wait {
    /// Wait until the deployment is deployed (or gone, after a delete); fails if it fails.
    #[arg(long)]
    pub wait: bool,
    /// How long to wait, such as 90s, 15m or 1h30m.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "15m", requires = "wait")]
    pub timeout: Duration,
}

/// A list option's value with its spaces trimmed, as `--status "deployed, failed"` means it;
/// for the open enums of statuses and scopes, which take any text the service may know.
pub fn open<T: for<'a> From<&'a str>>(text: &str) -> Result<T, String> {
    non_empty(text).map(|text| T::from(text.as_str()))
}

/// A list option's value with its spaces trimmed; an empty one is refused.
pub fn non_empty(text: &str) -> Result<String, String> {
    match text.trim() {
        "" => Err("an empty value: give one, or several separated by commas".to_owned()),
        trimmed => Ok(trimmed.to_owned()),
    }
}
