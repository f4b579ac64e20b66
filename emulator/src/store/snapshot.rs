//! The whole state as one JSON document, out and in: fixtures for tests, a colleague's state to
//! reproduce a bug, a CI job that starts from a known state. The document names its format and
//! version; one of another version is refused with both versions named, never misread. An
//! import checks the whole document before anything changes: one mistake and the state stays as
//! it was.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

use super::{DEFAULT_TENANT, Deployment, Pending, Release, Revision, Spec, Store};
use crate::model::{
    AppParameters, BlockConfig, BlockDeployment, DeploymentStatus, Metadata, ParameterDefinitions,
    RevisionStatus, Scope, SpecStatus, Tag,
};

/// What the document says it is.
pub const FORMAT: &str = "peak-press-apps-emulator/state";

/// The version of the document this emulator writes and reads.
pub const VERSION: u32 = 1;

/// The whole state.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Snapshot {
    format: String,
    version: u32,
    /// Every spec with its releases, oldest first.
    pub(super) specs: Vec<SpecRecord>,
    /// Every deployment with its revisions, oldest first.
    pub(super) deployments: Vec<DeploymentRecord>,
}

impl Snapshot {
    /// A document of this version holding these records.
    pub(super) fn of(specs: Vec<SpecRecord>, deployments: Vec<DeploymentRecord>) -> Self {
        Self { format: FORMAT.to_owned(), version: VERSION, specs, deployments }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MetadataRecord {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description_content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image_url: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
    created_at: String,
    created_by: String,
    updated_at: String,
    updated_by: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct SpecRecord {
    id: String,
    /// The tenant that created it; the default tenant when left out.
    #[serde(default = "default_tenant")]
    tenant: String,
    featured: bool,
    scope: Scope,
    #[serde(default)]
    tenants: Vec<String>,
    status: SpecStatus,
    metadata: MetadataRecord,
    releases: Vec<ReleaseRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReleaseRecord {
    id: String,
    version: String,
    notes: String,
    created_at: String,
    created_by: String,
    #[serde(default)]
    config: Vec<BlockConfig>,
    #[serde(default)]
    parameters: ParameterDefinitions,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct DeploymentRecord {
    id: String,
    /// The tenant that created it; the default tenant when left out.
    #[serde(default = "default_tenant")]
    tenant: String,
    spec_id: String,
    status: DeploymentStatus,
    metadata: MetadataRecord,
    /// A transition under way: to `deployed` or gone, after so many milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) settles: Option<Settles>,
    revisions: Vec<RevisionRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Settles {
    to: SettlesTo,
    pub(super) in_ms: u64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SettlesTo {
    Deployed,
    Gone,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RevisionRecord {
    id: String,
    number: u64,
    status: RevisionStatus,
    notes: String,
    created_at: String,
    created_by: String,
    release_version: String,
    #[serde(default)]
    parameters: AppParameters,
    #[serde(default)]
    blocks: Vec<BlockRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BlockRecord {
    deployment_id: String,
    platform_id: String,
    name: String,
    status: RevisionStatus,
}

fn default_tenant() -> String {
    DEFAULT_TENANT.to_owned()
}

fn metadata_out(metadata: &Metadata) -> MetadataRecord {
    MetadataRecord {
        name: metadata.name.clone(),
        title: metadata.title.clone(),
        summary: metadata.summary.clone(),
        description: metadata.description.clone(),
        description_content_type: metadata.description_content_type.clone(),
        image_url: metadata.image_url.clone(),
        tags: metadata.tags.clone(),
        created_at: metadata.created_at.clone(),
        created_by: metadata.created_by.clone(),
        updated_at: metadata.updated_at.clone(),
        updated_by: metadata.updated_by.clone(),
    }
}

fn metadata_in(record: MetadataRecord, status: &'static str) -> Metadata {
    Metadata {
        name: record.name,
        title: record.title,
        summary: record.summary,
        description: record.description,
        description_content_type: record.description_content_type,
        image_url: record.image_url,
        tags: record.tags,
        status,
        created_at: record.created_at,
        created_by: record.created_by,
        updated_at: record.updated_at,
        updated_by: record.updated_by,
    }
}

fn spec_record(spec: &Spec) -> SpecRecord {
    SpecRecord {
        id: spec.id.clone(),
        tenant: spec.tenant.clone(),
        featured: spec.featured,
        scope: spec.scope,
        tenants: spec.tenants.clone(),
        status: spec.status,
        metadata: metadata_out(&spec.metadata),
        releases: spec
            .releases
            .iter()
            .map(|release| ReleaseRecord {
                id: release.id.clone(),
                version: release.version.to_string(),
                notes: release.notes.clone(),
                created_at: release.created_at.clone(),
                created_by: release.created_by.clone(),
                config: release.config.clone(),
                parameters: release.parameters.clone(),
            })
            .collect(),
    }
}

fn deployment_record(deployment: &Deployment, now: Instant) -> DeploymentRecord {
    DeploymentRecord {
        id: deployment.id.clone(),
        tenant: deployment.tenant.clone(),
        spec_id: deployment.spec_id.clone(),
        status: deployment.status,
        metadata: metadata_out(&deployment.metadata),
        settles: deployment.pending.as_ref().map(|pending| {
            let (to, at) = match pending {
                Pending::Deployed(at) => (SettlesTo::Deployed, at),
                Pending::Gone(at) => (SettlesTo::Gone, at),
            };
            Settles { to, in_ms: at.saturating_duration_since(now).as_millis() as u64 }
        }),
        revisions: deployment
            .revisions
            .iter()
            .map(|revision| RevisionRecord {
                id: revision.id.clone(),
                number: revision.number,
                status: revision.status,
                notes: revision.notes.clone(),
                created_at: revision.created_at.clone(),
                created_by: revision.created_by.clone(),
                release_version: revision.release_version.clone(),
                parameters: revision.parameters.clone(),
                blocks: revision
                    .blocks
                    .iter()
                    .map(|block| BlockRecord {
                        deployment_id: block.deployment_id.clone(),
                        platform_id: block.platform_id.clone(),
                        name: block.name.clone(),
                        status: block.status,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Milliseconds since the epoch of an RFC 3339 time, or why it is not one.
fn millis(what: &str, at: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|at| at.timestamp_millis())
        .map_err(|_| format!("{what}: {at:?} is not an RFC 3339 time"))
}

impl Store {
    /// The whole state as a document, oldest first, with transitions under way as the time they
    /// have left.
    pub fn export(&self) -> Snapshot {
        let now = Instant::now();
        let mut specs: Vec<&Spec> = self.specs.values().collect();
        specs.sort_by(|a, b| (&a.metadata.created_at, &a.id).cmp(&(&b.metadata.created_at, &b.id)));
        let mut deployments: Vec<&Deployment> = self.deployments.values().collect();
        deployments.sort_by(|a, b| (&a.metadata.created_at, &a.id).cmp(&(&b.metadata.created_at, &b.id)));
        Snapshot::of(
            specs.into_iter().map(spec_record).collect(),
            deployments.into_iter().map(|deployment| deployment_record(deployment, now)).collect(),
        )
    }

    /// The record of spec `id`, if it exists.
    pub(super) fn spec_record(&self, id: &str) -> Option<SpecRecord> {
        self.specs.get(id).map(spec_record)
    }

    /// The record of deployment `id`, if it exists, as of `now`.
    pub(super) fn deployment_record(&self, id: &str, now: Instant) -> Option<DeploymentRecord> {
        self.deployments.get(id).map(|deployment| deployment_record(deployment, now))
    }

    /// A store holding exactly `snapshot`, or every reason it cannot be one: another format or
    /// version, ids or names twice, a deployment of a spec that is not there, releases out of
    /// order, revisions not numbered 1, 2, 3, a time that is not a time. Names are unique within a
    /// tenant.
    pub fn import(snapshot: Snapshot, deploy_delay: Duration) -> Result<Store, String> {
        if snapshot.format != FORMAT || snapshot.version != VERSION {
            return Err(format!(
                "this is {:?} version {}; this emulator reads {FORMAT:?} version {VERSION}",
                snapshot.format, snapshot.version
            ));
        }
        let mut import = Import::new(deploy_delay);
        // Oldest first, whatever the document's order: the default order is creation order.
        let (mut specs, mut deployments) = (snapshot.specs, snapshot.deployments);
        specs.sort_by(|a, b| (&a.metadata.created_at, &a.id).cmp(&(&b.metadata.created_at, &b.id)));
        deployments.sort_by(|a, b| (&a.metadata.created_at, &a.id).cmp(&(&b.metadata.created_at, &b.id)));
        for record in specs {
            import.spec(record);
        }
        let now = Instant::now();
        for record in deployments {
            import.deployment(record, now);
        }
        import.finish()
    }
}

/// A store being built from a state document, with every problem found on the way.
struct Import {
    store: Store,
    problems: Vec<String>,
    /// Every id seen, of specs and deployments alike.
    ids: HashSet<String>,
    /// The latest time in the document: new records are stamped after it.
    last_ms: i64,
    /// The release versions of each spec imported, for the revisions that name them.
    versions_of: HashMap<String, HashSet<String>>,
}

impl Import {
    fn new(deploy_delay: Duration) -> Self {
        Self {
            store: Store::new(deploy_delay),
            problems: Vec::new(),
            ids: HashSet::new(),
            last_ms: 0,
            versions_of: HashMap::new(),
        }
    }

    /// Notes the time `at` of `what`, or why it is not a time.
    fn time(&mut self, what: &str, at: &str) {
        match millis(what, at) {
            Ok(ms) => self.last_ms = self.last_ms.max(ms),
            Err(why) => self.problems.push(why),
        }
    }

    /// Checks what a spec and a deployment (`kind`) share: an id of its own, a name that was
    /// free in its tenant (`taken`), and its times.
    fn identity(&mut self, kind: &str, id: &str, taken: bool, name: &str, metadata: &MetadataRecord) {
        let what = format!("{kind} {id:?}");
        if !self.ids.insert(id.to_owned()) {
            self.problems.push(format!("{what}: the id is used twice"));
        }
        if !taken {
            self.problems.push(format!("{what}: another {kind} of its tenant is named {name:?}"));
        }
        self.time(&what, &metadata.created_at);
        self.time(&what, &metadata.updated_at);
    }

    fn spec(&mut self, record: SpecRecord) {
        let what = format!("spec {:?}", record.id);
        let taken = self.store.spec_names.take(&record.tenant, &record.metadata.name, &record.id);
        self.identity("spec", &record.id, taken, &record.metadata.name, &record.metadata);
        if !record.tenants.is_empty() && record.scope != Scope::Shared {
            self.problems.push(format!("{what}: tenants are only kept with the shared scope"));
        }
        let releases = self.releases(&what, &record.id, record.releases);
        self.store.owners.insert(record.tenant.clone());
        let spec = Spec {
            id: record.id.clone(),
            tenant: record.tenant,
            featured: record.featured,
            scope: record.scope,
            tenants: record.tenants,
            metadata: metadata_in(record.metadata, record.status.as_str()),
            status: record.status,
            releases,
        };
        let store = &mut self.store;
        store.specs.insert(record.id.clone(), spec);
        store.spec_orders.push(&record.id, |id| &store.specs[id].metadata);
    }

    /// A spec's releases, in increasing versions, each a semantic version.
    fn releases(&mut self, what: &str, spec_id: &str, records: Vec<ReleaseRecord>) -> Vec<Release> {
        if records.is_empty() {
            self.problems.push(format!("{what}: a spec has at least one release"));
        }
        let mut releases: Vec<Release> = Vec::new();
        for release in records {
            let Ok(version) = semver::Version::parse(&release.version) else {
                self.problems
                    .push(format!("{what}: release {:?} is not a semantic version", release.version));
                continue;
            };
            if releases.last().is_some_and(|last| last.version >= version) {
                self.problems
                    .push(format!("{what}: release {version} is not greater than the one before it"));
            }
            self.time(what, &release.created_at);
            self.versions_of.entry(spec_id.to_owned()).or_default().insert(version.to_string());
            releases.push(Release {
                id: release.id,
                version,
                notes: release.notes,
                created_at: release.created_at,
                created_by: release.created_by,
                config: release.config,
                parameters: release.parameters,
            });
        }
        releases
    }

    fn deployment(&mut self, record: DeploymentRecord, now: Instant) {
        let what = format!("deployment {:?}", record.id);
        let taken = self.store.deployment_names.take(&record.tenant, &record.metadata.name, &record.id);
        self.identity("deployment", &record.id, taken, &record.metadata.name, &record.metadata);
        let Some(versions) = self.versions_of.get(&record.spec_id).cloned() else {
            self.problems.push(format!("{what}: its spec {:?} is not in the document", record.spec_id));
            return;
        };
        let revisions = self.revisions(&what, &versions, record.revisions);
        let pending = record.settles.map(|settles| {
            let at = now + Duration::from_millis(settles.in_ms);
            match settles.to {
                SettlesTo::Deployed => Pending::Deployed(at),
                SettlesTo::Gone => Pending::Gone(at),
            }
        });
        self.store.owners.insert(record.tenant.clone());
        let deployment = Deployment {
            id: record.id.clone(),
            tenant: record.tenant,
            metadata: metadata_in(record.metadata, record.status.as_str()),
            status: record.status,
            spec_id: record.spec_id,
            revisions,
            pending,
        };
        let store = &mut self.store;
        store.deployments.insert(record.id.clone(), deployment);
        store.deployment_orders.push(&record.id, |id| &store.deployments[id].metadata);
    }

    /// A deployment's revisions, numbered 1, 2, 3, each of a release its spec has.
    fn revisions(
        &mut self,
        what: &str,
        versions: &HashSet<String>,
        records: Vec<RevisionRecord>,
    ) -> Vec<Revision> {
        if records.is_empty() {
            self.problems.push(format!("{what}: a deployment has at least one revision"));
        }
        let mut revisions = Vec::new();
        for (index, revision) in records.into_iter().enumerate() {
            if revision.number != index as u64 + 1 {
                self.problems.push(format!(
                    "{what}: revision {} stands where {} belongs",
                    revision.number,
                    index + 1
                ));
            }
            if !versions.contains(&revision.release_version) {
                self.problems.push(format!(
                    "{what}: revision {} deploys release {}, which its spec does not have",
                    revision.number, revision.release_version
                ));
            }
            self.time(what, &revision.created_at);
            revisions.push(Revision {
                id: revision.id,
                number: revision.number,
                status: revision.status,
                notes: revision.notes,
                created_at: revision.created_at,
                created_by: revision.created_by,
                release_version: revision.release_version,
                parameters: revision.parameters,
                blocks: revision
                    .blocks
                    .into_iter()
                    .map(|block| BlockDeployment {
                        deployment_id: block.deployment_id,
                        platform_id: block.platform_id,
                        kind: "workflow",
                        name: block.name,
                        status: block.status,
                    })
                    .collect(),
            });
        }
        revisions
    }

    /// The store, or every problem found, joined.
    fn finish(mut self) -> Result<Store, String> {
        if !self.problems.is_empty() {
            return Err(self.problems.join("; "));
        }
        self.store.last_stamp_ms = self.last_ms;
        Ok(self.store)
    }
}
