//! [`Client`] and its builder: configuration in, a ready HTTP client out.

use std::{fmt, time::Duration};

use reqwest::header::HeaderValue;

use std::future::Future;

use progenitor_client::ResponseValue;

use crate::{
    Error, Result,
    config::{self, Secret, Stage},
    generated,
    retry::RetryConfig,
    transport::{self, Transport},
};

/// The `User-Agent` sent unless another is set.
pub const DEFAULT_USER_AGENT: &str = concat!("peak-press-apps/", env!("CARGO_PKG_VERSION"), " (rust)");
/// How long a request may take, response body included, unless set otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take unless set otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response body read unless set otherwise: 32 MiB.
pub const DEFAULT_MAX_RESPONSE_BODY: u64 = 32 * 1024 * 1024;
/// How many redirects one request follows, in the HTTP client this crate builds. The service
/// does not redirect; a proxy may, once or twice. A loop ends with [`Error::Protocol`].
pub const MAX_REDIRECTS: usize = 5;

/// A client for the Press Apps API. Cheap to clone; clones share one connection pool.
///
/// Each of the 17 operations is a method with the Python SDK's name. Build a client with
/// [`Client::from_env`] or [`Client::builder`].
#[derive(Clone)]
pub struct Client {
    api: generated::Client,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The generated client's Debug is safe (the token is masked), but the base URL is all a
        // reader needs.
        f.debug_struct("Client").field("base_url", &self.base_url()).finish_non_exhaustive()
    }
}

impl Client {
    /// A client configured from the environment, as the Python SDK's session is: the token from
    /// `PEAK_AUTH_TOKEN`, else `API_KEY`; the stage from `PEAK__STAGE`, else `STAGE`, else
    /// `prod`. `PRESS_APPS_BASE_URL`, when set, is the base URL and wins over the stage, as in
    /// the `press-apps` CLI: a program built with `from_env` is pointed at the emulator or a
    /// proxy without a change of code.
    ///
    /// Fails with [`Error::Config`] naming the missing variable, the invalid stage or the
    /// unusable base URL.
    ///
    /// ```no_run
    /// // PRESS_APPS_BASE_URL=http://127.0.0.1:8080 PEAK_AUTH_TOKEN=any cargo run
    /// let client = peak_press_apps::Client::from_env()?;
    /// # Ok::<(), peak_press_apps::Error>(())
    /// ```
    pub fn from_env() -> Result<Self> {
        Self::builder().env_vars(|name| std::env::var(name).ok())?.build()
    }

    /// A builder for a client with explicit settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        progenitor_client::ClientInfo::baseurl(&self.api)
    }

    pub(crate) fn transport(&self) -> &Transport {
        progenitor_client::ClientInfo::inner(&self.api)
    }

    /// Runs one call: `send` issues the generated request, afresh for each attempt.
    pub(crate) async fn call<'c, T, Fut>(&'c self, send: impl Fn(&'c generated::Client) -> Fut) -> Result<T>
    where
        Fut: Future<Output = std::result::Result<ResponseValue<T>, progenitor_client::Error>>,
    {
        transport::call(&self.api, || send(&self.api), None).await
    }

    /// Runs one delete: like [`call`](Self::call), except that a retry finding the resource gone
    /// after an earlier attempt may have deleted it is a success.
    pub(crate) async fn delete<'c, Fut>(&'c self, send: impl Fn(&'c generated::Client) -> Fut) -> Result<()>
    where
        Fut: Future<
            Output = std::result::Result<ResponseValue<generated::types::Empty>, progenitor_client::Error>,
        >,
    {
        let gone = generated::types::Empty(serde_json::Map::new());
        transport::call(&self.api, || send(&self.api), Some(gone)).await.map(drop)
    }
}

/// Settings for a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use peak_press_apps::{Client, Stage};
///
/// let client = Client::builder()
///     .token("my-api-key")
///     .stage(Stage::Dev)
///     .timeout(Duration::from_secs(10))
///     .build()?;
/// assert_eq!(client.base_url(), "https://press.dev.peak.ai");
///
/// // A local server, such as the emulator:
/// let local = Client::builder().token("t").base_url("http://127.0.0.1:8080/").build()?;
/// assert_eq!(local.base_url(), "http://127.0.0.1:8080");
/// # Ok::<(), peak_press_apps::Error>(())
/// ```
#[derive(Default)]
pub struct ClientBuilder {
    token: Option<Secret>,
    stage: Stage,
    /// The base URL set on the builder, with the setter or setting it came from.
    base_url: Option<(String, String)>,
    /// The base URL of `PRESS_APPS_BASE_URL`, which the builder's own gives way to.
    env_base_url: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    call_timeout: Option<Duration>,
    user_agent: Option<String>,
    http: Option<reqwest::Client>,
    retry: RetryConfig,
    max_response_body: Option<u64>,
    dry_run: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token)
            .field("stage", &self.stage)
            .field("base_url", &self.base_url.as_ref().map(|(url, _)| url))
            .field("env_base_url", &self.env_base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("call_timeout", &self.call_timeout)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("max_response_body", &self.max_response_body)
            .field("http", &self.http.as_ref().map(|_| "caller's reqwest::Client"))
            .field("dry_run", &self.dry_run)
            .finish()
    }
}

impl ClientBuilder {
    /// The token sent as the `Authorization` header, as it is: an API key raw, an OAuth token
    /// with its `Bearer ` prefix.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Secret(token.into()));
        self
    }

    /// The stage whose base URL is used, unless [`base_url`](Self::base_url) is set.
    pub fn stage(mut self, stage: Stage) -> Self {
        self.stage = stage;
        self
    }

    /// An explicit base URL, for a local server or a proxy; it wins over the stage and over
    /// `PRESS_APPS_BASE_URL`. It must have its scheme (`http://127.0.0.1:8080`); an unusable one
    /// makes [`build`](Self::build) fail with [`Error::Config`].
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.base_url_from("ClientBuilder::base_url", url)
    }

    /// Like [`base_url`](Self::base_url), for a value from a setting of the caller's own, such as
    /// a command-line flag: when it cannot be used, the error names `origin`.
    ///
    /// ```
    /// use peak_press_apps::{Client, Error};
    ///
    /// let refused = Client::builder().token("t").base_url_from("--base-url", "127.0.0.1:8080").build();
    /// let Err(Error::Config { message }) = refused else { panic!() };
    /// assert!(message.starts_with("--base-url: "), "{message}");
    /// assert!(message.contains("http://127.0.0.1:8080"), "it says how to write it: {message}");
    /// ```
    pub fn base_url_from(mut self, origin: impl Into<String>, url: impl Into<String>) -> Self {
        self.base_url = Some((url.into(), origin.into()));
        self
    }

    /// How long each attempt may take, response body included (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How long connecting may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long a whole call may take, its retries and their waits included (no limit by
    /// default: the attempts' timeouts and the retry policy bound it).
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = Some(timeout);
        self
    }

    /// How failed attempts are retried; see [`RetryConfig`].
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The largest response body read (32 MiB by default); a larger one is refused with
    /// [`Error::ResponseTooLarge`] without being read whole.
    pub fn max_response_body(mut self, bytes: u64) -> Self {
        self.max_response_body = Some(bytes);
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// A `reqwest::Client` of the caller's own, with its own timeouts, proxy and TLS settings;
    /// [`timeout`](Self::timeout) and [`connect_timeout`](Self::connect_timeout) do not apply
    /// to it. The token and user agent are still added to each request.
    ///
    /// This crate has no setting that weakens TLS: certificates are always verified by the
    /// client it builds itself. A caller's own client can trust extra roots; reqwest names the
    /// options that turn verification off `danger_…`, and using them sends the token to anyone
    /// who can intercept the connection.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Sends nothing: every call stops at the last step before the network and fails with
    /// [`Error::NotSent`], which carries the request as it would have gone out (every header
    /// added, the token redacted, the body as encoded); see [`UnsentRequest`](crate::UnsentRequest).
    /// Values refused before sending are still refused with [`Error::InvalidRequest`].
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    /// Takes the token, the stage and `PRESS_APPS_BASE_URL` from variables read through `lookup`,
    /// with the rules of [`Client::from_env`]. `lookup` returns a variable's value, or `None` when
    /// it is unset. A base URL set on the builder still wins over the variable.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use peak_press_apps::Client;
    ///
    /// let vars = HashMap::from([("API_KEY", "k"), ("STAGE", "beta")]);
    /// let client = Client::builder().env_vars(|name| vars.get(name).map(|v| v.to_string()))?.build()?;
    /// assert_eq!(client.base_url(), "https://press.beta.peak.ai");
    /// # Ok::<(), peak_press_apps::Error>(())
    /// ```
    pub fn env_vars(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let found = config::from_variables(lookup)?;
        self.token = Some(found.token);
        self.stage = found.stage;
        self.env_base_url = found.base_url;
        Ok(self)
    }

    /// Builds the client. Fails with [`Error::Config`] when no token was given, or when the
    /// token or base URL cannot be used.
    pub fn build(self) -> Result<Client> {
        let token = self.token.ok_or_else(|| {
            Error::config(format!("no token: call .token() or set {}", config::TOKEN_VARIABLE))
        })?;
        let mut authorization = HeaderValue::from_str(&token.0)
            .map_err(|_| Error::config("the token holds characters that an HTTP header cannot carry"))?;
        authorization.set_sensitive(true);
        let user_agent = self.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT);
        let user_agent = HeaderValue::from_str(user_agent).map_err(|_| {
            Error::config(format!("the user agent {user_agent:?} is not a valid header value"))
        })?;

        let base_url = match (self.base_url, self.env_base_url) {
            (Some((url, origin)), _) => config::checked_base_url(&url, &origin)?,
            (None, Some(url)) => config::checked_base_url(&url, config::BASE_URL_VARIABLE)?,
            (None, None) => self.stage.base_url().to_owned(),
        };
        let http = match self.http {
            Some(client) => client,
            None => reqwest::Client::builder()
                .timeout(self.timeout.unwrap_or(DEFAULT_TIMEOUT))
                .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
                .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
                .build()
                .map_err(|e| Error::config(format!("cannot set up the HTTP client: {e}")))?,
        };
        let max_body = self.max_response_body.unwrap_or(DEFAULT_MAX_RESPONSE_BODY);
        let transport =
            Transport::new(authorization, user_agent, self.retry, self.call_timeout, max_body, self.dry_run);
        Ok(Client { api: generated::Client::new_with_client(&base_url, http, transport) })
    }
}
