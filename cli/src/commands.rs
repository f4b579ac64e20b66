//! Each command: its input parsed into the client's request types, one call of the facade, and
//! the answer printed. No HTTP here: retries, errors and validation are the client's.

use futures::TryStreamExt;
use peak_press_apps::{
    Client, ClientBuilder, DeploymentStatus, RetryConfig, RevisionStatus, SpecScope, SpecStatus,
    types::{
        DeploymentMetadataUpdate, NewDeployment, NewRelease, NewRevision, NewSpec, ParameterDefinitions,
        RevisionInput, SpecUpdate,
    },
};
use serde::Deserialize;
use serde_json::json;

use crate::{
    args::{Cli, Command, Deployments, Filters, Specs, Wait},
    dry_run::Capture,
    failure::Failure,
    input::{load, text_file},
    output::{DEPLOYMENT_COLUMNS, Printer, Progress, RELEASE_COLUMNS, REVISION_COLUMNS, SPEC_COLUMNS},
    samples, schema,
};

/// Prints one page of a listing (the official CLI's behaviour) or, with `--all`, every item as
/// it streams. A macro rather than a function: the four listings share no nameable trait.
macro_rules! print_listing {
    ($list:expr, $listing:expr, $key:literal, $columns:expr, $printer:expr) => {{
        let (listing, printer) = ($listing, $printer);
        let mut list = $list;
        if let Some(size) = listing.page_size {
            list = list.page_size(size);
        }
        if listing.all {
            let mut items = list.items();
            let mut progress = Progress::on_terminal();
            while let Some(item) = items.try_next().await? {
                printer.item(&item)?;
                progress.tick();
            }
            progress.finish();
            printer.finish($columns)
        } else {
            let page = list.page(listing.page_number.unwrap_or(1)).await?;
            printer.page(&page, $key, $columns)
        }
    }};
}

/// `specs create`: the SDK's `create_spec` keyword arguments.
#[derive(Debug, Deserialize)]
struct SpecFile {
    body: NewSpec,
    featured: Option<bool>,
    scope: Option<SpecScope>,
    #[serde(default)]
    tenants: Vec<String>,
    parameters: Option<ParameterDefinitions>,
}

/// `specs create-release`.
#[derive(Debug, Deserialize)]
struct ReleaseFile {
    body: NewRelease,
    parameters: Option<ParameterDefinitions>,
}

/// A file whose only key is `body`.
#[derive(Debug, Deserialize)]
struct BodyFile<T> {
    body: T,
}

pub async fn run(cli: Cli) -> Result<(), Failure> {
    let mut printer = Printer::new(cli.output);
    if let Command::Completions { shell } = cli.command {
        let mut command = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(shell, &mut command, "press-apps", &mut std::io::stdout());
        return Ok(());
    }
    if let Command::Schema { group, command } = &cli.command {
        return printer.value(&schema::of(group, command)?);
    }
    if let Some(sample) = sample(&cli.command) {
        return printer.text(sample);
    }
    let client = client(cli.base_url.as_deref())?;
    if !cli.dry_run {
        return dispatch(&client, cli.command, &mut printer).await;
    }
    let capture = Capture::start().await?;
    let recording = client_builder(Some(capture.url()))?.retry(RetryConfig::disabled()).build()?;
    let outcome = dispatch(&recording, cli.command, &mut printer).await;
    let requests = capture.requests(client.base_url());
    if requests.is_empty() {
        // Refused before anything was sent (a bad id, a version that is not semver): say why.
        return outcome;
    }
    for request in &requests {
        printer.value(request)?;
    }
    printer.flush()
}

/// The sample file asked for with `--generate`, if it was.
fn sample(command: &Command) -> Option<&'static str> {
    let (file, sample) = match command {
        Command::Specs(Specs::Create { file, .. }) => (file, samples::SPEC),
        Command::Specs(Specs::UpdateMetadata { file, .. }) => (file, samples::SPEC_UPDATE),
        Command::Specs(Specs::CreateRelease { file, .. }) => (file, samples::RELEASE),
        Command::Deployments(Deployments::Create { file, .. }) => (file, samples::DEPLOYMENT),
        Command::Deployments(Deployments::UpdateMetadata { file, .. }) => (file, samples::DEPLOYMENT_UPDATE),
        Command::Deployments(Deployments::CreateRevision { file, .. }) => (file, samples::REVISION),
        _ => return None,
    };
    file.generate.then_some(sample)
}

async fn dispatch(client: &Client, command: Command, printer: &mut Printer) -> Result<(), Failure> {
    match command {
        Command::Specs(command) => specs(client, command, printer).await,
        Command::Deployments(command) => deployments(client, command, printer).await,
        Command::Completions { .. } | Command::Schema { .. } => Ok(()),
    }
}

/// The client, configured from the environment as the official CLI is, with `base_url` in
/// place of the stage's when given.
fn client(base_url: Option<&str>) -> Result<Client, Failure> {
    Ok(client_builder(base_url)?.build()?)
}

fn client_builder(base_url: Option<&str>) -> Result<ClientBuilder, Failure> {
    let mut builder = Client::builder()
        .env_vars(|name| std::env::var(name).ok())?
        .user_agent(concat!("press-apps/", env!("CARGO_PKG_VERSION")));
    if let Some(url) = base_url {
        builder = builder.base_url(url);
    }
    Ok(builder)
}

async fn specs(client: &Client, command: Specs, printer: &mut Printer) -> Result<(), Failure> {
    match command {
        Specs::Create { file, desc_file, release_notes_file } => {
            let mut spec: SpecFile =
                load(&file, &["body", "featured", "scope", "tenants", "parameters"], "NewSpec")?;
            if let Some(path) = desc_file {
                spec.body.metadata.description = Some(text_file(&path)?);
            }
            if let Some(path) = release_notes_file {
                spec.body.release.notes = text_file(&path)?;
            }
            let mut request = client.create_spec(spec.body).tenants(spec.tenants);
            if let Some(featured) = spec.featured {
                request = request.featured(featured);
            }
            if let Some(scope) = spec.scope {
                request = request.scope(scope);
            }
            if let Some(parameters) = spec.parameters {
                request = request.parameters(parameters);
            }
            printer.value(&request.await?)
        }
        Specs::List { listing, filters: Filters { status, name }, title, scope, featured } => {
            let mut list = client.list_specs();
            for status in split(&status) {
                list = list.status(status.parse::<SpecStatus>().unwrap_or_else(|never| match never {}));
            }
            for scope in split(&scope) {
                list = list.scope(scope.parse::<SpecScope>().unwrap_or_else(|never| match never {}));
            }
            if let Some(name) = name {
                list = list.name(name);
            }
            if let Some(title) = title {
                list = list.title(title);
            }
            if let Some(featured) = featured {
                list = list.featured(featured);
            }
            for key in split(&listing.sort) {
                list = list.sort(key.as_str());
            }
            print_listing!(list, &listing, "specs", SPEC_COLUMNS, printer)
        }
        Specs::Describe { spec_id } => printer.value(&client.describe_spec(&spec_id).await?),
        Specs::UpdateMetadata { spec_id, file, desc_file } => {
            let spec_id = spec_id.unwrap_or_default();
            let mut update: BodyFile<SpecUpdate> = load(&file, &["body"], "SpecUpdate")?;
            if let Some(path) = desc_file {
                update.body.metadata.get_or_insert_with(Default::default).description =
                    Some(text_file(&path)?);
            }
            printer.value(&client.update_spec_metadata(&spec_id, update.body).await?)
        }
        Specs::Delete { spec_id } => {
            client.delete_spec(&spec_id).await?;
            printer.value(&json!({}))
        }
        Specs::CreateRelease { spec_id, file, release_notes_file } => {
            let spec_id = spec_id.unwrap_or_default();
            let mut release: ReleaseFile = load(&file, &["body", "parameters"], "NewRelease")?;
            if let Some(parameters) = release.parameters {
                release.body.parameters = Some(parameters);
            }
            if let Some(path) = release_notes_file {
                release.body.release.notes = text_file(&path)?;
            }
            printer.value(&client.create_spec_release(&spec_id, release.body).await?)
        }
        Specs::DescribeRelease { spec_id, version } => {
            printer.value(&client.describe_spec_release(&spec_id, &version).await?)
        }
        Specs::ListReleases { spec_id, listing } => {
            let mut list = client.list_spec_releases(&spec_id);
            for key in split(&listing.sort) {
                list = list.sort(key.as_str());
            }
            print_listing!(list, &listing, "releases", RELEASE_COLUMNS, printer)
        }
    }
}

async fn deployments(client: &Client, command: Deployments, printer: &mut Printer) -> Result<(), Failure> {
    match command {
        Deployments::Create { file, desc_file, revision_notes_file, wait } => {
            let mut deployment: BodyFile<NewDeployment> = load(&file, &["body"], "NewDeployment")?;
            if let Some(path) = desc_file {
                deployment.body.metadata.description = Some(text_file(&path)?);
            }
            if let Some(path) = revision_notes_file {
                deployment.body.revision = RevisionInput { notes: text_file(&path)? };
            }
            let created = client.create_deployment(deployment.body).await?;
            printer.value(&created)?;
            wait_deployed(client, &created.id, &wait, printer).await
        }
        Deployments::List { listing, filters: Filters { status, name } } => {
            let mut list = client.list_deployments();
            for status in split(&status) {
                list = list.status(status.parse::<DeploymentStatus>().unwrap_or_else(|never| match never {}));
            }
            if let Some(name) = name {
                list = list.name(name);
            }
            for key in split(&listing.sort) {
                list = list.sort(key.as_str());
            }
            print_listing!(list, &listing, "deployments", DEPLOYMENT_COLUMNS, printer)
        }
        Deployments::Describe { deployment_id } => {
            printer.value(&client.describe_deployment(&deployment_id).await?)
        }
        Deployments::UpdateMetadata { deployment_id, file, desc_file } => {
            let deployment_id = deployment_id.unwrap_or_default();
            let mut update: BodyFile<DeploymentMetadataUpdate> =
                load(&file, &["body"], "DeploymentMetadataUpdate")?;
            if let Some(path) = desc_file {
                update.body.description = Some(text_file(&path)?);
            }
            printer.value(&client.update_deployment_metadata(&deployment_id, update.body).await?)
        }
        Deployments::Delete { deployment_id, wait } => {
            client.delete_deployment(&deployment_id).await?;
            printer.value(&json!({}))?;
            if wait.wait {
                printer.flush()?;
                client
                    .wait_for_deployment(&deployment_id)
                    .timeout(wait.timeout)
                    .on_status(move |status| eprintln!("press-apps: deployment is {status}"))
                    .gone()
                    .await?;
                eprintln!("press-apps: deployment {deployment_id} is gone");
            }
            Ok(())
        }
        Deployments::Redeploy { deployment_id, wait } => {
            printer.value(&client.redeploy(&deployment_id).await?)?;
            wait_deployed(client, &deployment_id, &wait, printer).await
        }
        Deployments::CreateRevision { deployment_id, file, revision_notes_file, wait } => {
            let deployment_id = deployment_id.unwrap_or_default();
            let mut revision: BodyFile<NewRevision> = load(&file, &["body"], "NewRevision")?;
            if let Some(path) = revision_notes_file {
                revision.body.revision = Some(RevisionInput { notes: text_file(&path)? });
            }
            printer.value(&client.create_deployment_revision(&deployment_id, revision.body).await?)?;
            wait_deployed(client, &deployment_id, &wait, printer).await
        }
        Deployments::DescribeRevision { deployment_id, revision } => {
            printer.value(&client.describe_deployment_revision(&deployment_id, revision).await?)
        }
        Deployments::ListRevisions { deployment_id, listing, status } => {
            let mut list = client.list_deployment_revisions(&deployment_id);
            for status in split(&status) {
                list = list.status(status.parse::<RevisionStatus>().unwrap_or_else(|never| match never {}));
            }
            for key in split(&listing.sort) {
                list = list.sort(key.as_str());
            }
            print_listing!(list, &listing, "revisions", REVISION_COLUMNS, printer)
        }
    }
}

/// With `--wait`, waits for the deployment to be deployed, showing each status on stderr.
async fn wait_deployed(
    client: &Client,
    deployment_id: &str,
    wait: &Wait,
    printer: &mut Printer,
) -> Result<(), Failure> {
    if !wait.wait {
        return Ok(());
    }
    printer.flush()?;
    let deployed = client
        .wait_for_deployment(deployment_id)
        .timeout(wait.timeout)
        .on_status(|status| eprintln!("press-apps: deployment is {status}"))
        .deployed()
        .await?;
    let revision = deployed.latest_revision.map_or(0, |r| r.revision);
    eprintln!("press-apps: deployment {deployment_id} is deployed at revision {revision}");
    Ok(())
}

/// A comma-separated option's values, as the official CLI sends them.
fn split(values: &Option<String>) -> Vec<String> {
    values
        .iter()
        .flat_map(|text| text.split(','))
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
        .collect()
}
