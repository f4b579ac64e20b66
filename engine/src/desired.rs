//! The desired state: what a team's files say should exist. Its types read the same files as
//! `press-apps specs create` and `deployments create` (the SDK's keyword arguments at the top
//! level, the request under `body`), with one addition: a deployment may name its spec instead of
//! giving its id.

use std::collections::HashMap;

use peak_press_apps::{
    SpecScope,
    types::{
        AppParameters, BlockExclude, BlockInclude, NewDeploymentMetadata, NewSpec, ParameterDefinitions,
        VersionRef,
    },
};
use serde::{Deserialize, Serialize};

/// Every spec and deployment that should exist.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DesiredState {
    /// The specs, each found in the service by its metadata name.
    pub specs: Vec<DesiredSpec>,
    /// The deployments, each found in the service by its metadata name.
    pub deployments: Vec<DesiredDeployment>,
}

/// A spec as a file describes it: the file of `specs create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct DesiredSpec {
    /// The spec: its metadata, its latest release and that release's blocks.
    pub body: NewSpec,
    /// Whether the spec is featured; left as the service has it when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub featured: Option<bool>,
    /// Who can discover and deploy the spec; left as the service has it when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<SpecScope>,
    /// With the shared scope, the other tenants that can see the spec.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
    /// The parameters of the release, whose values deployments give.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<ParameterDefinitions>,
}

impl DesiredSpec {
    /// The spec's name, which finds it in the service.
    pub fn name(&self) -> &str {
        &self.body.metadata.name
    }
}

/// A deployment as a file describes it: the file of `deployments create`, whose spec may be
/// named rather than given by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct DesiredDeployment {
    /// The deployment.
    pub body: DeploymentBody,
}

impl DesiredDeployment {
    /// The deployment's name, which finds it in the service.
    pub fn name(&self) -> &str {
        &self.body.metadata.name
    }
}

/// What `deployments create` sends, with the spec named or given by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeploymentBody {
    /// The deployment's metadata; its name finds it.
    pub metadata: NewDeploymentMetadata,
    /// The spec and release deployed.
    pub spec: SpecSelector,
    /// Values of the app's parameters; those left out keep the release's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_parameters: Option<AppParameters>,
    /// Values for the app's blocks, by block name.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub parameters: HashMap<String, AppParameters>,
    /// The notes of a revision that apply makes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<RevisionNotes>,
}

/// The notes of a revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct RevisionNotes {
    /// Why the revision was made.
    pub notes: String,
}

/// Which spec a deployment deploys: by name (`spec: {name: churn, release: {version: 1.0.0}}`),
/// which makes files independent of ids, or by id as `deployments create` takes it. Without a
/// release version the deployment follows the spec's latest release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct SpecSelector {
    /// The spec's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The spec's metadata name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The release deployed; the spec's latest when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<VersionRef>,
    /// Blocks included, with their release versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<BlockInclude>,
    /// Blocks excluded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excludes: Vec<BlockExclude>,
}
