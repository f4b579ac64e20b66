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
