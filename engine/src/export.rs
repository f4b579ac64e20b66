//! Adopting what already exists: the service's specs and deployments as desired state, in the
//! shape the files have, so that a plan of them right after shows no change. As Terraform's
//! `-generate-config-out`, it writes down what is there; the team then keeps it in its
//! repository and applies with an owner.

use std::collections::HashMap;

use futures::{StreamExt, TryStreamExt, stream};
use peak_press_apps::{
    Client,
    types::{AppParameters, Deployment, NewDeploymentMetadata, NewSpec, Spec, VersionRef},
};
use serde_json::Value;

use crate::{
    Error, READ_CONCURRENCY,
    compare::json,
    desired::{DeploymentBody, DesiredDeployment, DesiredSpec, SpecSelector},
    marks,
    plan::MASK,
    planner::own_metadata,
};

/// What [`export`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Export {
    /// The specs, each with its latest release.
    pub specs: Vec<DesiredSpec>,
    /// The deployments, each naming its spec and pinning the release it runs, with the values of
    /// its latest revision. A value the service masks is left as [`MASK`]: see `hidden`.
    pub deployments: Vec<DesiredDeployment>,
    /// The values the service never shows, which a file must give another way (a template
    /// variable): by deployment name, as `run.NAME` or `build.NAME`.
    pub hidden: Vec<(String, String)>,
}

/// The specs and deployments named in `names` (all when empty) as the files that describe them.
/// Reads only: two listings, then each spec's latest release and each deployment's latest
/// revision. The marks apply writes (`press-apps.*` tags) are left out.
pub async fn export(client: &Client, names: &[String]) -> Result<Export, Error> {
    let (specs, deployments) = futures::try_join!(
        client.list_specs().items().try_collect::<Vec<Spec>>(),
        client.list_deployments().items().try_collect::<Vec<Deployment>>(),
    )?;
    let wanted = |name: &str| names.is_empty() || names.iter().any(|n| n == name);
    let spec_names: HashMap<String, String> =
        specs.iter().map(|spec| (spec.id.clone(), spec.metadata.name.clone())).collect();
    let spec_reads: Vec<_> =
        specs.iter().filter(|s| wanted(&s.metadata.name)).map(|s| export_spec(client, s)).collect();
    let mut specs: Vec<DesiredSpec> =
        stream::iter(spec_reads).buffered(READ_CONCURRENCY).try_collect().await?;
    specs.sort_by(|a, b| a.name().cmp(b.name()));
    let deployment_reads: Vec<_> = deployments
        .iter()
        .filter(|d| wanted(&d.metadata.name))
        .map(|d| export_deployment(client, d, &spec_names))
        .collect();
    let exported: Vec<(DesiredDeployment, Vec<String>)> =
        stream::iter(deployment_reads).buffered(READ_CONCURRENCY).try_collect().await?;
    let mut export = Export { specs, ..Export::default() };
    for (deployment, hidden) in exported {
        export.hidden.extend(hidden.into_iter().map(|path| (deployment.name().to_owned(), path)));
        export.deployments.push(deployment);
    }
    export.deployments.sort_by(|a, b| a.name().cmp(b.name()));
    export.hidden.sort();
    Ok(export)
}

/// Metadata as a file gives it: without what the service sets and without apply's marks.
fn file_metadata(metadata: &impl serde::Serialize) -> Value {
    let mut metadata = own_metadata(metadata);
    if let Value::Object(map) = &mut metadata {
        if let Some(Value::Array(tags)) = map.get_mut("tags") {
            tags.retain(|tag| !tag["name"].as_str().is_some_and(marks::is_mark));
        }
        map.entry("summary").or_insert_with(|| Value::String(String::new()));
    }
    metadata
}

fn invalid(what: &str, name: &str, error: serde_json::Error) -> Error {
    Error::Invalid(format!("{what} {name:?} cannot be written as a file: {error}"))
}

async fn export_spec(client: &Client, spec: &Spec) -> Result<DesiredSpec, Error> {
    let name = &spec.metadata.name;
    let Some(latest) = &spec.latest_release else {
        return Err(Error::Invalid(format!("spec {name:?} has no release to export")));
    };
    let release = client.describe_spec_release(&spec.id, &latest.version).await?;
    let notes = release.notes.clone().or_else(|| latest.notes.clone()).unwrap_or_default();
    let body = serde_json::json!({
        "version": 1,
        "kind": "app",
        "metadata": file_metadata(&spec.metadata),
        "release": {"version": latest.version, "notes": notes},
        "config": release.config,
    });
    let body: NewSpec = serde_json::from_value(body).map_err(|e| invalid("spec", name, e))?;
    Ok(DesiredSpec {
        body,
        featured: spec.featured,
        scope: spec.scope.clone(),
        tenants: spec.tenants.clone(),
        parameters: release.parameters.clone(),
    })
}

/// A deployment as its file, and the paths of the values the service masked in it.
async fn export_deployment(
    client: &Client,
    deployment: &Deployment,
    spec_names: &HashMap<String, String>,
) -> Result<(DesiredDeployment, Vec<String>), Error> {
    let name = &deployment.metadata.name;
    let metadata: NewDeploymentMetadata = serde_json::from_value(file_metadata(&deployment.metadata))
        .map_err(|e| invalid("deployment", name, e))?;
    let spec_ref = deployment.spec.as_ref();
    let spec_id = spec_ref.map(|spec| spec.id.clone()).unwrap_or_default();
    let (spec_name, id) = match spec_names.get(&spec_id) {
        Some(spec_name) => (Some(spec_name.clone()), None),
        None => (None, Some(spec_id)),
    };
    let version = spec_ref.and_then(|spec| spec.release.as_ref()).map(|release| release.version.clone());
    let mut values: Option<AppParameters> = None;
    let mut hidden = Vec::new();
    if let Some(latest) = &deployment.latest_revision {
        let revision = client.describe_deployment_revision(&deployment.id, latest.revision).await?;
        let shown = json(&revision.parameters);
        for phase in ["build", "run"] {
            if let Some(Value::Object(given)) = shown.get(phase) {
                let masked = given.iter().filter(|(_, value)| value.as_str() == Some(MASK));
                hidden.extend(masked.map(|(parameter, _)| format!("{phase}.{parameter}")));
            }
        }
        values = serde_json::from_value(shown).map_err(|e| invalid("deployment", name, e))?;
    }
    let body = DeploymentBody {
        metadata,
        spec: SpecSelector {
            id,
            name: spec_name,
            release: version.map(|version| VersionRef { version }),
            includes: Vec::new(),
            excludes: Vec::new(),
        },
        app_parameters: values,
        parameters: HashMap::new(),
        revision: None,
    };
    Ok((DesiredDeployment { body }, hidden))
}
