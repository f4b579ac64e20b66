//! `--dry-run`: the exact requests a command would send, printed instead of sent.
//!
//! The command runs as usual through the client, but against a listener on loopback that records
//! each request and refuses it (418, which the client does not retry). What is printed is what
//! the client put on the wire: method, the URL it would have used, its headers with the token
//! redacted, and the body as sent. Nothing leaves the machine.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use crate::failure::Failure;

/// The most of a request that is read: far more than any of the API's bodies.
const REQUEST_LIMIT: usize = 16 * 1024 * 1024;

/// A request as recorded.
#[derive(Debug)]
struct Recorded {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// The recording listener.
pub struct Capture {
    url: String,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Capture {
    pub async fn start() -> Result<Self, Failure> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|error| Failure::usage(format!("--dry-run cannot listen on loopback: {error}")))?;
        let url = format!("http://{}", listener.local_addr().map_err(|e| Failure::usage(e.to_string()))?);
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let sink = recorded.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                if let Some(request) = record(stream).await {
                    sink.lock().unwrap_or_else(|p| p.into_inner()).push(request);
                }
            }
        });
        Ok(Self { url, recorded, task })
    }

    /// The URL to point the client at.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The requests recorded, as printed: `base_url` in place of the listener's, the token
    /// redacted, a JSON body as JSON.
    pub fn requests(self, base_url: &str) -> Vec<Value> {
        self.task.abort();
        let recorded = std::mem::take(&mut *self.recorded.lock().unwrap_or_else(|p| p.into_inner()));
        recorded
            .into_iter()
            .map(|request| {
                let headers: Map<String, Value> = request
                    .headers
                    .into_iter()
                    .filter(|(name, _)| name != "host")
                    .map(|(name, value)| {
                        let value = if name == "authorization" { "<redacted>".to_owned() } else { value };
                        (name, Value::String(value))
                    })
                    .collect();
                let body = if request.body.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&request.body).unwrap_or_else(|_| {
                        Value::String(String::from_utf8_lossy(&request.body).into_owned())
                    })
                };
                json!({
                    "method": request.method,
                    "url": format!("{}{}", base_url.trim_end_matches('/'), request.target),
                    "headers": headers,
                    "body": body,
                })
            })
            .collect()
    }
}

/// Reads one request from `stream` and refuses it.
async fn record(mut stream: TcpStream) -> Option<Recorded> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head_len, method, target, headers) = loop {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 || buffer.len() > REQUEST_LIMIT {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
        let mut parsed_headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut parsed_headers);
        if let httparse::Status::Complete(length) = request.parse(&buffer).ok()? {
            let headers: Vec<(String, String)> = request
                .headers
                .iter()
                .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
                .collect();
            break (length, request.method?.to_owned(), request.path?.to_owned(), headers);
        }
    };
    let declared = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0)
        .min(REQUEST_LIMIT);
    while buffer.len() < head_len + declared {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let end = buffer.len().min(head_len + declared);
    let body = buffer[head_len..end].to_vec();
    let detail = r#"{"detail": "dry run: not carried out"}"#;
    let refusal = format!(
        "HTTP/1.1 418 I'm a teapot\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{detail}",
        detail.len()
    );
    let _ = stream.write_all(refusal.as_bytes()).await;
    Some(Recorded { method, target, headers, body })
}
