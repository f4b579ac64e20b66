//! The emulator's state in memory and the service's rules: unique names, ordered release
//! versions, parameter values of the declared types, the deployment lifecycle.
//!
//! Time-driven transitions (`deploying` to `deployed`, `deleting` to gone) are applied lazily:
//! every operation first settles what is due, so nothing runs in the background and a delay of
//! zero makes every transition visible on the next request.
//!
//! Every record belongs to the tenant whose token created it. A tenant sees its own specs, the
//! public ones and those shared with it by name; it changes only its own. Deployments are never
//! seen outside their tenant. What another tenant may not see answers 404, as if it did not
//! exist; what it may see but not change answers 403.
//!
//! This module holds the state and the operations; `rules` the checks and derivations they share
//! (versions, parameter types, which blocks a release deploys), `paging` the listings' filters,
//! order and pages, `output` how records become the service's answers, and `snapshot` the whole
//! state as one document, out and in.

use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    error::{ApiError, ApiResult},
    model::*,
    orders::{Orders, SortField, Sortable, compare},
};

/// Who the emulator says created things.
const CREATOR: &str = "emulator@peak.ai";

/// The tenant of tokens given without one, and of records in a document that names none.
pub const DEFAULT_TENANT: &str = "default";

mod disk;
mod names;
mod output;
mod paging;
mod records;
mod rules;
mod snapshot;

pub use disk::{Dirty, Disk, Row, all_rows, rows};

use names::Names;
use output::{deployment_out, release_out, spec_out};
pub use paging::{ListQuery, Page};
use paging::{page_of, paginate};
use records::Records;
use rules::*;

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
    /// The tenant that created it and alone may change it.
    tenant: String,
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
    /// The tenant that created it and alone sees it.
    tenant: String,
    metadata: Metadata,
    status: DeploymentStatus,
    spec_id: String,
    /// In creation order; revision n is at index n - 1.
    revisions: Vec<Revision>,
    pending: Option<Pending>,
}

impl Spec {
    /// Whether `tenant` may see it (and deploy it): its own, public, or shared with it by name.
    fn visible_to(&self, tenant: &str) -> bool {
        self.tenant == tenant
            || self.scope == Scope::Public
            || (self.scope == Scope::Shared && self.tenants.iter().any(|t| t == tenant))
    }
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
    pub(crate) deploy_delay: Duration,
    last_stamp_ms: i64,
    specs: Records<Spec>,
    deployments: Records<Deployment>,
    spec_orders: Orders,
    deployment_orders: Orders,
    spec_names: Names,
    deployment_names: Names,
    /// Every tenant that has created something, deleted or not: while there is only one, a
    /// listing sees every record without asking each.
    owners: std::collections::HashSet<String>,
}

impl Store {
    pub fn new(deploy_delay: Duration) -> Self {
        Self {
            deploy_delay,
            last_stamp_ms: 0,
            specs: Records::default(),
            deployments: Records::default(),
            spec_orders: Orders::default(),
            deployment_orders: Orders::default(),
            spec_names: Names::default(),
            deployment_names: Names::default(),
            owners: Default::default(),
        }
    }

    /// A creation time later than every earlier one, so "newest first" is a strict order.
    fn stamp(&mut self) -> String {
        let ms = chrono::Utc::now().timestamp_millis().max(self.last_stamp_ms + 1);
        self.last_stamp_ms = ms;
        let at = chrono::DateTime::from_timestamp_millis(ms).expect("a current time");
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }

    /// What changed since the last call: every record inserted, changed or removed, since the
    /// records note each change themselves.
    pub(crate) fn take_changes(&mut self) -> Vec<Dirty> {
        let specs = self.specs.take_changed().into_iter().map(Dirty::Spec);
        specs.chain(self.deployments.take_changed().into_iter().map(Dirty::Deployment)).collect()
    }

    /// Applies the lifecycle transitions that are due.
    pub fn settle(&mut self) {
        let now = Instant::now();
        // One pass over the deployments, on every request: which are due, and to become what.
        let due = self.deployments.select(|d| match d.pending {
            Some(Pending::Deployed(at)) if at <= now => Some(Pending::Deployed(at)),
            Some(Pending::Gone(at)) if at <= now => Some(Pending::Gone(at)),
            _ => None,
        });
        let mut gone = Vec::new();
        for (id, pending) in due {
            if matches!(pending, Pending::Gone(_)) {
                gone.push(id);
                continue;
            }
            let Some(deployment) = self.deployments.get_mut(&id) else { continue };
            deployment.pending = None;
            let latest = deployment.revisions.len() - 1;
            for revision in &mut deployment.revisions[..latest] {
                if matches!(revision.status, RevisionStatus::Deployed | RevisionStatus::Deploying) {
                    revision.status = RevisionStatus::Superseded;
                }
            }
            deployment.set_status(DeploymentStatus::Deployed);
        }
        if !gone.is_empty() {
            for id in &gone {
                if let Some(deployment) = self.deployments.remove(id) {
                    self.deployment_names.free(&deployment.tenant, &deployment.metadata.name);
                }
            }
            self.deployment_orders.remove(&gone);
        }
    }

    /// Whether `tenant` sees every record of the store, so that a listing need not ask each.
    fn sees_all(&self, tenant: &str) -> bool {
        self.owners.iter().all(|owner| owner == tenant)
    }

    /// Spec `id`, if `tenant` may see it; one it may not see does not exist for it.
    fn spec(&self, tenant: &str, id: &str) -> ApiResult<&Spec> {
        self.specs
            .get(id)
            .filter(|spec| spec.visible_to(tenant))
            .ok_or_else(|| ApiError::not_found(format!("app spec {id:?} does not exist")))
    }

    /// Spec `id`, to change, if `tenant` created it: 403 if it only sees it.
    fn own_spec_mut(&mut self, tenant: &str, id: &str) -> ApiResult<&mut Spec> {
        if self.spec(tenant, id)?.tenant != tenant {
            return Err(ApiError::forbidden(format!(
                "app spec {id:?} belongs to another tenant; only its own tenant can change it"
            )));
        }
        Ok(self.specs.get_mut(id).expect("the spec was just found"))
    }

    /// Deployment `id`, if it is `tenant`'s: another tenant's does not exist for it.
    fn deployment(&self, tenant: &str, id: &str) -> ApiResult<&Deployment> {
        self.deployments
            .get(id)
            .filter(|deployment| deployment.tenant == tenant)
            .ok_or_else(|| ApiError::not_found(format!("app deployment {id:?} does not exist")))
    }

    fn deployment_mut(&mut self, tenant: &str, id: &str) -> ApiResult<&mut Deployment> {
        self.deployments
            .get_mut(id)
            .filter(|deployment| deployment.tenant == tenant)
            .ok_or_else(|| ApiError::not_found(format!("app deployment {id:?} does not exist")))
    }

    // ---- Specs ----

    pub fn create_spec(
        &mut self,
        tenant: &str,
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
        if self.spec_names.holder(tenant, &spec.metadata.name).is_some() {
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
            tenant: tenant.to_owned(),
            featured,
            scope,
            tenants,
            metadata,
            status: SpecStatus::Available,
            releases: vec![release],
        };
        self.spec_names.take(tenant, &record.metadata.name, &id);
        self.specs.insert(id.clone(), record);
        self.owners.insert(tenant.to_owned());
        self.spec_orders.push(&id, |id| &self.specs[id].metadata);
        Ok(id)
    }

    pub fn describe_spec(&self, tenant: &str, id: &str) -> ApiResult<SpecOut> {
        Ok(spec_out(self.spec(tenant, id)?))
    }

    pub fn list_specs(&self, tenant: &str, query: &ListQuery) -> Page<SpecOut> {
        let keep = |id: &str| {
            let spec = &self.specs[id];
            spec.visible_to(tenant)
                && (query.statuses.is_empty() || query.statuses.contains(&spec.status.as_str()))
                && (query.scopes.is_empty() || query.scopes.contains(&spec.scope))
                && query.featured.is_none_or(|f| f == spec.featured)
                && prefix_matches(&query.name, Some(&spec.metadata.name))
                && prefix_matches(&query.title, spec.metadata.title.as_ref())
        };
        page_of(&self.spec_orders, query, self.sees_all(tenant), |id| &self.specs[id].metadata, keep)
            .map(|id| spec_out(&self.specs[&id]))
    }

    pub fn update_spec(&mut self, tenant: &str, id: &str, update: SpecUpdate) -> ApiResult<SpecOut> {
        self.own_spec_mut(tenant, id)?;
        if let Some(name) = update.metadata.as_ref().and_then(|m| m.name.as_ref()) {
            not_blank("metadata.name", name)?;
            if self.spec_names.holder(tenant, name).is_some_and(|holder| holder != id) {
                return Err(ApiError::conflict(format!("an app spec named {name:?} already exists")));
            }
        }
        let at = self.stamp();
        let spec = self.own_spec_mut(tenant, id)?;
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
        let old_name = spec.metadata.name.clone();
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
        self.spec_names.rename(tenant, &old_name, &out.metadata.name, id);
        self.spec_orders.changed(id, |id| &self.specs[id].metadata);
        Ok(out)
    }

    pub fn delete_spec(&mut self, tenant: &str, id: &str) -> ApiResult<()> {
        self.own_spec_mut(tenant, id)?;
        let deployed = self.deployments.values().filter(|d| d.spec_id == id).count();
        if deployed > 0 {
            return Err(ApiError::conflict(format!(
                "app spec {id:?} still has {deployed} deployment(s); delete them first"
            )));
        }
        if let Some(spec) = self.specs.remove(id) {
            self.spec_names.free(tenant, &spec.metadata.name);
        }
        self.spec_orders.remove(&[id.to_owned()]);
        Ok(())
    }

    pub fn create_release(&mut self, tenant: &str, spec_id: &str, release: NewRelease) -> ApiResult<String> {
        self.own_spec_mut(tenant, spec_id)?;
        let version = semantic_version("release.version", &release.release.version)?;
        let parameters = release.parameters.unwrap_or_default();
        check_definitions(&parameters)?;
        let at = self.stamp();
        let spec = self.own_spec_mut(tenant, spec_id)?;
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

    pub fn describe_release(&self, tenant: &str, spec_id: &str, version: &str) -> ApiResult<ReleaseOut> {
        let wanted = semantic_version("version", version)?;
        let spec = self.spec(tenant, spec_id)?;
        spec.releases
            .iter()
            .find(|r| r.version == wanted)
            .map(release_out)
            .ok_or_else(|| ApiError::not_found(format!("app spec {spec_id:?} has no release {version}")))
    }

    pub fn list_releases(
        &self,
        tenant: &str,
        spec_id: &str,
        query: &ListQuery,
    ) -> ApiResult<Page<ReleaseOut>> {
        let spec = self.spec(tenant, spec_id)?;
        let all = spec.releases.iter().collect();
        Ok(paginate(all, query, |r| (&r.created_at, &r.created_by), |r| &r.id).map(release_out))
    }

    // ---- Deployments ----

    pub fn create_deployment(&mut self, tenant: &str, new: NewDeployment) -> ApiResult<String> {
        not_blank("metadata.name", &new.metadata.name)?;
        let spec = self.spec(tenant, &new.spec.id)?;
        let release = find_release(spec, new.spec.release.as_ref())?;
        let app_parameters = new.app_parameters.unwrap_or_default();
        check_values(&release.parameters, &app_parameters)?;
        if self.deployment_names.holder(tenant, &new.metadata.name).is_some() {
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
            tenant: tenant.to_owned(),
            metadata: Metadata::new(new.metadata, deploying.as_str(), &at, CREATOR),
            status: deploying,
            spec_id,
            revisions: vec![revision],
            pending: Some(Pending::Deployed(Instant::now() + self.deploy_delay)),
        };
        self.deployment_names.take(tenant, &deployment.metadata.name, &id);
        self.deployments.insert(id.clone(), deployment);
        self.owners.insert(tenant.to_owned());
        self.deployment_orders.push(&id, |id| &self.deployments[id].metadata);
        Ok(id)
    }

    pub fn describe_deployment(&self, tenant: &str, id: &str) -> ApiResult<DeploymentOut> {
        Ok(deployment_out(self.deployment(tenant, id)?))
    }

    pub fn list_deployments(&self, tenant: &str, query: &ListQuery) -> Page<DeploymentOut> {
        let keep = |id: &str| {
            let deployment = &self.deployments[id];
            deployment.tenant == tenant
                && (query.statuses.is_empty() || query.statuses.contains(&deployment.status.as_str()))
                && prefix_matches(&query.name, Some(&deployment.metadata.name))
        };
        let all_visible = self.sees_all(tenant);
        page_of(&self.deployment_orders, query, all_visible, |id| &self.deployments[id].metadata, keep)
            .map(|id| deployment_out(&self.deployments[&id]))
    }

    pub fn update_deployment(
        &mut self,
        tenant: &str,
        id: &str,
        update: DeploymentMetadataUpdate,
    ) -> ApiResult<DeploymentOut> {
        if let Some(name) = &update.name {
            not_blank("name", name)?;
            if self.deployment_names.holder(tenant, name).is_some_and(|holder| holder != id) {
                return Err(ApiError::conflict(format!("an app deployment named {name:?} already exists")));
            }
        }
        self.deployment(tenant, id)?;
        let at = self.stamp();
        let deployment = self.deployment_mut(tenant, id)?;
        let meta = &mut deployment.metadata;
        let old_name = meta.name.clone();
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
        self.deployment_names.rename(tenant, &old_name, &out.metadata.name, id);
        self.deployment_orders.changed(id, |id| &self.deployments[id].metadata);
        Ok(out)
    }

    pub fn delete_deployment(&mut self, tenant: &str, id: &str) -> ApiResult<()> {
        let delay = self.deploy_delay;
        let deployment = self.deployment_mut(tenant, id)?;
        if deployment.status != DeploymentStatus::Deleting {
            deployment.set_status(DeploymentStatus::Deleting);
            deployment.pending = Some(Pending::Gone(Instant::now() + delay));
        }
        Ok(())
    }

    pub fn redeploy(&mut self, tenant: &str, id: &str) -> ApiResult<(String, u64, String)> {
        let delay = self.deploy_delay;
        let deployment = self.deployment_mut(tenant, id)?;
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
        let answer = (deployment.id.clone(), latest.number, latest.id.clone());
        Ok(answer)
    }

    pub fn create_revision(&mut self, tenant: &str, id: &str, new: NewRevision) -> ApiResult<(String, u64)> {
        let deployment = self.deployment(tenant, id)?;
        if deployment.status == DeploymentStatus::Deleting {
            return Err(ApiError::conflict(format!("app deployment {id:?} is being deleted")));
        }
        // A spec no longer shared with the tenant keeps its deployments running, but deploys
        // nothing new to them.
        let spec = self.spec(tenant, &deployment.spec_id).map_err(|_| {
            ApiError::forbidden(format!(
                "app spec {:?} of this deployment is no longer shared with this tenant",
                deployment.spec_id
            ))
        })?;
        let release = find_release(spec, new.release.as_ref())?;
        let app_parameters = new.app_parameters.unwrap_or_default();
        check_values(&release.parameters, &app_parameters)?;
        let blocks_config = new.blocks_config.unwrap_or_default();
        let blocks = blocks_for(release, &blocks_config.includes, &blocks_config.excludes);
        let release_version = release.version.to_string();
        let at = self.stamp();
        let delay = self.deploy_delay;
        let deployment = self.deployment_mut(tenant, id)?;
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

    pub fn describe_revision(&self, tenant: &str, id: &str, number: u64) -> ApiResult<RevisionOut> {
        let deployment = self.deployment(tenant, id)?;
        let revision = number
            .checked_sub(1)
            .and_then(|index| deployment.revisions.get(index as usize))
            .ok_or_else(|| ApiError::not_found(format!("app deployment {id:?} has no revision {number}")))?;
        Ok(self.revision_out(deployment, revision))
    }

    pub fn list_revisions(&self, tenant: &str, id: &str, query: &ListQuery) -> ApiResult<Page<RevisionOut>> {
        let deployment = self.deployment(tenant, id)?;
        let matching = deployment
            .revisions
            .iter()
            .filter(|r| query.statuses.is_empty() || query.statuses.contains(&r.status.as_str()));
        let page = paginate(matching.collect(), query, |r| (&r.created_at, &r.created_by), |r| &r.id);
        Ok(page.map(|r| self.revision_out(deployment, r)))
    }

    /// The control route: sets a deployment's status and its latest revision's.
    pub fn set_status(&mut self, id: &str, status: DeploymentStatus) -> ApiResult<()> {
        let deployment = self
            .deployments
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found(format!("app deployment {id:?} does not exist")))?;
        deployment.pending = None;
        deployment.set_status(status);
        Ok(())
    }
}
