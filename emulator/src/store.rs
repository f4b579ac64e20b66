//! The emulator's state in memory and the service's rules: unique names, ordered release
//! versions, parameter values of the declared types, the deployment lifecycle.
//!
//! Time-driven transitions (`deploying` to `deployed`, `deleting` to gone) are applied lazily:
//! every operation first settles what is due, so nothing runs in the background and a delay of
//! zero makes every transition visible on the next request.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    error::{ApiError, ApiResult},
    model::*,
    orders::{Orders, SortField, Sortable, compare},
};

/// Who the emulator says created things.
const CREATOR: &str = "emulator@peak.ai";

/// What a list request asks for, already checked.
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    pub statuses: Vec<&'static str>,
    pub scopes: Vec<Scope>,
    pub featured: Option<bool>,
    pub name: Option<String>,
    pub title: Option<String>,
    /// Keys in order, each with `true` for descending.
    pub sort: Vec<(SortField, bool)>,
    pub page_size: u64,
    pub page_number: u64,
}

impl ListQuery {
    /// Whether any filter is set; a listing only ever fills the filters it accepts.
    fn has_filters(&self) -> bool {
        !self.statuses.is_empty()
            || !self.scopes.is_empty()
            || self.featured.is_some()
            || self.name.is_some()
            || self.title.is_some()
    }
}

/// One page of results with the counts the service reports.
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page_count: u64,
    pub page_number: u64,
    pub page_size: u64,
}

struct Release {
    id: String,
    version: semver::Version,
    notes: String,
    created_at: String,
    created_by: String,
    config: Vec<BlockConfig>,
    parameters: ParameterDefinitions,
}

struct Spec {
    id: String,
    featured: bool,
    scope: Scope,
    tenants: Vec<String>,
    metadata: Metadata,
    status: SpecStatus,
    /// In creation order, so the last is the latest.
    releases: Vec<Release>,
}

struct Revision {
    id: String,
    number: u64,
    status: RevisionStatus,
    notes: String,
    created_at: String,
    created_by: String,
    release_version: String,
    parameters: AppParameters,
    blocks: Vec<BlockDeployment>,
}

enum Pending {
    Deployed(Instant),
    Gone(Instant),
}

struct Deployment {
    id: String,
    metadata: Metadata,
    status: DeploymentStatus,
    spec_id: String,
    /// In creation order; revision n is at index n - 1.
    revisions: Vec<Revision>,
    pending: Option<Pending>,
}

impl Deployment {
    fn latest(&self) -> &Revision {
        self.revisions.last().expect("a deployment always has a revision")
    }

    fn latest_mut(&mut self) -> &mut Revision {
        self.revisions.last_mut().expect("a deployment always has a revision")
    }

    /// Sets the deployment's status, and the matching one on its latest revision and its blocks.
    fn set_status(&mut self, status: DeploymentStatus) {
        self.status = status;
        self.metadata.status = status.as_str();
        let latest = self.latest_mut();
        latest.status = status.revision_status();
        for block in &mut latest.blocks {
            block.status = latest.status;
        }
    }
}

/// The whole state of one emulator.
pub struct Store {
    deploy_delay: Duration,
    last_stamp_ms: i64,
    specs: HashMap<String, Spec>,
    deployments: HashMap<String, Deployment>,
    spec_orders: Orders,
    deployment_orders: Orders,
}

impl Store {
    pub fn new(deploy_delay: Duration) -> Self {
        Self {
            deploy_delay,
            last_stamp_ms: 0,
            specs: HashMap::new(),
            deployments: HashMap::new(),
            spec_orders: Orders::default(),
            deployment_orders: Orders::default(),
        }
    }

    /// A creation time later than every earlier one, so "newest first" is a strict order.
    fn stamp(&mut self) -> String {
        let ms = chrono::Utc::now().timestamp_millis().max(self.last_stamp_ms + 1);
        self.last_stamp_ms = ms;
        let at = chrono::DateTime::from_timestamp_millis(ms).expect("a current time");
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }

    /// Applies the lifecycle transitions that are due.
    pub fn settle(&mut self) {
        let now = Instant::now();
        let mut gone = Vec::new();
        for deployment in self.deployments.values_mut() {
            match deployment.pending {
                Some(Pending::Deployed(at)) if at <= now => {
                    deployment.pending = None;
                    let latest = deployment.revisions.len() - 1;
                    for revision in &mut deployment.revisions[..latest] {
                        if matches!(revision.status, RevisionStatus::Deployed | RevisionStatus::Deploying) {
                            revision.status = RevisionStatus::Superseded;
                        }
                    }
                    deployment.set_status(DeploymentStatus::Deployed);
                }
                Some(Pending::Gone(at)) if at <= now => gone.push(deployment.id.clone()),
                _ => {}
            }
        }
        if !gone.is_empty() {
            for id in &gone {
                self.deployments.remove(id);
            }
            self.deployment_orders.remove(&gone);
        }
    }

    fn spec(&self, id: &str) -> ApiResult<&Spec> {
        self.specs.get(id).ok_or_else(|| ApiError::not_found(format!("app spec {id:?} does not exist")))
    }

    fn spec_mut(&mut self, id: &str) -> ApiResult<&mut Spec> {
        self.specs.get_mut(id).ok_or_else(|| ApiError::not_found(format!("app spec {id:?} does not exist")))
    }

    fn deployment(&self, id: &str) -> ApiResult<&Deployment> {
        self.deployments
            .get(id)
            .ok_or_else(|| ApiError::not_found(format!("app deployment {id:?} does not exist")))
    }

    fn deployment_mut(&mut self, id: &str) -> ApiResult<&mut Deployment> {
        self.deployments
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found(format!("app deployment {id:?} does not exist")))
    }

    // ---- Specs ----

    pub fn create_spec(
        &mut self,
        spec: NewSpec,
        featured: bool,
        scope: Scope,
        tenants: Vec<String>,
        parameters: ParameterDefinitions,
    ) -> ApiResult<String> {
        if spec.version != 1 {
            return Err(ApiError::bad_request(format!("spec.version must be 1, not {}", spec.version)));
        }
        not_blank("spec.metadata.name", &spec.metadata.name)?;
        let version = semantic_version("spec.release.version", &spec.release.version)?;
        check_definitions(&parameters)?;
        if !tenants.is_empty() && scope != Scope::Shared {
            return Err(ApiError::unprocessable("tenants can only be given with the shared scope"));
        }
        if self.specs.values().any(|s| s.metadata.name == spec.metadata.name) {
            return Err(ApiError::conflict(format!(
                "an app spec named {:?} already exists",
                spec.metadata.name
            )));
        }
        let at = self.stamp();
        let id = Uuid::new_v4().to_string();
        let release = Release {
            id: Uuid::new_v4().to_string(),
            version,
            notes: spec.release.notes,
            created_at: at.clone(),
            created_by: CREATOR.into(),
            config: spec.config,
            parameters,
        };
        let metadata = Metadata::new(spec.metadata, SpecStatus::Available.as_str(), &at, CREATOR);
        let record = Spec {
            id: id.clone(),
            featured,
            scope,
            tenants,
            metadata,
            status: SpecStatus::Available,
            releases: vec![release],
        };
        self.specs.insert(id.clone(), record);
        self.spec_orders.push(&id, |id| &self.specs[id].metadata);
        Ok(id)
    }

    pub fn describe_spec(&self, id: &str) -> ApiResult<SpecOut> {
        Ok(spec_out(self.spec(id)?))
    }

    pub fn list_specs(&self, query: &ListQuery) -> Page<SpecOut> {
        let keep = |id: &str| {
            let spec = &self.specs[id];
            (query.statuses.is_empty() || query.statuses.contains(&spec.status.as_str()))
                && (query.scopes.is_empty() || query.scopes.contains(&spec.scope))
                && query.featured.is_none_or(|f| f == spec.featured)
                && prefix_matches(&query.name, Some(&spec.metadata.name))
                && prefix_matches(&query.title, spec.metadata.title.as_ref())
        };
        page_of(&self.spec_orders, query, |id| &self.specs[id].metadata, keep)
            .map(|id| spec_out(&self.specs[&id]))
    }

    pub fn update_spec(&mut self, id: &str, update: SpecUpdate) -> ApiResult<SpecOut> {
        if let Some(name) = update.metadata.as_ref().and_then(|m| m.name.as_ref()) {
            not_blank("metadata.name", name)?;
            if self.specs.values().any(|s| s.id != id && &s.metadata.name == name) {
                return Err(ApiError::conflict(format!("an app spec named {name:?} already exists")));
            }
        }
        let at = self.stamp();
        let spec = self.spec_mut(id)?;
        let scope = update.scope.unwrap_or(spec.scope);
        // Leaving the shared scope drops the tenants it was shared with; giving tenants with
        // another scope is an error.
        let tenants = match update.tenants {
            Some(tenants) => tenants,
            None if scope == Scope::Shared => spec.tenants.clone(),
            None => Vec::new(),
        };
        if !tenants.is_empty() && scope != Scope::Shared {
            return Err(ApiError::unprocessable("tenants can only be given with the shared scope"));
        }
        if let Some(m) = update.metadata {
            let meta = &mut spec.metadata;
            merge(&mut meta.name, m.name);
            merge(&mut meta.summary, m.summary);
            merge_opt(&mut meta.title, m.title);
            merge_opt(&mut meta.description, m.description);
            merge_opt(&mut meta.description_content_type, m.description_content_type);
            merge_opt(&mut meta.image_url, m.image_url);
            merge(&mut meta.tags, m.tags);
            if let Some(status) = m.status {
                spec.status = status;
                meta.status = status.as_str();
            }
        }
        merge(&mut spec.featured, update.featured);
        spec.scope = scope;
        spec.tenants = tenants;
        spec.metadata.updated_at = at;
        spec.metadata.updated_by = CREATOR.into();
        let out = spec_out(spec);
        self.spec_orders.changed(id, |id| &self.specs[id].metadata);
        Ok(out)
    }

    pub fn delete_spec(&mut self, id: &str) -> ApiResult<()> {
        self.spec(id)?;
        let deployed = self.deployments.values().filter(|d| d.spec_id == id).count();
        if deployed > 0 {
            return Err(ApiError::conflict(format!(
                "app spec {id:?} still has {deployed} deployment(s); delete them first"
            )));
        }
        self.specs.remove(id);
        self.spec_orders.remove(&[id.to_owned()]);
        Ok(())
    }

    pub fn create_release(&mut self, spec_id: &str, release: NewRelease) -> ApiResult<String> {
        let version = semantic_version("release.version", &release.release.version)?;
        let parameters = release.parameters.unwrap_or_default();
        check_definitions(&parameters)?;
        let at = self.stamp();
        let spec = self.spec_mut(spec_id)?;
        let latest = &spec.releases.last().expect("a spec always has a release").version;
        if version <= *latest {
            return Err(ApiError::conflict(format!(
                "release {version} is not greater than the latest release {latest}"
            )));
        }
        spec.releases.push(Release {
            id: Uuid::new_v4().to_string(),
            version: version.clone(),
            notes: release.release.notes,
            created_at: at,
            created_by: CREATOR.into(),
            config: release.config,
            parameters,
        });
        Ok(version.to_string())
    }

    pub fn describe_release(&self, spec_id: &str, version: &str) -> ApiResult<ReleaseOut> {
        let wanted = semantic_version("version", version)?;
        let spec = self.spec(spec_id)?;
        spec.releases
            .iter()
            .find(|r| r.version == wanted)
            .map(release_out)
            .ok_or_else(|| ApiError::not_found(format!("app spec {spec_id:?} has no release {version}")))
    }

    pub fn list_releases(&self, spec_id: &str, query: &ListQuery) -> ApiResult<Page<ReleaseOut>> {
        let spec = self.spec(spec_id)?;
        let all = spec.releases.iter().collect();
        Ok(paginate(all, query, |r| (&r.created_at, &r.created_by), |r| &r.id).map(release_out))
    }

    // ---- Deployments ----

    pub fn create_deployment(&mut self, new: NewDeployment) -> ApiResult<String> {
        not_blank("metadata.name", &new.metadata.name)?;
        let spec = self.spec(&new.spec.id)?;
        let release = find_release(spec, new.spec.release.as_ref())?;
        let app_parameters = new.app_parameters.unwrap_or_default();
        check_values(&release.parameters, &app_parameters)?;
        if self.deployments.values().any(|d| d.metadata.name == new.metadata.name) {
            return Err(ApiError::conflict(format!(
                "an app deployment named {:?} already exists",
                new.metadata.name
            )));
        }
        let blocks = blocks_for(release, &new.spec.includes, &new.spec.excludes);
        let release_version = release.version.to_string();
        let spec_id = spec.id.clone();
        let at = self.stamp();
        let id = Uuid::new_v4().to_string();
        let revision = Revision {
            id: Uuid::new_v4().to_string(),
            number: 1,
            status: RevisionStatus::Deploying,
            notes: new.revision.notes,
            created_at: at.clone(),
            created_by: CREATOR.into(),
            release_version,
            parameters: app_parameters,
            blocks,
        };
        let deploying = DeploymentStatus::Deploying;
        let deployment = Deployment {
            id: id.clone(),
            metadata: Metadata::new(new.metadata, deploying.as_str(), &at, CREATOR),
            status: deploying,
            spec_id,
            revisions: vec![revision],
            pending: Some(Pending::Deployed(Instant::now() + self.deploy_delay)),
        };
        self.deployments.insert(id.clone(), deployment);
        self.deployment_orders.push(&id, |id| &self.deployments[id].metadata);
        Ok(id)
    }

    pub fn describe_deployment(&self, id: &str) -> ApiResult<DeploymentOut> {
        Ok(deployment_out(self.deployment(id)?))
    }

    pub fn list_deployments(&self, query: &ListQuery) -> Page<DeploymentOut> {
        let keep = |id: &str| {
            let deployment = &self.deployments[id];
            (query.statuses.is_empty() || query.statuses.contains(&deployment.status.as_str()))
                && prefix_matches(&query.name, Some(&deployment.metadata.name))
        };
        page_of(&self.deployment_orders, query, |id| &self.deployments[id].metadata, keep)
            .map(|id| deployment_out(&self.deployments[&id]))
    }

    pub fn update_deployment(
        &mut self,
        id: &str,
        update: DeploymentMetadataUpdate,
    ) -> ApiResult<DeploymentOut> {
        if let Some(name) = &update.name {
            not_blank("name", name)?;
            if self.deployments.values().any(|d| d.id != id && &d.metadata.name == name) {
                return Err(ApiError::conflict(format!("an app deployment named {name:?} already exists")));
            }
        }
        let at = self.stamp();
        let deployment = self.deployment_mut(id)?;
        let meta = &mut deployment.metadata;
        merge(&mut meta.name, update.name);
        merge(&mut meta.summary, update.summary);
        merge_opt(&mut meta.title, update.title);
        merge_opt(&mut meta.description, update.description);
        merge_opt(&mut meta.description_content_type, update.description_content_type);
        merge_opt(&mut meta.image_url, update.image_url);
        merge(&mut meta.tags, update.tags);
        meta.updated_at = at;
        meta.updated_by = CREATOR.into();
        let out = deployment_out(deployment);
        self.deployment_orders.changed(id, |id| &self.deployments[id].metadata);
        Ok(out)
    }

    pub fn delete_deployment(&mut self, id: &str) -> ApiResult<()> {
        let delay = self.deploy_delay;
        let deployment = self.deployment_mut(id)?;
        if deployment.status != DeploymentStatus::Deleting {
            deployment.set_status(DeploymentStatus::Deleting);
            deployment.pending = Some(Pending::Gone(Instant::now() + delay));
        }
        Ok(())
    }

    pub fn redeploy(&mut self, id: &str) -> ApiResult<(String, u64, String)> {
        let delay = self.deploy_delay;
        let deployment = self.deployment_mut(id)?;
        if !matches!(deployment.status, DeploymentStatus::Failed | DeploymentStatus::Warning) {
            return Err(ApiError::conflict(format!(
                "app deployment {id:?} is {}; only failed or warning deployments can be redeployed",
                deployment.status.as_str()
            )));
        }
        // The deployment reports `redeploying`; its revision, whose statuses have no such value,
        // reports `deploying` until it is deployed again.
        deployment.set_status(DeploymentStatus::Redeploying);
        deployment.pending = Some(Pending::Deployed(Instant::now() + delay));
        let latest = deployment.latest();
        Ok((deployment.id.clone(), latest.number, latest.id.clone()))
    }

    pub fn create_revision(&mut self, id: &str, new: NewRevision) -> ApiResult<(String, u64)> {
        let deployment = self.deployment(id)?;
        if deployment.status == DeploymentStatus::Deleting {
            return Err(ApiError::conflict(format!("app deployment {id:?} is being deleted")));
        }
        let spec = self.spec(&deployment.spec_id)?;
        let release = find_release(spec, new.release.as_ref())?;
        let app_parameters = new.app_parameters.unwrap_or_default();
        check_values(&release.parameters, &app_parameters)?;
        let blocks_config = new.blocks_config.unwrap_or_default();
        let blocks = blocks_for(release, &blocks_config.includes, &blocks_config.excludes);
        let release_version = release.version.to_string();
        let at = self.stamp();
        let delay = self.deploy_delay;
        let deployment = self.deployment_mut(id)?;
        let number = deployment.revisions.len() as u64 + 1;
        let revision_id = Uuid::new_v4().to_string();
        deployment.revisions.push(Revision {
            id: revision_id.clone(),
            number,
            status: RevisionStatus::Deploying,
            notes: new.revision.map(|r| r.notes).unwrap_or_default(),
            created_at: at,
            created_by: CREATOR.into(),
            release_version,
            parameters: app_parameters,
            blocks,
        });
        deployment.set_status(DeploymentStatus::Deploying);
        deployment.pending = Some(Pending::Deployed(Instant::now() + delay));
        Ok((revision_id, number))
    }

    pub fn describe_revision(&self, id: &str, number: u64) -> ApiResult<RevisionOut> {
        let deployment = self.deployment(id)?;
        let revision = number
            .checked_sub(1)
            .and_then(|index| deployment.revisions.get(index as usize))
            .ok_or_else(|| ApiError::not_found(format!("app deployment {id:?} has no revision {number}")))?;
        Ok(self.revision_out(deployment, revision))
    }

    pub fn list_revisions(&self, id: &str, query: &ListQuery) -> ApiResult<Page<RevisionOut>> {
        let deployment = self.deployment(id)?;
        let matching = deployment
            .revisions
            .iter()
            .filter(|r| query.statuses.is_empty() || query.statuses.contains(&r.status.as_str()));
        let page = paginate(matching.collect(), query, |r| (&r.created_at, &r.created_by), |r| &r.id);
        Ok(page.map(|r| self.revision_out(deployment, r)))
    }

    /// The control route: sets a deployment's status and its latest revision's.
    pub fn set_status(&mut self, id: &str, status: DeploymentStatus) -> ApiResult<()> {
        let deployment = self.deployment_mut(id)?;
        deployment.pending = None;
        deployment.set_status(status);
        Ok(())
    }

    fn revision_out(&self, deployment: &Deployment, revision: &Revision) -> RevisionOut {
        let definitions = self
            .specs
            .get(&deployment.spec_id)
            .and_then(|spec| spec.releases.iter().find(|r| r.version.to_string() == revision.release_version))
            .map(|release| &release.parameters);
        let hidden =
            |list: fn(&ParameterDefinitions) -> &[ParameterDefinition]| definitions.map_or(&[][..], list);
        RevisionOut {
            id: revision.id.clone(),
            revision: revision.number,
            status: revision.status,
            notes: revision.notes.clone(),
            created_at: revision.created_at.clone(),
            created_by: revision.created_by.clone(),
            resources: revision.blocks.clone(),
            spec: SpecRef {
                id: deployment.spec_id.clone(),
                release: VersionRef { version: revision.release_version.clone() },
            },
            parameters: AppParameters {
                build: masked(&revision.parameters.build, hidden(|d| &d.build)),
                run: masked(&revision.parameters.run, hidden(|d| &d.run)),
            },
        }
    }
}

fn masked(values: &Map<String, Value>, definitions: &[ParameterDefinition]) -> Map<String, Value> {
    values
        .iter()
        .map(|(name, value)| {
            let hide = definitions.iter().any(|d| &d.name == name && d.hide_value == Some(true));
            (name.clone(), if hide { Value::String(MASK.into()) } else { value.clone() })
        })
        .collect()
}

fn spec_out(spec: &Spec) -> SpecOut {
    let latest = spec.releases.last().expect("a spec always has a release");
    SpecOut {
        id: spec.id.clone(),
        kind: "app",
        featured: spec.featured,
        scope: spec.scope.as_str(),
        tenants: spec.tenants.clone(),
        metadata: spec.metadata.clone(),
        latest_release: Some(ReleaseSummary {
            id: latest.id.clone(),
            version: latest.version.to_string(),
            notes: latest.notes.clone(),
            created_at: latest.created_at.clone(),
            created_by: latest.created_by.clone(),
        }),
    }
}

fn release_out(release: &Release) -> ReleaseOut {
    ReleaseOut {
        id: release.id.clone(),
        version: release.version.to_string(),
        notes: release.notes.clone(),
        created_at: release.created_at.clone(),
        created_by: release.created_by.clone(),
        config: release.config.clone(),
        parameters: release.parameters.clone(),
    }
}

fn deployment_out(deployment: &Deployment) -> DeploymentOut {
    let latest = deployment.latest();
    DeploymentOut {
        id: deployment.id.clone(),
        kind: "app",
        metadata: deployment.metadata.clone(),
        latest_revision: RevisionSummary {
            id: latest.id.clone(),
            revision: latest.number,
            status: latest.status,
            notes: latest.notes.clone(),
            created_at: latest.created_at.clone(),
            created_by: latest.created_by.clone(),
            blocks: latest.blocks.clone(),
        },
        spec: SpecRef {
            id: deployment.spec_id.clone(),
            release: VersionRef { version: latest.release_version.clone() },
        },
    }
}

fn blocks_for(
    release: &Release,
    includes: &[BlockInclude],
    excludes: &[BlockExclude],
) -> Vec<BlockDeployment> {
    let from_config = release.config.iter().map(|c| c.id.clone());
    let included = includes.iter().map(|i| i.id.clone());
    from_config
        .chain(included)
        .filter(|id| !excludes.iter().any(|e| &e.id == id))
        .map(|name| BlockDeployment {
            deployment_id: Uuid::new_v4().to_string(),
            platform_id: Uuid::new_v4().to_string(),
            kind: "workflow",
            name,
            status: RevisionStatus::Deploying,
        })
        .collect()
}

/// The release a deployment or revision asks for: the given version, or the latest.
fn find_release<'s>(spec: &'s Spec, wanted: Option<&VersionRef>) -> ApiResult<&'s Release> {
    let Some(wanted) = wanted else {
        return Ok(spec.releases.last().expect("a spec always has a release"));
    };
    let version = semantic_version("release.version", &wanted.version)?;
    spec.releases
        .iter()
        .find(|r| r.version == version)
        .ok_or_else(|| ApiError::not_found(format!("app spec {:?} has no release {version}", spec.id)))
}

fn semantic_version(field: &str, text: &str) -> ApiResult<semver::Version> {
    semver::Version::parse(text)
        .map_err(|why| ApiError::bad_request(format!("{field}: {text:?} is not a semantic version ({why})")))
}

fn not_blank(field: &str, value: &str) -> ApiResult<()> {
    if value.trim().is_empty() {
        return Err(ApiError::bad_request(format!("{field} must not be empty")));
    }
    Ok(())
}

/// One page of the records of `orders` that pass the query's filters, in the query's order.
fn page_of<S: Sortable>(
    orders: &Orders,
    query: &ListQuery,
    fields: impl Fn(&str) -> S,
    keep: impl Fn(&str) -> bool,
) -> Page<String> {
    let start = usize::try_from(query.page_size.saturating_mul(query.page_number - 1)).unwrap_or(usize::MAX);
    let size = usize::try_from(query.page_size).unwrap_or(usize::MAX);
    let filter: Option<&dyn Fn(&str) -> bool> = if query.has_filters() { Some(&keep) } else { None };
    let (total, items) = orders.page(&query.sort, fields, filter, start, size);
    Page::of(items, total, query)
}

fn prefix_matches(prefix: &Option<String>, value: Option<&String>) -> bool {
    match prefix {
        None => true,
        Some(prefix) => value.is_some_and(|v| v.starts_with(prefix.as_str())),
    }
}

fn merge<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

fn merge_opt<T>(slot: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *slot = value;
    }
}

fn value_fits(type_: ParameterType, value: &Value) -> bool {
    let all = |items: &Vec<Value>, test: fn(&Value) -> bool| items.iter().all(test);
    match (type_, value) {
        (ParameterType::Boolean, Value::Bool(_))
        | (ParameterType::String, Value::String(_))
        | (ParameterType::Number, Value::Number(_))
        | (ParameterType::Object, Value::Object(_)) => true,
        (ParameterType::StringArray, Value::Array(items)) => all(items, Value::is_string),
        (ParameterType::NumberArray, Value::Array(items)) => all(items, Value::is_number),
        (ParameterType::ObjectArray, Value::Array(items)) => all(items, Value::is_object),
        _ => false,
    }
}

/// Parameter definitions: names given and unique per list, defaults and options of the
/// declared type. A body that breaks these parses, but cannot be processed: 422.
fn check_definitions(definitions: &ParameterDefinitions) -> ApiResult<()> {
    for (list, params) in [("build", &definitions.build), ("run", &definitions.run)] {
        for (index, param) in params.iter().enumerate() {
            if param.name.trim().is_empty() {
                return Err(ApiError::unprocessable(format!("parameters.{list}[{index}].name is empty")));
            }
            if params[..index].iter().any(|p| p.name == param.name) {
                return Err(ApiError::unprocessable(format!(
                    "{list} parameter {:?} is defined twice",
                    param.name
                )));
            }
            let values = param.default_value.iter().chain(param.options.iter().map(|o| &o.value));
            if let Some(bad) = values.into_iter().find(|v| !value_fits(param.type_, v)) {
                return Err(ApiError::unprocessable(format!(
                    "{list} parameter {:?} is of type {}, but is given {bad}",
                    param.name,
                    param.type_.as_str()
                )));
            }
        }
    }
    Ok(())
}

/// Deployment-time values: each names a defined parameter and has its type.
fn check_values(definitions: &ParameterDefinitions, values: &AppParameters) -> ApiResult<()> {
    for (list, defined, given) in
        [("build", &definitions.build, &values.build), ("run", &definitions.run, &values.run)]
    {
        for (name, value) in given {
            let Some(definition) = defined.iter().find(|d| &d.name == name) else {
                return Err(ApiError::unprocessable(format!(
                    "the release defines no {list} parameter {name:?}"
                )));
            };
            if !value_fits(definition.type_, value) {
                return Err(ApiError::unprocessable(format!(
                    "{list} parameter {name:?} is of type {}, but is given {value}",
                    definition.type_.as_str()
                )));
            }
        }
    }
    Ok(())
}

impl Sortable for &Metadata {
    fn field(&self, field: SortField) -> Option<&str> {
        match field {
            SortField::CreatedAt => Some(&self.created_at),
            SortField::CreatedBy => Some(&self.created_by),
            SortField::Name => Some(&self.name),
            SortField::Title => self.title.as_deref(),
        }
    }
}

impl Sortable for (&String, &String) {
    fn field(&self, field: SortField) -> Option<&str> {
        match field {
            SortField::CreatedAt => Some(self.0),
            SortField::CreatedBy => Some(self.1),
            SortField::Name | SortField::Title => None,
        }
    }
}

/// Sorts by the query's keys (newest first when none), ties broken by id, and cuts one page.
/// `items` come in creation order, which is `createdAt` order since creation times strictly
/// increase, so sorting by creation time alone needs no sort.
fn paginate<'a, T, S: Sortable>(
    mut items: Vec<&'a T>,
    query: &ListQuery,
    fields: impl Fn(&'a T) -> S,
    id: impl Fn(&'a T) -> &'a String,
) -> Page<&'a T> {
    let default = [(SortField::CreatedAt, true)];
    let keys = if query.sort.is_empty() { &default[..] } else { &query.sort[..] };
    match keys {
        [(SortField::CreatedAt, true)] => items.reverse(),
        [(SortField::CreatedAt, false)] => {}
        _ => items.sort_by(|a, b| compare(keys, &fields(a), &fields(b), id(a), id(b))),
    }
    let total = items.len() as u64;
    let start = query.page_size.saturating_mul(query.page_number - 1);
    let items = items
        .into_iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(query.page_size as usize)
        .collect();
    Page::of(items, total, query)
}

impl<T> Page<T> {
    /// The page `query` asked for, holding `items` of the `total` that pass its filters.
    fn of(items: Vec<T>, total: u64, query: &ListQuery) -> Self {
        Page {
            items,
            total,
            page_count: total.div_ceil(query.page_size),
            page_number: query.page_number,
            page_size: query.page_size,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page_count: self.page_count,
            page_number: self.page_number,
            page_size: self.page_size,
        }
    }
}
