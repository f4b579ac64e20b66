//! The shared layer every call goes through, whatever the operation.
//!
//! Outbound, progenitor's hooks add the `Authorization` and `User-Agent` headers to each request
//! (so a caller's own `reqwest::Client` works too) and name the operation on the call's tracing
//! span. Inbound, [`call`] turns the generated client's result into this crate's [`Error`],
//! keeping the status of every response, and records status and duration on the span.

use std::{cell::Cell, fmt, future::Future, time::Instant};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo, ResponseValue};
use reqwest::{
    StatusCode,
    header::{AUTHORIZATION, HeaderValue, USER_AGENT},
};
use tracing::{Instrument, field};

use crate::{
    Error, Result,
    error::{error_message, request_id, truncate},
    generated,
};

/// The most of an error body that is read; the message keeps only its start anyway.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// What the generated client carries for the hooks: the headers every request gets.
#[derive(Clone)]
pub struct Transport {
    authorization: HeaderValue,
    user_agent: HeaderValue,
}

impl Transport {
    /// `authorization` must already be marked sensitive, so that no `Debug` of a request shows it.
    pub(crate) fn new(authorization: HeaderValue, user_agent: HeaderValue) -> Self {
        Self {
            authorization,
            user_agent,
        }
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("authorization", &"<redacted>")
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

tokio::task_local! {
    /// The status of the response to the call running in this task. progenitor reports a body
    /// that does not decode without the status; the post hook keeps it here for [`call`].
    static RESPONSE_STATUS: Cell<Option<StatusCode>>;
}

impl ClientHooks<Transport> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> std::result::Result<(), progenitor_client::Error<E>> {
        let transport = self.inner();
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, transport.authorization.clone());
        headers.insert(USER_AGENT, transport.user_agent.clone());
        tracing::Span::current().record("operation", info.operation_id);
        Ok(())
    }

    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        _info: &OperationInfo,
    ) -> std::result::Result<(), progenitor_client::Error<E>> {
        if let Ok(response) = result {
            let status = response.status();
            // Outside `call` there is no slot to fill; that is fine.
            let _ = RESPONSE_STATUS.try_with(|slot| slot.set(Some(status)));
            tracing::Span::current().record("status", status.as_u16());
        }
        Ok(())
    }
}

/// Runs one generated request to completion inside a tracing span, and maps its outcome.
pub(crate) async fn call<T>(
    send: impl Future<Output = std::result::Result<ResponseValue<T>, progenitor_client::Error>>,
) -> Result<T> {
    let span = tracing::info_span!(
        "press_apps_call",
        operation = field::Empty,
        status = field::Empty,
        duration_ms = field::Empty,
    );
    let started = Instant::now();
    let outcome = RESPONSE_STATUS
        .scope(Cell::new(None), async {
            let result = send.await;
            let status = RESPONSE_STATUS.with(Cell::get);
            match result {
                Ok(value) => Ok(value.into_inner()),
                Err(error) => Err(map_error(error, status).await),
            }
        })
        .instrument(span.clone())
        .await;
    let elapsed = started.elapsed();
    span.record("duration_ms", elapsed.as_secs_f64() * 1000.0);
    if let Err(error) = &outcome {
        if let Some(status) = error.status() {
            span.record("status", status.as_u16());
        }
        tracing::debug!(parent: &span, error = %error, "call failed");
    } else {
        tracing::debug!(parent: &span, "call succeeded");
    }
    outcome
}

async fn map_error(error: progenitor_client::Error, status: Option<StatusCode>) -> Error {
    use progenitor_client::Error as Generated;
    match error {
        Generated::UnexpectedResponse(response) => from_response(response).await,
        Generated::ErrorResponse(value) => {
            let message = value.status().canonical_reason().unwrap_or("error").to_owned();
            Error::from_status(value.status(), message, request_id(value.headers()))
        }
        Generated::InvalidResponsePayload(body, why) => Error::Decode {
            status: status.unwrap_or(StatusCode::OK),
            message: format!(
                "{why}; the body began: {}",
                truncate(&String::from_utf8_lossy(&body))
            ),
        },
        Generated::CommunicationError(e) | Generated::ResponseBodyError(e) | Generated::InvalidUpgrade(e) => {
            e.into()
        }
        Generated::InvalidRequest(message) | Generated::Custom(message) => Error::invalid(message),
    }
}

/// The error for an unsuccessful response: its status, its explanation and its request id.
async fn from_response(mut response: reqwest::Response) -> Error {
    let status = response.status();
    let request_id = request_id(response.headers());
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
        };
    }
    Error::from_status(status, error_message(status, &body), request_id)
}
