//! The global flags and the argument groups that several commands share. Each command group's
//! own commands and flags are in its file under `commands/`; together they are the same command
//! tree, positional arguments and option names as the official `peak apps`, so that a script can
//! swap one for the other.

use std::{marker::PhantomData, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{
    commands::{
        declarative::{ApplyArgs, PlanArgs},
        deployments::Deployments,
        specs::Specs,
    },
    failure::exit_codes_help,
};

/// A drop-in for `peak apps`: app specs, releases, deployments and revisions on Peak's Press API.
///
/// The token is read from PEAK_AUTH_TOKEN (or API_KEY) and the stage from PEAK__STAGE (or STAGE),
/// as the official CLI reads them.
#[derive(Debug, Parser)]
#[command(name = "press-apps", version, after_help = exit_codes_help())]
pub struct Cli {
    /// Send requests to this URL instead of the stage's (an emulator or a proxy). Without it,
    /// PRESS_APPS_BASE_URL is read, as the client library reads it.
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,

    /// How to print the answer: JSON unless asked otherwise (`plan` prints text for people unless
    /// asked for JSON).
    #[arg(short, long, global = true, value_enum)]
    pub output: Option<Output>,

    /// Print the exact requests (method, URL, headers with the token redacted, body as sent)
    /// instead of sending them.
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Print only what this jq expression selects from the JSON answer, one result a line, text
    /// without quotes (`--jq .id`); for a listing with `--all`, from each item.
    #[arg(long, global = true, value_name = "EXPR")]
    pub jq: Option<String>,

    /// Show each request (method, URL, status, time, request id) and each retry with its reason
    /// on stderr, the token redacted; twice for the request headers too. RUST_LOG, when set,
    /// chooses instead. (`-v` is `--params-file`, as for `peak`.)
    #[arg(long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Accepted for compatibility with `peak`; output is never paged.
    #[arg(long, global = true, hide = true)]
    pub paging: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Json,
    Yaml,
    /// A table, for lists.
    Table,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// App specs and their releases.
    #[command(subcommand)]
    Specs(Specs),
    /// App deployments and their revisions.
    #[command(subcommand)]
    Deployments(Deployments),
    /// Shows what apply would change to make the service match the files, and sends no write.
    Plan(PlanArgs),
    /// Makes the service match the files: creates, updates, releases, revises and (with
    /// --prune) deletes, in dependency order. Safe to run again, interrupted or twice at once.
    Apply(ApplyArgs),
    /// Prints the JSON Schema of a command's input file, for editors (`schema specs create`,
    /// the same as that command's `--schema`; `schema apply` for the files of plan and apply).
    Schema {
        /// `specs`, `deployments` or `apply`.
        group: String,
        /// The command, such as `create` or `update-metadata`; none for `apply`.
        command: Option<String>,
    },
    /// Prints a completion script for a shell.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_tree_is_consistent() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
