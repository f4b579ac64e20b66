//! `press-apps specs ...`: app specs and their releases.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use peak_press_apps::{
    SpecScope, SpecStatus,
    types::{NewRelease, NewSpec, ParameterDefinitions, SpecUpdate},
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::{LazyClient, print_listing};
use crate::{
    args::{InputFile, Listing, non_empty, open},
    failure::Failure,
    input::{FileKind, text_file},
    output::{Columns, Printer},
};

#[derive(Debug, Subcommand)]
pub enum Specs {
    /// Creates an app spec with its first release.
    Create {
        #[command(flatten)]
        file: InputFile<SpecFile>,
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
        filters: SpecFilters,
    },
    /// Describes an app spec.
    Describe { spec_id: String },
    /// Updates an app spec's metadata, featured flag, scope or tenants.
    UpdateMetadata {
        #[arg(required_unless_present_any = ["generate", "schema"])]
        spec_id: Option<String>,
        #[command(flatten)]
        file: InputFile<SpecUpdateFile>,
        /// A markdown or text file: the spec's description.
        #[arg(short = 'd', long)]
        desc_file: Option<PathBuf>,
    },
    /// Deletes an app spec.
    Delete { spec_id: String },
    /// Publishes a new release of an app spec.
    CreateRelease {
        #[arg(required_unless_present_any = ["generate", "schema"])]
        spec_id: Option<String>,
        #[command(flatten)]
        file: InputFile<ReleaseFile>,
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

/// The filters of `specs list`. Lists of values are repeatable or comma-separated.
#[derive(Debug, Args)]
pub struct SpecFilters {
    /// Only these statuses: available, unavailable, archived.
    #[arg(long, value_delimiter = ',', value_parser = open::<SpecStatus>)]
    status: Vec<SpecStatus>,
    /// Only names starting with this.
    #[arg(long, value_parser = non_empty)]
    name: Option<String>,
    /// Only titles starting with this.
    #[arg(long, value_parser = non_empty)]
    title: Option<String>,
    /// Only these scopes: private, public, shared.
    #[arg(long, value_delimiter = ',', value_parser = open::<SpecScope>)]
    scope: Vec<SpecScope>,
    /// Only featured specs (or, with `--featured false`, only the others).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    featured: Option<bool>,
}

const SPEC_COLUMNS: Columns = &[
    ("ID", "/id"),
    ("NAME", "/metadata/name"),
    ("TITLE", "/metadata/title"),
    ("STATUS", "/metadata/status"),
    ("SCOPE", "/scope"),
    ("FEATURED", "/featured"),
    ("LATEST RELEASE", "/latestRelease/version"),
    ("CREATED AT", "/metadata/createdAt"),
];

const RELEASE_COLUMNS: Columns = &[
    ("ID", "/id"),
    ("VERSION", "/version"),
    ("NOTES", "/notes"),
    ("CREATED BY", "/createdBy"),
    ("CREATED AT", "/createdAt"),
];

pub async fn run(command: Specs, client: &LazyClient, printer: &mut Printer) -> Result<(), Failure> {
    match command {
        Specs::Create { file, desc_file, release_notes_file } => {
            let Some(mut spec) = file.load(printer)? else { return Ok(()) };
            if let Some(path) = desc_file {
                spec.body.metadata.description = Some(text_file(&path)?);
            }
            if let Some(path) = release_notes_file {
                spec.body.release.notes = text_file(&path)?;
            }
            let create = client
                .get()?
                .create_spec(spec.body)
                .set_featured(spec.featured)
                .set_scope(spec.scope)
                .tenants(spec.tenants)
                .set_parameters(spec.parameters);
            let created = answer!(printer, create.await);
            printer.value(&created)
        }
        Specs::List { listing, filters } => {
            let mut list = client
                .get()?
                .list_specs()
                .set_name(filters.name)
                .set_title(filters.title)
                .set_featured(filters.featured);
            for status in filters.status {
                list = list.status(status);
            }
            for scope in filters.scope {
                list = list.scope(scope);
            }
            for key in &listing.sort {
                list = list.sort(key.as_str());
            }
            print_listing(list, &listing, "specs", SPEC_COLUMNS, printer).await
        }
        Specs::Describe { spec_id } => {
            let spec = answer!(printer, client.get()?.describe_spec(&spec_id).await);
            printer.value(&spec)
        }
        Specs::UpdateMetadata { spec_id, file, desc_file } => {
            let Some(mut update) = file.load(printer)? else { return Ok(()) };
            if let Some(path) = desc_file {
                update.body.metadata.get_or_insert_with(Default::default).description =
                    Some(text_file(&path)?);
            }
            let spec_id = spec_id.unwrap_or_default();
            let spec = answer!(printer, client.get()?.update_spec_metadata(&spec_id, update.body).await);
            printer.value(&spec)
        }
        Specs::Delete { spec_id } => {
            answer!(printer, client.get()?.delete_spec(&spec_id).await);
            printer.value(&json!({}))
        }
        Specs::CreateRelease { spec_id, file, release_notes_file } => {
            let Some(mut release) = file.load(printer)? else { return Ok(()) };
            if release.parameters.is_some() {
                release.body.parameters = release.parameters;
            }
            if let Some(path) = release_notes_file {
                release.body.release.notes = text_file(&path)?;
            }
            let spec_id = spec_id.unwrap_or_default();
            let created = answer!(printer, client.get()?.create_spec_release(&spec_id, release.body).await);
            printer.value(&created)
        }
        Specs::DescribeRelease { spec_id, version } => {
            let release = answer!(printer, client.get()?.describe_spec_release(&spec_id, &version).await);
            printer.value(&release)
        }
        Specs::ListReleases { spec_id, listing } => {
            let mut list = client.get()?.list_spec_releases(&spec_id);
            for key in &listing.sort {
                list = list.sort(key.as_str());
            }
            print_listing(list, &listing, "releases", RELEASE_COLUMNS, printer).await
        }
    }
}

/// `specs create`'s file: the SDK's `create_spec` keyword arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(title = "press-apps specs create input file")]
pub struct SpecFile {
    /// The spec: its metadata, first release and blocks.
    body: NewSpec,
    /// Whether the spec is featured.
    featured: Option<bool>,
    /// Who can discover and deploy the spec.
    scope: Option<SpecScope>,
    /// With the shared scope, the other tenants that can see the spec.
    #[serde(default)]
    tenants: Vec<String>,
    /// The parameters whose values deployments give.
    parameters: Option<ParameterDefinitions>,
}

impl FileKind for SpecFile {
    const SAMPLE: &'static str = r#"# press-apps specs create spec.yaml
# An app spec with its first release. Top-level keys: body, featured, scope, tenants, parameters.
body:
  version: 1
  kind: app
  metadata:
    name: example-app
    title: Example app
    summary: What the app does, in one line
    description: |
      What the app does, in as many lines as it needs (or give a file with -d).
    descriptionContentType: text/markdown
    tags:
      - name: example
  release:
    version: 1.0.0
    notes: The first release (or give a file with -n)
  config:
    - id: example-block
      release:
        version: 1.0.0
      autoRunOnDeploy: true
featured: false
scope: shared
tenants:
  - other-tenant
parameters:
  build:
    - name: region
      type: string
      required: true
      title: Region
      defaultValue: eu-west-1
      options:
        - title: Ireland
          value: eu-west-1
        - title: Frankfurt
          value: eu-central-1
  run:
    - name: replicas
      type: number
      required: false
      title: Replicas
      defaultValue: 2
    - name: api_key
      type: string
      required: false
      title: API key, shown masked
      defaultValue: ""
      hideValue: true
"#;
}

/// `specs create-release`'s file.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(title = "press-apps specs create-release input file")]
pub struct ReleaseFile {
    /// The release and its blocks.
    body: NewRelease,
    /// The parameters of the release, beside the body as the SDK's keyword arguments give them.
    parameters: Option<ParameterDefinitions>,
}

impl FileKind for ReleaseFile {
    const SAMPLE: &'static str = r#"# press-apps specs create-release SPEC_ID release.yaml
# A new release of a spec; its version must be greater than the latest. Top-level keys: body,
# parameters.
body:
  release:
    version: 2.0.0
    notes: What changed (or give a file with -n)
  config:
    - id: example-block
      release:
        version: 1.0.0
parameters:
  build: []
  run:
    - name: replicas
      type: number
      required: false
      defaultValue: 3
"#;
}

/// `specs update-metadata`'s file.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(title = "press-apps specs update-metadata input file")]
pub struct SpecUpdateFile {
    /// The fields to change; the others stay as they are.
    body: SpecUpdate,
}

impl FileKind for SpecUpdateFile {
    const SAMPLE: &'static str = r#"# press-apps specs update-metadata SPEC_ID spec-update.yaml
# Only the fields given change. Top-level key: body.
body:
  metadata:
    title: Example app, renamed
    summary: A better summary
    status: available
  featured: true
  scope: private
"#;
}
