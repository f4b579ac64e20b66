//! The official `peak` CLI's own `--generate` samples, run by `press-apps` against the emulator,
//! must create what the official CLI creates from them: the same 29 checks of
//! `emulator/tests/python/cli_samples.py` that the official CLI passes.
//!
//! Needs `PEAK_SDK_PYTHON` (a Python with peak-sdk 1.29.0, which ships the official CLI that
//! prints the samples); `.ci/test` sets it up. Without it the test says it was skipped, and in CI
//! a skip is a failure.

use std::{io::Write, path::Path, process::Command, time::Duration};

use peak_press_apps_emulator::Emulator;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_clis_samples_work_unchanged_with_press_apps() {
    let Some(python) = std::env::var_os("PEAK_SDK_PYTHON").filter(|value| !value.is_empty()) else {
        let why = "PEAK_SDK_PYTHON is not set: set it to a Python with peak-sdk==1.29.0, or run .ci/test";
        assert!(
            std::env::var_os("CI").is_none(),
            "the official CLI's samples cannot be skipped in CI: {why}"
        );
        let _ = writeln!(std::io::stderr(), "skipped the official CLI's samples: {why}");
        return;
    };
    let emulator = Emulator::builder().deploy_delay(Duration::ZERO).start().await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../emulator/tests/python/cli_samples.py");
    let base_url = emulator.base_url().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(base_url)
            .arg("--cli")
            .arg(env!("CARGO_BIN_EXE_press-apps"))
            .output()
    })
    .await
    .unwrap()
    .expect("the Python interpreter starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the run failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("29 passed, 0 failed"), "{stdout}");
}
