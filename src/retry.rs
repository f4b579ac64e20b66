//! The retry policy: which failed attempts are tried again, and after how long.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, SystemTime},
};

use reqwest::header::HeaderValue;

use crate::Error;

/// When a failed attempt is tried again, and after how long.
///
/// The default policy ([`RetryConfig::default`]) makes up to 4 attempts. For idempotent methods
/// it retries transport failures, timeouts, 429, 500, 502, 503 and 504, waiting an exponential
/// backoff with full jitter (a random wait between zero and `initial_backoff × 2ⁿ`, capped at
/// `max_backoff`), or what the service's `Retry-After` asks (seconds or an HTTP date). A
/// `Retry-After` longer than `max_retry_after`, or than what is left of the call's deadline, ends
/// the call at once with [`Error::RetryAfterTooLong`]: the answer and the wait it asked for.
///
/// Answers that break HTTP itself ([`Error::Protocol`]: a garbled status line, a malformed head, a
/// bad chunk, a redirect loop) are never retried: the same server breaks the same way again.
///
/// # Deletes that succeeded
///
/// When an attempt of a delete fails after the server may have carried it out (a 500 or 502, a
/// connection cut while the answer was on its way) and the retry finds the resource gone, the
/// delete succeeds: the earlier attempt deleted it.
///
/// # Creates are not retried blindly
///
/// A POST creates something (a spec, a release, a deployment, a revision) or starts a redeploy.
/// If it reached the server, the server may have acted on it even though the client saw an
/// error: a 500 or 502, a connection cut while the answer was on its way. Sending it again could
/// then create a second revision. So a POST is retried only when the service refused it before
/// doing any work (429 and 503, as the service documents them) or its connection was never
/// established, unless [`RetryConfig::retry_creates`] opts in. GET, DELETE and PATCH (which
/// merges the fields it is given) are idempotent and retried freely.
///
/// # A budget for a failing service
///
/// Clones of a [`Client`](crate::Client) share a retry budget: each retry spends from it (a
/// timeout spends more), each success returns a little. When it is spent, failures are reported
/// at once instead of being retried, so that many callers do not hammer a service that is down.
///
/// ```
/// use std::time::Duration;
/// use peak_press_apps::{Client, RetryConfig};
///
/// let patient = RetryConfig::default().max_attempts(6).max_backoff(Duration::from_secs(10));
/// let client = Client::builder().token("t").retry(patient).build()?;
/// let no_retries = Client::builder().token("t").retry(RetryConfig::disabled()).build()?;
/// # Ok::<(), peak_press_apps::Error>(())
/// ```
///
/// # A classifier of your own
///
/// [`classifier`](RetryConfig::classifier) decides before the built-in rules, as smithy's retry
/// classifiers do: for a proxy that answers 409 while the service fails over, or a caller that
/// wants no retry after a 500 even for reads. Attempts, backoff and the budget still apply.
///
/// ```
/// use peak_press_apps::{Client, RetryAction, RetryConfig};
///
/// let policy = RetryConfig::default().classifier(|error| match error.status().map(|s| s.as_u16()) {
///     Some(409) if error.request().is_some_and(|r| r.is_idempotent()) => RetryAction::Retry,
///     Some(500) => RetryAction::DoNotRetry,
///     _ => RetryAction::Default,
/// });
/// let client = Client::builder().token("t").retry(policy).build()?;
/// # Ok::<(), peak_press_apps::Error>(())
/// ```
#[derive(Clone)]
pub struct RetryConfig {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    retry_creates: bool,
    budget: u32,
    classifier: Option<Classifier>,
}

/// A caller's own retry decision; see [`RetryConfig::classifier`].
type Classifier = Arc<dyn Fn(&Error) -> RetryAction + Send + Sync>;

/// What a classifier of the caller's own says of a failed attempt; see
/// [`RetryConfig::classifier`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryAction {
    /// Try again, within the attempts and the budget, whatever the built-in rules say. For a
    /// create that may have been applied, that may create a second resource.
    Retry,
    /// Do not try again.
    DoNotRetry,
    /// Let the built-in rules decide ([`Error::is_retryable`]).
    Default,
}

impl fmt::Debug for RetryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryConfig")
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("max_retry_after", &self.max_retry_after)
            .field("retry_creates", &self.retry_creates)
            .field("budget", &self.budget)
            .field("classifier", &self.classifier.as_ref().map(|_| "caller's classifier"))
            .finish()
    }
}

impl PartialEq for RetryConfig {
    /// Equal settings, and the same classifier (the same one shared, not one that acts alike).
    fn eq(&self, other: &Self) -> bool {
        let same_classifier = match (&self.classifier, &other.classifier) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        (self.max_attempts, self.initial_backoff, self.max_backoff, self.max_retry_after)
            == (other.max_attempts, other.initial_backoff, other.max_backoff, other.max_retry_after)
            && (self.retry_creates, self.budget) == (other.retry_creates, other.budget)
            && same_classifier
    }
}

impl Eq for RetryConfig {}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(20),
            retry_creates: false,
            budget: 500,
            classifier: None,
        }
    }
}

impl RetryConfig {
    /// One attempt per call: nothing is retried.
    pub fn disabled() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// The most attempts per call, the first included (4 by default; at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff before the first retry, doubled for each further one (100 ms by default).
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest backoff (5 s by default).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The longest wait a `Retry-After` header may ask for (20 s by default). When the service
    /// asks for more, the call fails at once with [`Error::RetryAfterTooLong`], which carries the
    /// answer and the wait it asked for.
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Retries POSTs (creates and redeploys) like other methods, even when the request may have
    /// reached the server: only for callers who can tolerate a duplicate (off by default).
    pub fn retry_creates(mut self, retry: bool) -> Self {
        self.retry_creates = retry;
        self
    }

    /// The budget shared by clones of a client: a retry costs 5, a retry after a timeout 10, and
    /// a success gives 1 back (500 by default, 0 to refuse every retry).
    pub fn budget(mut self, budget: u32) -> Self {
        self.budget = budget;
        self
    }

    /// A classifier of the caller's own, asked first about each failed attempt: its
    /// [`RetryAction::Retry`] and [`RetryAction::DoNotRetry`] win over the built-in rules, and
    /// [`RetryAction::Default`] leaves the decision to them.
    pub fn classifier(mut self, classify: impl Fn(&Error) -> RetryAction + Send + Sync + 'static) -> Self {
        self.classifier = Some(Arc::new(classify));
        self
    }

    pub(crate) fn attempts(&self) -> u32 {
        self.max_attempts
    }

    pub(crate) fn budget_capacity(&self) -> u32 {
        self.budget
    }

    /// Whether an attempt that ended in `error` may be tried again: as the caller's classifier
    /// says, if it says; else when the error says it is retryable ([`Error::is_retryable`], the
    /// one classification), or, with [`retry_creates`](Self::retry_creates), when it may pass
    /// although a create may have been carried out.
    pub(crate) fn may_retry(&self, error: &Error) -> bool {
        match self.classifier.as_ref().map_or(RetryAction::Default, |classify| classify(error)) {
            RetryAction::Retry => true,
            RetryAction::DoNotRetry => false,
            RetryAction::Default => error.is_retryable() || (self.retry_creates && error.may_succeed_again()),
        }
    }

    /// How long to wait before retry number `retry` (1 for the first), given what is `left` of
    /// the call's deadline. A `Retry-After` is waited as asked, unless it asks for more than
    /// [`max_retry_after`](Self::max_retry_after) or than is left: then the call gives up at once,
    /// since waiting less than the service asked would only be refused again.
    pub(crate) fn wait(&self, retry: u32, retry_after: Option<&HeaderValue>, left: Option<Duration>) -> Wait {
        if let Some(requested) = retry_after.and_then(parse_retry_after) {
            let allowed = left.map_or(self.max_retry_after, |left| left.min(self.max_retry_after));
            return if requested > allowed {
                Wait::TooLong { requested, allowed }
            } else {
                Wait::Backoff(requested)
            };
        }
        let ceiling = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max_backoff);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Wait::Backoff(Duration::from_millis(fastrand::u64(0..=millis)))
    }
}

/// What to do before the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Wait this long, then try again.
    Backoff(Duration),
    /// The service asked for a longer wait than the client may make: give up.
    TooLong {
        /// What the service asked for.
        requested: Duration,
        /// The longest wait the client would make.
        allowed: Duration,
    },
}

/// `Retry-After` as seconds or as an HTTP date.
fn parse_retry_after(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// The retry budget shared by a client's clones.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    balance: Arc<AtomicU32>,
    capacity: u32,
}

const RETRY_COST: u32 = 5;
const TIMEOUT_RETRY_COST: u32 = 10;

impl Budget {
    pub(crate) fn new(capacity: u32) -> Self {
        Self { balance: Arc::new(AtomicU32::new(capacity)), capacity }
    }

    /// Takes the cost of retrying after `error`; false when the budget cannot pay it.
    pub(crate) fn withdraw(&self, error: &Error) -> bool {
        let cost = if matches!(error, Error::Timeout { .. }) { TIMEOUT_RETRY_COST } else { RETRY_COST };
        self.balance.fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| b.checked_sub(cost)).is_ok()
    }

    pub(crate) fn refund(&self) {
        let capacity = self.capacity;
        let _ = self
            .balance
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| (b < capacity).then_some(b + 1));
    }
}
