//! Notifications: a JSON event POSTed to each URL when the state of a resource or of the set
//! changes (once per change, as Argo CD's `oncePer`), never every round. The body has a `text`
//! field, so that a Slack or Teams incoming webhook takes it as it is. A URL that is down is
//! tried a few times in the background; the loop never waits for it.

use std::time::Duration;

use serde::Serialize;

/// How many times a notification is tried.
const ATTEMPTS: u32 = 3;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// A resource differs from files that did not change: someone changed it on the service.
    DriftDetected,
    /// Drift was reverted.
    DriftHealed,
    /// A resource started failing.
    Failing,
    /// A failing resource converged.
    Recovered,
    /// The set's health changed.
    HealthChanged,
}

/// One notification's body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// What happened.
    pub event: EventKind,
    /// `spec`, `deployment`, or `set` for the whole set.
    pub kind: String,
    /// The resource's name; the owner (or `set`) for the whole set.
    pub name: String,
    /// Its health now.
    pub health: String,
    /// Its sync state now.
    pub sync: String,
    /// One sentence for people.
    pub message: String,
    /// The same sentence, for chat webhooks that show `text`.
    pub text: String,
    /// When, as RFC 3339.
    pub at: String,
}

/// Sends notifications to every URL, in the background.
#[derive(Clone)]
pub(crate) struct Notifier {
    urls: Vec<String>,
    http: reqwest::Client,
}

impl Notifier {
    pub(crate) fn new(urls: Vec<String>) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Self { urls, http }
    }

    /// Posts `notification` to every URL, each tried up to [`ATTEMPTS`] times, without waiting.
    pub(crate) fn send(&self, notification: Notification) {
        tracing::info!(target: "press_apps::watch", event = ?notification.event, kind = %notification.kind,
            name = %notification.name, health = %notification.health, "{}", notification.message);
        for url in &self.urls {
            let (http, url, body) = (self.http.clone(), url.clone(), notification.clone());
            tokio::spawn(async move {
                for attempt in 1..=ATTEMPTS {
                    match http.post(&url).json(&body).send().await {
                        Ok(answer) if answer.status().is_success() => return,
                        Ok(answer) => {
                            tracing::warn!(target: "press_apps::watch", status = answer.status().as_u16(),
                            attempt, "a notification was refused")
                        }
                        Err(error) => {
                            tracing::warn!(target: "press_apps::watch", error = %error.without_url(),
                            attempt, "a notification could not be sent")
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
                }
            });
        }
    }
}
