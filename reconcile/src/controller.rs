//! The loop: a round (read the desired state, plan, apply what differs) every interval with
//! jitter, and at once when triggered; each round updates the status, the metrics and, on a
//! change of state, notifies. A failing resource backs off on its own; the others go on.

use std::{
    collections::{BTreeMap, HashMap},
    future::Future,
    sync::{Arc, RwLock},
    time::{Duration, Instant, SystemTime},
};

use peak_press_apps::Client;
use peak_press_apps_engine::{Change, DesiredState, Kind, Options, Stop, apply, plan};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::{
    health::{Health, SyncState},
    metrics::Metrics,
    notify::{EventKind, Notification, Notifier},
    status::{ResourceStatus, RoundRecord, RoundResult, Status, rfc3339},
};

/// Where a round reads the desired state from: the files, read again each round, or anything
/// else a program keeps. An error (a file mid-edit) makes the round write nothing.
pub type Source = Box<dyn Fn() -> Result<DesiredState, String> + Send + Sync>;

/// How the loop runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The time between rounds, before jitter.
    pub interval: Duration,
    /// The share of `interval` by which each wait is lengthened or shortened at random, so that
    /// many watchers do not align (0.1: ±10%).
    pub jitter: f64,
    /// Detect and report drift, write nothing (Argo CD's self-heal off).
    pub report_only: bool,
    /// With pruning, let a round whose desired state is empty prune (a bad checkout would
    /// otherwise delete every app).
    pub allow_empty: bool,
    /// A failing resource is left alone this long after its first failure, doubling with each
    /// further one...
    pub backoff: Duration,
    /// ...up to this.
    pub backoff_cap: Duration,
    /// Where notifications are POSTed.
    pub notify: Vec<String>,
    /// On shutdown, how long the writes in flight may take to finish.
    pub grace: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            jitter: 0.1,
            report_only: false,
            allow_empty: false,
            backoff: Duration::from_secs(10),
            backoff_cap: Duration::from_secs(600),
            notify: Vec::new(),
            grace: Duration::from_secs(30),
        }
    }
}

/// What the loop keeps about one resource between rounds.
#[derive(Debug, Clone, Default)]
struct Memory {
    /// A digest of its desired state at the last round, to tell drift from a file edit.
    desired: Option<String>,
    synced: bool,
    drifted: bool,
    failures: u32,
    backoff_until: Option<Instant>,
    backoff_until_wall: Option<SystemTime>,
    last_error: Option<String>,
    last_change: Option<SystemTime>,
}

/// What the loop shares with its status server and its callers.
pub(crate) struct Shared {
    pub(crate) status: RwLock<Status>,
    pub(crate) metrics: Metrics,
    trigger: Notify,
}

/// A handle on a running loop: its status and metrics, and a way to start a round at once.
#[derive(Clone)]
pub struct Handle(pub(crate) Arc<Shared>);

impl Handle {
    /// The status as the last round left it.
    pub fn status(&self) -> Status {
        self.0.status.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// The metrics in the text format Prometheus scrapes.
    pub fn metrics(&self) -> String {
        self.0.metrics.encode()
    }

    /// Starts a round now (a watched file changed), or right after the one running.
    pub fn trigger(&self) {
        self.0.trigger.notify_one();
    }
}

/// The reconcile loop over a client, a source of desired state and the engine's options.
pub struct Reconciler {
    client: Client,
    source: Source,
    options: Options,
    settings: Settings,
    shared: Arc<Shared>,
    memory: HashMap<(Kind, String), Memory>,
    set_health: Option<Health>,
    stop: Stop,
}

impl Reconciler {
    /// A loop that converges the service behind `client` to what `source` gives, planning and
    /// applying with `options` (owner, pruning, redeploying failed deployments).
    pub fn new(client: Client, source: Source, options: Options, settings: Settings) -> Self {
        let shared = Arc::new(Shared {
            status: RwLock::new(Status::default()),
            metrics: Metrics::new(),
            trigger: Notify::new(),
        });
        Self {
            client,
            source,
            options,
            settings,
            shared,
            memory: HashMap::new(),
            set_health: None,
            stop: Stop::new(),
        }
    }

    /// A handle for the status server, or to trigger rounds.
    pub fn handle(&self) -> Handle {
        Handle(self.shared.clone())
    }

    /// Runs rounds until `shutdown` completes. A round running then begins no more resources,
    /// lets the writes in flight finish (for at most the grace period), and the loop returns.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let notifier = Notifier::new(self.settings.notify.clone());
        loop {
            let (stop, grace) = (self.stop.clone(), self.settings.grace);
            let (interval, jitter) = (self.settings.interval, self.settings.jitter);
            let stopped = {
                let round = self.round_with(&notifier);
                tokio::pin!(round);
                let stopped = tokio::select! {
                    _ = &mut round => false,
                    () = &mut shutdown => true,
                };
                if stopped {
                    stop.stop();
                    let _ = tokio::time::timeout(grace, &mut round).await;
                }
                stopped
            };
            if stopped {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(jittered(interval, jitter)) => {}
                () = self.shared.trigger.notified() => {}
                () = &mut shutdown => return,
            }
        }
    }

    /// One round, on its own: for a program that schedules rounds itself, and for tests.
    pub async fn round(&mut self) -> RoundRecord {
        let notifier = Notifier::new(self.settings.notify.clone());
        self.round_with(&notifier).await
    }

    async fn round_with(&mut self, notifier: &Notifier) -> RoundRecord {
        let started = Instant::now();
        let started_at = SystemTime::now();
        let (result, writes, drift, error) = match self.converge(notifier).await {
            Ok((failed, writes, drift, warning)) => {
                let result = if failed == 0 { RoundResult::Success } else { RoundResult::Partial };
                let error = warning.or_else(|| (failed > 0).then(|| format!("{failed} resources failed")));
                (result, writes, drift, error)
            }
            Err(error) => {
                tracing::warn!(target: "press_apps::watch", error = %error, "the round wrote nothing");
                (RoundResult::Error, 0, 0, Some(error))
            }
        };
        let elapsed = started.elapsed();
        let ended = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        self.shared.metrics.round(result.as_str(), elapsed.as_secs_f64(), ended.as_secs_f64());
        let record = RoundRecord {
            started: rfc3339(started_at),
            duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            result,
            writes,
            drift,
            error,
        };
        tracing::info!(target: "press_apps::watch", result = result.as_str(), writes, drift,
            duration_ms = record.duration_ms, "round");
        let mut status = self.shared.status.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        status.ready = true;
        status.push_round(record.clone());
        record
    }

    /// Reads, plans and applies; returns the resources that failed, the writes, the drift and a
    /// warning.
    async fn converge(
        &mut self,
        notifier: &Notifier,
    ) -> Result<(usize, usize, usize, Option<String>), String> {
        let desired =
            (self.source)().map_err(|error| format!("the desired state cannot be read: {error}"))?;
        let mut options = Options { stop: Some(self.stop.clone()), wait: None, ..self.options.clone() };
        let mut warning = None;
        let empty = desired.specs.is_empty() && desired.deployments.is_empty();
        if options.prune && empty && !self.settings.allow_empty {
            options.prune = false;
            warning = Some(
                "the desired state is empty: nothing was pruned (allow an empty set to prune it)".to_owned(),
            );
        }
        let planned = plan(&self.client, &desired, &options).await.map_err(|error| error.to_string())?;
        let digests = desired_digests(&desired);
        let now = Instant::now();

        // Drift: out of sync although the files did not change since a round found it in sync.
        let mut drift = 0;
        for change in &planned.resources {
            let key = (change.kind, change.name.clone());
            let memory = self.memory.entry(key.clone()).or_default();
            let desired = digests.get(&key).cloned();
            let drifted = memory.synced
                && memory.desired.is_some()
                && memory.desired == desired
                && SyncState::of(change) == SyncState::OutOfSync
                && change.id.is_some();
            if drifted && !memory.drifted {
                drift += 1;
                notifier.send(change_notification(
                    EventKind::DriftDetected,
                    change,
                    "differs from the files, which did not change: changed outside them",
                ));
            }
            memory.drifted = drifted || (memory.drifted && SyncState::of(change) == SyncState::OutOfSync);
            memory.desired = desired;
        }
        self.shared.metrics.drift(drift);

        // What is applied: everything out of sync, except what is backing off.
        let mut applied = planned.clone();
        for change in &mut applied.resources {
            let memory = self.memory.get(&(change.kind, change.name.clone()));
            if memory.and_then(|m| m.backoff_until).is_some_and(|until| until > now) {
                change.operations.clear();
                change.problem = None;
            }
        }
        let (report, writes) = if self.settings.report_only {
            (None, 0)
        } else {
            let report = apply(&self.client, &self.client, &applied, &options, &|_| {}).await;
            for done in &report.done {
                self.shared.metrics.write(done.action.as_str());
            }
            let writes = report.done.len();
            (Some(report), writes)
        };

        // Each resource's state after the round.
        let failed: BTreeMap<(Kind, String), String> = report
            .iter()
            .flat_map(|report| &report.failed)
            .map(|failed| ((failed.kind, failed.name.clone()), planned.redact(&failed.error.to_string())))
            .collect();
        // What was done, with the ids of what was created.
        let done: BTreeMap<(Kind, String), String> = report
            .iter()
            .flat_map(|report| &report.done)
            .map(|d| ((d.kind, d.name.clone()), d.id.clone()))
            .collect();
        let mut resources = Vec::new();
        for change in &planned.resources {
            let key = (change.kind, change.name.clone());
            let mut health = Health::of(change);
            let mut sync = SyncState::of(change);
            let backing_off = applied.resources.iter().any(|c| {
                c.kind == change.kind
                    && c.name == change.name
                    && c.operations.is_empty()
                    && !change.operations.is_empty()
            });
            let memory = self.memory.entry(key.clone()).or_default();
            if done.contains_key(&key) && !failed.contains_key(&key) {
                sync = SyncState::Synced;
                memory.last_change = Some(SystemTime::now());
                if health == Health::Missing || health == Health::Degraded || change.kind == Kind::Deployment
                {
                    health =
                        if change.kind == Kind::Deployment { Health::Progressing } else { Health::Healthy };
                }
            }
            if let Some(error) = failed.get(&key) {
                memory.failures += 1;
                let wait = backoff(self.settings.backoff, self.settings.backoff_cap, memory.failures);
                memory.backoff_until = Some(now + wait);
                memory.backoff_until_wall = Some(SystemTime::now() + wait);
                if memory.last_error.is_none() {
                    memory.last_error = Some(error.clone());
                    let message = format!("failing: {error}");
                    let resource = ResourceStatus { health, sync, ..placeholder(change) };
                    notifier.send(notification(EventKind::Failing, &resource, &message));
                }
                memory.last_error = Some(error.clone());
            } else if !backing_off && sync == SyncState::Synced {
                if memory.last_error.take().is_some() {
                    let resource = ResourceStatus { health, sync, ..placeholder(change) };
                    notifier.send(notification(
                        EventKind::Recovered,
                        &resource,
                        "recovered: as the files say",
                    ));
                }
                if memory.drifted && !self.settings.report_only {
                    memory.drifted = false;
                    let resource = ResourceStatus { health, sync, ..placeholder(change) };
                    notifier.send(notification(
                        EventKind::DriftHealed,
                        &resource,
                        "drift healed: back to what the files say",
                    ));
                }
                memory.failures = 0;
                memory.backoff_until = None;
                memory.backoff_until_wall = None;
            }
            memory.synced = sync == SyncState::Synced;
            resources.push(ResourceStatus {
                kind: change.kind,
                name: change.name.clone(),
                id: change.id.clone().or_else(|| done.get(&key).cloned()),
                health,
                sync,
                last_change: memory.last_change.map(rfc3339),
                last_error: memory.last_error.clone(),
                backoff_until: memory.backoff_until_wall.map(rfc3339),
            });
        }
        self.publish(resources, notifier);
        Ok((failed.len(), writes, drift, warning))
    }

    /// Updates the status and the resource metrics, and notifies a change of the set's health.
    fn publish(&mut self, resources: Vec<ResourceStatus>, notifier: &Notifier) {
        let health = resources.iter().map(|r| r.health).max().unwrap_or(Health::Healthy);
        let mut counts: BTreeMap<(String, String, String), i64> = BTreeMap::new();
        for resource in &resources {
            let key = (
                resource.kind.as_str().to_owned(),
                resource.health.as_str().to_owned(),
                resource.sync.as_str().to_owned(),
            );
            *counts.entry(key).or_default() += 1;
        }
        self.shared.metrics.resources(counts);
        if self.set_health.is_some_and(|before| before != health) {
            let name = self.options.owner.clone().unwrap_or_else(|| "set".to_owned());
            let message = format!("the set's health is now {}", health.as_str());
            let sync = if resources.iter().all(|r| r.sync == SyncState::Synced) {
                SyncState::Synced
            } else {
                SyncState::OutOfSync
            };
            notifier.send(Notification {
                event: EventKind::HealthChanged,
                kind: "set".to_owned(),
                name,
                health: health.as_str().to_owned(),
                sync: sync.as_str().to_owned(),
                text: message.clone(),
                message,
                at: rfc3339(SystemTime::now()),
            });
        }
        self.set_health = Some(health);
        let mut status = self.shared.status.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        status.health = health;
        status.resources = resources;
    }
}

/// A notification about `change` as the plan found it.
fn change_notification(event: EventKind, change: &Change, what: &str) -> Notification {
    let resource =
        ResourceStatus { health: Health::of(change), sync: SyncState::of(change), ..placeholder(change) };
    notification(event, &resource, what)
}

fn placeholder(change: &Change) -> ResourceStatus {
    ResourceStatus {
        kind: change.kind,
        name: change.name.clone(),
        id: change.id.clone(),
        health: Health::Unknown,
        sync: SyncState::OutOfSync,
        last_change: None,
        last_error: None,
        backoff_until: None,
    }
}

fn notification(event: EventKind, resource: &ResourceStatus, what: &str) -> Notification {
    let message = format!("{} {}: {what}", resource.kind.as_str(), resource.name);
    Notification {
        event,
        kind: resource.kind.as_str().to_owned(),
        name: resource.name.clone(),
        health: resource.health.as_str().to_owned(),
        sync: resource.sync.as_str().to_owned(),
        text: message.clone(),
        message,
        at: rfc3339(SystemTime::now()),
    }
}

/// A digest of each resource's desired state, to tell a file edit from drift.
fn desired_digests(desired: &DesiredState) -> HashMap<(Kind, String), String> {
    let digest = |value: serde_json::Value| -> String {
        Sha256::digest(value.to_string().as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect()
    };
    let specs = desired
        .specs
        .iter()
        .map(|s| ((Kind::Spec, s.name().to_owned()), digest(serde_json::to_value(s).unwrap_or_default())));
    let deployments = desired.deployments.iter().map(|d| {
        ((Kind::Deployment, d.name().to_owned()), digest(serde_json::to_value(d).unwrap_or_default()))
    });
    specs.chain(deployments).collect()
}

/// The wait after the `failures`-th failure in a row: doubling from `base`, at most `cap`.
fn backoff(base: Duration, cap: Duration, failures: u32) -> Duration {
    base.saturating_mul(1 << failures.saturating_sub(1).min(20)).min(cap)
}

/// `interval` lengthened or shortened by up to `jitter` of it, at random.
fn jittered(interval: Duration, jitter: f64) -> Duration {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    // Spread over [-1, 1) from the clock's nanoseconds: enough to keep watchers apart.
    let spread = f64::from(nanos % 2_000_000) / 1_000_000.0 - 1.0;
    interval.mul_f64((1.0 + jitter.clamp(0.0, 1.0) * spread).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_jitter_stays_within_its_share() {
        let (base, cap) = (Duration::from_secs(10), Duration::from_secs(60));
        let waits: Vec<u64> = (1..=5).map(|n| backoff(base, cap, n).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 60, 60]);
        for _ in 0..100 {
            let wait = jittered(Duration::from_secs(60), 0.1).as_secs_f64();
            assert!((54.0..=66.0).contains(&wait), "{wait}");
        }
    }
}
