//! `press-apps watch PATH...`: the reconcile loop over the files of plan and apply. The loop is
//! the reconcile crate's; this file reads the files each round, starts a round when one changes,
//! serves the status with `--listen`, and stops on SIGTERM or Ctrl-C.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use clap::{Args, ValueEnum};
use notify_debouncer_mini::{new_debouncer, notify::RecursiveMode};
use peak_press_apps_reconcile::{Reconciler, Settings, router};

use super::{LazyClient, declarative::FileSet};
use crate::failure::Failure;

/// `watch`'s flags.
#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    set: FileSet,
    /// The time between rounds, such as 30s or 5m (each wait is lengthened or shortened by up
    /// to a tenth, so that many watchers do not align).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "60s")]
    interval: Duration,
    /// Detect and report drift; write nothing.
    #[arg(long)]
    report_only: bool,
    /// With --prune, let a round whose files name no resource at all prune (without it, such a
    /// round prunes nothing: a bad checkout must not delete every app).
    #[arg(long, requires = "prune")]
    allow_empty: bool,
    /// Serve the status page (/), /status, /metrics, /healthz and /readyz on this address, such
    /// as 127.0.0.1:9090.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// POST a JSON event to this URL when a resource drifts, is healed, starts failing or
    /// recovers, and when the set's health changes (repeatable; Slack and Teams webhooks take
    /// the body as it is).
    #[arg(long, value_name = "URL")]
    notify: Vec<String>,
    /// How each event is logged on stderr.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

/// The format of watch's log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One line of text per event.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

pub async fn watch_command(args: WatchArgs, client: &LazyClient) -> Result<(), Failure> {
    if client.dry_run() {
        return Err(Failure::usage(
            "watch sends no request with --dry-run; --report-only reports without writing",
        ));
    }
    if args.set.paths().iter().any(|path| path.as_os_str() == "-") {
        return Err(Failure::usage(
            "watch reads its files again each round: give files or directories, not standard input",
        ));
    }
    let client = client.get()?.clone();
    let options = args.set.options(None);
    // The files are read once now, so that a set that cannot be read fails at start.
    args.set.desired()?;
    let paths = args.set.paths().to_vec();
    let set = args.set;
    let source = Box::new(move || {
        set.desired().map(|(desired, _)| desired).map_err(|failure| failure.message().to_owned())
    });
    let settings = Settings {
        interval: args.interval,
        report_only: args.report_only,
        allow_empty: args.allow_empty,
        notify: args.notify,
        ..Settings::default()
    };
    let reconciler = Reconciler::new(client, source, options, settings);
    let handle = reconciler.handle();

    // File events start a round; half a second of quiet makes an editor's save of several files
    // one. Reading the files raises events too (inotify reports opens), so a round starts only
    // when a file's size or modification time changed.
    let trigger = handle.clone();
    let watched = paths.clone();
    let mut last = fingerprint(&watched);
    let mut debouncer = new_debouncer(
        Duration::from_millis(500),
        move |events: notify_debouncer_mini::DebounceEventResult| {
            if events.is_ok_and(|events| !events.is_empty()) {
                let now = fingerprint(&watched);
                if now != last {
                    last = now;
                    trigger.trigger();
                }
            }
        },
    )
    .map_err(|e| Failure::usage(format!("cannot watch the files: {e}")))?;
    for path in &paths {
        debouncer
            .watcher()
            .watch(path, RecursiveMode::Recursive)
            .map_err(|e| Failure::usage(format!("cannot watch {}: {e}", path.display())))?;
    }

    if let Some(address) = args.listen {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| Failure::usage(format!("cannot listen on {address}: {e}")))?;
        eprintln!("press-apps: the status is served on http://{}/", listener.local_addr().unwrap_or(address));
        let routes = router(handle.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, routes).await;
        });
    }
    reconciler.run(shutdown()).await;
    drop(debouncer);
    Ok(())
}

/// Every file under `paths` with its size and modification time, in a stable order.
fn fingerprint(paths: &[PathBuf]) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    fn visit(path: &Path, out: &mut Vec<(PathBuf, u64, Option<SystemTime>)>) {
        let Ok(metadata) = std::fs::metadata(path) else { return };
        if metadata.is_dir() {
            let Ok(entries) = std::fs::read_dir(path) else { return };
            for entry in entries.flatten() {
                visit(&entry.path(), out);
            }
        } else {
            out.push((path.to_owned(), metadata.len(), metadata.modified().ok()));
        }
    }
    let mut out = Vec::new();
    for path in paths {
        visit(path, &mut out);
    }
    out.sort();
    out
}

/// Completes on SIGTERM or Ctrl-C.
async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    eprintln!("press-apps: stopping: no new writes; those in flight finish");
}
