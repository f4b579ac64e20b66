//! Retries, time limits and hostile servers: what is retried and what never is, Retry-After,
//! the retry budget, deadlines, bodies cut short, stalled or too large, and redirects.

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use common::*;
use futures::TryStreamExt;
use peak_press_apps::{Client, Error, RetryConfig, TimeLimit, types::NewSpec};
use serde_json::json;
use tokio::{io::AsyncWriteExt, net::TcpListener};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers};

/// Fast retries, so tests do not wait on backoff.
fn quick() -> RetryConfig {
    RetryConfig::default().initial_backoff(Duration::from_millis(1)).max_backoff(Duration::from_millis(5))
}

fn client(url: &str, retry: RetryConfig) -> Client {
    Client::builder().token(TOKEN).base_url(url).retry(retry).build().unwrap()
}

fn new_spec() -> peak_press_apps::types::builder::NewSpec {
    NewSpec::builder()
        .metadata(peak_press_apps::types::NewSpecMetadata::builder().name("n").summary("s"))
        .release(peak_press_apps::types::ReleaseInput::builder().version("1.0.0").notes("n"))
        .config(vec![])
}

async fn fail_then_succeed(
    server: &MockServer,
    failure: ResponseTemplate,
    times: u64,
    success: serde_json::Value,
) {
    Mock::given(matchers::any())
        .respond_with(failure)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(success))
        .mount(server)
        .await;
}

async fn request_count(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn reads_are_retried_through_transient_statuses() {
    for status in [429, 500, 502, 503, 504] {
        let server = MockServer::start().await;
        fail_then_succeed(&server, ResponseTemplate::new(status), 2, spec_json("s", "n")).await;
        let spec = client(&server.uri(), quick()).describe_spec("s").await.unwrap();
        assert_eq!(spec.id, "s", "after two {status}s");
        assert_eq!(request_count(&server).await, 3);
    }
}

#[tokio::test]
async fn other_errors_are_not_retried() {
    for status in [400, 401, 403, 404, 409, 413, 422, 501] {
        let server = MockServer::start().await;
        fail_then_succeed(&server, ResponseTemplate::new(status), 1, spec_json("s", "n")).await;
        let error = client(&server.uri(), quick()).describe_spec("s").await.unwrap_err();
        assert_eq!(error.status().unwrap().as_u16(), status);
        assert_eq!(request_count(&server).await, 1, "{status} is final");
    }
}

#[tokio::test]
async fn creates_are_not_retried_once_they_may_have_reached_the_server() {
    for status in [500, 502] {
        let server = MockServer::start().await;
        fail_then_succeed(&server, ResponseTemplate::new(status), 1, json!({"id": "s"})).await;
        let error = client(&server.uri(), quick()).create_spec(new_spec()).await.unwrap_err();
        assert_eq!(error.status().unwrap().as_u16(), status);
        assert_eq!(request_count(&server).await, 1, "a POST answered {status} is not sent again");
    }
    let server = MockServer::start().await;
    fail_then_succeed(
        &server,
        ResponseTemplate::new(502),
        1,
        json!({"deploymentId": "d", "revision": 1, "revisionId": "r"}),
    )
    .await;
    client(&server.uri(), quick()).redeploy("d").await.unwrap_err();
    assert_eq!(request_count(&server).await, 1, "nor is a redeploy");
}

#[tokio::test]
async fn creates_refused_before_any_work_are_retried() {
    for status in [429, 503] {
        // A server of its own, not one from wiremock's pool that another test just gave back.
        let server = MockServer::builder().start().await;
        fail_then_succeed(&server, ResponseTemplate::new(status), 2, json!({"id": "s"})).await;
        let created = client(&server.uri(), quick()).create_spec(new_spec()).await.unwrap();
        assert_eq!(created.id, "s");
        assert_eq!(request_count(&server).await, 3, "a POST refused with {status} is sent again");
    }
}

#[tokio::test]
async fn callers_can_opt_in_to_retrying_creates() {
    let server = MockServer::start().await;
    fail_then_succeed(&server, ResponseTemplate::new(503), 2, json!({"id": "s"})).await;
    let created = client(&server.uri(), quick().retry_creates(true)).create_spec(new_spec()).await.unwrap();
    assert_eq!(created.id, "s");
    assert_eq!(request_count(&server).await, 3);
}

#[tokio::test]
async fn creates_are_retried_when_the_connection_never_opened() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = client(&url, quick().max_attempts(3)).create_spec(new_spec()).await.unwrap_err();
    match &error {
        Error::RetriesExhausted { attempts, last, .. } => {
            assert_eq!(*attempts, 3);
            assert!(matches!(**last, Error::Network(_)), "{last:?}");
        }
        other => panic!("expected RetriesExhausted, got {other:?}"),
    }
    assert!(error.to_string().contains("3 attempt"), "{error}");
}

#[tokio::test]
async fn exhausted_retries_say_how_many_attempts_and_what_the_last_got() {
    let server = MockServer::start().await;
    Mock::given(matchers::any())
        .respond_with(ResponseTemplate::new(503).insert_header("x-request-id", "r-9").set_body_string("busy"))
        .mount(&server)
        .await;
    let error = client(&server.uri(), quick().max_attempts(5)).describe_deployment("d").await.unwrap_err();
    assert!(
        matches!(&error, Error::RetriesExhausted { attempts: 5, last, .. } if matches!(**last, Error::Http(_)))
    );
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(error.request_id(), Some("r-9"));
    let line = error.to_string();
    assert!(line.contains("5 attempt") && line.contains("503") && line.contains("busy"), "{line}");
    assert_eq!(request_count(&server).await, 5);
}

#[tokio::test]
async fn retry_after_in_seconds_is_honoured() {
    let server = MockServer::start().await;
    fail_then_succeed(
        &server,
        ResponseTemplate::new(429).insert_header("retry-after", "1"),
        1,
        spec_json("s", "n"),
    )
    .await;
    let started = Instant::now();
    client(&server.uri(), quick()).describe_spec("s").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950), "waited {:?}", started.elapsed());
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_gives_up_at_once_with_the_answer_and_the_wait() {
    for (status, max_retry_after) in [(429, None), (503, Some(Duration::from_millis(20)))] {
        let server = MockServer::start().await;
        fail_then_succeed(
            &server,
            ResponseTemplate::new(status)
                .insert_header("retry-after", "999999999")
                .insert_header("x-request-id", "r-1")
                .set_body_json(json!({"detail": "slow down"})),
            1,
            spec_json("s", "n"),
        )
        .await;
        let retry = max_retry_after.map_or_else(quick, |max| quick().max_retry_after(max));
        let error = client(&server.uri(), retry).describe_spec("s").await.unwrap_err();
        match &error {
            Error::RetryAfterTooLong { requested, allowed, last } => {
                assert_eq!(*requested, Duration::from_secs(999_999_999));
                assert_eq!(*allowed, max_retry_after.unwrap_or(Duration::from_secs(20)));
                assert!(matches!(**last, Error::Http(_)), "{last:?}");
            }
            other => panic!("expected RetryAfterTooLong, got {other:?}"),
        }
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(error.request_id(), Some("r-1"));
        let line = error.to_string();
        assert!(line.contains("999999999 s") && line.contains("slow down"), "{line}");
        assert_eq!(request_count(&server).await, 1, "{status}: no retry the service refused in advance");
    }
}

#[tokio::test]
async fn a_retry_after_beyond_the_call_deadline_gives_up_at_once_instead_of_timing_out() {
    let server = MockServer::start().await;
    fail_then_succeed(
        &server,
        ResponseTemplate::new(429).insert_header("retry-after", "10"),
        1,
        spec_json("s", "n"),
    )
    .await;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(server.uri())
        .retry(quick())
        .call_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let error = client.describe_spec("s").await.unwrap_err();
    match &error {
        Error::RetryAfterTooLong { requested, allowed, .. } => {
            assert_eq!(*requested, Duration::from_secs(10));
            assert!(*allowed <= Duration::from_secs(5), "what was left of the deadline: {allowed:?}");
        }
        other => panic!("expected RetryAfterTooLong, got {other:?}"),
    }
    assert_eq!(error.status().map(|s| s.as_u16()), Some(429), "the throttling is not hidden");
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let server = MockServer::start().await;
    let at = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    fail_then_succeed(
        &server,
        ResponseTemplate::new(503).insert_header("retry-after", at.as_str()),
        1,
        spec_json("s", "n"),
    )
    .await;
    let started = Instant::now();
    client(&server.uri(), quick()).describe_spec("s").await.unwrap();
    // The date has a resolution of one second.
    assert!(started.elapsed() >= Duration::from_millis(900), "waited {:?}", started.elapsed());
}

#[tokio::test]
async fn a_spent_budget_stops_retrying() {
    let server = MockServer::start().await;
    Mock::given(matchers::any()).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    // A budget of 5 pays for exactly one retry, shared by the client's clones.
    let first = client(&server.uri(), quick().budget(5));
    let second = first.clone();
    let error = first.describe_spec("s").await.unwrap_err();
    assert!(matches!(error, Error::RetriesExhausted { attempts: 2, .. }), "{error:?}");
    let error = second.describe_spec("s").await.unwrap_err();
    assert!(matches!(error, Error::RetriesExhausted { attempts: 1, .. }), "{error:?}");
    assert_eq!(request_count(&server).await, 3);
}

#[tokio::test]
async fn a_call_deadline_covers_its_retries() {
    let server = MockServer::start().await;
    Mock::given(matchers::any()).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    let slow_retries = RetryConfig::default().max_attempts(10).initial_backoff(Duration::from_secs(2));
    let client = Client::builder()
        .token(TOKEN)
        .base_url(server.uri())
        .retry(slow_retries)
        .call_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = client.describe_spec("s").await.unwrap_err();
    assert!(matches!(&error, Error::Timeout { limit: TimeLimit::Call(_), .. }), "{error:?}");
}

#[tokio::test]
async fn a_listing_deadline_ends_the_stream() {
    let server = MockServer::start().await;
    Mock::given(matchers::any())
        .respond_with(|request: &wiremock::Request| {
            let parameter = |name: &str| -> u64 {
                request.url.query_pairs().find(|(k, _)| k == name).map_or(1, |(_, v)| v.parse().unwrap())
            };
            let (number, size) = (parameter("pageNumber"), parameter("pageSize"));
            let first = (number - 1) * size;
            let items: Vec<_> = (first..(first + size).min(50))
                .map(|i| deployment_json(&format!("d{i}"), "n", "deployed"))
                .collect();
            ResponseTemplate::new(200).set_delay(Duration::from_millis(100)).set_body_json(json!({
                "deployments": items, "deploymentCount": 50,
                "pageCount": 50u64.div_ceil(size), "pageNumber": number, "pageSize": size
            }))
        })
        .mount(&server)
        .await;
    let client = client(&server.uri(), quick());
    let result: Result<Vec<_>, _> = client
        .list_deployments()
        .page_size(1)
        .concurrency(1)
        .timeout(Duration::from_millis(350))
        .items()
        .try_collect()
        .await;
    assert!(matches!(&result, Err(Error::Timeout { limit: TimeLimit::Listing(_), .. })), "{result:?}");
    assert!(request_count(&server).await < 10);
}

/// A server on loopback that answers every request with `response`, then waits `hold` before
/// closing the connection; it counts the requests it read. For what wiremock will not do: cut
/// bodies, chunked bodies, stalls, broken HTTP.
async fn raw_server(response: Vec<u8>, hold: Duration) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let response = response.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                if read_request_head(&mut socket).await.is_none() {
                    return;
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = socket.write_all(&response).await;
                tokio::time::sleep(hold).await;
            });
        }
    });
    (url, requests)
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_declared_or_not() {
    let big = json!({"id": "x".repeat(5000), "metadata": {"name": "n"}}).to_string();
    let declared = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{big}",
        big.len()
    );
    let chunked = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    );
    for response in [declared, chunked] {
        let (url, _) = raw_server(response.into_bytes(), Duration::ZERO).await;
        let client = Client::builder().token(TOKEN).base_url(url).max_response_body(1000).build().unwrap();
        let error = client.describe_spec("s").await.unwrap_err();
        assert!(matches!(error, Error::ResponseTooLarge { limit: 1000, .. }), "{error:?}");
    }
}

#[tokio::test]
async fn a_server_that_stalls_mid_body_times_out() {
    let head =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"id\": \"s\", ";
    let (url, _) = raw_server(head.as_bytes().to_vec(), Duration::from_secs(30)).await;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(url)
        .timeout(Duration::from_millis(300))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let error = client.describe_spec("s").await.unwrap_err();
    assert!(matches!(error, Error::Timeout { limit: TimeLimit::Attempt, source: Some(_), .. }), "{error:?}");
}

#[tokio::test]
async fn a_body_cut_short_is_retried_for_reads() {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{\"id\"";
    let (url, _) = raw_server(head.as_bytes().to_vec(), Duration::ZERO).await;
    let error = client(&url, quick().max_attempts(3)).describe_spec("s").await.unwrap_err();
    assert!(
        matches!(&error, Error::RetriesExhausted { attempts: 3, last, .. } if matches!(**last, Error::Network(_))),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_token_does_not_follow_a_redirect_to_another_host() {
    let elsewhere = MockServer::start().await;
    Mock::given(matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(spec_json("s", "n")))
        .mount(&elsewhere)
        .await;
    // 127.0.0.1 and localhost are different hosts to the client.
    let target = elsewhere.uri().replace("127.0.0.1", "localhost");
    let origin = MockServer::start().await;
    Mock::given(matchers::any())
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{target}/v1/apps/specs/s").as_str()),
        )
        .mount(&origin)
        .await;
    client(&origin.uri(), quick()).describe_spec("s").await.unwrap();
    let followed = only_request(&elsewhere).await;
    assert_eq!(header(&followed, "authorization"), None, "the token must stay with its host");
    assert_eq!(header(&only_request(&origin).await, "authorization"), Some(TOKEN));
}

#[tokio::test]
async fn answers_that_break_http_are_protocol_errors_and_not_retried() {
    let many_headers: String = (0..10_000).map(|i| format!("x-h{i}: v\r\n")).collect();
    let cases = [
        ("a garbage status line", "HTTP/1.1 two hundred OK\r\ncontent-length: 2\r\n\r\n{}".to_owned()),
        ("ten thousand headers", format!("HTTP/1.1 200 OK\r\n{many_headers}content-length: 2\r\n\r\n{{}}")),
        ("a negative content-length", "HTTP/1.1 200 OK\r\ncontent-length: -5\r\n\r\n{}".to_owned()),
        (
            "a bad chunk size",
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
                .to_owned(),
        ),
    ];
    for (case, response) in cases {
        let (url, requests) = raw_server(response.into_bytes(), Duration::ZERO).await;
        let error = client(&url, quick()).describe_spec("s").await.unwrap_err();
        assert!(matches!(error, Error::Protocol(_)), "{case}: {error:?}");
        assert!(error.to_string().contains("not valid HTTP"), "{case}: {error}");
        assert_eq!(requests.load(Ordering::SeqCst), 1, "{case} is not retried");
    }
}

#[tokio::test]
async fn a_redirect_loop_is_cut_short_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(matchers::any())
        .respond_with(ResponseTemplate::new(307).insert_header("location", "/v1/apps/specs/s"))
        .mount(&server)
        .await;
    let error = client(&server.uri(), quick()).describe_spec("s").await.unwrap_err();
    assert!(matches!(error, Error::Protocol(_)), "{error:?}");
    assert_eq!(request_count(&server).await, peak_press_apps::MAX_REDIRECTS + 1);
}

/// A server whose first answer to every DELETE is `first`, and 404 after that: a delete that was
/// carried out, then retried.
async fn delete_answered(first: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(matchers::method("DELETE"))
        .respond_with(first)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(matchers::method("DELETE"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"detail": "no such thing"})))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_delete_whose_retry_finds_it_gone_after_it_may_have_been_carried_out_succeeds() {
    for status in [500, 502, 504] {
        let server = delete_answered(ResponseTemplate::new(status)).await;
        client(&server.uri(), quick()).delete_spec("s").await.unwrap();
        assert_eq!(request_count(&server).await, 2, "after a {status}, the delete was tried again");
        let server = delete_answered(ResponseTemplate::new(status)).await;
        client(&server.uri(), quick()).delete_deployment("d").await.unwrap();
        assert_eq!(request_count(&server).await, 2);
    }
    // A connection cut after the request went out.
    let (url, requests) =
        raw_server(b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{".to_vec(), Duration::ZERO).await;
    let cut_then_gone =
        Client::builder().token(TOKEN).base_url(&url).retry(quick().max_attempts(2)).build().unwrap();
    let error = cut_then_gone.delete_spec("s").await.unwrap_err();
    assert!(
        matches!(error, Error::RetriesExhausted { attempts: 2, .. }),
        "the raw server never says 404: {error:?}"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_delete_that_was_refused_before_any_work_still_reports_not_found() {
    // 429 and 503 say the request was not carried out, so the 404 after them is the truth.
    for status in [429, 503] {
        let server = delete_answered(ResponseTemplate::new(status)).await;
        let error = client(&server.uri(), quick()).delete_spec("s").await.unwrap_err();
        assert!(matches!(error, Error::NotFound(_)), "after a {status}: {error:?}");
        assert_eq!(request_count(&server).await, 2);
    }
    // And a first answer of 404 is a 404.
    let server = delete_answered(ResponseTemplate::new(404)).await;
    let error = client(&server.uri(), quick()).delete_deployment("d").await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    assert_eq!(request_count(&server).await, 1);
    // A read that finds nothing after a 502 is a plain not-found: only deletes want a thing gone.
    let server = delete_answered(ResponseTemplate::new(502)).await;
    Mock::given(matchers::method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(matchers::method("GET")).respond_with(ResponseTemplate::new(404)).mount(&server).await;
    let error = client(&server.uri(), quick()).describe_spec("s").await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn a_classifier_of_the_callers_own_decides_before_the_built_in_rules() {
    use peak_press_apps::RetryAction;
    // A proxy that answers 409 twice while the service fails over: retried, and the read succeeds.
    let server = MockServer::start().await;
    fail_then_succeed(&server, ResponseTemplate::new(409), 2, spec_json("s", "n")).await;
    let failover = quick().classifier(|error| match error.status().map(|s| s.as_u16()) {
        Some(409) => RetryAction::Retry,
        _ => RetryAction::Default,
    });
    assert_eq!(client(&server.uri(), failover).describe_spec("s").await.unwrap().id, "s");
    assert_eq!(request_count(&server).await, 3);
    // Without it, the built-in rules: a 409 is final.
    let server = MockServer::start().await;
    fail_then_succeed(&server, ResponseTemplate::new(409), 2, spec_json("s", "n")).await;
    assert!(client(&server.uri(), quick()).describe_spec("s").await.unwrap_err().is_conflict());
    assert_eq!(request_count(&server).await, 1);
    // A 503 the built-in rules would retry, refused by the classifier: one attempt.
    let server = MockServer::start().await;
    fail_then_succeed(&server, ResponseTemplate::new(503), 2, spec_json("s", "n")).await;
    let impatient = quick().classifier(|_| RetryAction::DoNotRetry);
    let error = client(&server.uri(), impatient).describe_spec("s").await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(request_count(&server).await, 1);
    // Attempts still bound what a classifier asks for.
    let server = MockServer::start().await;
    fail_then_succeed(&server, ResponseTemplate::new(409), 10, spec_json("s", "n")).await;
    let always = quick().max_attempts(3).classifier(|_| RetryAction::Retry);
    let error = client(&server.uri(), always).describe_spec("s").await.unwrap_err();
    assert!(matches!(error, Error::RetriesExhausted { attempts: 3, .. }), "{error:?}");
}
