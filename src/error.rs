//! The one error type of the crate, and how an HTTP response becomes one.
//!
//! Every documented status has its own variant, so callers match on what happened rather than on
//! numbers; any other status keeps its code in [`Error::Http`]. The status is never lost: an empty
//! 404, an HTML page from a proxy and a JSON body of an unexpected shape all keep it, with the
//! server's message (or the start of its raw text) and the request id when the service sent one.

use std::{fmt, time::Duration};

use reqwest::{StatusCode, header::HeaderMap};

use crate::{DeploymentStatus, redact::Redactor, transport::BodyTooLarge, types::Deployment};

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when talking to the service.
///
/// ```
/// use peak_press_apps::Error;
///
/// fn explain(error: &Error) -> String {
///     match error {
///         Error::NotFound { message, .. } => format!("gone: {message}"),
///         Error::Conflict { message, .. } => format!("conflict: {message}"),
///         other if other.status().is_some_and(|s| s.is_server_error()) => "try later".into(),
///         other => other.to_string(),
///     }
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 400: the request is malformed or a value is invalid.
    #[error("{}", http_line(StatusCode::BAD_REQUEST, message, request_id))]
    BadRequest {
        /// The service's explanation.
        message: String,
        /// The request id the service reported, if any.
        request_id: Option<String>,
    },
    /// 401: the token is missing or invalid.
    #[error("{}", http_line(StatusCode::UNAUTHORIZED, message, request_id))]
    Unauthorized {
        /// The service's explanation.
        message: String,
        /// The request id the service reported, if any.
        request_id: Option<String>,
    },
    /// 403: the token does not allow this operation.
    #[error("{}", http_line(StatusCode::FORBIDDEN, message, request_id))]
    Forbidden {
        /// The service's explanation.
        message: String,
        /// The request id the service reported, if any.
        request_id: Option<String>,
    },
    /// 404: the spec, release, deployment or revision does not exist.
    #[error("{}", http_line(StatusCode::NOT_FOUND, message, request_id))]
    NotFound {
        /// The service's explanation.
        message: String,
        /// The request id the service reported, if any.
        request_id: Option<String>,
    },
    /// 409: the request conflicts with the current state (a name taken, a version not newer, ...).
    #[error("{}", http_line(StatusCode::CONFLICT, message, request_id))]
    Conflict {
        /// The service's explanation.
        message: String,
        /// The request id the service reported, if any.
        request_id: Option<String>,
    },
    /// 413: the request body is too large.
    #[error("{}", http_line(StatusCode::PAYLOAD_TOO_LARGE, message, request_id))]
    PayloadTooLarge {
        /// The service's explanation.
        message: String,
        /// The request id the service reported, if any.
        request_id: Option<String>,
    },
    /// 422: the body is well formed but cannot be processed.
    #[error("{}", http_line(StatusCode::UNPROCESSABLE_ENTITY, message, request_id))]
    UnprocessableEntity {
        /// The service's explanation.
        message: String,
        /// The request id the service reported, if any.
        request_id: Option<String>,
    },
    /// 500: the service failed.
    #[error("{}", http_line(StatusCode::INTERNAL_SERVER_ERROR, message, request_id))]
    InternalServerError {
        /// The service's explanation.
        message: String,
        /// The request id the service reported, if any.
        request_id: Option<String>,
    },
    /// Any other unsuccessful status, such as 429 or a 502 from a proxy.
    #[error("{}", http_line(*status, message, request_id))]
    Http {
        /// The status as received.
        status: StatusCode,
        /// The service's explanation, or the start of the body as text.
        message: String,
        /// The request id the service reported, if any.
        request_id: Option<String>,
    },
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
    #[error("timed out: {message}")]
    Timeout {
        /// Which limit was reached, and what the HTTP stack reported.
        message: String,
        /// The HTTP stack's error, when an attempt timed out.
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
    /// such as `failed` while waiting for `deployed`; see [`waiter`](crate::waiter).
    #[error("deployment {} is {status}", deployment.id)]
    DeploymentFailed {
        /// The status it settled in.
        status: DeploymentStatus,
        /// The deployment as last described.
        deployment: Box<Deployment>,
    },
    /// A wait for a deployment ran out of time; see [`waiter`](crate::waiter).
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
    /// The client could not be configured: a variable or setting is missing or invalid.
    #[error("invalid configuration: {message}")]
    Config {
        /// What is missing or invalid.
        message: String,
    },
}

impl Error {
    /// The HTTP status of the response that caused this error, if there was a response.
    pub fn status(&self) -> Option<StatusCode> {
        Some(match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnprocessableEntity { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InternalServerError { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Http { status, .. } | Self::Decode { status, .. } => *status,
            Self::Transport { source } | Self::Protocol { source } => return source.status(),
            Self::RetriesExhausted { last, .. } | Self::RetryAfterTooLong { last, .. } => {
                return last.status();
            }
            Self::Timeout { .. }
            | Self::DeploymentFailed { .. }
            | Self::WaitTimedOut { .. }
            | Self::ResponseTooLarge { .. }
            | Self::Pagination { .. }
            | Self::InvalidRequest { .. }
            | Self::Config { .. } => return None,
        })
    }

    /// The request id the service reported with an error response, if any.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::BadRequest { request_id, .. }
            | Self::Unauthorized { request_id, .. }
            | Self::Forbidden { request_id, .. }
            | Self::NotFound { request_id, .. }
            | Self::Conflict { request_id, .. }
            | Self::PayloadTooLarge { request_id, .. }
            | Self::UnprocessableEntity { request_id, .. }
            | Self::InternalServerError { request_id, .. }
            | Self::Http { request_id, .. } => request_id.as_deref(),
            Self::RetriesExhausted { last, .. } | Self::RetryAfterTooLong { last, .. } => last.request_id(),
            _ => None,
        }
    }

    /// Builds the error for an unsuccessful response from its parts.
    pub(crate) fn from_status(status: StatusCode, message: String, request_id: Option<String>) -> Self {
        match status.as_u16() {
            400 => Self::BadRequest { message, request_id },
            401 => Self::Unauthorized { message, request_id },
            403 => Self::Forbidden { message, request_id },
            404 => Self::NotFound { message, request_id },
            409 => Self::Conflict { message, request_id },
            413 => Self::PayloadTooLarge { message, request_id },
            422 => Self::UnprocessableEntity { message, request_id },
            500 => Self::InternalServerError { message, request_id },
            _ => Self::Http { status, message, request_id },
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidRequest { message: message.into() }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Config { message: message.into() }
    }
}

impl From<reqwest::Error> for Error {
    fn from(source: reqwest::Error) -> Self {
        let mut cause = std::error::Error::source(&source);
        while let Some(error) = cause {
            if let Some(too_large) = error.downcast_ref::<BodyTooLarge>() {
                return Self::ResponseTooLarge { limit: too_large.limit };
            }
            cause = error.source();
        }
        if source.is_timeout() {
            let message = chain(&source).to_string();
            Self::Timeout { message, source: Some(source) }
        } else if breaks_http(&source) {
            Self::Protocol { source }
        } else {
            Self::Transport { source }
        }
    }
}

/// Whether the HTTP stack failed because the answer itself is malformed, not because the
/// connection failed on the way: hyper's parse errors, the `InvalidData` or `InvalidInput` of a
/// bad chunk, a redirect loop. Errors while connecting are left out: TLS reports a refused
/// certificate as `InvalidData` too, and that is not the server's answer.
fn breaks_http(source: &reqwest::Error) -> bool {
    if source.is_redirect() {
        return true;
    }
    if source.is_connect() {
        return false;
    }
    let mut cause = std::error::Error::source(source);
    while let Some(error) = cause {
        if error.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_parse)
            || error.downcast_ref::<std::io::Error>().is_some_and(|e| {
                matches!(e.kind(), std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput)
            })
        {
            return true;
        }
        cause = error.source();
    }
    false
}

/// The longest message kept from an error body.
const MESSAGE_LIMIT: usize = 300;

/// Headers in which services commonly report a request id, in order of preference.
const REQUEST_ID_HEADERS: [&str; 4] =
    ["x-request-id", "x-peak-request-id", "x-peak-requestid", "x-amzn-requestid"];

pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS
        .iter()
        .find_map(|name| headers.get(*name))
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The explanation in an error body: JSON `message` or `detail`, an HTML page's title, or the
/// start of the raw text; the status's reason phrase when the body says nothing. The token is
/// scrubbed from it.
pub(crate) fn error_message(status: StatusCode, body: &[u8], redactor: &Redactor) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let found = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(fields)) => {
            ["message", "detail", "error"].iter().find_map(|key| fields.get(*key)).map(|value| match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        }
        _ => html_title(text),
    };
    let message = match found {
        Some(found) => one_line(&redactor.scrub(&found, false)),
        None => body_start(body, redactor),
    };
    if message.is_empty() {
        return status.canonical_reason().unwrap_or("no explanation given").to_owned();
    }
    message
}

fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    Some(text[start..end].trim().to_owned()).filter(|t| !t.is_empty())
}

/// The most of a body looked at to show its start: enough for [`MESSAGE_LIMIT`] characters
/// unless it is mostly white space, and small whatever the body's size.
const BODY_START_BYTES: usize = 16 * MESSAGE_LIMIT;

/// The start of a body as one line of text, without the token, at a cost that does not grow with
/// the body's size.
pub(crate) fn body_start(body: &[u8], redactor: &Redactor) -> String {
    let cut = body.len() > BODY_START_BYTES;
    let window = String::from_utf8_lossy(&body[..body.len().min(BODY_START_BYTES)]);
    one_line(&redactor.scrub(&window, cut))
}

/// A value's `Display` as one line without the token, written no further than a few times
/// [`MESSAGE_LIMIT`], however long the value would print: a decoding error can quote a string of
/// the body whole.
pub(crate) fn display_start(value: &impl fmt::Display, redactor: &Redactor) -> String {
    struct Bounded(String);
    impl fmt::Write for Bounded {
        fn write_str(&mut self, text: &str) -> fmt::Result {
            let room = BODY_START_BYTES.saturating_sub(self.0.len());
            let end = (0..=room.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            self.0.push_str(&text[..end]);
            if end < text.len() { Err(fmt::Error) } else { Ok(()) }
        }
    }
    let mut bounded = Bounded(String::new());
    let cut = fmt::write(&mut bounded, format_args!("{value}")).is_err();
    one_line(&redactor.scrub(&bounded.0, cut))
}

/// Text as one line of at most [`MESSAGE_LIMIT`] characters, whatever its layout. Only the
/// characters kept are copied, so a long text costs no more than a short one.
pub(crate) fn one_line(text: &str) -> String {
    let mut chars = text
        .split_whitespace()
        .enumerate()
        .flat_map(|(index, word)| (index > 0).then_some(' ').into_iter().chain(word.chars()));
    let mut line: String = chars.by_ref().take(MESSAGE_LIMIT).collect();
    if chars.next().is_some() {
        line.push('…');
    }
    line
}

fn http_line(status: StatusCode, message: &str, request_id: &Option<String>) -> String {
    let mut line = format!("{status}: {message}");
    if let Some(id) = request_id {
        line.push_str(&format!(" (request id {id})"));
    }
    line
}

/// An error and its causes on one line, so that "connection refused" is not hidden behind
/// "error sending request".
fn chain(error: &dyn std::error::Error) -> impl fmt::Display + '_ {
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
