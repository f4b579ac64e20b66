//! `press-apps`: a drop-in for the official `peak apps` commands, written over the
//! peak-press-apps client. The same commands, options and input files; JSON, YAML or a table on
//! stdout; one line on stderr and an exit code by kind when something fails (the table is in
//! `failure.rs`).

mod args;
mod commands;
mod failure;
mod input;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("press-apps: cannot start: {error}");
            return ExitCode::from(failure::code::OTHER);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            failure.report();
            failure.exit_code()
        }
    }
}
