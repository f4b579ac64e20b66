//! Tenants apart: each scope seen from its own tenant's side and from others'. A private spec
//! and every deployment do not exist for other tenants (404); a shared spec is seen and deployed
//! by the tenants it names, a public one by all, and only its tenant changes it (403).

mod common;

use std::time::Duration;

use common::Harness;
use peak_press_apps_emulator::Emulator;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ACME: &str = "token-acme";
const GLOBEX: &str = "token-globex";
const INITECH: &str = "token-initech";

async fn three_tenants() -> Harness {
    let builder = Emulator::builder()
        .deploy_delay(Duration::ZERO)
        .tenant_token("acme", ACME)
        .tenant_token("globex", GLOBEX)
        .tenant_token("initech", INITECH);
    Harness::with(builder).await
}

/// Creates a spec as the tenant of `token`; returns the status and the answer.
async fn create_spec(
    harness: &Harness,
    token: &str,
    name: &str,
    scope: &str,
    tenants: &[&str],
) -> (StatusCode, Value) {
    let spec = json!({
        "version": 1, "kind": "app",
        "metadata": {"name": name, "summary": "s"},
        "release": {"version": "1.0.0", "notes": "first"},
        "config": [{"id": "block-a", "release": {"version": "1.0.0"}}]
    });
    let mut body = json!({"spec": spec.to_string(), "scope": scope});
    if !tenants.is_empty() {
        body["tenants"] = json!(json!(tenants).to_string());
    }
    harness.call_as(token, Method::POST, "/v1/apps/specs/", Some(body)).await
}

async fn spec_of(harness: &Harness, token: &str, name: &str, scope: &str, tenants: &[&str]) -> String {
    let (status, created) = create_spec(harness, token, name, scope, tenants).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

async fn create_deployment(harness: &Harness, token: &str, name: &str, spec_id: &str) -> (StatusCode, Value) {
    let body = json!({
        "metadata": {"name": name, "summary": "s"},
        "revision": {"notes": "first"},
        "spec": {"id": spec_id},
    });
    harness.call_as(token, Method::POST, "/v1/apps/deployments/", Some(body)).await
}

/// The names of the specs the tenant of `token` lists (with an optional query).
async fn listed_specs(harness: &Harness, token: &str, query: &str) -> Vec<String> {
    let (status, page) = harness.call_as(token, Method::GET, &format!("/v1/apps/specs/{query}"), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let names: Vec<String> = page["specs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(page["specCount"], names.len(), "the count is of what the tenant sees");
    names
}

/// The status of each read of a spec: describe, its releases, its release 1.0.0.
async fn reads_of_spec(harness: &Harness, token: &str, id: &str) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for path in [
        format!("/v1/apps/specs/{id}"),
        format!("/v1/apps/specs/{id}/releases"),
        format!("/v1/apps/specs/{id}/releases/1.0.0"),
    ] {
        statuses.push(harness.call_as(token, Method::GET, &path, None).await.0);
    }
    statuses
}

/// The status of each change of a spec: update, new release, delete (in that order, so that a
/// delete that goes through comes last).
async fn changes_of_spec(harness: &Harness, token: &str, id: &str) -> Vec<StatusCode> {
    let path = format!("/v1/apps/specs/{id}");
    let update = harness.call_as(token, Method::PATCH, &path, Some(json!({"featured": true}))).await.0;
    let release = json!({"release": {"version": "2.0.0", "notes": "n"}, "config": []});
    let released = harness.call_as(token, Method::POST, &format!("{path}/releases"), Some(release)).await.0;
    let deleted = harness.call_as(token, Method::DELETE, &path, None).await.0;
    vec![update, released, deleted]
}

const OK3: [StatusCode; 3] = [StatusCode::OK; 3];
const GONE3: [StatusCode; 3] = [StatusCode::NOT_FOUND; 3];
const FORBIDDEN3: [StatusCode; 3] = [StatusCode::FORBIDDEN; 3];

#[tokio::test]
async fn a_private_spec_does_not_exist_for_other_tenants() {
    let harness = three_tenants().await;
    let id = spec_of(&harness, ACME, "mine", "private", &[]).await;

    assert_eq!(listed_specs(&harness, ACME, "").await, ["mine"]);
    assert_eq!(reads_of_spec(&harness, ACME, &id).await, OK3);

    assert!(listed_specs(&harness, GLOBEX, "").await.is_empty());
    assert_eq!(reads_of_spec(&harness, GLOBEX, &id).await, GONE3);
    assert_eq!(changes_of_spec(&harness, GLOBEX, &id).await, GONE3);
    let (status, refused) = create_deployment(&harness, GLOBEX, "theirs", &id).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    assert_eq!(refused["detail"], format!("app spec {id:?} does not exist"), "the same words as for no spec");

    // Nothing the others tried changed it; its own tenant still changes it.
    assert_eq!(reads_of_spec(&harness, ACME, &id).await, OK3);
    assert_eq!(
        changes_of_spec(&harness, ACME, &id).await,
        [StatusCode::OK, StatusCode::CREATED, StatusCode::OK]
    );
}

#[tokio::test]
async fn a_shared_spec_is_seen_and_deployed_by_the_tenants_it_names_and_changed_by_its_own() {
    let harness = three_tenants().await;
    let id = spec_of(&harness, ACME, "shared-app", "shared", &["globex"]).await;

    assert_eq!(listed_specs(&harness, GLOBEX, "").await, ["shared-app"]);
    assert_eq!(listed_specs(&harness, GLOBEX, "?scope=shared").await, ["shared-app"]);
    assert!(listed_specs(&harness, GLOBEX, "?scope=private").await.is_empty());
    assert_eq!(reads_of_spec(&harness, GLOBEX, &id).await, OK3);
    let (status, created) = create_deployment(&harness, GLOBEX, "globex-prod", &id).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (_, spec) = harness.call_as(GLOBEX, Method::GET, &format!("/v1/apps/specs/{id}"), None).await;
    assert_eq!(spec["scope"], "shared");

    let (status, refused) = harness
        .call_as(GLOBEX, Method::PATCH, &format!("/v1/apps/specs/{id}"), Some(json!({"featured": true})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(refused["detail"].as_str().unwrap().contains("belongs to another tenant"), "{refused}");
    assert_eq!(changes_of_spec(&harness, GLOBEX, &id).await, FORBIDDEN3);

    // A tenant it does not name sees nothing.
    assert!(listed_specs(&harness, INITECH, "").await.is_empty());
    assert_eq!(reads_of_spec(&harness, INITECH, &id).await, GONE3);

    // Its tenant cannot delete it from under another tenant's deployment.
    let (status, _) = harness.call_as(ACME, Method::DELETE, &format!("/v1/apps/specs/{id}"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_public_spec_is_seen_and_deployed_by_every_tenant_and_changed_by_its_own() {
    let harness = three_tenants().await;
    let id = spec_of(&harness, ACME, "public-app", "public", &[]).await;
    spec_of(&harness, ACME, "private-app", "private", &[]).await;

    for token in [GLOBEX, INITECH] {
        assert_eq!(listed_specs(&harness, token, "").await, ["public-app"]);
        assert_eq!(listed_specs(&harness, token, "?scope=public").await, ["public-app"]);
        assert_eq!(reads_of_spec(&harness, token, &id).await, OK3);
        let (status, created) = create_deployment(&harness, token, "same-name", &id).await;
        assert_eq!(status, StatusCode::CREATED, "deployment names are unique within a tenant: {created}");
    }
    assert_eq!(changes_of_spec(&harness, INITECH, &id).await, FORBIDDEN3);
    assert_eq!(listed_specs(&harness, ACME, "?sort=name:asc").await, ["private-app", "public-app"]);
}

#[tokio::test]
async fn deployments_are_never_seen_outside_their_tenant() {
    let harness = three_tenants().await;
    let spec = spec_of(&harness, ACME, "public-app", "public", &[]).await;
    let (_, acme) = create_deployment(&harness, ACME, "acme-prod", &spec).await;
    let (_, globex) = create_deployment(&harness, GLOBEX, "globex-prod", &spec).await;
    let (acme, globex) = (acme["id"].as_str().unwrap(), globex["id"].as_str().unwrap());

    for (token, own, other, name) in
        [(ACME, acme, globex, "acme-prod"), (GLOBEX, globex, acme, "globex-prod")]
    {
        let (_, page) = harness.call_as(token, Method::GET, "/v1/apps/deployments/", None).await;
        assert_eq!(page["deploymentCount"], 1);
        assert_eq!(page["deployments"][0]["metadata"]["name"], name);
        assert_eq!(page["deployments"][0]["id"], own);

        let base = format!("/v1/apps/deployments/{other}");
        let revision = json!({"revision": {"notes": "n"}});
        let attempts = [
            (Method::GET, base.clone(), None),
            (Method::GET, format!("{base}/revisions"), None),
            (Method::GET, format!("{base}/revisions/1"), None),
            (Method::PATCH, base.clone(), Some(json!({"name": "taken-over"}))),
            (Method::POST, format!("{base}/revisions"), Some(revision)),
            (Method::POST, format!("{base}/redeploy"), None),
            (Method::DELETE, base.clone(), None),
        ];
        for (method, path, body) in attempts {
            let (status, answer) = harness.call_as(token, method.clone(), &path, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
        }
    }
    // Untouched by the other tenant's attempts.
    let (status, kept) =
        harness.call_as(ACME, Method::GET, &format!("/v1/apps/deployments/{acme}"), None).await;
    assert_eq!((status, kept["metadata"]["name"].as_str()), (StatusCode::OK, Some("acme-prod")));
    assert_eq!(kept["latestRevision"]["revision"], 1);
}

#[tokio::test]
async fn names_are_unique_within_a_tenant_not_across_tenants() {
    let harness = three_tenants().await;
    spec_of(&harness, ACME, "same", "private", &[]).await;
    spec_of(&harness, GLOBEX, "same", "private", &[]).await;
    let (status, _) = create_spec(&harness, ACME, "same", "public", &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let other = spec_of(&harness, ACME, "other", "private", &[]).await;
    let rename = json!({"metadata": {"name": "same"}});
    let (status, _) =
        harness.call_as(ACME, Method::PATCH, &format!("/v1/apps/specs/{other}"), Some(rename)).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_spec_no_longer_shared_keeps_its_deployments_but_deploys_nothing_new_to_them() {
    let harness = three_tenants().await;
    let id = spec_of(&harness, ACME, "was-shared", "shared", &["globex"]).await;
    let (_, deployment) = create_deployment(&harness, GLOBEX, "globex-prod", &id).await;
    let deployment = deployment["id"].as_str().unwrap();

    let private = json!({"scope": "private"});
    let (status, spec) =
        harness.call_as(ACME, Method::PATCH, &format!("/v1/apps/specs/{id}"), Some(private)).await;
    assert_eq!((status, &spec["tenants"]), (StatusCode::OK, &json!([])));

    assert!(listed_specs(&harness, GLOBEX, "").await.is_empty());
    assert_eq!(reads_of_spec(&harness, GLOBEX, &id).await, GONE3);
    let path = format!("/v1/apps/deployments/{deployment}");
    assert_eq!(harness.call_as(GLOBEX, Method::GET, &path, None).await.0, StatusCode::OK);
    let revision = json!({"revision": {"notes": "again"}});
    let (status, refused) =
        harness.call_as(GLOBEX, Method::POST, &format!("{path}/revisions"), Some(revision)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("no longer shared"), "{refused}");
}

#[tokio::test]
async fn read_only_tokens_read_as_their_tenant() {
    let builder = Emulator::builder()
        .deploy_delay(Duration::ZERO)
        .tenant_token("acme", ACME)
        .read_only_tenant_token("acme", "acme-reader")
        .read_only_tenant_token("globex", "globex-reader");
    let harness = Harness::with(builder).await;
    spec_of(&harness, ACME, "mine", "private", &[]).await;
    assert_eq!(listed_specs(&harness, "acme-reader", "").await, ["mine"]);
    assert!(listed_specs(&harness, "globex-reader", "").await.is_empty());
    let (status, _) = create_spec(&harness, "acme-reader", "refused", "private", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[test]
fn the_options_debug_shows_tenants_but_no_token() {
    let builder = Emulator::builder().tenant_token("acme", ACME).read_only_token("reader-secret");
    let shown = format!("{builder:?}");
    assert!(shown.contains("acme") && shown.contains("default"), "{shown}");
    assert!(!shown.contains(ACME) && !shown.contains("reader-secret"), "{shown}");
}

#[tokio::test]
async fn tenants_survive_an_export_and_an_import() {
    let harness = three_tenants().await;
    let private = spec_of(&harness, ACME, "private-app", "private", &[]).await;
    let shared = spec_of(&harness, ACME, "shared-app", "shared", &["globex"]).await;
    create_deployment(&harness, GLOBEX, "globex-prod", &shared).await;
    let state = harness.emulator.export_state();
    assert_eq!(state["specs"][0]["tenant"], "acme");
    assert_eq!(state["deployments"][0]["tenant"], "globex");

    let copy = Harness::with(
        Emulator::builder()
            .deploy_delay(Duration::ZERO)
            .state(state)
            .tenant_token("acme", ACME)
            .tenant_token("globex", GLOBEX)
            .tenant_token("initech", INITECH),
    )
    .await;
    for token in [ACME, GLOBEX, INITECH] {
        assert_eq!(listed_specs(&copy, token, "").await, listed_specs(&harness, token, "").await);
        for id in [&private, &shared] {
            assert_eq!(reads_of_spec(&copy, token, id).await, reads_of_spec(&harness, token, id).await);
        }
        let (_, copied) = copy.call_as(token, Method::GET, "/v1/apps/deployments/", None).await;
        let (_, original) = harness.call_as(token, Method::GET, "/v1/apps/deployments/", None).await;
        assert_eq!(copied, original);
    }
}

#[tokio::test]
async fn without_tenants_every_token_shares_one_and_documents_without_tenants_load_into_it() {
    let harness = Harness::start().await;
    let id = spec_of(&harness, "one-token", "mine", "private", &[]).await;
    assert_eq!(reads_of_spec(&harness, "another-token", &id).await, OK3);
    let mut state = harness.emulator.export_state();
    assert_eq!(state["specs"][0]["tenant"], "default");
    state["specs"][0].as_object_mut().unwrap().remove("tenant");
    let copy = Harness::with(Emulator::builder().state(state).token("listed")).await;
    assert_eq!(listed_specs(&copy, "listed", "").await, ["mine"]);
}

#[tokio::test]
async fn the_binary_takes_a_tenant_after_each_token() {
    let (mut child, url) = common::start_binary(&[
        "--token",
        "a=acme",
        "--token",
        "b=globex",
        "--token",
        "x=y=globex",
        "--read-only-token",
        "padded==",
    ]);
    let http = reqwest::Client::new();
    let call = |token: &'static str, method: Method, path: String, body: Option<Value>| {
        let mut request = http.request(method, format!("{url}{path}")).header("authorization", token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move { request.send().await.unwrap().status() }
    };
    let spec = json!({
        "version": 1, "kind": "app",
        "metadata": {"name": "mine", "summary": "s"},
        "release": {"version": "1.0.0", "notes": "first"},
        "config": []
    });
    let body = json!({"spec": spec.to_string()});
    let created = http
        .post(format!("{url}/v1/apps/specs/"))
        .header("authorization", "a")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/apps/specs/{id}");
    let statuses = [
        call("a", Method::GET, path.clone(), None).await,
        call("b", Method::GET, path.clone(), None).await,
        // A token ending in `=` names no tenant: it reads as the default tenant.
        call("padded==", Method::GET, path.clone(), None).await,
        call("padded==", Method::GET, "/v1/apps/specs/".into(), None).await,
        call("acme", Method::GET, path.clone(), None).await,
        // Split at the last `=`: the token is `x=y`, of globex.
        call("x=y", Method::GET, "/v1/apps/specs/".into(), None).await,
        call("x", Method::GET, "/v1/apps/specs/".into(), None).await,
    ];
    child.kill().unwrap();
    child.wait().unwrap();
    let expected = [
        StatusCode::OK,
        StatusCode::NOT_FOUND,
        StatusCode::NOT_FOUND,
        StatusCode::OK,
        StatusCode::UNAUTHORIZED,
        StatusCode::OK,
        StatusCode::UNAUTHORIZED,
    ];
    assert_eq!(statuses, expected);
}
