//! Handwritten model types that the generated code uses in place of its own.
//!
//! Statuses and scopes are *open* enums, in the AWS SDK's shape: the known values are variants, a
//! value the service adds later decodes as `Unknown` (holding an [`UnknownValue`] that only
//! decoding can make) instead of failing the whole response, and the enums are
//! `#[non_exhaustive]`. Parameter values keep
//! integers apart from floating-point numbers, so that `3` goes out as `3`, not `3.0`.

use std::{convert::Infallible, fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A status or scope that this version of the crate does not know, kept as the service sent it.
///
/// Only decoding makes one: a program cannot build it, so a known value is never held as
/// unknown, and `SpecStatus::from("available")` is always [`SpecStatus::Available`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownValue(String);

impl UnknownValue {
    /// The value as the service spelled it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )* }
    ) => {
        $(#[$meta])*
        ///
        /// Open to new values: one the service adds later decodes as `Unknown` rather than failing
        /// the answer, and the enum is `#[non_exhaustive]`, so a match needs a `_` arm and a new
        /// variant in a later version of the crate breaks no caller.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version of the crate does not know; see [`UnknownValue`].
            Unknown(UnknownValue),
        }

        impl $name {
            /// The values this version of the crate knows, as the service spells them.
            #[cfg(test)]
            const KNOWN: &[&str] = &[$($text),*];

            /// The value as the service spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Unknown(other) => other.as_str(),
                }
            }
        }

        /// The value of that spelling: a known variant, or `Unknown` for any other text.
        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $( $text => Self::$variant, )*
                    other => Self::Unknown(UnknownValue(other.to_owned())),
                }
            }
        }

        /// The same as `From<&str>`, for `str::parse`: it never fails.
        impl FromStr for $name {
            type Err = Infallible;

            fn from_str(text: &str) -> Result<Self, Infallible> {
                Ok(Self::from(text))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        /// The values this version of the crate knows, as the document lists them.
        #[cfg(feature = "schemars")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> String {
                stringify!($name).to_owned()
            }

            fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
                schemars::schema::SchemaObject {
                    instance_type: Some(schemars::schema::InstanceType::String.into()),
                    enum_values: Some(vec![$(serde_json::Value::from($text)),*]),
                    ..Default::default()
                }
                .into()
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::from(text.as_ref()))
            }
        }
    };
}

open_enum! {
    /// The status of an app spec.
    SpecStatus {
        /// The spec can be deployed.
        Available = "available",
        /// The spec cannot be deployed for now.
        Unavailable = "unavailable",
        /// The spec is archived.
        Archived = "archived",
    }
}

open_enum! {
    /// Who can discover and deploy an app spec.
    SpecScope {
        /// This tenant only (the service's default).
        Private = "private",
        /// Every tenant.
        Public = "public",
        /// This tenant and the tenants named with the spec.
        Shared = "shared",
    }
}

open_enum! {
    /// The status of an app deployment.
    DeploymentStatus {
        /// Being deployed.
        Deploying = "deploying",
        /// Deployed and running.
        Deployed = "deployed",
        /// Being deleted.
        Deleting = "deleting",
        /// Deletion failed.
        DeleteFailed = "delete_failed",
        /// Deployment failed; it can be redeployed.
        Failed = "failed",
        /// The platform could not provide a resource.
        PlatformResourceError = "platform_resource_error",
        /// The latest revision is being deployed again.
        Redeploying = "redeploying",
        /// Being rolled back.
        Rollback = "rollback",
        /// Rolled back.
        RollbackComplete = "rollback_complete",
        /// Rollback failed.
        RollbackFailed = "rollback_failed",
        /// Deployed with warnings; it can be redeployed.
        Warning = "warning",
    }
}

open_enum! {
    /// The status of a deployment revision.
    RevisionStatus {
        /// Being deployed.
        Deploying = "deploying",
        /// Deployed and current.
        Deployed = "deployed",
        /// Being deleted.
        Deleting = "deleting",
        /// Deletion failed.
        DeleteFailed = "delete_failed",
        /// Deployment failed.
        Failed = "failed",
        /// The platform could not provide a resource.
        PlatformResourceError = "platform_resource_error",
        /// Being rolled back.
        Rollback = "rollback",
        /// Rolled back.
        RollbackComplete = "rollback_complete",
        /// Rollback failed.
        RollbackFailed = "rollback_failed",
        /// Replaced by a newer deployed revision.
        Superseded = "superseded",
    }
}

/// The value of a parameter given at deployment time.
///
/// ```
/// use peak_press_apps::ParameterValue;
/// assert_eq!(ParameterValue::from(3), ParameterValue::Integer(3));
/// assert_eq!(serde_json::to_string(&ParameterValue::from(3)).unwrap(), "3");
/// assert_eq!(ParameterValue::from("eu-west-1"), ParameterValue::String("eu-west-1".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum ParameterValue {
    /// A boolean.
    Boolean(bool),
    /// A whole number.
    Integer(i64),
    /// A number with a fractional part.
    Number(f64),
    /// Text.
    String(String),
    /// An array, for `string_array`, `number_array` and `object_array` parameters.
    Array(Vec<serde_json::Value>),
    /// An object, for `object` parameters.
    Object(serde_json::Map<String, serde_json::Value>),
}

impl From<bool> for ParameterValue {
    fn from(value: bool) -> Self {
        Self::Boolean(value)
    }
}

impl From<i64> for ParameterValue {
    fn from(value: i64) -> Self {
        Self::Integer(value)
    }
}

impl From<i32> for ParameterValue {
    fn from(value: i32) -> Self {
        Self::Integer(value.into())
    }
}

impl From<f64> for ParameterValue {
    fn from(value: f64) -> Self {
        Self::Number(value)
    }
}

impl From<&str> for ParameterValue {
    fn from(value: &str) -> Self {
        Self::String(value.to_owned())
    }
}

impl From<String> for ParameterValue {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}

impl<T: Into<serde_json::Value>> From<Vec<T>> for ParameterValue {
    fn from(values: Vec<T>) -> Self {
        Self::Array(values.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    //! The document is the one source of the values: a value added to or removed from one of its
    //! enumerations fails here until the list in this file follows.

    use super::*;

    fn documented(schema: &str) -> Vec<String> {
        let document: serde_json::Value =
            serde_json::from_str(include_str!("../openapi/press-apps.json")).expect("the document parses");
        let values = document["components"]["schemas"][schema]["enum"].as_array();
        let values = values.unwrap_or_else(|| panic!("the document has no enumeration {schema}"));
        values.iter().map(|value| value.as_str().expect("a string value").to_owned()).collect()
    }

    #[test]
    fn each_open_enum_knows_exactly_the_documents_values() {
        let lists: [(&str, &[&str]); 4] = [
            ("SpecStatus", SpecStatus::KNOWN),
            ("SpecScope", SpecScope::KNOWN),
            ("DeploymentStatus", DeploymentStatus::KNOWN),
            ("RevisionStatus", RevisionStatus::KNOWN),
        ];
        for (schema, known) in lists {
            assert_eq!(
                known,
                documented(schema),
                "src/model.rs: the values of {schema} differ from the document's enumeration {schema}; \
                 add or remove the variant (and its arm in src/waiter.rs, which the compiler will ask for)"
            );
        }
    }
}
