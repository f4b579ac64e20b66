//! Pagination against a wiremock server: pages in turn with the filters kept, the end found by
//! `pageCount` or an empty page, and a server that misreports cannot make it loop.

mod common;

use common::*;
use futures::TryStreamExt;
use peak_press_apps::{DeploymentStatus, Error};
use serde_json::{Value, json};
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use tokio::{io::AsyncWriteExt, net::TcpListener};
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

/// The requests for pages of `size`, leaving out the windows that check page boundaries.
async fn pages_of(server: &MockServer, size: u64) -> Vec<Request> {
    let size = size.to_string();
    let requests = server.received_requests().await.unwrap();
    requests.into_iter().filter(|r| r.url.query_pairs().any(|(k, v)| k == "pageSize" && v == size)).collect()
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
        .concurrency(1)
        .items()
        .map_ok(|d| d.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, (0..23).map(|i| format!("d{i}")).collect::<Vec<_>>());
    // Besides the pages, `items()` reads a small window across each boundary between two pages.
    let requests = pages_of(&server, 5).await;
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
    let items: Vec<_> =
        client.list_deployments().page_size(2).concurrency(1).items().try_collect().await.unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(server.received_requests().await.unwrap().len(), 3, "two full pages and one empty");
    // Fetching ahead may ask for a few pages past an end the service did not announce.
    server.reset().await;
    serve_deployments(&server, 4, |_, _| 50).await;
    let items: Vec<_> =
        client.list_deployments().page_size(2).concurrency(4).items().try_collect().await.unwrap();
    assert_eq!(items.len(), 4);
    // Page 3 is the empty one; at most concurrency - 1 pages past it were already asked for.
    assert!(server.received_requests().await.unwrap().len() <= 3 + (4 - 1));
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

#[tokio::test]
async fn prefetched_pages_come_out_in_order_and_are_fetched_once() {
    let (server, client) = server_and_client().await;
    serve_deployments(&server, 97, |honest, _| honest).await;
    for concurrency in [1, 2, 3, 8, 50] {
        server.reset().await;
        serve_deployments(&server, 97, |honest, _| honest).await;
        let ids: Vec<String> = client
            .list_deployments()
            .page_size(10)
            .concurrency(concurrency)
            .items()
            .map_ok(|d| d.id)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(ids, (0..97).map(|i| format!("d{i}")).collect::<Vec<_>>(), "concurrency {concurrency}");
        let mut pages: Vec<u64> = pages_of(&server, 10)
            .await
            .iter()
            .map(|r| r.url.query_pairs().find(|(k, _)| k == "pageNumber").unwrap().1.parse().unwrap())
            .collect();
        pages.sort();
        assert_eq!(pages, (1..=10).collect::<Vec<_>>(), "each page once, none past the end");
    }
    let error = client.list_deployments().concurrency(0).page(1).await.unwrap_err();
    assert!(matches!(error, Error::InvalidRequest { .. }));
}

/// A loopback server that serves `total` deployments in the pages asked for, holding each answer
/// for `hold`, and records how many requests for pages of 10 it handled at once at most and in all
/// (the windows that check page boundaries are served but not counted).
async fn counting_server(
    total: u64,
    hold: std::time::Duration,
) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (now, most, served) =
        (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (now2, most2, served2) = (now.clone(), most.clone(), served.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let (now, most, served) = (now2.clone(), most2.clone(), served2.clone());
            tokio::spawn(async move {
                loop {
                    let Some(request) = read_request_head(&mut socket).await else { return };
                    let line =
                        String::from_utf8_lossy(&request).lines().next().unwrap_or_default().to_owned();
                    let parameter = |name: &str| -> Option<u64> {
                        line.split(['?', '&', ' ']).find_map(|part| part.strip_prefix(name)?.parse().ok())
                    };
                    let number = parameter("pageNumber=").unwrap_or(1);
                    let size = parameter("pageSize=").unwrap_or(25);
                    let counted = size == 10;
                    if counted {
                        most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    }
                    tokio::time::sleep(hold).await;
                    if counted {
                        now.fetch_sub(1, Ordering::SeqCst);
                        served.fetch_add(1, Ordering::SeqCst);
                    }
                    let first = (number - 1) * size;
                    let items: Vec<Value> = (first..total.min(first + size))
                        .map(|i| deployment_json(&format!("d{i}"), "n", "deployed"))
                        .collect();
                    let body = json!({"deployments": items, "deploymentCount": total,
                        "pageCount": total.div_ceil(size), "pageNumber": number, "pageSize": size})
                    .to_string();
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    if socket.write_all(head.as_bytes()).await.is_err()
                        || socket.write_all(body.as_bytes()).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (url, most, served)
}

/// Streams 200 deployments in pages of 10 from a counting server, with `concurrency` and a byte
/// `budget`; returns the most page requests the server handled at once.
async fn most_pages_at_once(concurrency: usize, budget: u64) -> usize {
    let (url, most, _) = counting_server(200, std::time::Duration::from_millis(30)).await;
    let client = peak_press_apps::Client::builder().token(TOKEN).base_url(url).build().unwrap();
    let items: Vec<_> = client
        .list_deployments()
        .page_size(10)
        .concurrency(concurrency)
        .buffer_bytes(budget)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 200);
    most.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefetch_keeps_to_its_concurrency() {
    for concurrency in [1, 3, 6] {
        let seen = most_pages_at_once(concurrency, peak_press_apps::DEFAULT_BUFFER_BYTES).await;
        assert!(seen <= concurrency, "{seen} requests at once with a concurrency of {concurrency}");
        if concurrency > 1 {
            assert!(seen > 1, "pages were fetched ahead");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_stream_stops_the_fetching() {
    let (url, _, served) = counting_server(1000, std::time::Duration::from_millis(50)).await;
    let client = peak_press_apps::Client::builder().token(TOKEN).base_url(url).build().unwrap();
    let mut items = client.list_deployments().page_size(10).concurrency(4).items();
    for _ in 0..10 {
        items.try_next().await.unwrap().unwrap();
    }
    drop(items);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let fetched = served.load(Ordering::SeqCst);
    assert!(fetched <= 1 + 4, "{fetched} of 100 pages were served after the stream was dropped");
}

/// Answers every listing request with the same deployments page, whatever was asked.
async fn serve_page(server: &MockServer, page: Value) {
    Mock::given(matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .mount(server)
        .await;
}

#[tokio::test]
async fn an_empty_page_whose_total_counts_items_is_an_error_not_the_end() {
    let (server, client) = server_and_client().await;
    serve_page(
        &server,
        json!({"deployments": [], "deploymentCount": 120, "pageCount": 5, "pageNumber": 1, "pageSize": 25}),
    )
    .await;
    let result: Result<Vec<_>, _> = client.list_deployments().items().try_collect().await;
    assert!(
        matches!(&result, Err(Error::Pagination { message }) if message.contains("no items") && message.contains("120")),
        "{result:?}"
    );
    let page = client.list_deployments().page(1).await;
    assert!(matches!(page, Err(Error::Pagination { .. })), "one page is checked too: {page:?}");
}

#[tokio::test]
async fn a_page_with_more_items_than_its_size_is_an_error() {
    let (server, client) = server_and_client().await;
    let items: Vec<Value> = (0..3).map(|i| deployment_json(&format!("d{i}"), "n", "deployed")).collect();
    serve_page(
        &server,
        json!({"deployments": items, "deploymentCount": 3, "pageCount": 1, "pageNumber": 1, "pageSize": 2}),
    )
    .await;
    let result: Result<Vec<_>, _> = client.list_deployments().page_size(2).items().try_collect().await;
    assert!(
        matches!(&result, Err(Error::Pagination { message }) if message.contains("more than its page size")),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_server_that_answers_page_one_to_every_request_cannot_repeat_it() {
    let (server, client) = server_and_client().await;
    let items: Vec<Value> = (0..2).map(|i| deployment_json(&format!("d{i}"), "n", "deployed")).collect();
    serve_page(
        &server,
        json!({"deployments": items, "deploymentCount": 6, "pageCount": 3, "pageNumber": 1, "pageSize": 2}),
    )
    .await;
    let mut stream = client.list_deployments().page_size(2).concurrency(1).items();
    let mut yielded = Vec::new();
    let error = loop {
        match stream.try_next().await {
            Ok(Some(item)) => yielded.push(item.id),
            Ok(None) => panic!("the listing ended as if it were whole: {yielded:?}"),
            Err(error) => break error,
        }
    };
    assert_eq!(yielded, ["d0", "d1"], "page 1 once, and nothing of the false page 2");
    assert!(
        matches!(&error, Error::Pagination { message } if message.contains("page 2 was answered with page 1")),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefetch_keeps_to_its_byte_budget() {
    // A page of 10 deployments is about 4 KB: one byte holds one page at a time (the one always
    // allowed), the default budget lets all 8 pages of the concurrency be fetched at once.
    for (budget, most_pages) in [(1, 1), (peak_press_apps::DEFAULT_BUFFER_BYTES, 8)] {
        let seen = most_pages_at_once(8, budget).await;
        assert!(seen <= most_pages, "{seen} pages at once within a budget of {budget} bytes");
        if most_pages > 1 {
            assert!(seen > 2, "with room in the budget, pages are fetched ahead: {seen}");
        }
    }
}
