//! The shared layer every call goes through, whatever the operation.
//!
//! Outbound, progenitor's hooks add the `Authorization` and `User-Agent` headers to each request
//! (so a caller's own `reqwest::Client` works too), note its method, and name the operation on
//! the call's tracing span. Inbound, they note the status and any `Retry-After`, and cap the
//! response body. [`call`] runs the attempts of one call under the retry policy and the call's
//! deadline, and turns the outcome into this crate's [`Error`], keeping the status of every
//! response.

use std::{cell::RefCell, fmt, future::Future, time::Duration, time::Instant};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo, ResponseValue};
use reqwest::{
    Method, StatusCode,
    header::{AUTHORIZATION, HeaderValue, RETRY_AFTER, USER_AGENT},
};
use tracing::{Instrument, field};

use crate::{
    Error, Result, dry_run,
    error::{RequestInfo, TimeLimit},
    generated,
    redact::Redactor,
    response::{capped, map_error, request_id, undecodable},
    retry::{Budget, RetryConfig, Wait},
};

/// The target of the events about each request and answer: `RUST_LOG=peak_press_apps::http=debug`
/// shows one line per attempt.
const HTTP_TARGET: &str = "peak_press_apps::http";

/// What the generated client carries for the hooks and for [`call`].
#[derive(Clone)]
pub struct Transport {
    authorization: HeaderValue,
    user_agent: HeaderValue,
    pub(crate) retry: RetryConfig,
    budget: Budget,
    call_timeout: Option<Duration>,
    max_response_body: u64,
    redactor: Redactor,
    /// Whether requests stop before the network; see [`ClientBuilder::dry_run`](crate::ClientBuilder::dry_run).
    dry_run: bool,
}

impl Transport {
    /// `authorization` must already be marked sensitive, so that no `Debug` of a request shows it.
    pub(crate) fn new(
        authorization: HeaderValue,
        user_agent: HeaderValue,
        retry: RetryConfig,
        call_timeout: Option<Duration>,
        max_response_body: u64,
        dry_run: bool,
    ) -> Self {
        let budget = Budget::new(retry.budget_capacity());
        let redactor = Redactor::new(authorization.to_str().unwrap_or_default());
        Self { authorization, user_agent, retry, budget, call_timeout, max_response_body, redactor, dry_run }
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("authorization", &"<redacted>")
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("call_timeout", &self.call_timeout)
            .field("max_response_body", &self.max_response_body)
            .field("dry_run", &self.dry_run)
            .finish_non_exhaustive()
    }
}

/// What the hooks saw of the attempt under way: progenitor reports some failures without the
/// status, and the classification of a failure needs the method. It lives as long as the call, so
/// that a call's deadline reached mid-attempt still knows which request it cut.
#[derive(Default)]
struct Attempt {
    /// When the request was handed to the HTTP stack, for the `http` event's duration.
    sent: Option<Instant>,
    /// The method of the request under way: kept from every attempt, so cheap (no allocation for
    /// the standard methods); the URL is taken from the failure, when there is one.
    method: Option<Method>,
    status: Option<StatusCode>,
    retry_after: Option<HeaderValue>,
}

tokio::task_local! {
    static ATTEMPT: RefCell<Attempt>;
}

impl ClientHooks<Transport> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> std::result::Result<(), progenitor_client::Error<E>> {
        let transport = self.inner();
        let method = request.method().clone();
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, transport.authorization.clone());
        headers.insert(USER_AGENT, transport.user_agent.clone());
        // Outside `call` there is no attempt to note; that is fine.
        let _ = ATTEMPT.try_with(|attempt| {
            let mut attempt = attempt.borrow_mut();
            attempt.method = Some(method);
            attempt.sent = Some(Instant::now());
        });
        tracing::Span::current().record("operation", info.operation_id);
        // The token's header is marked sensitive: its Debug shows `Sensitive`, never the value.
        tracing::trace!(target: HTTP_TARGET, method = %request.method(), url = %request.url(), headers = ?request.headers(), "request");
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        if self.inner().dry_run {
            return Ok(dry_run::stopped(&request));
        }
        let response = self.client().execute(request).await?;
        Ok(capped(response, self.inner().max_response_body))
    }

    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        _info: &OperationInfo,
    ) -> std::result::Result<(), progenitor_client::Error<E>> {
        let (sent, method) = ATTEMPT
            .try_with(|attempt| {
                let attempt = attempt.borrow();
                (attempt.sent, attempt.method.clone())
            })
            .unwrap_or_default();
        let duration_ms = format!("{:.1}", sent.map_or(0.0, |at| at.elapsed().as_secs_f64() * 1000.0));
        let method = method.as_ref().map_or("", Method::as_str);
        match result {
            // A dry run's stand-in for an answer: nothing was sent, so nothing is logged.
            Ok(response) if dry_run::unsent(response).is_some() => {}
            Ok(response) => {
                let status = response.status();
                let retry_after = response.headers().get(RETRY_AFTER).cloned();
                let _ = ATTEMPT.try_with(|attempt| {
                    let mut attempt = attempt.borrow_mut();
                    attempt.status = Some(status);
                    attempt.retry_after = retry_after;
                });
                tracing::Span::current().record("status", status.as_u16());
                let request_id =
                    request_id(response.headers()).map(|id| self.inner().redactor.scrub(&id, false));
                tracing::debug!(
                    target: HTTP_TARGET,
                    method = %method,
                    url = %response.url(),
                    status = status.as_u16(),
                    duration_ms = %duration_ms,
                    request_id = request_id.as_deref().unwrap_or("-"),
                    "response",
                );
            }
            Err(error) => tracing::debug!(
                target: HTTP_TARGET,
                method = %method,
                url = %error.url().map_or(String::new(), ToString::to_string),
                duration_ms = %duration_ms,
                error = %crate::error::chain(error),
                "no response",
            ),
        }
        Ok(())
    }
}

/// Runs the attempts of one call inside a tracing span and maps the outcome. `send` issues the
/// generated request afresh for each attempt.
///
/// `gone` is the answer of a delete: when a retry finds the resource gone after an earlier
/// attempt may have been carried out, that attempt deleted it, and the call succeeds with `gone`
/// instead of reporting a not-found that did not happen.
pub(crate) async fn call<T, Fut>(
    api: &generated::Client,
    send: impl Fn() -> Fut,
    gone: Option<T>,
) -> Result<T>
where
    Fut: Future<Output = std::result::Result<ResponseValue<T>, progenitor_client::Error>>,
{
    let transport = api.inner();
    let span = tracing::info_span!(
        "press_apps_call",
        operation = field::Empty,
        status = field::Empty,
        attempts = field::Empty,
        duration_ms = field::Empty,
    );
    let started = Instant::now();
    let deadline = transport.call_timeout.map(|limit| (limit, started + limit));
    let attempts = attempts(transport, &send, gone, deadline.map(|(_, at)| at), &span);
    let outcome = ATTEMPT
        .scope(RefCell::new(Attempt::default()), async {
            match deadline {
                None => attempts.await,
                Some((limit, at)) => {
                    tokio::time::timeout_at(at.into(), attempts).await.unwrap_or_else(|_| {
                        let request = ATTEMPT
                            .with(|attempt| attempt.borrow().method.clone())
                            .map(|m| RequestInfo::new(m, None));
                        Err(Error::Timeout { limit: TimeLimit::Call(limit), request, source: None })
                    })
                }
            }
        })
        .instrument(span.clone())
        .await;
    span.record("duration_ms", started.elapsed().as_secs_f64() * 1000.0);
    match &outcome {
        Err(error) => {
            if let Some(status) = error.status() {
                span.record("status", status.as_u16());
            }
            tracing::debug!(parent: &span, error = %error, "call failed");
        }
        Ok(_) => tracing::debug!(parent: &span, "call succeeded"),
    }
    outcome
}

async fn attempts<T, Fut>(
    transport: &Transport,
    send: &impl Fn() -> Fut,
    mut gone: Option<T>,
    deadline: Option<Instant>,
    span: &tracing::Span,
) -> Result<T>
where
    Fut: Future<Output = std::result::Result<ResponseValue<T>, progenitor_client::Error>>,
{
    let policy = &transport.retry;
    let mut attempt = 0;
    // Whether an attempt before this one may have been carried out.
    let mut earlier_may_have_been_applied = false;
    loop {
        attempt += 1;
        span.record("attempts", attempt);
        ATTEMPT.with(|seen| seen.replace(Attempt::default()));
        let result = send().await;
        let seen = ATTEMPT.with(|seen| {
            let mut seen = seen.borrow_mut();
            (seen.method.clone(), seen.status, seen.retry_after.take())
        });
        let (method, status, retry_after) = seen;
        let error = match result {
            Ok(value) => {
                transport.budget.refund();
                return Ok(value.into_inner());
            }
            Err(error) => {
                let request =
                    method.map_or_else(RequestInfo::unseen, |method| RequestInfo::new(method, None));
                map_error(error, status, request, &transport.redactor).await
            }
        };
        if earlier_may_have_been_applied
            && error.is_not_found()
            && let Some(gone) = gone.take()
        {
            tracing::debug!(attempt, "gone on retry: an earlier attempt deleted it");
            transport.budget.refund();
            return Ok(gone);
        }
        let exhausted = |error: Error| Error::RetriesExhausted {
            attempts: attempt,
            earlier_may_have_been_applied,
            last: Box::new(error),
        };
        if !policy.may_retry(&error) {
            // A write an earlier attempt may have carried out says so, whatever this one got.
            return Err(if earlier_may_have_been_applied { exhausted(error) } else { error });
        }
        if attempt >= policy.attempts() || !transport.budget.withdraw(&error) {
            return Err(if policy.attempts() == 1 { error } else { exhausted(error) });
        }
        let left = deadline.map(|at| at.saturating_duration_since(Instant::now()));
        let wait = match policy.wait(attempt, retry_after.as_ref(), left) {
            Wait::Backoff(wait) => wait,
            Wait::TooLong { requested, allowed } => {
                return Err(Error::RetryAfterTooLong { requested, allowed, last: Box::new(error) });
            }
        };
        earlier_may_have_been_applied |= error.may_have_been_applied();
        tracing::debug!(target: HTTP_TARGET, attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
        tokio::time::sleep(wait).await;
    }
}

impl Transport {
    /// The error for a listing's page body that does not decode.
    pub(crate) fn undecodable(&self, body: &[u8], why: &serde_json::Error) -> Error {
        let request = RequestInfo::new(Method::GET, None);
        undecodable(reqwest::StatusCode::OK, body, why, request, &self.redactor)
    }
}
