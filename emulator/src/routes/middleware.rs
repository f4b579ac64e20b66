//! What every request goes through: the request log, a log line, a size limit, auth and
//! injected faults on `/v1`, and the answers for unknown paths and methods.

use std::time::Instant;

use axum::{
    Json,
    extract::{Request, State},
    http::{Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use serde_json::json;

use crate::{
    error::ApiError,
    faults::{self, Injector},
    state::{AppState, ReceivedRequest},
    sync::lock,
};

/// Notes each request on `/v1` in the request log, body included, before anything else sees it.
pub(super) async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
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

/// Answers only once every change the request wrote or could see is in the database file (with
/// `--data`); a change the file refused turns the answer into a 500, the change undone.
pub(super) async fn wait_for_commit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(journal) = &state.journal else { return next.run(request).await };
    match journal.committed(next.run(request)).await {
        Ok(response) => response,
        Err(why) => {
            tracing::error!("a write was not committed: {why}");
            ApiError::internal("the database file could not be written; the change was not made")
                .into_response()
        }
    }
}

pub(super) async fn log_request(request: Request, next: Next) -> Response {
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
pub(super) async fn limit_body(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // A state document is as large as the state: the limit is the API's, not the control routes'.
    let control = request.uri().path().starts_with("/_emulator/");
    let limit = if control { STATE_LIMIT } else { state.body_limit };
    if declared.is_some_and(|length| length > limit as u64) {
        if control {
            let why = format!("the request body is larger than the control routes' limit of {limit} bytes");
            return ApiError::too_large(why).into_response();
        }
        return too_large(limit).into_response();
    }
    next.run(request).await
}

/// The largest body of a control route, such as a state document: 1 GiB.
pub(super) const STATE_LIMIT: usize = 1 << 30;

pub(super) fn too_large(limit: usize) -> ApiError {
    ApiError::too_large(format!("the request body is larger than the limit of {limit} bytes"))
}

pub(super) async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default();
    if token.is_empty() {
        return ApiError::unauthorized("the Authorization header is missing or empty").into_response();
    }
    let Some((tenant, read_only)) = state.access.admit(token) else {
        return ApiError::unauthorized("the token is not valid").into_response();
    };
    if read_only && !matches!(*request.method(), Method::GET | Method::HEAD) {
        return ApiError::forbidden("this token may only read").into_response();
    }
    let mut request = request;
    request.extensions_mut().insert(tenant);
    next.run(request).await
}

/// Adds the latency and the fault of this answer, scripted or drawn, if there is one.
pub(super) async fn inject(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let scripted = state.scripted_fault(request.method().as_str(), request.uri().path());
    let decision = Injector::decide(lock(&state.faults).as_mut(), scripted);
    let Some(decision) = decision else { return next.run(request).await };
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    match decision.fault {
        Some(fault) => faults::strike(fault, decision.retry_after_seconds, request, next).await,
        None => next.run(request).await,
    }
}

pub(super) async fn no_route(request: Request) -> ApiError {
    ApiError::not_found(format!("there is no route for {} {}", request.method(), request.uri().path()))
}

pub(super) async fn no_method(request: Request) -> Response {
    let detail = format!("{} is not allowed on {}", request.method(), request.uri().path());
    (StatusCode::METHOD_NOT_ALLOWED, Json(json!({ "detail": detail }))).into_response()
}
