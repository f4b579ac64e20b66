//! The official Python SDK and `peak` CLI (peak-sdk 1.29.0) against the emulator: their failures
//! are ours.
//!
//! Needs `PEAK_SDK_PYTHON`, a Python interpreter with `peak-sdk==1.29.0` installed; the
//! README's test command (`.ci/test`) sets one up. A plain `cargo test` without it skips these
//! tests and says so; in CI (`CI` set) a skip is a failure, so the interop is never silently lost.

use std::{ffi::OsString, io::Write, path::Path, process::Command, time::Duration};

use peak_press_apps_emulator::{Emulator, EmulatorBuilder};

/// The Python to run, or `None` (after saying so) when there is none outside CI.
fn python() -> Option<OsString> {
    let python = std::env::var_os("PEAK_SDK_PYTHON").filter(|value| !value.is_empty());
    if python.is_none() {
        let why = "PEAK_SDK_PYTHON is not set: set it to a Python with peak-sdk==1.29.0, or run .ci/test";
        assert!(
            std::env::var_os("CI").is_none(),
            "the official SDK's interop tests cannot be skipped in CI: {why}"
        );
        // Straight to stderr: the test harness would swallow an eprintln! of a passing test.
        let _ = writeln!(std::io::stderr(), "skipped an interop test with the official SDK: {why}");
    }
    python
}

/// Runs `script` of tests/python with the emulator's URL; checks it ends with no failure.
async fn run(python: OsString, script: &str, emulator: EmulatorBuilder) {
    let emulator = emulator.deploy_delay(Duration::ZERO).start().await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python").join(script);
    let base_url = emulator.base_url().to_owned();
    let output = tokio::task::spawn_blocking(move || Command::new(python).arg(script).arg(base_url).output())
        .await
        .unwrap()
        .expect("the Python interpreter starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the run failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    println!("{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_drives_every_operation() {
    let Some(python) = python() else { return };
    run(python, "sdk_interop.py", Emulator::builder().token("writer").read_only_token("reader")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_clis_own_samples_create_what_they_describe() {
    let Some(python) = python() else { return };
    run(python, "cli_samples.py", Emulator::builder()).await;
}
