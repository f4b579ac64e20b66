//! Waiting for a deployment to settle, by polling it.

use std::{
    fmt,
    time::{Duration, Instant},
};

use crate::{Client, DeploymentStatus, Error, Result, types::Deployment};

/// How long a wait lasts unless told otherwise.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The wait before the first poll after the first, unless told otherwise.
pub const DEFAULT_FIRST_INTERVAL: Duration = Duration::from_millis(250);

/// The longest wait between two polls unless told otherwise.
pub const DEFAULT_MAX_INTERVAL: Duration = Duration::from_secs(15);

type StatusCallback<'c> = Box<dyn FnMut(&DeploymentStatus) + Send + 'c>;

/// Waiting for a deployment to settle: deployed after a create, a new revision or a redeploy, or
/// gone after a delete.
///
/// A waiter polls [`Client::describe_deployment`], so every poll has the client's retries,
/// timeouts and tracing. The first poll comes soon, then the interval doubles, with jitter, up to
/// a cap. A status that cannot lead to the one waited for ends the wait with
/// [`Error::DeploymentFailed`], which carries the deployment as last seen; the time limit ends it
/// with [`Error::WaitTimedOut`], which says how long it waited and how often it looked. Dropping
/// the future stops the polling.
///
/// ```no_run
/// # async fn example(client: peak_press_apps::Client, deployment_id: &str) -> peak_press_apps::Result<()> {
/// use std::time::Duration;
/// use peak_press_apps::Error;
///
/// let waited = client
///     .wait_for_deployment(deployment_id)
///     .timeout(Duration::from_secs(600))
///     .on_status(|status| eprintln!("deployment is {status}"))
///     .deployed()
///     .await;
/// match waited {
///     Ok(deployment) => println!("deployed: {}", deployment.metadata.name),
///     Err(Error::DeploymentFailed { status, .. }) => eprintln!("settled as {status}"),
///     Err(other) => return Err(other),
/// }
/// # Ok(()) }
/// ```
///
/// A wait for one deployment, from [`Client::wait_for_deployment`].
#[must_use = "a waiter does nothing until `deployed()` or `gone()` is awaited"]
pub struct DeploymentWaiter<'c> {
    client: &'c Client,
    deployment_id: String,
    timeout: Duration,
    first_interval: Duration,
    max_interval: Duration,
    on_status: Option<StatusCallback<'c>>,
}

impl fmt::Debug for DeploymentWaiter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeploymentWaiter")
            .field("deployment_id", &self.deployment_id)
            .field("timeout", &self.timeout)
            .field("first_interval", &self.first_interval)
            .field("max_interval", &self.max_interval)
            .field("on_status", &self.on_status.as_ref().map(|_| "a callback"))
            .finish()
    }
}

/// What one poll means for the wait.
enum Step<T> {
    Done(T),
    Wait,
}

impl<'c> DeploymentWaiter<'c> {
    /// How long to wait in all ([`DEFAULT_WAIT_TIMEOUT`] unless set).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The wait before the second poll, doubled for each further one up to `max`
    /// ([`DEFAULT_FIRST_INTERVAL`] and [`DEFAULT_MAX_INTERVAL`] unless set). The first poll is
    /// made at once.
    pub fn poll_interval(mut self, first: Duration, max: Duration) -> Self {
        self.first_interval = first;
        self.max_interval = max.max(first);
        self
    }

    /// Called with each status the waiter sees for the first time in a row, the first one
    /// included: to show progress.
    pub fn on_status(mut self, callback: impl FnMut(&DeploymentStatus) + Send + 'c) -> Self {
        self.on_status = Some(Box::new(callback));
        self
    }

    /// Waits until the deployment is `deployed`, and returns it as described then. A status from
    /// which it cannot get there by itself (`failed`, `warning`, `delete_failed`, `deleting`,
    /// `platform_resource_error`, `rollback_complete`, `rollback_failed`) ends the wait with
    /// [`Error::DeploymentFailed`]; a deployment that is gone, with [`Error::NotFound`].
    pub async fn deployed(self) -> Result<Deployment> {
        self.poll(|described| {
            let deployment = described?;
            match deployment.metadata.status.clone() {
                Some(DeploymentStatus::Deployed) => Ok(Step::Done(deployment)),
                Some(
                    status @ (DeploymentStatus::Failed
                    | DeploymentStatus::Warning
                    | DeploymentStatus::DeleteFailed
                    | DeploymentStatus::Deleting
                    | DeploymentStatus::PlatformResourceError
                    | DeploymentStatus::RollbackComplete
                    | DeploymentStatus::RollbackFailed),
                ) => Err(Error::DeploymentFailed { status, deployment: Box::new(deployment) }),
                // Every known status has its arm, so that a status added to the document (and so to
                // the model) does not compile until it is placed here.
                Some(
                    DeploymentStatus::Deploying
                    | DeploymentStatus::Redeploying
                    | DeploymentStatus::Rollback
                    | DeploymentStatus::Unknown(_),
                )
                | None => Ok(Step::Wait),
            }
        })
        .await
    }

    /// Waits until the deployment is gone (the service answers 404), as after
    /// [`Client::delete_deployment`]. `delete_failed` ends the wait with
    /// [`Error::DeploymentFailed`].
    pub async fn gone(self) -> Result<()> {
        self.poll(|described| match described {
            Err(error) if error.is_not_found() => Ok(Step::Done(())),
            Err(other) => Err(other),
            Ok(deployment) => match deployment.metadata.status.clone() {
                Some(status @ DeploymentStatus::DeleteFailed) => {
                    Err(Error::DeploymentFailed { status, deployment: Box::new(deployment) })
                }
                // Still there: deleting, or in any other status, known or not, until it is gone.
                _ => Ok(Step::Wait),
            },
        })
        .await
    }

    async fn poll<T>(mut self, mut settle: impl FnMut(Result<Deployment>) -> Result<Step<T>>) -> Result<T> {
        let started = Instant::now();
        let mut interval = self.first_interval;
        let mut polls = 0;
        let mut last_status = None;
        loop {
            polls += 1;
            let described = self.client.describe_deployment(&self.deployment_id).await;
            if let Ok(status) = described.as_ref().map(|d| d.metadata.status.clone())
                && status != last_status
            {
                if let (Some(callback), Some(status)) = (self.on_status.as_mut(), status.as_ref()) {
                    callback(status);
                }
                last_status = status;
            }
            if let Step::Done(value) = settle(described)? {
                return Ok(value);
            }
            let waited = started.elapsed();
            let Some(left) = self.timeout.checked_sub(waited).filter(|left| !left.is_zero()) else {
                return Err(Error::WaitTimedOut {
                    deployment_id: self.deployment_id,
                    waited,
                    polls,
                    last_status,
                });
            };
            // Full jitter on the upper half, so that many waiters do not poll in step.
            let jittered = interval.mul_f64(0.5 + fastrand::f64() / 2.0);
            tokio::time::sleep(jittered.min(left)).await;
            interval = interval.saturating_mul(2).min(self.max_interval);
        }
    }
}

impl Client {
    /// A wait for deployment `deployment_id` to settle; finish it with
    /// [`deployed`](DeploymentWaiter::deployed) or [`gone`](DeploymentWaiter::gone), as
    /// [`DeploymentWaiter`] explains.
    pub fn wait_for_deployment(&self, deployment_id: &str) -> DeploymentWaiter<'_> {
        DeploymentWaiter {
            client: self,
            deployment_id: deployment_id.to_owned(),
            timeout: DEFAULT_WAIT_TIMEOUT,
            first_interval: DEFAULT_FIRST_INTERVAL,
            max_interval: DEFAULT_MAX_INTERVAL,
            on_status: None,
        }
    }
}
