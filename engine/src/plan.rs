//! The plan as a value: per resource, the typed operations apply will send, the fields they
//! change, and what the plan saw. What `plan` prints, what `plan --out` saves and what `apply`
//! carries out are this one value; [`planner`](crate::plan()) computes it.

use std::collections::BTreeSet;

use peak_press_apps::types::{DeploymentMetadataUpdate, NewDeployment, NewRelease, NewRevision, SpecUpdate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{compare::FieldChange, desired::DesiredSpec};

/// The version of the plan's JSON form (printed with `-o json` and saved by `plan --out`).
pub const PLAN_FORMAT_VERSION: u32 = 2;

/// How the service shows a masked value, and how every printed plan shows a hidden one.
pub const MASK: &str = "********";

/// What apply would do, resource by resource, and what it cannot do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// [`PLAN_FORMAT_VERSION`].
    pub format_version: u32,
    /// Every resource of the desired state, and every owned one that the files no longer name.
    pub resources: Vec<Change>,
}

/// One resource's part of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// A spec or a deployment.
    pub kind: Kind,
    /// Its metadata name.
    pub name: String,
    /// Its id, when it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The status the service reports for it (such as `deployed` or `failed`), when it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The writes that bring it to what the files say, in order; none when it is as they say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<Operation>,
    /// The fields that would change, with their old and new values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// What apply leaves alone but a reader must know: drift, a failed deployment, an orphan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What a reader may want to know that is no difference: hidden values that no apply
    /// recorded, so that they cannot be verified (the next revision apply makes records them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remarks: Vec<String>,
    /// Why apply will not bring it to what the files say, if it will not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// Marked with the owner and no longer in the files: deleted with `prune`, listed without.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub orphaned: bool,
    /// The spec whose operations in this plan a deployment's operations need: when they fail,
    /// the deployment is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<String>,
    /// The resource as the plan saw it (the fields a write would be computed from); none when it
    /// did not exist. A saved plan's apply finds it unchanged before its first write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<Value>,
    /// The parameters whose values the service masks, as `build.NAME` or `run.NAME`: every
    /// printed form of the plan masks them too.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub hidden: BTreeSet<String>,
}

/// Spec or deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An app spec.
    Spec,
    /// An app deployment.
    Deployment,
}

impl Kind {
    /// `spec` or `deployment`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Spec => "spec",
            Kind::Deployment => "deployment",
        }
    }
}

/// What one operation does to its resource, for counting and printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

impl Action {
    /// The verb, as plans print it: `create`, `update`, `release`, `revise`, `redeploy`, `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Release => "release",
            Action::Revise => "revise",
            Action::Redeploy => "redeploy",
            Action::Delete => "delete",
        }
    }
}

/// One write that apply sends, with everything it sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "operation", rename_all = "camelCase", rename_all_fields = "camelCase")]
#[non_exhaustive]
pub enum Operation {
    /// `create_spec`, with its first release.
    CreateSpec {
        /// The spec as its file gives it, with the tags apply sets.
        spec: Box<DesiredSpec>,
    },
    /// `update_spec_metadata`.
    UpdateSpec {
        /// The body sent.
        update: Box<SpecUpdate>,
    },
    /// `create_spec_release`.
    CreateRelease {
        /// The body sent.
        release: Box<NewRelease>,
    },
    /// `create_deployment`.
    CreateDeployment {
        /// The spec deployed.
        spec: SpecTarget,
        /// The body sent, with the spec id filled in when it is sent.
        deployment: Box<NewDeployment>,
    },
    /// `update_deployment_metadata`.
    UpdateDeployment {
        /// The body sent.
        update: Box<DeploymentMetadataUpdate>,
    },
    /// `create_deployment_revision`.
    CreateRevision {
        /// The body sent.
        revision: Box<NewRevision>,
    },
    /// `redeploy`.
    Redeploy,
    /// `delete_spec` or `delete_deployment`.
    Delete,
}

impl Operation {
    /// What it does to its resource.
    pub fn action(&self) -> Action {
        match self {
            Operation::CreateSpec { .. } | Operation::CreateDeployment { .. } => Action::Create,
            Operation::UpdateSpec { .. } | Operation::UpdateDeployment { .. } => Action::Update,
            Operation::CreateRelease { .. } => Action::Release,
            Operation::CreateRevision { .. } => Action::Revise,
            Operation::Redeploy => Action::Redeploy,
            Operation::Delete => Action::Delete,
        }
    }
}

/// A deployment's spec: known by id, or by the name of a spec the same apply creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SpecTarget {
    /// A spec that exists.
    Id(String),
    /// A spec this plan creates.
    Name(String),
}

/// Why apply will not bring a resource to what the files say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// How apply treats it.
    pub kind: ProblemKind,
    /// What is wrong, and what would put it right.
    pub message: String,
    /// Where in the resource's file, as a dotted path such as `body.spec.release.version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// How apply treats a [`Problem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ProblemKind {
    /// The files are wrong (a release pinned that exists nowhere, a value of the wrong type):
    /// apply sends no write at all until they are fixed.
    Invalid,
    /// Apply refuses this resource and goes on with the others: a release changed without a
    /// new version (releases are immutable).
    Refused,
    /// The service would not show what the plan needed (a 404 or 403 on a read): apply goes on
    /// with everything that does not depend on this resource, and fails.
    Unreadable,
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
    /// With a problem (see [`Change::problem`]).
    pub refused: usize,
    /// Of those, wrong in the files: apply sends nothing while there is one.
    pub invalid: usize,
    /// With notes a reader must see: drift, a failed deployment, an orphan.
    pub noted: usize,
    /// Orphans left in place because pruning was not asked for.
    pub orphaned: usize,
}

impl Change {
    /// A resource the plan found as the files say (so far).
    pub(crate) fn new(kind: Kind, name: String, id: Option<String>) -> Self {
        Self {
            kind,
            name,
            id,
            status: None,
            operations: Vec::new(),
            fields: Vec::new(),
            notes: Vec::new(),
            remarks: Vec::new(),
            problem: None,
            orphaned: false,
            depends_on: None,
            seen: None,
            hidden: BTreeSet::new(),
        }
    }

    /// What its operations do, in order.
    pub fn actions(&self) -> Vec<Action> {
        self.operations.iter().map(Operation::action).collect()
    }

    /// `value` with the values of this resource's hidden parameters masked, wherever parameter
    /// values appear in it (`appParameters.PHASE.NAME`, at any depth).
    pub fn masked(&self, value: &Value) -> Value {
        let mut value = value.clone();
        if !self.hidden.is_empty() {
            mask(&mut value, &self.hidden);
        }
        value
    }

    /// The plan's JSON form of this change, hidden values masked.
    fn to_json(&self) -> Value {
        let mut change = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut change {
            map.remove("seen");
            map.insert("actions".into(), json!(self.actions()));
        }
        self.masked(&change)
    }
}

fn mask(value: &mut Value, hidden: &BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "appParameters" {
                    for path in hidden {
                        let Some((phase, name)) = path.split_once('.') else { continue };
                        if let Some(found) = child.get_mut(phase).and_then(|phase| phase.get_mut(name)) {
                            *found = Value::String(MASK.to_owned());
                        }
                    }
                } else {
                    mask(child, hidden);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| mask(item, hidden)),
        _ => {}
    }
}

impl Plan {
    /// The counts of its one summary line.
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.resources {
            match (change.problem.is_some(), change.operations.first().map(Operation::action)) {
                (true, _) => {}
                (false, Some(Action::Create)) => summary.create += 1,
                (false, Some(Action::Delete)) => summary.delete += 1,
                (false, Some(_)) => summary.update += 1,
                (false, None) => summary.unchanged += 1,
            }
            summary.refused += usize::from(change.problem.is_some());
            summary.invalid +=
                usize::from(change.problem.as_ref().is_some_and(|p| p.kind == ProblemKind::Invalid));
            summary.noted += usize::from(!change.notes.is_empty());
            summary.orphaned += usize::from(change.orphaned && change.operations.is_empty());
        }
        summary
    }

    /// Whether the service differs from the files in any way: something to do, refused or noted.
    pub fn has_changes(&self) -> bool {
        self.resources.iter().any(|change| {
            !change.operations.is_empty() || !change.notes.is_empty() || change.problem.is_some()
        })
    }

    /// The resources wrong in the files: while there is one, apply sends nothing.
    pub fn invalid(&self) -> impl Iterator<Item = &Change> {
        self.resources.iter().filter(|c| c.problem.as_ref().is_some_and(|p| p.kind == ProblemKind::Invalid))
    }

    /// The string values of hidden parameters that the plan's operations send, so that a message
    /// that echoes one (a service's refusal) can be masked before it is shown.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        for change in self.resources.iter().filter(|change| !change.hidden.is_empty()) {
            for operation in &change.operations {
                let values = match operation {
                    Operation::CreateDeployment { deployment, .. } => {
                        crate::compare::json(&deployment.app_parameters)
                    }
                    Operation::CreateRevision { revision } => crate::compare::json(&revision.app_parameters),
                    _ => continue,
                };
                for path in &change.hidden {
                    let Some((phase, name)) = path.split_once('.') else { continue };
                    match &values[phase][name] {
                        Value::Null => {}
                        Value::String(text) => secrets.push(text.clone()),
                        other => secrets.push(other.to_string()),
                    }
                }
            }
        }
        secrets.retain(|secret| secret.len() >= 3);
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        secrets.dedup();
        secrets
    }

    /// `text` with every hidden value of the plan replaced by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        redact(&self.secrets(), text)
    }

    /// The plan's JSON form, which `press-apps plan -o json` prints: every change with its
    /// actions and operations, hidden values masked, and the summary.
    pub fn to_json(&self) -> Value {
        let resources: Vec<Value> = self.resources.iter().map(Change::to_json).collect();
        json!({ "formatVersion": self.format_version, "resources": resources, "summary": self.summary() })
    }
}

/// `text` with each of `secrets` (longest first, as [`Plan::secrets`] gives them) replaced by
/// [`MASK`].
pub(crate) fn redact(secrets: &[String], text: &str) -> String {
    secrets.iter().fold(text.to_owned(), |text, secret| text.replace(secret.as_str(), MASK))
}

/// The plan's JSON form (see [`Plan::to_json`]).
pub fn to_json(plan: &Plan) -> Value {
    plan.to_json()
}
