//! Listings under churn at the rates users measured, made exactly: a proxy in front of the
//! emulator makes the changes after each page of a listing it serves (creates at the front of the
//! default newest-first order, deletes of the items served earliest) and adds the latency of a
//! real service. Specs and deployments, at several page sizes and latencies.
//!
//! At these rates every listing finishes, one page at a time (`.concurrency(1)`) or with prefetch
//! on, with each item that existed throughout exactly once. Beyond them (more than a page's worth
//! of change per page served) a listing may instead end with `Error::Pagination`, never with a gap
//! or a duplicate.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{body::Bytes, extract::State, http::StatusCode, response::IntoResponse};
use futures::{TryStreamExt, future::join_all};
use peak_press_apps::{
    Client, RetryConfig,
    types::{
        DeploymentSpecRef, NewDeployment, NewDeploymentMetadata, NewSpec, NewSpecMetadata, ReleaseInput,
        RevisionInput,
    },
};
use peak_press_apps_emulator::Emulator;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Specs,
    Deployments,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Specs => "/v1/apps/specs/",
            Kind::Deployments => "/v1/apps/deployments/",
        }
    }

    fn field(self) -> &'static str {
        match self {
            Kind::Specs => "specs",
            Kind::Deployments => "deployments",
        }
    }
}

/// What the proxy does after each page of a listing it serves.
#[derive(Debug, Clone, Copy)]
struct Churn {
    kind: Kind,
    creates: usize,
    deletes: usize,
    latency: Duration,
}

/// The changes made, to judge the listing by.
#[derive(Default)]
struct Writes {
    created: HashSet<String>,
    deleted: HashSet<String>,
}

struct Proxy {
    upstream: String,
    http: reqwest::Client,
    /// Writes straight to the emulator.
    writer: Client,
    churn: Churn,
    /// The spec deployments are made of.
    spec_id: String,
    served: Mutex<VecDeque<String>>,
    seen: Mutex<HashSet<String>>,
    writes: Mutex<Writes>,
    counter: Mutex<usize>,
    /// Steps under way, to wait for before judging.
    running: std::sync::atomic::AtomicUsize,
}

impl Proxy {
    async fn create(&self) -> String {
        let n = {
            let mut counter = self.counter.lock().unwrap();
            *counter += 1;
            *counter
        };
        match self.churn.kind {
            Kind::Specs => self.writer.create_spec(spec(&format!("churn-{n:06}"))).await.unwrap().id,
            Kind::Deployments => {
                self.writer
                    .create_deployment(deployment(&format!("churn-{n:06}"), &self.spec_id))
                    .await
                    .unwrap()
                    .id
            }
        }
    }

    async fn delete(&self, id: &str) {
        match self.churn.kind {
            Kind::Specs => self.writer.delete_spec(id).await.unwrap(),
            Kind::Deployments => self.writer.delete_deployment(id).await.unwrap(),
        }
    }

    /// After a page was served: the creates and deletes of one step.
    async fn step(&self, page: &serde_json::Value) {
        let ids = page[self.churn.kind.field()].as_array().cloned().unwrap_or_default();
        {
            let (mut served, mut seen) = (self.served.lock().unwrap(), self.seen.lock().unwrap());
            for id in ids.iter().filter_map(|item| item["id"].as_str()) {
                if seen.insert(id.to_owned()) {
                    served.push_back(id.to_owned());
                }
            }
        }
        let created = join_all((0..self.churn.creates).map(|_| self.create())).await;
        self.writes.lock().unwrap().created.extend(created);
        for _ in 0..self.churn.deletes {
            let Some(id) = self.served.lock().unwrap().pop_front() else { break };
            self.writes.lock().unwrap().deleted.insert(id.clone());
            self.delete(&id).await;
        }
    }
}

async fn forward(
    State(proxy): State<Arc<Proxy>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let url = format!("{}{}", proxy.upstream, uri.path_and_query().map_or("", |p| p.as_str()));
    let mut request = proxy.http.request(method.clone(), &url).body(body);
    for (name, value) in &headers {
        if name != axum::http::header::HOST {
            request = request.header(name, value);
        }
    }
    let answer = request.send().await.unwrap();
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
    let bytes = answer.bytes().await.unwrap();
    if method == axum::http::Method::GET && uri.path() == proxy.churn.kind.path() && status.is_success() {
        tokio::time::sleep(proxy.churn.latency).await;
        let page: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        // In a task of its own, so that a listing that drops the request (a window it no longer
        // needs) does not cut the step short between a write and its record.
        proxy.running.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let step = tokio::spawn({
            let proxy = proxy.clone();
            async move {
                proxy.step(&page).await;
                proxy.running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        step.await.unwrap();
    }
    (status, [(axum::http::header::CONTENT_TYPE, "application/json")], bytes)
}

fn spec(name: &str) -> peak_press_apps::types::builder::NewSpec {
    NewSpec::builder()
        .metadata(NewSpecMetadata::builder().name(name).summary("s"))
        .release(ReleaseInput::builder().version("1.0.0").notes("n"))
        .config(vec![])
}

fn deployment(name: &str, spec_id: &str) -> peak_press_apps::types::builder::NewDeployment {
    NewDeployment::builder()
        .metadata(NewDeploymentMetadata::builder().name(name).summary("s"))
        .revision(RevisionInput::builder().notes("n"))
        .spec(DeploymentSpecRef::builder().id(spec_id))
}

/// An emulator holding `count` items of `churn.kind`, and a proxy in front of it; the client
/// talks to the proxy.
async fn setup(churn: Churn, count: usize) -> (Emulator, Arc<Proxy>, Client, HashSet<String>) {
    let emulator = Emulator::builder().deploy_delay(Duration::ZERO).start().await.unwrap();
    let retry = RetryConfig::disabled();
    let writer = Client::builder().token("t").base_url(emulator.base_url()).retry(retry).build().unwrap();
    let spec_id = writer.create_spec(spec("the-app")).await.unwrap().id;
    let mut before = HashSet::new();
    for batch in (0..count).collect::<Vec<_>>().chunks(100) {
        let creates = batch.iter().map(|i| {
            let (writer, spec_id) = (writer.clone(), spec_id.clone());
            async move {
                match churn.kind {
                    Kind::Specs => writer.create_spec(spec(&format!("base-{i:05}"))).await.unwrap().id,
                    Kind::Deployments => {
                        writer
                            .create_deployment(deployment(&format!("base-{i:05}"), &spec_id))
                            .await
                            .unwrap()
                            .id
                    }
                }
            }
        });
        before.extend(join_all(creates).await);
    }
    if churn.kind == Kind::Specs {
        before.insert(spec_id.clone());
    }
    let proxy = Arc::new(Proxy {
        upstream: emulator.base_url().to_owned(),
        http: reqwest::Client::new(),
        writer,
        churn,
        spec_id,
        served: Mutex::default(),
        seen: Mutex::default(),
        writes: Mutex::default(),
        counter: Mutex::default(),
        running: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(forward).with_state(proxy.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = Client::builder().token("t").base_url(format!("http://{address}")).build().unwrap();
    (emulator, proxy, client, before)
}

/// Each item that existed throughout exactly once; each created or deleted during the listing at
/// most once; nothing else.
fn check(listed: &[String], before: &HashSet<String>, writes: &Writes, what: &str) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for id in listed {
        *seen.entry(id).or_default() += 1;
    }
    let missing = before.difference(&writes.deleted).filter(|id| !seen.contains_key(id.as_str())).count();
    assert_eq!(missing, 0, "{what}: {missing} items that existed throughout were not yielded");
    for (id, count) in &seen {
        assert!(before.contains(*id) || writes.created.contains(*id), "{what}: {id} never existed");
        assert_eq!(*count, 1, "{what}: {id} yielded {count} times");
    }
}

/// Lists through the proxy with `page_size` and `concurrency` (the defaults when `None`).
async fn list_under(
    churn: Churn,
    count: usize,
    page_size: Option<u64>,
    concurrency: Option<usize>,
) -> (Result<Vec<String>, peak_press_apps::Error>, HashSet<String>, Writes) {
    let (_emulator, proxy, client, before) = setup(churn, count).await;
    let listed = match churn.kind {
        Kind::Specs => {
            let mut listing = client.list_specs().set_page_size(page_size);
            if let Some(pages) = concurrency {
                listing = listing.concurrency(pages);
            }
            listing.items().map_ok(|item| item.id).try_collect().await
        }
        Kind::Deployments => {
            let mut listing = client.list_deployments().set_page_size(page_size);
            if let Some(pages) = concurrency {
                listing = listing.concurrency(pages);
            }
            listing.items().map_ok(|item| item.id).try_collect().await
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while proxy.running.load(std::sync::atomic::Ordering::SeqCst) > 0
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let writes = std::mem::take(&mut *proxy.writes.lock().unwrap());
    (listed, before, writes)
}

/// Lists as [`list_under`] does and requires the listing to finish, exactly.
async fn finishes_exactly(churn: Churn, count: usize, page_size: Option<u64>, concurrency: Option<usize>) {
    let what = format!("{churn:?} over {count}, page size {page_size:?}, concurrency {concurrency:?}");
    let (listed, before, writes) = list_under(churn, count, page_size, concurrency).await;
    assert!(!writes.created.is_empty() || !writes.deleted.is_empty(), "{what}: the churn wrote");
    let listed = listed.unwrap_or_else(|error| panic!("{what}: the listing did not finish: {error}"));
    check(&listed, &before, &writes, &what);
}

/// The rates users measured, per page served: 4 creates at the front and 2 deletes of the
/// earliest served; 3 creates; 3 deletes.
const RATES: [(usize, usize); 3] = [(4, 2), (3, 0), (0, 3)];

/// Checks a listing that ended: exact, or refused with `Error::Pagination` because the order
/// changed faster than the pager could follow or the listing grew past its bound. True when it
/// finished.
fn finished_or_refused(
    listed: Result<Vec<String>, peak_press_apps::Error>,
    before: &HashSet<String>,
    writes: &Writes,
    what: &str,
) -> bool {
    match listed {
        Ok(listed) => {
            check(&listed, before, writes, what);
            true
        }
        Err(peak_press_apps::Error::Pagination { message }) => {
            let refusal = message.contains("changed faster than it could be followed")
                || message.contains("beyond the bound");
            assert!(refusal, "{what}: {message}");
            false
        }
        Err(other) => panic!("{what}: {other}"),
    }
}

fn churn(kind: Kind, creates: usize, deletes: usize, latency_ms: u64) -> Churn {
    Churn { kind, creates, deletes, latency: Duration::from_millis(latency_ms) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_page_at_a_time_finishes_exactly_at_the_measured_rates() {
    for (creates, deletes) in RATES {
        for page_size in [None, Some(25)] {
            finishes_exactly(churn(Kind::Specs, creates, deletes, 2), 1000, page_size, Some(1)).await;
        }
        finishes_exactly(churn(Kind::Deployments, creates, deletes, 2), 600, Some(50), Some(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefetching_specs_finish_exactly_at_the_measured_rates() {
    for (creates, deletes) in RATES {
        for (page_size, latency_ms) in [(None, 0), (Some(25), 2), (None, 10), (Some(100), 25)] {
            finishes_exactly(churn(Kind::Specs, creates, deletes, latency_ms), 1000, page_size, None).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefetching_deployments_finish_exactly_at_the_measured_rates() {
    for (creates, deletes) in RATES {
        for (page_size, latency_ms, concurrency) in
            [(None, 5, None), (Some(25), 2, Some(4)), (Some(10), 0, None)]
        {
            let churn = churn(Kind::Deployments, creates, deletes, latency_ms);
            finishes_exactly(churn, 600, page_size, concurrency).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_every_2_ms_at_25_and_60_ms_per_page_over_3000_specs() {
    for latency_ms in [25, 60] {
        let what = format!("a create every 2 ms, {latency_ms} ms per page");
        let (_emulator, proxy, client, before) = setup(churn(Kind::Specs, 0, 0, latency_ms), 3000).await;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let creator = {
            let (proxy, stop) = (proxy.clone(), stop.clone());
            tokio::spawn(async move {
                let mut pending = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let proxy = proxy.clone();
                    pending.push(tokio::spawn(async move { proxy.create().await }));
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                join_all(pending).await.into_iter().map(Result::unwrap).collect::<HashSet<String>>()
            })
        };
        let listed: Vec<String> = client
            .list_specs()
            .items()
            .map_ok(|item| item.id)
            .try_collect()
            .await
            .unwrap_or_else(|error| panic!("{what}: the listing did not finish: {error}"));
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let created = creator.await.unwrap();
        assert!(created.len() > 20, "{what}: the churn wrote ({} creates)", created.len());
        check(&listed, &before, &Writes { created, deleted: HashSet::new() }, &what);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_a_page_of_change_per_page_served_ends_exactly_or_with_a_typed_error() {
    let what = "30 creates and 10 deletes after each page of 10";
    let (listed, before, writes) = list_under(churn(Kind::Specs, 30, 10, 0), 400, Some(10), None).await;
    finished_or_refused(listed, &before, &writes, what);
}
