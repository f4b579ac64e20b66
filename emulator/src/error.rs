//! Errors as the service reports them (a status and a JSON body whose `detail` says what was
//! wrong), and the errors of the emulator's own Rust API.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
}

impl ApiError {
    fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self { status, detail: detail.into() }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, detail)
    }

    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }

    pub fn too_many_requests(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "detail": self.detail }))).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Why the emulator refused a change asked through its Rust API (or its control routes); in
/// every case nothing changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The document is not a state document this emulator reads (malformed, another format or
    /// version), or its records break the service's rules; every reason, joined.
    InvalidState(String),
    /// The database file (see [`EmulatorBuilder::data`](crate::EmulatorBuilder::data)) refused the
    /// change.
    Storage(String),
    /// No deployment has this id.
    NoSuchDeployment(String),
}

impl std::fmt::Display for EmulatorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidState(why) => write!(f, "the state document is refused: {why}"),
            Self::Storage(why) => write!(f, "the database file refused the change: {why}"),
            Self::NoSuchDeployment(id) => write!(f, "app deployment {id:?} does not exist"),
        }
    }
}

impl std::error::Error for EmulatorError {}

impl From<EmulatorError> for ApiError {
    fn from(error: EmulatorError) -> Self {
        match &error {
            EmulatorError::InvalidState(_) => ApiError::bad_request(error.to_string()),
            EmulatorError::Storage(_) => ApiError::internal(error.to_string()),
            EmulatorError::NoSuchDeployment(_) => ApiError::not_found(error.to_string()),
        }
    }
}
