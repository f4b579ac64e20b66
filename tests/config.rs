//! Configuration: the environment-variable matrix of the Python SDK, stages and base URLs.

use std::collections::HashMap;

use peak_press_apps::{Client, Error, Stage};

fn client_from(vars: &[(&str, &str)]) -> Result<Client, Error> {
    let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Client::builder().env_vars(|name| vars.get(name).cloned())?.build()
}

fn config_message(result: Result<Client, Error>) -> String {
    match result {
        Err(Error::Config { message }) => message,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn token_comes_from_peak_auth_token_then_api_key() {
    let url = |vars: &[(&str, &str)]| client_from(vars).map(|c| c.base_url().to_owned());
    assert_eq!(url(&[("PEAK_AUTH_TOKEN", "t")]).unwrap(), "https://press.peak.ai");
    assert_eq!(url(&[("API_KEY", "k")]).unwrap(), "https://press.peak.ai");
    assert!(url(&[("PEAK_AUTH_TOKEN", ""), ("API_KEY", "k")]).is_ok(), "an empty token falls back");
    let message = config_message(client_from(&[]));
    assert!(message.contains("PEAK_AUTH_TOKEN"), "{message}");
    let message = config_message(client_from(&[("PEAK_AUTH_TOKEN", ""), ("API_KEY", "")]));
    assert!(message.contains("PEAK_AUTH_TOKEN"), "{message}");
}

#[test]
fn stage_comes_from_peak_stage_then_stage_then_prod() {
    let url = |vars: &[(&str, &str)]| client_from(vars).unwrap().base_url().to_owned();
    assert_eq!(url(&[("API_KEY", "k")]), "https://press.peak.ai");
    assert_eq!(url(&[("API_KEY", "k"), ("STAGE", "test")]), "https://press.test.peak.ai");
    assert_eq!(
        url(&[("API_KEY", "k"), ("PEAK__STAGE", "beta"), ("STAGE", "test")]),
        "https://press.beta.peak.ai"
    );
    assert_eq!(
        url(&[("API_KEY", "k"), ("PEAK__STAGE", ""), ("STAGE", "latest")]),
        "https://press.dev.peak.ai"
    );
}

#[test]
fn an_invalid_stage_is_named_with_its_variable() {
    let message = config_message(client_from(&[("API_KEY", "k"), ("PEAK__STAGE", "Prod")]));
    assert!(message.contains("PEAK__STAGE") && message.contains("\"Prod\""), "{message}");
    let message = config_message(client_from(&[("API_KEY", "k"), ("STAGE", "staging")]));
    assert!(message.contains("STAGE") && message.contains("staging"), "{message}");
}

#[test]
fn every_stage_maps_to_its_host() {
    let expected = [
        ("prod", "https://press.peak.ai"),
        ("dev", "https://press.dev.peak.ai"),
        ("latest", "https://press.dev.peak.ai"),
        ("test", "https://press.test.peak.ai"),
        ("beta", "https://press.beta.peak.ai"),
        ("parvati", "https://press.parvati.peak.ai"),
    ];
    for (name, url) in expected {
        let stage: Stage = name.parse().unwrap();
        assert_eq!(stage.to_string(), name);
        let client = Client::builder().token("t").stage(stage).build().unwrap();
        assert_eq!(client.base_url(), url);
    }
}

#[test]
fn builder_refuses_what_it_cannot_use_without_echoing_the_token() {
    config_message(Client::builder().build());
    let message = config_message(Client::builder().token("bad\ntoken-value").build());
    assert!(!message.contains("token-value"), "{message}");
    config_message(Client::builder().token("t").base_url("ftp://example").build());
    config_message(Client::builder().token("t").base_url("not a url").build());
    config_message(Client::builder().token("t").base_url("http://127.0.0.1:1/?q=1").build());
    let client = Client::builder().token("t").base_url("http://127.0.0.1:8080/prefix/").build().unwrap();
    assert_eq!(client.base_url(), "http://127.0.0.1:8080/prefix");
}

#[test]
fn the_base_url_comes_from_the_builder_then_press_apps_base_url_then_the_stage() {
    let vars = [("API_KEY", "k"), ("PEAK__STAGE", "dev"), ("PRESS_APPS_BASE_URL", "http://127.0.0.1:9/")];
    assert_eq!(client_from(&vars).unwrap().base_url(), "http://127.0.0.1:9");
    let lookup = |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
    let explicit =
        Client::builder().base_url("http://127.0.0.1:7").env_vars(lookup).unwrap().build().unwrap();
    assert_eq!(explicit.base_url(), "http://127.0.0.1:7", "the builder's wins, whatever the order");
    let empty = [("API_KEY", "k"), ("PRESS_APPS_BASE_URL", "")];
    assert_eq!(client_from(&empty).unwrap().base_url(), "https://press.peak.ai", "empty counts as unset");
}

#[test]
fn an_unusable_base_url_is_refused_naming_where_it_came_from() {
    let message = config_message(client_from(&[("API_KEY", "k"), ("PRESS_APPS_BASE_URL", "localhost:8080")]));
    assert!(message.starts_with("PRESS_APPS_BASE_URL: "), "{message}");
    assert!(message.contains("has no scheme") && message.contains("http://localhost:8080"), "{message}");
    assert!(!message.contains("relative URL without a base"), "in the crate's words: {message}");

    let message = config_message(Client::builder().token("t").base_url("127.0.0.1:8080").build());
    assert!(message.starts_with("ClientBuilder::base_url: "), "{message}");
    assert!(message.contains("http://127.0.0.1:8080"), "{message}");
    let message = config_message(Client::builder().token("t").base_url("http://").build());
    assert!(message.contains("is not a valid URL") || message.contains("has no host"), "{message}");
    let message = config_message(Client::builder().token("t").base_url_from("--base-url", "ftp://x").build());
    assert_eq!(message, "--base-url: the base URL \"ftp://x\" is not an http or https URL");
}
