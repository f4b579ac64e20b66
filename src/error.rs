//! The one error type of the crate, and how callers and the retry policy reason about it.
//!
//! Every documented status has its own variant, so callers match on what happened rather than on
//! numbers; any other status keeps its code in [`Error::Http`]. All of them carry one payload,
//! [`ServiceError`]: the status, the server's message (or the start of its raw text), the request
//! id and the JSON body as sent. The status is never lost: an empty 404, an HTML page from a proxy
//! and a JSON body of an unexpected shape all keep it. [`Error::kind`] and the `is_*` methods
//! classify an error without a list of numbers; the retry policy decides by them too.
//!
//! How a response becomes an error is the job of the response module, not of this one.

use std::{fmt, time::Duration};

use reqwest::StatusCode;

use crate::{DeploymentStatus, UnsentRequest, types::Deployment};

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An unsuccessful answer of the service: its status, its explanation, its request id and the
/// JSON body as sent.
///
/// Every text in it has the client's token scrubbed out, even when the server echoed it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    status: StatusCode,
    message: String,
    request_id: Option<String>,
    json_body: Option<serde_json::Value>,
}

impl ServiceError {
    pub(crate) fn new(
        status: StatusCode,
        message: String,
        request_id: Option<String>,
        json_body: Option<serde_json::Value>,
    ) -> Self {
        Self { status, message, request_id, json_body }
    }

    /// The HTTP status, as received.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The service's explanation: the JSON body's `message` or `detail`, an HTML page's title,
    /// or the start of the body on one line; the status's reason when the body says nothing.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The request id the service reported, if any.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The whole body as the service sent it, when it was JSON (such as `{"detail": "..."}`),
    /// with the client's token scrubbed from its strings.
    pub fn json_body(&self) -> Option<&serde_json::Value> {
        self.json_body.as_ref()
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// What kind of failure an error is, for a caller deciding what to do next; see [`Error::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The service asked the client to slow down (429).
    Throttling,
    /// A failure that may pass by itself: a connection that failed or was cut, a time limit, a
    /// gateway that could not reach the service (502, 503, 504).
    Transient,
    /// The service failed or answered something the API does not allow: a 500 or another 5xx, an
    /// answer that breaks HTTP or does not decode, a body over the limit, pages that contradict
    /// themselves.
    Server,
    /// The request itself must change: a 4xx other than 429, a value refused before sending, a
    /// configuration that is missing or invalid.
    Client,
    /// A deployment waited on failed, or did not settle in time.
    Wait,
}

/// Which time limit ran out; see [`Error::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeLimit {
    /// Opening the connection took longer than the connect timeout.
    Connect,
    /// One attempt took longer than the per-request timeout.
    Attempt,
    /// The whole call, retries and waits included, took longer than this.
    Call(Duration),
    /// A listing's whole stream took longer than this.
    Listing(Duration),
}

impl fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect => f.write_str("the connection was not opened within the connect timeout"),
            Self::Attempt => f.write_str("the request did not finish within its timeout"),
            Self::Call(limit) => write!(f, "the call did not finish within {limit:?}, retries included"),
            Self::Listing(limit) => write!(f, "the listing did not finish within {limit:?}"),
        }
    }
}

/// Everything that can go wrong when talking to the service.
///
/// Match on the variants for what happened, or ask [`kind`](Error::kind) and the `is_*` methods
/// what to do about it:
///
/// ```
/// use peak_press_apps::{Error, ErrorKind};
///
/// fn explain(error: &Error) -> String {
///     match error {
///         Error::NotFound(answer) => format!("gone: {}", answer.message()),
///         Error::Conflict(answer) => format!("conflict: {}", answer.message()),
///         other if other.kind() == ErrorKind::Throttling || other.is_retryable() => "try later".into(),
///         other => other.to_string(),
///     }
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 400: the request is malformed or a value is invalid.
    #[error("{0}")]
    BadRequest(ServiceError),
    /// 401: the token is missing or invalid.
    #[error("{0}")]
    Unauthorized(ServiceError),
    /// 403: the token does not allow this operation.
    #[error("{0}")]
    Forbidden(ServiceError),
    /// 404: the spec, release, deployment or revision does not exist.
    #[error("{0}")]
    NotFound(ServiceError),
    /// 409: the request conflicts with the current state (a name taken, a version not newer, ...).
    #[error("{0}")]
    Conflict(ServiceError),
    /// 413: the request body is too large.
    #[error("{0}")]
    PayloadTooLarge(ServiceError),
    /// 422: the body is well formed but cannot be processed.
    #[error("{0}")]
    UnprocessableEntity(ServiceError),
    /// 500: the service failed.
    #[error("{0}")]
    InternalServerError(ServiceError),
    /// Any other unsuccessful status, such as 429 or a 502 from a proxy.
    #[error("{0}")]
    Http(ServiceError),
    /// The request did not complete: the connection failed, was refused or was cut.
    #[error("could not complete the request: {}", chain(source))]
    Transport {
        /// What the HTTP stack reported.
        #[source]
        source: reqwest::Error,
    },
    /// The server's answer breaks HTTP itself (a garbled status line, a malformed or oversized
    /// head, a bad chunk) or redirects in a loop. Such an answer is not retried: the same server
    /// would break the same way again.
    #[error("the server's answer is not valid HTTP: {}", chain(source))]
    Protocol {
        /// What the HTTP stack reported.
        #[source]
        source: reqwest::Error,
    },
    /// An attempt, or the whole call with its retries, took longer than its time limit.
    #[error("timed out: {limit}{}", source.as_ref().map(|s| format!(": {}", chain(s))).unwrap_or_default())]
    Timeout {
        /// Which limit ran out.
        limit: TimeLimit,
        /// The HTTP stack's error, when an attempt or a connection timed out.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The service asked, with `Retry-After`, for a wait before the next attempt that is longer
    /// than the client may wait ([`RetryConfig::max_retry_after`](crate::RetryConfig::max_retry_after),
    /// or what is left of the call's deadline), so the call gave up at once.
    #[error(
        "the service asked for a wait of {} before trying again, longer than the {} allowed; it answered: {last}",
        seconds(*requested),
        seconds(*allowed)
    )]
    RetryAfterTooLong {
        /// The wait the service asked for.
        requested: Duration,
        /// The longest wait the client would have made.
        allowed: Duration,
        /// The answer that asked for the wait, such as a 429 or a 503.
        #[source]
        last: Box<Error>,
    },
    /// A deployment waited on settled in a status from which it cannot reach the one waited for,
    /// such as `failed` while waiting for `deployed`; see [`DeploymentWaiter`](crate::DeploymentWaiter).
    #[error("deployment {} is {status}", deployment.id)]
    DeploymentFailed {
        /// The status it settled in.
        status: DeploymentStatus,
        /// The deployment as last described.
        deployment: Box<Deployment>,
    },
    /// A wait for a deployment ran out of time; see [`DeploymentWaiter`](crate::DeploymentWaiter).
    #[error(
        "deployment {deployment_id} did not settle within {waited:?} ({polls} polls; last seen {})",
        last_status.as_ref().map_or("without a status", DeploymentStatus::as_str)
    )]
    WaitTimedOut {
        /// The deployment waited on.
        deployment_id: String,
        /// How long the wait lasted.
        waited: Duration,
        /// How many times the deployment was described.
        polls: u32,
        /// The status it had at the last poll, if it reported one.
        last_status: Option<DeploymentStatus>,
    },
    /// A response body larger than the client's limit; it was refused, not read whole.
    #[error("the response body is larger than the limit of {limit} bytes")]
    ResponseTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The call was retried until the policy or the retry budget allowed no more attempts.
    #[error("gave up after {attempts} attempt(s); the last one got: {last}")]
    RetriesExhausted {
        /// How many attempts were made.
        attempts: u32,
        /// The outcome of the last attempt.
        #[source]
        last: Box<Error>,
    },
    /// A successful response whose body is not what the API documents.
    #[error("the {status} response could not be decoded: {message}")]
    Decode {
        /// The status of the response.
        status: StatusCode,
        /// What did not match, and where.
        message: String,
    },
    /// A listing that does not end as the service's own counts say it should.
    #[error("the listing was stopped: {message}")]
    Pagination {
        /// What the service reported that made the listing stop.
        message: String,
    },
    /// The request was refused before anything was sent: a value breaks a documented rule.
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// Which value, and the rule it breaks.
        message: String,
    },
    /// A client built with [`ClientBuilder::dry_run`](crate::ClientBuilder::dry_run) stopped the
    /// request before the network, as it should: here is what it would have sent.
    #[error("dry run: {} {} was not sent", request.method, request.url)]
    NotSent {
        /// The request as it would have gone out, token redacted.
        request: Box<UnsentRequest>,
    },
    /// The client could not be configured: a variable or setting is missing or invalid.
    #[error("invalid configuration: {message}")]
    Config {
        /// What is missing or invalid.
        message: String,
    },
}

impl Error {
    /// The service's error answer behind this error, if the service answered with an error
    /// status; through [`RetriesExhausted`](Self::RetriesExhausted) and
    /// [`RetryAfterTooLong`](Self::RetryAfterTooLong) to the last answer.
    pub fn service_error(&self) -> Option<&ServiceError> {
        match self {
            Self::BadRequest(answer)
            | Self::Unauthorized(answer)
            | Self::Forbidden(answer)
            | Self::NotFound(answer)
            | Self::Conflict(answer)
            | Self::PayloadTooLarge(answer)
            | Self::UnprocessableEntity(answer)
            | Self::InternalServerError(answer)
            | Self::Http(answer) => Some(answer),
            Self::RetriesExhausted { last, .. } | Self::RetryAfterTooLong { last, .. } => {
                last.service_error()
            }
            _ => None,
        }
    }

    /// The HTTP status of the response that caused this error, if there was a response.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Decode { status, .. } => Some(*status),
            Self::Transport { source } | Self::Protocol { source } => source.status(),
            other => other.service_error().map(ServiceError::status),
        }
    }

    /// The request id the service reported with an error response, if any.
    pub fn request_id(&self) -> Option<&str> {
        self.service_error().and_then(ServiceError::request_id)
    }

    /// What kind of failure this is; see [`ErrorKind`]. An error that ended retries is of the
    /// kind of its last attempt.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Transport { .. } | Self::Timeout { .. } => ErrorKind::Transient,
            Self::Protocol { .. }
            | Self::ResponseTooLarge { .. }
            | Self::Decode { .. }
            | Self::Pagination { .. } => ErrorKind::Server,
            Self::InvalidRequest { .. } | Self::Config { .. } | Self::NotSent { .. } => ErrorKind::Client,
            Self::DeploymentFailed { .. } | Self::WaitTimedOut { .. } => ErrorKind::Wait,
            Self::RetriesExhausted { last, .. } | Self::RetryAfterTooLong { last, .. } => last.kind(),
            other => match other.status().map(|s| s.as_u16()) {
                Some(429) => ErrorKind::Throttling,
                Some(502..=504) => ErrorKind::Transient,
                Some(400..=499) => ErrorKind::Client,
                _ => ErrorKind::Server,
            },
        }
    }

    /// Whether the same request may succeed if sent again: throttling, transient failures and a
    /// 500. The client's retry policy retries exactly these (creates only when they cannot have
    /// been carried out); an error that ended the retries is not retryable any more.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RetriesExhausted { .. } | Self::RetryAfterTooLong { .. } => false,
            Self::InternalServerError(_) => true,
            other => matches!(other.kind(), ErrorKind::Throttling | ErrorKind::Transient),
        }
    }

    /// Whether the service answered 404: the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// Whether the service answered 409: the request conflicts with the current state.
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(StatusCode::CONFLICT)
    }

    /// Whether the service refused the token (401) or what it allows (403).
    pub fn is_auth(&self) -> bool {
        matches!(self.status(), Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN))
    }

    /// Whether a time limit ran out: an attempt's, the call's, a listing's or a waiter's.
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::WaitTimedOut { .. } => true,
            Self::RetriesExhausted { last, .. } => last.is_timeout(),
            _ => false,
        }
    }

    /// Builds the error for an unsuccessful answer.
    pub(crate) fn from_service(answer: ServiceError) -> Self {
        match answer.status.as_u16() {
            400 => Self::BadRequest(answer),
            401 => Self::Unauthorized(answer),
            403 => Self::Forbidden(answer),
            404 => Self::NotFound(answer),
            409 => Self::Conflict(answer),
            413 => Self::PayloadTooLarge(answer),
            422 => Self::UnprocessableEntity(answer),
            500 => Self::InternalServerError(answer),
            _ => Self::Http(answer),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidRequest { message: message.into() }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Config { message: message.into() }
    }
}

/// An error and its causes on one line, so that "connection refused" is not hidden behind
/// "error sending request".
pub(crate) fn chain(error: &dyn std::error::Error) -> impl fmt::Display + '_ {
    struct Chain<'a>(&'a dyn std::error::Error);
    impl fmt::Display for Chain<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}", self.0)?;
            let mut cause = self.0.source();
            while let Some(error) = cause {
                write!(f, ": {error}")?;
                cause = error.source();
            }
            Ok(())
        }
    }
    Chain(error)
}

/// A wait in whole seconds when it is long, as a person would read it.
fn seconds(wait: Duration) -> String {
    if wait >= Duration::from_secs(1) { format!("{} s", wait.as_secs()) } else { format!("{wait:?}") }
}
