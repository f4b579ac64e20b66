//! Writing to the database file (`--data`) off the request path, with group commit.
//!
//! A request that changes the state turns what it changed into rows while it holds the store,
//! hands them to the journal under a sequence number (so rows arrive in the order of the
//! changes) and lets the store go. A writer thread commits every batch waiting at that moment in
//! one transaction: concurrent writes share a commit instead of queueing for one each, and the
//! store is not locked while SQLite works.
//!
//! No answer leaves before what it shows is in the file: each request notes the last sequence
//! number it could see, writes or reads alike, and its answer waits until the writer has got
//! that far. So a read never shows a change that a restart could lose.
//!
//! When a commit fails, the store goes back to what the file holds; every request that saw a
//! change of the failed batch, or of one queued behind it, is answered 500.

use std::{
    cell::Cell,
    future::Future,
    ops::RangeInclusive,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    thread::JoinHandle,
};

use tokio::sync::watch;

use crate::{
    store::{Disk, Row, Store},
    sync::lock,
};

enum Job {
    /// The rows of one request.
    Write { seq: u64, rows: Vec<Row> },
    /// Every row of a new state, in place of all there were (an import or a reset).
    Replace { seq: u64, rows: Vec<Row> },
}

/// How far the writer has got, shared between it and the requests.
struct Progress {
    /// The last sequence number given to a job, given with the store locked.
    last: AtomicU64,
    /// Every job up to this number is decided: committed, or in `failed`.
    decided: watch::Sender<u64>,
    /// The jobs that failed, and those queued behind them, by number.
    failed: Mutex<Vec<RangeInclusive<u64>>>,
}

/// The writer thread and the way to it.
pub(crate) struct Journal {
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    progress: Arc<Progress>,
}

impl Journal {
    /// Starts the writer on `disk`; `store` is what it puts back after a failed commit.
    pub fn start(disk: Disk, store: Arc<Mutex<Store>>) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel();
        let progress = Arc::new(Progress {
            last: AtomicU64::new(0),
            decided: watch::Sender::new(0),
            failed: Mutex::new(Vec::new()),
        });
        let shared = progress.clone();
        let writer = std::thread::Builder::new()
            .name("press-apps-emulator-journal".into())
            .spawn(move || write_until_closed(disk, &queue, &store, &shared))?;
        Ok(Journal { jobs: Some(jobs), writer: Some(writer), progress })
    }

    /// Queues one request's rows and returns their sequence number. Called with the store
    /// locked, so that rows are written in the order of the changes.
    pub fn write(&self, rows: Vec<Row>) -> u64 {
        let seq = self.progress.last.fetch_add(1, Ordering::SeqCst) + 1;
        self.send(Job::Write { seq, rows });
        seq
    }

    /// The sequence number of the last change made to the store. Called with the store locked.
    pub fn last(&self) -> u64 {
        self.progress.last.load(Ordering::SeqCst)
    }

    /// Queues the replacement of every row with `rows` and returns its sequence number, as
    /// [`write`](Self::write) does for one request's rows. Called with the store locked, so that
    /// no write comes between; nobody waits with it held: see [`decided`](Self::decided).
    pub fn replace(&self, rows: Vec<Row>) -> u64 {
        let seq = self.progress.last.fetch_add(1, Ordering::SeqCst) + 1;
        self.send(Job::Replace { seq, rows });
        seq
    }

    fn send(&self, job: Job) {
        // The writer only stops once the journal is dropped.
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
    }

    /// Runs `handle` (a request), then waits until the writer has decided every change the
    /// request could see: its answer if all were committed, the failure if one was not.
    pub async fn committed<T>(&self, handle: impl Future<Output = T>) -> Result<T, String> {
        let (answer, seen) = SEEN
            .scope(Cell::new(0), async {
                let answer = handle.await;
                (answer, SEEN.with(Cell::get))
            })
            .await;
        self.decided(seen).await?;
        Ok(answer)
    }

    /// Waits, without blocking a thread, until the writer has decided change `seq` and every one
    /// before it: `Ok` if they were committed, the failure if one was not.
    pub async fn decided(&self, seq: u64) -> Result<(), String> {
        let mut decided = self.progress.decided.subscribe();
        decided.wait_for(|&decided| decided >= seq).await.map_err(|_| STOPPED.to_owned())?;
        if lock(&self.progress.failed).iter().any(|failed| failed.contains(&seq)) {
            return Err("the database file could not be written".into());
        }
        Ok(())
    }
}

const STOPPED: &str = "the database file's writer has stopped";

impl Drop for Journal {
    fn drop(&mut self) {
        // The writer commits what is queued, then sees the channel closed and stops.
        self.jobs.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

tokio::task_local! {
    /// The last sequence number the request being handled could see.
    static SEEN: Cell<u64>;
}

/// Notes that the request being handled saw the store as of change `seq`. Outside a request (a
/// library call such as `Emulator::set_deployment_status`) nobody waits: a write still goes to
/// the file, in order.
pub(crate) fn saw(seq: u64) {
    let _ = SEEN.try_with(|seen| seen.set(seen.get().max(seq)));
}

fn write_until_closed(
    mut disk: Disk,
    queue: &mpsc::Receiver<Job>,
    store: &Mutex<Store>,
    progress: &Progress,
) {
    while let Ok(first) = queue.recv() {
        let mut jobs = std::iter::once(first).chain(queue.try_iter()).peekable();
        while jobs.peek().is_some() {
            // The writes up to the next replace, in one transaction.
            let (mut rows, mut first, mut last) = (Vec::new(), None, 0);
            while let Some(Job::Write { seq, rows: mut these }) =
                jobs.next_if(|job| matches!(job, Job::Write { .. }))
            {
                rows.append(&mut these);
                first.get_or_insert(seq);
                last = seq;
            }
            if let Some(first) = first {
                if let Err(why) = disk.write(&rows, false) {
                    tracing::error!("the database file could not be written: {why}");
                    recover(&disk, queue, store, progress, jobs.by_ref(), first, &why);
                    break;
                }
                progress.decided.send_replace(last);
            }
            if let Some(Job::Replace { seq, rows }) = jobs.next() {
                if let Err(why) = disk.write(&rows, true) {
                    tracing::error!("the database file could not be replaced: {why}");
                    recover(&disk, queue, store, progress, jobs.by_ref(), seq, &why);
                    break;
                }
                progress.decided.send_replace(seq);
            }
        }
    }
}

/// After a failed commit of the jobs from `first` on: drops every job queued behind them, puts
/// the store back to what the file holds, and marks them all failed, so that every request that
/// saw one of them is answered with the failure.
fn recover(
    disk: &Disk,
    queue: &mpsc::Receiver<Job>,
    store: &Mutex<Store>,
    progress: &Progress,
    behind: impl Iterator<Item = Job>,
    first: u64,
    why: &str,
) {
    tracing::debug!("refusing the changes from {first} on: {why}");
    behind.for_each(drop);
    // Requests hold the store only while they change it, never while they wait for this
    // thread, so taking it here is short. With it held nothing more can be queued.
    let mut store = lock(store);
    queue.try_iter().for_each(drop);
    let delay = store.deploy_delay;
    match disk.load().and_then(|kept| Store::import(kept, delay)) {
        Ok(kept) => *store = kept,
        Err(also) => tracing::error!("the state could not be read back from the database file: {also}"),
    }
    // The store as read back is a change of its own, numbered after every failed one: a request
    // that sees it saw none of them.
    let last = progress.last.fetch_add(1, Ordering::SeqCst);
    lock(&progress.failed).push(first..=last);
    progress.decided.send_replace(last + 1);
}
