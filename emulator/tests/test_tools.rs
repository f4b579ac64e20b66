//! What the emulator offers a user's tests beside the API: the request log, scripted faults and
//! setting a deployment's status from Rust, each checked over HTTP on loopback.

mod common;

use common::Harness;
use peak_press_apps_emulator::{EmulatorDeploymentStatus, Fault, Operation};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn the_request_log_holds_what_was_sent_in_order() {
    let harness = Harness::start().await;
    let spec_id = harness.create_spec("logged", json!({"build": [], "run": []})).await;
    let (status, _) = harness.call(Method::GET, "/v1/apps/specs/?pageSize=5&sort=name:asc", None).await;
    assert_eq!(status, StatusCode::OK);
    harness.call(Method::GET, "/openapi.json", None).await;

    let log = harness.emulator.requests();
    assert_eq!(log.len(), 2, "only requests on /v1 are logged: {log:?}");
    assert_eq!((log[0].method.as_str(), log[0].path.as_str()), ("POST", "/v1/apps/specs/"));
    let body = log[0].json().expect("a JSON body");
    assert!(body["spec"].as_str().is_some_and(|spec| spec.contains("logged")), "{body}");
    assert_eq!((log[1].method.as_str(), log[1].query.as_deref()), ("GET", Some("pageSize=5&sort=name:asc")));
    assert!(log[1].body.is_empty());
    assert!(!spec_id.is_empty());

    harness.emulator.clear_requests();
    assert!(harness.emulator.requests().is_empty());
}

#[tokio::test]
async fn scripted_faults_answer_the_next_requests_of_their_route_only() {
    let harness = Harness::start().await;
    harness.emulator.fail_next("GET", "/v1/apps/specs/", 2, Fault::Unavailable);
    harness.emulator.fail_next("GET", "/v1/apps/deployments/", 1, Fault::TooManyRequests);

    let (status, _) = harness.call(Method::GET, "/v1/apps/deployments/", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _) = harness.call(Method::GET, "/v1/apps/deployments/", None).await;
    assert_eq!(status, StatusCode::OK, "the script for that route is used up");
    for _ in 0..2 {
        let (status, _) = harness.call(Method::GET, "/v1/apps/specs/", None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
    let (status, _) = harness.call(Method::GET, "/v1/apps/specs/", None).await;
    assert_eq!(status, StatusCode::OK);
    // Another method on the same path is another route.
    harness.emulator.fail_next("POST", "/v1/apps/specs/", 1, Fault::Unavailable);
    let (status, _) = harness.call(Method::GET, "/v1/apps/specs/", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_status_set_from_rust_shows_on_the_deployment_and_a_valid_one_on_its_revision() {
    let harness = Harness::start().await;
    let spec_id = harness.create_spec("statuses", json!({"build": [], "run": []})).await;
    let id = harness.create_deployment("statuses", &spec_id, json!({})).await;
    let cases = [
        (EmulatorDeploymentStatus::Failed, "failed"),
        (EmulatorDeploymentStatus::Warning, "deployed"),
        (EmulatorDeploymentStatus::Redeploying, "deploying"),
        (EmulatorDeploymentStatus::RollbackComplete, "rollback_complete"),
    ];
    for (status, revision_status) in cases {
        harness.emulator.set_deployment_status(&id, status).unwrap();
        let (_, deployment) = harness.call(Method::GET, &format!("/v1/apps/deployments/{id}"), None).await;
        assert_eq!(deployment["metadata"]["status"], status.as_str());
        assert_eq!(deployment["latestRevision"]["status"], revision_status, "{status:?}");
        let (_, revision) =
            harness.call(Method::GET, &format!("/v1/apps/deployments/{id}/revisions/1"), None).await;
        assert_eq!(revision["status"], revision_status);
        assert!(revision["resources"].as_array().unwrap().iter().all(|b| b["status"] == revision_status));
    }
    let missing =
        harness.emulator.set_deployment_status("nope", EmulatorDeploymentStatus::Failed).unwrap_err();
    assert_eq!(missing, peak_press_apps_emulator::EmulatorError::NoSuchDeployment("nope".into()));
    assert!(missing.to_string().contains("\"nope\" does not exist"), "{missing}");
}

#[tokio::test]
async fn a_scripted_fault_names_an_operation_whatever_its_ids() {
    let harness = Harness::start().await;
    let first = harness.create_spec("first", json!({"build": [], "run": []})).await;
    let second = harness.create_spec("second", json!({"build": [], "run": []})).await;
    harness.emulator.fail_next_operation("describe_spec".parse().unwrap(), 2, Fault::Unavailable);
    let (status, _) = harness.call(Method::GET, "/v1/apps/specs/?pageSize=5", None).await;
    assert_eq!(status, StatusCode::OK, "another operation on the same path prefix is left alone");
    let (status, _) = harness.call(Method::GET, &format!("/v1/apps/specs/{first}"), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _) = harness.call(Method::GET, &format!("/v1/apps/specs/{second}"), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "any spec id");
    let (status, _) = harness.call(Method::GET, &format!("/v1/apps/specs/{first}"), None).await;
    assert_eq!(status, StatusCode::OK, "two, then the operation answers as usual");

    let unknown = "describe_spce".parse::<Operation>().unwrap_err();
    assert!(unknown.to_string().contains("\"describe_spce\""), "{unknown}");
}

#[tokio::test]
async fn the_operations_table_is_the_documents_and_each_is_served_and_can_be_failed() {
    let document: serde_json::Value = serde_json::from_str(peak_press_apps_emulator::DOCUMENT).unwrap();
    let mut documented = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if let Some(id) = operation["operationId"].as_str() {
                documented.push((id.to_owned(), method.to_uppercase(), path.clone()));
            }
        }
    }
    let mut table: Vec<_> = Operation::ALL
        .iter()
        .map(|op| (op.id().to_owned(), op.method().to_owned(), op.path().to_owned()))
        .collect();
    documented.sort();
    table.sort();
    assert_eq!(table, documented, "Operation::ALL against the document's operations");

    let front_page = include_str!("../src/lib.rs");
    let harness = Harness::start().await;
    for &operation in Operation::ALL {
        let row = format!("//! | `{}` | `{}` | `{}` |", operation.id(), operation.method(), operation.path());
        assert!(front_page.contains(&row), "the crate's front page lists {operation}: {row}");
        let path = operation.path().replace("{specId}", "s-1").replace("{deploymentId}", "d-1");
        let path = path.replace("{version}", "1.0.0").replace("{revision}", "1");
        assert_eq!(Operation::of(operation.method(), &path), Some(operation), "{path}");
        harness.emulator.fail_next_operation(operation, 1, Fault::TooManyRequests);
        let method = Method::from_bytes(operation.method().as_bytes()).unwrap();
        let body = (method == Method::POST || method == Method::PATCH).then(|| json!({}));
        let (status, _) = harness.call(method, &path, body).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{operation} is routed and struck");
    }
    assert_eq!(Operation::of("GET", "/v1/apps/specs"), None, "the collection's trailing slash matters");
    assert_eq!(Operation::of("PUT", "/v1/apps/specs/s-1"), None);
}
