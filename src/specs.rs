//! The app spec and release operations: thin methods that validate, then call the generated client.

use std::{fmt::Display, future::IntoFuture};

use futures::future::BoxFuture;

use crate::{
    Client, Result, SpecScope, SpecStatus,
    pagination::{Paginator, list_query},
    types::{
        CreateSpecRequest, CreateSpecRequestFeatured, CreatedId, CreatedRelease, NewRelease, NewSpec,
        ParameterDefinitions, Release, ReleasePage, ReleaseSortKey, Spec, SpecPage, SpecSortKey, SpecUpdate,
    },
    validate,
};

/// The filters of [`Client::list_specs`]: the `Q` of its [`Paginator`], set through the
/// paginator's methods. It can be named, so that a listing can be built in one place and passed
/// around:
///
/// ```
/// use peak_press_apps::{Client, Paginator, SpecQuery, SpecStatus};
///
/// fn available(client: &Client) -> Paginator<'_, SpecQuery> {
///     client.list_specs().status(SpecStatus::Available).sort("name:asc")
/// }
/// ```
#[derive(Debug, Clone, Default)]
pub struct SpecQuery {
    status: Vec<SpecStatus>,
    featured: Option<bool>,
    name: Option<String>,
    title: Option<String>,
    sort: Vec<SpecSortKey>,
    scope: Vec<SpecScope>,
}

list_query!(SpecQuery, Spec, SpecPage, specs, spec_count, |query, api| api
    .list_specs()
    .status(query.status.clone())
    .set_if(query.featured, |r, v| r.featured(v))
    .set_if(query.name.clone(), |r, v| r.name(v))
    .set_if(query.title.clone(), |r, v| r.title(v))
    .sort(query.sort.clone())
    .scope(query.scope.clone()));

/// A listing of app specs; see [`Client::list_specs`].
pub type ListSpecs<'c> = Paginator<'c, SpecQuery>;

impl ListSpecs<'_> {
    /// Only specs with this status; call again to allow several.
    pub fn status(mut self, status: SpecStatus) -> Self {
        self.query.status.push(status);
        self
    }

    /// Only featured (`true`) or only non-featured (`false`) specs.
    pub fn featured(self, featured: bool) -> Self {
        self.set_featured(Some(featured))
    }

    /// Like [`featured`](Self::featured), from an `Option`: `None` lists both.
    pub fn set_featured(mut self, featured: Option<bool>) -> Self {
        self.query.featured = featured;
        self
    }

    /// Only specs whose name starts with `prefix`.
    pub fn name(self, prefix: impl Into<String>) -> Self {
        self.set_name(Some(prefix.into()))
    }

    /// Like [`name`](Self::name), from an `Option`: `None` filters nothing.
    pub fn set_name(mut self, prefix: Option<String>) -> Self {
        self.query.name = prefix;
        self
    }

    /// Only specs whose title starts with `prefix`.
    pub fn title(self, prefix: impl Into<String>) -> Self {
        self.set_title(Some(prefix.into()))
    }

    /// Like [`title`](Self::title), from an `Option`: `None` filters nothing.
    pub fn set_title(mut self, prefix: Option<String>) -> Self {
        self.query.title = prefix;
        self
    }

    /// Sorts by `field:asc`, `field:desc` or `field` (ascending), with field one of `createdAt`,
    /// `createdBy`, `name`, `title`; call again for further keys.
    ///
    /// Takes a [`SpecSortKey`](crate::types::SpecSortKey) or its text, such as `"name:asc"`.
    pub fn sort(self, key: impl TryInto<SpecSortKey> + Display) -> Self {
        self.sort_by(key, |query| &mut query.sort)
    }

    /// Only specs with this scope; call again to allow several.
    pub fn scope(mut self, scope: SpecScope) -> Self {
        self.query.scope.push(scope);
        self
    }
}

/// The filters of [`Client::list_spec_releases`]: the `Q` of its [`Paginator`].
#[derive(Debug, Clone)]
pub struct ReleaseQuery {
    spec_id: String,
    sort: Vec<ReleaseSortKey>,
}

list_query!(ReleaseQuery, Release, ReleasePage, releases, release_count, |query, api| {
    api.list_spec_releases().spec_id(query.spec_id.clone()).sort(query.sort.clone())
});

/// A listing of a spec's releases; see [`Client::list_spec_releases`].
pub type ListSpecReleases<'c> = Paginator<'c, ReleaseQuery>;

impl ListSpecReleases<'_> {
    /// Sorts by `createdAt` or `createdBy`, with `:asc` or `:desc` (ascending when bare); call again
    /// for further keys.
    ///
    /// Takes a [`ReleaseSortKey`](crate::types::ReleaseSortKey) or its text, such as `"createdAt:desc"`.
    pub fn sort(self, key: impl TryInto<ReleaseSortKey> + Display) -> Self {
        self.sort_by(key, |query| &mut query.sort)
    }
}

/// A spec to create with its options, sent when awaited; see [`Client::create_spec`].
#[derive(Debug)]
#[must_use = "nothing is created until the request is awaited"]
pub struct CreateSpec<'c> {
    client: &'c Client,
    spec: Result<NewSpec>,
    featured: Option<bool>,
    scope: Option<SpecScope>,
    tenants: Vec<String>,
    parameters: Option<ParameterDefinitions>,
}

impl CreateSpec<'_> {
    /// Whether the spec is featured (the service's default is not).
    pub fn featured(self, featured: bool) -> Self {
        self.set_featured(Some(featured))
    }

    /// Like [`featured`](Self::featured), from an `Option`: `None` leaves it to the service.
    pub fn set_featured(mut self, featured: Option<bool>) -> Self {
        self.featured = featured;
        self
    }

    /// Who can discover and deploy the spec (the service's default is [`SpecScope::Private`]).
    pub fn scope(self, scope: SpecScope) -> Self {
        self.set_scope(Some(scope))
    }

    /// Like [`scope`](Self::scope), from an `Option`: `None` leaves it to the service.
    pub fn set_scope(mut self, scope: Option<SpecScope>) -> Self {
        self.scope = scope;
        self
    }

    /// With [`SpecScope::Shared`], the other tenants that can discover and deploy the spec.
    pub fn tenants<T: Into<String>>(mut self, tenants: impl IntoIterator<Item = T>) -> Self {
        self.tenants = tenants.into_iter().map(Into::into).collect();
        self
    }

    /// The parameters whose values deployments give, for building and for running.
    pub fn parameters(self, parameters: ParameterDefinitions) -> Self {
        self.set_parameters(Some(parameters))
    }

    /// Like [`parameters`](Self::parameters), from an `Option`: `None` defines none.
    pub fn set_parameters(mut self, parameters: Option<ParameterDefinitions>) -> Self {
        self.parameters = parameters;
        self
    }

    async fn send(self) -> Result<CreatedId> {
        let spec = self.spec?;
        validate::non_empty("metadata.name", &spec.metadata.name)?;
        validate::version("release.version", &spec.release.version)?;
        if let Some(parameters) = &self.parameters {
            validate::parameters(parameters)?;
        }
        if !self.tenants.is_empty() && self.scope != Some(SpecScope::Shared) {
            return Err(crate::Error::invalid("tenants are only given with the shared scope"));
        }
        // The service reads this body's fields as JSON documents carried in strings.
        let body = CreateSpecRequest {
            spec: to_json("spec", &spec)?,
            featured: match self.featured {
                Some(true) => CreateSpecRequestFeatured::True,
                Some(false) => CreateSpecRequestFeatured::False,
                None => CreateSpecRequestFeatured::Null,
            },
            scope: self.scope,
            parameters: match &self.parameters {
                Some(parameters) => to_json("parameters", parameters)?,
                None => "null".to_owned(),
            },
            tenants: if self.tenants.is_empty() { None } else { Some(to_json("tenants", &self.tenants)?) },
        };
        self.client.call(|api| api.create_spec().body(body.clone()).send()).await
    }
}

/// Awaiting the request checks the spec and creates it; the answer is the new spec's id.
impl<'c> IntoFuture for CreateSpec<'c> {
    type Output = Result<CreatedId>;
    type IntoFuture = BoxFuture<'c, Result<CreatedId>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A value as the JSON text the service expects inside a string field.
fn to_json(what: &str, value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|why| crate::Error::invalid(format!("{what} cannot be encoded: {why}")))
}

impl Client {
    /// Lists app specs, newest first unless sorted otherwise.
    ///
    /// ```no_run
    /// # async fn example(client: peak_press_apps::Client) -> peak_press_apps::Result<()> {
    /// use futures::TryStreamExt;
    /// use peak_press_apps::SpecStatus;
    ///
    /// let names: Vec<String> = client
    ///     .list_specs()
    ///     .status(SpecStatus::Available)
    ///     .sort("name:asc")
    ///     .items()
    ///     .map_ok(|spec| spec.metadata.name)
    ///     .try_collect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn list_specs(&self) -> ListSpecs<'_> {
        Paginator::new(self, SpecQuery::default())
    }

    /// Creates an app spec with its first release. Takes a [`NewSpec`] or its builder; options
    /// are set on the returned request, which is sent when awaited, like every other operation.
    ///
    /// ```no_run
    /// # async fn example(client: peak_press_apps::Client) -> peak_press_apps::Result<()> {
    /// use peak_press_apps::types::{BlockConfig, NewSpec, NewSpecMetadata, ReleaseInput, VersionRef};
    ///
    /// let spec = NewSpec::builder()
    ///     .metadata(NewSpecMetadata::builder().name("churn-model").title("Churn model").summary("Predicts churn"))
    ///     .release(ReleaseInput::builder().version("1.0.0").notes("First release"))
    ///     .config(vec![BlockConfig::builder()
    ///         .id("block-spec-id")
    ///         .release(VersionRef::builder().version("1.0.0"))
    ///         .try_into()
    ///         .expect("all required fields are set")]);
    /// let created = client.create_spec(spec).featured(true).await?;
    /// println!("created spec {}", created.id);
    /// # Ok(()) }
    /// ```
    pub fn create_spec<S>(&self, spec: S) -> CreateSpec<'_>
    where
        S: TryInto<NewSpec>,
        S::Error: Display,
    {
        CreateSpec {
            client: self,
            spec: validate::body("spec", spec),
            featured: None,
            scope: None,
            tenants: Vec::new(),
            parameters: None,
        }
    }

    /// Describes an app spec and its latest release.
    pub async fn describe_spec(&self, spec_id: &str) -> Result<Spec> {
        let spec_id = validate::id("spec_id", spec_id)?;
        self.call(|api| api.describe_spec().spec_id(spec_id).send()).await
    }

    /// Changes the given fields of a spec's metadata, featured flag, scope or tenants, and
    /// returns the spec as it is now.
    pub async fn update_spec_metadata<U>(&self, spec_id: &str, update: U) -> Result<Spec>
    where
        U: TryInto<SpecUpdate>,
        U::Error: Display,
    {
        let spec_id = validate::id("spec_id", spec_id)?;
        let update: SpecUpdate = validate::body("update", update)?;
        if let Some(name) = update.metadata.as_ref().and_then(|m| m.name.as_deref()) {
            validate::non_empty("metadata.name", name)?;
        }
        self.call(|api| api.update_spec_metadata().spec_id(spec_id).body(update.clone()).send()).await
    }

    /// Deletes an app spec and all its releases. A spec that still has deployments cannot be
    /// deleted: the service answers [`Error::Conflict`](crate::Error::Conflict).
    pub async fn delete_spec(&self, spec_id: &str) -> Result<()> {
        let spec_id = validate::id("spec_id", spec_id)?;
        self.delete(|api| api.delete_spec().spec_id(spec_id).send()).await
    }

    /// Publishes a new release of a spec; its version must be a semantic version greater than
    /// the latest release's.
    pub async fn create_spec_release<R>(&self, spec_id: &str, release: R) -> Result<CreatedRelease>
    where
        R: TryInto<NewRelease>,
        R::Error: Display,
    {
        let spec_id = validate::id("spec_id", spec_id)?;
        let release: NewRelease = validate::body("release", release)?;
        validate::version("release.version", &release.release.version)?;
        if let Some(parameters) = &release.parameters {
            validate::parameters(parameters)?;
        }
        self.call(|api| api.create_spec_release().spec_id(spec_id).body(release.clone()).send()).await
    }

    /// Describes one release of a spec, by its semantic version.
    pub async fn describe_spec_release(&self, spec_id: &str, version: &str) -> Result<Release> {
        let spec_id = validate::id("spec_id", spec_id)?;
        validate::version("version", version)?;
        self.call(|api| api.describe_spec_release().spec_id(spec_id).version(version).send()).await
    }

    /// Lists the releases of a spec, newest first unless sorted otherwise.
    pub fn list_spec_releases(&self, spec_id: &str) -> ListSpecReleases<'_> {
        let listing = Paginator::new(self, ReleaseQuery { spec_id: spec_id.to_owned(), sort: Vec::new() });
        match validate::id("spec_id", spec_id) {
            Ok(_) => listing,
            Err(error) => listing.reject(error),
        }
    }
}
