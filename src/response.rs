//! Response handling: how an answer becomes a value or an [`Error`].
//!
//! The body cap on every response, the whole read of a listing's page, the error answer turned
//! into a [`ServiceError`] (its message, request id and JSON body, with the token scrubbed),
//! the success body that does not decode, and the HTTP stack's own failures sorted into
//! transport, protocol, timeout and size errors. Every message built from a response costs no
//! more for a huge body than for a small one.

use std::fmt;

use futures::StreamExt;
use progenitor_client::ResponseValue;
use reqwest::{StatusCode, header::HeaderMap};

use crate::{
    Error,
    error::{RequestInfo, ServiceError, TimeLimit, TransportError},
    redact::Redactor,
};

/// The most of an error body that is read; the message keeps only its start anyway.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The error inside a response body stream that went over the configured limit.
#[derive(Debug)]
pub(crate) struct BodyTooLarge {
    pub(crate) limit: u64,
}

impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the response body is larger than the limit of {} bytes", self.limit)
    }
}

impl std::error::Error for BodyTooLarge {}

/// The response with a body that fails once it goes over `limit`: a body declared larger fails
/// at once, and one of unknown length is never buffered past the limit. A body whose declared
/// length is within the limit is left alone: the HTTP stack holds it to that length.
pub(crate) fn capped(response: reqwest::Response, limit: u64) -> reqwest::Response {
    let declared = response.content_length();
    if declared.is_some_and(|length| length <= limit) {
        return response;
    }
    let declared_too_large = declared.is_some();
    let (status, version, headers) = (response.status(), response.version(), response.headers().clone());
    type BoxError = Box<dyn std::error::Error + Send + Sync>;
    let body = if declared_too_large {
        reqwest::Body::wrap_stream(futures::stream::once(async move {
            Err::<bytes::Bytes, BoxError>(Box::new(BodyTooLarge { limit }))
        }))
    } else {
        let mut seen = 0u64;
        reqwest::Body::wrap_stream(response.bytes_stream().map(move |chunk| {
            let chunk = chunk?;
            seen += chunk.len() as u64;
            if seen > limit {
                return Err::<bytes::Bytes, BoxError>(Box::new(BodyTooLarge { limit }));
            }
            Ok(chunk)
        }))
    };
    let mut capped = http::Response::new(body);
    *capped.status_mut() = status;
    *capped.version_mut() = version;
    *capped.headers_mut() = headers;
    reqwest::Response::from(capped)
}

/// The error for a failed attempt of `request`; `status` is the answer's, when the hooks saw one.
pub(crate) async fn map_error(
    error: progenitor_client::Error,
    status: Option<StatusCode>,
    request: RequestInfo,
    redactor: &Redactor,
) -> Error {
    use progenitor_client::Error as Generated;
    match error {
        Generated::UnexpectedResponse(response) => match crate::dry_run::unsent(&response) {
            Some(unsent) => Error::NotSent { request: Box::new(unsent.clone()) },
            None => from_response(response, request, redactor).await,
        },
        Generated::ErrorResponse(value) => {
            let message = value.status().canonical_reason().unwrap_or("error").to_owned();
            let id = request_id(value.headers());
            Error::from_service(ServiceError::new(value.status(), message, id, None, request))
        }
        Generated::InvalidResponsePayload(body, why) => {
            undecodable(status.unwrap_or(StatusCode::OK), &body, &why, request, redactor)
        }
        Generated::CommunicationError(e) | Generated::ResponseBodyError(e) | Generated::InvalidUpgrade(e) => {
            from_http_stack(e, request)
        }
        Generated::InvalidRequest(message) | Generated::Custom(message) => Error::invalid(message),
    }
}

/// The error for a success body that is not what the API documents: what did not match, and the
/// start of the body, at a cost that does not grow with the body's size.
pub(crate) fn undecodable(
    status: StatusCode,
    body: &[u8],
    why: &serde_json::Error,
    request: RequestInfo,
    redactor: &Redactor,
) -> Error {
    Error::Decode {
        status,
        message: format!("{}; the body began: {}", display_start(why, redactor), body_start(body, redactor)),
        request,
    }
}

/// A streamed success body read whole inside the attempt, so that a body cut short is retried like
/// any other. The buffer is sized from `Content-Length` (already held to the response limit), so
/// a page is not copied while it grows.
pub(crate) async fn whole(
    value: ResponseValue<progenitor_client::ByteStream>,
) -> std::result::Result<ResponseValue<bytes::Bytes>, progenitor_client::Error> {
    let (status, headers) = (value.status(), value.headers().clone());
    let declared = headers
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = bytes::BytesMut::with_capacity(declared);
    let mut stream = value.into_inner_stream();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.map_err(progenitor_client::Error::ResponseBodyError)?);
    }
    Ok(ResponseValue::new(body.freeze(), status, headers))
}

/// The error for an unsuccessful response: its status, its explanation and its request id.
async fn from_response(mut response: reqwest::Response, request: RequestInfo, redactor: &Redactor) -> Error {
    let request = request.with_url(response.url().as_str());
    let status = response.status();
    let request_id = request_id(response.headers()).map(|id| redactor.scrub(&id, false));
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() < ERROR_BODY_LIMIT => body.extend_from_slice(&chunk),
            // A cut or oversized error body still leaves the status to report.
            Ok(Some(_)) | Ok(None) | Err(_) => break,
        }
    }
    if status.is_success() {
        return Error::Decode {
            status,
            message: "the service answered with no body the API documents".into(),
            request,
        };
    }
    let (message, json_body) = explain(status, &body, redactor);
    Error::from_service(ServiceError::new(status, message, request_id, json_body, request))
}

/// The HTTP stack's failure sorted into size, timeout, protocol and network errors, wrapped so
/// that no type of the HTTP stack is part of this crate's API.
pub(crate) fn from_http_stack(source: reqwest::Error, mut request: RequestInfo) -> Error {
    let mut cause = std::error::Error::source(&source);
    while let Some(error) = cause {
        if let Some(too_large) = error.downcast_ref::<BodyTooLarge>() {
            return Error::ResponseTooLarge { limit: too_large.limit, request };
        }
        cause = error.source();
    }
    if let Some(url) = source.url() {
        request = request.with_url(url.as_str());
    }
    let connected = !source.is_connect();
    if source.is_timeout() {
        let limit = if connected { TimeLimit::Attempt } else { TimeLimit::Connect };
        let transport = TransportError::new(request.clone(), connected, source);
        Error::Timeout { limit, request: Some(request), source: Some(transport) }
    } else if breaks_http(&source) {
        Error::Protocol(TransportError::new(request, connected, source))
    } else {
        Error::Network(TransportError::new(request, connected, source))
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

/// The explanation in an error body (JSON `message` or `detail`, an HTML page's title, or the
/// start of the raw text; the status's reason phrase when the body says nothing) and the body
/// itself when it is JSON, both with the token scrubbed out.
fn explain(status: StatusCode, body: &[u8], redactor: &Redactor) -> (String, Option<serde_json::Value>) {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let detail = serde_json::from_str::<serde_json::Value>(text).ok().map(|value| scrubbed(value, redactor));
    let found = match &detail {
        Some(serde_json::Value::Object(fields)) => {
            ["message", "detail", "error"].iter().find_map(|key| fields.get(*key)).map(|value| match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        }
        Some(_) => None,
        None => html_title(text).map(|title| redactor.scrub(&title, false)),
    };
    let message = match found {
        Some(found) => one_line(&found),
        None => body_start(body, redactor),
    };
    if message.is_empty() {
        return (status.canonical_reason().unwrap_or("no explanation given").to_owned(), detail);
    }
    (message, detail)
}

/// A JSON value with the token scrubbed from every string in it, keys included.
fn scrubbed(value: serde_json::Value, redactor: &Redactor) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(text) => Value::String(redactor.scrub(&text, false)),
        Value::Array(items) => Value::Array(items.into_iter().map(|item| scrubbed(item, redactor)).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(key, value)| (redactor.scrub(&key, false), scrubbed(value, redactor)))
                .collect(),
        ),
        other => other,
    }
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
fn one_line(text: &str) -> String {
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
