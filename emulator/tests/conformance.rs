//! Every answer of the emulator, success or error, for all 17 operations, checked against the
//! published document with no undocumented field allowed.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn every_operation_answers_as_the_document_says() {
    let h = Harness::start().await;
    let schemas = Schemas::load();
    let check = |op: &str, (status, body): &(StatusCode, serde_json::Value)| schemas.check(op, *status, body);

    let spec_id = h.create_spec("conformance", hidden_parameter()).await;
    let spec = format!("/v1/apps/specs/{spec_id}");

    check("list_specs", &h.call(Method::GET, "/v1/apps/specs/", None).await);
    check("describe_spec", &h.call(Method::GET, &spec, None).await);
    let update = json!({"metadata": {"title": "New", "tags": [{"name": "x"}], "status": "unavailable"}, "featured": true});
    check("update_spec_metadata", &h.call(Method::PATCH, &spec, Some(update)).await);

    let release = json!({"release": {"version": "1.1.0", "notes": "n"}, "config": [], "parameters": hidden_parameter()});
    let created = h.call(Method::POST, &format!("{spec}/releases"), Some(release)).await;
    assert_eq!(created.0, StatusCode::CREATED);
    check("create_spec_release", &created);
    check("describe_spec_release", &h.call(Method::GET, &format!("{spec}/releases/1.1.0"), None).await);
    check("list_spec_releases", &h.call(Method::GET, &format!("{spec}/releases"), None).await);

    let deployment = json!({
        "metadata": {"name": "dep", "summary": "s", "tags": [{"name": "t"}]},
        "revision": {"notes": "first"},
        "spec": {"id": spec_id, "release": {"version": "1.0.0"}},
        "appParameters": {"build": {}, "run": {"secret": "hunter2", "replicas": 3}},
        "parameters": {"block-a": {"build": {"x": 1}, "run": {}}}
    });
    let created = h.call(Method::POST, "/v1/apps/deployments/", Some(deployment)).await;
    check("create_deployment", &created);
    let deployment_id = created.1["id"].as_str().unwrap().to_owned();
    let deployment = format!("/v1/apps/deployments/{deployment_id}");

    check("list_deployments", &h.call(Method::GET, "/v1/apps/deployments/", None).await);
    check("describe_deployment", &h.call(Method::GET, &deployment, None).await);
    check(
        "update_deployment_metadata",
        &h.call(Method::PATCH, &deployment, Some(json!({"description": "d", "imageUrl": "http://x/i.png"})))
            .await,
    );
    let revision = json!({"release": {"version": "1.1.0"}, "revision": {"notes": "second"},
                          "appParameters": {"run": {"secret": "s3cret"}}});
    check(
        "create_deployment_revision",
        &h.call(Method::POST, &format!("{deployment}/revisions"), Some(revision)).await,
    );
    check(
        "describe_deployment_revision",
        &h.call(Method::GET, &format!("{deployment}/revisions/2"), None).await,
    );
    check("list_deployment_revisions", &h.call(Method::GET, &format!("{deployment}/revisions"), None).await);
    h.set_status(&deployment_id, "failed").await;
    check("redeploy", &h.call(Method::POST, &format!("{deployment}/redeploy"), None).await);
    check("delete_deployment", &h.call(Method::DELETE, &deployment, None).await);
    check("describe_deployment", &h.call(Method::GET, &deployment, None).await);
    check("delete_spec", &h.call(Method::DELETE, &spec, None).await);
}

#[tokio::test]
async fn error_answers_match_the_document_too() {
    let builder = peak_press_apps_emulator::Emulator::builder()
        .deploy_delay(std::time::Duration::ZERO)
        .token("writer")
        .read_only_token("reader")
        .body_limit(4096);
    let mut h = Harness::with(builder).await;
    h.token = "writer";
    let schemas = Schemas::load();
    let expect = |op: &str, wanted: u16, (status, body): (StatusCode, serde_json::Value)| {
        assert_eq!(status.as_u16(), wanted, "{op}: {body}");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{op}: no detail in {body}");
        schemas.check(op, status, &body);
    };

    expect("list_specs", 401, h.call_as("stranger", Method::GET, "/v1/apps/specs/", None).await);
    expect("list_specs", 401, h.call_as("", Method::GET, "/v1/apps/specs/", None).await);
    let reader = h.call_as("reader", Method::GET, "/v1/apps/specs/", None).await;
    assert_eq!(reader.0, StatusCode::OK, "a read-only token may read");
    expect("create_spec", 403, h.call_as("reader", Method::POST, "/v1/apps/specs/", Some(json!({}))).await);
    expect("describe_spec", 404, h.call(Method::GET, "/v1/apps/specs/nope", None).await);
    expect("list_specs", 400, h.call(Method::GET, "/v1/apps/specs/?pageSize=0", None).await);

    let spec_id = h.create_spec("taken", hidden_parameter()).await;
    let again = json!({"spec": json!({"version": 1, "kind": "app", "metadata": {"name": "taken", "summary": "s"},
        "release": {"version": "1.0.0", "notes": "n"}, "config": []}).to_string(), "featured": "null", "scope": null,
        "parameters": "null"});
    expect("create_spec", 409, h.call(Method::POST, "/v1/apps/specs/", Some(again)).await);
    let huge = json!({"spec": "x".repeat(5000), "featured": "null", "scope": null, "parameters": "null"});
    expect("create_spec", 413, h.call(Method::POST, "/v1/apps/specs/", Some(huge)).await);
    let old = json!({"release": {"version": "0.9.0", "notes": "n"}, "config": [], "parameters": null});
    expect(
        "create_spec_release",
        409,
        h.call(Method::POST, &format!("/v1/apps/specs/{spec_id}/releases"), Some(old)).await,
    );
    let bad = json!({"metadata": {"name": "d", "summary": "s"}, "revision": {"notes": "n"}, "spec": {"id": spec_id},
        "appParameters": {"run": {"replicas": "three"}}});
    expect("create_deployment", 422, h.call(Method::POST, "/v1/apps/deployments/", Some(bad)).await);
    let missing = json!({"metadata": {"summary": "s"}, "revision": {"notes": "n"}, "spec": {"id": spec_id}});
    expect("create_deployment", 400, h.call(Method::POST, "/v1/apps/deployments/", Some(missing)).await);
    expect(
        "describe_deployment_revision",
        400,
        h.call(Method::GET, "/v1/apps/deployments/x/revisions/abc", None).await,
    );
    expect("redeploy", 404, h.call(Method::POST, "/v1/apps/deployments/x/redeploy", None).await);
}
