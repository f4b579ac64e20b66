//! The token in no Debug output, error or log line; each call logged in a span with its
//! operation and status. A binary of its own: `tracing` caches per call site whether anyone
//! listens, so a log-capturing test must not share its process with other tests.

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use common::*;
use peak_press_apps::Client;
use serde_json::json;
use wiremock::{Mock, ResponseTemplate, matchers};

/// A `tracing` writer that keeps everything written to it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_token_appears_in_no_debug_output_error_or_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (server, client) = server_and_client().await;
    Mock::given(matchers::any())
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"detail": "bad token"})))
        .mount(&server)
        .await;
    let error = client.describe_spec("abc").await.unwrap_err();
    // The token did go out, in the header where it belongs.
    assert_eq!(header(&only_request(&server).await, "authorization"), Some(TOKEN));

    // Servers and proxies that echo the request put the token in text the client reports.
    let echoes = [
        ResponseTemplate::new(401).set_body_json(json!({"detail": format!("bad Authorization: {TOKEN}")})),
        ResponseTemplate::new(502)
            .set_body_string(format!("<html><title>Bad gateway for {TOKEN}</title></html>")),
        ResponseTemplate::new(400).set_body_string(format!("authorization={TOKEN}\n{}", "x".repeat(100_000))),
        ResponseTemplate::new(200).set_body_json(json!({"id": "s", "featured": TOKEN})),
        ResponseTemplate::new(200).set_body_json(json!([TOKEN])),
        ResponseTemplate::new(418).insert_header("x-request-id", TOKEN),
        // Cut where the body's start is shown: only the token's first characters would remain.
        ResponseTemplate::new(200).set_body_string(format!("{}{TOKEN}", " ".repeat(4790))),
    ];
    let mut outputs = vec![format!("{error}"), format!("{error:?}")];
    for echo in echoes {
        server.reset().await;
        Mock::given(matchers::any()).respond_with(echo).mount(&server).await;
        let error = client.describe_spec("abc").await.unwrap_err();
        assert!(
            error.to_string().contains("<redacted>") || error.request_id() == Some("<redacted>"),
            "the echo is shown, without the token: {error}"
        );
        outputs.push(format!("{error}"));
        outputs.push(format!("{error:?}"));
    }

    let builder = Client::builder().token(TOKEN);
    outputs.extend([
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{builder:?}"),
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap(),
    ]);
    for output in &outputs {
        assert!(!output.contains(TOKEN), "the token leaked into: {output}");
        assert!(!output.contains(&TOKEN[..8]), "the token's start leaked into: {output}");
    }
    let log = outputs.last().unwrap();
    assert!(log.contains("describe_spec") && log.contains("401"), "the call's span is logged: {log}");
}
