//! The tour as a user starts it: on its own emulator unless its command line says otherwise.

use std::{
    path::PathBuf,
    process::{Command, Output},
};

/// The tour's binary, which `cargo test` builds with the package's other targets.
fn quickstart(args: &[&str]) -> Output {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let binary =
        target.parent().expect("target/tmp is in the target directory").join("debug/examples/quickstart");
    Command::new(&binary)
        .args(args)
        // A Peak user's shell: a token and a stage that would reach the real service.
        .env("PEAK_AUTH_TOKEN", "a-real-looking-token")
        .env("PEAK__STAGE", "prod")
        .output()
        .unwrap_or_else(|e| panic!("{} does not start: {e}", binary.display()))
}

#[test]
fn a_token_in_the_environment_does_not_send_the_tour_to_a_real_stage() {
    let output = quickstart(&[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.starts_with("Started the emulator at http://127.0.0.1:"), "{stdout}");
    assert!(!stdout.contains("peak.ai"), "{stdout}");
}

#[test]
fn help_lists_the_options_and_an_unknown_one_is_refused() {
    let help = quickstart(&["--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.status.success() && text.contains("--real-stage STAGE") && text.contains("--base-url URL"),
        "{text}"
    );
    let refused = quickstart(&["--stage", "prod"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--real-stage STAGE"));
}
