//! The emulator's rules over raw HTTP, for what a well-behaved client never sends: malformed
//! bodies, odd paths, the Python SDK's dialect, oversized bodies, races.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

use peak_press_apps_emulator::Emulator;

fn detail(body: &Value) -> &str {
    body["detail"].as_str().unwrap_or_else(|| panic!("no detail in {body}"))
}

#[tokio::test]
async fn bad_bodies_get_400_naming_the_field() {
    let h = Harness::start().await;
    let spec_id = h.create_spec("s", json!(null)).await;
    let deployment =
        |metadata: Value| json!({"metadata": metadata, "revision": {"notes": "n"}, "spec": {"id": spec_id}});
    let cases = [
        (deployment(json!({"summary": "s"})), "name"),
        (deployment(json!({"name": "d", "summary": 5})), "metadata.summary"),
        (deployment(json!({"name": "d", "summary": "s", "tags": [{"name": 1}]})), "metadata.tags[0].name"),
        (json!(["not", "an", "object"]), "body"),
    ];
    for (body, field) in cases {
        let (status, answer) = h.call(Method::POST, "/v1/apps/deployments/", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert!(detail(&answer).contains(field), "{field} not named in {answer}");
    }
    let (status, answer) =
        h.call(Method::PATCH, &format!("/v1/apps/specs/{spec_id}"), Some(json!({"scope": "galaxy"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(detail(&answer).contains("scope") && detail(&answer).contains("galaxy"), "{answer}");

    let send_raw = |body: &'static [u8], content_type: &'static str| {
        h.http
            .post(h.url("/v1/apps/deployments/"))
            .header("authorization", "t")
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    for (body, content_type) in [
        (&b"{\"metadata\": {"[..], "application/json"),
        (&b"\xff\xfe"[..], "application/json"),
        (&b""[..], "application/json"),
        (&b"name=x"[..], "application/x-www-form-urlencoded"),
    ] {
        let response = send_raw(body, content_type).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body:?}");
        let answer: Value = response.json().await.unwrap();
        assert!(!detail(&answer).is_empty());
    }
}

#[tokio::test]
async fn create_spec_reads_the_sdks_string_encoded_fields() {
    let h = Harness::start().await;
    let spec = json!({"version": 1, "kind": "app", "metadata": {"name": "enc", "summary": "s"},
                      "release": {"version": "1.0.0", "notes": "n"}, "config": []});
    let body = json!({"spec": spec.to_string(), "featured": "true", "scope": "shared",
                      "parameters": "null", "tenants": "[\"t1\", \"t2\"]"});
    let (status, created) = h.call(Method::POST, "/v1/apps/specs/", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (_, described) =
        h.call(Method::GET, &format!("/v1/apps/specs/{}", created["id"].as_str().unwrap()), None).await;
    assert_eq!(described["featured"], true);
    assert_eq!(described["scope"], "shared");
    assert_eq!(described["tenants"], json!(["t1", "t2"]));

    for (field, value, named) in [
        ("spec", json!("{not json"), "spec"),
        ("spec", json!(json!({"version": 1, "kind": "block"}).to_string()), "spec.kind"),
        ("parameters", json!("[1, 2]"), "parameters"),
        ("featured", json!("maybe"), "featured"),
    ] {
        let mut body = json!({"spec": json!({"version": 1, "kind": "app", "metadata": {"name": "x", "summary": "s"},
            "release": {"version": "1.0.0", "notes": "n"}, "config": []}).to_string(),
            "featured": "false", "scope": null, "parameters": "null"});
        body[field] = value;
        let (status, answer) = h.call(Method::POST, "/v1/apps/specs/", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {answer}");
        assert!(detail(&answer).contains(named), "{named} not named in {answer}");
    }
}

#[tokio::test]
async fn the_sdks_empty_bodies_and_capitalised_booleans_are_accepted() {
    let h = Harness::start().await;
    let spec_id = h.create_spec("dialect", json!(null)).await;
    let (status, _) =
        h.call(Method::GET, "/v1/apps/specs/?featured=False&status=available", Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = h.call(Method::GET, "/v1/apps/specs/?featured=True", Some(json!({}))).await;
    assert_eq!(page["specCount"], 0);
    let (_, page) = h.call(Method::GET, "/v1/apps/specs/?featured=FALSE", None).await;
    assert_eq!(page["specCount"], 1);
    let (status, answer) = h.call(Method::GET, "/v1/apps/specs/?featured=yes", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, _) = h.call(Method::DELETE, &format!("/v1/apps/specs/{spec_id}"), Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_sdks_service_routes_and_the_document_are_served() {
    let h = Harness::start().await;
    let tenant =
        h.http.get(h.url("/tenant-management/api/v1/external/tenants/tenant-metadata")).send().await.unwrap();
    assert_eq!(tenant.status(), StatusCode::OK);
    assert_eq!(tenant.json::<Value>().await.unwrap(), json!({}));
    let telemetry = h
        .http
        .post(h.url("/resource-usage/api/v1/telemetry"))
        .json(&json!({"event": "x"}))
        .send()
        .await
        .unwrap();
    assert!(telemetry.status().is_success());
    let document: Value = h.http.get(h.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(document["openapi"], "3.0.3");
    assert_eq!(document["servers"][0]["url"], h.emulator.base_url());
    assert_eq!(document["paths"].as_object().unwrap().len(), 9);
}

#[tokio::test]
async fn oversized_bodies_get_413_with_a_detail_on_every_route() {
    let h = Harness::with(peak_press_apps_emulator::Emulator::builder().body_limit(1000)).await;
    let big = json!({"padding": "x".repeat(2000)});
    for (method, path) in [
        (Method::POST, "/v1/apps/specs/"),
        (Method::GET, "/v1/apps/specs/"),
        (Method::PATCH, "/v1/apps/deployments/x"),
    ] {
        let (status, answer) = h.call(method.clone(), path, Some(big.clone())).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{method} {path}");
        assert!(detail(&answer).contains("1000"), "{answer}");
    }
    // A chunked body declares no length; it is held to the limit while it is read.
    let chunks = futures_chunks(3000);
    let response = h
        .http
        .post(h.url("/v1/apps/deployments/"))
        .header("authorization", "t")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

fn futures_chunks(total: usize) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::iter((0..total / 100).map(|_| Ok(vec![b' '; 100])))
}

#[tokio::test]
async fn odd_paths_and_methods_get_json_errors_and_the_server_stays_up() {
    let h = Harness::start().await;
    let long = "x".repeat(10_000);
    for path in [
        "/v1/apps/specs/..%2F..%2Fetc",
        "/v1/apps/specs/%2e%2e",
        "/v1/apps/specs/%ff%fe",
        "/v1/apps/specs/caf%C3%A9",
        &format!("/v1/apps/specs/{long}"),
        "/v1/apps/specs/a/b/c/d",
        "/v1/apps/specs",
        "/nowhere",
        "/v1/apps/deployments/x/revisions/-1",
        "/v1/apps/deployments/x/revisions/99999999999999999999999",
    ] {
        let response = h.http.get(h.url(path)).header("authorization", "t").send().await.unwrap();
        let status = response.status();
        assert!(matches!(status.as_u16(), 400 | 404), "{path}: {status}");
        let answer: Value = response.json().await.unwrap_or_else(|_| panic!("{path}: JSON error body"));
        assert!(!detail(&answer).is_empty());
    }
    let (status, answer) = h.call(Method::PUT, "/v1/apps/specs/", Some(json!({}))).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(!detail(&answer).is_empty());
    let (status, _) = h.call(Method::GET, "/v1/apps/specs/", None).await;
    assert_eq!(status, StatusCode::OK, "still serving");
}

#[tokio::test]
async fn list_parameters_are_checked() {
    let h = Harness::start().await;
    for query in [
        "pageSize=1001",
        "pageSize=abc",
        "pageNumber=0",
        "sort=colour:asc",
        "sort=name:sideways",
        "status=broken",
        "scope=galaxy",
    ] {
        let (status, answer) = h.call(Method::GET, &format!("/v1/apps/specs/?{query}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
    }
    let (status, answer) =
        h.call(Method::GET, "/v1/apps/deployments/?sort=createdAt:asc,name:desc", None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _) = h.call(Method::GET, "/v1/apps/deployments/?status=warning&status=failed", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn concurrent_creates_of_one_name_give_one_success() {
    let h = std::sync::Arc::new(Harness::start().await);
    let attempts: Vec<_> = (0..16)
        .map(|_| {
            let h = h.clone();
            tokio::spawn(async move {
                let spec = json!({"version": 1, "kind": "app", "metadata": {"name": "race", "summary": "s"},
                                  "release": {"version": "1.0.0", "notes": "n"}, "config": []});
                let body = json!({"spec": spec.to_string(), "featured": "null", "scope": null, "parameters": "null"});
                h.call(Method::POST, "/v1/apps/specs/", Some(body)).await.0
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap().as_u16());
    }
    statuses.sort();
    assert_eq!(statuses, [[201].as_slice(), &[409; 15]].concat());
}

/// The ids of the specs a listing query answers with.
async fn spec_ids(h: &Harness, query: &str) -> Vec<String> {
    let (status, page) = h.call(Method::GET, &format!("/v1/apps/specs/?{query}"), None).await;
    assert_eq!(status, StatusCode::OK, "{query}: {page}");
    page["specs"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn filters_take_comma_joined_values_as_the_official_cli_sends_them() {
    let h = Harness::start().await;
    let available = h.create_spec("a", json!(null)).await;
    let unavailable = h.create_spec("b", json!(null)).await;
    let archived = h.create_spec("c", json!(null)).await;
    for (id, status) in [(&unavailable, "unavailable"), (&archived, "archived")] {
        let update = json!({"metadata": {"status": status}});
        let (code, answer) = h.call(Method::PATCH, &format!("/v1/apps/specs/{id}"), Some(update)).await;
        assert_eq!(code, StatusCode::OK, "{answer}");
    }
    let mut joined = spec_ids(&h, "status=available,unavailable").await;
    let mut repeated = spec_ids(&h, "status=available&status=unavailable").await;
    joined.sort();
    repeated.sort();
    let mut expected = vec![available.clone(), unavailable.clone()];
    expected.sort();
    assert_eq!(joined, expected);
    assert_eq!(repeated, expected);
    assert_eq!(spec_ids(&h, "scope=private,public").await.len(), 3);
    assert!(spec_ids(&h, "scope=public,shared").await.is_empty());
    let (status, answer) = h.call(Method::GET, "/v1/apps/specs/?status=available,broken", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(detail(&answer).contains("broken"), "{answer}");
}

#[tokio::test]
async fn a_bare_sort_field_sorts_ascending() {
    let h = Harness::start().await;
    for name in ["b", "c", "a"] {
        h.create_spec(name, json!(null)).await;
    }
    let names = |query: &'static str| {
        let h = &h;
        async move {
            let (_, page) = h.call(Method::GET, &format!("/v1/apps/specs/?{query}"), None).await;
            page["specs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["metadata"]["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("sort=name").await, ["a", "b", "c"]);
    assert_eq!(names("sort=title:desc,name").await, ["c", "b", "a"]);
}

#[tokio::test]
async fn leaving_the_shared_scope_drops_the_tenants() {
    let h = Harness::start().await;
    let id = h.create_spec("shared", json!(null)).await;
    let path = format!("/v1/apps/specs/{id}");
    let (status, spec) = h
        .call(Method::PATCH, &path, Some(json!({"scope": "shared", "tenants": ["tenant1", "tenant2"]})))
        .await;
    assert_eq!(status, StatusCode::OK, "{spec}");
    assert_eq!(spec["tenants"], json!(["tenant1", "tenant2"]));
    // A metadata change keeps the scope and its tenants.
    let (_, spec) = h.call(Method::PATCH, &path, Some(json!({"featured": true}))).await;
    assert_eq!(spec["tenants"], json!(["tenant1", "tenant2"]));
    // What the official CLI's update-metadata sample sends to a spec its create sample shared.
    let (status, spec) = h.call(Method::PATCH, &path, Some(json!({"scope": "private"}))).await;
    assert_eq!(status, StatusCode::OK, "{spec}");
    assert_eq!((spec["scope"].as_str(), &spec["tenants"]), (Some("private"), &json!([])));
    let (status, answer) =
        h.call(Method::PATCH, &path, Some(json!({"scope": "public", "tenants": ["t"]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "tenants go with the shared scope only: {answer}");
}

#[tokio::test]
async fn releases_may_leave_out_notes_and_parameters_their_default_value() {
    let h = Harness::start().await;
    let conditional = json!({"build": [], "run": [
        {"name": "max_retries", "type": "number", "required": false, "defaultValue": 3},
        {"name": "filter_condition", "type": "string", "required": true, "hideValue": true,
         "conditions": [{"dependsOn": "max_retries", "operator": "equals", "value": 3}]}
    ]});
    let id = h.create_spec("conditional", conditional.clone()).await;
    let release = json!({"release": {"version": "2.0.0"}, "config": [], "parameters": conditional});
    let (status, created) =
        h.call(Method::POST, &format!("/v1/apps/specs/{id}/releases"), Some(release)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, described) = h.call(Method::GET, &format!("/v1/apps/specs/{id}/releases/2.0.0"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(described["notes"], "", "no notes given, empty ones reported");
    let run = &described["parameters"]["run"];
    assert_eq!(run[1]["name"], "filter_condition");
    assert!(run[1].get("defaultValue").is_none(), "no default invented: {run}");
}

#[tokio::test]
async fn a_redeployed_revision_reports_a_revision_status() {
    let h = Harness::with(Emulator::builder().deploy_delay(Duration::from_secs(60))).await;
    let spec_id = h.create_spec("r", json!(null)).await;
    let id = h.create_deployment("d", &spec_id, json!({})).await;
    h.set_status(&id, "failed").await;
    let (status, answer) = h.call(Method::POST, &format!("/v1/apps/deployments/{id}/redeploy"), None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, deployment) = h.call(Method::GET, &format!("/v1/apps/deployments/{id}"), None).await;
    assert_eq!(deployment["metadata"]["status"], "redeploying");
    assert_eq!(deployment["latestRevision"]["status"], "deploying", "revisions have no redeploying status");
    let (_, revision) = h.call(Method::GET, &format!("/v1/apps/deployments/{id}/revisions/1"), None).await;
    assert_eq!(revision["status"], "deploying");
}

#[tokio::test]
async fn a_name_is_taken_while_its_record_has_it_and_free_once_renamed_or_gone() {
    let h = Harness::start().await;
    let none = json!({"build": [], "run": []});
    let first = h.create_spec("first", none.clone()).await;
    let second = h.create_spec("second", none.clone()).await;
    let rename = |name: &str| json!({"metadata": {"name": name}});
    let spec_path = |id: &str| format!("/v1/apps/specs/{id}");

    // A spec renamed to a taken name is refused; renamed to a free one, its old name is free.
    assert_eq!(
        h.call(Method::PATCH, &spec_path(&second), Some(rename("first"))).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(h.call(Method::PATCH, &spec_path(&second), Some(rename("second"))).await.0, StatusCode::OK);
    assert_eq!(h.call(Method::PATCH, &spec_path(&first), Some(rename("renamed"))).await.0, StatusCode::OK);
    let again = h.create_spec("first", none.clone()).await;
    // A deleted spec's name is free.
    assert_eq!(h.call(Method::DELETE, &spec_path(&again), None).await.0, StatusCode::OK);
    h.create_spec("first", none.clone()).await;

    // Deployments: the same, and a deleted one's name is free once it is gone.
    let prod = h.create_deployment("prod", &second, json!({})).await;
    let staging = h.create_deployment("staging", &second, json!({})).await;
    let deployment_path = format!("/v1/apps/deployments/{staging}");
    let taken = h.call(Method::PATCH, &deployment_path, Some(json!({"name": "prod"}))).await.0;
    assert_eq!(taken, StatusCode::CONFLICT);
    assert_eq!(
        h.call(Method::PATCH, &deployment_path, Some(json!({"name": "stage"}))).await.0,
        StatusCode::OK
    );
    h.create_deployment("staging", &second, json!({})).await;
    assert_eq!(h.call(Method::DELETE, &format!("/v1/apps/deployments/{prod}"), None).await.0, StatusCode::OK);
    h.create_deployment("prod", &second, json!({})).await;
}

#[tokio::test]
async fn a_control_route_that_refuses_a_body_names_its_own_limit() {
    use std::io::{Read, Write};
    let h = Harness::with(peak_press_apps_emulator::Emulator::builder().body_limit(1000)).await;
    // A state document declared larger than the control routes' limit of 1 GiB: refused on its
    // declared length, before a byte of it is read.
    let addr = h.emulator.addr();
    let answer = tokio::task::spawn_blocking(move || {
        let mut socket = std::net::TcpStream::connect(addr).unwrap();
        let head = "PUT /_emulator/state HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                    content-length: 2147483648\r\nconnection: close\r\n\r\n";
        socket.write_all(head.as_bytes()).unwrap();
        let mut answer = Vec::new();
        socket.read_to_end(&mut answer).unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("control routes' limit of 1073741824 bytes"),
        "names its limit, not the API's: {answer}"
    );
    assert!(!answer.contains("limit of 1000 bytes"), "{answer}");
}
