//! `press-apps-emulator`: serves the Press Apps API emulator until Ctrl-C.

use std::{net::IpAddr, path::PathBuf, process::ExitCode, time::Duration};

use clap::Parser;
use peak_press_apps_emulator::{DEFAULT_BODY_LIMIT, DEFAULT_TENANT, Emulator, EmulatorError, Fault, Faults};

/// A local emulator of Peak's Press Apps API. Point any client at the printed URL; with no
/// --token flags, any non-empty token is accepted.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Flags {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// The port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Accept this token with full access (repeatable). Once any token is listed, only listed
    /// tokens are accepted. TOKEN=TENANT makes it act as that tenant, which has its own specs and
    /// deployments and sees others' specs only when they are public or shared with it; without
    /// a tenant, a token acts as the tenant "default". The value is split at its last "=", so a
    /// token with "=" inside is given with its tenant (a=b=default).
    #[arg(long = "token", value_name = "TOKEN[=TENANT]")]
    tokens: Vec<String>,
    /// Accept this token for reading only; writes get 403 (repeatable; TOKEN=TENANT as for
    /// --token).
    #[arg(long = "read-only-token", value_name = "TOKEN[=TENANT]")]
    read_only_tokens: Vec<String>,
    /// How long deploying, redeploying and deleting take, in milliseconds.
    #[arg(long, default_value_t = 300)]
    deploy_delay_ms: u64,
    /// The largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, default_value_t = DEFAULT_BODY_LIMIT)]
    body_limit: usize,
    /// The share (0 to 1) of answers on /v1 replaced by an injected fault.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// The faults to draw from: 429, 503, 500, 502, 403, reset, truncate, panic (all but panic
    /// and 403 unless given).
    #[arg(long, value_delimiter = ',', value_name = "FAULT")]
    faults: Vec<Fault>,
    /// The seed of the fault draws, for runs that repeat.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// The Retry-After of injected 429s, in seconds.
    #[arg(long, default_value_t = 1)]
    fault_retry_after: u64,
    /// Latency added to every answer on /v1, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Keep the whole state in this SQLite file: it survives a restart, and a write is on disk
    /// before it is answered. Without it the state lives in memory only.
    #[arg(long, value_name = "PATH")]
    data: Option<PathBuf>,
    /// Start from the state in this JSON document (as --export-on-exit or GET /_emulator/state
    /// wrote it).
    #[arg(long, value_name = "FILE")]
    import: Option<PathBuf>,
    /// Write the whole state to this file as a JSON document when stopped with Ctrl-C.
    #[arg(long, value_name = "FILE")]
    export_on_exit: Option<PathBuf>,
}

/// Splits `TOKEN=TENANT` at its last `=`. A token that ends in `=` (base64 padding) and names
/// no tenant is a token of the default tenant.
fn token_and_tenant(given: &str) -> (&str, &str) {
    match given.rsplit_once('=') {
        Some((token, tenant)) if !token.is_empty() && !tenant.is_empty() => (token, tenant),
        _ => (given, DEFAULT_TENANT),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let colour = std::io::IsTerminal::is_terminal(&std::io::stdout());
    tracing_subscriber::fmt().with_target(false).with_ansi(colour).init();
    let flags = Flags::parse();
    let mut builder = Emulator::builder()
        .host(flags.host)
        .port(flags.port)
        .deploy_delay(Duration::from_millis(flags.deploy_delay_ms))
        .body_limit(flags.body_limit);
    if flags.fault_rate > 0.0 || flags.latency_ms > 0 {
        let kinds = if flags.faults.is_empty() { Fault::DEFAULT.to_vec() } else { flags.faults };
        let faults = Faults::new(flags.fault_rate)
            .seed(flags.fault_seed)
            .retry_after(flags.fault_retry_after)
            .latency(Duration::from_millis(flags.latency_ms))
            .kinds(kinds);
        builder = builder.faults(faults);
    }
    for given in &flags.tokens {
        let (token, tenant) = token_and_tenant(given);
        builder = builder.tenant_token(tenant, token);
    }
    for given in &flags.read_only_tokens {
        let (token, tenant) = token_and_tenant(given);
        builder = builder.read_only_tenant_token(tenant, token);
    }
    if let Some(path) = &flags.data {
        builder = builder.data(path);
    }
    if let Some(path) = &flags.import {
        let state = std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}")));
        match state {
            Ok(state) => builder = builder.state(state),
            Err(why) => {
                eprintln!("press-apps-emulator: cannot import {}: {why}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let emulator = match builder.start().await {
        Ok(emulator) => emulator,
        Err(error) if error.kind() == std::io::ErrorKind::InvalidData => {
            let imported = error.get_ref().and_then(|inner| inner.downcast_ref::<EmulatorError>());
            match &flags.import {
                Some(file) if matches!(imported, Some(EmulatorError::InvalidState(_))) => {
                    eprintln!("press-apps-emulator: cannot import {}: {error}", file.display())
                }
                _ => eprintln!("press-apps-emulator: {error}"),
            }
            return ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!("press-apps-emulator: cannot listen on {}:{}: {error}", flags.host, flags.port);
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("serving the Press Apps API on {} (Ctrl-C stops)", emulator.base_url());
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("press-apps-emulator: cannot wait for Ctrl-C: {error}");
    }
    tracing::info!("stopping");
    let state = emulator.export_state();
    emulator.shutdown().await;
    if let Some(path) = &flags.export_on_exit {
        // Written beside the file and renamed over it: a reader never sees half a document.
        let partial = path.with_extension("partial");
        let written = serde_json::to_vec_pretty(&state)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&partial, bytes))
            .and_then(|()| std::fs::rename(&partial, path));
        if let Err(error) = written {
            eprintln!("press-apps-emulator: cannot export the state to {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
        tracing::info!("exported the state to {}", path.display());
    }
    ExitCode::SUCCESS
}
