//! Extractors for bodies and path parameters, with errors that name what was wrong.

use axum::{
    extract::{FromRequest, FromRequestParts, Path, Request},
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::middleware::too_large;
use crate::{
    error::{ApiError, ApiResult},
    state::AppState,
};

/// A JSON body parsed into `T`; errors name the field by its path.
pub(super) struct JsonBody<T>(pub T);

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
pub(super) fn parse_json(what: &str, bytes: &[u8]) -> ApiResult<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(format!("{what} is empty; JSON is required")));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("{what} is not valid JSON: {e}")))
}

/// Reads a parsed value into `T`; errors name the field by its path under `what`.
pub(super) fn read_value<T: DeserializeOwned>(what: &str, value: Value) -> ApiResult<T> {
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
pub(super) struct Params<T>(pub T);

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
