//! The reconcile loop against the emulator: drift healed within an interval and counted, a
//! change of the desired state applied on trigger, convergence through faults without doing
//! anything twice, a refused resource backing off while the others converge, notifications
//! once per change, an empty set never pruned, the metrics parsed by Prometheus's own parser,
//! and the status page rendered by a headless browser.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::TryStreamExt;
use peak_press_apps::{
    Client, RetryConfig,
    types::{DeploymentMetadataUpdate, Spec},
};
use peak_press_apps_emulator::{Emulator, Fault, Faults};
use peak_press_apps_engine::{DesiredState, Options};
use peak_press_apps_reconcile::{Reconciler, RoundResult, Settings, SyncState, router};
use serde_json::{Value, json};

fn spec(name: &str, title: &str) -> Value {
    json!({
        "body": {
            "version": 1, "kind": "app",
            "metadata": {"name": name, "title": title, "summary": "s"},
            "release": {"version": "1.0.0", "notes": "n"},
            "config": []
        },
        "parameters": {"build": [], "run": [{"name": "replicas", "type": "number", "required": false, "defaultValue": 1}]}
    })
}

fn deployment(name: &str, spec: &str, replicas: i64) -> Value {
    json!({"body": {
        "metadata": {"name": name, "title": format!("{name} title"), "summary": "s"},
        "spec": {"name": spec},
        "appParameters": {"run": {"replicas": replicas}}
    }})
}

fn state(specs: &[Value], deployments: &[Value]) -> DesiredState {
    DesiredState {
        specs: specs.iter().map(|s| serde_json::from_value(s.clone()).unwrap()).collect(),
        deployments: deployments.iter().map(|d| serde_json::from_value(d.clone()).unwrap()).collect(),
    }
}

/// A desired state a test can change while the loop runs.
fn shared(initial: DesiredState) -> (Arc<Mutex<DesiredState>>, peak_press_apps_reconcile::Source) {
    let cell = Arc::new(Mutex::new(initial));
    let read = cell.clone();
    (cell, Box::new(move || Ok(read.lock().unwrap().clone())))
}

async fn emulator() -> (Emulator, Client) {
    let emulator = Emulator::builder().deploy_delay(Duration::ZERO).start().await.unwrap();
    let client = Client::builder().token("t").base_url(emulator.base_url()).build().unwrap();
    (emulator, client)
}

fn quick() -> Settings {
    Settings {
        interval: Duration::from_millis(200),
        backoff: Duration::from_millis(400),
        backoff_cap: Duration::from_secs(5),
        ..Settings::default()
    }
}

/// Waits until `ready` holds, for at most `limit`.
async fn eventually(limit: Duration, mut ready: impl AsyncFnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if ready().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A webhook receiver that takes every POST.
async fn webhook() -> wiremock::MockServer {
    let hooks = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&hooks)
        .await;
    hooks
}

/// The events `hooks` received, once one of kind `event` has come (within 3 s).
async fn received(hooks: &wiremock::MockServer, event: &str) -> Vec<Value> {
    let events = async || -> Vec<Value> {
        let requests = hooks.received_requests().await.unwrap_or_default();
        requests.iter().map(|request| serde_json::from_slice(&request.body).unwrap()).collect()
    };
    eventually(Duration::from_secs(3), async || events().await.iter().any(|e| e["event"] == event)).await;
    events().await
}

async fn title_of(client: &Client, name: &str) -> Option<String> {
    let deployments: Vec<_> = client.list_deployments().items().try_collect().await.unwrap();
    deployments.into_iter().find(|d| d.metadata.name == name).and_then(|d| d.metadata.title)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_healed_within_an_interval_and_counted_and_an_edit_is_applied_on_trigger() {
    let (_emulator, client) = emulator().await;
    let (desired, source) = shared(state(&[spec("s", "S")], &[deployment("d", "s", 1)]));
    let reconciler = Reconciler::new(client.clone(), source, Options::default(), quick());
    let handle = reconciler.handle();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(reconciler.run(async move {
        let _ = stopped.await;
    }));
    assert!(eventually(Duration::from_secs(5), async || handle.status().ready).await);
    assert_eq!(title_of(&client, "d").await.as_deref(), Some("d title"));

    // Changed by hand: reverted within about an interval, and counted as drift.
    let id = handle.status().resources.iter().find(|r| r.name == "d").unwrap().id.clone().unwrap();
    client
        .update_deployment_metadata(&id, DeploymentMetadataUpdate::builder().title("by hand"))
        .await
        .unwrap();
    let changed = Instant::now();
    assert!(
        eventually(Duration::from_secs(3), async || title_of(&client, "d").await.as_deref()
            == Some("d title"))
        .await
    );
    assert!(changed.elapsed() < Duration::from_secs(2), "healed in {:?}", changed.elapsed());
    assert!(handle.metrics().contains("press_apps_drift_total 1\n"), "{}", handle.metrics());
    // The round's record is kept once the round ends, a moment after its writes.
    assert!(
        eventually(Duration::from_secs(2), async || handle
            .status()
            .rounds
            .iter()
            .any(|round| round.drift == 1))
        .await
    );

    // The files change (a new title) and the loop is triggered: applied at once, not counted as drift.
    desired.lock().unwrap().deployments[0].body.metadata.title = Some("edited".into());
    handle.trigger();
    assert!(
        eventually(Duration::from_secs(2), async || title_of(&client, "d").await.as_deref()
            == Some("edited"))
        .await
    );
    assert!(handle.metrics().contains("press_apps_drift_total 1\n"));
    let status = handle.status();
    assert!(status.resources.iter().all(|r| r.sync == SyncState::Synced), "{status:?}");
    stop.send(()).unwrap();
    running.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_thirty_percent_faults_the_set_converges_and_nothing_is_made_twice() {
    let (emulator, _) = emulator().await;
    let patient = RetryConfig::default().max_attempts(6).initial_backoff(Duration::from_millis(1));
    let client = Client::builder().token("t").base_url(emulator.base_url()).retry(patient).build().unwrap();
    let specs: Vec<Value> = (0..5).map(|i| spec(&format!("s{i}"), "S")).collect();
    let deployments: Vec<Value> = (0..5).map(|i| deployment(&format!("d{i}"), &format!("s{i}"), 2)).collect();
    let (_, source) = shared(state(&specs, &deployments));
    let settings = Settings { backoff: Duration::ZERO, ..quick() };
    let mut reconciler = Reconciler::new(client.clone(), source, Options::default(), settings);
    emulator.set_faults(Some(Faults::new(0.3).seed(11).retry_after(0)));
    let mut rounds = 0;
    loop {
        rounds += 1;
        let record = reconciler.round().await;
        let synced = reconciler.handle().status().resources.iter().all(|r| r.sync == SyncState::Synced);
        if record.result == RoundResult::Success && synced && record.writes == 0 {
            break;
        }
        assert!(rounds < 30, "not converged after {rounds} rounds: {record:?}");
    }
    emulator.set_faults(None);
    let held: Vec<Spec> = client.list_specs().items().try_collect().await.unwrap();
    assert_eq!(held.len(), 5);
    for spec in &held {
        let releases: Vec<_> = client.list_spec_releases(&spec.id).items().try_collect().await.unwrap();
        assert_eq!(releases.len(), 1, "one release of {}", spec.metadata.name);
    }
    let deployments: Vec<_> = client.list_deployments().items().try_collect().await.unwrap();
    assert_eq!(deployments.len(), 5);
    for deployment in &deployments {
        let revisions: Vec<_> =
            client.list_deployment_revisions(&deployment.id).items().try_collect().await.unwrap();
        assert_eq!(revisions.len(), 1, "one revision of {}", deployment.metadata.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_resource_backs_off_while_the_others_converge_and_notifications_come_once() {
    let (emulator, client) = emulator().await;
    let hooks = webhook().await;
    let files = state(&[spec("s", "S")], &[deployment("a", "s", 1), deployment("b", "s", 1)]);
    let (desired, source) = shared(files);
    let settings = Settings { notify: vec![format!("{}/hook", hooks.uri())], ..quick() };
    let mut reconciler = Reconciler::new(client.clone(), source, Options::default(), settings);
    assert_eq!(reconciler.round().await.result, RoundResult::Success);
    let status = reconciler.handle().status();
    let id_of = |name: &str| status.resources.iter().find(|r| r.name == name).unwrap().id.clone().unwrap();
    let (a, b) = (id_of("a"), id_of("b"));

    // Both files change; the service refuses every update of "a".
    emulator.fail_next("PATCH", &format!("/v1/apps/deployments/{a}"), 1_000, Fault::Forbidden);
    for deployment in desired.lock().unwrap().deployments.iter_mut() {
        deployment.body.metadata.title = Some("new".into());
    }
    let started = Instant::now();
    let mut records = Vec::new();
    while started.elapsed() < Duration::from_millis(2_500) {
        records.push(reconciler.round().await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(title_of(&client, "b").await.as_deref(), Some("new"), "the other converged");
    let status = reconciler.handle().status();
    let refused = status.resources.iter().find(|r| r.name == "a").unwrap();
    assert_eq!(refused.sync, SyncState::OutOfSync);
    assert!(refused.last_error.as_deref().unwrap_or_default().contains("403"), "{refused:?}");
    assert!(refused.backoff_until.is_some());
    // Backing off: far fewer attempts than rounds (0.4 s doubling to 0.8, 1.6 over 2.5 s).
    let attempts =
        emulator.requests().iter().filter(|r| r.method == "PATCH" && r.path.ends_with(a.as_str())).count();
    assert!(attempts <= 4 && records.len() >= 10, "{attempts} attempts in {} rounds", records.len());
    assert!(records.iter().any(|r| r.result == RoundResult::Partial));
    let _ = b;

    // Notified once that "a" started failing, however many rounds it failed in.
    let bodies = received(&hooks, "failing").await;
    let failing: Vec<&Value> = bodies.iter().filter(|b| b["event"] == "failing").collect();
    assert_eq!(failing.len(), 1, "{bodies:?}");
    assert_eq!((failing[0]["kind"].as_str(), failing[0]["name"].as_str()), (Some("deployment"), Some("a")));
    assert!(failing[0]["text"].as_str().unwrap().starts_with("deployment a: failing:"), "{bodies:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_set_prunes_nothing_unless_allowed_and_unreadable_files_write_nothing() {
    let (emulator, client) = emulator().await;
    let owned = Options { owner: Some("team".into()), prune: true, ..Options::default() };
    let (desired, source) = shared(state(&[spec("s", "S")], &[deployment("d", "s", 1)]));
    let mut reconciler = Reconciler::new(client.clone(), source, owned.clone(), quick());
    reconciler.round().await;
    *desired.lock().unwrap() = DesiredState::default();
    let record = reconciler.round().await;
    assert!(record.error.as_deref().unwrap_or_default().contains("nothing was pruned"), "{record:?}");
    assert_eq!(client.list_deployments().page(1).await.unwrap().total, 1, "a bad checkout deletes nothing");

    // Files that cannot be read: the round fails and writes nothing.
    emulator.clear_requests();
    let broken: peak_press_apps_reconcile::Source =
        Box::new(|| Err("apps/d.yaml: line 3: bad indentation".into()));
    let mut failing = Reconciler::new(client.clone(), broken, owned, quick());
    let record = failing.round().await;
    assert_eq!(record.result, RoundResult::Error);
    assert!(record.error.unwrap().contains("bad indentation"));
    assert!(emulator.requests().is_empty(), "not even read");
    assert!(failing.handle().metrics().contains("press_apps_reconcile_total{result=\"error\"} 1"));
}

/// The loop's HTTP server on a free port.
async fn serve(handle: peak_press_apps_reconcile::Handle) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(handle)).await.unwrap() });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_the_metrics_and_the_probes_are_served() {
    let (_emulator, client) = emulator().await;
    let (_, source) = shared(state(&[spec("s", "S")], &[deployment("d", "s", 1)]));
    let mut reconciler = Reconciler::new(client, source, Options::default(), quick());
    let base = serve(reconciler.handle()).await;
    let get = |path: &str| reqwest::get(format!("{base}{path}"));
    assert_eq!(get("/readyz").await.unwrap().status(), 503, "not ready before the first round");
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    reconciler.round().await;
    assert_eq!(get("/readyz").await.unwrap().status(), 200);

    let status: Value = get("/status").await.unwrap().json().await.unwrap();
    assert_eq!(status["formatVersion"], 1);
    let names: Vec<&str> =
        status["resources"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["s", "d"]);
    assert_eq!(status["rounds"][0]["writes"], 2);

    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    for name in [
        "press_apps_reconcile_total{result=\"success\"} 1",
        "press_apps_reconcile_duration_seconds_count 1",
        "press_apps_resources{kind=\"spec\",health=\"Healthy\",sync=\"Synced\"} 1",
        "press_apps_drift_total 0",
        "press_apps_writes_total{operation=\"create\"} 2",
        "press_apps_last_success_timestamp_seconds",
    ] {
        assert!(metrics.contains(name), "{name} in {metrics}");
    }
    // Prometheus's own parser (the Python client's), where the CI's Python tools are.
    let Ok(python) = std::env::var("PEAK_SDK_PYTHON") else {
        eprintln!(
            "PEAK_SDK_PYTHON is not set: the metrics were not given to Prometheus's parser (.ci/test sets it)"
        );
        return;
    };
    let script = "import sys\nfrom prometheus_client.openmetrics.parser import text_string_to_metric_families as parse\n\
                  names = sorted(f.name for f in parse(sys.stdin.read()))\nprint(' '.join(names))\n";
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(metrics.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the parser refused the metrics");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "press_apps_drift press_apps_last_success_timestamp_seconds press_apps_reconcile \
         press_apps_reconcile_duration_seconds press_apps_resources press_apps_writes"
    );
}

/// Chromium from the system packages, or none.
fn browser() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"].into_iter().find_map(|name| {
        let found = std::process::Command::new("which").arg(name).output().ok()?;
        found.status.success().then(|| String::from_utf8_lossy(&found.stdout).trim().to_owned())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_renders_every_resource_and_its_health_in_a_headless_browser() {
    let Some(chromium) = browser() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs Chromium (.ci/run): the page must be rendered there"
        );
        eprintln!("no Chromium here: the status page was not rendered (CI installs it)");
        return;
    };
    let (emulator, client) = emulator().await;
    let (_, source) = shared(state(&[spec("s", "S")], &[deployment("d", "s", 1), deployment("e", "s", 1)]));
    let mut reconciler = Reconciler::new(client, source, Options::default(), quick());
    reconciler.round().await;
    emulator
        .set_deployment_status(
            &reconciler.handle().status().resources[2].id.clone().unwrap(),
            peak_press_apps_emulator::EmulatorDeploymentStatus::Failed,
        )
        .unwrap();
    reconciler.round().await;
    let base = serve(reconciler.handle()).await;
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom"])
            .arg(format!("{base}/"))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(dom.contains(r#"<span id="health" class="Degraded">Degraded</span>"#), "{dom}");
    for row in [
        r#"<tr data-name="s"><td>spec</td><td>s</td><td class="Healthy">Healthy</td><td class="Synced">Synced</td>"#,
        r#"<tr data-name="d"><td>deployment</td><td>d</td><td class="Healthy">Healthy</td>"#,
        r#"<tr data-name="e"><td>deployment</td><td>e</td><td class="Degraded">Degraded</td>"#,
    ] {
        assert!(dom.contains(row), "{row} in {dom}");
    }
    assert!(dom.contains("<td>success</td>"), "the rounds are listed: {dom}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_endpoint_that_is_down_never_holds_up_the_loop() {
    let (_emulator, client) = emulator().await;
    let (desired, source) = shared(state(&[spec("s", "S")], &[deployment("d", "s", 1)]));
    // Nothing listens on port 9 of loopback: every notification fails, and is tried again.
    let settings = Settings { notify: vec!["http://127.0.0.1:9/hook".into()], ..quick() };
    let mut reconciler = Reconciler::new(client.clone(), source, Options::default(), settings);
    reconciler.round().await;
    for title in ["one", "two", "three"] {
        desired.lock().unwrap().deployments[0].body.metadata.title = Some(title.into());
        let started = Instant::now();
        let record = reconciler.round().await;
        assert_eq!((record.result, record.writes), (RoundResult::Success, 1));
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        assert_eq!(title_of(&client, "d").await.as_deref(), Some(title));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reporting_only_detects_drift_once_and_writes_nothing() {
    let (emulator, client) = emulator().await;
    let (_, source) = shared(state(&[spec("s", "S")], &[deployment("d", "s", 1)]));
    let mut converging = Reconciler::new(client.clone(), source, Options::default(), quick());
    converging.round().await;
    let hooks = webhook().await;
    let (_, source) = shared(state(&[spec("s", "S")], &[deployment("d", "s", 1)]));
    let settings = Settings { report_only: true, notify: vec![hooks.uri()], ..quick() };
    let mut reporting = Reconciler::new(client.clone(), source, Options::default(), settings);
    reporting.round().await;
    let id = reporting.handle().status().resources[1].id.clone().unwrap();
    client
        .update_deployment_metadata(&id, DeploymentMetadataUpdate::builder().title("by hand"))
        .await
        .unwrap();
    emulator.clear_requests();
    let records = [reporting.round().await, reporting.round().await, reporting.round().await];
    assert_eq!(records.iter().map(|r| r.drift).collect::<Vec<_>>(), [1, 0, 0], "counted once: {records:?}");
    assert!(emulator.requests().iter().all(|r| r.method == "GET"), "nothing written");
    assert_eq!(title_of(&client, "d").await.as_deref(), Some("by hand"));
    let status = reporting.handle().status();
    assert_eq!(status.resources[1].sync, SyncState::OutOfSync);
    let events = received(&hooks, "drift-detected").await;
    let drift: Vec<&Value> = events.iter().filter(|e| e["event"] == "drift-detected").collect();
    assert_eq!(drift.len(), 1, "{events:?}");
    assert_eq!(drift[0]["name"], "d");
}
