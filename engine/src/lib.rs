//! Declarative plan and apply for Peak's Press Apps: the files a team keeps in its repository are
//! the truth, and the service is converged to them.
//!
//! The engine takes a [`DesiredState`] (the specs and deployments that should exist, read from
//! the same files as `press-apps specs create` and `deployments create`), compares it with the
//! service through a [`Client`](peak_press_apps::Client) and returns a typed [`Plan`]; [`apply`]
//! carries a plan out. The `press-apps plan` and `apply` commands are this crate with files
//! and printing around it; a Rust deployment tool can use it directly.
//!
//! ```
//! use peak_press_apps::{Client, types::{NewSpec, NewSpecMetadata, ReleaseInput}};
//! use peak_press_apps_engine::{DesiredSpec, DesiredState, Options, apply, plan};
//! use peak_press_apps_emulator::Emulator;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = Emulator::start().await?;
//! let client = Client::builder().base_url(emulator.base_url()).token("any").build()?;
//! let spec = NewSpec::builder()
//!     .metadata(NewSpecMetadata::builder().name("churn").summary("Predicts churn"))
//!     .release(ReleaseInput::builder().version("1.0.0").notes("First"))
//!     .config(vec![]);
//! let desired = DesiredState {
//!     specs: vec![DesiredSpec { body: spec.try_into()?, featured: None, scope: None, tenants: vec![], parameters: None }],
//!     deployments: vec![],
//! };
//! let options = Options { owner: Some("team-a".into()), ..Options::default() };
//!
//! let first = plan(&client, &desired, &options).await?;
//! assert_eq!(first.summary().create, 1);
//! let report = apply(&client, &client, &first, &options, &|event| println!("{} {}", event.name, event.what)).await;
//! assert!(report.failed.is_empty());
//! // Applied once, the files and the service agree: nothing left to do.
//! assert!(!plan(&client, &desired, &options).await?.has_changes());
//! # Ok(()) }
//! ```
//!
//! # What is compared
//!
//! A spec is found by its metadata name, a deployment by its own. A file says only what it cares
//! about: fields it leaves out are not differences, nor are parameters that the service fills
//! with their defaults. A spec's release version ahead of the service's latest is published; the
//! same version with other contents is refused (releases are immutable); one behind is reported
//! as drift. A deployment whose release or parameter values differ from its latest revision's
//! gets a new revision.
//!
//! # What apply writes besides the files' contents
//!
//! Both are visible in the service and documented, so that nothing is hidden state:
//! - with an owner, the tag `press-apps.owner:NAME` on every spec and deployment it manages;
//!   pruning deletes only what carries its own owner's tag, so two repositories never prune each
//!   other's apps;
//! - when a deployment's values include parameters with `hideValue` (which the service masks
//!   when it shows them), a line `press-apps hidden values: DIGEST` at the end of the revision's
//!   notes. The digest is the first 96 bits of a SHA-256 of the deployment's name and those
//!   values: a changed secret makes a new revision and an unchanged one does not, without the
//!   secret being kept anywhere. Like any digest of a secret, it lets someone who can read the
//!   notes test guesses of a weak secret.
//!
//! Block parameters (`parameters`, by block name) are sent with each new deployment and revision
//! but not compared: the service does not show them back.
//!
//! # Safe to run again
//!
//! Every write is safe to repeat: a create that conflicts means another apply made it; after an
//! answer that leaves unknown whether a write happened, the resource is read back before the
//! write is repeated; and a revision is looked for before it is made. An apply interrupted at any
//! point and run again converges to the same state.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod apply;
mod compare;
mod desired;
mod export;
mod marks;
mod plan;
mod planner;
mod saved;
mod values;

use std::time::Duration;

pub use apply::{ApplyReport, Done, Event, Failed, apply};
pub use compare::FieldChange;
pub use desired::{
    DeploymentBody, DesiredDeployment, DesiredSpec, DesiredState, RevisionNotes, SpecSelector,
};
pub use export::{Export, export};
pub use plan::{
    Action, Change, Kind, MASK, Operation, PLAN_FORMAT_VERSION, Plan, Problem, ProblemKind, SpecTarget,
    Summary, to_json,
};
pub use planner::plan;
pub use saved::{
    SAVED_PLAN_VERSION, SavedOptions, SavedPlan, SavedPlanError, Stale, StaleResource, Target, check_fresh,
};

/// How many resources are written at once.
const CONCURRENCY: usize = 8;

/// How many resources a plan reads at once: reads change nothing, and a plan of thousands of
/// resources is one read each, so more of them are in flight than writes.
const READ_CONCURRENCY: usize = 32;

/// How long pruning waits for a deleted deployment to be gone before deleting its spec, unless
/// `wait` says otherwise.
const DELETE_WAIT: Duration = Duration::from_secs(15 * 60);

/// How plan and apply treat what the files do not say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// The set of files the resources belong to: apply marks what it manages with it, and only
    /// what carries it is pruned.
    pub owner: Option<String>,
    /// Delete what this owner's set created earlier and the files no longer name.
    pub prune: bool,
    /// Deploy failed deployments again.
    pub redeploy_failed: bool,
    /// With apply: wait this long for every deployment it touched to be deployed.
    pub wait: Option<Duration>,
    /// With apply: once stopped, no resource not yet begun is begun (each is reported as
    /// skipped); the writes of those begun finish. A long-running loop's shutdown.
    pub stop: Option<Stop>,
}

/// A shared flag that tells a running apply to begin no more resources.
#[derive(Debug, Clone, Default)]
pub struct Stop(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Stop {
    /// A flag not raised yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises it: every apply holding it begins no more resources.
    pub fn stop(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether it was raised.
    pub fn is_stopped(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl PartialEq for Stop {
    /// The same flag, not merely in the same state.
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Why a plan could not be made, or why a resource was not applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The desired state contradicts itself: a name twice, a spec that exists nowhere.
    #[error("{0}")]
    Invalid(String),
    /// Apply refuses this change (see [`ProblemKind::Refused`]).
    #[error("refused: {0}")]
    Refused(String),
    /// The service would not show what the plan of this resource needed
    /// (see [`ProblemKind::Unreadable`]).
    #[error("{0}")]
    Unreadable(String),
    /// Not attempted: what it depends on failed.
    #[error("skipped: {0}")]
    Skipped(String),
    /// The service or the connection failed.
    #[error(transparent)]
    Client(#[from] peak_press_apps::Error),
}
