//! `--data`: the state in a SQLite file, read back after a restart as it was, refused when
//! written by another version, and never losing an answered write when the process is killed.

mod common;

use std::{
    path::PathBuf,
    process::{Child, Command},
    sync::{Arc, Mutex},
    time::Duration,
};

use common::{Harness, every_read, start_binary, varied};
use peak_press_apps_emulator::Emulator;
use serde_json::{Value, json};
use tempfile::TempDir;

/// A new directory, removed when it is dropped, and the database file's path in it.
fn data_file(name: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::Builder::new().prefix(&format!("press-apps-emulator-{name}-")).tempdir().unwrap();
    let file = dir.path().join("state.sqlite");
    (dir, file)
}

#[tokio::test]
async fn a_restart_finds_every_spec_and_deployment_as_it_was() {
    let (_dir, file) = data_file("restart");
    let first = Harness::with(Emulator::builder().deploy_delay(Duration::ZERO).data(&file)).await;
    varied(&first).await;
    let before = every_read(&first).await;
    first.emulator.shutdown().await;

    let second = Harness::with(Emulator::builder().deploy_delay(Duration::ZERO).data(&file)).await;
    assert_eq!(every_read(&second).await, before);
    // And what comes after is kept too, newest first.
    second.create_spec("after", json!({"build": [], "run": []})).await;
    second.emulator.shutdown().await;
    let third = Harness::with(Emulator::builder().data(&file)).await;
    let (_, specs) = third.call(reqwest::Method::GET, "/v1/apps/specs/", None).await;
    assert_eq!(specs["specs"][0]["metadata"]["name"], "after");
    assert_eq!(specs["specCount"], 3);
}

#[tokio::test]
async fn a_deployment_that_was_deploying_settles_as_it_would_have() {
    let (_dir, file) = data_file("settle");
    let delay = Duration::from_millis(300);
    let first = Harness::with(Emulator::builder().deploy_delay(delay).data(&file)).await;
    let spec = first.create_spec("s", json!({"build": [], "run": []})).await;
    let deployment = first.create_deployment("d", &spec, json!({})).await;
    first.emulator.shutdown().await;

    let second = Harness::with(Emulator::builder().deploy_delay(delay).data(&file)).await;
    let path = format!("/v1/apps/deployments/{deployment}");
    assert_eq!(second.call(reqwest::Method::GET, &path, None).await.1["metadata"]["status"], "deploying");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, deployment) = second.call(reqwest::Method::GET, &path, None).await;
        if deployment["metadata"]["status"] == "deployed" {
            break;
        }
        assert_eq!(deployment["metadata"]["status"], "deploying", "it only settles");
        assert!(std::time::Instant::now() < deadline, "never settled: {deployment}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_file_of_another_version_is_refused_with_both_versions() {
    let (_dir, file) = data_file("version");
    Emulator::builder().data(&file).start().await.unwrap().shutdown().await;
    let connection = rusqlite::Connection::open(&file).unwrap();
    connection.execute("UPDATE meta SET value = '7' WHERE key = 'version'", []).unwrap();
    drop(connection);
    let refused = Emulator::builder().data(&file).start().await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::InvalidData);
    let message = refused.to_string();
    assert!(message.contains("version 7") && message.contains("version 1"), "{message}");
}

/// The binary on `file`, and the URL it announced.
fn start(file: &str) -> (Child, String) {
    start_binary(&["--data", file])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answered_write_is_lost_when_the_process_is_killed_mid_burst() {
    let (_dir, file) = data_file("kill");
    let file = file.display().to_string();
    let (mut child, url) = start(&file);
    let acknowledged = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let http = reqwest::Client::new();
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let (http, url, acknowledged) = (http.clone(), url.clone(), acknowledged.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    let name = format!("w{writer}-{n}");
                    let spec = json!({"version": 1, "kind": "app", "metadata": {"name": name, "summary": "s"},
                        "release": {"version": "1.0.0", "notes": "n"}, "config": []});
                    let body = json!({"spec": spec.to_string(), "featured": "false", "scope": null, "parameters": "null"});
                    let Ok(response) = http.post(format!("{url}/v1/apps/specs/")).header("authorization", "t").json(&body).send().await else { break };
                    let Ok(created) = response.json::<Value>().await else { break };
                    let spec_id = created["id"].as_str().unwrap().to_owned();
                    acknowledged.lock().unwrap().push(("spec".into(), spec_id.clone()));
                    let deployment = json!({"metadata": {"name": name, "summary": "s"}, "revision": {"notes": "n"}, "spec": {"id": spec_id}});
                    let Ok(response) = http.post(format!("{url}/v1/apps/deployments/")).header("authorization", "t").json(&deployment).send().await else { break };
                    let Ok(created) = response.json::<Value>().await else { break };
                    acknowledged.lock().unwrap().push(("deployment".into(), created["id"].as_str().unwrap().to_owned()));
                }
            })
        })
        .collect();
    // Killed in the middle of the burst, after a number of answered writes that varies from run
    // to run.
    let target = 40 + fastrand_count();
    wait_for(|| acknowledged.lock().unwrap().len() >= target, "the writers' answered writes").await;
    Command::new("kill").args(["-9", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    for writer in writers {
        let _ = writer.await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > 20, "the burst wrote: {}", acknowledged.len());

    let (mut child, url) = start(&file);
    for (kind, id) in &acknowledged {
        let path = format!("{url}/v1/apps/{kind}s/{id}");
        let found: Value =
            http.get(&path).header("authorization", "t").send().await.unwrap().json().await.unwrap();
        assert_eq!(found["id"].as_str(), Some(id.as_str()), "{kind} {id} was answered, then lost: {found}");
        // Whole, never partial: a spec with its release, a deployment with its revision.
        let whole = if kind == "spec" {
            found["latestRelease"]["version"] == "1.0.0"
        } else {
            found["latestRevision"]["revision"] == 1
        };
        assert!(whole, "{found}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Up to 100, from the clock: the kill lands at another point of the burst each run.
fn fastrand_count() -> usize {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_micros() as usize % 100)
}

/// Waits until `done`, polling, for at most 30 seconds.
async fn wait_for(done: impl Fn() -> bool, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "waited 30 s for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_write_the_file_refuses_is_answered_500_and_not_made() {
    let (_dir, file) = data_file("refused");
    let harness = Harness::with(Emulator::builder().deploy_delay(Duration::ZERO).data(&file)).await;
    harness.create_spec("kept", json!({"build": [], "run": []})).await;

    // Another connection holds the file's write lock, so the emulator's commit times out.
    let blocker = rusqlite::Connection::open(&file).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let spec = json!({
        "version": 1, "kind": "app",
        "metadata": {"name": "refused", "summary": "s"},
        "release": {"version": "1.0.0", "notes": "n"},
        "config": []
    });
    let body = json!({"spec": spec.to_string()});
    let create = harness.call(reqwest::Method::POST, "/v1/apps/specs/", Some(body.clone()));
    // A listing while the create waits for the file: it would show the spec, so it waits too,
    // and shares its fate.
    let listing = async {
        // Once the create is in memory (the library's export does not wait for the file).
        let in_memory = || harness.emulator.export_state()["specs"].to_string().contains("\"refused\"");
        wait_for(in_memory, "the create to reach memory").await;
        harness.call(reqwest::Method::GET, "/v1/apps/specs/", None).await
    };
    let ((status, answer), (listed, page)) = tokio::join!(create, listing);
    assert_eq!(status, reqwest::StatusCode::INTERNAL_SERVER_ERROR, "{answer}");
    assert_eq!(
        listed,
        reqwest::StatusCode::INTERNAL_SERVER_ERROR,
        "a change that was never kept was shown: {page}"
    );
    blocker.execute_batch("ROLLBACK").unwrap();

    let (_, specs) = harness.call(reqwest::Method::GET, "/v1/apps/specs/", None).await;
    assert_eq!(specs["specCount"], 1, "the refused create is not in memory either: {specs}");
    let (status, _) = harness.call(reqwest::Method::POST, "/v1/apps/specs/", Some(body)).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "its name is free");
    harness.emulator.shutdown().await;
    let restarted = Harness::with(Emulator::builder().data(&file)).await;
    let (_, specs) = restarted.call(reqwest::Method::GET, "/v1/apps/specs/?sort=name:asc", None).await;
    let names: Vec<&str> =
        specs["specs"].as_array().unwrap().iter().map(|s| s["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["kept", "refused"]);
}

/// One writer's steps on its own spec and deployment, each a write operation of the API (and the
/// control route that fails a deployment, so that it can be redeployed).
const STEPS: usize = 10;

/// Takes step `step` (1 to [`STEPS`]) of iteration `n`; `ids` holds the spec's and the
/// deployment's ids once created. `Some(())` when the write was answered with success.
async fn step(
    http: &reqwest::Client,
    url: &str,
    n: &str,
    step: usize,
    ids: &mut (String, String),
) -> Option<()> {
    let (spec, deployment) =
        (format!("{url}/v1/apps/specs/{}", ids.0), format!("{url}/v1/apps/deployments/{}", ids.1));
    let (method, target, body) = match step {
        1 => {
            let spec = json!({"version": 1, "kind": "app", "metadata": {"name": n, "summary": "s"},
                "release": {"version": "1.0.0", "notes": "n"}, "config": []});
            let body =
                json!({"spec": spec.to_string(), "featured": "false", "scope": null, "parameters": "null"});
            (reqwest::Method::POST, format!("{url}/v1/apps/specs/"), body)
        }
        2 => (reqwest::Method::PATCH, spec, json!({"metadata": {"title": "updated"}})),
        3 => (
            reqwest::Method::POST,
            format!("{spec}/releases"),
            json!({"release": {"version": "1.1.0", "notes": "n"}, "config": [], "parameters": null}),
        ),
        4 => {
            let body = json!({"metadata": {"name": n, "summary": "s"}, "revision": {"notes": "n"}, "spec": {"id": ids.0}});
            (reqwest::Method::POST, format!("{url}/v1/apps/deployments/"), body)
        }
        5 => (reqwest::Method::PATCH, deployment, json!({"title": "updated"})),
        6 => (
            reqwest::Method::POST,
            format!("{deployment}/revisions"),
            json!({"revision": {"notes": "second"}}),
        ),
        7 => (
            reqwest::Method::POST,
            format!("{url}/_emulator/deployments/{}/status", ids.1),
            json!({"status": "failed"}),
        ),
        8 => (reqwest::Method::POST, format!("{deployment}/redeploy"), json!({})),
        9 => (reqwest::Method::DELETE, deployment, json!({})),
        _ => (reqwest::Method::DELETE, spec, json!({})),
    };
    let response = http.request(method, target).header("authorization", "t").json(&body).send().await.ok()?;
    if !response.status().is_success() {
        // Deleting a spec right after its deployment may find it still deleting: try again.
        return (step == 10 && response.status() == reqwest::StatusCode::CONFLICT).then_some(()).and(None);
    }
    let answer: Value = response.json().await.ok()?;
    match step {
        1 => ids.0 = answer["id"].as_str()?.to_owned(),
        4 => ids.1 = answer["id"].as_str()?.to_owned(),
        _ => {}
    }
    Some(())
}

/// How far the steps got, as the restarted emulator shows them.
async fn stage_seen(http: &reqwest::Client, url: &str, ids: &(String, String), acked: usize) -> usize {
    let get = |path: String| async move {
        let response = http.get(path).header("authorization", "t").send().await.unwrap();
        (response.status(), response.json::<Value>().await.unwrap_or(Value::Null))
    };
    let (status, spec) = get(format!("{url}/v1/apps/specs/{}", ids.0)).await;
    if status == reqwest::StatusCode::NOT_FOUND {
        return if acked >= 1 { STEPS } else { 0 };
    }
    let deployment =
        if ids.1.is_empty() { None } else { Some(get(format!("{url}/v1/apps/deployments/{}", ids.1)).await) };
    match deployment {
        Some((status, _)) if status == reqwest::StatusCode::NOT_FOUND => 9,
        Some((_, deployment)) => {
            let revision = &deployment["latestRevision"];
            match () {
                _ if deployment["metadata"]["status"] == "deleting" => 9,
                _ if deployment["metadata"]["status"] != "failed"
                    && revision["revision"] == 2
                    && acked >= 7 =>
                {
                    8
                }
                _ if deployment["metadata"]["status"] == "failed" => 7,
                _ if revision["revision"] == 2 => 6,
                _ if deployment["metadata"]["title"] == "updated" => 5,
                _ => 4,
            }
        }
        None if spec["latestRelease"]["version"] == "1.1.0" => 3,
        None if spec["metadata"]["title"] == "updated" => 2,
        None => 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_write_of_every_operation_survives_a_kill() {
    let (_dir, file) = data_file("kill-every");
    let file = file.display().to_string();
    let (mut child, url) = start(&file);
    let http = reqwest::Client::new();
    // For each writer and iteration: the ids, and how many steps were answered.
    let progress = Arc::new(Mutex::new(Vec::<((String, String), usize)>::new()));
    let writers: Vec<_> = (0..6)
        .map(|writer| {
            let (http, url, progress) = (http.clone(), url.clone(), progress.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    let slot = {
                        let mut progress = progress.lock().unwrap();
                        progress.push(((String::new(), String::new()), 0));
                        progress.len() - 1
                    };
                    let mut ids = (String::new(), String::new());
                    for number in 1..=STEPS {
                        let mut answered =
                            step(&http, &url, &format!("w{writer}-{n}"), number, &mut ids).await;
                        if answered.is_none() && number == STEPS {
                            answered = step(&http, &url, &format!("w{writer}-{n}"), number, &mut ids).await;
                        }
                        if answered.is_none() {
                            return;
                        }
                        progress.lock().unwrap()[slot] = (ids.clone(), number);
                    }
                }
            })
        })
        .collect();
    let target = 60 + fastrand_count();
    let answered = || progress.lock().unwrap().iter().map(|(_, acked)| acked).sum::<usize>() >= target;
    wait_for(answered, "the writers' answered writes").await;
    Command::new("kill").args(["-9", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    for writer in writers {
        let _ = writer.await;
    }
    let progress = progress.lock().unwrap().clone();
    let answered: usize = progress.iter().map(|(_, acked)| acked).sum();
    assert!(answered > 30, "the writers wrote: {answered} answered writes");
    assert!(progress.iter().any(|(_, acked)| *acked == STEPS), "some iteration went through every step");

    let (mut child, url) = start(&file);
    for ((ids, acked), index) in progress.iter().zip(0..) {
        if ids.0.is_empty() {
            continue;
        }
        let seen = stage_seen(&http, &url, ids, *acked).await;
        assert!(
            seen == *acked || seen == acked + 1,
            "iteration {index}: {acked} writes were answered, the restarted emulator shows {seen}"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn an_answered_import_and_an_answered_reset_survive_a_kill() {
    let source = Harness::start().await;
    varied(&source).await;
    let fixture = source.emulator.export_state();
    let (_dir, file) = data_file("kill-import");
    let file = file.display().to_string();
    let http = reqwest::Client::new();

    let (mut child, url) = start(&file);
    let imported = http.put(format!("{url}/_emulator/state")).json(&fixture).send().await.unwrap();
    assert!(imported.status().is_success(), "{}", imported.text().await.unwrap());
    Command::new("kill").args(["-9", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    let (mut child, url) = start(&file);
    let state: Value = http.get(format!("{url}/_emulator/state")).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["specs"], fixture["specs"], "the import was answered, so it is kept");
    assert_eq!(
        state["deployments"].as_array().map(Vec::len),
        fixture["deployments"].as_array().map(Vec::len)
    );

    let reset = http.post(format!("{url}/_emulator/reset")).send().await.unwrap();
    assert!(reset.status().is_success());
    Command::new("kill").args(["-9", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    let (mut child, url) = start(&file);
    let state: Value = http.get(format!("{url}/_emulator/state")).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["specs"], json!([]), "the reset was answered, so it is kept");
    assert_eq!(state["deployments"], json!([]));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_the_file_refuses_is_answered_500_and_the_state_stays_the_files() {
    let (_dir, file) = data_file("refused-import");
    let harness = Harness::with(Emulator::builder().deploy_delay(Duration::ZERO).data(&file)).await;
    harness.create_spec("kept", json!({"build": [], "run": []})).await;
    let before = harness.emulator.export_state();
    let source = Harness::start().await;
    varied(&source).await;
    let fixture = source.emulator.export_state();

    // Another connection holds the file's write lock, so the replacement cannot be committed;
    // other requests are served meanwhile (nothing blocks a thread of the runtime).
    let blocker = rusqlite::Connection::open(&file).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let import = harness.http.put(harness.url("/_emulator/state")).json(&fixture).send();
    let refused = tokio::time::timeout(Duration::from_secs(60), import).await.unwrap().unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::INTERNAL_SERVER_ERROR);
    let detail: Value = refused.json().await.unwrap();
    assert!(detail["detail"].as_str().unwrap().contains("database file"), "{detail}");
    blocker.execute_batch("ROLLBACK").unwrap();

    assert_eq!(harness.emulator.export_state()["specs"], before["specs"], "the state is the file's again");
    let library = harness.emulator.import_state(&fixture).await;
    assert_eq!(library, Ok(()), "with the file free, the same import goes through");
    assert_eq!(harness.emulator.export_state()["specs"], fixture["specs"]);
}
