//! Paths to handlers. What every request goes through on the way is in `middleware` (a size
//! limit, the request log, a log line, auth and injected faults on `/v1`); `extract` parses bodies and path
//! parameters and `query` the listings' queries, with errors that name the field; `handlers`
//! turns each operation into a call of the store.

mod extract;
mod handlers;
mod middleware;
mod query;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    middleware::from_fn_with_state,
    response::IntoResponse,
    routing::{get, post},
};
use tower_http::catch_panic::CatchPanicLayer;

use crate::{error::ApiError, state::AppState};
use handlers::*;
use middleware::{authorize, inject, limit_body, log_request, no_method, no_route, record, wait_for_commit};

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
        .route_layer(from_fn_with_state(state.clone(), inject))
        .route_layer(from_fn_with_state(state.clone(), authorize))
        .route_layer(from_fn_with_state(state.clone(), record));

    Router::new()
        .merge(api)
        .route("/tenant-management/api/v1/external/tenants/tenant-metadata", get(empty_object))
        .route("/resource-usage/api/v1/telemetry", post(empty_object))
        .route("/openapi.json", get(document))
        .route("/_emulator/deployments/{deployment_id}/status", post(set_status))
        .route(
            "/_emulator/state",
            get(export_state).put(import_state).layer(DefaultBodyLimit::max(middleware::STATE_LIMIT)),
        )
        .route("/_emulator/reset", post(reset))
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .layer(from_fn_with_state(state.clone(), limit_body))
        .layer(axum::middleware::from_fn(log_request))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("the emulator failed while handling this request").into_response()
        }))
        // Outermost, so that even an answer to a panic waits for what was written before it.
        .layer(from_fn_with_state(state.clone(), wait_for_commit))
        .with_state(state)
}
