//! The state kept in a SQLite file (`--data PATH`), so that it survives a restart.
//!
//! SQLite, through rusqlite with SQLite built in: one file that any `sqlite3` can open, a
//! format that does not change under us, and transactions that a killed process never leaves
//! half written. Each spec (with its releases) and each deployment (with its revisions) is one
//! row holding its record as JSON, the records of the state document: a spec is never seen
//! without its first release, nor a deployment without its revision. Rows reach the file through
//! the journal (`crate::journal`), which commits them before any answer shows them. SQLite's
//! journal is a write-ahead log with `synchronous = NORMAL`: a write that was answered survives
//! the process being killed; a power cut may lose the last ones.

use std::{
    path::{Path, PathBuf},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use rusqlite::{Connection, OptionalExtension, params};

use super::{
    Store,
    snapshot::{FORMAT, Snapshot, VERSION},
};

const UPSERT_SPEC: &str = "INSERT OR REPLACE INTO specs (id, record) VALUES (?1, ?2)";
const DELETE_SPEC: &str = "DELETE FROM specs WHERE id = ?1";
const UPSERT_DEPLOYMENT: &str =
    "INSERT OR REPLACE INTO deployments (id, record, written_ms) VALUES (?1, ?2, ?3)";
const DELETE_DEPLOYMENT: &str = "DELETE FROM deployments WHERE id = ?1";

/// A record as the JSON text of its row.
fn encode(record: &impl serde::Serialize) -> String {
    // Records hold text, numbers, booleans, lists and maps with text keys: always JSON.
    serde_json::to_string(record).expect("a record is always JSON")
}

/// One row as it is to be written: a record's JSON text, or `None` where the record is gone.
#[derive(Debug)]
pub enum Row {
    Spec { id: String, record: Option<String> },
    Deployment { id: String, record: Option<String>, written_ms: i64 },
}

/// The rows of what `dirty` names, as `store` holds it now.
pub fn rows(store: &Store, dirty: &[Dirty]) -> Vec<Row> {
    let (now, written_ms) = (Instant::now(), now_ms());
    dirty
        .iter()
        .map(|change| match change {
            Dirty::Spec(id) => {
                Row::Spec { id: id.clone(), record: store.spec_record(id).map(|r| encode(&r)) }
            }
            Dirty::Deployment(id) => {
                let record = store.deployment_record(id, now).map(|r| encode(&r));
                Row::Deployment { id: id.clone(), record, written_ms }
            }
        })
        .collect()
}

/// The rows of every record of `store`.
pub fn all_rows(store: &Store) -> Vec<Row> {
    let dirty: Vec<Dirty> = store
        .specs
        .keys()
        .map(|id| Dirty::Spec(id.clone()))
        .chain(store.deployments.keys().map(|id| Dirty::Deployment(id.clone())))
        .collect();
    rows(store, &dirty)
}

/// What changed in the store since the last flush: the spec or deployment with this id is to be
/// written again, or deleted if it is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dirty {
    Spec(String),
    Deployment(String),
}

/// An open database file.
pub struct Disk {
    connection: Connection,
    path: PathBuf,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl Disk {
    /// Opens (or creates) the file, and reads the state it holds: `None` for a new file. A file
    /// written by another format or version is refused with both named.
    pub fn open(path: &Path) -> Result<(Disk, Option<Snapshot>), String> {
        let failed = |e: rusqlite::Error| format!("{}: {e}", path.display());
        let connection = Connection::open(path).map_err(failed)?;
        connection
            // Checkpoints every 10,000 pages rather than SQLite's 1,000: a page written again and
            // again (the table's last leaf) is copied into the file once per checkpoint, and the
            // request that runs one waits for it.
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA wal_autocheckpoint = 10000;
                 CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS specs (id TEXT PRIMARY KEY, record TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS deployments (
                     id TEXT PRIMARY KEY, record TEXT NOT NULL, written_ms INTEGER NOT NULL);",
            )
            .map_err(failed)?;
        let read = |key: &str| {
            connection
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get::<_, String>(0))
                .optional()
        };
        let (format, version) = (read("format").map_err(failed)?, read("version").map_err(failed)?);
        let disk = Disk { path: path.to_owned(), connection };
        match (format, version) {
            (None, None) => {
                disk.connection
                    .execute(
                        "INSERT INTO meta (key, value) VALUES ('format', ?1), ('version', ?2)",
                        params![FORMAT, VERSION.to_string()],
                    )
                    .map_err(failed)?;
                Ok((disk, None))
            }
            (Some(format), Some(version)) if format == FORMAT && version == VERSION.to_string() => {
                let snapshot = disk.read().map_err(failed)?;
                Ok((disk, Some(snapshot)))
            }
            (format, version) => Err(format!(
                "{} was written as {:?} version {}; this emulator keeps {FORMAT:?} version {VERSION}",
                path.display(),
                format.unwrap_or_default(),
                version.unwrap_or_default()
            )),
        }
    }

    /// What the file holds, as a state document: the state as last committed.
    pub fn load(&self) -> Result<Snapshot, String> {
        self.read().map_err(|e| format!("{}: {e}", self.path.display()))
    }

    /// Every row, as a state document; a transition under way has the time it had left less the
    /// time since its row was written.
    fn read(&self) -> rusqlite::Result<Snapshot> {
        let undecodable = |e: serde_json::Error| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        };
        let mut specs = Vec::new();
        let mut statement = self.connection.prepare("SELECT record FROM specs")?;
        for record in statement.query_map([], |row| row.get::<_, String>(0))? {
            specs.push(serde_json::from_str(&record?).map_err(undecodable)?);
        }
        let mut deployments = Vec::new();
        let mut statement = self.connection.prepare("SELECT record, written_ms FROM deployments")?;
        let now = now_ms();
        for row in statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))? {
            let (record, written) = row?;
            let mut record: super::snapshot::DeploymentRecord =
                serde_json::from_str(&record).map_err(undecodable)?;
            if let Some(settles) = record.settles.as_mut() {
                settles.in_ms = settles.in_ms.saturating_sub(now.saturating_sub(written).max(0) as u64);
            }
            deployments.push(record);
        }
        Ok(Snapshot::of(specs, deployments))
    }

    /// Writes `rows` in one transaction; with `replace`, they replace every row there was.
    pub fn write(&mut self, rows: &[Row], replace: bool) -> Result<(), String> {
        let failed = |e: rusqlite::Error| format!("{}: {e}", self.path.display());
        let transaction = self.connection.transaction().map_err(failed)?;
        if replace {
            transaction.execute_batch("DELETE FROM specs; DELETE FROM deployments;").map_err(failed)?;
        }
        // Statements are prepared once per connection and kept, not parsed again on every write.
        let run = |sql: &str, values: &[&dyn rusqlite::ToSql]| {
            transaction
                .prepare_cached(sql)
                .and_then(|mut statement| statement.execute(values))
                .map_err(failed)
        };
        for row in rows {
            match row {
                Row::Spec { id, record: Some(record) } => run(UPSERT_SPEC, params![id, record]),
                Row::Spec { id, record: None } => run(DELETE_SPEC, params![id]),
                Row::Deployment { id, record: Some(record), written_ms } => {
                    run(UPSERT_DEPLOYMENT, params![id, record, written_ms])
                }
                Row::Deployment { id, record: None, .. } => run(DELETE_DEPLOYMENT, params![id]),
            }?;
        }
        transaction.commit().map_err(failed)
    }
}
