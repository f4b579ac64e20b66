//! One handler per operation: its parameters and body, one call of the store, its answer.

use axum::{
    Json,
    body::Bytes,
    extract::{Extension, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

use super::{
    extract::{JsonBody, Params, parse_json, read_value},
    query::*,
};
use crate::{
    error::{ApiError, ApiResult},
    model::*,
    state::{AppState, Tenant},
    store::Page,
};

/// `count_key`, and the page counts. Serialized directly, without an intermediate JSON tree.
/// A page as the service answers it: the items under `items_key`, their total under
pub(super) struct PageBody<T> {
    items_key: &'static str,
    count_key: &'static str,
    page: Page<T>,
}

impl<T: Serialize> Serialize for PageBody<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry(self.items_key, &self.page.items)?;
        map.serialize_entry(self.count_key, &self.page.total)?;
        map.serialize_entry("pageCount", &self.page.page_count)?;
        map.serialize_entry("pageNumber", &self.page.page_number)?;
        map.serialize_entry("pageSize", &self.page.page_size)?;
        map.end()
    }
}

fn page_json<T: Serialize>(
    items_key: &'static str,
    count_key: &'static str,
    page: Page<T>,
) -> Json<PageBody<T>> {
    Json(PageBody { items_key, count_key, page })
}

fn created(body: Value) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

// ---- Specs ----

pub(super) async fn list_specs(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<PageBody<SpecOut>>> {
    let listing =
        Listing { statuses: Some(SPEC_STATUSES), sort_fields: ALL_FIELDS, spec_filters: true, name: true };
    let query = parse_listing(raw, &listing)?;
    Ok(page_json("specs", "specCount", state.store().list_specs(&tenant, &query)))
}

/// Reads the JSON text in one of create_spec's string fields; `null` (or leaving it out) means
/// none.
fn embedded<T: DeserializeOwned>(field: &str, text: Option<&str>) -> ApiResult<Option<T>> {
    match text.map(str::trim) {
        None | Some("null") | Some("") => Ok(None),
        Some(text) => read_value(field, parse_json(field, text.as_bytes())?).map(Some),
    }
}

pub(super) async fn create_spec(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    JsonBody(body): JsonBody<CreateSpecBody>,
) -> ApiResult<Response> {
    let spec: NewSpec = embedded("spec", Some(&body.spec))?
        .ok_or_else(|| ApiError::bad_request("spec: a spec is required"))?;
    let featured = match &body.featured {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "null" => false,
        Some(Value::String(s)) => boolean("featured", s)?,
        Some(other) => {
            return Err(ApiError::bad_request(format!("featured: {other} is not true or false")));
        }
    };
    let parameters = embedded("parameters", body.parameters.as_deref())?.unwrap_or_default();
    let tenants = embedded("tenants", body.tenants.as_deref())?.unwrap_or_default();
    let scope = body.scope.unwrap_or(Scope::Private);
    let id = state.store().create_spec(&tenant, spec, featured, scope, tenants, parameters)?;
    Ok(created(json!({ "id": id })))
}

pub(super) async fn describe_spec(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Params(spec_id): Params<String>,
) -> ApiResult<Json<SpecOut>> {
    state.store().describe_spec(&tenant, &spec_id).map(Json)
}

pub(super) async fn update_spec_metadata(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Params(spec_id): Params<String>,
    JsonBody(update): JsonBody<SpecUpdate>,
) -> ApiResult<Json<SpecOut>> {
    state.store().update_spec(&tenant, &spec_id, update).map(Json)
}

pub(super) async fn delete_spec(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Params(spec_id): Params<String>,
) -> ApiResult<Json<Value>> {
    state.store().delete_spec(&tenant, &spec_id)?;
    Ok(Json(json!({})))
}

pub(super) async fn create_spec_release(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Params(spec_id): Params<String>,
    JsonBody(release): JsonBody<NewRelease>,
) -> ApiResult<Response> {
    let version = state.store().create_release(&tenant, &spec_id, release)?;
    Ok(created(json!({ "id": spec_id, "release": { "version": version } })))
}

pub(super) async fn describe_spec_release(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Params((spec_id, version)): Params<(String, String)>,
) -> ApiResult<Json<ReleaseOut>> {
    state.store().describe_release(&tenant, &spec_id, &version).map(Json)
}

pub(super) async fn list_spec_releases(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Params(spec_id): Params<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<PageBody<ReleaseOut>>> {
    let listing = Listing { statuses: None, sort_fields: HISTORY_FIELDS, spec_filters: false, name: false };
    let query = parse_listing(raw, &listing)?;
    let page = state.store().list_releases(&tenant, &spec_id, &query)?;
    Ok(page_json("releases", "releaseCount", page))
}

// ---- Deployments ----

pub(super) async fn list_deployments(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<PageBody<DeploymentOut>>> {
    let listing = Listing {
        statuses: Some(DEPLOYMENT_STATUSES),
        sort_fields: ALL_FIELDS,
        spec_filters: false,
        name: true,
    };
    let query = parse_listing(raw, &listing)?;
    Ok(page_json("deployments", "deploymentCount", state.store().list_deployments(&tenant, &query)))
}

pub(super) async fn create_deployment(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    JsonBody(deployment): JsonBody<NewDeployment>,
) -> ApiResult<Response> {
    let id = state.store().create_deployment(&tenant, deployment)?;
    Ok(created(json!({ "id": id })))
}

pub(super) async fn describe_deployment(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Params(deployment_id): Params<String>,
) -> ApiResult<Json<DeploymentOut>> {
    state.store().describe_deployment(&tenant, &deployment_id).map(Json)
}

pub(super) async fn update_deployment_metadata(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Params(deployment_id): Params<String>,
    JsonBody(update): JsonBody<DeploymentMetadataUpdate>,
) -> ApiResult<Json<DeploymentOut>> {
    state.store().update_deployment(&tenant, &deployment_id, update).map(Json)
}

pub(super) async fn delete_deployment(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Params(deployment_id): Params<String>,
) -> ApiResult<Json<Value>> {
    state.store().delete_deployment(&tenant, &deployment_id)?;
    Ok(Json(json!({})))
}

pub(super) async fn redeploy(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Params(deployment_id): Params<String>,
) -> ApiResult<Json<Value>> {
    let (deployment_id, revision, revision_id) = state.store().redeploy(&tenant, &deployment_id)?;
    Ok(Json(json!({ "deploymentId": deployment_id, "revision": revision, "revisionId": revision_id })))
}

pub(super) async fn create_deployment_revision(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Params(deployment_id): Params<String>,
    JsonBody(revision): JsonBody<NewRevision>,
) -> ApiResult<Response> {
    let (id, revision) = state.store().create_revision(&tenant, &deployment_id, revision)?;
    Ok(created(json!({ "id": id, "revision": revision })))
}

pub(super) async fn describe_deployment_revision(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Params((deployment_id, revision)): Params<(String, String)>,
) -> ApiResult<Json<RevisionOut>> {
    let number = positive("revision", &revision)?;
    state.store().describe_revision(&tenant, &deployment_id, number).map(Json)
}

pub(super) async fn list_deployment_revisions(
    State(state): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Params(deployment_id): Params<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<PageBody<RevisionOut>>> {
    let listing = Listing {
        statuses: Some(REVISION_STATUSES),
        sort_fields: HISTORY_FIELDS,
        spec_filters: false,
        name: false,
    };
    let query = parse_listing(raw, &listing)?;
    let page = state.store().list_revisions(&tenant, &deployment_id, &query)?;
    Ok(page_json("revisions", "revisionCount", page))
}

// ---- Outside /v1 ----

/// The tenant-metadata and telemetry routes that the Python SDK calls: answered, ignored.
pub(super) async fn empty_object(_body: Bytes) -> Json<Value> {
    Json(json!({}))
}

pub(super) async fn document(State(state): State<AppState>) -> Json<Value> {
    Json(state.document.clone())
}

pub(super) async fn set_status(
    State(state): State<AppState>,
    Params(deployment_id): Params<String>,
    JsonBody(body): JsonBody<StatusOverride>,
) -> ApiResult<Json<Value>> {
    state.store().set_status(&deployment_id, body.status)?;
    Ok(Json(json!({})))
}

/// `GET /_emulator/state`: the whole state as one document.
pub(super) async fn export_state(State(state): State<AppState>) -> Json<Value> {
    Json(state.export())
}

/// `PUT /_emulator/state`: replaces the whole state with a document, or refuses it whole.
pub(super) async fn import_state(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Value>> {
    state.import(&body).await?;
    Ok(Json(json!({})))
}

/// `POST /_emulator/reset`: forgets everything.
pub(super) async fn reset(State(state): State<AppState>, _body: Bytes) -> ApiResult<Json<Value>> {
    state.reset().await?;
    Ok(Json(json!({})))
}
