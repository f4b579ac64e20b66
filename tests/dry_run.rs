//! A dry-run client: each call stops before the network with the request as it would have been
//! sent, which is what a real client puts on the wire of a loopback server.

mod common;

use common::*;
use futures::TryStreamExt;
use peak_press_apps::{
    Client, Error, ErrorKind,
    types::{NewSpec, NewSpecMetadata, ReleaseInput},
};
use serde_json::json;

fn spec() -> peak_press_apps::types::builder::NewSpec {
    NewSpec::builder()
        .metadata(NewSpecMetadata::builder().name("churn").summary("Predicts churn").title("Churn"))
        .release(ReleaseInput::builder().version("1.0.0").notes("first"))
        .config(vec![])
}

fn dry_client(server: &wiremock::MockServer) -> Client {
    Client::builder().token(TOKEN).base_url(server.uri()).dry_run().build().unwrap()
}

#[tokio::test]
async fn a_dry_run_shows_what_the_wire_gets_and_sends_nothing() {
    let (server, client) = server_and_client().await;
    answer_json(&server, 200, json!({"id": "s"})).await;
    client.create_spec(spec()).featured(true).await.unwrap();
    let sent = only_request(&server).await;
    server.reset().await;

    let error = dry_client(&server).create_spec(spec()).featured(true).await.unwrap_err();
    assert_eq!(server.received_requests().await.unwrap().len(), 0, "a dry run sends nothing");
    assert_eq!(error.kind(), ErrorKind::NotSent);
    assert!(!error.is_retryable());
    let Error::NotSent { request } = error else { panic!("expected NotSent, got {error:?}") };
    assert_eq!(request.method, "POST");
    assert_eq!(request.url, format!("{}{}", server.uri(), sent.url.path()));
    assert_eq!(request.body.as_deref(), Some(sent.body.as_slice()), "the body as the wire got it");
    let header = |name: &str| request.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    assert_eq!(header("authorization"), Some("<redacted>"));
    assert_eq!(header("user-agent"), sent.headers.get("user-agent").and_then(|v| v.to_str().ok()));
    assert_eq!(header("content-type"), Some("application/json"));
    let shown = format!("{request:?} {}", Error::NotSent { request: request.clone() });
    assert!(!shown.contains(TOKEN), "the token shows nowhere: {shown}");
}

#[tokio::test]
async fn a_dry_run_stops_listings_and_still_refuses_invalid_values_first() {
    let (server, _) = server_and_client().await;
    let client = dry_client(&server);
    let error = client.list_specs().name("ch").items().try_next().await.unwrap_err();
    let Error::NotSent { request } = error else { panic!("expected NotSent, got {error:?}") };
    assert_eq!((request.method.as_str(), request.body.as_deref()), ("GET", None));
    assert!(request.url.ends_with("/v1/apps/specs/?name=ch&pageNumber=1&pageSize=25"), "{}", request.url);

    let error = client.describe_spec("").await.unwrap_err();
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 0);
}
