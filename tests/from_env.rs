//! `Client::from_env` against the real process environment. This binary holds one test, so
//! nothing else reads the environment while it changes it.

use peak_press_apps::{Client, Error};
use peak_press_apps_emulator::Emulator;

#[tokio::test]
async fn from_env_reads_the_process_environment_and_is_pointed_at_the_emulator_by_its_variable() {
    // SAFETY: this test binary has a single test, so no other thread reads the environment.
    unsafe {
        std::env::remove_var("PEAK_AUTH_TOKEN");
        std::env::remove_var("API_KEY");
        std::env::remove_var("PRESS_APPS_BASE_URL");
        std::env::set_var("PEAK__STAGE", "dev");
    }
    assert!(matches!(Client::from_env(), Err(Error::Config { .. })));
    unsafe {
        std::env::set_var("API_KEY", "key");
    }
    assert_eq!(Client::from_env().unwrap().base_url(), "https://press.dev.peak.ai");

    // The same program, pointed at the emulator with no change of code.
    let emulator = Emulator::start().await.unwrap();
    unsafe {
        std::env::set_var("PRESS_APPS_BASE_URL", emulator.base_url());
    }
    let client = Client::from_env().unwrap();
    assert_eq!(client.base_url(), emulator.base_url(), "the variable wins over the stage");
    let page = client.list_specs().page(1).await.unwrap();
    assert_eq!(page.total, 0);
    assert_eq!(emulator.requests().len(), 1, "the call went to the emulator");

    let without_scheme = emulator.base_url().trim_start_matches("http://").to_owned();
    unsafe {
        std::env::set_var("PRESS_APPS_BASE_URL", &without_scheme);
    }
    let Err(Error::Config { message }) = Client::from_env() else {
        panic!("a URL without a scheme is refused")
    };
    assert!(message.starts_with("PRESS_APPS_BASE_URL: "), "names the variable: {message}");
    assert!(message.contains(&format!("http://{without_scheme}")), "shows how to write it: {message}");
}
