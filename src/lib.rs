//! A typed async client for the Apps part of Peak's Press API: app specs and their releases,
//! app deployments and their revisions.
//!
//! The client is generated at build time from the OpenAPI document in `openapi/`; this crate's
//! handwritten layer gives it configuration, pagination, one error type and tracing. The 17
//! operations keep the names of the Python SDK's `peak.press.apps` client.
//!
//! # Getting started
//!
//! In `Cargo.toml`, beside this crate:
//!
//! ```toml
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! futures = "0.3"                       # for the listings' streams
//!
//! [dev-dependencies]
//! peak-press-apps-emulator = "0.1"      # the API on loopback, for your tests
//! ```
//!
//! A spec, a deployment of it, and a wait until it is deployed. This example runs as it is: it
//! starts the crate's emulator, a faithful local stand-in for the service, which is also what
//! your own tests can run against. Against the real service, build the client with
//! [`Client::from_env`] instead (the token from `PEAK_AUTH_TOKEN`, the stage from `PEAK__STAGE`,
//! as the Python SDK reads them).
//!
//! ```
//! use peak_press_apps::{
//!     Client,
//!     types::{
//!         DeploymentSpecRef, NewDeployment, NewDeploymentMetadata, NewSpec, NewSpecMetadata, ReleaseInput,
//!         RevisionInput,
//!     },
//! };
//! use peak_press_apps_emulator::Emulator;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let emulator = Emulator::start().await?;
//!     let client = Client::builder().base_url(emulator.base_url()).token("any").build()?;
//!
//!     let spec = NewSpec::builder()
//!         .metadata(NewSpecMetadata::builder().name("churn-model").title("Churn").summary("Predicts churn"))
//!         .release(ReleaseInput::builder().version("1.0.0").notes("First release"))
//!         .config(vec![]);
//!     let spec_id = client.create_spec(spec).await?.id;
//!
//!     let deployment = NewDeployment::builder()
//!         .metadata(NewDeploymentMetadata::builder().name("churn-prod").title("Churn").summary("Nightly"))
//!         .revision(RevisionInput { notes: "First deployment".into() })
//!         .spec(DeploymentSpecRef::builder().id(spec_id));
//!     let deployment_id = client.create_deployment(deployment).await?.id;
//!
//!     // Polls with backoff until deployed; a failed deployment is `Error::DeploymentFailed`.
//!     let deployed = client.wait_for_deployment(&deployment_id).deployed().await?;
//!     assert_eq!(deployed.latest_revision.map(|r| r.revision), Some(1));
//!     Ok(())
//! }
//! ```
//!
//! Listings are streams of items across all pages, or one page with its counts, and every
//! documented status is an error variant to match on:
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use peak_press_apps::{Client, Error, SpecStatus};
//!
//! # async fn example() -> peak_press_apps::Result<()> {
//! let client = Client::from_env()?;
//! let mut specs = client.list_specs().status(SpecStatus::Available).sort("name:asc").items();
//! while let Some(spec) = specs.try_next().await? {
//!     println!("{} {}", spec.id, spec.metadata.name);
//! }
//!
//! let page = client.list_deployments().page_size(50).page(2).await?;
//! println!("{} deployments in all", page.total);
//!
//! match client.describe_deployment("no-such-id").await {
//!     Err(Error::NotFound(answer)) => eprintln!("gone: {}", answer.message()),
//!     other => {
//!         other?;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Testing with the emulator
//!
//! `peak-press-apps-emulator` serves the same API from memory on a free loopback port, with the
//! service's rules, statuses and errors, and tools for tests: injected faults, scripted failures
//! of one route, a log of the requests it received, and deployments forced into any status. Start
//! one per test with `Emulator::start()` (or `Emulator::builder()` for a zero deploy delay, tokens
//! and faults); it stops when dropped. A scripted fault names the operation it strikes by the
//! operation id, as this crate's methods are named:
//!
//! ```
//! use peak_press_apps::{Client, RetryConfig};
//! use peak_press_apps_emulator::{Emulator, Fault, Operation};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = Emulator::start().await?;
//! let client =
//!     Client::builder().base_url(emulator.base_url()).token("any").retry(RetryConfig::disabled()).build()?;
//! emulator.fail_next_operation(Operation::DescribeSpec, 1, Fault::InternalError);
//! let error = client.describe_spec("any").await.unwrap_err();
//! assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
//! # Ok(()) }
//! ```
//!
//! # Configuration
//!
//! [`Client::from_env`] reads the environment as the Python SDK does (the token from
//! `PEAK_AUTH_TOKEN` or `API_KEY`, the stage from `PEAK__STAGE` or `STAGE`), and
//! `PRESS_APPS_BASE_URL` as the `press-apps` CLI does: set it and the same program talks to the
//! emulator or a proxy, with no change of code. [`Client::builder`] sets the token, the [`Stage`],
//! an explicit base URL (which wins over the variable), timeouts, the user agent or a
//! `reqwest::Client` of your own. A base URL that cannot be used is refused with
//! [`Error::Config`], naming the variable or setter it came from. The token is sent as the
//! `Authorization` header and never appears in `Debug` output, errors or logs.
//!
//! ```
//! use peak_press_apps::Client;
//!
//! let vars = |name: &str| match name {
//!     "PEAK_AUTH_TOKEN" => Some("any".to_owned()),
//!     "PRESS_APPS_BASE_URL" => Some("http://127.0.0.1:8080".to_owned()),
//!     _ => None,
//! };
//! let client = Client::builder().env_vars(vars)?.build()?;
//! assert_eq!(client.base_url(), "http://127.0.0.1:8080");
//! # Ok::<(), peak_press_apps::Error>(())
//! ```
//!
//! # Request types and their builders
//!
//! The bodies of requests and answers are the generated types of [`types`]. Each type with
//! required fields has a builder in [`types::builder`], made by its `builder()` function
//! ([`types::NewSpec::builder`] makes a [`types::builder::NewSpec`]); every operation takes the
//! builder in place of the type. With the `schemars` feature every type implements
//! `JsonSchema`, and `peak_press_apps::schemars` is the schemars crate they implement it for, so
//! that `schema_for!` needs no dependency of your own:
//!
//! ```toml
//! # Not on crates.io yet: a checkout of the repository, as in the README.
//! peak-press-apps = { path = "../peak-press-apps", features = ["schemars"] }
//! ```
//!
//! ```
//! # #[cfg(feature = "schemars")] {
//! use peak_press_apps::{schemars::schema_for, types::NewDeployment};
//!
//! // A JSON Schema for files of deployments, to check them before anything is sent.
//! let schema = serde_json::to_value(schema_for!(NewDeployment)).unwrap();
//! assert!(schema["required"].as_array().unwrap().contains(&"spec".into()));
//! # }
//! ```
//!
//! # Listings
//!
//! The four list operations return a [`Paginator`]: set filters, then take one
//! [`page`](Paginator::page) with its counts, or stream every item with
//! [`items`](Paginator::items). `items()` yields every item exactly once even while
//! others create and delete, asks for large pages unless told otherwise, and fetches up to
//! [`DEFAULT_CONCURRENCY`] pages at once within [`DEFAULT_BUFFER_BYTES`] of held bodies, in order;
//! [`Paginator`] says how.
//!
//! # Retries and time limits
//!
//! Idempotent calls are retried on transport failures, timeouts, 429 and 5xx gateway errors with
//! exponential backoff and jitter, honouring `Retry-After`; creates are never sent twice unless
//! you opt in. See [`RetryConfig`] for the policy and [`ClientBuilder`] for the per-attempt timeout,
//! the per-call deadline and the response size limit.
//!
//! # Waiting for deployments
//!
//! [`Client::wait_for_deployment`] polls a deployment until it is deployed (after a create, a new
//! revision or a redeploy) or gone (after a delete), with backoff, a time limit and a callback for
//! each status it sees; see [`DeploymentWaiter`].
//!
//! # Errors
//!
//! Every operation returns [`Result`]. [`Error`] has a variant per documented status
//! (`BadRequest`, `Unauthorized`, `Forbidden`, `NotFound`, `Conflict`, `PayloadTooLarge`,
//! `UnprocessableEntity`, `InternalServerError`), [`Error::Http`] for any other status, each with
//! the service's answer as a [`ServiceError`] (status, message, request id, JSON body, the
//! request it answered), and variants for network failures, answers that break HTTP, timeouts,
//! undecodable or oversized bodies, exhausted retries, a `Retry-After` longer than the client may
//! wait, and requests refused before sending because a value breaks a documented rule.
//!
//! Two questions decide what to do next, and one classification answers both (the table is in
//! [`Error`]'s docs): [`Error::may_have_been_applied`] (did a failed write perhaps take
//! effect?) and [`Error::is_retryable`] (is sending it again safe, and may it succeed?). With
//! [`Error::kind`] they make one `match` for the common cases; all of them look through
//! [`Error::RetriesExhausted`] to the last attempt:
//!
//! ```no_run
//! use peak_press_apps::{Client, Error, ErrorKind, types::NewSpec};
//!
//! # async fn example(client: Client, spec: NewSpec) -> Result<(), Error> {
//! match client.create_spec(spec).await {
//!     Ok(created) => println!("created {}", created.id),
//!     // A 500, a cut connection or a time limit after sending: the spec may exist now. Look
//!     // for it by name before creating it again.
//!     Err(error) if error.may_have_been_applied() => eprintln!("may have been created: {error}"),
//!     Err(error) => match error.kind() {
//!         ErrorKind::Throttled | ErrorKind::ServiceUnavailable => eprintln!("busy, later: {error}"),
//!         ErrorKind::Network | ErrorKind::Timeout => eprintln!("unreachable: {error}"),
//!         ErrorKind::ClientError if error.is_conflict() => eprintln!("the name is taken"),
//!         ErrorKind::ClientError | ErrorKind::InvalidRequest => eprintln!("fix the request: {error}"),
//!         ErrorKind::ServerError => eprintln!("the service failed: {error}"),
//!         _ => return Err(error),
//!     },
//! }
//! # Ok(()) }
//! ```
//!
//! Messages built from a response never hold the client's token, even when the server echoes it.
//! No type of the HTTP stack is part of the errors: a network failure is a [`TransportError`],
//! which says whether a connection was opened and keeps the HTTP stack's error as its source.
//!
//! # Tracing
//!
//! Each call runs in a `press_apps_call` span with the fields `operation`, `status`, `attempts`
//! and `duration_ms`, and ends with a debug event. Each attempt's answer is a debug event of the
//! target `peak_press_apps::http` (`method`, `url`, `status`, `duration_ms`, `request_id`, or the
//! `error` when none came), as is each retry, with its reason and wait; the request's headers are
//! a trace event of that target. The token is never recorded.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod client;
mod config;
mod deployments;
mod dry_run;
mod error;
mod generated;
mod model;
mod pagination;
mod redact;
mod response;
mod retry;
mod specs;
mod transport;
mod validate;
mod waiter;

pub use client::{
    Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BODY, DEFAULT_TIMEOUT,
    DEFAULT_USER_AGENT, MAX_REDIRECTS,
};
pub use config::{
    API_KEY_VARIABLE, BASE_URL_VARIABLE, FALLBACK_STAGE_VARIABLE, STAGE_VARIABLE, Stage, TOKEN_VARIABLE,
};
pub use deployments::{DeploymentQuery, ListDeploymentRevisions, ListDeployments, RevisionQuery};
pub use dry_run::UnsentRequest;
pub use error::{Error, ErrorKind, RequestInfo, Result, ServiceError, TimeLimit, TransportError};
/// The HTTP status type of [`ServiceError::status`] and [`Error::status`], re-exported so that
/// callers need no dependency of their own to name it.
pub use http::StatusCode;
pub use model::{DeploymentStatus, ParameterValue, RevisionStatus, SpecScope, SpecStatus, UnknownValue};
pub use pagination::{DEFAULT_BUFFER_BYTES, DEFAULT_CONCURRENCY, ListQuery, MAX_PAGE_SIZE, Page, Paginator};
pub use retry::{RetryAction, RetryConfig};
pub use specs::{CreateSpec, ListSpecReleases, ListSpecs, ReleaseQuery, SpecQuery};
pub use waiter::{DEFAULT_FIRST_INTERVAL, DEFAULT_MAX_INTERVAL, DEFAULT_WAIT_TIMEOUT, DeploymentWaiter};

/// The schemars crate whose `JsonSchema` the types implement with the `schemars` feature, so that
/// `schema_for!` needs no dependency of the caller's own (and no guess of its version):
///
/// ```
/// use peak_press_apps::{schemars::schema_for, types::NewSpec};
///
/// let schema = schema_for!(NewSpec);
/// let required = &schema.schema.object.as_ref().unwrap().required;
/// assert!(required.contains("metadata") && required.contains("release"));
/// ```
#[cfg(feature = "schemars")]
pub use schemars;

/// Path parameters are plain strings: no type of the generated code's own stands for an id.
///
/// ```compile_fail
/// use peak_press_apps::types::DescribeSpecSpecId;
/// ```
#[cfg(doctest)]
struct NoPathParameterTypes;

/// The examples of README.md, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

/// The request and response types of the API, generated from the OpenAPI document's schemas.
///
/// Each struct with required fields has a builder (`NewSpec::builder()`), which the operations
/// accept in place of the struct itself. Setters take plain values, optional fields included, and
/// a nested struct's builder in place of the struct; a field left unset is left out:
///
/// ```
/// use peak_press_apps::{
///     SpecStatus,
///     types::{SpecMetadataUpdate, SpecUpdate},
/// };
///
/// let update: SpecUpdate = SpecUpdate::builder()
///     .metadata(SpecMetadataUpdate::builder().title("Churn model").status(SpecStatus::Archived))
///     .featured(false)
///     .try_into()
///     .unwrap();
/// let metadata = update.metadata.as_ref().unwrap();
/// assert_eq!(metadata.title.as_deref(), Some("Churn model"));
/// assert_eq!(metadata.summary, None);
/// ```
pub mod types {
    pub use crate::generated::types::*;
}
