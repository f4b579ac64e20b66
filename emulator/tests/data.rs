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
    tokio::time::sleep(delay).await;
    assert_eq!(second.call(reqwest::Method::GET, &path, None).await.1["metadata"]["status"], "deployed");
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
    // Killed in the middle of the burst, at a moment that varies from run to run.
    tokio::time::sleep(Duration::from_millis(300 + fastrand_millis())).await;
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

/// Up to 200 ms, from the clock: the kill lands at another point of the burst each run.
fn fastrand_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_millis()) % 200)
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
        tokio::time::sleep(Duration::from_millis(300)).await;
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
