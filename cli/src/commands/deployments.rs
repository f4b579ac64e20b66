//! `press-apps deployments ...`: app deployments and their revisions.

use std::{path::PathBuf, time::Duration};

use clap::{Args, Subcommand, ValueEnum};
use peak_press_apps::{
    DeploymentStatus, RevisionStatus,
    types::{DeploymentMetadataUpdate, NewDeployment, NewRevision, RevisionInput},
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::{LazyClient, Waited, print_listing, wait_for};
use crate::{
    args::{InputFile, Listing, Wait, non_empty, open},
    failure::Failure,
    input::{FileKind, text_file},
    output::{Columns, Printer},
};

#[derive(Debug, Subcommand)]
pub enum Deployments {
    /// Deploys a release of an app spec.
    Create {
        #[command(flatten)]
        file: InputFile<DeploymentFile>,
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
        filters: DeploymentFilters,
    },
    /// Describes an app deployment.
    Describe { deployment_id: String },
    /// Updates an app deployment's metadata.
    UpdateMetadata {
        #[arg(required_unless_present_any = ["generate", "schema"])]
        deployment_id: Option<String>,
        #[command(flatten)]
        file: InputFile<DeploymentUpdateFile>,
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
        #[arg(required_unless_present_any = ["generate", "schema"])]
        deployment_id: Option<String>,
        #[command(flatten)]
        file: InputFile<RevisionFile>,
        /// A markdown or text file: the revision notes.
        #[arg(short = 'n', long)]
        revision_notes_file: Option<PathBuf>,
        #[command(flatten)]
        wait: Wait,
    },
    /// Waits for a deployment to be deployed or gone, as `--wait` does: to resume a wait that
    /// timed out, or to wait in a later step of a script. Prints the deployment once deployed.
    Wait {
        deployment_id: String,
        /// What to wait for.
        #[arg(long = "for", value_enum, default_value_t = Until::Deployed)]
        until: Until,
        /// How long to wait, such as 90s, 15m or 1h30m.
        #[arg(long, value_parser = humantime::parse_duration, default_value = "15m")]
        timeout: Duration,
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
        /// Only these statuses (repeatable or comma-separated).
        #[arg(long, value_delimiter = ',', value_parser = open::<RevisionStatus>)]
        status: Vec<RevisionStatus>,
    },
}

/// What `deployments wait` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Until {
    /// Deployed, after a create, a new revision or a redeploy.
    Deployed,
    /// Gone, after a delete.
    Gone,
}

/// The filters of `deployments list`. Lists of values are repeatable or comma-separated.
#[derive(Debug, Args)]
pub struct DeploymentFilters {
    /// Only these statuses, such as deployed or failed.
    #[arg(long, value_delimiter = ',', value_parser = open::<DeploymentStatus>)]
    status: Vec<DeploymentStatus>,
    /// Only names starting with this.
    #[arg(long, value_parser = non_empty)]
    name: Option<String>,
}

const DEPLOYMENT_COLUMNS: Columns = &[
    ("ID", "/id"),
    ("NAME", "/metadata/name"),
    ("TITLE", "/metadata/title"),
    ("STATUS", "/metadata/status"),
    ("REVISION", "/latestRevision/revision"),
    ("CREATED AT", "/metadata/createdAt"),
];

const REVISION_COLUMNS: Columns = &[
    ("REVISION", "/revision"),
    ("STATUS", "/status"),
    ("NOTES", "/notes"),
    ("CREATED BY", "/createdBy"),
    ("CREATED AT", "/createdAt"),
];

pub async fn run(command: Deployments, client: &LazyClient, printer: &mut Printer) -> Result<(), Failure> {
    match command {
        Deployments::Create { file, desc_file, revision_notes_file, wait } => {
            let Some(mut deployment) = file.load(printer)? else { return Ok(()) };
            if let Some(path) = desc_file {
                deployment.body.metadata.description = Some(text_file(&path)?);
            }
            if let Some(path) = revision_notes_file {
                deployment.body.revision = RevisionInput { notes: text_file(&path)? };
            }
            let client = client.get()?;
            let created = answer!(printer, client.create_deployment(deployment.body).await);
            printer.value(&created)?;
            wait_for(client, &created.id, &wait, false, printer).await.map(drop)
        }
        Deployments::List { listing, filters } => {
            let mut list = client.get()?.list_deployments().set_name(filters.name);
            for status in filters.status {
                list = list.status(status);
            }
            for key in &listing.sort {
                list = list.sort(key.as_str());
            }
            print_listing(list, &listing, "deployments", DEPLOYMENT_COLUMNS, printer).await
        }
        Deployments::Describe { deployment_id } => {
            let deployment = answer!(printer, client.get()?.describe_deployment(&deployment_id).await);
            printer.value(&deployment)
        }
        Deployments::UpdateMetadata { deployment_id, file, desc_file } => {
            let Some(mut update) = file.load(printer)? else { return Ok(()) };
            if let Some(path) = desc_file {
                update.body.description = Some(text_file(&path)?);
            }
            let deployment_id = deployment_id.unwrap_or_default();
            let updated =
                answer!(printer, client.get()?.update_deployment_metadata(&deployment_id, update.body).await);
            printer.value(&updated)
        }
        Deployments::Delete { deployment_id, wait } => {
            let client = client.get()?;
            answer!(printer, client.delete_deployment(&deployment_id).await);
            printer.value(&json!({}))?;
            wait_for(client, &deployment_id, &wait, true, printer).await.map(drop)
        }
        Deployments::Redeploy { deployment_id, wait } => {
            let client = client.get()?;
            let redeployed = answer!(printer, client.redeploy(&deployment_id).await);
            printer.value(&redeployed)?;
            wait_for(client, &deployment_id, &wait, false, printer).await.map(drop)
        }
        Deployments::CreateRevision { deployment_id, file, revision_notes_file, wait } => {
            let Some(mut revision) = file.load(printer)? else { return Ok(()) };
            if let Some(path) = revision_notes_file {
                revision.body.revision = Some(RevisionInput { notes: text_file(&path)? });
            }
            let (client, deployment_id) = (client.get()?, deployment_id.unwrap_or_default());
            let created =
                answer!(printer, client.create_deployment_revision(&deployment_id, revision.body).await);
            printer.value(&created)?;
            wait_for(client, &deployment_id, &wait, false, printer).await.map(drop)
        }
        Deployments::Wait { deployment_id, until, timeout } => {
            let wait = Wait { wait: true, timeout };
            let gone = until == Until::Gone;
            match wait_for(client.get()?, &deployment_id, &wait, gone, printer).await? {
                Waited::Deployed(deployed) => printer.value(&deployed),
                Waited::Gone => printer.value(&json!({})),
                Waited::NotAsked | Waited::DryRun => Ok(()),
            }
        }
        Deployments::DescribeRevision { deployment_id, revision } => {
            let revision =
                answer!(printer, client.get()?.describe_deployment_revision(&deployment_id, revision).await);
            printer.value(&revision)
        }
        Deployments::ListRevisions { deployment_id, listing, status } => {
            let mut list = client.get()?.list_deployment_revisions(&deployment_id);
            for status in status {
                list = list.status(status);
            }
            for key in &listing.sort {
                list = list.sort(key.as_str());
            }
            print_listing(list, &listing, "revisions", REVISION_COLUMNS, printer).await
        }
    }
}

/// `deployments create`'s file.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(title = "press-apps deployments create input file")]
pub struct DeploymentFile {
    /// The deployment: its metadata, the spec release it deploys and the parameters' values.
    body: NewDeployment,
}

impl FileKind for DeploymentFile {
    const SAMPLE: &'static str = r#"# press-apps deployments create deployment.yaml -p spec_id=SPEC_ID
# Deploys a release of a spec (the latest unless named). Top-level key: body.
body:
  metadata:
    name: example-deployment
    title: Example deployment
    summary: What this deployment is for
    tags:
      - name: example
  revision:
    notes: The first revision (or give a file with -n)
  spec:
    id: "{{ spec_id }}"
    release:
      version: 1.0.0
  appParameters:
    build: {}
    run:
      replicas: 2
"#;
}

/// `deployments create-revision`'s file.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(title = "press-apps deployments create-revision input file")]
pub struct RevisionFile {
    /// The revision: the release it deploys, its notes and the parameters' values.
    body: NewRevision,
}

impl FileKind for RevisionFile {
    const SAMPLE: &'static str = r#"# press-apps deployments create-revision DEPLOYMENT_ID revision.yaml
# A new revision from a release of the deployment's spec (the latest unless named). Top-level
# key: body.
body:
  release:
    version: 1.0.0
  revision:
    notes: Why this revision (or give a file with -n)
  appParameters:
    build: {}
    run:
      replicas: 3
"#;
}

/// `deployments update-metadata`'s file.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(title = "press-apps deployments update-metadata input file")]
pub struct DeploymentUpdateFile {
    /// The fields to change; the others stay as they are.
    body: DeploymentMetadataUpdate,
}

impl FileKind for DeploymentUpdateFile {
    const SAMPLE: &'static str = r#"# press-apps deployments update-metadata DEPLOYMENT_ID deployment-update.yaml
# Only the fields given change. Top-level key: body.
body:
  title: Example deployment, renamed
  summary: A better summary
"#;
}
