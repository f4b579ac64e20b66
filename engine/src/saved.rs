//! A plan saved to be applied later, as `terraform plan -out` saves one: the plan, where it was
//! made (the base URL and a fingerprint of the credential), and a checksum, so that a file from
//! elsewhere, of another format, edited or cut short is refused. Before its first write, apply
//! checks that every resource the plan touches is still as the plan saw it ([`check_fresh`]).
//!
//! The file holds the values the writes send, hidden parameter values included: keep it as you
//! keep the secrets themselves (the CLI writes it readable by its owner only).

use std::collections::HashMap;

use futures::TryStreamExt;
use peak_press_apps::{
    Client,
    types::{Deployment, Spec},
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    Options,
    compare::{canonical, differences, json},
    plan::{Kind, Operation, PLAN_FORMAT_VERSION, Plan},
    planner::{seen_deployment, seen_spec},
};

/// What a saved plan file says it is, first thing in it.
const FORMAT: &str = "press-apps-plan";

/// The version of the saved file's layout; a file of another version is refused.
pub const SAVED_PLAN_VERSION: u32 = 1;

/// Where a plan was made: it may be applied only there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// The service's base URL.
    pub base_url: String,
    /// A fingerprint of the credential the plan was read with: the first 64 bits of a SHA-256
    /// of it, which tells two credentials apart without revealing either.
    pub credential: String,
}

impl Target {
    /// The target of a client for `base_url` that authenticates with `credential`.
    pub fn new(base_url: &str, credential: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"press-apps credential\0");
        hasher.update(credential.as_bytes());
        let fingerprint = hasher.finalize().iter().take(8).map(|byte| format!("{byte:02x}")).collect();
        Self { base_url: base_url.trim_end_matches('/').to_owned(), credential: fingerprint }
    }
}

/// A plan with where and how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedPlan {
    /// Where it may be applied.
    pub target: Target,
    /// The options it was made with (for the record: they are already in its operations).
    pub options: SavedOptions,
    /// The plan.
    pub plan: Plan,
}

/// The options of a saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedOptions {
    /// The owner whose mark the plan sets.
    pub owner: Option<String>,
    /// Whether it deletes orphans.
    pub prune: bool,
    /// Whether it redeploys failed deployments.
    pub redeploy_failed: bool,
}

impl From<&Options> for SavedOptions {
    fn from(options: &Options) -> Self {
        Self { owner: options.owner.clone(), prune: options.prune, redeploy_failed: options.redeploy_failed }
    }
}

/// Why a saved plan cannot be applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SavedPlanError {
    /// Not a saved plan, or one cut short or edited.
    #[error("{0}")]
    Unreadable(String),
    /// A plan of another format version.
    #[error("the plan file is of format {found}, and this press-apps reads format {expected}: plan again")]
    Version {
        /// The file's.
        found: u32,
        /// This version's.
        expected: u32,
    },
    /// Made for another service or with another credential.
    #[error("{0}")]
    Elsewhere(String),
}

impl SavedPlan {
    /// `plan`, made at `target` with `options`.
    pub fn new(plan: Plan, target: Target, options: &Options) -> Self {
        Self { target, options: options.into(), plan }
    }

    /// The file's bytes: JSON that says first what it is, then the SHA-256 of its content, then
    /// the content.
    pub fn to_bytes(&self) -> Vec<u8> {
        let content = json(self);
        let text = serde_json::to_string_pretty(&content).unwrap_or_default();
        format!(
            "{{\n\"format\": \"{FORMAT}\",\n\"version\": {SAVED_PLAN_VERSION},\n\"sha256\": \"{}\",\n\"content\": {text}\n}}\n",
            checksum(&content)
        )
        .into_bytes()
    }

    /// Reads a file that [`to_bytes`](Self::to_bytes) wrote, refusing anything else.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SavedPlanError> {
        let unreadable = |why: &str| SavedPlanError::Unreadable(format!("not a press-apps plan file: {why}"));
        let file: Value = serde_json::from_slice(bytes)
            .map_err(|error| unreadable(&format!("{error} (cut short or not JSON)")))?;
        if file["format"] != FORMAT {
            return Err(unreadable("it does not start as `plan --out` writes"));
        }
        let found = file["version"].as_u64().unwrap_or_default();
        if found != u64::from(SAVED_PLAN_VERSION) {
            let found = u32::try_from(found).unwrap_or(u32::MAX);
            return Err(SavedPlanError::Version { found, expected: SAVED_PLAN_VERSION });
        }
        let content = &file["content"];
        if file["sha256"].as_str() != Some(checksum(content).as_str()) {
            return Err(SavedPlanError::Unreadable(
                "the plan file was changed after `plan --out` wrote it (its checksum does not match): plan again"
                    .to_owned(),
            ));
        }
        let saved: SavedPlan =
            serde_json::from_value(content.clone()).map_err(|error| unreadable(&format!("{error}")))?;
        if saved.plan.format_version != PLAN_FORMAT_VERSION {
            let found = saved.plan.format_version;
            return Err(SavedPlanError::Version { found, expected: PLAN_FORMAT_VERSION });
        }
        Ok(saved)
    }

    /// Refuses the plan unless it was made at `target`.
    pub fn check_target(&self, target: &Target) -> Result<(), SavedPlanError> {
        if self.target.base_url != target.base_url {
            return Err(SavedPlanError::Elsewhere(format!(
                "the plan was made for {} and this apply would send to {}: plan again against {}",
                self.target.base_url, target.base_url, target.base_url
            )));
        }
        if self.target.credential != target.credential {
            return Err(SavedPlanError::Elsewhere(format!(
                "the plan was made with another credential (fingerprint {}, this one's is {}), possibly of \
                 another tenant: plan again with this one",
                self.target.credential, target.credential
            )));
        }
        Ok(())
    }
}

fn checksum(content: &Value) -> String {
    Sha256::digest(canonical(content).as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A resource that changed since the plan was made.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleResource {
    /// A spec or a deployment.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// What changed, such as `created since the plan (id ...)` or `metadata.title: "A" -> "B"`.
    pub what: String,
}

/// The service changed under a saved plan: nothing was written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the plan is stale: {} changed since it was made; no write was sent: plan again{}", .resources.len(), list(.resources))]
pub struct Stale {
    /// Each resource that changed, with what changed.
    pub resources: Vec<StaleResource>,
}

fn list(resources: &[StaleResource]) -> String {
    resources.iter().map(|r| format!("\n  {} {}: {}", r.kind.as_str(), r.name, r.what)).collect()
}

/// Whether every resource `plan` writes to is as the plan saw it: each it creates still absent,
/// each it changes or deletes still there with the same fields. Two listings, no write.
pub async fn check_fresh(client: &Client, plan: &Plan) -> Result<Result<(), Stale>, peak_press_apps::Error> {
    let (specs, deployments) = futures::try_join!(
        client.list_specs().items().try_collect::<Vec<Spec>>(),
        client.list_deployments().items().try_collect::<Vec<Deployment>>(),
    )?;
    let specs: HashMap<&str, &Spec> = specs.iter().map(|s| (s.metadata.name.as_str(), s)).collect();
    let deployments: HashMap<&str, &Deployment> =
        deployments.iter().map(|d| (d.metadata.name.as_str(), d)).collect();
    let mut stale = Vec::new();
    for change in plan.resources.iter().filter(|change| !change.operations.is_empty()) {
        let now = match change.kind {
            Kind::Spec => specs.get(change.name.as_str()).map(|spec| seen_spec(spec)),
            Kind::Deployment => {
                let redeploy = change.operations.contains(&Operation::Redeploy);
                deployments.get(change.name.as_str()).map(|d| seen_deployment(d, redeploy))
            }
        };
        let what = match (&change.seen, now) {
            (None, None) => continue,
            (Some(seen), Some(now)) if *seen == now => continue,
            (None, Some(now)) => format!("created since the plan (id {})", now["id"].as_str().unwrap_or("?")),
            (Some(_), None) => "deleted since the plan".to_owned(),
            (Some(seen), Some(now)) => {
                let mut fields = Vec::new();
                differences("", &now, seen, &mut fields);
                let shown: Vec<String> =
                    fields.iter().map(|f| format!("{}: {} -> {}", f.path, f.old, f.new)).collect();
                if shown.is_empty() { "changed since the plan".to_owned() } else { shown.join("; ") }
            }
        };
        stale.push(StaleResource { kind: change.kind, name: change.name.clone(), what });
    }
    Ok(if stale.is_empty() { Ok(()) } else { Err(Stale { resources: stale }) })
}
