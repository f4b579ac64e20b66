//! What the loop knows and shows: every resource with its health, sync state, last change and
//! last error, and the last rounds. The status page, `/status` and the metrics read this.

use std::{collections::VecDeque, time::SystemTime};

use peak_press_apps_engine::Kind;
use serde::Serialize;

use crate::health::{Health, SyncState};

/// The version of `/status`'s JSON, for scripts that read it.
pub const STATUS_FORMAT_VERSION: u32 = 1;

/// How many rounds the status keeps.
const ROUNDS_KEPT: usize = 20;

/// The loop's view of the set.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// [`STATUS_FORMAT_VERSION`].
    pub format_version: u32,
    /// Whether a round has completed (what `/readyz` answers).
    pub ready: bool,
    /// The worst health of the resources; `Healthy` for none.
    pub health: Health,
    /// Every resource of the files, and every orphan of the owner.
    pub resources: Vec<ResourceStatus>,
    /// The last rounds, newest first.
    pub rounds: VecDeque<RoundRecord>,
}

/// One resource as the last round left it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStatus {
    /// A spec or a deployment.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// Its id, once it exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its health.
    pub health: Health,
    /// Whether the service matches the files.
    pub sync: SyncState,
    /// When the loop last changed it, as RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_change: Option<String>,
    /// Why the last attempt failed, while it keeps failing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Until when it is left alone after failing, as RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_until: Option<String>,
}

/// One round.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundRecord {
    /// When it started, as RFC 3339.
    pub started: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// `success`, `partial` (some resources failed) or `error` (nothing could be planned).
    pub result: RoundResult,
    /// The writes it made.
    pub writes: usize,
    /// Drift it found: resources that differ from files that did not change.
    pub drift: usize,
    /// Why it failed, or what it left undone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How a round ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoundResult {
    /// Every resource converged (or, reporting only, was checked).
    Success,
    /// Some resources failed; the others converged.
    Partial,
    /// Nothing was planned: the files could not be read, or the service listed.
    Error,
}

impl RoundResult {
    /// Its name, as the metrics' `result` label spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            RoundResult::Success => "success",
            RoundResult::Partial => "partial",
            RoundResult::Error => "error",
        }
    }
}

impl Default for Status {
    fn default() -> Self {
        Self {
            format_version: STATUS_FORMAT_VERSION,
            ready: false,
            health: Health::Healthy,
            resources: Vec::new(),
            rounds: VecDeque::new(),
        }
    }
}

impl Status {
    /// Adds a round, keeping the last ones.
    pub(crate) fn push_round(&mut self, round: RoundRecord) {
        self.rounds.push_front(round);
        self.rounds.truncate(ROUNDS_KEPT);
    }
}

/// A time as RFC 3339, to the second.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}
