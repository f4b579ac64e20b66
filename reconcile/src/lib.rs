//! A reconcile loop for Peak's Press Apps: the service kept equal to a desired state, round
//! after round, as Argo CD and Flux keep a cluster equal to a repository.
//!
//! A round reads the desired state from its [`Source`] (the files, read again), plans with the
//! engine, and applies what differs: drift made on the service is reverted within one interval.
//! Rounds run every interval with jitter and at once when [`Handle::trigger`] is called (a file
//! changed). A resource that fails backs off on its own, doubling its wait, and never holds up
//! the others; a round whose source cannot be read writes nothing. Each round updates the
//! [`Status`] (every resource's [`Health`] and [`SyncState`], the last rounds), the Prometheus
//! metrics, and, on a change of state, sends [`Notification`]s. [`router`] serves the status
//! page, `/status`, `/metrics`, `/healthz` and `/readyz`. `press-apps watch` is this crate with
//! files and flags around it.
//!
//! ```
//! use std::time::Duration;
//! use peak_press_apps::Client;
//! use peak_press_apps_engine::{DesiredState, Options};
//! use peak_press_apps_emulator::Emulator;
//! use peak_press_apps_reconcile::{Reconciler, Settings};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = Emulator::start().await?;
//! let client = Client::builder().base_url(emulator.base_url()).token("any").build()?;
//! // The desired state: here none; a program gives its own, such as files read again.
//! let source = Box::new(|| Ok::<_, String>(DesiredState::default()));
//! let settings = Settings { interval: Duration::from_secs(30), ..Settings::default() };
//! let reconciler = Reconciler::new(client, source, Options::default(), settings);
//! let handle = reconciler.handle();
//! // Runs until the future given completes: here, at once after the first round.
//! reconciler.run(async {}).await;
//! assert!(handle.status().rounds.len() <= 1);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod controller;
mod health;
mod metrics;
mod notify;
mod server;
mod status;

pub use controller::{Handle, Reconciler, Settings, Source};
pub use health::{Health, SyncState};
pub use notify::{EventKind, Notification};
pub use server::router;
pub use status::{ResourceStatus, RoundRecord, RoundResult, STATUS_FORMAT_VERSION, Status};
