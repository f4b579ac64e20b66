//! A faithful, stateful local emulator of Peak's Press Apps API.
//!
//! It serves the 17 operations of the OpenAPI document in this repository, from memory or a
//! SQLite file, with
//! the service's rules (unique names, ordered semantic versions, the deployment lifecycle,
//! hidden parameter values) and its errors, so that clients in any language can be developed
//! and tested offline. It is an independent implementation of the document: it shares no code
//! with the `peak-press-apps` client.
//!
//! # In tests
//!
//! ```
//! use std::time::Duration;
//! use peak_press_apps_emulator::Emulator;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let emulator = Emulator::builder().deploy_delay(Duration::ZERO).start().await?;
//! let url = format!("{}/v1/apps/specs/", emulator.base_url());
//! // ... point a client at `emulator.base_url()` with any non-empty token ...
//! emulator.shutdown().await;
//! # let _ = url;
//! # Ok(())
//! # }
//! ```
//!
//! The emulator binds 127.0.0.1 on a free port and stops when dropped or shut down.
//!
//! # Lifecycle
//!
//! Specs start `available`. A new deployment, and a new revision, start `deploying` and become
//! `deployed` after the deploy delay; the revision deployed before becomes `superseded`.
//! `redeploy` (only from `failed` or `warning`) sets the deployment `redeploying` and its latest
//! revision `deploying`, then both `deployed`. A deleted deployment reports `deleting` for the deploy delay, then is gone.
//!
//! `POST /_emulator/deployments/{deploymentId}/status` with `{"status": "failed"}` (any
//! deployment status) sets a deployment's status and its latest revision's, to test redeploys
//! and error paths. It needs no token and is not part of the published document.
//!
//! Values of parameters defined with `hideValue: true` are returned as [`MASK`].
//!
//! # State: fixtures, files, resets
//!
//! The whole state goes out and comes back in as one versioned JSON document, so that a test can
//! start from a fixture or a colleague's state; with [`EmulatorBuilder::data`] it lives in a
//! SQLite file instead, and survives restarts.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use peak_press_apps_emulator::Emulator;
//!
//! let original = Emulator::start().await?;
//! // ... create specs and deployments through any client ...
//! let fixture = original.export_state();
//! assert_eq!(fixture["format"], "peak-press-apps-emulator/state");
//!
//! // Another emulator starts from it, and keeps what follows in a file.
//! let file = std::env::temp_dir().join(format!("press-apps-doc-{}.sqlite", std::process::id()));
//! let sandbox = Emulator::builder().state(fixture).data(&file).start().await?;
//! sandbox.reset().await?; // back to nothing, in the file too
//! # sandbox.shutdown().await;
//! # let _ = std::fs::remove_file(&file);
//! # Ok(())
//! # }
//! ```
//!
//! # Tenants
//!
//! The service is multi-tenant, and so is the emulator when its tokens name tenants
//! ([`EmulatorBuilder::tenant_token`], or `--token TOKEN=TENANT`). Each tenant has its own specs
//! and deployments, with names unique within it. A spec's `scope` decides who else sees it:
//! `private` only its tenant, `shared` also the tenants it lists in `tenants`, `public` every
//! tenant. A tenant lists, reads and deploys the specs it sees, but changes (updates, releases,
//! deletes) only its own: 403. What it does not see, another tenant's private spec or any of its
//! deployments, answers 404 as if it did not exist. A spec that stops being shared keeps the
//! deployments other tenants made of it, but they get no new revision from it (403). Tokens
//! given without a tenant, and every token when none is listed, act as [`DEFAULT_TENANT`].
//!
//! # Faults
//!
//! [`Faults`] replace a share of answers with 429, 503, 500, 502, a dropped connection or a
//! body cut short, and can add latency, deterministically for a seed; see [`EmulatorBuilder::faults`]
//! and [`Emulator::set_faults`]. A script fails the next requests of one operation
//! ([`Emulator::fail_next_operation`], by [`Operation`] or its id) or of one exact route
//! ([`Emulator::fail_next`]).
//!
//! # Routes and operation ids
//!
//! | operation id | method | path |
//! |---|---|---|
//! | `list_specs` | `GET` | `/v1/apps/specs/` |
//! | `create_spec` | `POST` | `/v1/apps/specs/` |
//! | `describe_spec` | `GET` | `/v1/apps/specs/{specId}` |
//! | `update_spec_metadata` | `PATCH` | `/v1/apps/specs/{specId}` |
//! | `delete_spec` | `DELETE` | `/v1/apps/specs/{specId}` |
//! | `list_spec_releases` | `GET` | `/v1/apps/specs/{specId}/releases` |
//! | `create_spec_release` | `POST` | `/v1/apps/specs/{specId}/releases` |
//! | `describe_spec_release` | `GET` | `/v1/apps/specs/{specId}/releases/{version}` |
//! | `list_deployments` | `GET` | `/v1/apps/deployments/` |
//! | `create_deployment` | `POST` | `/v1/apps/deployments/` |
//! | `describe_deployment` | `GET` | `/v1/apps/deployments/{deploymentId}` |
//! | `update_deployment_metadata` | `PATCH` | `/v1/apps/deployments/{deploymentId}` |
//! | `delete_deployment` | `DELETE` | `/v1/apps/deployments/{deploymentId}` |
//! | `redeploy` | `POST` | `/v1/apps/deployments/{deploymentId}/redeploy` |
//! | `list_deployment_revisions` | `GET` | `/v1/apps/deployments/{deploymentId}/revisions` |
//! | `create_deployment_revision` | `POST` | `/v1/apps/deployments/{deploymentId}/revisions` |
//! | `describe_deployment_revision` | `GET` | `/v1/apps/deployments/{deploymentId}/revisions/{revision}` |
//!
//! The collections end with a slash, as the service serves them. Beside them, the control routes
//! (no token needed, not in the document): `POST /_emulator/deployments/{deploymentId}/status`,
//! `GET` and `PUT /_emulator/state`, `POST /_emulator/reset`; and `GET /openapi.json`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod faults;
mod journal;
mod model;
mod operations;
mod orders;
mod routes;
mod state;
mod store;
mod sync;

use std::{
    collections::VecDeque,
    io,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::serve::ListenerExt;
use tokio::{sync::oneshot, task::JoinHandle};

pub use error::EmulatorError;
pub use faults::{Fault, Faults};
/// The statuses the emulator can force a deployment into ([`Emulator::set_deployment_status`]):
/// named apart from the client's `DeploymentStatus`, so that a test imports both crates without
/// an alias.
pub use model::DeploymentStatus as EmulatorDeploymentStatus;
pub use model::MASK;
/// The statuses of a revision, as the emulator keeps them; named apart from the client's.
pub use model::RevisionStatus as EmulatorRevisionStatus;
pub use operations::{Operation, UnknownOperation};
pub use state::{REQUEST_LOG_CAPACITY, ReceivedRequest};
pub use store::DEFAULT_TENANT;

/// The OpenAPI document the emulator implements.
pub const DOCUMENT: &str = include_str!("../openapi/press-apps.json");

/// The largest request body accepted unless set otherwise: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// How long deploying and deleting take unless set otherwise.
pub const DEFAULT_DEPLOY_DELAY: Duration = Duration::from_millis(300);

/// Options for an [`Emulator`].
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    host: IpAddr,
    port: u16,
    grants: Vec<state::Grant>,
    deploy_delay: Duration,
    body_limit: usize,
    faults: Option<Faults>,
    state: Option<serde_json::Value>,
    data: Option<std::path::PathBuf>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            grants: Vec::new(),
            deploy_delay: DEFAULT_DEPLOY_DELAY,
            body_limit: DEFAULT_BODY_LIMIT,
            faults: None,
            state: None,
            data: None,
        }
    }
}

impl EmulatorBuilder {
    /// The address to listen on (127.0.0.1 unless set).
    pub fn host(mut self, host: IpAddr) -> Self {
        self.host = host;
        self
    }

    /// The port to listen on; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Accepts this token with full access, as the [`DEFAULT_TENANT`]. Once any token is listed
    /// (here or with the other token methods), only listed tokens are accepted; with none listed,
    /// any non-empty token has full access as the default tenant.
    pub fn token(self, token: impl Into<String>) -> Self {
        self.tenant_token(DEFAULT_TENANT, token)
    }

    /// Accepts this token for reading, as the [`DEFAULT_TENANT`]; writes with it get 403.
    pub fn read_only_token(self, token: impl Into<String>) -> Self {
        self.read_only_tenant_token(DEFAULT_TENANT, token)
    }

    /// Accepts this token with full access as `tenant`. Each tenant has its own specs and
    /// deployments (names are unique within a tenant); it also sees the specs of other tenants
    /// that are `public` or `shared` with it by name, and can deploy them, but not change them
    /// (403). Deployments and private specs of other tenants answer 404, as if they did not exist.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use peak_press_apps_emulator::Emulator;
    ///
    /// let emulator = Emulator::builder()
    ///     .tenant_token("acme", "token-of-acme")
    ///     .tenant_token("globex", "token-of-globex")
    ///     .start()
    ///     .await?;
    /// # emulator.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn tenant_token(mut self, tenant: impl Into<String>, token: impl Into<String>) -> Self {
        let tenant = state::Tenant(tenant.into().into());
        self.grants.push(state::Grant { token: token.into(), tenant, read_only: false });
        self
    }

    /// Accepts this token for reading as `tenant`; writes with it get 403.
    pub fn read_only_tenant_token(mut self, tenant: impl Into<String>, token: impl Into<String>) -> Self {
        let tenant = state::Tenant(tenant.into().into());
        self.grants.push(state::Grant { token: token.into(), tenant, read_only: true });
        self
    }

    /// How long deploying, redeploying and deleting take (300 ms unless set; zero in tests makes
    /// every transition visible on the next request).
    pub fn deploy_delay(mut self, delay: Duration) -> Self {
        self.deploy_delay = delay;
        self
    }

    /// The largest request body accepted; larger ones get 413 (1 MiB unless set).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Injects faults into answers on `/v1`; see [`Faults`]. Off unless set.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = Some(faults);
        self
    }

    /// Starts from this state, a document that [`Emulator::export_state`] wrote (a fixture); a
    /// document it refuses makes [`start`](Self::start) fail with the reasons.
    pub fn state(mut self, state: serde_json::Value) -> Self {
        self.state = Some(state);
        self
    }

    /// Keeps the whole state in this SQLite file, so that it survives a restart: a new file
    /// starts empty, an existing one is read back with every id, number, time and status as it
    /// was. No answer leaves before what it shows is committed to the file (writes that arrive
    /// together share a commit), so a write that was answered survives the process being
    /// killed, and a read never shows a change that could be lost. A file of another format
    /// version is refused with both versions named. Without it the state lives in memory only.
    pub fn data(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.data = Some(path.into());
        self
    }

    /// Binds the address and starts serving in the background.
    pub async fn start(self) -> io::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(self.host, self.port)).await?;
        let addr = listener.local_addr()?;
        let base_url = match addr.ip() {
            IpAddr::V6(ip) => format!("http://[{ip}]:{}", addr.port()),
            IpAddr::V4(ip) => format!("http://{ip}:{}", addr.port()),
        };
        let mut document: serde_json::Value = serde_json::from_str(DOCUMENT).expect("the document is JSON");
        document["servers"] = serde_json::json!([{ "url": base_url, "description": "This emulator" }]);
        let refused = |why: String| io::Error::new(io::ErrorKind::InvalidData, why);
        let (store, journal) = match &self.data {
            None => (Arc::new(Mutex::new(store::Store::new(self.deploy_delay))), None),
            Some(path) => {
                let (disk, kept) = store::Disk::open(path).map_err(refused)?;
                let store = match kept {
                    Some(snapshot) => store::Store::import(snapshot, self.deploy_delay)
                        .map_err(|why| refused(format!("{}: {why}", path.display())))?,
                    None => store::Store::new(self.deploy_delay),
                };
                let store = Arc::new(Mutex::new(store));
                let journal = journal::Journal::start(disk, store.clone())?;
                (store, Some(journal))
            }
        };
        let state = Arc::new(state::Shared {
            store,
            journal,
            access: state::Access { grants: self.grants },
            body_limit: self.body_limit,
            document,
            faults: Mutex::new(self.faults.map(faults::Injector::new)),
            scripted: Mutex::new(Vec::new()),
            requests: Mutex::new(VecDeque::new()),
        });
        if let Some(fixture) = &self.state {
            state
                .import(fixture.to_string().as_bytes())
                .await
                .map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why))?;
        }
        let app = routes::router(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        // Responses go out at once on keep-alive connections: no Nagle delay.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::error!("the emulator stopped: {error}");
            }
        });
        Ok(Emulator { base_url, addr, state, stop: Some(stop), task: Some(task) })
    }
}

/// A running emulator. Dropping it stops it.
pub struct Emulator {
    base_url: String,
    addr: SocketAddr,
    state: state::AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts an emulator with the default options on a free port of 127.0.0.1.
    pub async fn start() -> io::Result<Self> {
        Self::builder().start().await
    }

    /// Options for an emulator.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The URL to point clients at, such as `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The whole state as one JSON document: every spec with its releases, every deployment with
    /// its revisions, ids, numbers, times and statuses included, and transitions under way as the
    /// time they have left. [`import_state`](Self::import_state) of it, here or in another
    /// emulator, answers every read as this one does. The control route `GET /_emulator/state`
    /// gives the same.
    pub fn export_state(&self) -> serde_json::Value {
        self.state.export()
    }

    /// Replaces the whole state with `state`, a document that [`export_state`](Self::export_state)
    /// wrote (or a fixture written the same way). A document that is malformed, of another
    /// version, or inconsistent (a deployment of a spec it does not hold, releases out of order,
    /// a name twice) is refused whole with [`EmulatorError::InvalidState`] and every reason, and
    /// nothing changes. The control route `PUT /_emulator/state` does the same.
    pub async fn import_state(&self, state: &serde_json::Value) -> Result<(), EmulatorError> {
        self.state.import(state.to_string().as_bytes()).await
    }

    /// Forgets every spec and deployment, as `POST /_emulator/reset` does; fails only when the
    /// database file (see [`EmulatorBuilder::data`]) cannot be written: [`EmulatorError::Storage`].
    pub async fn reset(&self) -> Result<(), EmulatorError> {
        self.state.reset().await
    }

    /// Switches fault injection on (with new draws from the seed) or off, while it runs.
    pub fn set_faults(&self, faults: Option<Faults>) {
        *sync::lock(&self.state.faults) = faults.map(faults::Injector::new);
    }

    /// Answers the next `times` requests of one route (`method` and exact `path`, such as
    /// `"POST"` and `"/v1/apps/specs/"`, mind the collections' trailing slash) with `fault`,
    /// before any random fault; then the route answers as usual again. Scripts for different
    /// routes run side by side. [`fail_next_operation`](Self::fail_next_operation) names the
    /// operation instead, whatever its ids.
    ///
    /// ```no_run
    /// # async fn example() -> std::io::Result<()> {
    /// use peak_press_apps_emulator::{Emulator, Fault};
    ///
    /// let emulator = Emulator::start().await?;
    /// // The next two creates of a spec are refused with 503, the third goes through.
    /// emulator.fail_next("POST", "/v1/apps/specs/", 2, Fault::Unavailable);
    /// # Ok(()) }
    /// ```
    pub fn fail_next(&self, method: &str, path: &str, times: usize, fault: Fault) {
        let target = state::Target::Route { method: method.to_owned(), path: path.to_owned() };
        self.script(target, times, fault);
    }

    /// Answers the next `times` requests of `operation`, whichever spec or deployment they name,
    /// with `fault`; see [`fail_next`](Self::fail_next). An operation id parses into an
    /// [`Operation`]: `"create_spec".parse()`.
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// use peak_press_apps_emulator::{Emulator, Fault, Operation};
    ///
    /// let emulator = Emulator::start().await?;
    /// emulator.fail_next_operation(Operation::CreateDeploymentRevision, 1, Fault::Reset);
    /// emulator.fail_next_operation("delete_spec".parse()?, 3, Fault::InternalError);
    /// # Ok(()) }
    /// ```
    pub fn fail_next_operation(&self, operation: Operation, times: usize, fault: Fault) {
        self.script(state::Target::Operation(operation), times, fault);
    }

    fn script(&self, target: state::Target, times: usize, fault: Fault) {
        if times > 0 {
            sync::lock(&self.state.scripted).push(state::Scripted { target, remaining: times, fault });
        }
    }

    /// The requests received on `/v1` so far, oldest first (at most the last
    /// [`REQUEST_LOG_CAPACITY`]), so that a test can check what a client sent and how often.
    ///
    /// ```no_run
    /// # async fn example(emulator: peak_press_apps_emulator::Emulator) {
    /// let creates = emulator.requests().iter().filter(|r| r.method == "POST" && r.path == "/v1/apps/specs/").count();
    /// assert_eq!(creates, 1, "the create was sent once");
    /// # }
    /// ```
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        sync::lock(&self.state.requests).iter().cloned().collect()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        sync::lock(&self.state.requests).clear();
    }

    /// Sets a deployment's status (and the matching status of its latest revision) at once, as
    /// the platform would: to test a client's handling of `failed`, `warning` or `deleting`.
    /// Fails with [`EmulatorError::NoSuchDeployment`] when there is no such deployment.
    pub fn set_deployment_status(
        &self,
        deployment_id: &str,
        status: EmulatorDeploymentStatus,
    ) -> Result<(), EmulatorError> {
        self.state
            .store()
            .set_status(deployment_id, status)
            .map_err(|_| EmulatorError::NoSuchDeployment(deployment_id.to_owned()))
    }

    /// Stops accepting connections, lets requests in flight finish, and waits until it has
    /// stopped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
