//! The official `peak` CLI's own `--generate` samples, run by `press-apps` against the emulator,
//! must create what the official CLI creates from them: the same 29 checks of
//! `emulator/tests/python/cli_samples.py` that the official CLI passes, and then the whole state
//! left behind (every spec, release, deployment and revision, ids and times aside) compared with
//! the state the official CLI leaves on another emulator from the same files.
//!
//! Needs `PEAK_SDK_PYTHON` (a Python with peak-sdk 1.29.0, which ships the official CLI that
//! prints the samples); `.ci/test` sets it up. Without it the test says it was skipped, and in CI
//! a skip is a failure.

use std::{ffi::OsString, io::Write, path::Path, process::Command, time::Duration};

use peak_press_apps_emulator::Emulator;

/// Runs the samples script on a fresh emulator, with press-apps when `ours`; returns the state
/// it dumped.
async fn run(python: OsString, ours: bool, dump: &Path) -> serde_json::Value {
    let emulator = Emulator::builder().deploy_delay(Duration::ZERO).start().await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../emulator/tests/python/cli_samples.py");
    let mut command = Command::new(python);
    command.arg(script).arg(emulator.base_url()).arg("--dump").arg(dump);
    if ours {
        command.arg("--cli").arg(env!("CARGO_BIN_EXE_press-apps"));
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the Python interpreter starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the run failed (ours: {ours}):\n{stdout}\n{stderr}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    serde_json::from_str(&std::fs::read_to_string(dump).unwrap()).unwrap()
}

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
    let temp = tempfile::Builder::new().prefix("press-apps-official-").tempdir().unwrap();
    let dir = temp.path();
    let theirs = run(python.clone(), false, &dir.join("official.json")).await;
    let ours = run(python, true, &dir.join("press-apps.json")).await;
    assert!(theirs.as_array().is_some_and(|state| state.len() >= 2), "a spec and a deployment: {theirs}");
    assert_eq!(ours, theirs, "press-apps left another state than the official CLI from the same files");
}
