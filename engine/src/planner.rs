//! Computing the plan: what the service holds, compared with the desired state, resource by
//! resource. Computing it sends no write. A resource the service will not show, or whose file
//! is wrong, gets a [`Problem`] and the others are still planned.

use std::collections::{BTreeSet, HashMap};

use futures::{StreamExt, TryStreamExt, stream};
use peak_press_apps::{
    Client, DeploymentStatus,
    types::{
        AppParameters, Deployment, DeploymentMetadataUpdate, DeploymentSpecRef, NewDeployment, NewRelease,
        NewRevision, ParameterDefinitions, ReleaseInput, RevisionInput, Spec, SpecUpdate, VersionRef,
    },
};
use serde::Serialize;
use serde_json::Value;

use crate::{
    Error, Options, READ_CONCURRENCY,
    compare::{FieldChange, contained, differences, digest, json},
    desired::{DesiredDeployment, DesiredSpec, DesiredState},
    marks,
    plan::{Change, Kind, Operation, PLAN_FORMAT_VERSION, Plan, Problem, ProblemKind, SpecTarget},
    values,
};

/// What the service holds, read once for the whole plan.
struct Current {
    specs: HashMap<String, Spec>,
    specs_by_id: HashMap<String, String>,
    deployments: HashMap<String, Deployment>,
}

/// Compares the service with `desired` and says what [`apply`](crate::apply) would do. Reads
/// only: two listings, then the releases and revisions that the comparison needs, concurrently.
///
/// Fails as a whole only when the desired state contradicts itself (a name twice) or the service
/// cannot be listed; a resource whose file is wrong, or that the service will not show, has a
/// [`Problem`](crate::Problem) and the rest is planned.
pub async fn plan(client: &Client, desired: &DesiredState, options: &Options) -> Result<Plan, Error> {
    check(desired)?;
    let (specs, deployments) = futures::try_join!(
        client.list_specs().items().try_collect::<Vec<Spec>>(),
        client.list_deployments().items().try_collect::<Vec<Deployment>>(),
    )?;
    let current = Current {
        specs_by_id: specs.iter().map(|spec| (spec.id.clone(), spec.metadata.name.clone())).collect(),
        specs: by_name(specs, options.owner.as_deref()),
        deployments: deployments.into_iter().map(|d| (d.metadata.name.clone(), d)).collect(),
    };
    // The futures are made first and streamed as they are, which keeps the whole plan `Send`.
    let specs: Vec<_> = desired
        .specs
        .iter()
        .map(|spec| {
            let found = current.specs.get(spec.name());
            let id = found.map(|spec| spec.id.clone());
            settled(Kind::Spec, spec.name(), id, plan_spec(client, spec, found, options))
        })
        .collect();
    let spec_changes: Vec<Change> = stream::iter(specs).buffered(READ_CONCURRENCY).try_collect().await?;
    let deployments: Vec<_> = desired
        .deployments
        .iter()
        .map(|deployment| {
            let id = current.deployments.get(deployment.name()).map(|d| d.id.clone());
            let planned = plan_deployment(client, deployment, desired, &current, &spec_changes, options);
            settled(Kind::Deployment, deployment.name(), id, planned)
        })
        .collect();
    let deployment_changes: Vec<Change> =
        stream::iter(deployments).buffered(READ_CONCURRENCY).try_collect().await?;
    let mut resources = spec_changes;
    resources.extend(deployment_changes);
    if options.owner.is_some() {
        resources.extend(orphans(desired, &current, options));
    } else if options.prune {
        return Err(Error::Invalid("pruning needs an owner: only what it marked is ever deleted".to_owned()));
    }
    Ok(Plan { format_version: PLAN_FORMAT_VERSION, resources })
}

/// A status as the service spells it.
fn status_of(status: &Option<impl Serialize>) -> Option<String> {
    json(status).as_str().map(str::to_owned)
}

/// The specs by name. Names are unique within a tenant, but a listing also holds other tenants'
/// public and shared specs: of several with one name, the tenant's own is the private one (no
/// other tenant's private spec is listed) or the one with this owner's mark. (A name that only
/// another tenant's public spec holds cannot be told from the tenant's own public spec: no field
/// of the API says whose a spec is.)
fn by_name(specs: Vec<Spec>, owner: Option<&str>) -> HashMap<String, Spec> {
    let mark = owner.map(marks::owner);
    let own = |spec: &Spec| {
        spec.scope.as_ref().is_some_and(|scope| json(scope) == "private")
            || mark.as_ref().is_some_and(|mark| spec.metadata.tags.iter().any(|tag| &tag.name == mark))
    };
    let mut chosen: HashMap<String, Spec> = HashMap::new();
    for spec in specs {
        match chosen.get(&spec.metadata.name) {
            Some(held) if own(held) || !own(&spec) => {}
            _ => {
                chosen.insert(spec.metadata.name.clone(), spec);
            }
        }
    }
    chosen
}

/// A resource's change, or, when the service refused a read of it (a 4xx such as 404 or 403),
/// the same resource with that problem: the rest of the plan goes on. Anything else (the service
/// down, a time limit) stops the plan.
async fn settled(
    kind: Kind,
    name: &str,
    id: Option<String>,
    planned: impl Future<Output = Result<Change, Error>>,
) -> Result<Change, Error> {
    match planned.await {
        Err(Error::Client(error)) if error.status().is_some_and(|status| status.is_client_error()) => {
            let mut change = Change::new(kind, name.to_owned(), id);
            change.problem = Some(Problem {
                kind: ProblemKind::Unreadable,
                message: format!("the service would not show what the plan needs: {error}"),
                path: None,
            });
            Ok(change)
        }
        other => other,
    }
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

fn semver(version: &str) -> Option<semver::Version> {
    semver::Version::parse(version).ok()
}

/// What a saved plan's apply checks first: the fields of a spec its writes were computed from.
pub(crate) fn seen_spec(spec: &Spec) -> Value {
    serde_json::json!({
        "id": spec.id,
        "metadata": own_metadata(&spec.metadata),
        "featured": spec.featured,
        "scope": spec.scope,
        "tenants": spec.tenants,
        "latestRelease": spec.latest_release.as_ref().map(|release| &release.version),
    })
}

/// The same for a deployment: its metadata, release and latest revision, and its status when a
/// redeploy depends on it.
pub(crate) fn seen_deployment(deployment: &Deployment, with_status: bool) -> Value {
    let mut seen = serde_json::json!({
        "id": deployment.id,
        "metadata": own_metadata(&deployment.metadata),
        "release": deployment.spec.as_ref().and_then(|spec| spec.release.as_ref()).map(|r| &r.version),
        "latestRevision": deployment.latest_revision.as_ref().map(|revision| revision.revision),
    });
    if with_status {
        seen["status"] = json(&deployment.metadata.status);
    }
    seen
}

/// Metadata without what the service sets by itself (status, times, who): what a file gives.
pub(crate) fn own_metadata(metadata: &impl Serialize) -> Value {
    let mut metadata = json(metadata);
    if let Value::Object(map) = &mut metadata {
        for key in ["status", "createdAt", "createdBy", "updatedAt", "updatedBy"] {
            map.remove(key);
        }
    }
    metadata
}

async fn plan_spec(
    client: &Client,
    desired: &DesiredSpec,
    current: Option<&Spec>,
    options: &Options,
) -> Result<Change, Error> {
    let name = desired.name().to_owned();
    let mut wanted = desired.clone();
    let Some(current) = current else {
        let given = given_fields(&desired.body.metadata);
        wanted.body.metadata.tags =
            marks::tags(&desired.body.metadata.tags, &[], options.owner.as_deref(), &given);
        let mut change = Change::new(Kind::Spec, name, None);
        let mut fields = json(&wanted);
        if let Value::Object(map) = &mut fields
            && let Some(Value::Object(mut body)) = map.remove("body")
        {
            // Paths as an update's: `metadata.title`, `release.version`; the constants left out.
            body.remove("version");
            body.remove("kind");
            map.extend(body);
        }
        differences("", &fields, &Value::Null, &mut change.fields);
        change.operations.push(Operation::CreateSpec { spec: Box::new(wanted) });
        return Ok(change);
    };
    let mut change = Change::new(Kind::Spec, name, Some(current.id.clone()));
    change.seen = Some(seen_spec(current));
    change.status = status_of(&current.metadata.status);
    let given = given_fields(&desired.body.metadata);
    let current_tags = &current.metadata.tags;
    wanted.body.metadata.tags =
        marks::tags(&desired.body.metadata.tags, current_tags, options.owner.as_deref(), &given);

    // Metadata, featured, scope and tenants: the fields the file gives, and those it gave before
    // and no longer does.
    let mut fields = metadata_changes(&wanted.body.metadata, &current.metadata);
    let cleared = cleared_fields(current_tags, &given, &current.metadata, &mut fields);
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
        let update = SpecUpdate {
            metadata: Some(metadata_update(&wanted.body.metadata, &cleared)?),
            featured: wanted.featured,
            scope: wanted.scope.clone(),
            tenants: wanted.tenants.clone(),
        };
        change.operations.push(Operation::UpdateSpec { update: Box::new(update) });
        change.fields = fields;
    }

    // The release: newer in the file is published, the same must be the same, older is drift.
    let version = &wanted.body.release.version;
    let latest = current.latest_release.as_ref().map(|release| release.version.as_str());
    match (semver(version), latest.and_then(semver)) {
        (Some(file), Some(service)) if file > service => {
            change.fields.push(FieldChange::new("release.version", json(&latest), json(version)));
            let release = client.describe_spec_release(&current.id, &service.to_string()).await?;
            release_differences(
                &wanted,
                &json(&release.config),
                release.parameters.as_ref(),
                &mut change.fields,
            );
            change.operations.push(Operation::CreateRelease { release: Box::new(new_release(&wanted)) });
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
                change.problem = Some(Problem {
                    kind: ProblemKind::Refused,
                    message: format!(
                        "release {version} exists with other contents ({}); releases are immutable: bump the version",
                        if same_config { "parameters" } else { "config" }
                    ),
                    path: Some("body.release.version".to_owned()),
                });
            }
        }
    }
    Ok(change)
}

/// What a new release changes against the latest one: its blocks, and its parameters one by
/// one (a hidden parameter's default value shown as hidden).
fn release_differences(
    wanted: &DesiredSpec,
    have_config: &Value,
    have_parameters: Option<&ParameterDefinitions>,
    fields: &mut Vec<FieldChange>,
) {
    let want_config = json(&wanted.body.config);
    if want_config != *have_config {
        fields.push(FieldChange::new("config", have_config.clone(), want_config));
    }
    let by_name = |definitions: Option<&ParameterDefinitions>, phase: &str| -> Vec<(String, Value)> {
        let list = definitions.map(|d| if phase == "build" { &d.build } else { &d.run });
        list.into_iter().flatten().map(|d| (d.name.clone(), json(d))).collect()
    };
    for phase in ["build", "run"] {
        let want = by_name(wanted.parameters.as_ref(), phase);
        let have = by_name(have_parameters, phase);
        let names: BTreeSet<&String> = want.iter().chain(&have).map(|(name, _)| name).collect();
        for name in names {
            let find =
                |list: &[(String, Value)]| list.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
            let path = format!("parameters.{phase}.{name}");
            let (want, have) = (find(&want), find(&have));
            let hidden = |value: &Option<Value>| value.as_ref().is_some_and(|v| v["hideValue"] == true);
            let secret = hidden(&want) || hidden(&have);
            match (want, have) {
                (Some(want), Some(have)) => {
                    let mut changed = Vec::new();
                    differences(&path, &want, &have, &mut changed);
                    for field in changed {
                        fields.push(if secret && field.path.ends_with(".defaultValue") {
                            FieldChange::hidden(&field.path)
                        } else {
                            field
                        });
                    }
                }
                (want, have) if secret => fields.push(FieldChange::new(
                    &path,
                    have.map(|_| Value::String("(defined)".into())).unwrap_or(Value::Null),
                    want.map(|_| Value::String("(defined, hidden)".into())).unwrap_or(Value::Null),
                )),
                (want, have) => fields.push(FieldChange::new(
                    &path,
                    have.unwrap_or(Value::Null),
                    want.unwrap_or(Value::Null),
                )),
            }
        }
    }
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
fn metadata_changes(wanted: &impl Serialize, current: &impl Serialize) -> Vec<FieldChange> {
    let mut fields = Vec::new();
    let (mut wanted, current) = (json(wanted), json(current));
    let tags = |metadata: &Value| -> BTreeSet<String> {
        let names = metadata["tags"].as_array().into_iter().flatten();
        let names = names.filter_map(|tag| tag["name"].as_str());
        names.filter(|name| !marks::is_record(name)).map(str::to_owned).collect()
    };
    let (want_tags, have_tags) = (tags(&wanted), tags(&current));
    if let Value::Object(map) = &mut wanted {
        map.remove("name");
        map.remove("tags");
    }
    differences("metadata", &wanted, &current, &mut fields);
    if want_tags != have_tags {
        fields.push(FieldChange::new("metadata.tags", json(&have_tags), json(&want_tags)));
    }
    fields
}

/// The optional metadata fields a file gives.
fn given_fields(metadata: &impl Serialize) -> Vec<&'static str> {
    let metadata = json(metadata);
    marks::OPTIONAL_FIELDS.into_iter().filter(|field| !metadata[*field].is_null()).collect()
}

/// The optional fields the files gave at the last apply, no longer give, and the service still
/// holds: each is a change to the empty text, which is how the API clears a field.
fn cleared_fields(
    current_tags: &[peak_press_apps::types::Tag],
    given: &[&str],
    current: &impl Serialize,
    fields: &mut Vec<FieldChange>,
) -> Vec<&'static str> {
    let current = json(current);
    let cleared: Vec<&'static str> = marks::cleared(current_tags, given)
        .into_iter()
        .filter(|field| current[*field].as_str().is_some_and(|value| !value.is_empty()))
        .collect();
    for field in &cleared {
        fields.push(FieldChange::new(
            &format!("metadata.{field}"),
            current[*field].clone(),
            Value::String(String::new()),
        ));
    }
    cleared
}

/// The metadata update that sets every field the file gives (the name, which finds the
/// resource, stays as it is) and clears the `cleared` ones.
fn metadata_update<T: serde::de::DeserializeOwned>(
    file: &impl Serialize,
    cleared: &[&str],
) -> Result<T, Error> {
    let mut update = json(file);
    if let Value::Object(map) = &mut update {
        map.remove("name");
        for field in cleared {
            map.insert((*field).to_owned(), Value::String(String::new()));
        }
    }
    serde_json::from_value(update)
        .map_err(|error| Error::Invalid(format!("a metadata update cannot be made: {error}")))
}

/// The spec a deployment deploys, the release it should run, and the release's parameters.
struct Resolved {
    target: SpecTarget,
    /// The spec's name, when known.
    spec: Option<String>,
    version: String,
    definitions: Option<ParameterDefinitions>,
}

/// Finds the deployment's spec and release in the files and the service; a spec or release that
/// exists in neither is a problem of the deployment's file.
async fn resolve(
    client: &Client,
    deployment: &DesiredDeployment,
    desired: &DesiredState,
    current: &Current,
) -> Result<Result<Resolved, Problem>, Error> {
    let selector = &deployment.body.spec;
    let name = match (&selector.name, &selector.id) {
        (Some(name), _) => Some(name.clone()),
        (None, Some(id)) => current.specs_by_id.get(id).cloned(),
        (None, None) => None,
    };
    let file_spec = name.as_ref().and_then(|name| desired.specs.iter().find(|spec| spec.name() == name));
    let service_spec = name.as_ref().and_then(|name| current.specs.get(name));
    let target = match (service_spec, file_spec) {
        (Some(spec), _) => SpecTarget::Id(spec.id.clone()),
        (None, Some(spec)) => SpecTarget::Name(spec.name().to_owned()),
        (None, None) => {
            let (key, shown) = match (&selector.name, &selector.id) {
                (Some(name), _) => ("name", name.clone()),
                (None, id) => ("id", id.clone().unwrap_or_default()),
            };
            return Ok(Err(Problem {
                kind: ProblemKind::Invalid,
                message: format!("no spec {shown:?} in the files or the service"),
                path: Some(format!("body.spec.{key}")),
            }));
        }
    };
    // The latest release once the files are applied: the file's when it is ahead.
    let service_latest =
        service_spec.and_then(|spec| spec.latest_release.as_ref()).map(|r| r.version.clone());
    let file_version = file_spec.map(|spec| spec.body.release.version.clone());
    let latest = match (&file_version, &service_latest) {
        (Some(file), Some(service)) if semver(file) > semver(service) => file.clone(),
        (_, Some(service)) => service.clone(),
        (Some(file), None) => file.clone(),
        (None, None) => String::new(),
    };
    let version = selector.release.as_ref().map_or(latest, |release| release.version.clone());
    let definitions = match (file_spec, &target) {
        (Some(spec), _) if spec.body.release.version == version => spec.parameters.clone(),
        (_, SpecTarget::Id(id)) => match client.describe_spec_release(id, &version).await {
            Ok(release) => release.parameters,
            Err(error) if error.is_not_found() => {
                let listed: Vec<Option<String>> = client
                    .list_spec_releases(id)
                    .items()
                    .map_ok(|release| release.version)
                    .try_collect()
                    .await?;
                let mut versions: Vec<String> = listed.into_iter().flatten().collect();
                versions.extend(file_version.clone());
                return Ok(Err(missing_release(&version, name.as_deref(), versions)));
            }
            Err(error) => return Err(error.into()),
        },
        (_, SpecTarget::Name(_)) => {
            return Ok(Err(missing_release(&version, name.as_deref(), file_version.into_iter().collect())));
        }
    };
    Ok(Ok(Resolved { target, spec: name, version, definitions }))
}

fn missing_release(version: &str, spec: Option<&str>, mut versions: Vec<String>) -> Problem {
    versions.sort_by_key(|version| std::cmp::Reverse(semver(version)));
    versions.dedup();
    let spec = spec.map(|name| format!("spec {name:?}")).unwrap_or_else(|| "its spec".to_owned());
    let existing = if versions.is_empty() { "none".to_owned() } else { versions.join(", ") };
    Problem {
        kind: ProblemKind::Invalid,
        message: format!(
            "release {version} of {spec} exists neither in the files nor on the service; \
             the releases there are: {existing}"
        ),
        path: Some("body.spec.release.version".to_owned()),
    }
}

/// The names of the parameters whose values the service masks, as `build.NAME` and `run.NAME`.
fn hidden_names(definitions: &Option<ParameterDefinitions>) -> BTreeSet<String> {
    let Some(definitions) = definitions else { return BTreeSet::new() };
    let phases = [("build", &definitions.build), ("run", &definitions.run)];
    phases
        .into_iter()
        .flat_map(|(phase, list)| {
            list.iter().filter(|d| d.hide_value == Some(true)).map(move |d| format!("{phase}.{}", d.name))
        })
        .collect()
}

/// The file's parameter values split into what the service shows and, as a digest, what it masks.
fn split_hidden(
    name: &str,
    values: &Option<AppParameters>,
    hidden: &BTreeSet<String>,
) -> (Value, Option<String>) {
    let mut shown = json(values);
    let mut masked = serde_json::Map::new();
    for path in hidden {
        let Some((phase, parameter)) = path.split_once('.') else { continue };
        let Some(Value::Object(given)) = shown.get_mut(phase) else { continue };
        if let Some(value) = given.remove(parameter) {
            let entry = masked.entry(phase.to_owned()).or_insert_with(|| Value::Object(Default::default()));
            entry[parameter] = value;
        }
    }
    let digest = (!masked.is_empty()).then(|| digest(name, &Value::Object(masked)));
    (shown, digest)
}

async fn plan_deployment(
    client: &Client,
    deployment: &DesiredDeployment,
    desired: &DesiredState,
    current: &Current,
    spec_changes: &[Change],
    options: &Options,
) -> Result<Change, Error> {
    let name = deployment.name().to_owned();
    let existing = current.deployments.get(&name);
    let mut change = Change::new(Kind::Deployment, name.clone(), existing.map(|d| d.id.clone()));
    change.status = existing.and_then(|d| status_of(&d.metadata.status));
    let resolved = match resolve(client, deployment, desired, current).await? {
        Ok(resolved) => resolved,
        Err(problem) => {
            change.problem = Some(problem);
            return Ok(change);
        }
    };
    change.hidden = hidden_names(&resolved.definitions);
    if let Some(definitions) = &resolved.definitions
        && let Some(problem) = values::check(definitions, deployment.body.app_parameters.as_ref())
    {
        change.problem = Some(problem);
        return Ok(change);
    }
    // A deployment needs what this plan does to its spec (its creation, its new release).
    change.depends_on = resolved.spec.clone().filter(|spec| {
        spec_changes.iter().any(|c| &c.name == spec && (!c.operations.is_empty() || c.problem.is_some()))
    });
    let body = &deployment.body;
    let (shown, hidden_digest) = split_hidden(&name, &body.app_parameters, &change.hidden);
    let notes =
        marks::with_digest(body.revision.as_ref().map(|r| r.notes.as_str()), hidden_digest.as_deref());
    let spec_ref = |id: String| DeploymentSpecRef {
        id,
        release: Some(VersionRef { version: resolved.version.clone() }),
        includes: body.spec.includes.clone(),
        excludes: body.spec.excludes.clone(),
    };
    let current_tags = existing.map(|d| d.metadata.tags.as_slice()).unwrap_or_default();
    let mut metadata = body.metadata.clone();
    let given = given_fields(&body.metadata);
    metadata.tags = marks::tags(&metadata.tags, current_tags, options.owner.as_deref(), &given);

    let Some(current) = existing else {
        let create = NewDeployment {
            metadata,
            app_parameters: body.app_parameters.clone(),
            parameters: body.parameters.clone(),
            revision: RevisionInput { notes },
            spec: spec_ref(String::new()),
        };
        let mut fields = json(&create);
        if let Value::Object(map) = &mut fields {
            map.remove("spec");
            map.insert("appParameters".into(), shown);
            map.insert("spec.release.version".into(), Value::String(resolved.version.clone()));
        }
        differences("", &fields, &Value::Null, &mut change.fields);
        change
            .fields
            .extend(change.hidden.iter().map(|path| FieldChange::hidden(&format!("appParameters.{path}"))));
        change
            .operations
            .push(Operation::CreateDeployment { spec: resolved.target, deployment: Box::new(create) });
        return Ok(change);
    };
    let redeploy = current.metadata.status == Some(DeploymentStatus::Failed);

    let mut fields = metadata_changes(&metadata, &current.metadata);
    let cleared = cleared_fields(current_tags, &given, &current.metadata, &mut fields);
    if !fields.is_empty() {
        let update: DeploymentMetadataUpdate = metadata_update(&metadata, &cleared)?;
        change.operations.push(Operation::UpdateDeployment { update: Box::new(update) });
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
        differences("appParameters", &shown, &json(&revision.parameters), &mut revision_fields);
        match (&hidden_digest, marks::digest_of(revision.notes.as_deref())) {
            (Some(want), Some(have)) if want != have => {
                revision_fields.push(FieldChange::hidden("appParameters (hidden values)"))
            }
            (Some(_), None) => change.remarks.push(
                "hidden values cannot be verified: no apply recorded them; the next revision apply \
                 makes records them"
                    .to_owned(),
            ),
            _ => {}
        }
    }
    if !revision_fields.is_empty() {
        let revise = NewRevision {
            release: Some(VersionRef { version: resolved.version.clone() }),
            revision: Some(RevisionInput { notes }),
            blocks_config: None,
            app_parameters: body.app_parameters.clone(),
            parameters: body.parameters.clone(),
        };
        change.operations.push(Operation::CreateRevision { revision: Box::new(revise) });
        change.fields.extend(revision_fields);
    }

    if redeploy {
        let revised = change.operations.iter().any(|op| matches!(op, Operation::CreateRevision { .. }));
        if options.redeploy_failed && !revised {
            change.operations.push(Operation::Redeploy);
        } else if !options.redeploy_failed {
            change.notes.push("failed: apply redeploys it with --redeploy-failed".to_owned());
        }
    }
    // Its status is part of what the plan saw only when a redeploy was decided from it.
    change.seen = Some(seen_deployment(current, change.operations.contains(&Operation::Redeploy)));
    Ok(change)
}

/// The resources marked with the owner that the files no longer name: deployments, then specs.
/// With `prune` they are deleted; without, the plan lists them with a note.
fn orphans(desired: &DesiredState, current: &Current, options: &Options) -> Vec<Change> {
    let Some(owner) = &options.owner else { return Vec::new() };
    let mark = marks::owner(owner);
    let owned = |tags: &[peak_press_apps::types::Tag]| tags.iter().any(|tag| tag.name == mark);
    let orphan = |kind, name: &str, id: &str, seen: Value| {
        let mut change = Change::new(kind, name.to_owned(), Some(id.to_owned()));
        change.orphaned = true;
        if options.prune {
            change.operations.push(Operation::Delete);
            change.seen = Some(seen);
        } else {
            change.notes.push(format!(
                "orphaned: marked as owned by {owner:?} and no longer in the files; apply --prune deletes it"
            ));
        }
        change
    };
    let mut changes: Vec<Change> = current
        .deployments
        .values()
        .filter(|d| {
            owned(&d.metadata.tags) && !desired.deployments.iter().any(|w| w.name() == d.metadata.name)
        })
        .map(|d| orphan(Kind::Deployment, &d.metadata.name, &d.id, seen_deployment(d, false)))
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
        let mut change = orphan(Kind::Spec, &spec.metadata.name, &spec.id, seen_spec(spec));
        if kept {
            change.operations.clear();
            change.seen = None;
            change.notes =
                vec!["orphaned, but not deleted: deployments that are kept still use it".to_owned()];
        }
        changes.push(change);
    }
    changes.sort_by(|a, b| (a.kind == Kind::Spec, &a.name).cmp(&(b.kind == Kind::Spec, &b.name)));
    changes
}
