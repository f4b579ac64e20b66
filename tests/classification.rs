//! The one classification of failures, row by row as the crate's docs table it (`Error`'s
//! "May it have happened?"), against the emulator's faults: each fault on a create, a delete and a
//! read, both as the last attempt's error alone (retries off) and wrapped in `RetriesExhausted`.
//! A create that the emulator carried out before failing is looked for afterwards, so that
//! `may_have_been_applied` is checked against what really happened.

use std::time::Duration;

use futures::TryStreamExt;
use peak_press_apps::{
    Client, Error, ErrorKind, RetryConfig,
    types::{NewSpec, NewSpecMetadata, ReleaseInput},
};
use peak_press_apps_emulator::{Emulator, Fault, Faults};

const SPECS: &str = "/v1/apps/specs/";

/// What the predicates must say for one fault on one request.
#[derive(Debug, Clone, Copy)]
struct Row {
    kind: ErrorKind,
    applied: bool,
    retryable: bool,
}

fn row(kind: ErrorKind, applied: bool, retryable: bool) -> Row {
    Row { kind, applied, retryable }
}

fn spec(name: &str) -> peak_press_apps::types::builder::NewSpec {
    NewSpec::builder()
        .metadata(NewSpecMetadata::builder().name(name).summary("s"))
        .release(ReleaseInput::builder().version("1.0.0").notes("n"))
        .config(vec![])
}

fn client(emulator: &Emulator, attempts: u32) -> Client {
    let retry = RetryConfig::default()
        .max_attempts(attempts)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(2))
        .max_retry_after(Duration::from_secs(5));
    Client::builder().token("t").base_url(emulator.base_url()).retry(retry).build().unwrap()
}

async fn emulator() -> Emulator {
    // 429s ask for no wait, so that a wrapped case retries at once.
    let faults = Faults::new(0.0).retry_after(0);
    Emulator::builder().deploy_delay(Duration::ZERO).faults(faults).start().await.unwrap()
}

async fn spec_names(client: &Client) -> Vec<String> {
    client.list_specs().items().map_ok(|s| s.metadata.name).try_collect().await.unwrap()
}

fn check(error: &Error, expected: Row, case: &str) {
    assert_eq!(error.kind(), expected.kind, "{case}: kind of {error:?}");
    assert_eq!(error.may_have_been_applied(), expected.applied, "{case}: may_have_been_applied of {error:?}");
    assert_eq!(error.is_retryable(), expected.retryable, "{case}: is_retryable of {error:?}");
}

/// A create failing with `fault`: alone, then wrapped (the policy retries it only when it is
/// retryable, so a create that may have been applied is never wrapped, and never sent twice).
async fn create_with(fault: Fault, expected: Row) {
    let emulator = emulator().await;
    let case = format!("create, {fault:?}");
    emulator.fail_next("POST", SPECS, 1, fault);
    let error = client(&emulator, 1).create_spec(spec("once")).await.unwrap_err();
    check(&error, expected, &case);
    let created = spec_names(&client(&emulator, 1)).await.contains(&"once".to_owned());
    assert_eq!(created, expected.applied, "{case}: the emulator did or did not create it");

    emulator.fail_next("POST", SPECS, 2, fault);
    let error = client(&emulator, 2).create_spec(spec("twice")).await.unwrap_err();
    if expected.retryable {
        assert!(matches!(error, Error::RetriesExhausted { attempts: 2, .. }), "{case}: {error:?}");
    } else {
        assert!(!matches!(error, Error::RetriesExhausted { .. }), "{case}: not retried: {error:?}");
    }
    check(&error, expected, &format!("{case}, with retries"));
    let posts = emulator.requests().iter().filter(|r| r.method == "POST" && r.path == SPECS).count();
    assert_eq!(posts, if expected.retryable { 3 } else { 2 }, "{case}: creates sent");
}

#[tokio::test]
async fn a_create_refused_before_any_work_was_not_applied_and_may_be_sent_again() {
    create_with(Fault::TooManyRequests, row(ErrorKind::Throttled, false, true)).await;
    create_with(Fault::Unavailable, row(ErrorKind::ServiceUnavailable, false, true)).await;
}

#[tokio::test]
async fn a_create_answered_500_or_502_may_have_been_applied_and_is_not_retryable() {
    create_with(Fault::InternalError, row(ErrorKind::ServerError, true, false)).await;
    create_with(Fault::BadGateway, row(ErrorKind::ServiceUnavailable, true, false)).await;
}

#[tokio::test]
async fn a_create_whose_connection_was_cut_may_have_been_applied_and_is_not_retryable() {
    create_with(Fault::Reset, row(ErrorKind::Network, true, false)).await;
    create_with(Fault::Truncate, row(ErrorKind::Network, true, false)).await;
}

#[tokio::test]
async fn a_create_refused_by_a_4xx_was_not_applied_and_is_not_retryable() {
    let emulator = emulator().await;
    let client = client(&emulator, 3);
    client.create_spec(spec("taken")).await.unwrap();
    let error = client.create_spec(spec("taken")).await.unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    check(&error, row(ErrorKind::ClientError, false, false), "create, 409");
}

#[tokio::test]
async fn a_value_refused_before_sending_was_not_applied() {
    let emulator = emulator().await;
    let error = client(&emulator, 3).delete_spec("").await.unwrap_err();
    check(&error, row(ErrorKind::InvalidRequest, false, false), "delete of an empty id");
    assert!(emulator.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_create_that_never_connected_was_not_applied_and_may_be_sent_again() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let retry = RetryConfig::default().max_attempts(2).initial_backoff(Duration::from_millis(1));
    let client = Client::builder().token("t").base_url(format!("http://127.0.0.1:{port}")).retry(retry);
    let error = client.build().unwrap().create_spec(spec("nowhere")).await.unwrap_err();
    assert!(matches!(error, Error::RetriesExhausted { attempts: 2, .. }), "{error:?}");
    check(&error, row(ErrorKind::Network, false, true), "create, connection refused");
    let Error::Network(failure) = error.innermost() else { panic!("{error:?}") };
    assert!(!failure.connected(), "{failure:?}");
    assert_eq!(failure.request().method(), "POST");
    assert!(failure.request().url().is_some_and(|url| url.ends_with(SPECS)), "{failure:?}");
    assert!(std::error::Error::source(failure).is_some(), "the HTTP stack's error stays the source");
}

#[tokio::test]
async fn a_create_whose_answer_did_not_come_in_time_may_have_been_applied() {
    let emulator = emulator().await;
    emulator.set_faults(Some(Faults::new(0.0).latency(Duration::from_millis(400))));
    let client = Client::builder()
        .token("t")
        .base_url(emulator.base_url())
        .timeout(Duration::from_millis(100))
        .retry(RetryConfig::default().max_attempts(3).initial_backoff(Duration::from_millis(1)))
        .build()
        .unwrap();
    let error = client.create_spec(spec("slow")).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "not retried: {error:?}");
    check(&error, row(ErrorKind::Timeout, true, false), "create, attempt timeout");
    let error = client.describe_spec("any").await.unwrap_err();
    assert!(matches!(error, Error::RetriesExhausted { attempts: 3, .. }), "a read is retried: {error:?}");
    check(&error, row(ErrorKind::Timeout, false, true), "read, attempt timeout");
}

#[tokio::test]
async fn a_delete_answered_500_may_have_been_applied_and_stays_retryable() {
    let emulator = emulator().await;
    let client = client(&emulator, 1);
    let id = client.create_spec(spec("doomed")).await.unwrap().id;
    let path = format!("{SPECS}{id}");
    emulator.fail_next("DELETE", &path, 1, Fault::InternalError);
    let error = client.delete_spec(&id).await.unwrap_err();
    check(&error, row(ErrorKind::ServerError, true, true), "delete, 500");
    assert!(spec_names(&client).await.is_empty(), "the emulator deleted it");
}

#[tokio::test]
async fn an_update_that_may_have_been_applied_then_refused_still_says_it_may_have_been_applied() {
    let emulator = emulator().await;
    let id = client(&emulator, 1).create_spec(spec("patched")).await.unwrap().id;
    let path = format!("{SPECS}{id}");
    emulator.fail_next("PATCH", &path, 1, Fault::InternalError);
    emulator.fail_next("PATCH", &path, 1, Fault::TooManyRequests);
    let update = peak_press_apps::types::SpecUpdate::builder()
        .metadata(peak_press_apps::types::SpecMetadataUpdate::builder().title("New title"));
    let error = client(&emulator, 2).update_spec_metadata(&id, update).await.unwrap_err();
    let Error::RetriesExhausted { attempts: 2, earlier_may_have_been_applied: true, last } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(last.kind(), ErrorKind::Throttled);
    assert!(!last.may_have_been_applied(), "the last attempt alone was refused: {last:?}");
    check(&error, row(ErrorKind::Throttled, true, true), "update, 500 then 429");
}

#[tokio::test]
async fn reads_are_never_applied_whatever_the_fault() {
    for fault in Fault::DEFAULT {
        let emulator = emulator().await;
        emulator.fail_next("GET", SPECS, 1, fault);
        let error = client(&emulator, 1).list_specs().page_size(10).page(1).await.unwrap_err();
        assert!(!error.may_have_been_applied(), "{fault:?}: {error:?}");
        assert!(error.is_retryable(), "{fault:?}: a read may be sent again: {error:?}");
        assert_eq!(error.request().map(|r| r.method()), Some("GET"), "{fault:?}");
    }
}

#[tokio::test]
async fn status_payload_and_sources_are_seen_through_exhausted_retries() {
    let emulator = emulator().await;
    emulator.fail_next("GET", SPECS, 2, Fault::Unavailable);
    let error = client(&emulator, 2).list_specs().page_size(10).page(1).await.unwrap_err();
    assert!(matches!(error, Error::RetriesExhausted { attempts: 2, .. }), "{error:?}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    let answer = error.service_error().expect("the last answer");
    assert!(answer.message().contains("unavailable"), "{answer:?}");
    assert_eq!(answer.request().method(), "GET");
    let source = std::error::Error::source(&error).expect("the last attempt is the source");
    assert_eq!(source.to_string(), error.innermost().to_string());
}

#[tokio::test]
async fn a_create_answered_504_may_have_been_applied_and_a_503_was_not() {
    use wiremock::{Mock, MockServer, ResponseTemplate, matchers};
    for (status, kind, applied, retryable) in [
        (504, ErrorKind::ServiceUnavailable, true, false),
        (503, ErrorKind::ServiceUnavailable, false, true),
        (502, ErrorKind::ServiceUnavailable, true, false),
        (500, ErrorKind::ServerError, true, false),
    ] {
        let server = MockServer::start().await;
        Mock::given(matchers::any()).respond_with(ResponseTemplate::new(status)).mount(&server).await;
        let client = Client::builder()
            .token("t")
            .base_url(server.uri())
            .retry(RetryConfig::disabled())
            .build()
            .unwrap();
        let error = client.create_spec(spec("gateway")).await.unwrap_err();
        check(&error, row(kind, applied, retryable), &format!("create, {status}"));
        // The same answer to a read: never applied, and worth sending again.
        let error = client.describe_spec("s").await.unwrap_err();
        check(&error, row(kind, false, true), &format!("read, {status}"));
    }
}
