//! The one error type of the crate, and the one place where a failure is classified.
//!
//! Every documented status has its own variant, so callers match on what happened rather than on
//! numbers; any other status keeps its code in [`Error::Http`]. All of them carry one payload,
//! [`ServiceError`]: the status, the server's message (or the start of its raw text), the request
//! id, the JSON body as sent and the request it answered. The status is never lost: an empty 404,
//! an HTML page from a proxy and a JSON body of an unexpected shape all keep it.
//!
//! Two questions about a failure are answered here and nowhere else, from how far the request
//! got ([`Reach`]) and whether it was a write:
//! - [`Error::may_have_been_applied`]: may the service have carried the request out?
//! - [`Error::is_retryable`]: is sending the same request again safe, and may it succeed?
//!
//! The retry policy, the transport's handling of deletes, the engine's read-back after an
//! ambiguous write and the CLI's exit codes all ask these methods.
//!
//! How a response becomes an error is the job of the response module, not of this one.

use std::{fmt, time::Duration};

use http::{Method, StatusCode};

use crate::{DeploymentStatus, UnsentRequest, types::Deployment};

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The request an error is about: its method and, when known, its URL.
///
/// The URL carries no token (the token travels in a header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    // Boxed: every error of an attempt carries one, and `Error` stays small.
    seen: Box<(Method, Option<String>)>,
}

impl RequestInfo {
    pub(crate) fn new(method: Method, url: Option<String>) -> Self {
        Self { seen: Box::new((method, url)) }
    }

    /// A request of which nothing was seen: taken for a create, the case that assumes least.
    pub(crate) fn unseen() -> Self {
        Self::new(Method::POST, None)
    }

    pub(crate) fn with_url(mut self, url: &str) -> Self {
        self.seen.1 = Some(url.to_owned());
        self
    }

    fn method_of(&self) -> &Method {
        &self.seen.0
    }

    /// The method, such as `POST`.
    pub fn method(&self) -> &str {
        self.seen.0.as_str()
    }

    /// The whole URL, query included, when the failure happened after it was built.
    pub fn url(&self) -> Option<&str> {
        self.seen.1.as_deref()
    }

    /// Whether the request changes something on the service: a create, an update, a delete, a
    /// redeploy. Reads (`GET`) are not writes.
    pub fn is_write(&self) -> bool {
        !matches!(*self.method_of(), Method::GET | Method::HEAD | Method::OPTIONS)
    }

    /// Whether sending the request twice has the effect of sending it once. Reads, deletes and
    /// this API's updates (a `PATCH` merges the fields it is given) are; a `POST` creates a spec,
    /// a release, a deployment or a revision, or starts a redeploy, each time it is carried out.
    pub fn is_idempotent(&self) -> bool {
        *self.method_of() != Method::POST
    }
}

/// An unsuccessful answer of the service: its status, its explanation, its request id, the JSON
/// body as sent, and the request it answered.
///
/// Every text in it has the client's token scrubbed out, even when the server echoed it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    status: StatusCode,
    message: String,
    request_id: Option<String>,
    json_body: Option<serde_json::Value>,
    request: RequestInfo,
}

impl ServiceError {
    pub(crate) fn new(
        status: StatusCode,
        message: String,
        request_id: Option<String>,
        json_body: Option<serde_json::Value>,
        request: RequestInfo,
    ) -> Self {
        Self { status, message, request_id, json_body, request }
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

    /// The request this answers.
    pub fn request(&self) -> &RequestInfo {
        &self.request
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

/// A request that got no usable answer: the connection could not be opened or was cut, or what
/// came back breaks HTTP. The HTTP stack's own error is its [`source`](std::error::Error::source),
/// so that this crate's API does not change with the HTTP stack's.
#[derive(Debug)]
pub struct TransportError {
    request: RequestInfo,
    connected: bool,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl TransportError {
    pub(crate) fn new(
        request: RequestInfo,
        connected: bool,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self { request, connected, source: Box::new(source) }
    }

    /// The request that failed.
    pub fn request(&self) -> &RequestInfo {
        &self.request
    }

    /// Whether a connection to the server was opened. When it was not (refused, no route, a
    /// name that does not resolve, a TLS handshake refused), nothing of the request reached the
    /// server.
    pub fn connected(&self) -> bool {
        self.connected
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", chain(self.source.as_ref()))
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// What kind of failure an error is, for a caller deciding what to do next; see [`Error::kind`].
///
/// ```
/// use std::time::Duration;
/// use peak_press_apps::{Error, ErrorKind};
///
/// /// What a service does with a failed call.
/// fn next_step(error: &Error) -> &'static str {
///     match error.kind() {
///         _ if error.may_have_been_applied() => "read back before writing again",
///         ErrorKind::Throttled | ErrorKind::ServiceUnavailable if error.is_retryable() => "try again later",
///         ErrorKind::Network | ErrorKind::Timeout if error.is_retryable() => "try again",
///         ErrorKind::ClientError => "fix the request",
///         ErrorKind::Config => "fix the configuration",
///         _ => "report it",
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The service asked the client to slow down: 429.
    Throttled,
    /// A gateway or the service said it could not serve the request now: 502, 503, 504.
    ServiceUnavailable,
    /// The connection could not be opened, or was cut before the answer was read.
    Network,
    /// A time limit ran out: connecting, one attempt, or the whole call or listing.
    Timeout,
    /// The service failed: 500, or another 5xx.
    ServerError,
    /// The service refused the request as it is: a 4xx other than 429.
    ClientError,
    /// The answer is not what the API allows: it breaks HTTP, does not decode, is larger than the
    /// limit, or a listing's pages contradict each other.
    InvalidResponse,
    /// A value breaks a documented rule and the request was not sent.
    InvalidRequest,
    /// The client could not be configured: a variable or setting is missing or invalid.
    Config,
    /// A client built with [`ClientBuilder::dry_run`](crate::ClientBuilder::dry_run) stopped the
    /// request before the network, as asked.
    NotSent,
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
/// Match on the variants for what happened, or on [`kind`](Error::kind) for what to do about it;
/// [`may_have_been_applied`](Error::may_have_been_applied) and
/// [`is_retryable`](Error::is_retryable) say whether a write may have taken effect and whether
/// sending it again is safe. All of them, [`status`](Error::status) and
/// [`service_error`](Error::service_error) look through [`RetriesExhausted`](Error::RetriesExhausted):
///
/// ```
/// use peak_press_apps::{Error, ErrorKind};
///
/// fn explain(error: &Error) -> String {
///     match error {
///         Error::NotFound(answer) => format!("gone: {}", answer.message()),
///         Error::Conflict(answer) => format!("conflict: {}", answer.message()),
///         other if other.may_have_been_applied() => format!("may have happened: {other}"),
///         other if other.kind() == ErrorKind::Throttled || other.is_retryable() => "try later".into(),
///         other => other.to_string(),
///     }
/// }
/// ```
///
/// # May it have happened?
///
/// One classification answers this for every failure; the retry policy, the engine behind
/// `press-apps apply` and the CLI's exit codes all use it. For a write (create, update, delete,
/// redeploy):
///
/// | what happened | [`kind`](Error::kind) | [`may_have_been_applied`](Error::may_have_been_applied) | [`is_retryable`](Error::is_retryable) |
/// |---|---|---|---|
/// | the connection was never opened | `Network` | no | yes |
/// | 429 | `Throttled` | no | yes |
/// | 503 (refused before any work) | `ServiceUnavailable` | no | yes |
/// | 500 | `ServerError` | yes | only if idempotent |
/// | 502, 504 | `ServiceUnavailable` | yes | only if idempotent |
/// | the connection was cut, or the answer's body stopped halfway | `Network` | yes | only if idempotent |
/// | the answer did not come within the attempt's or the call's time limit | `Timeout` | yes | only if idempotent |
/// | another 4xx (400, 404, 409, 422, ...) | `ClientError` | no | no |
/// | a value refused before sending, a dry run | `InvalidRequest`, `NotSent` | no | no |
/// | a success whose body does not decode or is too large | `InvalidResponse` | yes | no |
///
/// Idempotent writes are deletes and metadata updates: sending them twice has the effect of
/// sending them once. Creates and redeploys are not. A read is never applied, and is retryable in
/// every row where a write is retryable at all. Each row has its test in `tests/classification.rs`.
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
    /// [`TransportError::connected`] tells whether anything can have reached the server.
    #[error("could not complete the request: {0}")]
    Network(#[source] TransportError),
    /// The server's answer breaks HTTP itself (a garbled status line, a malformed or oversized
    /// head, a bad chunk) or redirects in a loop. Such an answer is not retried: the same server
    /// would break the same way again.
    #[error("the server's answer is not valid HTTP: {0}")]
    Protocol(#[source] TransportError),
    /// An attempt, or the whole call with its retries, took longer than its time limit.
    #[error("timed out: {limit}{}", source.as_ref().map(|s| format!(": {s}")).unwrap_or_default())]
    Timeout {
        /// Which limit ran out.
        limit: TimeLimit,
        /// The request that was under way, when the limit was a call's or an attempt's.
        request: Option<RequestInfo>,
        /// What the HTTP stack reported, when an attempt or a connection timed out.
        #[source]
        source: Option<TransportError>,
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
        /// The request whose answer it was.
        request: RequestInfo,
    },
    /// The call was retried until the policy or the retry budget allowed no more attempts.
    #[error("gave up after {attempts} attempt(s); the last one got: {last}")]
    RetriesExhausted {
        /// How many attempts were made.
        attempts: u32,
        /// Whether an attempt before the last may have been carried out (a 500 or a cut
        /// connection on a delete, say), whatever the last one got.
        earlier_may_have_been_applied: bool,
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
        /// The request whose answer it was.
        request: RequestInfo,
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

/// How far a failed request got: the one fact, with the method, behind
/// [`Error::may_have_been_applied`] and [`Error::is_retryable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Nothing was sent: refused by the client itself, or no connection was opened.
    NotSent,
    /// The service answered that it did not carry the request out: a 4xx, or 503 (which this
    /// service sends before doing any work).
    Refused,
    /// The request was sent and its outcome is unknown: a 500, 502 or 504, a connection cut, a
    /// time limit reached while waiting for the answer, an answer that breaks HTTP.
    Unknown,
    /// The service answered with success, but the answer could not be used.
    Answered,
    /// Not one request: a listing or a wait.
    NotARequest,
}

impl Error {
    /// How far the request got, and which request it was (for the last attempt, when retried).
    fn reach(&self) -> (Reach, Option<&RequestInfo>) {
        match self {
            Self::BadRequest(answer)
            | Self::Unauthorized(answer)
            | Self::Forbidden(answer)
            | Self::NotFound(answer)
            | Self::Conflict(answer)
            | Self::PayloadTooLarge(answer)
            | Self::UnprocessableEntity(answer)
            | Self::InternalServerError(answer)
            | Self::Http(answer) => {
                let reach = match answer.status.as_u16() {
                    400..=499 | 503 => Reach::Refused,
                    _ => Reach::Unknown,
                };
                (reach, Some(&answer.request))
            }
            Self::Network(failure) => {
                (if failure.connected { Reach::Unknown } else { Reach::NotSent }, Some(&failure.request))
            }
            Self::Protocol(failure) => (Reach::Unknown, Some(&failure.request)),
            Self::Timeout { limit: TimeLimit::Listing(_), .. } => (Reach::NotARequest, None),
            Self::Timeout { limit: TimeLimit::Connect, request, .. } => (Reach::NotSent, request.as_ref()),
            Self::Timeout { request, .. } => (Reach::Unknown, request.as_ref()),
            Self::ResponseTooLarge { request, .. } | Self::Decode { request, .. } => {
                (Reach::Answered, Some(request))
            }
            Self::RetriesExhausted { last, .. } | Self::RetryAfterTooLong { last, .. } => last.reach(),
            Self::InvalidRequest { .. } | Self::NotSent { .. } | Self::Config { .. } => {
                (Reach::NotSent, None)
            }
            Self::Pagination { .. } | Self::DeploymentFailed { .. } | Self::WaitTimedOut { .. } => {
                (Reach::NotARequest, None)
            }
        }
    }

    /// Whether the request was a write that may have taken effect although the call failed: a
    /// 500, 502 or 504, a connection cut or a time limit reached after the request was sent, a
    /// successful answer that could not be read, on any attempt of the call.
    ///
    /// False when the write certainly was not carried out (the connection was never opened, a
    /// 429, a 503, any other 4xx, a value refused before sending, a dry run), and for reads.
    /// After a failed create for which this is true, look for what it would have created before
    /// creating it again; the engine behind `press-apps apply` does so.
    pub fn may_have_been_applied(&self) -> bool {
        if let Self::RetriesExhausted { earlier_may_have_been_applied: true, last, .. } = self {
            return last.reach().1.is_some_and(RequestInfo::is_write);
        }
        match self.reach() {
            (Reach::Unknown | Reach::Answered, Some(request)) => request.is_write(),
            _ => false,
        }
    }

    /// Whether sending the same request again is safe and may succeed.
    ///
    /// It may succeed after throttling (429), an unavailable service (502, 503, 504), a network
    /// failure, a time limit, or a 500. It is safe unless the request may have been applied and
    /// is not idempotent: a create (`POST`) that may have been carried out is never retryable,
    /// since sending it again could create a second resource. Deletes and updates are idempotent
    /// and stay retryable. This looks through [`RetriesExhausted`](Self::RetriesExhausted):
    /// exhausted retries of a read against an unavailable service may succeed later.
    ///
    /// The client's own retry policy retries exactly these; see [`RetryConfig`](crate::RetryConfig).
    pub fn is_retryable(&self) -> bool {
        let safe = self.is_idempotent_request() || !self.may_have_been_applied();
        safe && self.may_succeed_again()
    }

    /// Whether the failure may pass by itself, whatever sending again would do.
    pub(crate) fn may_succeed_again(&self) -> bool {
        match self.kind() {
            ErrorKind::Throttled | ErrorKind::ServiceUnavailable | ErrorKind::Network => true,
            ErrorKind::Timeout => true,
            ErrorKind::ServerError => self.status() == Some(StatusCode::INTERNAL_SERVER_ERROR),
            _ => false,
        }
    }

    fn is_idempotent_request(&self) -> bool {
        self.reach().1.is_none_or(RequestInfo::is_idempotent)
    }

    /// The last attempt's error, through [`RetriesExhausted`](Self::RetriesExhausted) and
    /// [`RetryAfterTooLong`](Self::RetryAfterTooLong); this error itself otherwise.
    pub fn innermost(&self) -> &Error {
        match self {
            Self::RetriesExhausted { last, .. } | Self::RetryAfterTooLong { last, .. } => last.innermost(),
            other => other,
        }
    }

    /// The request this error is about, when it is about one request (the last attempt's, when
    /// retried).
    pub fn request(&self) -> Option<&RequestInfo> {
        self.reach().1
    }

    /// The service's error answer behind this error, if the service answered with an error
    /// status; through [`RetriesExhausted`](Self::RetriesExhausted) and
    /// [`RetryAfterTooLong`](Self::RetryAfterTooLong) to the last answer.
    pub fn service_error(&self) -> Option<&ServiceError> {
        match self.innermost() {
            Self::BadRequest(answer)
            | Self::Unauthorized(answer)
            | Self::Forbidden(answer)
            | Self::NotFound(answer)
            | Self::Conflict(answer)
            | Self::PayloadTooLarge(answer)
            | Self::UnprocessableEntity(answer)
            | Self::InternalServerError(answer)
            | Self::Http(answer) => Some(answer),
            _ => None,
        }
    }

    /// The HTTP status of the response that caused this error, if there was a response; through
    /// [`RetriesExhausted`](Self::RetriesExhausted) to the last attempt's.
    pub fn status(&self) -> Option<StatusCode> {
        match self.innermost() {
            Self::Decode { status, .. } => Some(*status),
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
        match self.innermost() {
            Self::Network(_) => ErrorKind::Network,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Protocol(_)
            | Self::ResponseTooLarge { .. }
            | Self::Decode { .. }
            | Self::Pagination { .. } => ErrorKind::InvalidResponse,
            Self::InvalidRequest { .. } => ErrorKind::InvalidRequest,
            Self::Config { .. } => ErrorKind::Config,
            Self::NotSent { .. } => ErrorKind::NotSent,
            Self::DeploymentFailed { .. } | Self::WaitTimedOut { .. } => ErrorKind::Wait,
            other => match other.status().map(|s| s.as_u16()) {
                Some(429) => ErrorKind::Throttled,
                Some(502..=504) => ErrorKind::ServiceUnavailable,
                Some(400..=499) => ErrorKind::ClientError,
                Some(500..=599) => ErrorKind::ServerError,
                _ => ErrorKind::InvalidResponse,
            },
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
        matches!(self.innermost(), Self::Timeout { .. } | Self::WaitTimedOut { .. })
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
