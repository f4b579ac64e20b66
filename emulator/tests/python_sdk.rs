//! The official Python SDK (peak-sdk 1.29.0) against the emulator: its failures are ours.
//!
//! Needs `PEAK_SDK_PYTHON`, a Python interpreter with `peak-sdk==1.29.0` installed; the
//! README's test command (`.ci/test`) sets one up. A plain `cargo test` without it skips this
//! test and says so; in CI (`CI` set) a skip is a failure, so the interop is never silently lost.

use std::{io::Write, path::Path, process::Command, time::Duration};

use peak_press_apps_emulator::Emulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_drives_every_operation() {
    let Some(python) = std::env::var_os("PEAK_SDK_PYTHON").filter(|value| !value.is_empty()) else {
        let why = "PEAK_SDK_PYTHON is not set: set it to a Python with peak-sdk==1.29.0, or run .ci/test";
        assert!(
            std::env::var_os("CI").is_none(),
            "the official SDK's interop test cannot be skipped in CI: {why}"
        );
        // Straight to stderr: the test harness would swallow an eprintln! of a passing test.
        let _ = writeln!(std::io::stderr(), "skipped the official SDK's interop test: {why}");
        return;
    };
    let emulator = Emulator::builder()
        .deploy_delay(Duration::ZERO)
        .token("writer")
        .read_only_token("reader")
        .start()
        .await
        .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/sdk_interop.py");
    let base_url = emulator.base_url().to_owned();
    let output = tokio::task::spawn_blocking(move || Command::new(python).arg(script).arg(base_url).output())
        .await
        .unwrap()
        .expect("the Python interpreter starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the SDK run failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    println!("{stdout}");
}
