//! `Client::from_env` against the real process environment. This binary holds one test, so
//! nothing else reads the environment while it changes it.

use peak_press_apps::{Client, Error};

#[test]
fn from_env_reads_the_process_environment() {
    // SAFETY: this test binary has a single test, so no other thread reads the environment.
    unsafe {
        std::env::remove_var("PEAK_AUTH_TOKEN");
        std::env::remove_var("API_KEY");
        std::env::set_var("PEAK__STAGE", "dev");
    }
    assert!(matches!(Client::from_env(), Err(Error::Config { .. })));
    unsafe {
        std::env::set_var("API_KEY", "key");
    }
    assert_eq!(Client::from_env().unwrap().base_url(), "https://press.dev.peak.ai");
}
