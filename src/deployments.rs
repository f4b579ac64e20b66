//! The app deployment and revision operations: thin methods that validate, then call the
//! generated client.

use std::fmt::Display;

use crate::{
    Client, DeploymentStatus, Error, Result, RevisionStatus,
    pagination::{Paginator, list_query},
    types::{
        CreatedId, CreatedRevision, Deployment, DeploymentMetadataUpdate, DeploymentPage, DeploymentSortKey,
        NewDeployment, NewRevision, Redeployment, Revision, RevisionPage, RevisionSortKey,
    },
    validate,
};

/// The filters of [`Client::list_deployments`]: the `Q` of its [`Paginator`].
#[derive(Debug, Clone, Default)]
pub struct DeploymentQuery {
    status: Vec<DeploymentStatus>,
    name: Option<String>,
    sort: Vec<DeploymentSortKey>,
}

list_query!(DeploymentQuery, Deployment, DeploymentPage, deployments, deployment_count, |query, api| api
    .list_deployments()
    .status(query.status.clone())
    .set_if(query.name.clone(), |r, v| r.name(v))
    .sort(query.sort.clone()));

/// A listing of app deployments; see [`Client::list_deployments`].
pub type ListDeployments<'c> = Paginator<'c, DeploymentQuery>;

impl ListDeployments<'_> {
    /// Only deployments with this status; call again to allow several.
    pub fn status(mut self, status: DeploymentStatus) -> Self {
        self.query.status.push(status);
        self
    }

    /// Only deployments whose name starts with `prefix`.
    pub fn name(self, prefix: impl Into<String>) -> Self {
        self.set_name(Some(prefix.into()))
    }

    /// Like [`name`](Self::name), from an `Option`: `None` filters nothing.
    pub fn set_name(mut self, prefix: Option<String>) -> Self {
        self.query.name = prefix;
        self
    }

    /// Sorts by `field:asc`, `field:desc` or `field` (ascending), with field one of `createdAt`,
    /// `createdBy`, `name`, `title`; call again for further keys.
    ///
    /// Takes a [`DeploymentSortKey`](crate::types::DeploymentSortKey) or its text, such as `"name:asc"`.
    pub fn sort(self, key: impl TryInto<DeploymentSortKey> + Display) -> Self {
        self.sort_by(key, |query| &mut query.sort)
    }
}

/// The filters of [`Client::list_deployment_revisions`]: the `Q` of its [`Paginator`].
#[derive(Debug, Clone)]
pub struct RevisionQuery {
    deployment_id: String,
    sort: Vec<RevisionSortKey>,
    status: Vec<RevisionStatus>,
}

list_query!(RevisionQuery, Revision, RevisionPage, revisions, revision_count, |query, api| api
    .list_deployment_revisions()
    .deployment_id(query.deployment_id.clone())
    .sort(query.sort.clone())
    .status(query.status.clone()));

/// A listing of a deployment's revisions; see [`Client::list_deployment_revisions`].
pub type ListDeploymentRevisions<'c> = Paginator<'c, RevisionQuery>;

impl ListDeploymentRevisions<'_> {
    /// Sorts by `createdAt` or `createdBy`, with `:asc` or `:desc` (ascending when bare); call again
    /// for further keys.
    ///
    /// Takes a [`RevisionSortKey`](crate::types::RevisionSortKey) or its text, such as `"createdAt:desc"`.
    pub fn sort(self, key: impl TryInto<RevisionSortKey> + Display) -> Self {
        self.sort_by(key, |query| &mut query.sort)
    }

    /// Only revisions with this status; call again to allow several.
    pub fn status(mut self, status: RevisionStatus) -> Self {
        self.query.status.push(status);
        self
    }
}

impl Client {
    /// Lists app deployments, newest first unless sorted otherwise.
    pub fn list_deployments(&self) -> ListDeployments<'_> {
        Paginator::new(self, DeploymentQuery::default())
    }

    /// Deploys a release of a spec (the latest when the body names none) and returns the new
    /// deployment's id. Takes a [`NewDeployment`] or its builder.
    pub async fn create_deployment<D>(&self, deployment: D) -> Result<CreatedId>
    where
        D: TryInto<NewDeployment>,
        D::Error: Display,
    {
        let deployment: NewDeployment = validate::body("deployment", deployment)?;
        validate::non_empty("metadata.name", &deployment.metadata.name)?;
        validate::non_empty("spec.id", &deployment.spec.id)?;
        if let Some(release) = &deployment.spec.release {
            validate::version("spec.release.version", &release.version)?;
        }
        self.call(|api| api.create_deployment().body(deployment.clone()).send()).await
    }

    /// Describes an app deployment and its latest revision.
    pub async fn describe_deployment(&self, deployment_id: &str) -> Result<Deployment> {
        let deployment_id = validate::id("deployment_id", deployment_id)?;
        self.call(|api| api.describe_deployment().deployment_id(deployment_id).send()).await
    }

    /// Changes the given metadata fields of a deployment and returns it as it is now.
    pub async fn update_deployment_metadata<U>(&self, deployment_id: &str, update: U) -> Result<Deployment>
    where
        U: TryInto<DeploymentMetadataUpdate>,
        U::Error: Display,
    {
        let deployment_id = validate::id("deployment_id", deployment_id)?;
        let update: DeploymentMetadataUpdate = validate::body("update", update)?;
        if let Some(name) = &update.name {
            validate::non_empty("name", name)?;
        }
        self.call(|api| {
            api.update_deployment_metadata().deployment_id(deployment_id).body(update.clone()).send()
        })
        .await
    }

    /// Starts deleting a deployment; it reports the status `deleting` until it is gone.
    pub async fn delete_deployment(&self, deployment_id: &str) -> Result<()> {
        let deployment_id = validate::id("deployment_id", deployment_id)?;
        self.delete(|api| api.delete_deployment().deployment_id(deployment_id).send()).await
    }

    /// Deploys the latest revision of a `failed` or `warning` deployment again; any other status
    /// gets [`Error::Conflict`].
    pub async fn redeploy(&self, deployment_id: &str) -> Result<Redeployment> {
        let deployment_id = validate::id("deployment_id", deployment_id)?;
        self.call(|api| api.redeploy().deployment_id(deployment_id).send()).await
    }

    /// Creates a revision of a deployment from a release of its spec (the latest when the body
    /// names none). Takes a [`NewRevision`] or its builder.
    pub async fn create_deployment_revision<R>(
        &self,
        deployment_id: &str,
        revision: R,
    ) -> Result<CreatedRevision>
    where
        R: TryInto<NewRevision>,
        R::Error: Display,
    {
        let deployment_id = validate::id("deployment_id", deployment_id)?;
        let revision: NewRevision = validate::body("revision", revision)?;
        if let Some(release) = &revision.release {
            validate::version("release.version", &release.version)?;
        }
        self.call(|api| {
            api.create_deployment_revision().deployment_id(deployment_id).body(revision.clone()).send()
        })
        .await
    }

    /// Describes one revision of a deployment, by its number (from 1). Values of hidden
    /// parameters come back masked.
    pub async fn describe_deployment_revision(&self, deployment_id: &str, revision: u64) -> Result<Revision> {
        let deployment_id = validate::id("deployment_id", deployment_id)?;
        if revision == 0 {
            return Err(Error::invalid("revision numbers start at 1"));
        }
        self.call(|api| {
            api.describe_deployment_revision().deployment_id(deployment_id).revision(revision).send()
        })
        .await
    }

    /// Lists the revisions of a deployment, newest first unless sorted otherwise. Unlike the
    /// Python SDK's iterator, this reads the `revisions` key of each page, so it works.
    pub fn list_deployment_revisions(&self, deployment_id: &str) -> ListDeploymentRevisions<'_> {
        let query =
            RevisionQuery { deployment_id: deployment_id.to_owned(), sort: Vec::new(), status: Vec::new() };
        let listing = Paginator::new(self, query);
        match validate::id("deployment_id", deployment_id) {
            Ok(_) => listing,
            Err(error) => listing.reject(error),
        }
    }
}
