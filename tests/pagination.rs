//! Pagination against a wiremock server: pages in turn with the filters kept, the end found by
//! `pageCount` or an empty page, and a server that misreports cannot make it loop.

mod common;

use common::*;
use futures::TryStreamExt;
use peak_press_apps::{DeploymentStatus, Error};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, ResponseTemplate, matchers};

/// Serves `total` deployments in pages of the requested size, with `page_count` computed by
/// `report` from the honest count (so tests can make the server lie).
async fn serve_deployments(server: &MockServer, total: u64, report: fn(u64, u64) -> u64) {
    Mock::given(matchers::method("GET"))
        .and(matchers::path("/v1/apps/deployments/"))
        .respond_with(move |request: &Request| {
            let query: std::collections::HashMap<_, _> = request.url.query_pairs().into_owned().collect();
            let size: u64 = query.get("pageSize").map_or(25, |s| s.parse().unwrap());
            let number: u64 = query["pageNumber"].parse().unwrap();
            let honest = total.div_ceil(size);
            let first = (number - 1) * size;
            let items: Vec<Value> = (first..total.min(first + size))
                .map(|i| deployment_json(&format!("d{i}"), &format!("name-{i}"), "deployed"))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({
                "deployments": items, "deploymentCount": total,
                "pageCount": report(honest, number), "pageNumber": number, "pageSize": size
            }))
        })
        .mount(server)
        .await;
}

#[tokio::test]
async fn items_stream_every_page_in_order_keeping_filters() {
    let (server, client) = server_and_client().await;
    serve_deployments(&server, 23, |honest, _| honest).await;
    let ids: Vec<String> = client
        .list_deployments()
        .status(DeploymentStatus::Deployed)
        .name("name")
        .page_size(5)
        .items()
        .map_ok(|d| d.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, (0..23).map(|i| format!("d{i}")).collect::<Vec<_>>());
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 5, "23 items in pages of 5");
    for (i, request) in requests.iter().enumerate() {
        assert_eq!(
            request.url.query().unwrap(),
            format!("name=name&pageNumber={}&pageSize=5&status=deployed", i + 1)
        );
    }
}

#[tokio::test]
async fn pages_report_their_counts() {
    let (server, client) = server_and_client().await;
    serve_deployments(&server, 7, |honest, _| honest).await;
    let pages: Vec<_> = client.list_deployments().page_size(3).pages().try_collect().await.unwrap();
    let shape: Vec<_> = pages.iter().map(|p| (p.page_number, p.items.len(), p.page_count, p.total)).collect();
    assert_eq!(shape, [(1, 3, 3, 7), (2, 3, 3, 7), (3, 1, 3, 7)]);
}

#[tokio::test]
async fn an_empty_listing_with_page_count_zero_ends_at_once() {
    let (server, client) = server_and_client().await;
    serve_deployments(&server, 0, |honest, _| honest).await;
    let items: Vec<_> = client.list_deployments().items().try_collect().await.unwrap();
    assert!(items.is_empty());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_empty_page_ends_the_listing_even_if_page_count_says_more() {
    let (server, client) = server_and_client().await;
    serve_deployments(&server, 4, |_, _| 50).await;
    let items: Vec<_> = client.list_deployments().page_size(2).items().try_collect().await.unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(server.received_requests().await.unwrap().len(), 3, "two full pages and one empty");
}

#[tokio::test]
async fn a_page_count_that_keeps_growing_stops_with_an_error() {
    let server = MockServer::start().await;
    // Every page is full and claims one more page follows.
    Mock::given(matchers::any())
        .respond_with(|request: &Request| {
            let number: u64 = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "pageNumber")
                .map(|(_, v)| v.parse().unwrap())
                .unwrap();
            ResponseTemplate::new(200).set_body_json(json!({
                "deployments": [deployment_json("d", "n", "deployed")],
                "deploymentCount": number + 1, "pageCount": number + 1, "pageNumber": number, "pageSize": 1
            }))
        })
        .mount(&server)
        .await;
    let client = peak_press_apps::Client::builder().token(TOKEN).base_url(server.uri()).build().unwrap();
    let result: Result<Vec<_>, _> = client.list_deployments().items().try_collect().await;
    assert!(matches!(result, Err(Error::Pagination { .. })), "{result:?}");
    let requests = server.received_requests().await.unwrap().len();
    assert!(requests <= 6, "stopped at the bound, after {requests} requests");
}

#[tokio::test]
async fn an_error_on_a_later_page_ends_the_stream_with_that_error() {
    let (server, client) = server_and_client().await;
    Mock::given(matchers::query_param("pageNumber", "2"))
        .respond_with(ResponseTemplate::new(503).set_body_string("maintenance"))
        .with_priority(1)
        .mount(&server)
        .await;
    serve_deployments(&server, 10, |honest, _| honest).await;
    let mut items = client.list_deployments().page_size(4).items();
    for _ in 0..4 {
        items.try_next().await.unwrap().unwrap();
    }
    let error = items.try_next().await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
}

#[tokio::test]
async fn revisions_and_releases_stream_from_their_own_keys() {
    let (server, client) = server_and_client().await;
    Mock::given(matchers::path("/v1/apps/deployments/d1/revisions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "revisions": [revision_json(2), revision_json(1)], "revisionCount": 2,
            "pageCount": 1, "pageNumber": 1, "pageSize": 25
        })))
        .mount(&server)
        .await;
    Mock::given(matchers::path("/v1/apps/specs/s1/releases"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "releases": [{"id": "r2", "version": "2.0.0"}], "releaseCount": 1,
            "pageCount": 1, "pageNumber": 1, "pageSize": 25
        })))
        .mount(&server)
        .await;
    let revisions: Vec<_> = client.list_deployment_revisions("d1").items().try_collect().await.unwrap();
    assert_eq!(revisions.iter().map(|r| r.revision).collect::<Vec<_>>(), [2, 1]);
    let releases: Vec<_> = client.list_spec_releases("s1").items().try_collect().await.unwrap();
    assert_eq!(releases[0].id, "r2");
}
