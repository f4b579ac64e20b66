//! The server's own types: request bodies as the service reads them, responses as it writes
//! them. Independent of the client crate on purpose: both implement the same document, so a
//! mistake on one side shows up as a failure on the other.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Defines a closed enum of wire strings with its parser and printer.
macro_rules! wire_enum {
    ($name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        #[doc = concat!("The values of `", stringify!($name), "` as the service spells them.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $( #[doc = concat!("`", $text, "`")] #[serde(rename = $text)] $variant, )*
        }

        // Not every enum uses every helper.
        #[allow(dead_code)]
        impl $name {
            /// Every value, in the document's order.
            pub const ALL: &[$name] = &[$(Self::$variant),*];

            /// The value as the service spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )*
                }
            }

            /// The value spelled `text`, if there is one.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }

            /// The allowed values, for error messages.
            pub fn expected() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}

wire_enum!(SpecStatus { Available = "available", Unavailable = "unavailable", Archived = "archived" });
wire_enum!(Scope { Private = "private", Public = "public", Shared = "shared" });
wire_enum!(DeploymentStatus {
    Deploying = "deploying",
    Deployed = "deployed",
    Deleting = "deleting",
    DeleteFailed = "delete_failed",
    Failed = "failed",
    PlatformResourceError = "platform_resource_error",
    Redeploying = "redeploying",
    Rollback = "rollback",
    RollbackComplete = "rollback_complete",
    RollbackFailed = "rollback_failed",
    Warning = "warning",
});
wire_enum!(RevisionStatus {
    Deploying = "deploying",
    Deployed = "deployed",
    Deleting = "deleting",
    DeleteFailed = "delete_failed",
    Failed = "failed",
    PlatformResourceError = "platform_resource_error",
    Rollback = "rollback",
    RollbackComplete = "rollback_complete",
    RollbackFailed = "rollback_failed",
    Superseded = "superseded",
});
impl DeploymentStatus {
    /// What the latest revision reports while its deployment has this status: revisions have
    /// no `redeploying` (a redeployed revision is `deploying` again) and no `warning` (the
    /// revision is deployed; the warning is the deployment's).
    pub fn revision_status(self) -> RevisionStatus {
        match self {
            Self::Deploying | Self::Redeploying => RevisionStatus::Deploying,
            Self::Deployed | Self::Warning => RevisionStatus::Deployed,
            Self::Deleting => RevisionStatus::Deleting,
            Self::DeleteFailed => RevisionStatus::DeleteFailed,
            Self::Failed => RevisionStatus::Failed,
            Self::PlatformResourceError => RevisionStatus::PlatformResourceError,
            Self::Rollback => RevisionStatus::Rollback,
            Self::RollbackComplete => RevisionStatus::RollbackComplete,
            Self::RollbackFailed => RevisionStatus::RollbackFailed,
        }
    }
}

wire_enum!(ParameterType {
    Boolean = "boolean",
    String = "string",
    StringArray = "string_array",
    Number = "number",
    NumberArray = "number_array",
    Object = "object",
    ObjectArray = "object_array",
});
wire_enum!(Operator { Equals = "equals", NotEquals = "not-equals" });
wire_enum!(ConditionType { And = "AND", Or = "OR" });

/// What a hidden parameter's value is replaced by wherever a revision is described.
pub const MASK: &str = "********";

// ---- Requests ----

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tag {
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionRef {
    pub version: String,
}

#[derive(Debug, Deserialize)]
pub struct ReleaseIn {
    pub version: String,
    /// Optional, as the official CLI's help says; a release without notes reports empty ones.
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockConfig {
    pub id: String,
    pub release: VersionRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_run_on_deploy: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewMetadata {
    pub name: String,
    pub summary: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub description_content_type: Option<String>,
    pub image_url: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Deserialize)]
pub enum AppKind {
    #[serde(rename = "app")]
    App,
}

#[derive(Debug, Deserialize)]
pub struct NewSpec {
    pub version: u8,
    /// Checked by parsing: only `app` is accepted.
    #[serde(rename = "kind")]
    pub _kind: AppKind,
    pub metadata: NewMetadata,
    pub release: ReleaseIn,
    pub config: Vec<BlockConfig>,
}

/// create_spec's body: JSON documents carried as strings, with booleans as text.
#[derive(Debug, Deserialize)]
pub struct CreateSpecBody {
    pub spec: String,
    pub featured: Option<Value>,
    pub scope: Option<Scope>,
    pub parameters: Option<String>,
    pub tenants: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParameterOption {
    pub title: String,
    pub value: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionRule {
    pub depends_on: String,
    pub operator: Operator,
    pub value: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionGroup {
    pub condition_type: ConditionType,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Condition {
    Rule(ConditionRule),
    Group(ConditionGroup),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParameterDefinition {
    pub name: String,
    #[serde(rename = "type")]
    pub type_: ParameterType,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ParameterOption>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hide_value: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ParameterDefinitions {
    #[serde(default)]
    pub build: Vec<ParameterDefinition>,
    #[serde(default)]
    pub run: Vec<ParameterDefinition>,
}

#[derive(Debug, Deserialize)]
pub struct NewRelease {
    pub release: ReleaseIn,
    pub config: Vec<BlockConfig>,
    #[serde(default)]
    pub parameters: Option<ParameterDefinitions>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataUpdate {
    pub name: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub description_content_type: Option<String>,
    pub image_url: Option<String>,
    pub tags: Option<Vec<Tag>>,
    pub status: Option<SpecStatus>,
}

#[derive(Debug, Deserialize)]
pub struct SpecUpdate {
    pub metadata: Option<MetadataUpdate>,
    pub featured: Option<bool>,
    pub scope: Option<Scope>,
    pub tenants: Option<Vec<String>>,
}

/// Parameter values for building and running, by parameter name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AppParameters {
    #[serde(default)]
    pub build: Map<String, Value>,
    #[serde(default)]
    pub run: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct RevisionIn {
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockInclude {
    pub id: String,
    pub release_version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockExclude {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct DeploymentSpecIn {
    pub id: String,
    pub release: Option<VersionRef>,
    #[serde(default)]
    pub includes: Vec<BlockInclude>,
    #[serde(default)]
    pub excludes: Vec<BlockExclude>,
}

/// Parameter values for an app's blocks, by block name.
pub type BlockParameters = std::collections::BTreeMap<String, AppParameters>;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewDeployment {
    pub metadata: NewMetadata,
    pub app_parameters: Option<AppParameters>,
    /// Checked for shape; the emulator keeps no block-level state.
    #[serde(rename = "parameters")]
    pub _parameters: Option<BlockParameters>,
    pub revision: RevisionIn,
    pub spec: DeploymentSpecIn,
}

#[derive(Debug, Default, Deserialize)]
pub struct BlocksConfig {
    #[serde(default)]
    pub includes: Vec<BlockInclude>,
    #[serde(default)]
    pub excludes: Vec<BlockExclude>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRevision {
    pub release: Option<VersionRef>,
    pub revision: Option<RevisionIn>,
    pub blocks_config: Option<BlocksConfig>,
    pub app_parameters: Option<AppParameters>,
    /// Checked for shape; the emulator keeps no block-level state.
    #[serde(rename = "parameters")]
    pub _parameters: Option<BlockParameters>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentMetadataUpdate {
    pub name: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub description_content_type: Option<String>,
    pub image_url: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Deserialize)]
pub struct StatusOverride {
    pub status: DeploymentStatus,
}

// ---- Responses ----

/// Metadata as specs and deployments report it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    pub tags: Vec<Tag>,
    pub status: &'static str,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

impl Metadata {
    pub fn new(input: NewMetadata, status: &'static str, at: &str, by: &str) -> Self {
        Self {
            name: input.name,
            title: input.title,
            summary: input.summary,
            description: input.description,
            description_content_type: input.description_content_type,
            image_url: input.image_url,
            tags: input.tags.unwrap_or_default(),
            status,
            created_at: at.to_owned(),
            created_by: by.to_owned(),
            updated_at: at.to_owned(),
            updated_by: by.to_owned(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseSummary {
    pub id: String,
    pub version: String,
    pub notes: String,
    pub created_at: String,
    pub created_by: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpecOut {
    pub id: String,
    pub kind: &'static str,
    pub featured: bool,
    pub scope: &'static str,
    pub tenants: Vec<String>,
    pub metadata: Metadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_release: Option<ReleaseSummary>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseOut {
    pub id: String,
    pub version: String,
    pub notes: String,
    pub created_at: String,
    pub created_by: String,
    pub config: Vec<BlockConfig>,
    pub parameters: ParameterDefinitions,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockDeployment {
    pub deployment_id: String,
    pub platform_id: String,
    pub kind: &'static str,
    pub name: String,
    pub status: RevisionStatus,
}

#[derive(Debug, Serialize)]
pub struct SpecRef {
    pub id: String,
    pub release: VersionRef,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionSummary {
    pub id: String,
    pub revision: u64,
    pub status: RevisionStatus,
    pub notes: String,
    pub created_at: String,
    pub created_by: String,
    pub blocks: Vec<BlockDeployment>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentOut {
    pub id: String,
    pub kind: &'static str,
    pub metadata: Metadata,
    pub latest_revision: RevisionSummary,
    pub spec: SpecRef,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionOut {
    pub id: String,
    pub revision: u64,
    pub status: RevisionStatus,
    pub notes: String,
    pub created_at: String,
    pub created_by: String,
    pub resources: Vec<BlockDeployment>,
    pub spec: SpecRef,
    pub parameters: AppParameters,
}

#[cfg(test)]
pub(crate) mod tests {
    //! The document is the one source of the values: a value added to or removed from one of its
    //! enumerations fails here until the emulator's list follows.

    use super::*;

    /// The values of the document's enumeration `schema`, or of its property `property`.
    pub(crate) fn documented(schema: &str, property: Option<&str>) -> Vec<String> {
        let document: Value = serde_json::from_str(crate::DOCUMENT).expect("the document parses");
        let mut at = &document["components"]["schemas"][schema];
        if let Some(property) = property {
            at = &at["properties"][property];
        }
        let values =
            at["enum"].as_array().unwrap_or_else(|| panic!("the document has no enumeration {schema}"));
        values.iter().map(|value| value.as_str().expect("a string value").to_owned()).collect()
    }

    fn texts<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<String> {
        all.iter().map(|value| as_str(*value).to_owned()).collect()
    }

    #[test]
    fn each_wire_enum_has_exactly_the_documents_values() {
        let lists = [
            ("SpecStatus", "SpecStatus", None, texts(SpecStatus::ALL, SpecStatus::as_str)),
            ("Scope", "SpecScope", None, texts(Scope::ALL, Scope::as_str)),
            (
                "DeploymentStatus",
                "DeploymentStatus",
                None,
                texts(DeploymentStatus::ALL, DeploymentStatus::as_str),
            ),
            ("RevisionStatus", "RevisionStatus", None, texts(RevisionStatus::ALL, RevisionStatus::as_str)),
            ("ParameterType", "ParameterType", None, texts(ParameterType::ALL, ParameterType::as_str)),
            ("Operator", "ConditionRule", Some("operator"), texts(Operator::ALL, Operator::as_str)),
            (
                "ConditionType",
                "ConditionGroup",
                Some("conditionType"),
                texts(ConditionType::ALL, ConditionType::as_str),
            ),
        ];
        for (list, schema, property, values) in lists {
            assert_eq!(
                values,
                documented(schema, property),
                "emulator/src/model.rs: {list} differs from the document's {schema}{}",
                property.map(|p| format!(".{p}")).unwrap_or_default()
            );
        }
    }
}
