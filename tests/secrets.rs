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

    let builder = Client::builder().token(TOKEN);
    let outputs = [
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{builder:?}"),
        format!("{error}"),
        format!("{error:?}"),
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap(),
    ];
    for output in &outputs {
        assert!(!output.contains(TOKEN), "the token leaked into: {output}");
    }
    let log = &outputs[5];
    assert!(log.contains("describe_spec") && log.contains("401"), "the call's span is logged: {log}");
    // The token did go out, in the header where it belongs.
    assert_eq!(header(&only_request(&server).await, "authorization"), Some(TOKEN));
}
