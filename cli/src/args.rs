//! The command tree and its flags: the same commands, positional arguments and option names as
//! the official `peak apps`, so that a script can swap one for the other.

use std::{path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

/// A drop-in for `peak apps`: app specs, releases, deployments and revisions on Peak's Press API.
///
/// The token is read from PEAK_AUTH_TOKEN (or API_KEY) and the stage from PEAK__STAGE (or STAGE),
/// as the official CLI reads them.
#[derive(Debug, Parser)]
#[command(
    name = "press-apps",
    version,
    after_help = "Exit codes: 0 success, 1 other, 2 usage or a bad input file, 3 not found, 4 conflict, \
                  5 authentication, 6 service or network, 7 a deployment waited on failed or timed out."
)]
pub struct Cli {
    /// Send requests to this URL instead of the stage's (an emulator or a proxy).
    #[arg(long, global = true, env = "PRESS_APPS_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,

    /// How to print the answer.
    #[arg(short, long, global = true, value_enum, default_value_t = Output::Json)]
    pub output: Output,

    /// Print the exact requests (method, URL, headers with the token redacted, body as sent)
    /// instead of sending them.
    #[arg(long, global = true)]
    pub dry_run: bool,

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
    /// Prints the JSON Schema of a command's input file, for editors (`schema specs create`).
    Schema {
        /// `specs` or `deployments`.
        group: String,
        /// The command, such as `create` or `update-metadata`.
        command: String,
    },
    /// Prints a completion script for a shell.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum Specs {
    /// Creates an app spec with its first release.
    Create {
        #[command(flatten)]
        file: InputFile,
        /// A markdown or text file: the spec's description.
        #[arg(short = 'd', long)]
        desc_file: Option<PathBuf>,
        /// A markdown or text file: the release notes.
        #[arg(short = 'n', long)]
        release_notes_file: Option<PathBuf>,
    },
    /// Lists app specs.
    List {
        #[command(flatten)]
        listing: Listing,
        #[command(flatten)]
        filters: Filters,
        /// Only titles starting with this.
        #[arg(long)]
        title: Option<String>,
        /// Only these scopes (comma-separated).
        #[arg(long)]
        scope: Option<String>,
        /// Only featured specs (or, with `--featured false`, only the others).
        #[arg(long, num_args = 0..=1, default_missing_value = "true")]
        featured: Option<bool>,
    },
    /// Describes an app spec.
    Describe { spec_id: String },
    /// Updates an app spec's metadata, featured flag, scope or tenants.
    UpdateMetadata {
        #[arg(required_unless_present = "generate")]
        spec_id: Option<String>,
        #[command(flatten)]
        file: InputFile,
        /// A markdown or text file: the spec's description.
        #[arg(short = 'd', long)]
        desc_file: Option<PathBuf>,
    },
    /// Deletes an app spec.
    Delete { spec_id: String },
    /// Publishes a new release of an app spec.
    CreateRelease {
        #[arg(required_unless_present = "generate")]
        spec_id: Option<String>,
        #[command(flatten)]
        file: InputFile,
        /// A markdown or text file: the release notes.
        #[arg(short = 'n', long)]
        release_notes_file: Option<PathBuf>,
    },
    /// Describes one release of an app spec.
    DescribeRelease {
        #[arg(long)]
        spec_id: String,
        #[arg(long)]
        version: String,
    },
    /// Lists the releases of an app spec.
    ListReleases {
        #[arg(long)]
        spec_id: String,
        #[command(flatten)]
        listing: Listing,
    },
}

#[derive(Debug, Subcommand)]
pub enum Deployments {
    /// Deploys a release of an app spec.
    Create {
        #[command(flatten)]
        file: InputFile,
        /// A markdown or text file: the deployment's description.
        #[arg(short = 'd', long)]
        desc_file: Option<PathBuf>,
        /// A markdown or text file: the revision notes.
        #[arg(short = 'n', long)]
        revision_notes_file: Option<PathBuf>,
        #[command(flatten)]
        wait: Wait,
    },
    /// Lists app deployments.
    List {
        #[command(flatten)]
        listing: Listing,
        #[command(flatten)]
        filters: Filters,
    },
    /// Describes an app deployment.
    Describe { deployment_id: String },
    /// Updates an app deployment's metadata.
    UpdateMetadata {
        #[arg(required_unless_present = "generate")]
        deployment_id: Option<String>,
        #[command(flatten)]
        file: InputFile,
        /// A markdown or text file: the deployment's description.
        #[arg(short = 'd', long)]
        desc_file: Option<PathBuf>,
    },
    /// Deletes an app deployment.
    Delete {
        deployment_id: String,
        #[command(flatten)]
        wait: Wait,
    },
    /// Deploys the latest revision of a failed or warning deployment again.
    Redeploy {
        deployment_id: String,
        #[command(flatten)]
        wait: Wait,
    },
    /// Creates a revision of an app deployment.
    CreateRevision {
        #[arg(required_unless_present = "generate")]
        deployment_id: Option<String>,
        #[command(flatten)]
        file: InputFile,
        /// A markdown or text file: the revision notes.
        #[arg(short = 'n', long)]
        revision_notes_file: Option<PathBuf>,
        #[command(flatten)]
        wait: Wait,
    },
    /// Describes one revision of an app deployment.
    DescribeRevision {
        #[arg(long)]
        deployment_id: String,
        #[arg(long)]
        revision: u64,
    },
    /// Lists the revisions of an app deployment.
    ListRevisions {
        deployment_id: String,
        #[command(flatten)]
        listing: Listing,
        /// Only these statuses (comma-separated).
        #[arg(long)]
        status: Option<String>,
    },
}

/// An input file and the variables of its template.
#[derive(Debug, Args)]
pub struct InputFile {
    /// A YAML file, or a Jinja template of one.
    #[arg(required_unless_present = "generate")]
    pub file: Option<PathBuf>,
    /// Print a sample input file for this command, and nothing else.
    #[arg(long)]
    pub generate: bool,
    /// A YAML map of template variables.
    #[arg(short = 'v', long)]
    pub params_file: Option<PathBuf>,
    /// A template variable as key=value (repeatable; wins over the params file).
    #[arg(short = 'p', long = "params", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
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
    /// Sort keys, comma-separated: field, field:asc or field:desc.
    #[arg(long)]
    pub sort: Option<String>,
    /// Every item on every page: JSON lines, YAML documents or one table.
    #[arg(long)]
    pub all: bool,
}

/// The filters that the specs and deployments listings share.
#[derive(Debug, Args)]
pub struct Filters {
    /// Only these statuses (comma-separated).
    #[arg(long)]
    pub status: Option<String>,
    /// Only names starting with this.
    #[arg(long)]
    pub name: Option<String>,
}

/// Waiting for a deployment to settle after the call.
#[derive(Debug, Args)]
pub struct Wait {
    /// Wait until the deployment is deployed (or gone, after a delete); fails if it fails.
    #[arg(long)]
    pub wait: bool,
    /// How long to wait, such as 90s or 15m.
    #[arg(long, value_parser = parse_duration, default_value = "15m", requires = "wait")]
    pub timeout: Duration,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let number: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration such as 90s or 15m"))?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(number)),
        "ms" => Ok(Duration::from_millis(number)),
        "m" => Ok(Duration::from_secs(number * 60)),
        "h" => Ok(Duration::from_secs(number * 3600)),
        _ => Err(format!("{text:?} is not a duration such as 90s or 15m")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_tree_is_consistent() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
