//! `press-apps`: a drop-in for the official `peak apps` commands, written over the
//! peak-press-apps client. The same commands, options and input files; JSON, YAML or a table on
//! stdout; one line on stderr and an exit code by kind when something fails (the table is in
//! `failure.rs`).

mod app;
mod args;
mod commands;
mod failure;
mod input;
mod jq;
mod output;
mod places;
mod secrets;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = app::Cli::parse();
    let watching = match &cli.command {
        app::Command::Watch(args) => Some(args.log_format),
        _ => None,
    };
    log_to_stderr(cli.verbose, watching);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("press-apps: cannot start: {error}");
            return ExitCode::from(failure::code::OTHER);
        }
    };
    match runtime.block_on(app::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            failure.report();
            failure.exit_code()
        }
    }
}

/// Sends the client's events to stderr: what RUST_LOG asks for when it is set, else each request
/// and retry with `--verbose`, and the request headers too with `--verbose --verbose`. `watch`
/// logs its own events too, as text or as JSON lines.
fn log_to_stderr(verbose: u8, watching: Option<commands::watch::LogFormat>) {
    use tracing_subscriber::EnvFilter;
    let watch = if watching.is_some() { ",press_apps::watch=info" } else { "" };
    let filter = match (EnvFilter::try_from_default_env(), verbose) {
        (Ok(filter), _) => filter,
        (Err(_), 0) if watching.is_none() => return,
        (Err(_), 0) => EnvFilter::new(watch.trim_start_matches(',')),
        (Err(_), 1) => EnvFilter::new(format!("peak_press_apps::http=debug{watch}")),
        (Err(_), _) => EnvFilter::new(format!("peak_press_apps=trace{watch}")),
    };
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(false);
    if watching == Some(commands::watch::LogFormat::Json) {
        builder.json().flatten_event(true).with_current_span(false).init();
    } else {
        builder.event_format(OneLine).init();
    }
}

/// An event as one line of its own fields, hidden values masked: each names its request or
/// retry, so the call's span would only repeat them.
struct OneLine;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for OneLine
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        context: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let mut fields = String::new();
        context
            .field_format()
            .format_fields(tracing_subscriber::fmt::format::Writer::new(&mut fields), event)?;
        let level = event.metadata().level().as_str().to_lowercase();
        writeln!(writer, "press-apps: {level} {}", secrets::redact(&fields))
    }
}
