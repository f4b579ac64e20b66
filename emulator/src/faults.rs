//! Faults injected into answers on `/v1`, to test clients against an unreliable service.
//! Off unless asked for; deterministic for a given seed and order of requests.
//!
//! Some faults replace the answer before the request is carried out (429 with `Retry-After`,
//! 503): the service refused it. Others strike after it was carried out (500, 502, a reset
//! connection, a body cut short): the change was made, but the client cannot know. That second
//! kind is why a client must not blindly retry a create.

use std::{str::FromStr, sync::Mutex, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::error::ApiError;

/// One kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `Retry-After` (1 second unless [`Faults::retry_after`] says otherwise), before the
    /// request is carried out.
    TooManyRequests,
    /// 503, before the request is carried out.
    Unavailable,
    /// 500, after the request was carried out.
    InternalError,
    /// 502 with an HTML page, as a proxy sends it, after the request was carried out.
    BadGateway,
    /// The connection is dropped without an answer, after the request was carried out.
    Reset,
    /// The answer's body stops halfway, after the request was carried out.
    Truncate,
    /// The handler panics; the emulator answers 500 and serves on.
    Panic,
    /// 403, before the request is carried out: the service refuses this caller the resource
    /// (a permission taken away). Not drawn at random; for scripts.
    Forbidden,
}

impl Fault {
    /// The faults drawn from unless others are chosen: all but `Panic` and `Forbidden`.
    pub const DEFAULT: [Fault; 6] = [
        Fault::TooManyRequests,
        Fault::Unavailable,
        Fault::InternalError,
        Fault::BadGateway,
        Fault::Reset,
        Fault::Truncate,
    ];
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Ok(match name {
            "429" => Self::TooManyRequests,
            "503" => Self::Unavailable,
            "500" => Self::InternalError,
            "502" => Self::BadGateway,
            "reset" => Self::Reset,
            "truncate" => Self::Truncate,
            "panic" => Self::Panic,
            "403" => Self::Forbidden,
            other => {
                return Err(format!(
                    "unknown fault {other:?}: expected 429, 503, 500, 502, 403, reset, truncate or panic"
                ));
            }
        })
    }
}

/// What to inject: a share of answers replaced by faults, and latency added to every answer.
///
/// ```
/// use std::time::Duration;
/// use peak_press_apps_emulator::{Fault, Faults};
///
/// let flaky = Faults::new(0.3).seed(7);
/// let slow = Faults::new(0.0).latency(Duration::from_millis(20));
/// let only_503 = Faults::new(1.0).kinds([Fault::Unavailable]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    rate: f64,
    seed: u64,
    latency: Duration,
    kinds: Vec<Fault>,
    retry_after_seconds: u64,
}

impl Faults {
    /// Replaces the share `rate` (0 to 1) of answers with one of the default faults.
    pub fn new(rate: f64) -> Self {
        Self {
            rate: rate.clamp(0.0, 1.0),
            seed: 0,
            latency: Duration::ZERO,
            kinds: Fault::DEFAULT.to_vec(),
            retry_after_seconds: 1,
        }
    }

    /// The seed of the draws (0 unless set).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Latency added before every answer.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// The `Retry-After` of the 429 fault, in whole seconds as the header carries it (1 unless
    /// set); 0 lets a test's client retry at once.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_seconds = seconds;
        self
    }

    /// The faults to draw from, with equal chances.
    pub fn kinds(mut self, kinds: impl IntoIterator<Item = Fault>) -> Self {
        self.kinds = kinds.into_iter().collect();
        self
    }
}

/// Faults in force, with their random source.
pub(crate) struct Injector {
    faults: Faults,
    random: fastrand::Rng,
}

impl Injector {
    pub(crate) fn new(faults: Faults) -> Self {
        let random = fastrand::Rng::with_seed(faults.seed);
        Self { faults, random }
    }

    fn draw(&mut self) -> Option<Fault> {
        if self.faults.kinds.is_empty() || self.random.f64() >= self.faults.rate {
            return None;
        }
        Some(self.faults.kinds[self.random.usize(..self.faults.kinds.len())])
    }
}

pub(crate) type FaultSlot = Mutex<Option<Injector>>;

/// What the injector decided for one answer: latency to add first, then perhaps a fault.
pub(crate) struct Decision {
    pub latency: Duration,
    pub retry_after_seconds: u64,
    pub fault: Option<Fault>,
}

impl Injector {
    /// Draws the fault of the next answer, unless `scripted` already names one: a scripted fault
    /// strikes at once, with no added latency.
    pub(crate) fn decide(injector: Option<&mut Injector>, scripted: Option<Fault>) -> Option<Decision> {
        match (scripted, injector) {
            (Some(fault), injector) => Some(Decision {
                latency: Duration::ZERO,
                retry_after_seconds: injector.map_or(1, |i| i.faults.retry_after_seconds),
                fault: Some(fault),
            }),
            (None, Some(injector)) => Some(Decision {
                latency: injector.faults.latency,
                retry_after_seconds: injector.faults.retry_after_seconds,
                fault: injector.draw(),
            }),
            (None, None) => None,
        }
    }
}

/// Answers `request` with `fault`: in place of the handler for the faults that refuse, after it
/// for the ones that strike once the work is done.
pub(crate) async fn strike(fault: Fault, retry_after_seconds: u64, request: Request, next: Next) -> Response {
    tracing::debug!(target: "press_apps_emulator", "injecting {fault:?} into {} {}", request.method(), request.uri());
    match fault {
        Fault::TooManyRequests => {
            let mut response = ApiError::too_many_requests("injected fault: slow down").into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
            response
        }
        Fault::Unavailable => {
            ApiError::unavailable("injected fault: the service is unavailable").into_response()
        }
        Fault::InternalError => {
            next.run(request).await;
            ApiError::internal("injected fault: the service failed after carrying out the request")
                .into_response()
        }
        Fault::BadGateway => {
            next.run(request).await;
            let page = "<html><head><title>502 Bad Gateway</title></head><body>injected fault</body></html>";
            (StatusCode::BAD_GATEWAY, [(header::CONTENT_TYPE, "text/html")], page).into_response()
        }
        Fault::Reset => {
            next.run(request).await;
            broken_body(Response::new(Body::empty()), Bytes::new())
        }
        Fault::Truncate => {
            let response = next.run(request).await;
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            let half = bytes.slice(..bytes.len() / 2);
            let mut response = Response::from_parts(parts, Body::empty());
            response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            broken_body(response, half)
        }
        Fault::Panic => panic!("injected fault: a handler panicked"),
        Fault::Forbidden => ApiError::forbidden("injected fault: this caller may not see it").into_response(),
    }
}

/// The response with a body that sends `start` and then fails, which makes the server drop the
/// connection mid-answer.
fn broken_body(response: Response, start: Bytes) -> Response {
    let (mut parts, _) = response.into_parts();
    if start.is_empty() {
        parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("64"));
    }
    let chunks = [Ok(start), Err(std::io::Error::other("injected fault: connection dropped"))];
    Response::from_parts(parts, Body::from_stream(futures_util::stream::iter(chunks)))
}
