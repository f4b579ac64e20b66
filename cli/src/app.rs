//! The command tree on top: the global flags, the commands, and which function runs each. The
//! commands' own flags and calls are in `commands/`, the argument groups they share in
//! `args.rs`; imports run one way, from here down.

use clap::{Parser, Subcommand};

use crate::{
    args::Output,
    commands::{
        LazyClient,
        declarative::{self, ApplyArgs, PlanArgs},
        deployments::{self, Deployments},
        export::{self, ExportArgs},
        specs::{self, Specs},
        watch::{self, WatchArgs},
    },
    failure::{Failure, exit_codes_help},
    jq::Jq,
    output::Printer,
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
    /// Keeps the service converged to the files: a round of plan and apply every interval and
    /// whenever a file changes; drift is healed, failing resources back off, and `--listen`
    /// serves a status page, /status, /metrics, /healthz and /readyz. Stops on SIGTERM or Ctrl-C.
    Watch(WatchArgs),
    /// Writes the tenant's specs and deployments as the files plan and apply read, to adopt what
    /// already exists: export, commit, then `apply --owner NAME`.
    Export(ExportArgs),
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

/// Runs the command `cli` names, printing its answer.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    let jq = cli.jq.as_deref().map(Jq::new).transpose()?;
    if jq.is_some() && cli.output.is_some_and(|output| output != Output::Json) {
        return Err(Failure::usage("--jq filters JSON: leave out -o/--output"));
    }
    if cli.output == Some(Output::Markdown) && !matches!(cli.command, Command::Plan(_)) {
        return Err(Failure::usage(
            "-o markdown is for plan (a pull-request comment); use json, yaml or table",
        ));
    }
    let mut printer = Printer::new(cli.output, jq);
    let client = LazyClient::new(cli.base_url, cli.dry_run);
    let outcome = match cli.command {
        Command::Specs(command) => specs::run(command, &client, &mut printer).await,
        Command::Deployments(command) => deployments::run(command, &client, &mut printer).await,
        Command::Plan(args) => declarative::plan_command(args, &client, &mut printer).await,
        Command::Apply(args) => declarative::apply_command(args, &client, &mut printer).await,
        Command::Export(args) => export::export_command(args, &client).await,
        Command::Watch(args) => watch::watch_command(args, &client).await,
        Command::Schema { group, command } => {
            schema_of(&group, command.as_deref().unwrap_or_default(), &client, &mut printer).await
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "press-apps", &mut std::io::stdout());
            Ok(())
        }
    };
    outcome?;
    printer.flush()
}

/// `press-apps schema GROUP COMMAND`: that command's own `--schema`, so that which file a command
/// takes is said once, by the command; `schema apply` for the files of plan and apply.
async fn schema_of(
    group: &str,
    command: &str,
    client: &LazyClient,
    printer: &mut Printer,
) -> Result<(), Failure> {
    if matches!(group, "apply" | "plan") {
        return printer.value(&declarative::set_file_schema());
    }
    let parsed =
        <Cli as clap::Parser>::try_parse_from(["press-apps", group, command, "--schema"]).map_err(|_| {
            Failure::usage(format!("`{group} {command}` takes no input file, so it has no schema"))
        })?;
    match parsed.command {
        Command::Specs(command) => specs::run(command, client, printer).await,
        Command::Deployments(command) => deployments::run(command, client, printer).await,
        _ => Err(Failure::usage(format!("`{group} {command}` takes no input file, so it has no schema"))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_tree_is_consistent() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
