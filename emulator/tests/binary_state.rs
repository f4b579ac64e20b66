//! The emulator's binary keeps a state across runs with `--export-on-exit` and `--import`.

mod common;

use std::{
    path::Path,
    process::{Child, Command},
};

use common::start_binary as start;
use serde_json::{Value, json};

/// Stops it as Ctrl-C does.
fn interrupt(child: Child) {
    let stopped = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(stopped.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
}

#[tokio::test]
async fn a_state_exported_on_exit_is_imported_by_the_next_run() {
    let temp = tempfile::Builder::new().prefix("press-apps-emulator-state-").tempdir().unwrap();
    let dir = temp.path();
    let file = dir.join("state.json");
    let file_arg = file.display().to_string();
    let http = reqwest::Client::new();

    let (first, url) = start(&["--export-on-exit", &file_arg]);
    let spec = json!({
        "version": 1, "kind": "app", "metadata": {"name": "kept", "summary": "s"},
        "release": {"version": "1.0.0", "notes": "n"}, "config": []
    });
    let body = json!({"spec": spec.to_string(), "featured": "true", "scope": null, "parameters": "null"});
    let created: Value = http
        .post(format!("{url}/v1/apps/specs/"))
        .header("authorization", "t")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let before: Value = get(&http, &url, "/v1/apps/specs/").await;
    interrupt(first);
    assert!(Path::new(&file).exists() && !dir.join("state.partial").exists());

    let (second, url) = start(&["--import", &file_arg]);
    let after: Value = get(&http, &url, "/v1/apps/specs/").await;
    assert_eq!(after, before);
    assert_eq!(after["specs"][0]["id"], created["id"]);
    interrupt(second);

    std::fs::write(&file, "{\"format\": \"something else\"}").unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_press-apps-emulator"))
        .args(["--port", "0", "--import", &file_arg])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("state.json"), "{refused:?}");
}

async fn get(http: &reqwest::Client, url: &str, path: &str) -> Value {
    http.get(format!("{url}{path}")).header("authorization", "t").send().await.unwrap().json().await.unwrap()
}
