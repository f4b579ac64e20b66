//! Dry runs: a client that shows each request as it would have gone out, and sends nothing.

use std::fmt;

use bytes::Bytes;
use reqwest::header::AUTHORIZATION;

/// A request as the client would have sent it, from a client built with
/// [`ClientBuilder::dry_run`](crate::ClientBuilder::dry_run); it is carried by
/// [`Error::NotSent`](crate::Error::NotSent).
///
/// It is taken at the last step before the network, after every header was added: what a server
/// would have received, except that the `Authorization` header's value reads `<redacted>`.
///
/// ```
/// # async fn example() -> peak_press_apps::Result<()> {
/// use peak_press_apps::{Client, Error};
///
/// let client = Client::builder().token("t").base_url("http://127.0.0.1:9").dry_run().build()?;
/// match client.delete_spec("churn-model-id").await {
///     Err(Error::NotSent { request }) => {
///         assert_eq!(request.method, "DELETE");
///         assert_eq!(request.url, "http://127.0.0.1:9/v1/apps/specs/churn-model-id");
///     }
///     other => panic!("a dry run sends nothing: {other:?}"),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct UnsentRequest {
    /// The method, such as `POST`.
    pub method: String,
    /// The whole URL, query included.
    pub url: String,
    /// Every header, names in lower case, in the order they would have been sent.
    pub headers: Vec<(String, String)>,
    /// The body, if the request has one.
    pub body: Option<Bytes>,
}

impl UnsentRequest {
    /// Takes what `request` would have sent.
    pub(crate) fn of(request: &reqwest::Request) -> Self {
        let headers = request
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = if name == AUTHORIZATION {
                    "<redacted>".to_owned()
                } else {
                    String::from_utf8_lossy(value.as_bytes()).into_owned()
                };
                (name.as_str().to_owned(), value)
            })
            .collect();
        Self {
            method: request.method().to_string(),
            url: request.url().to_string(),
            headers,
            body: request.body().and_then(|body| body.as_bytes()).map(Bytes::copy_from_slice),
        }
    }
}

impl fmt::Debug for UnsentRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnsentRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field("body", &self.body.as_ref().map(|body| String::from_utf8_lossy(body)))
            .finish()
    }
}

/// The status of a dry run's stand-in for an answer. Not a success, so that the generated code
/// hands the response back whole; what marks it is the [`Stopped`] extension, never the status.
const STOPPED_STATUS: u16 = 599;

/// The typed marker of a dry run's stand-in for an answer, carrying the request it stopped.
#[derive(Clone)]
struct Stopped(UnsentRequest);

/// A stand-in for the answer to `request`, which a dry run does not send: it carries the request
/// as it would have gone out, for the response module to turn into [`Error::NotSent`](crate::Error::NotSent).
pub(crate) fn stopped(request: &reqwest::Request) -> reqwest::Response {
    let mut response = http::Response::new(reqwest::Body::from(Bytes::new()));
    *response.status_mut() = http::StatusCode::from_u16(STOPPED_STATUS).expect("a valid status");
    response.extensions_mut().insert(Stopped(UnsentRequest::of(request)));
    reqwest::Response::from(response)
}

/// The request a dry run's stand-in carries, if `response` is one.
pub(crate) fn unsent(response: &reqwest::Response) -> Option<&UnsentRequest> {
    response.extensions().get::<Stopped>().map(|stopped| &stopped.0)
}
