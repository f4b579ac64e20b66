//! The plan: what the service holds, compared with the desired state, resource by resource.
//! Computing it sends no write.

use std::collections::{BTreeSet, HashMap};

use futures::{StreamExt, TryStreamExt, stream};
use peak_press_apps::{
    Client, DeploymentStatus,
    types::{
        AppParameters, Deployment, DeploymentMetadataUpdate, DeploymentSpecRef, NewDeployment, NewRelease,
        NewRevision, ParameterDefinitions, ReleaseInput, RevisionInput, Spec, SpecMetadataUpdate, SpecUpdate,
        Tag, VersionRef,
    },
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    CONCURRENCY, Error, Options,
    compare::{FieldChange, contained, differences, digest, json},
    desired::{DesiredDeployment, DesiredSpec, DesiredState},
    marks,
};

/// The version of the plan's JSON form, for programs that read it.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// What apply would do, resource by resource, and what it cannot do.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// [`PLAN_FORMAT_VERSION`].
    pub format_version: u32,
    /// Every resource of the desired state, and every owned one that pruning would delete.
    pub resources: Vec<Change>,
}

/// One resource's part of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// A spec or a deployment.
    pub kind: Kind,
    /// Its metadata name.
    pub name: String,
    /// Its id, when it exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What apply would do to it, in order; none when it is as the files say.
    pub actions: Vec<Action>,
    /// The fields that would change, with their old and new values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// What apply leaves alone but a reader must know: drift, a failed deployment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why apply refuses this resource, if it does (a release changed without a new version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// The requests that carry the actions out.
    #[serde(skip)]
    pub(crate) work: Work,
}

/// Spec or deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An app spec.
    Spec,
    /// An app deployment.
    Deployment,
}

/// One thing apply does to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Created, with its first release or revision.
    Create,
    /// Its metadata, featured flag, scope or tenants changed.
    Update,
    /// A spec's new release published.
    Release,
    /// A deployment's new revision made (another release or other parameter values).
    Revise,
    /// A failed deployment deployed again (with `redeploy_failed`).
    Redeploy,
    /// Deleted (with `prune`, when owned and no longer in the files).
    Delete,
}

/// The requests behind a change, filled in by the plan and sent by apply.
#[derive(Debug, Clone, Default)]
pub(crate) struct Work {
    pub create_spec: Option<DesiredSpec>,
    pub update_spec: Option<SpecUpdate>,
    pub release: Option<NewRelease>,
    pub create_deployment: Option<(SpecTarget, NewDeployment)>,
    pub update_deployment: Option<DeploymentMetadataUpdate>,
    pub revise: Option<NewRevision>,
}

/// A deployment's spec: known by id, or by the name of a spec the same apply may create.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SpecTarget {
    Id(String),
    Name(String),
}

/// How many resources each kind of plan line counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// To create.
    pub create: usize,
    /// To update, release, revise or redeploy.
    pub update: usize,
    /// To delete.
    pub delete: usize,
    /// As the files say.
    pub unchanged: usize,
    /// Refused (see [`Change::refused`]).
    pub refused: usize,
    /// With notes a reader must see: drift, a failed deployment.
    pub noted: usize,
}

impl Plan {
    /// The counts of its one summary line.
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.resources {
            match change.actions.first() {
                Some(Action::Create) => summary.create += 1,
                Some(Action::Delete) => summary.delete += 1,
                Some(_) => summary.update += 1,
                None if change.refused.is_none() => summary.unchanged += 1,
                None => {}
            }
            summary.refused += usize::from(change.refused.is_some());
            summary.noted += usize::from(!change.notes.is_empty());
        }
        summary
    }

    /// Whether the service differs from the files in any way: something to do, refused or noted.
    pub fn has_changes(&self) -> bool {
        let summary = self.summary();
        summary.unchanged != self.resources.len()
            || self.resources.iter().any(|change| !change.notes.is_empty() || change.refused.is_some())
    }
}

/// What the service holds, read once for the whole plan.
struct Current {
    specs: HashMap<String, Spec>,
    specs_by_id: HashMap<String, String>,
    deployments: HashMap<String, Deployment>,
}

/// Compares the service with `desired` and says what [`apply`](crate::apply) would do. Reads
/// only: two listings, then the releases and revisions that the comparison needs, concurrently.
pub async fn plan(client: &Client, desired: &DesiredState, options: &Options) -> Result<Plan, Error> {
    check(desired)?;
    let (specs, deployments) = futures::try_join!(
        client.list_specs().items().try_collect::<Vec<Spec>>(),
        client.list_deployments().items().try_collect::<Vec<Deployment>>(),
    )?;
    let current = Current {
        specs_by_id: specs.iter().map(|spec| (spec.id.clone(), spec.metadata.name.clone())).collect(),
        specs: specs.into_iter().map(|spec| (spec.metadata.name.clone(), spec)).collect(),
        deployments: deployments.into_iter().map(|d| (d.metadata.name.clone(), d)).collect(),
    };
    // The futures are made first and streamed as they are, which keeps the whole plan `Send`.
    let specs: Vec<_> = desired
        .specs
        .iter()
        .map(|spec| plan_spec(client, spec, current.specs.get(spec.name()), options))
        .collect();
    let spec_changes: Vec<Change> = stream::iter(specs).buffered(CONCURRENCY).try_collect().await?;
    let deployments: Vec<_> = desired
        .deployments
        .iter()
        .map(|deployment| plan_deployment(client, deployment, desired, &current, options))
        .collect();
    let deployment_changes: Vec<Change> =
        stream::iter(deployments).buffered(CONCURRENCY).try_collect().await?;
    let mut resources = spec_changes;
    resources.extend(deployment_changes);
    if options.prune {
        resources.extend(prune(desired, &current, options)?);
    }
    Ok(Plan { format_version: PLAN_FORMAT_VERSION, resources })
}

/// Names are unique, and a deployment's spec is named or given by id, not both.
fn check(desired: &DesiredState) -> Result<(), Error> {
    let mut seen = BTreeSet::new();
    for name in desired.specs.iter().map(DesiredSpec::name) {
        if !seen.insert(("spec", name)) {
            return Err(Error::Invalid(format!("spec {name:?} is described twice")));
        }
    }
    for deployment in &desired.deployments {
        let name = deployment.name();
        if !seen.insert(("deployment", name)) {
            return Err(Error::Invalid(format!("deployment {name:?} is described twice")));
        }
        let spec = &deployment.body.spec;
        if spec.id.is_some() == spec.name.is_some() {
            return Err(Error::Invalid(format!(
                "deployment {name:?}: its spec needs a name or an id, not {}",
                if spec.id.is_some() { "both" } else { "neither" }
            )));
        }
    }
    Ok(())
}

/// The tags a resource should carry: the file's, and the owner's mark.
fn desired_tags(tags: &[Tag], options: &Options) -> Vec<Tag> {
    let mut tags: Vec<Tag> = tags.iter().filter(|tag| !marks::is_mark(&tag.name)).cloned().collect();
    if let Some(owner) = &options.owner {
        tags.push(Tag { name: marks::owner(owner) });
    }
    tags
}

/// The tags as a set of names, for a comparison that ignores their order.
fn tag_names(tags: &[Tag]) -> BTreeSet<&str> {
    tags.iter().map(|tag| tag.name.as_str()).collect()
}

fn semver(version: &str) -> Option<semver::Version> {
    semver::Version::parse(version).ok()
}

async fn plan_spec(
    client: &Client,
    desired: &DesiredSpec,
    current: Option<&Spec>,
    options: &Options,
) -> Result<Change, Error> {
    let name = desired.name().to_owned();
    let mut wanted = desired.clone();
    wanted.body.metadata.tags = desired_tags(&desired.body.metadata.tags, options);
    let Some(current) = current else {
        return Ok(created(Kind::Spec, name, Work { create_spec: Some(wanted), ..Work::default() }));
    };
    let mut change = unchanged(Kind::Spec, name, current.id.clone());

    // Metadata, featured, scope and tenants: the fields the file gives.
    let mut fields = metadata_changes(
        &wanted.body.metadata,
        &wanted.body.metadata.tags,
        &current.metadata,
        &current.metadata.tags,
    );
    if let Some(featured) = wanted.featured.filter(|featured| Some(*featured) != current.featured) {
        fields.push(FieldChange::new("featured", json(&current.featured), json(&featured)));
    }
    if let Some(scope) = wanted.scope.as_ref().filter(|scope| Some(*scope) != current.scope.as_ref()) {
        fields.push(FieldChange::new("scope", json(&current.scope), json(scope)));
    }
    let (mut want_tenants, mut have_tenants) = (wanted.tenants.clone(), current.tenants.clone());
    want_tenants.sort();
    have_tenants.sort();
    if (wanted.scope.is_some() || !wanted.tenants.is_empty()) && want_tenants != have_tenants {
        fields.push(FieldChange::new("tenants", json(&have_tenants), json(&want_tenants)));
    }
    if !fields.is_empty() {
        let file = &wanted.body.metadata;
        let metadata = SpecMetadataUpdate {
            name: None,
            title: file.title.clone(),
            summary: Some(file.summary.clone()),
            description: file.description.clone(),
            description_content_type: file.description_content_type.clone(),
            image_url: file.image_url.clone(),
            tags: file.tags.clone(),
            status: None,
        };
        change.work.update_spec = Some(SpecUpdate {
            metadata: Some(metadata),
            featured: wanted.featured,
            scope: wanted.scope.clone(),
            tenants: wanted.tenants.clone(),
        });
        change.actions.push(Action::Update);
        change.fields = fields;
    }

    // The release: newer in the file is published, the same must be the same, older is drift.
    let version = &wanted.body.release.version;
    let latest = current.latest_release.as_ref().map(|release| release.version.as_str());
    match (semver(version), latest.and_then(semver)) {
        (Some(file), Some(service)) if file > service => {
            change.fields.push(FieldChange::new("release.version", json(&latest), json(version)));
            change.work.release = Some(new_release(&wanted));
            change.actions.push(Action::Release);
        }
        (Some(file), Some(service)) if file < service => change.notes.push(format!(
            "drift: the service's latest release {service} is newer than the file's {file}; \
             the file is behind, and apply leaves the release alone"
        )),
        _ => {
            let release = client.describe_spec_release(&current.id, version).await?;
            let same_config = contained(&json(&wanted.body.config), &json(&release.config));
            let want_parameters = wanted.parameters.clone().unwrap_or_default();
            let have_parameters = release.parameters.clone().unwrap_or_default();
            if !same_config || !contained(&json(&want_parameters), &json(&have_parameters)) {
                change.refused = Some(format!(
                    "release {version} exists with other contents ({}); releases are immutable: bump the version",
                    if same_config { "parameters" } else { "config" }
                ));
            }
        }
    }
    Ok(change)
}

fn new_release(spec: &DesiredSpec) -> NewRelease {
    NewRelease {
        release: ReleaseInput {
            version: spec.body.release.version.clone(),
            notes: spec.body.release.notes.clone(),
        },
        config: spec.body.config.clone(),
        parameters: spec.parameters.clone(),
    }
}

/// The metadata fields the file gives that the service holds otherwise (the name finds the
/// resource; the tags are compared as a set).
fn metadata_changes(
    wanted: &impl Serialize,
    wanted_tags: &[Tag],
    current: &impl Serialize,
    current_tags: &[Tag],
) -> Vec<FieldChange> {
    let mut fields = Vec::new();
    let mut metadata = json(wanted);
    if let Value::Object(map) = &mut metadata {
        map.remove("name");
        map.remove("tags");
    }
    differences("metadata", &metadata, &json(current), &mut fields);
    if tag_names(wanted_tags) != tag_names(current_tags) {
        fields.push(FieldChange::new("metadata.tags", json(&current_tags), json(&wanted_tags)));
    }
    fields
}

/// A resource to create.
fn created(kind: Kind, name: String, work: Work) -> Change {
    Change {
        kind,
        name,
        id: None,
        actions: vec![Action::Create],
        fields: Vec::new(),
        notes: Vec::new(),
        refused: None,
        work,
    }
}

fn unchanged(kind: Kind, name: String, id: String) -> Change {
    Change {
        kind,
        name,
        id: Some(id),
        actions: Vec::new(),
        fields: Vec::new(),
        notes: Vec::new(),
        refused: None,
        work: Work::default(),
    }
}

/// The spec a deployment deploys, the release it should run, and the release's parameters.
struct Resolved {
    target: SpecTarget,
    version: String,
    definitions: Option<ParameterDefinitions>,
}

async fn resolve(
    client: &Client,
    deployment: &DesiredDeployment,
    desired: &DesiredState,
    current: &Current,
) -> Result<Resolved, Error> {
    let selector = &deployment.body.spec;
    let name = match (&selector.name, &selector.id) {
        (Some(name), _) => Some(name.clone()),
        (None, Some(id)) => current.specs_by_id.get(id).cloned(),
        (None, None) => None,
    };
    let file_spec = name.as_ref().and_then(|name| desired.specs.iter().find(|spec| spec.name() == name));
    let service_spec = name.as_ref().and_then(|name| current.specs.get(name));
    let target = match (selector, service_spec) {
        (_, Some(spec)) => SpecTarget::Id(spec.id.clone()),
        (selector, None) if selector.name.is_some() && file_spec.is_some() => {
            SpecTarget::Name(name.clone().unwrap_or_default())
        }
        _ => {
            let shown = selector.name.as_ref().or(selector.id.as_ref()).cloned().unwrap_or_default();
            return Err(Error::Invalid(format!(
                "deployment {:?}: no spec {shown:?} in the files or the service",
                deployment.name()
            )));
        }
    };
    // The latest release once the files are applied: the file's when it is ahead.
    let service_latest =
        service_spec.and_then(|spec| spec.latest_release.as_ref()).map(|r| r.version.clone());
    let file_latest = file_spec.map(|spec| spec.body.release.version.clone());
    let latest = match (file_latest, service_latest) {
        (Some(file), Some(service)) => {
            if semver(&file) > semver(&service) {
                file
            } else {
                service
            }
        }
        (file, service) => file.or(service).unwrap_or_default(),
    };
    let version = selector.release.as_ref().map_or(latest, |release| release.version.clone());
    let definitions = match (file_spec, &target) {
        (Some(spec), _) if spec.body.release.version == version => spec.parameters.clone(),
        (_, SpecTarget::Id(id)) => client.describe_spec_release(id, &version).await?.parameters,
        _ => None,
    };
    Ok(Resolved { target, version, definitions })
}

/// The names of the parameters whose values the service masks, by `build` and `run`.
fn hidden_names(definitions: &Option<ParameterDefinitions>) -> [(&'static str, BTreeSet<String>); 2] {
    let names = |list: Option<&Vec<peak_press_apps::types::ParameterDefinition>>| {
        list.into_iter().flatten().filter(|d| d.hide_value == Some(true)).map(|d| d.name.clone()).collect()
    };
    [
        ("build", names(definitions.as_ref().map(|d| &d.build))),
        ("run", names(definitions.as_ref().map(|d| &d.run))),
    ]
}

/// The file's parameter values split into what the service shows and, as a digest, what it masks.
fn split_hidden(
    name: &str,
    values: &Option<AppParameters>,
    definitions: &Option<ParameterDefinitions>,
) -> (Value, Option<String>) {
    let mut shown = json(values);
    let mut hidden = serde_json::Map::new();
    for (phase, names) in hidden_names(definitions) {
        let Some(Value::Object(given)) = shown.get_mut(phase) else { continue };
        let masked: serde_json::Map<String, Value> =
            names.iter().filter_map(|name| Some((name.clone(), given.remove(name)?))).collect();
        if !masked.is_empty() {
            hidden.insert(phase.to_owned(), Value::Object(masked));
        }
    }
    let digest = (!hidden.is_empty()).then(|| digest(name, &Value::Object(hidden)));
    (shown, digest)
}

async fn plan_deployment(
    client: &Client,
    deployment: &DesiredDeployment,
    desired: &DesiredState,
    current: &Current,
    options: &Options,
) -> Result<Change, Error> {
    let name = deployment.name().to_owned();
    let resolved = resolve(client, deployment, desired, current).await?;
    let body = &deployment.body;
    let mut metadata = body.metadata.clone();
    metadata.tags = desired_tags(&metadata.tags, options);
    let (shown, hidden_digest) = split_hidden(&name, &body.app_parameters, &resolved.definitions);
    let notes =
        marks::with_digest(body.revision.as_ref().map(|r| r.notes.as_str()), hidden_digest.as_deref());
    let spec_ref = |id: String| DeploymentSpecRef {
        id,
        release: Some(VersionRef { version: resolved.version.clone() }),
        includes: body.spec.includes.clone(),
        excludes: body.spec.excludes.clone(),
    };

    let Some(current) = current.deployments.get(&name) else {
        let create = NewDeployment {
            metadata,
            app_parameters: body.app_parameters.clone(),
            parameters: body.parameters.clone(),
            revision: RevisionInput { notes },
            spec: spec_ref(String::new()),
        };
        let work = Work { create_deployment: Some((resolved.target, create)), ..Work::default() };
        return Ok(created(Kind::Deployment, name, work));
    };
    let mut change = unchanged(Kind::Deployment, name.clone(), current.id.clone());

    let fields = metadata_changes(&metadata, &metadata.tags, &current.metadata, &current.metadata.tags);
    if !fields.is_empty() {
        change.work.update_deployment = Some(DeploymentMetadataUpdate {
            name: None,
            title: metadata.title.clone(),
            summary: Some(metadata.summary.clone()),
            description: metadata.description.clone(),
            description_content_type: metadata.description_content_type.clone(),
            image_url: metadata.image_url.clone(),
            tags: metadata.tags.clone(),
        });
        change.actions.push(Action::Update);
        change.fields = fields;
    }

    // A revision when the release or a value differs from the latest revision's.
    let running = current.spec.as_ref().and_then(|spec| spec.release.as_ref()).map(|r| r.version.clone());
    let mut revision_fields = Vec::new();
    if running.as_deref() != Some(resolved.version.as_str()) {
        revision_fields.push(FieldChange::new(
            "spec.release.version",
            json(&running),
            json(&resolved.version),
        ));
    }
    if let Some(latest) = &current.latest_revision {
        let revision = client.describe_deployment_revision(&current.id, latest.revision).await?;
        let have = json(&revision.parameters);
        differences("appParameters", &shown, &have, &mut revision_fields);
        if let Some(digest) = &hidden_digest
            && marks::digest_of(revision.notes.as_deref()) != Some(digest.as_str())
        {
            revision_fields.push(FieldChange::hidden("appParameters (hidden values)"));
        }
    }
    if !revision_fields.is_empty() {
        change.work.revise = Some(NewRevision {
            release: Some(VersionRef { version: resolved.version.clone() }),
            revision: Some(RevisionInput { notes }),
            blocks_config: None,
            app_parameters: body.app_parameters.clone(),
            parameters: body.parameters.clone(),
        });
        change.actions.push(Action::Revise);
        change.fields.extend(revision_fields);
    }

    if current.metadata.status == Some(DeploymentStatus::Failed) {
        if options.redeploy_failed && change.work.revise.is_none() {
            change.actions.push(Action::Redeploy);
        } else if !options.redeploy_failed {
            change.notes.push("failed: apply redeploys it with --redeploy-failed".to_owned());
        }
    }
    Ok(change)
}

/// The owned resources that the files no longer name: deployments, then specs. Only with an
/// owner: without one nothing is known to be this set's.
fn prune(desired: &DesiredState, current: &Current, options: &Options) -> Result<Vec<Change>, Error> {
    let Some(owner) = &options.owner else {
        return Err(Error::Invalid("pruning needs an owner: only what it marked is ever deleted".to_owned()));
    };
    let mark = marks::owner(owner);
    let owned = |tags: &[Tag]| tags.iter().any(|tag| tag.name == mark);
    let delete = |kind, name: &str, id: &str| {
        let mut change = unchanged(kind, name.to_owned(), id.to_owned());
        change.actions.push(Action::Delete);
        change
    };
    let mut changes: Vec<Change> = current
        .deployments
        .values()
        .filter(|d| {
            owned(&d.metadata.tags) && !desired.deployments.iter().any(|w| w.name() == d.metadata.name)
        })
        .map(|d| delete(Kind::Deployment, &d.metadata.name, &d.id))
        .collect();
    let pruned: BTreeSet<String> = changes.iter().filter_map(|c| c.id.clone()).collect();
    for spec in current.specs.values() {
        if !owned(&spec.metadata.tags) || desired.specs.iter().any(|w| w.name() == spec.metadata.name) {
            continue;
        }
        let kept = current
            .deployments
            .values()
            .any(|d| d.spec.as_ref().is_some_and(|s| s.id == spec.id) && !pruned.contains(d.id.as_str()))
            || desired
                .deployments
                .iter()
                .any(|d| d.body.spec.name.as_deref() == Some(spec.metadata.name.as_str()));
        let mut change = delete(Kind::Spec, &spec.metadata.name, &spec.id);
        if kept {
            change.actions.clear();
            change.notes.push("not deleted: deployments that are kept still use it".to_owned());
        }
        changes.push(change);
    }
    changes.sort_by(|a, b| (a.kind == Kind::Spec, &a.name).cmp(&(b.kind == Kind::Spec, &b.name)));
    Ok(changes)
}

/// The plan's JSON form, which `press-apps plan -o json` prints.
pub fn to_json(plan: &Plan) -> Value {
    json!({ "formatVersion": plan.format_version, "resources": plan.resources, "summary": plan.summary() })
}
