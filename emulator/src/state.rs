//! What every part of a running emulator shares: the store, who may do what, and what tests
//! look at or set while it runs (the request log, the faults, the scripted answers).

use std::{
    collections::VecDeque,
    ops::{Deref, DerefMut},
    sync::{Arc, Mutex, MutexGuard},
};

use serde_json::Value;

use crate::{
    error::EmulatorError,
    faults::{Fault, FaultSlot},
    journal::{self, Journal},
    operations::Operation,
    store::{self as records, Store},
    sync::lock,
};

/// What one listed token may do, and as which tenant.
#[derive(Clone)]
pub(crate) struct Grant {
    pub token: String,
    pub tenant: Tenant,
    pub read_only: bool,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret even in a test double's options.
        f.debug_struct("Grant")
            .field("token", &"<redacted>")
            .field("tenant", &self.tenant)
            .field("read_only", &self.read_only)
            .finish()
    }
}

/// Which tokens may do what: with none listed, any non-empty token has full access as the
/// default tenant.
#[derive(Debug, Default)]
pub(crate) struct Access {
    pub grants: Vec<Grant>,
}

impl Access {
    /// The tenant `token` acts as, and whether it may only read: `None` when it is not accepted.
    pub fn admit(&self, token: &str) -> Option<(Tenant, bool)> {
        if self.grants.is_empty() {
            return Some((Tenant(crate::store::DEFAULT_TENANT.into()), false));
        }
        // A clone of the grant's tenant shares its text: no copy per request.
        let grant = self.grants.iter().find(|grant| grant.token == token)?;
        Some((grant.tenant.clone(), grant.read_only))
    }
}

/// The tenant a request acts for, as its token says.
#[derive(Debug, Clone)]
pub(crate) struct Tenant(pub Arc<str>);

impl Deref for Tenant {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

pub(crate) struct Shared {
    /// Shared with the journal's writer, which puts it back after a failed commit.
    pub store: Arc<Mutex<Store>>,
    /// The database file the store is kept in, with `--data`.
    pub journal: Option<Journal>,
    pub access: Access,
    pub body_limit: usize,
    /// The OpenAPI document as served, naming this emulator as its server.
    pub document: Value,
    pub faults: FaultSlot,
    /// Faults for the next answers of given routes, used before any random fault.
    pub scripted: Mutex<Vec<Scripted>>,
    /// The last [`REQUEST_LOG_CAPACITY`] requests received on `/v1`.
    pub requests: Mutex<VecDeque<ReceivedRequest>>,
}

pub(crate) type AppState = Arc<Shared>;

/// How many requests the log keeps: the oldest go first, so a long run's memory stays bounded.
pub const REQUEST_LOG_CAPACITY: usize = 10_000;

/// One request received on `/v1`, as [`Emulator::requests`](crate::Emulator::requests) lists
/// it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReceivedRequest {
    /// The method, such as `POST`.
    pub method: String,
    /// The path, without the query, such as `/v1/apps/specs/`.
    pub path: String,
    /// The query string as sent, if there was one.
    pub query: Option<String>,
    /// The body as sent (empty when there was none).
    pub body: Vec<u8>,
}

impl ReceivedRequest {
    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A fault for the next `remaining` answers of one route or operation.
#[derive(Debug)]
pub(crate) struct Scripted {
    pub target: Target,
    pub remaining: usize,
    pub fault: Fault,
}

/// What a scripted fault strikes.
#[derive(Debug)]
pub(crate) enum Target {
    /// A method on one exact path.
    Route { method: String, path: String },
    /// Every request an operation serves, whatever its ids.
    Operation(Operation),
}

impl Target {
    fn strikes(&self, method: &str, path: &str) -> bool {
        match self {
            Self::Route { method: m, path: p } => m.eq_ignore_ascii_case(method) && p == path,
            Self::Operation(operation) => operation.serves(method, path),
        }
    }
}

/// The store, locked; what a request changed in it goes to the journal, if there is a database
/// file, when the guard goes: in the order of the changes, and before the answer leaves.
pub(crate) struct StoreGuard<'a> {
    store: MutexGuard<'a, Store>,
    journal: Option<&'a Journal>,
}

impl Deref for StoreGuard<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.store
    }
}

impl DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.store
    }
}

impl Drop for StoreGuard<'_> {
    fn drop(&mut self) {
        let dirty = self.store.take_changes();
        let Some(journal) = self.journal else { return };
        // A request that changed nothing still saw the changes before it.
        let seen =
            if dirty.is_empty() { journal.last() } else { journal.write(records::rows(&self.store, &dirty)) };
        journal::saw(seen);
    }
}

impl Shared {
    /// The store with every due transition applied.
    pub fn store(&self) -> StoreGuard<'_> {
        let mut store = StoreGuard { store: lock(&self.store), journal: self.journal.as_ref() };
        store.settle();
        store
    }

    /// The whole state as one document.
    pub fn export(&self) -> Value {
        serde_json::to_value(self.store().export()).unwrap_or_default()
    }

    /// Replaces the whole state with the document in `body`, or changes nothing and says why.
    /// With a database file, it is answered once the file holds the new state; if the file
    /// refuses it, the state read back from the file is kept and the error says so.
    pub async fn import(&self, body: &[u8]) -> Result<(), EmulatorError> {
        let snapshot = serde_json::from_slice(body)
            .map_err(|e| EmulatorError::InvalidState(format!("not a state document: {e}")))?;
        let replaced = {
            let mut store = lock(&self.store);
            let imported =
                Store::import(snapshot, store.deploy_delay).map_err(EmulatorError::InvalidState)?;
            self.replace(&mut store, imported)
        };
        self.decided(replaced).await
    }

    /// Forgets every spec and deployment, in the file too.
    pub async fn reset(&self) -> Result<(), EmulatorError> {
        let replaced = {
            let mut store = lock(&self.store);
            let empty = Store::new(store.deploy_delay);
            self.replace(&mut store, empty)
        };
        self.decided(replaced).await
    }

    /// Puts `new` in the place of the locked `store`, and queues it for the file when there is
    /// one: the sequence number to wait for, as a write's.
    fn replace(&self, store: &mut Store, mut new: Store) -> Option<u64> {
        // Every row is written whole, so what building `new` noted goes with them.
        new.take_changes();
        let queued = self.journal.as_ref().map(|journal| journal.replace(records::all_rows(&new)));
        *store = new;
        if let Some(seq) = queued {
            journal::saw(seq);
        }
        queued
    }

    /// Waits until the file holds change `seq` (nothing to wait for without a file).
    async fn decided(&self, seq: Option<u64>) -> Result<(), EmulatorError> {
        match (seq, &self.journal) {
            (Some(seq), Some(journal)) => journal.decided(seq).await.map_err(EmulatorError::Storage),
            _ => Ok(()),
        }
    }

    pub fn record(&self, request: ReceivedRequest) {
        let mut log = lock(&self.requests);
        if log.len() == REQUEST_LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(request);
    }

    /// The scripted fault for this request, if one is left for its route; counts it down.
    pub fn scripted_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let mut scripts = lock(&self.scripted);
        let index = scripts.iter().position(|s| s.target.strikes(method, path))?;
        let script = &mut scripts[index];
        script.remaining -= 1;
        let fault = script.fault;
        if script.remaining == 0 {
            scripts.remove(index);
        }
        Some(fault)
    }
}
