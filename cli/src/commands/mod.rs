//! The commands: one file per command group, each holding its commands' flags, input files,
//! samples and calls. What they share is here: the client, built on first use; printing a
//! listing; waiting for a deployment; and what a dry run prints. No HTTP here: retries, errors
//! and validation are the client's.

/// The answer to a call; or, when `--dry-run` stopped it, the request as it would have gone out,
/// printed as the command's output, and the command done (returning `Ok` of the third argument,
/// `()` unless given): a dry run is the command's outcome, not a failure.
macro_rules! answer {
    ($printer:expr, $call:expr) => {
        answer!($printer, $call, ())
    };
    ($printer:expr, $call:expr, $stopped:expr) => {
        match $call {
            Ok(value) => value,
            Err(peak_press_apps::Error::NotSent { request }) => {
                $printer.value(&$crate::commands::shown(&request))?;
                return Ok($stopped);
            }
            Err(error) => return Err(error.into()),
        }
    };
}

pub mod declarative;
pub mod deployments;
pub mod export;
pub mod specs;
pub mod watch;

use std::cell::OnceCell;

use futures::TryStreamExt;
use peak_press_apps::{
    API_KEY_VARIABLE, Client, ListQuery, Paginator, TOKEN_VARIABLE, UnsentRequest, types::Deployment,
};
use peak_press_apps_engine::Target;
use serde_json::{Map, Value, json};

use crate::{
    args::{Listing, Wait},
    failure::Failure,
    output::{Columns, Printer, Progress},
};

/// The client, configured from the environment as the official CLI is, built when a command
/// first needs it: `--generate` and `--schema` need no token.
pub struct LazyClient {
    base_url: Option<String>,
    dry_run: bool,
    client: OnceCell<Client>,
    reader: OnceCell<Client>,
}

impl LazyClient {
    /// A client for `base_url` (`--base-url`), which sends nothing with `dry_run`; built on first
    /// use.
    pub fn new(base_url: Option<String>, dry_run: bool) -> Self {
        Self { base_url, dry_run, client: OnceCell::new(), reader: OnceCell::new() }
    }

    /// Whether `--dry-run` was given.
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// The client the command's flags ask for: with `--dry-run`, one that sends nothing.
    pub fn get(&self) -> Result<&Client, Failure> {
        Self::once(&self.client, || self.build(self.dry_run))
    }

    /// A client that reads from the service even with `--dry-run`: apply's dry run compares with
    /// what is there and shows only the writes.
    pub fn reader(&self) -> Result<&Client, Failure> {
        if !self.dry_run {
            return self.get();
        }
        Self::once(&self.reader, || self.build(false))
    }

    /// The client in `cell`, built by `build` the first time.
    fn once(
        cell: &OnceCell<Client>,
        build: impl FnOnce() -> Result<Client, Failure>,
    ) -> Result<&Client, Failure> {
        if let Some(client) = cell.get() {
            return Ok(client);
        }
        let client = build()?;
        Ok(cell.get_or_init(|| client))
    }

    /// Where a plan is made or applied: the reading client's base URL and a fingerprint of the
    /// token (a dry run's stands in when there is none).
    pub fn target(&self) -> Result<Target, Failure> {
        let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let token = variable(TOKEN_VARIABLE).or_else(|| variable(API_KEY_VARIABLE)).unwrap_or_default();
        Ok(Target::new(self.reader()?.base_url(), &token))
    }

    fn build(&self, dry_run: bool) -> Result<Client, Failure> {
        let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        if !dry_run && variable(TOKEN_VARIABLE).is_none() && variable(API_KEY_VARIABLE).is_none() {
            return Err(Failure::usage(format!(
                "no token: set {TOKEN_VARIABLE} (or {API_KEY_VARIABLE}) to your Peak API key or token"
            )));
        }
        // A dry run sends nothing, so it needs no token; the one it shows is redacted anyway.
        let lookup = |name: &str| {
            variable(name).or_else(|| (dry_run && name == TOKEN_VARIABLE).then(|| "dry-run".to_owned()))
        };
        let mut builder =
            Client::builder().env_vars(lookup)?.user_agent(concat!("press-apps/", env!("CARGO_PKG_VERSION")));
        // PRESS_APPS_BASE_URL is read by the library through `lookup`; the flag wins over it, and an
        // unusable URL is refused in the library's words, naming the flag or the variable.
        if let Some(url) = &self.base_url {
            builder = builder.base_url_from("--base-url", url);
        }
        if dry_run {
            builder = builder.dry_run();
        }
        Ok(builder.build()?)
    }
}

/// A stopped request as `--dry-run` prints it: the body as JSON when it is JSON.
pub fn shown(request: &UnsentRequest) -> Value {
    let headers: Map<String, Value> =
        request.headers.iter().map(|(name, value)| (name.clone(), Value::String(value.clone()))).collect();
    let body = match &request.body {
        None => Value::Null,
        Some(bytes) => serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
    };
    json!({ "method": request.method, "url": request.url, "headers": headers, "body": body })
}

/// Prints one page of a listing (the official CLI's behaviour) or, with `--all`, every item as
/// it streams.
pub async fn print_listing<Q: ListQuery>(
    list: Paginator<'_, Q>,
    listing: &Listing,
    key: &str,
    columns: Columns,
    printer: &mut Printer,
) -> Result<(), Failure> {
    let list = list.set_page_size(listing.page_size);
    if !listing.all {
        let page = answer!(printer, list.page(listing.page_number.unwrap_or(1)).await);
        return printer.page(&page, key, columns);
    }
    let mut items = list.items();
    let mut progress = Progress::on_terminal();
    while let Some(item) = answer!(printer, items.try_next().await) {
        printer.item(&item)?;
        progress.tick();
    }
    progress.finish();
    printer.finish(columns)
}

/// How a wait ended.
pub enum Waited {
    /// No wait was asked for.
    NotAsked,
    /// The deployment is deployed, as last described.
    Deployed(Box<Deployment>),
    /// The deployment is gone.
    Gone,
    /// `--dry-run` stopped its first request, which was printed.
    DryRun,
}

/// With `--wait`, waits for the deployment to be deployed (or gone, with `gone`), showing each
/// status on stderr.
pub async fn wait_for(
    client: &Client,
    deployment_id: &str,
    wait: &Wait,
    gone: bool,
    printer: &mut Printer,
) -> Result<Waited, Failure> {
    if !wait.wait {
        return Ok(Waited::NotAsked);
    }
    printer.flush()?;
    let waiter = client
        .wait_for_deployment(deployment_id)
        .timeout(wait.timeout)
        .on_status(|status| eprintln!("press-apps: deployment is {status}"));
    if gone {
        answer!(printer, waiter.gone().await, Waited::DryRun);
        eprintln!("press-apps: deployment {deployment_id} is gone");
        return Ok(Waited::Gone);
    }
    let deployed = answer!(printer, waiter.deployed().await, Waited::DryRun);
    let revision = deployed.latest_revision.as_ref().map_or(0, |r| r.revision);
    eprintln!("press-apps: deployment {deployment_id} is deployed at revision {revision}");
    Ok(Waited::Deployed(Box::new(deployed)))
}
