//! Paths to handlers, and what every request goes through on the way: a size limit, a log
//! line, auth on `/v1`, strict parsing of bodies and queries with errors that name the field.

use std::time::Instant;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, RawQuery, Request, State},
    http::{Method, StatusCode, header, request::Parts},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};
use tower_http::catch_panic::CatchPanicLayer;

use crate::{
    error::{ApiError, ApiResult},
    faults,
    model::*,
    orders::SortField,
    state::{AppState, ReceivedRequest},
    store::{ListQuery, Page},
};

pub(crate) fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/v1/apps/specs/", get(list_specs).post(create_spec))
        .route("/v1/apps/specs/{spec_id}", get(describe_spec).patch(update_spec_metadata).delete(delete_spec))
        .route("/v1/apps/specs/{spec_id}/releases", get(list_spec_releases).post(create_spec_release))
        .route("/v1/apps/specs/{spec_id}/releases/{version}", get(describe_spec_release))
        .route("/v1/apps/deployments/", get(list_deployments).post(create_deployment))
        .route(
            "/v1/apps/deployments/{deployment_id}",
            get(describe_deployment).patch(update_deployment_metadata).delete(delete_deployment),
        )
        .route("/v1/apps/deployments/{deployment_id}/redeploy", post(redeploy))
        .route(
            "/v1/apps/deployments/{deployment_id}/revisions",
            get(list_deployment_revisions).post(create_deployment_revision),
        )
        .route("/v1/apps/deployments/{deployment_id}/revisions/{revision}", get(describe_deployment_revision))
        .route_layer(middleware::from_fn_with_state(state.clone(), faults::inject))
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize))
        .route_layer(middleware::from_fn_with_state(state.clone(), record));

    Router::new()
        .merge(api)
        .route("/tenant-management/api/v1/external/tenants/tenant-metadata", get(empty_object))
        .route("/resource-usage/api/v1/telemetry", post(empty_object))
        .route("/openapi.json", get(document))
        .route("/_emulator/deployments/{deployment_id}/status", post(set_status))
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .layer(middleware::from_fn_with_state(state.clone(), limit_body))
        .layer(middleware::from_fn(log_request))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("the emulator failed while handling this request").into_response()
        }))
        .with_state(state)
}

// ---- What every request goes through ----

/// Notes each request on `/v1` in the request log, body included, before anything else sees it.
async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, state.body_limit).await {
        Ok(body) => body,
        Err(_) => return too_large(state.body_limit).into_response(),
    };
    state.record(ReceivedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        body: body.to_vec(),
    });
    next.run(Request::from_parts(parts, axum::body::Body::from(body))).await
}

async fn log_request(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        target: "press_apps_emulator",
        "{method} {path} -> {} in {:.1} ms",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// Refuses a declared body over the limit before anything reads it; bodies without a declared
/// length are held to the limit while they are read.
async fn limit_body(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > state.body_limit as u64) {
        return too_large(state.body_limit).into_response();
    }
    next.run(request).await
}

fn too_large(limit: usize) -> ApiError {
    ApiError::too_large(format!("the request body is larger than the limit of {limit} bytes"))
}

async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default();
    if token.is_empty() {
        return ApiError::unauthorized("the Authorization header is missing or empty").into_response();
    }
    let access = &state.access;
    let restricted = !access.full.is_empty() || !access.read_only.is_empty();
    let full = !restricted || access.full.iter().any(|t| t == token);
    let read_only = access.read_only.iter().any(|t| t == token);
    let reading = matches!(*request.method(), Method::GET | Method::HEAD);
    if full || (read_only && reading) {
        next.run(request).await
    } else if read_only {
        ApiError::forbidden("this token may only read").into_response()
    } else {
        ApiError::unauthorized("the token is not valid").into_response()
    }
}

async fn no_route(request: Request) -> ApiError {
    ApiError::not_found(format!("there is no route for {} {}", request.method(), request.uri().path()))
}

async fn no_method(request: Request) -> Response {
    let detail = format!("{} is not allowed on {}", request.method(), request.uri().path());
    (StatusCode::METHOD_NOT_ALLOWED, Json(json!({ "detail": detail }))).into_response()
}

// ---- Extractors with errors that name what was wrong ----

/// A JSON body parsed into `T`; errors name the field by its path.
struct JsonBody<T>(T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> ApiResult<Self> {
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if content_type.is_some_and(|ct| !ct.to_ascii_lowercase().contains("json")) {
            return Err(ApiError::bad_request(
                "the body must be JSON, sent as Content-Type: application/json",
            ));
        }
        let bytes = axum::body::to_bytes(request.into_body(), state.body_limit)
            .await
            .map_err(|_| too_large(state.body_limit))?;
        let value = parse_json("the body", &bytes)?;
        if !value.is_object() {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        read_value("the body", value).map(JsonBody)
    }
}

/// Parses JSON text; `what` names it in errors ("the body", or a field that carries JSON text).
fn parse_json(what: &str, bytes: &[u8]) -> ApiResult<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(format!("{what} is empty; JSON is required")));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("{what} is not valid JSON: {e}")))
}

/// Reads a parsed value into `T`; errors name the field by its path under `what`.
fn read_value<T: DeserializeOwned>(what: &str, value: Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let field = match (what, path.as_str()) {
            (_, ".") => what.to_owned(),
            ("the body", _) => path,
            _ => format!("{what}.{path}"),
        };
        ApiError::bad_request(format!("{field}: {}", error.into_inner()))
    })
}

/// Path parameters, with a JSON error when they cannot be read.
struct Params<T>(T);

impl<T, S> FromRequestParts<S> for Params<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Params(value))
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
    }
}

/// The statuses a listing filters on: how to read one, and what is allowed.
struct StatusFilter {
    parse: fn(&str) -> Option<&'static str>,
    expected: fn() -> String,
}

const SPEC_STATUSES: StatusFilter =
    StatusFilter { parse: |t| SpecStatus::parse(t).map(SpecStatus::as_str), expected: SpecStatus::expected };
const DEPLOYMENT_STATUSES: StatusFilter = StatusFilter {
    parse: |t| DeploymentStatus::parse(t).map(DeploymentStatus::as_str),
    expected: DeploymentStatus::expected,
};
const REVISION_STATUSES: StatusFilter = StatusFilter {
    parse: |t| RevisionStatus::parse(t).map(RevisionStatus::as_str),
    expected: RevisionStatus::expected,
};

/// The query parameters a listing accepts.
struct Listing {
    statuses: Option<StatusFilter>,
    sort_fields: &'static [(&'static str, SortField)],
    spec_filters: bool,
    name: bool,
}

const ALL_FIELDS: &[(&str, SortField)] = &[
    ("createdAt", SortField::CreatedAt),
    ("createdBy", SortField::CreatedBy),
    ("name", SortField::Name),
    ("title", SortField::Title),
];
const HISTORY_FIELDS: &[(&str, SortField)] =
    &[("createdAt", SortField::CreatedAt), ("createdBy", SortField::CreatedBy)];

fn parse_listing(raw: Option<String>, listing: &Listing) -> ApiResult<ListQuery> {
    let mut query = ListQuery { page_size: 25, page_number: 1, ..ListQuery::default() };
    let raw = raw.unwrap_or_default();
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        match key.as_ref() {
            "pageSize" => {
                query.page_size = positive("pageSize", &value)?;
                if query.page_size > 1000 {
                    return Err(ApiError::bad_request(format!(
                        "pageSize {value} is over the maximum of 1000"
                    )));
                }
            }
            "pageNumber" => query.page_number = positive("pageNumber", &value)?,
            "sort" => {
                for key in listed(&value) {
                    query.sort.push(sort_key(key, listing.sort_fields)?);
                }
            }
            // Filters take repeated keys and comma-joined values alike, as the official CLI sends.
            "status" => {
                if let Some(filter) = &listing.statuses {
                    for value in listed(&value) {
                        let status = (filter.parse)(value).ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "status: {value:?} is not one of {}",
                                (filter.expected)()
                            ))
                        })?;
                        query.statuses.push(status);
                    }
                }
            }
            "scope" if listing.spec_filters => {
                for value in listed(&value) {
                    let scope = Scope::parse(value).ok_or_else(|| {
                        ApiError::bad_request(format!("scope: {value:?} is not one of {}", Scope::expected()))
                    })?;
                    query.scopes.push(scope);
                }
            }
            "featured" if listing.spec_filters => query.featured = Some(boolean("featured", &value)?),
            "title" if listing.spec_filters => query.title = Some(value.into_owned()),
            "name" if listing.name => query.name = Some(value.into_owned()),
            _ => {}
        }
    }
    Ok(query)
}

/// The values of a query value that may join several with commas.
fn listed(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|v| !v.is_empty())
}

fn positive(name: &str, value: &str) -> ApiResult<u64> {
    match value.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(ApiError::bad_request(format!("{name}: {value:?} is not a whole number of at least 1"))),
    }
}

/// Booleans as the Python SDK sends them (`True`) or as JSON spells them (`true`).
fn boolean(name: &str, value: &str) -> ApiResult<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::bad_request(format!("{name}: {value:?} is not true or false"))),
    }
}

fn sort_key(key: &str, fields: &[(&str, SortField)]) -> ApiResult<(SortField, bool)> {
    let (field, direction) = key.split_once(':').unwrap_or((key, "asc"));
    let descending = match direction {
        "asc" => false,
        "desc" => true,
        _ => {
            return Err(ApiError::bad_request(format!("sort: {key:?} must end in :asc or :desc")));
        }
    };
    let field = fields.iter().find(|(name, _)| *name == field).map(|(_, f)| *f).ok_or_else(|| {
        let names: Vec<_> = fields.iter().map(|(n, _)| *n).collect();
        ApiError::bad_request(format!("sort: {field:?} is not one of {}", names.join(", ")))
    })?;
    Ok((field, descending))
}

/// A page as the service answers it: the items under `items_key`, their total under
/// `count_key`, and the page counts. Serialized directly, without an intermediate JSON tree.
struct PageBody<T> {
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

async fn list_specs(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<PageBody<SpecOut>>> {
    let listing =
        Listing { statuses: Some(SPEC_STATUSES), sort_fields: ALL_FIELDS, spec_filters: true, name: true };
    let query = parse_listing(raw, &listing)?;
    Ok(page_json("specs", "specCount", state.store().list_specs(&query)))
}

/// Reads the JSON text in one of create_spec's string fields; `null` (or leaving it out) means
/// none.
fn embedded<T: DeserializeOwned>(field: &str, text: Option<&str>) -> ApiResult<Option<T>> {
    match text.map(str::trim) {
        None | Some("null") | Some("") => Ok(None),
        Some(text) => read_value(field, parse_json(field, text.as_bytes())?).map(Some),
    }
}

async fn create_spec(
    State(state): State<AppState>,
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
    let id = state.store().create_spec(spec, featured, scope, tenants, parameters)?;
    Ok(created(json!({ "id": id })))
}

async fn describe_spec(
    State(state): State<AppState>,
    Params(spec_id): Params<String>,
) -> ApiResult<Json<SpecOut>> {
    state.store().describe_spec(&spec_id).map(Json)
}

async fn update_spec_metadata(
    State(state): State<AppState>,
    Params(spec_id): Params<String>,
    JsonBody(update): JsonBody<SpecUpdate>,
) -> ApiResult<Json<SpecOut>> {
    state.store().update_spec(&spec_id, update).map(Json)
}

async fn delete_spec(
    State(state): State<AppState>,
    Params(spec_id): Params<String>,
) -> ApiResult<Json<Value>> {
    state.store().delete_spec(&spec_id)?;
    Ok(Json(json!({})))
}

async fn create_spec_release(
    State(state): State<AppState>,
    Params(spec_id): Params<String>,
    JsonBody(release): JsonBody<NewRelease>,
) -> ApiResult<Response> {
    let version = state.store().create_release(&spec_id, release)?;
    Ok(created(json!({ "id": spec_id, "release": { "version": version } })))
}

async fn describe_spec_release(
    State(state): State<AppState>,
    Params((spec_id, version)): Params<(String, String)>,
) -> ApiResult<Json<ReleaseOut>> {
    state.store().describe_release(&spec_id, &version).map(Json)
}

async fn list_spec_releases(
    State(state): State<AppState>,
    Params(spec_id): Params<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<PageBody<ReleaseOut>>> {
    let listing = Listing { statuses: None, sort_fields: HISTORY_FIELDS, spec_filters: false, name: false };
    let query = parse_listing(raw, &listing)?;
    let page = state.store().list_releases(&spec_id, &query)?;
    Ok(page_json("releases", "releaseCount", page))
}

// ---- Deployments ----

async fn list_deployments(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<PageBody<DeploymentOut>>> {
    let listing = Listing {
        statuses: Some(DEPLOYMENT_STATUSES),
        sort_fields: ALL_FIELDS,
        spec_filters: false,
        name: true,
    };
    let query = parse_listing(raw, &listing)?;
    Ok(page_json("deployments", "deploymentCount", state.store().list_deployments(&query)))
}

async fn create_deployment(
    State(state): State<AppState>,
    JsonBody(deployment): JsonBody<NewDeployment>,
) -> ApiResult<Response> {
    let id = state.store().create_deployment(deployment)?;
    Ok(created(json!({ "id": id })))
}

async fn describe_deployment(
    State(state): State<AppState>,
    Params(deployment_id): Params<String>,
) -> ApiResult<Json<DeploymentOut>> {
    state.store().describe_deployment(&deployment_id).map(Json)
}

async fn update_deployment_metadata(
    State(state): State<AppState>,
    Params(deployment_id): Params<String>,
    JsonBody(update): JsonBody<DeploymentMetadataUpdate>,
) -> ApiResult<Json<DeploymentOut>> {
    state.store().update_deployment(&deployment_id, update).map(Json)
}

async fn delete_deployment(
    State(state): State<AppState>,
    Params(deployment_id): Params<String>,
) -> ApiResult<Json<Value>> {
    state.store().delete_deployment(&deployment_id)?;
    Ok(Json(json!({})))
}

async fn redeploy(
    State(state): State<AppState>,
    Params(deployment_id): Params<String>,
) -> ApiResult<Json<Value>> {
    let (deployment_id, revision, revision_id) = state.store().redeploy(&deployment_id)?;
    Ok(Json(json!({ "deploymentId": deployment_id, "revision": revision, "revisionId": revision_id })))
}

async fn create_deployment_revision(
    State(state): State<AppState>,
    Params(deployment_id): Params<String>,
    JsonBody(revision): JsonBody<NewRevision>,
) -> ApiResult<Response> {
    let (id, revision) = state.store().create_revision(&deployment_id, revision)?;
    Ok(created(json!({ "id": id, "revision": revision })))
}

async fn describe_deployment_revision(
    State(state): State<AppState>,
    Params((deployment_id, revision)): Params<(String, String)>,
) -> ApiResult<Json<RevisionOut>> {
    let number = positive("revision", &revision)?;
    state.store().describe_revision(&deployment_id, number).map(Json)
}

async fn list_deployment_revisions(
    State(state): State<AppState>,
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
    let page = state.store().list_revisions(&deployment_id, &query)?;
    Ok(page_json("revisions", "revisionCount", page))
}

// ---- Outside /v1 ----

/// The tenant-metadata and telemetry routes that the Python SDK calls: answered, ignored.
async fn empty_object(_body: Bytes) -> Json<Value> {
    Json(json!({}))
}

async fn document(State(state): State<AppState>) -> Json<Value> {
    Json(state.document.clone())
}

async fn set_status(
    State(state): State<AppState>,
    Params(deployment_id): Params<String>,
    JsonBody(body): JsonBody<StatusOverride>,
) -> ApiResult<Json<Value>> {
    state.store().set_status(&deployment_id, body.status)?;
    Ok(Json(json!({})))
}
