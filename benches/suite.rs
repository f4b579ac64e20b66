//! The benchmark suite. Run it with `.ci/bench`, which sets up the official Python SDK and prism
//! for the comparisons that need them; `cargo bench --bench suite` alone runs the rest.
//!
//! Every figure is measured side by side with its baseline in the same run and reported as a
//! ratio; absolute times depend on the machine, which the report describes. The report is
//! printed and written to `target/benchmark-report.md`.

use std::{
    fmt::Write as _,
    future::IntoFuture,
    process::Command,
    time::{Duration, Instant},
};

use futures::TryStreamExt;
use peak_press_apps::{
    Client, RetryConfig,
    types::{NewSpec, NewSpecMetadata, ReleaseInput, Spec},
};
use peak_press_apps_emulator::{Emulator, Faults};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, ResponseTemplate, matchers};

const CHILD_FLAG: &str = "--stream-child";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == CHILD_FLAG) {
        stream_child(&args[at + 1], args[at + 2].parse().unwrap());
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut report = String::new();
    writeln!(report, "# Benchmark report\n\n{}\n", machine()).unwrap();
    // BENCH_SECTIONS=1,3 runs only those sections, for quicker iterations on one figure.
    let only = std::env::var("BENCH_SECTIONS").ok();
    let run = |section: &str| only.as_deref().is_none_or(|list| list.split(',').any(|s| s.trim() == section));
    runtime.block_on(async {
        if run("1") {
            overhead(&mut report).await;
        }
        if run("2") {
            listing_with_latency(&mut report).await;
        }
        if run("3") {
            python_sdk(&mut report).await;
        }
        if run("4") {
            memory(&mut report).await;
        }
        if run("5") {
            server_load(&mut report).await;
            sorted_pages(&mut report).await;
        }
        if run("7") {
            cli_start_up(&mut report).await;
        }
        if run("8") {
            declarative(&mut report).await;
        }
        if run("9") {
            state_on_disk(&mut report).await;
            start_up_from_disk(&mut report).await;
        }
        if run("10") {
            plan_at_scale(&mut report).await;
        }
        if run("11") {
            watch_rounds(&mut report).await;
        }
    });
    if run("6") {
        build_cost(&mut report);
    }
    println!("{report}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/target/benchmark-report.md");
    let path = std::env::var("BENCH_REPORT").unwrap_or_else(|_| path.to_owned());
    if let Err(error) = std::fs::write(&path, &report) {
        eprintln!("could not write {path}: {error}");
    }
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']));
    let memory = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let total = memory.lines().find_map(|l| l.strip_prefix("MemTotal:")).map(str::trim);
    format!(
        "Machine: {} logical CPUs ({}), {} of memory, {} {}; release build; client, emulator and load \
         generator share the machine over loopback.",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        model.unwrap_or("unknown CPU"),
        total.unwrap_or("unknown"),
        std::env::consts::OS,
        std::env::consts::ARCH,
    )
}

fn spec(name: &str) -> peak_press_apps::types::builder::NewSpec {
    NewSpec::builder()
        .metadata(
            NewSpecMetadata::builder()
                .name(name)
                .summary("A spec for benchmarks")
                .title(format!("Title {name}")),
        )
        .release(ReleaseInput::builder().version("1.0.0").notes("first"))
        .config(vec![])
}

fn client(url: &str) -> Client {
    Client::builder().token("bench").base_url(url).retry(RetryConfig::disabled()).build().unwrap()
}

/// An emulator holding `specs` specs.
async fn emulator_with(specs: usize) -> (Emulator, Client) {
    let emulator = Emulator::builder().deploy_delay(Duration::ZERO).start().await.unwrap();
    let client = client(emulator.base_url());
    for batch in (0..specs).collect::<Vec<_>>().chunks(64) {
        let creates = batch.iter().map(|i| client.create_spec(spec(&format!("spec-{i:07}"))).into_future());
        for created in futures::future::join_all(creates).await {
            created.unwrap();
        }
    }
    (emulator, client)
}

/// How a benchmark lists: the page size (`None`: the client's choice) and the concurrency (`None`:
/// the default).
#[derive(Clone, Copy)]
struct Listing {
    page_size: Option<u64>,
    concurrency: Option<usize>,
}

const DEFAULTS: Listing = Listing { page_size: None, concurrency: None };

/// Streams every spec with `how`, checks there are `expected`, and returns how long the first
/// item and the whole listing took.
async fn time_listing(client: &Client, how: Listing, expected: u64) -> (Duration, Duration) {
    let started = Instant::now();
    let mut listing = client.list_specs();
    if let Some(size) = how.page_size {
        listing = listing.page_size(size);
    }
    if let Some(concurrency) = how.concurrency {
        listing = listing.concurrency(concurrency);
    }
    let mut items = listing.items();
    let mut first = None;
    let mut count = 0u64;
    while let Some(_spec) = items.try_next().await.unwrap() {
        first.get_or_insert_with(|| started.elapsed());
        count += 1;
    }
    assert_eq!(count, expected);
    (first.unwrap_or_default(), started.elapsed())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

/// Section 1: What the client adds to a call, against a raw reqwest GET decoded with serde_json.
async fn overhead(report: &mut String) {
    let (emulator, client) = emulator_with(1).await;
    let id = client.list_specs().page(1).await.unwrap().items[0].id.clone();
    // The same reqwest configuration as the client's: its timeouts are settings, not overhead.
    let raw = reqwest::Client::builder()
        .timeout(peak_press_apps::DEFAULT_TIMEOUT)
        .connect_timeout(peak_press_apps::DEFAULT_CONNECT_TIMEOUT)
        .build()
        .unwrap();
    let url = format!("{}/v1/apps/specs/{id}", emulator.base_url());
    let raw_call = || async {
        let bytes =
            raw.get(&url).header("authorization", "bench").send().await.unwrap().bytes().await.unwrap();
        serde_json::from_slice::<Spec>(&bytes).unwrap()
    };
    for _ in 0..200 {
        raw_call().await;
        client.describe_spec(&id).await.unwrap();
    }
    let (mut ours, mut baseline, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    // Alternating rounds, so drift in the machine's speed falls on both sides alike; the ratio of
    // each round's medians, and the median of those, so that a slow spell weighs on one round only.
    for _ in 0..20 {
        let (mut ours_round, mut baseline_round) = (Vec::new(), Vec::new());
        for _ in 0..200 {
            let started = Instant::now();
            raw_call().await;
            baseline_round.push(started.elapsed());
        }
        for _ in 0..200 {
            let started = Instant::now();
            client.describe_spec(&id).await.unwrap();
            ours_round.push(started.elapsed());
        }
        ratios.push(median(ours_round.clone()).as_secs_f64() / median(baseline_round.clone()).as_secs_f64());
        ours.extend(ours_round);
        baseline.extend(baseline_round);
    }
    ratios.sort_by(f64::total_cmp);
    let (ours, baseline) = (median(ours), median(baseline));
    writeln!(
        report,
        "## 1. Per-call overhead\n\n`describe_spec` through the client against a raw reqwest GET of the same URL, \
         with the client's timeouts, decoded into the same type with serde_json; 4,000 calls each in 20 \
         alternating rounds of 200.\n\n\
         | | median per call |\n|---|---|\n| raw reqwest + serde_json (baseline) | {} |\n| peak-press-apps | {} |\n\n\
         **Ratio: {:.2}**, the median of the rounds' ratios (rounds from {:.2} to {:.2}; target: within 1.05)\n",
        us(baseline),
        us(ours),
        ratios[ratios.len() / 2],
        ratios[0],
        ratios[ratios.len() - 1]
    )
    .unwrap();
}

/// The fewest round trips a listing of `pages` pages can take at `concurrency`: the first page
/// alone (it tells how many there are), then the rest `concurrency` at a time.
fn round_trips(pages: u32, concurrency: u32) -> u32 {
    1 + (pages - 1).div_ceil(concurrency)
}

/// Section 2: 10,000 items with 20 ms of latency per request: the client's defaults, then pages of
/// 100 at several concurrencies, each against its floor of round trips.
async fn listing_with_latency(report: &mut String) {
    let (emulator, client) = emulator_with(10_000).await;
    let latency = Duration::from_millis(20);
    emulator.set_faults(Some(Faults::new(0.0).latency(latency)));
    // One round trip as this machine makes it: a page of one item, median of 20. The emulator's
    // timer rounds each 20 ms up to its next millisecond, so this is a little over 20 ms.
    let mut trips = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        client.list_specs().page_size(1).page(1).await.unwrap();
        trips.push(started.elapsed());
    }
    let trip = median(trips);
    writeln!(
        report,
        "## 2. Listing 10,000 items with 20 ms latency\n\nFrom the emulator, which adds 20 ms to every answer; \
         one round trip (a page of one item) measures {} here. The floor is the fewest round trips the \
         listing's requests allow, at that measure: the first page alone (it tells how many there are), then the \
         others `concurrency` at a time. `items()` also reads a small window across each boundary between two \
         pages, at the same time as the page, so the windows add no round trip.\n\n\
         | listing | first item | all | floor | ratio to floor |\n|---|---|---|---|---|",
        ms(trip)
    )
    .unwrap();
    let default = peak_press_apps::DEFAULT_CONCURRENCY as u32;
    // Without a page size: 25, 25, 50, 100, 200, 400, 200, then 9 pages of 1,000.
    let mut rows = vec![("defaults (pages up to 1,000)".to_owned(), DEFAULTS, round_trips(16, default))];
    for concurrency in [1, 4, default as usize] {
        let label = if concurrency == default as usize { " (default)" } else { "" };
        rows.push((
            format!("pages of 100, concurrency {concurrency}{label}"),
            Listing { page_size: Some(100), concurrency: Some(concurrency) },
            round_trips(100, concurrency as u32),
        ));
    }
    for (label, how, trips) in rows {
        let (first, elapsed) = time_listing(&client, how, 10_000).await;
        let floor = trip * trips;
        writeln!(
            report,
            "| {label} | {} | {} | {} | {:.2} |",
            ms(first),
            ms(elapsed),
            ms(floor),
            elapsed.as_secs_f64() / floor.as_secs_f64()
        )
        .unwrap();
    }
    writeln!(report, "\nTarget: pages of 100 at the default concurrency within 1.25 of the floor.\n")
        .unwrap();
}

/// Runs the SDK's listing script against `base_url` with `page_size` ("default" or a number).
async fn sdk_listing(python: &str, base_url: &str, page_size: &str) -> Result<(Duration, Duration), String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/python/sdk_listing.py");
    let (python, base_url, page_size) = (python.to_owned(), base_url.to_owned(), page_size.to_owned());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python).arg(script).arg(base_url).arg(page_size).output()
    })
    .await
    .unwrap()
    .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .map_err(|_| String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or_default().to_owned())?;
    assert_eq!(result["items"], 10_000);
    let seconds = |key: &str| Duration::from_secs_f64(result[key].as_f64().unwrap_or_default());
    Ok((seconds("first_item_seconds"), seconds("seconds")))
}

/// Section 3: The same listings through the official Python SDK against the client: each with
/// its defaults, then both with pages of 100.
async fn python_sdk(report: &mut String) {
    writeln!(report, "## 3. Against the official Python SDK\n").unwrap();
    let Ok(python) = std::env::var("PEAK_SDK_PYTHON") else {
        writeln!(
            report,
            "Skipped: set PEAK_SDK_PYTHON (`.ci/bench` does) to a Python with peak-sdk 1.29.0.\n"
        )
        .unwrap();
        return;
    };
    let (emulator, client) = emulator_with(10_000).await;
    writeln!(
        report,
        "10,000 specs from the emulator. The SDK iterates `list_specs()` (its default pages of 25) or \
         `list_specs(page_size=100)`, with its telemetry thread switched off so that its side is its fastest; the \
         client streams `list_specs().items()` with its defaults or `.page_size(100)`. Session set-up is not \
         timed.\n\n| latency | listing | Python SDK: first item | all | client: first item | all | client faster by |\n\
         |---|---|---|---|---|---|---|"
    )
    .unwrap();
    for latency in [Duration::ZERO, Duration::from_millis(20)] {
        emulator.set_faults(if latency.is_zero() { None } else { Some(Faults::new(0.0).latency(latency)) });
        for (label, sdk_size, how) in [
            ("each with its defaults", "default", DEFAULTS),
            ("pages of 100", "100", Listing { page_size: Some(100), concurrency: None }),
        ] {
            let (sdk_first, sdk_all) = match sdk_listing(&python, emulator.base_url(), sdk_size).await {
                Ok(times) => times,
                Err(why) => {
                    writeln!(report, "| {} | {label} | failed: {why} | | | | |", ms(latency)).unwrap();
                    continue;
                }
            };
            let (first, all) = time_listing(&client, how, 10_000).await;
            writeln!(
                report,
                "| {} | {label} | {} | {} | {} | {} | **{:.1}×** |",
                ms(latency),
                ms(sdk_first),
                ms(sdk_all),
                ms(first),
                ms(all),
                sdk_all.as_secs_f64() / all.as_secs_f64()
            )
            .unwrap();
        }
    }
    writeln!(
        report,
        "\nTargets with 20 ms of latency: each with its defaults, at least 30× faster; with pages of 100, at least \
         10×; the first item no later than the SDK's.\n"
    )
    .unwrap();
}

/// A spec as the service describes one, about 540 bytes of JSON: ids, metadata with tags and
/// timestamps, and the latest release.
fn realistic_spec(i: u64) -> Value {
    json!({
        "id": format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", i, i % 0xffff, i % 0xfff, (i / 7) % 0xfff, i * 2654435761),
        "kind": "app",
        "featured": i.is_multiple_of(10),
        "scope": "private",
        "metadata": {
            "name": format!("churn-model-{i:07}"),
            "title": format!("Churn model {i}"),
            "summary": "Predicts which customers are likely to churn next quarter",
            "imageUrl": format!("https://assets.example.com/specs/{i}.png"),
            "tags": [{"name": "ml"}, {"name": "churn"}],
            "status": "available",
            "createdAt": "2026-11-27T10:00:00.000Z",
            "createdBy": "someone@peak.ai"
        },
        "latestRelease": {
            "id": format!("{:08x}-0000-4000-8000-{:012x}", i, i),
            "version": "1.0.0",
            "notes": "First release",
            "createdAt": "2026-11-27T10:00:00.000Z",
            "createdBy": "someone@peak.ai"
        }
    })
}

/// A server that makes up any page of a listing of specs without storing them.
async fn synthetic_listing(total: u64) -> MockServer {
    let server = MockServer::builder().disable_request_recording().start().await;
    Mock::given(matchers::path("/v1/apps/specs/"))
        .respond_with(move |request: &Request| {
            let query: std::collections::HashMap<_, _> = request.url.query_pairs().into_owned().collect();
            let size: u64 = query.get("pageSize").and_then(|s| s.parse().ok()).unwrap_or(25);
            let number: u64 = query.get("pageNumber").and_then(|s| s.parse().ok()).unwrap_or(1);
            let first = (number - 1) * size;
            let specs: Vec<Value> = (first..total.min(first + size)).map(realistic_spec).collect();
            ResponseTemplate::new(200).set_body_json(json!({
                "specs": specs, "specCount": total, "pageCount": total.div_ceil(size), "pageNumber": number, "pageSize": size
            }))
        })
        .mount(&server)
        .await;
    server
}

/// In a child process: streams every spec of `url` and prints the count and the peak resident
/// memory.
fn stream_child(url: &str, expected: u64) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(time_listing(&client(url), DEFAULTS, expected));
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map(|v| v.trim().trim_end_matches(" kB").trim().to_owned());
    println!("{}", json!({"items": expected, "peak_kb": peak.and_then(|p| p.parse::<u64>().ok())}));
}

/// Section 4: Peak memory while streaming 10,000, 100,000 and 1,000,000 items.
async fn memory(report: &mut String) {
    let item_bytes = realistic_spec(123_456).to_string().len();
    writeln!(
        report,
        "## 4. Memory while streaming\n\nEach listing streamed by `items()` with its defaults (pages up to 1,000, \
         16 at once within 8 MiB of bodies) in a child process of its own, from a server that makes up realistic \
         specs ({item_bytes} bytes of JSON each); peak resident memory of the child (VmHWM), runtime \
         included.\n\n| items | peak resident memory |\n|---|---|"
    )
    .unwrap();
    let mut peaks = Vec::new();
    for total in [10_000u64, 100_000, 1_000_000] {
        let server = synthetic_listing(total).await;
        let exe = std::env::current_exe().unwrap();
        let uri = server.uri();
        let output = tokio::task::spawn_blocking(move || {
            Command::new(exe).arg(CHILD_FLAG).arg(uri).arg(total.to_string()).output()
        })
        .await
        .unwrap()
        .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let result: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
            .unwrap_or_else(|_| panic!("child failed: {}", String::from_utf8_lossy(&output.stderr)));
        let peak = result["peak_kb"].as_u64().unwrap_or(0);
        peaks.push(peak as f64);
        writeln!(report, "| {total} | {:.1} MiB |", peak as f64 / 1024.0).unwrap();
    }
    writeln!(
        report,
        "\n**Ratio 1,000,000 / 100,000: {:.2}; 1,000,000 / 10,000: {:.2}** (target: 1,000,000 within 1.10 of \
         100,000)\n",
        peaks[2] / peaks[1],
        peaks[2] / peaks[0]
    )
    .unwrap();
}

struct Load {
    requests: usize,
    elapsed: Duration,
    sorted: Vec<Duration>,
    errors: usize,
}

/// `workers` concurrent keep-alive clients calling `url` for `duration`.
async fn load(url: &str, workers: usize, duration: Duration) -> Load {
    let url = url.to_owned();
    load_with(workers, duration, move |http, _, _| http.get(&url).header("authorization", "bench")).await
}

/// `workers` concurrent keep-alive clients, each sending the requests `request` makes (given
/// the worker's number and how many it has sent) one after another for `duration`; an answer
/// other than 2xx counts as an error.
async fn load_with<R>(workers: usize, duration: Duration, request: R) -> Load
where
    R: Fn(&reqwest::Client, usize, u64) -> reqwest::RequestBuilder + Clone + Send + 'static,
{
    let http = reqwest::Client::new();
    let started = Instant::now();
    let tasks = (0..workers).map(|worker| {
        let (http, request) = (http.clone(), request.clone());
        tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0);
            let mut sent_so_far = 0;
            while started.elapsed() < duration {
                sent_so_far += 1;
                let request = request(&http, worker, sent_so_far);
                let sent = Instant::now();
                match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        latencies.push(sent.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        })
    });
    let mut sorted = Vec::new();
    let mut errors = 0;
    for task in futures::future::join_all(tasks).await {
        let (latencies, failed) = task.unwrap();
        sorted.extend(latencies);
        errors += failed;
    }
    sorted.sort();
    Load { requests: sorted.len(), elapsed: started.elapsed(), sorted, errors }
}

/// Section 5: The emulator's throughput and latency against prism's mock server on the same document.
async fn server_load(report: &mut String) {
    writeln!(report, "## 5. The emulator under load, against prism\n").unwrap();
    let Ok(prism) = std::env::var("PRISM") else {
        writeln!(
            report,
            "Skipped: set PRISM (`.ci/bench` does) to the prism command of @stoplight/prism-cli.\n"
        )
        .unwrap();
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let document = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/press-apps.json");
    let mut child = Command::new(&prism)
        .args([
            "mock",
            document,
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--verboseLevel",
            "error",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("prism starts");
    let prism_url = format!("http://127.0.0.1:{port}");
    let probe = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..300 {
        if probe.get(format!("{prism_url}/v1/apps/specs/x")).header("authorization", "b").send().await.is_ok()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !ready {
        let _ = child.kill();
        let _ = child.wait();
        writeln!(report, "Skipped: prism did not start.\n").unwrap();
        return;
    }
    let (emulator, client) = emulator_with(100).await;
    let id = client.list_specs().page(1).await.unwrap().items[0].id.clone();
    let (workers, duration) = (16, Duration::from_secs(3));
    writeln!(
        report,
        "{workers} concurrent keep-alive clients for {} s per row, on the same machine as both servers. prism \
         5.16.0 serves the document's examples (`prism mock`, log level error); the emulator serves real state \
         (100 specs).\n\n| server | call | requests/s | p50 | p90 | p99 | errors |\n|---|---|---|---|---|---|---|",
        duration.as_secs()
    )
    .unwrap();
    let mut throughput = Vec::new();
    for (call, path) in [
        ("describe_spec", format!("/v1/apps/specs/{id}")),
        ("list_specs", "/v1/apps/specs/?pageSize=25".to_owned()),
    ] {
        for (server, base) in [("emulator", emulator.base_url().to_owned()), ("prism", prism_url.clone())] {
            let result = load(&format!("{base}{path}"), workers, duration).await;
            let rate = result.requests as f64 / result.elapsed.as_secs_f64();
            throughput.push(rate);
            writeln!(
                report,
                "| {server} | {call} | {rate:.0} | {} | {} | {} | {} |",
                ms(percentile(&result.sorted, 0.5)),
                ms(percentile(&result.sorted, 0.9)),
                ms(percentile(&result.sorted, 0.99)),
                result.errors
            )
            .unwrap();
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    writeln!(
        report,
        "\n**Throughput ratio emulator / prism: {:.1} for describe_spec, {:.1} for list_specs**\n",
        throughput[0] / throughput[1],
        throughput[2] / throughput[3]
    )
    .unwrap();
}

/// Section 5, continued: a sorted page against an unsorted one, from an emulator holding 10,000
/// specs, while the same clients keep asking.
async fn sorted_pages(report: &mut String) {
    let (emulator, _) = emulator_with(10_000).await;
    let (workers, duration) = (16, Duration::from_secs(2));
    writeln!(
        report,
        "Sorted pages against unsorted ones: page 200 of 25 from an emulator holding 10,000 specs, {workers} \
         clients for {} s per row.\n\n| listing | requests/s | p50 | p99 |\n|---|---|---|---|",
        duration.as_secs()
    )
    .unwrap();
    let mut rates = Vec::new();
    for (label, query) in [
        ("newest first (no sort)", ""),
        ("sort=name:asc", "&sort=name:asc"),
        ("sort=title:desc,name", "&sort=title:desc,name"),
    ] {
        let url = format!("{}/v1/apps/specs/?pageSize=25&pageNumber=200{query}", emulator.base_url());
        let result = load(&url, workers, duration).await;
        let rate = result.requests as f64 / result.elapsed.as_secs_f64();
        rates.push(rate);
        writeln!(
            report,
            "| {label} | {rate:.0} | {} | {} |",
            ms(percentile(&result.sorted, 0.5)),
            ms(percentile(&result.sorted, 0.99))
        )
        .unwrap();
    }
    writeln!(
        report,
        "\n**Throughput of sorted pages against unsorted ones: {:.2} (by name), {:.2} (by title, then name)**\n",
        rates[1] / rates[0],
        rates[2] / rates[0]
    )
    .unwrap();
}

/// Section 6: What generating the client costs, against a clean build of the crate. `.ci/bench`
/// times both: the clean build, and the build script run on its own.
fn build_cost(report: &mut String) {
    writeln!(report, "## 6. Build cost\n").unwrap();
    let seconds = |name: &str| std::env::var(name).ok().and_then(|s| s.parse::<f64>().ok());
    match (seconds("CLEAN_BUILD_SECONDS"), seconds("CODEGEN_SECONDS")) {
        (Some(build), Some(codegen)) => writeln!(
            report,
            "| | time |\n|---|---|\n| clean debug build of peak-press-apps, all dependencies included | {build:.1} s |\n\
             | build script: parse, generate, rewrite, format | {} |\n\n**Share of the clean build spent \
             generating: {:.2}%**\n",
            ms(Duration::from_secs_f64(codegen)),
            codegen / build * 100.0
        )
        .unwrap(),
        _ => writeln!(report, "Skipped: set CLEAN_BUILD_SECONDS and CODEGEN_SECONDS (`.ci/bench` does).\n").unwrap(),
    }
}

/// One command line run to its answer: its wall time, after checking it succeeded.
fn timed(program: &str, args: &[&str]) -> Duration {
    let started = Instant::now();
    let output =
        Command::new(program).args(args).env("PEAK_AUTH_TOKEN", "bench").env("COLUMNS", "400").output();
    let took = started.elapsed();
    let output = output.unwrap_or_else(|e| panic!("{program} does not start: {e}"));
    assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    took
}

/// Section 7: `press-apps specs list` against `peak apps specs list`, each started afresh and
/// run to its answer on the same emulator, alternately.
async fn cli_start_up(report: &mut String) {
    writeln!(report, "## 7. Command line: start-up to answer\n").unwrap();
    let (Ok(python), Ok(press_apps)) = (std::env::var("PEAK_SDK_PYTHON"), std::env::var("PRESS_APPS")) else {
        writeln!(report, "Skipped: set PEAK_SDK_PYTHON and PRESS_APPS (`.ci/bench` does).\n").unwrap();
        return;
    };
    let (emulator, _client) = emulator_with(25).await;
    let base_url = emulator.base_url().to_owned();
    let peak_cli = concat!(env!("CARGO_MANIFEST_DIR"), "/emulator/tests/python/peak_cli.py").to_owned();
    const ROUNDS: usize = 10;
    let (ours, theirs) = tokio::task::spawn_blocking(move || {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            ours.push(timed(&press_apps, &["specs", "list", "--base-url", &base_url]));
            theirs.push(timed(&python, &[&peak_cli, &base_url, "apps", "specs", "list"]));
        }
        (ours, theirs)
    })
    .await
    .unwrap();
    let (ours, theirs) = (median(ours), median(theirs));
    writeln!(
        report,
        "One page of 25 specs (the default listing) printed as JSON, each command started afresh {ROUNDS} times, \
         alternately, against the same emulator; medians of the wall time. The official CLI runs through \
         `emulator/tests/python/peak_cli.py`, which only points it at the emulator.\n\n\
         | command | median wall time |\n|---|---|\n\
         | `peak apps specs list` (baseline) | {} |\n| `press-apps specs list` | {} |\n\n\
         **press-apps answers {:.0}× sooner.**\n",
        ms(theirs),
        ms(ours),
        theirs.as_secs_f64() / ours.as_secs_f64()
    )
    .unwrap();
}

/// The spec file of the declarative section: a realistic spec with a build and two run
/// parameters, as a team keeps it.
fn set_spec(i: usize) -> String {
    format!(
        "body:\n  version: 1\n  kind: app\n  metadata:\n    name: churn-model-{i:03}\n    title: Churn model {i}\n    \
         summary: Predicts which customers are likely to churn next quarter\n    tags:\n      - name: ml\n  \
         release:\n    version: 1.0.0\n    notes: First release\n  config:\n    - id: scoring\n      release:\n        \
         version: 1.0.0\nparameters:\n  build:\n    - name: region\n      type: string\n      required: false\n      \
         defaultValue: eu-west-1\n  run:\n    - name: replicas\n      type: number\n      required: false\n      \
         defaultValue: 1\n    - name: api_key\n      type: string\n      required: false\n      defaultValue: \"\"\n      \
         hideValue: true\n"
    )
}

/// A deployment file of spec `i`: named for press-apps, by id (a template variable) for peak.
fn set_deployment(i: usize, j: usize, spec: &str) -> String {
    format!(
        "body:\n  metadata:\n    name: churn-{i:03}-{j}\n    title: Churn {i} {j}\n    summary: Nightly scoring\n  \
         revision:\n    notes: From the repository\n  spec:\n    {spec}\n  appParameters:\n    build: {{}}\n    run:\n      \
         replicas: {}\n      api_key: secret-{i}\n",
        j + 2
    )
}

/// Section 8: `press-apps plan` and `apply` on 50 specs and 100 deployments, with 20 ms added to
/// every answer; the official CLI creating the same one command at a time is the baseline.
async fn declarative(report: &mut String) {
    writeln!(report, "## 8. Declarative: plan and apply\n").unwrap();
    let (Ok(python), Ok(press_apps)) = (std::env::var("PEAK_SDK_PYTHON"), std::env::var("PRESS_APPS")) else {
        writeln!(report, "Skipped: set PEAK_SDK_PYTHON and PRESS_APPS (`.ci/bench` does).\n").unwrap();
        return;
    };
    const SPECS: usize = 50;
    let dir = std::env::temp_dir().join(format!("press-apps-bench-set-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("set")).unwrap();
    for i in 0..SPECS {
        std::fs::write(dir.join(format!("set/spec-{i:03}.yaml")), set_spec(i)).unwrap();
        for j in 0..2 {
            let by_name = format!("name: churn-model-{i:03}");
            std::fs::write(
                dir.join(format!("set/deployment-{i:03}-{j}.yaml")),
                set_deployment(i, j, &by_name),
            )
            .unwrap();
            let by_id = "id: \"{{ spec_id }}\"";
            std::fs::write(dir.join(format!("peak-deployment-{i:03}-{j}.yaml")), set_deployment(i, j, by_id))
                .unwrap();
        }
    }
    let latency = Faults::new(0.0).latency(Duration::from_millis(20));
    let set = dir.join("set").display().to_string();

    // press-apps: one apply, then a plan with nothing to change.
    let ours =
        Emulator::builder().deploy_delay(Duration::ZERO).faults(latency.clone()).start().await.unwrap();
    let (url, press) = (ours.base_url().to_owned(), press_apps.clone());
    let (applied, planned) = tokio::task::spawn_blocking(move || {
        let applied = timed(&press, &["apply", &set, "--owner", "bench", "--base-url", &url]);
        let planned =
            timed(&press, &["plan", &set, "--owner", "bench", "--base-url", &url, "--detailed-exitcode"]);
        (applied, planned)
    })
    .await
    .unwrap();
    let plan_requests = {
        ours.clear_requests();
        let (url, press, set) =
            (ours.base_url().to_owned(), press_apps.clone(), dir.join("set").display().to_string());
        tokio::task::spawn_blocking(move || {
            timed(&press, &["plan", &set, "--owner", "bench", "--base-url", &url])
        })
        .await
        .unwrap();
        ours.requests().len()
    };

    // The official CLI, as a CI script drives it: each spec created, its id read, then its deployments.
    let theirs = Emulator::builder().deploy_delay(Duration::ZERO).faults(latency).start().await.unwrap();
    let url = theirs.base_url().to_owned();
    let peak_cli = concat!(env!("CARGO_MANIFEST_DIR"), "/emulator/tests/python/peak_cli.py").to_owned();
    let baseline = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        for i in 0..SPECS {
            let spec = dir.join(format!("set/spec-{i:03}.yaml")).display().to_string();
            let output = Command::new(&python)
                .args([&peak_cli, &url, "apps", "specs", "create", &spec])
                .env("PEAK_AUTH_TOKEN", "bench")
                .env("COLUMNS", "400")
                .output()
                .unwrap();
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            let created: Value = serde_json::from_slice(&output.stdout).unwrap();
            let spec_id = format!("spec_id={}", created["id"].as_str().unwrap());
            for j in 0..2 {
                let file = dir.join(format!("peak-deployment-{i:03}-{j}.yaml")).display().to_string();
                timed(&python, &[&peak_cli, &url, "apps", "deployments", "create", &file, "-p", &spec_id]);
            }
        }
        let took = started.elapsed();
        let _ = std::fs::remove_dir_all(&dir);
        took
    })
    .await
    .unwrap();
    assert_eq!(counts(&ours).await, counts(&theirs).await, "both made the same");
    writeln!(
        report,
        "{SPECS} specs (three parameters, one hidden) and {} deployments naming them, as YAML files; 20 ms added \
         to every answer of the emulator. Each command is started afresh; the official CLI runs through \
         `emulator/tests/python/peak_cli.py` as a CI script would drive it: each spec created, its id read, then \
         its deployments.\n\n| | wall time |\n|---|---|\n\
         | the official CLI creating the same, one command at a time (baseline) | {} |\n\
         | `press-apps apply` (first apply: everything created) | {} |\n\
         | `press-apps plan` with nothing to change | {} ({plan_requests} requests) |\n\n\
         **The first apply is {:.0}× faster than the official CLI** (target 50×); **a plan with nothing to \
         change takes {}** (target under 1 s).\n",
        SPECS * 2,
        ms(baseline),
        ms(applied),
        ms(planned),
        baseline.as_secs_f64() / applied.as_secs_f64(),
        ms(planned),
    )
    .unwrap();
}

/// Writes the set of section 10: `specs` spec files and two deployments of each, with `replicas`
/// run replicas for the first `changed` deployments and 2 for the others.
fn write_set(dir: &std::path::Path, specs: usize, changed: usize, replicas: usize) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..specs {
        std::fs::write(dir.join(format!("spec-{i:04}.yaml")), set_spec(i)).unwrap();
        for j in 0..2 {
            let by_name = format!("name: churn-model-{i:03}");
            let file = set_deployment(i, j, &by_name);
            let file = if i * 2 + j < changed {
                file.replace(&format!("replicas: {}", j + 2), &format!("replicas: {replicas}"))
            } else {
                file
            };
            std::fs::write(dir.join(format!("deployment-{i:04}-{j}.yaml")), file).unwrap();
        }
    }
}

/// Section 10: a plan with nothing to change over 1,000 specs and 2,000 deployments with 20 ms
/// added to every answer; and applying a saved plan against applying the files directly.
async fn plan_at_scale(report: &mut String) {
    writeln!(report, "## 10. Plan at scale, and saved plans\n").unwrap();
    let Ok(press_apps) = std::env::var("PRESS_APPS") else {
        writeln!(report, "Skipped: set PRESS_APPS (`.ci/bench` does).\n").unwrap();
        return;
    };
    const SPECS: usize = 1_000;
    const CHANGED: usize = 100;
    let root = std::env::temp_dir().join(format!("press-apps-bench-scale-{}", std::process::id()));
    let (set, next) = (root.join("set"), root.join("next"));
    write_set(&set, SPECS, 0, 0);
    write_set(&next, SPECS, CHANGED, 9);
    let run = |url: String, args: Vec<String>| {
        let press = press_apps.clone();
        tokio::task::spawn_blocking(move || {
            let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
            all.extend(["--owner", "bench", "--base-url", &url]);
            let started = Instant::now();
            let output = Command::new(&press).args(&all).env("PEAK_AUTH_TOKEN", "bench").output().unwrap();
            assert!(output.status.success(), "{all:?}: {}", String::from_utf8_lossy(&output.stderr));
            started.elapsed()
        })
    };
    let args = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<Vec<String>>();
    let (set_dir, next_dir) = (set.display().to_string(), next.display().to_string());

    // Filled without latency, then every answer slowed by 20 ms.
    let direct = Emulator::builder().deploy_delay(Duration::ZERO).start().await.unwrap();
    run(direct.base_url().to_owned(), args(&["apply", &set_dir])).await.unwrap();
    let saved =
        Emulator::builder().deploy_delay(Duration::ZERO).state(direct.export_state()).start().await.unwrap();
    let latency = Faults::new(0.0).latency(Duration::from_millis(20));
    direct.set_faults(Some(latency.clone()));
    saved.set_faults(Some(latency));

    let mut plans = Vec::new();
    for _ in 0..3 {
        direct.clear_requests();
        plans.push(
            run(direct.base_url().to_owned(), args(&["plan", &set_dir, "--detailed-exitcode"]))
                .await
                .unwrap(),
        );
    }
    let plan_requests = direct.requests().len();
    let plan_time = median(plans);

    // The same change both ways: the files applied directly, and a saved plan of them applied.
    direct.clear_requests();
    let direct_apply = run(direct.base_url().to_owned(), args(&["apply", &next_dir])).await.unwrap();
    let direct_requests = direct.requests().len();
    let plan_file = root.join("reviewed.plan").display().to_string();
    run(saved.base_url().to_owned(), args(&["plan", &next_dir, "--out", &plan_file])).await.unwrap();
    saved.clear_requests();
    let file_args = vec!["apply".to_owned(), plan_file];
    let press = press_apps.clone();
    let url = saved.base_url().to_owned();
    let saved_apply = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let output = Command::new(&press)
            .args(&file_args)
            .args(["--base-url", &url])
            .env("PEAK_AUTH_TOKEN", "bench")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        started.elapsed()
    })
    .await
    .unwrap();
    let saved_requests = saved.requests().len();
    assert_eq!(counts(&direct).await, counts(&saved).await, "both made the same");
    let _ = std::fs::remove_dir_all(&root);
    writeln!(
        report,
        "{SPECS} specs and {} deployments as YAML files (the files of section 8), already applied; 20 ms added \
         to every answer of the emulator; each command started afresh, release build.\n\n| | wall time | requests |\n|---|---|---|\n\
         | `press-apps plan` with nothing to change (median of 3) | {} | {plan_requests} |\n\
         | `press-apps apply DIR`: {CHANGED} deployments revised, planned and applied in one go (baseline) | {} | {direct_requests} |\n\
         | `press-apps apply FILE`: the same change from a saved plan, checked for staleness first | {} | {saved_requests} |\n\n\
         **A plan with nothing to change takes {}** (target under 3 s); **applying the saved plan takes {:.2} of \
         the direct apply's time** (target at most 1).\n",
        SPECS * 2,
        ms(plan_time),
        ms(direct_apply),
        ms(saved_apply),
        ms(plan_time),
        saved_apply.as_secs_f64() / direct_apply.as_secs_f64(),
    )
    .unwrap();
}

/// The resident memory of a process, in KiB.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).unwrap_or_default()
}

/// A GET of the watch's status server: the body.
fn status_get(address: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(address) else { return String::new() };
    let _ = write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
}

/// A value of the watch's metrics, such as `press_apps_reconcile_duration_seconds_sum`.
fn metric(metrics: &str, name: &str) -> f64 {
    let line = metrics.lines().find(|line| line.starts_with(name)).unwrap_or_default();
    line.rsplit(' ').next().and_then(|value| value.parse().ok()).unwrap_or_default()
}

/// Section 11: `press-apps watch` over the 150 resources of section 8: a round's cost with
/// nothing to change at 20 ms latency, and the memory of the process after 1,000 rounds.
async fn watch_rounds(report: &mut String) {
    writeln!(report, "## 11. watch: rounds with nothing to change\n").unwrap();
    let Ok(press_apps) = std::env::var("PRESS_APPS") else {
        writeln!(report, "Skipped: set PRESS_APPS (`.ci/bench` does).\n").unwrap();
        return;
    };
    let root = std::env::temp_dir().join(format!("press-apps-bench-watch-{}", std::process::id()));
    write_set(&root, 50, 0, 0);
    let set = root.display().to_string();
    let emulator = Emulator::builder().deploy_delay(Duration::ZERO).start().await.unwrap();
    let address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let mut child = Command::new(&press_apps)
        .args(["watch", &set, "--owner", "bench", "--interval", "20ms", "--listen", &address])
        .args(["--base-url", emulator.base_url()])
        .env("PEAK_AUTH_TOKEN", "bench")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let rounds = |address: &str| {
        let metrics = status_get(address, "/metrics");
        ["success", "partial", "error"]
            .iter()
            .map(|result| metric(&metrics, &format!("press_apps_reconcile_total{{result=\"{result}\"}}")))
            .sum::<f64>()
    };
    let wait_rounds = |target: f64| {
        let address = address.clone();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            while rounds(&address) < target && started.elapsed() < Duration::from_secs(300) {
                std::thread::sleep(Duration::from_millis(100));
            }
            rounds(&address)
        })
    };
    wait_rounds(10.0).await.unwrap();
    let early = resident_kib(child.id());

    // Nothing to change, at 20 ms latency: the cost of one round.
    emulator.set_faults(Some(Faults::new(0.0).latency(Duration::from_millis(20))));
    let metrics = status_get(&address, "/metrics");
    let (sum0, count0) = (
        metric(&metrics, "press_apps_reconcile_duration_seconds_sum"),
        metric(&metrics, "press_apps_reconcile_duration_seconds_count"),
    );
    emulator.clear_requests();
    let measured = wait_rounds(count0 + 10.0).await.unwrap();
    let metrics = status_get(&address, "/metrics");
    let requests = emulator.requests().len();
    let sum = metric(&metrics, "press_apps_reconcile_duration_seconds_sum") - sum0;
    let count = metric(&metrics, "press_apps_reconcile_duration_seconds_count") - count0;
    emulator.set_faults(None);

    let done = wait_rounds(1_000.0).await.unwrap();
    let late = resident_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&root);
    writeln!(
        report,
        "50 specs and 100 deployments (the files of section 8), already applied; `press-apps watch` with a 20 ms \
         interval, release build; figures from its own `/metrics` and the emulator's request log.\n\n\
         | | |\n|---|---|\n\
         | a round with nothing to change, 20 ms added to every answer | {:.0} ms, {:.0} requests ({} rounds) |\n\
         | resident memory after 10 rounds | {:.1} MiB |\n\
         | resident memory after {done:.0} rounds | {:.1} MiB ({:.2} of the first) |\n",
        sum / count * 1000.0,
        requests as f64 / (measured - count0).max(1.0),
        count,
        early as f64 / 1024.0,
        late as f64 / 1024.0,
        late as f64 / early.max(1) as f64,
    )
    .unwrap();
}

/// How many specs and deployments an emulator holds.
async fn counts(emulator: &Emulator) -> (usize, u64) {
    let client = client(emulator.base_url());
    let specs: Vec<Spec> = client.list_specs().items().try_collect().await.unwrap();
    (specs.len(), client.list_deployments().page(1).await.unwrap().total)
}

/// The body of a create_spec as the SDK sends it: a spec with a block and three parameters (one
/// hidden), named `name`.
fn create_spec_body(name: &str) -> Value {
    let spec = json!({
        "version": 1, "kind": "app",
        "metadata": {
            "name": name, "title": format!("Title {name}"),
            "summary": "Predicts which customers are likely to churn next quarter",
            "imageUrl": "https://assets.example.com/specs/churn.png",
            "tags": [{"name": "ml"}, {"name": "churn"}]
        },
        "release": {"version": "1.0.0", "notes": "First release"},
        "config": [{"id": "scoring", "release": {"version": "1.0.0"}, "autoRunOnDeploy": false}]
    });
    let parameters = json!({
        "build": [{"name": "region", "type": "string", "required": false, "defaultValue": "eu-west-1"}],
        "run": [
            {"name": "replicas", "type": "number", "required": false, "defaultValue": 1},
            {"name": "api_key", "type": "string", "required": false, "defaultValue": "", "hideValue": true}
        ]
    });
    json!({"spec": spec.to_string(), "featured": "false", "scope": "private", "parameters": parameters.to_string()})
}

/// `workers` concurrent keep-alive clients creating specs at `base` for `duration`.
async fn create_load(base: &str, workers: usize, duration: Duration) -> Load {
    let url = format!("{base}/v1/apps/specs/");
    load_with(workers, duration, move |http, worker, n| {
        let body = create_spec_body(&format!("churn-model-{worker}-{n:07}"));
        http.post(&url).header("authorization", "bench").json(&body)
    })
    .await
}

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("press-apps-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Section 9: creates and describes per second with the state in a SQLite file (`--data`)
/// against in memory, rounds alternating in the same run.
async fn state_on_disk(report: &mut String) {
    writeln!(report, "## 9. The emulator's state on disk\n").unwrap();
    let dir = scratch_dir("data");
    let (workers, duration, rounds) = (8, Duration::from_secs(3), 3);
    let rate = |load: &Load| load.requests as f64 / load.elapsed.as_secs_f64();
    let range = |ratios: &[f64]| {
        let mut sorted = ratios.to_vec();
        sorted.sort_by(f64::total_cmp);
        format!(
            "{:.2} (median; {:.2} to {:.2})",
            sorted[sorted.len() / 2],
            sorted[0],
            sorted[sorted.len() - 1]
        )
    };
    let row = |report: &mut String, round: usize, store: &str, load: &Load| {
        writeln!(
            report,
            "| {round} | {store} | {:.0} | {} | {} | {} |",
            rate(load),
            ms(percentile(&load.sorted, 0.5)),
            ms(percentile(&load.sorted, 0.99)),
            load.errors
        )
        .unwrap();
    };

    // Writes: a fresh emulator each time, creating specs.
    writeln!(
        report,
        "Creates: {workers} concurrent keep-alive clients for {} s per row creating specs (a block, three \
         parameters, as the SDK sends them), a fresh emulator each time; {rounds} rounds, in memory and `--data` \
         alternating.\n\n| round | store | creates/s | p50 | p99 | errors |\n|---|---|---|---|---|---|",
        duration.as_secs()
    )
    .unwrap();
    let mut ratios = Vec::new();
    for round in 1..=rounds {
        let mut rates = Vec::new();
        for store in ["in memory", "--data"] {
            let mut builder = Emulator::builder().deploy_delay(Duration::ZERO);
            if store == "--data" {
                builder = builder.data(dir.join(format!("creates-{round}.sqlite")));
            }
            let emulator = builder.start().await.unwrap();
            let creates = create_load(emulator.base_url(), workers, duration).await;
            emulator.shutdown().await;
            row(report, round, store, &creates);
            rates.push(rate(&creates));
        }
        ratios.push(rates[1] / rates[0]);
    }
    let creates = range(&ratios);

    // Reads: the same 10,000 specs, from the document in memory and from a file written once
    // before the rounds (so that no round pays for the kernel writing it back).
    const HELD: usize = 10_000;
    // Reads are the noisier figure on this machine: more rounds.
    const READ_ROUNDS: usize = 5;
    let state = large_state(HELD, 0, 0).await;
    let file = dir.join("reads.sqlite");
    Emulator::builder().data(&file).state(state.clone()).start().await.unwrap().shutdown().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    writeln!(
        report,
        "\nDescribes: the same {HELD} specs held in memory and in a file written before the rounds; \
         {workers} clients for {} s per row describing one; {READ_ROUNDS} rounds, alternating.\n\n| round | store | describes/s | p50 | p99 | \
         errors |\n|---|---|---|---|---|---|",
        duration.as_secs()
    )
    .unwrap();
    let id = state["specs"][HELD / 2]["id"].as_str().unwrap().to_owned();
    let mut ratios = Vec::new();
    for round in 1..=READ_ROUNDS {
        let mut rates = Vec::new();
        for store in ["in memory", "--data"] {
            let builder = match store {
                "--data" => Emulator::builder().data(&file),
                _ => Emulator::builder().state(state.clone()),
            };
            let emulator = builder.start().await.unwrap();
            let describes =
                load(&format!("{}/v1/apps/specs/{id}", emulator.base_url()), workers, duration).await;
            emulator.shutdown().await;
            row(report, round, store, &describes);
            rates.push(rate(&describes));
        }
        ratios.push(rates[1] / rates[0]);
    }
    let _ = std::fs::remove_dir_all(&dir);
    writeln!(
        report,
        "\n**`--data` against in memory, round by round: creates {creates} (target at least 0.5), describes {} \
         (target 1)**\n",
        range(&ratios),
    )
    .unwrap();
}

/// A state document of `specs` specs (a block, three parameters) and `deployments` deployments
/// of `revisions` revisions each, made from records the emulator itself exported.
async fn large_state(specs: usize, deployments: usize, revisions: usize) -> Value {
    let emulator = Emulator::builder().deploy_delay(Duration::ZERO).start().await.unwrap();
    let http = reqwest::Client::new();
    let base = emulator.base_url().to_owned();
    let created: Value = http
        .post(format!("{base}/v1/apps/specs/"))
        .header("authorization", "bench")
        .json(&create_spec_body("template"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let deployment = json!({
        "metadata": {"name": "template", "summary": "Nightly scoring", "title": "Churn scoring"},
        "revision": {"notes": "From the repository"},
        "spec": {"id": created["id"]},
        "appParameters": {"build": {"region": "eu-west-2"}, "run": {"replicas": 3, "api_key": "secret"}}
    });
    let response = http
        .post(format!("{base}/v1/apps/deployments/"))
        .header("authorization", "bench")
        .json(&deployment)
        .send()
        .await;
    assert!(response.unwrap().status().is_success());
    let template = emulator.export_state();
    emulator.shutdown().await;
    let at = |n: usize| {
        let at = chrono::DateTime::from_timestamp_millis(1_780_000_000_000 + n as i64).unwrap();
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    };
    let id = |kind: u32, n: usize| format!("{kind:08x}-0000-4000-8000-{n:012x}");
    let (spec, deployment) = (&template["specs"][0], &template["deployments"][0]);
    let mut spec_records = Vec::with_capacity(specs);
    for n in 0..specs {
        let mut record = spec.clone();
        record["id"] = json!(id(1, n));
        record["metadata"]["name"] = json!(format!("churn-model-{n:07}"));
        record["metadata"]["createdAt"] = json!(at(n));
        record["metadata"]["updatedAt"] = json!(at(n));
        record["releases"][0]["id"] = json!(id(2, n));
        record["releases"][0]["createdAt"] = json!(at(n));
        spec_records.push(record);
    }
    let mut deployment_records = Vec::with_capacity(deployments);
    for n in 0..deployments {
        let mut record = deployment.clone();
        record["id"] = json!(id(3, n));
        record["specId"] = json!(id(1, n));
        record["metadata"]["name"] = json!(format!("churn-scoring-{n:07}"));
        record["metadata"]["createdAt"] = json!(at(specs + n));
        record["metadata"]["updatedAt"] = json!(at(specs + n));
        let first = record["revisions"][0].clone();
        let history: Vec<Value> = (1..=revisions)
            .map(|number| {
                let mut revision = first.clone();
                revision["id"] = json!(id(4, n * revisions + number));
                revision["number"] = json!(number);
                revision["status"] = json!(if number == revisions { "deployed" } else { "superseded" });
                revision["createdAt"] = json!(at(specs + n));
                revision
            })
            .collect();
        record["revisions"] = json!(history);
        deployment_records.push(record);
    }
    let mut state = template.clone();
    state["specs"] = json!(spec_records);
    state["deployments"] = json!(deployment_records);
    state
}

/// Section 9, continued: how long an emulator takes from start to its first answer with 100,000
/// specs and 100,000 revisions in its file, against the same state imported from a JSON document
/// (`--import`) and an empty file.
async fn start_up_from_disk(report: &mut String) {
    const SPECS: usize = 100_000;
    const DEPLOYMENTS: usize = 10_000;
    const REVISIONS: usize = 10;
    let dir = scratch_dir("start-up");
    let state = large_state(SPECS, DEPLOYMENTS, REVISIONS).await;
    let (full, empty) = (dir.join("full.sqlite"), dir.join("empty.sqlite"));
    let written = Instant::now();
    let filling = Emulator::builder().data(&full).state(state.clone()).start().await.unwrap();
    let written = written.elapsed();
    filling.shutdown().await;
    let document_bytes = serde_json::to_vec(&state).unwrap().len();
    let file_bytes: u64 =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();

    // From start to the first page answered, median of 3 of each, alternating.
    async fn first_answer(builder: peak_press_apps_emulator::EmulatorBuilder, expected: u64) -> Duration {
        let started = Instant::now();
        let emulator = builder.start().await.unwrap();
        let page = client(emulator.base_url()).list_specs().page(1).await.unwrap();
        let took = started.elapsed();
        assert_eq!(page.total, expected);
        emulator.shutdown().await;
        took
    }
    let (mut from_file, mut from_document, mut from_empty) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        from_file.push(first_answer(Emulator::builder().data(&full), SPECS as u64).await);
        from_document.push(first_answer(Emulator::builder().state(state.clone()), SPECS as u64).await);
        from_empty.push(first_answer(Emulator::builder().data(&empty), 0).await);
    }
    // Writes into that large state: what a long-lived sandbox pays for each create.
    let mut held = Vec::new();
    for store in ["in memory", "--data"] {
        let builder = match store {
            "--data" => Emulator::builder().data(&full),
            _ => Emulator::builder().state(state.clone()),
        };
        let emulator = builder.deploy_delay(Duration::ZERO).start().await.unwrap();
        let load = create_load(emulator.base_url(), 8, Duration::from_secs(3)).await;
        emulator.shutdown().await;
        held.push((store, load));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let (file, document, empty) = (median(from_file), median(from_document), median(from_empty));
    writeln!(
        report,
        "Start-up with {SPECS} specs (a block, three parameters) and {DEPLOYMENTS} deployments of {REVISIONS} \
         revisions each ({} revisions) in the file, {:.0} MiB with its log; the same state is {:.0} MiB as a JSON \
         document. From `start` to the first page of specs answered, median of 3, in process.\n\n| start from | \
         time |\n|---|---|\n| an empty file | {} |\n| the file (`--data`) | {} |\n| the same state as a document \
         (`--import`) | {} |\n| (writing the state into a new file, once) | {} |\n\n**Start-up with {SPECS} specs \
         and {} revisions in the file: {}** (target under 2 s); {:.2}× the time of importing the same state from \
         its document.\n",
        DEPLOYMENTS * REVISIONS,
        file_bytes as f64 / (1 << 20) as f64,
        document_bytes as f64 / (1 << 20) as f64,
        ms(empty),
        ms(file),
        ms(document),
        ms(written),
        DEPLOYMENTS * REVISIONS,
        ms(file),
        file.as_secs_f64() / document.as_secs_f64(),
    )
    .unwrap();
    writeln!(
        report,
        "Creates into that state, 8 clients for 3 s:\n\n| store | creates/s | p50 | p99 | errors |\n|---|---|---|---|---|"
    )
    .unwrap();
    for (store, load) in &held {
        writeln!(
            report,
            "| {store} | {:.0} | {} | {} | {} |",
            load.requests as f64 / load.elapsed.as_secs_f64(),
            ms(percentile(&load.sorted, 0.5)),
            ms(percentile(&load.sorted, 0.99)),
            load.errors
        )
        .unwrap();
    }
    writeln!(report).unwrap();
}
