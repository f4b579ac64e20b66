//! The whole state out and in: an exported state imported into a fresh emulator answers every
//! read as the original did; a bad document is refused whole and changes nothing; reset forgets.

mod common;

use common::{Harness, every_read, varied};
use peak_press_apps_emulator::Emulator;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn an_exported_state_imported_elsewhere_answers_every_read_as_the_original() {
    let original = Harness::start().await;
    varied(&original).await;
    let state = original.emulator.export_state();
    assert_eq!(state["format"], "peak-press-apps-emulator/state");
    assert_eq!(state["specs"].as_array().unwrap().len(), 2);

    // Through the library, and through the control routes of another emulator.
    let copy = Harness::with(Emulator::builder().state(state.clone())).await;
    assert_eq!(every_read(&copy).await, every_read(&original).await);
    let routed = Harness::start().await;
    let response = routed.http.put(routed.url("/_emulator/state")).json(&state).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(every_read(&routed).await, every_read(&original).await);
    let exported: Value =
        routed.http.get(routed.url("/_emulator/state")).send().await.unwrap().json().await.unwrap();
    assert_eq!(exported, state, "out, in and out again: the same document");

    // New writes come after the imported ones: the newest is first.
    routed.create_spec("gamma", json!({"build": [], "run": []})).await;
    let (_, specs) = routed.call(Method::GET, "/v1/apps/specs/", None).await;
    assert_eq!(specs["specs"][0]["metadata"]["name"], "gamma");
}

#[tokio::test]
async fn a_bad_document_is_refused_whole_and_changes_nothing() {
    let harness = Harness::start().await;
    varied(&harness).await;
    let before = harness.emulator.export_state();

    let mut other_version = before.clone();
    other_version["version"] = json!(2);
    let mut dangling = before.clone();
    dangling["deployments"][0]["specId"] = json!("no-such-spec");
    let mut disordered = before.clone();
    disordered["specs"][0]["releases"][1]["version"] = json!("0.9.0");
    let mut twice = before.clone();
    twice["specs"][1]["metadata"]["name"] = twice["specs"][0]["metadata"]["name"].clone();
    let mut unknown_key = before.clone();
    unknown_key["specs"][0]["colour"] = json!("blue");
    let cases = [
        (json!({"specs": []}), "not a state document"),
        (other_version, "version 2; this emulator reads \"peak-press-apps-emulator/state\" version 1"),
        (dangling, "its spec \"no-such-spec\" is not in the document"),
        (disordered, "is not greater than the one before it"),
        (twice, "another spec of its tenant is named"),
        (unknown_key, "unknown field `colour`"),
    ];
    for (document, reason) in cases {
        let refused = harness.emulator.import_state(&document).await.unwrap_err();
        assert!(
            matches!(&refused, peak_press_apps_emulator::EmulatorError::InvalidState(why) if why.contains(reason)),
            "{refused:?}"
        );
        let response =
            harness.http.put(harness.url("/_emulator/state")).json(&document).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains(reason), "{body}");
        assert_eq!(harness.emulator.export_state(), before, "nothing changed");
    }
    let start = Emulator::builder()
        .state(json!({"format": "x", "version": 1, "specs": [], "deployments": []}))
        .start()
        .await;
    assert_eq!(start.unwrap_err().kind(), std::io::ErrorKind::InvalidData);
}

#[tokio::test]
async fn reset_forgets_everything() {
    let harness = Harness::start().await;
    varied(&harness).await;
    let response = harness.http.post(harness.url("/_emulator/reset")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (_, specs) = harness.call(Method::GET, "/v1/apps/specs/", None).await;
    assert_eq!(specs["specCount"], 0);
    varied(&harness).await;
    harness.emulator.reset().await.unwrap();
    assert_eq!(harness.emulator.export_state()["deployments"], json!([]));
}
