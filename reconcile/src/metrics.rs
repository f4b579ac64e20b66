//! The loop's Prometheus metrics, through the Prometheus project's own client crate: rounds by
//! result and their durations, resources by kind, health and sync state, drift, writes by
//! operation, and the time of the last successful round.

use std::sync::atomic::AtomicU64;

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResourceLabels {
    kind: String,
    health: String,
    sync: String,
}

/// The metrics and the registry that encodes them.
pub(crate) struct Metrics {
    registry: Registry,
    rounds: Family<ResultLabel, Counter>,
    duration: Histogram,
    resources: Family<ResourceLabels, Gauge>,
    drift: Counter,
    writes: Family<OperationLabel, Counter>,
    last_success: Gauge<f64, AtomicU64>,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let rounds = Family::<ResultLabel, Counter>::default();
        // Counters are encoded with `_total` after the name registered.
        registry.register("press_apps_reconcile", "Reconcile rounds, by result", rounds.clone());
        let duration = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        registry.register("press_apps_reconcile_duration_seconds", "How long a round took", duration.clone());
        let resources = Family::<ResourceLabels, Gauge>::default();
        registry.register(
            "press_apps_resources",
            "Resources of the files, by kind, health and sync state",
            resources.clone(),
        );
        let drift = Counter::default();
        registry.register("press_apps_drift", "Resources found changed outside the files", drift.clone());
        let writes = Family::<OperationLabel, Counter>::default();
        registry.register("press_apps_writes", "Writes sent, by operation", writes.clone());
        let last_success = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "press_apps_last_success_timestamp_seconds",
            "When the last round without a failure ended, in seconds since the epoch",
            last_success.clone(),
        );
        Self { registry, rounds, duration, resources, drift, writes, last_success }
    }

    pub(crate) fn round(&self, result: &str, seconds: f64, ended_at: f64) {
        self.rounds.get_or_create(&ResultLabel { result: result.to_owned() }).inc();
        self.duration.observe(seconds);
        if result == "success" {
            self.last_success.set(ended_at);
        }
    }

    pub(crate) fn drift(&self, count: usize) {
        self.drift.inc_by(count as u64);
    }

    pub(crate) fn write(&self, operation: &str) {
        self.writes.get_or_create(&OperationLabel { operation: operation.to_owned() }).inc();
    }

    /// Replaces the resource counts with `counts` of (kind, health, sync).
    pub(crate) fn resources(&self, counts: impl IntoIterator<Item = ((String, String, String), i64)>) {
        self.resources.clear();
        for ((kind, health, sync), count) in counts {
            self.resources.get_or_create(&ResourceLabels { kind, health, sync }).set(count);
        }
    }

    /// The text format Prometheus scrapes (OpenMetrics).
    pub(crate) fn encode(&self) -> String {
        let mut text = String::new();
        let _ = encode(&mut text, &self.registry);
        text
    }
}
