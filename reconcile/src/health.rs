//! Health and sync state, as Argo CD names them: health from what the service reports, sync
//! from whether the service matches the files.

use peak_press_apps_engine::{Change, Kind, Operation, ProblemKind};
use serde::Serialize;

/// How a resource is doing on the service. Ordered from best to worst: a set's health is the
/// worst of its resources'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Health {
    /// Deployed; a spec whose latest release is the files'.
    Healthy,
    /// Deploying, redeploying, rolling back, or a new release or revision on its way.
    Progressing,
    /// The service reports a status not known here, or would not show the resource.
    Unknown,
    /// Named in the files, absent from the service.
    Missing,
    /// Failed, or unable to reach what the files say (a file's mistake, a release changed without
    /// a new version).
    Degraded,
}

impl Health {
    /// Its name, as the status page, the JSON status and the metrics' `health` label spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "Healthy",
            Health::Progressing => "Progressing",
            Health::Unknown => "Unknown",
            Health::Missing => "Missing",
            Health::Degraded => "Degraded",
        }
    }

    /// A resource's health as the plan found it.
    pub fn of(change: &Change) -> Health {
        if change.id.is_none() {
            return Health::Missing;
        }
        match change.problem.as_ref().map(|problem| problem.kind) {
            // Wrong in the files, or refused: it cannot reach what the files say.
            Some(ProblemKind::Refused | ProblemKind::Invalid) => return Health::Degraded,
            Some(_) => return Health::Unknown,
            None => {}
        }
        match change.kind {
            Kind::Spec => {
                let releasing =
                    change.operations.iter().any(|op| matches!(op, Operation::CreateRelease { .. }));
                if releasing { Health::Progressing } else { Health::Healthy }
            }
            Kind::Deployment => match change.status.as_deref() {
                Some("deployed") => Health::Healthy,
                Some("deploying" | "redeploying" | "rollback" | "deleting") => Health::Progressing,
                Some(
                    "failed"
                    | "delete_failed"
                    | "platform_resource_error"
                    | "rollback_failed"
                    | "rollback_complete"
                    | "warning",
                ) => Health::Degraded,
                _ => Health::Unknown,
            },
        }
    }
}

/// Whether the service matches the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SyncState {
    /// As the files say.
    Synced,
    /// Something to do, or refused.
    OutOfSync,
}

impl SyncState {
    /// Its name, as the status page, the JSON status and the metrics' `sync` label spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Synced => "Synced",
            SyncState::OutOfSync => "OutOfSync",
        }
    }

    /// A resource's sync state as the plan found it.
    pub fn of(change: &Change) -> SyncState {
        if change.operations.is_empty() && change.problem.is_none() {
            SyncState::Synced
        } else {
            SyncState::OutOfSync
        }
    }
}
