//! The 17 operations of the document by operation id, with the method and path each is served
//! on: what a scripted fault names, and what the crate's front page lists. A test checks this
//! table against the published document and against the router.

use std::{fmt, str::FromStr};

/// Defines [`Operation`] from one table of (variant, operation id, method, path template).
macro_rules! operations {
    ($($variant:ident = $id:literal, $method:literal, $path:literal;)*) => {
        /// An operation of the API, named as the document's `operationId` (and as the Python
        /// SDK's and the Rust client's methods).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Operation {
            $( #[doc = concat!("`", $id, "`: `", $method, " ", $path, "`")] $variant, )*
        }

        impl Operation {
            /// Every operation, in the document's order.
            pub const ALL: &[Operation] = &[$(Self::$variant),*];

            /// The operation id, such as `create_spec`.
            pub fn id(self) -> &'static str {
                match self { $( Self::$variant => $id, )* }
            }

            /// The HTTP method, such as `POST`.
            pub fn method(self) -> &'static str {
                match self { $( Self::$variant => $method, )* }
            }

            /// The path template as the document writes it, such as `/v1/apps/specs/{specId}`;
            /// mind the trailing slash of the collections.
            pub fn path(self) -> &'static str {
                match self { $( Self::$variant => $path, )* }
            }
        }
    };
}

operations! {
    ListSpecs = "list_specs", "GET", "/v1/apps/specs/";
    CreateSpec = "create_spec", "POST", "/v1/apps/specs/";
    DescribeSpec = "describe_spec", "GET", "/v1/apps/specs/{specId}";
    UpdateSpecMetadata = "update_spec_metadata", "PATCH", "/v1/apps/specs/{specId}";
    DeleteSpec = "delete_spec", "DELETE", "/v1/apps/specs/{specId}";
    ListSpecReleases = "list_spec_releases", "GET", "/v1/apps/specs/{specId}/releases";
    CreateSpecRelease = "create_spec_release", "POST", "/v1/apps/specs/{specId}/releases";
    DescribeSpecRelease = "describe_spec_release", "GET", "/v1/apps/specs/{specId}/releases/{version}";
    ListDeployments = "list_deployments", "GET", "/v1/apps/deployments/";
    CreateDeployment = "create_deployment", "POST", "/v1/apps/deployments/";
    DescribeDeployment = "describe_deployment", "GET", "/v1/apps/deployments/{deploymentId}";
    UpdateDeploymentMetadata = "update_deployment_metadata", "PATCH", "/v1/apps/deployments/{deploymentId}";
    DeleteDeployment = "delete_deployment", "DELETE", "/v1/apps/deployments/{deploymentId}";
    Redeploy = "redeploy", "POST", "/v1/apps/deployments/{deploymentId}/redeploy";
    ListDeploymentRevisions = "list_deployment_revisions", "GET", "/v1/apps/deployments/{deploymentId}/revisions";
    CreateDeploymentRevision = "create_deployment_revision", "POST", "/v1/apps/deployments/{deploymentId}/revisions";
    DescribeDeploymentRevision = "describe_deployment_revision", "GET", "/v1/apps/deployments/{deploymentId}/revisions/{revision}";
}

impl Operation {
    /// The operation a request with `method` on `path` (without its query) is served by, if any.
    pub fn of(method: &str, path: &str) -> Option<Operation> {
        Self::ALL.iter().copied().find(|operation| operation.serves(method, path))
    }

    /// Whether a request with `method` on `path` is this operation: the same method, and the
    /// path template's literal segments with a non-empty segment for each `{placeholder}`.
    pub fn serves(self, method: &str, path: &str) -> bool {
        if !self.method().eq_ignore_ascii_case(method) {
            return false;
        }
        let (mut template, mut actual) = (self.path().split('/'), path.split('/'));
        loop {
            match (template.next(), actual.next()) {
                (None, None) => return true,
                (Some(expected), Some(segment)) => {
                    let placeholder = expected.starts_with('{') && expected.ends_with('}');
                    if !(if placeholder { !segment.is_empty() } else { expected == segment }) {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// An operation id that the document does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOperation(pub String);

impl fmt::Display for UnknownOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown operation {:?}: expected an operation id of the document, such as create_spec",
            self.0
        )
    }
}

impl std::error::Error for UnknownOperation {}

impl FromStr for Operation {
    type Err = UnknownOperation;

    fn from_str(id: &str) -> Result<Self, UnknownOperation> {
        Self::ALL
            .iter()
            .copied()
            .find(|operation| operation.id() == id)
            .ok_or_else(|| UnknownOperation(id.to_owned()))
    }
}
