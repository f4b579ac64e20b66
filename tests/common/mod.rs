//! Shared helpers for the tests that run the client against a wiremock server on loopback.
#![allow(dead_code)]

use peak_press_apps::{Client, RetryConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt};
use wiremock::{Mock, MockServer, ResponseTemplate, matchers};

pub const TOKEN: &str = "test-token-5ecr3t";

/// A mock server, and a client of it that makes one attempt per call, so that each test sees
/// exactly the answer it set up.
pub async fn server_and_client() -> (MockServer, Client) {
    let server = MockServer::start().await;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(server.uri())
        .retry(RetryConfig::disabled())
        .build()
        .expect("client");
    (server, client)
}

/// Answers every request with `status` and a JSON body.
pub async fn answer_json(server: &MockServer, status: u16, body: Value) {
    Mock::given(matchers::any())
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

/// The one request the server received.
pub async fn only_request(server: &MockServer) -> wiremock::Request {
    let mut requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1, "expected exactly one request, got {requests:?}");
    requests.remove(0)
}

pub fn body_json(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).expect("the request body is JSON")
}

pub fn header<'r>(request: &'r wiremock::Request, name: &str) -> Option<&'r str> {
    request.headers.get(name).map(|v| v.to_str().expect("ASCII header"))
}

pub fn spec_json(id: &str, name: &str) -> Value {
    json!({
        "id": id,
        "kind": "app",
        "featured": false,
        "scope": "private",
        "metadata": {
            "name": name,
            "title": "A title",
            "summary": "A summary",
            "status": "available",
            "createdAt": "2020-01-01T18:00:00.000Z",
            "createdBy": "someone@peak.ai",
            "tags": [{"name": "tag"}]
        },
        "latestRelease": {"id": "r1", "version": "1.0.0", "notes": "first", "createdAt": "2020-01-01T18:00:00.000Z"}
    })
}

pub fn deployment_json(id: &str, name: &str, status: &str) -> Value {
    json!({
        "id": id,
        "kind": "app",
        "metadata": {"name": name, "summary": "s", "status": status, "createdAt": "2020-01-01T18:00:00.000Z"},
        "latestRevision": {"id": "rev-1", "revision": 1, "status": "deployed", "blocks": [
            {"deploymentId": "b1", "platformId": "p1", "kind": "workflow", "name": "block", "status": "deployed"}
        ]},
        "spec": {"id": "spec-1", "release": {"version": "1.0.0"}}
    })
}

pub fn revision_json(number: u64) -> Value {
    json!({
        "id": format!("rev-{number}"),
        "revision": number,
        "status": "deployed",
        "notes": "notes",
        "createdAt": "2020-01-01T18:00:00.000Z",
        "createdBy": "someone",
        "resources": [],
        "spec": {"id": "spec-1", "release": {"version": "1.0.0"}},
        "parameters": {"build": {"region": "eu"}, "run": {"secret": "********", "replicas": 3}}
    })
}

/// Reads one request's head, up to its blank line, from a raw connection (plain or TLS); `None`
/// once the peer has closed it. For the loopback servers that answer what wiremock will not.
pub async fn read_request_head(socket: &mut (impl AsyncRead + Unpin)) -> Option<Vec<u8>> {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    Some(request)
}
