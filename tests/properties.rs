//! Property tests of response handling: whatever a server answers, the client returns a typed
//! value or a typed error, never panics, and never loses the status of an error.

mod common;

use std::sync::OnceLock;

use common::*;
use peak_press_apps::Error;
use proptest::prelude::*;
use serde_json::{Value, json};
use wiremock::{Mock, ResponseTemplate, matchers};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
    })
}

/// Serves `status` with `body` once and returns what the client made of it.
fn answer(
    status: u16,
    body: Vec<u8>,
    content_type: &'static str,
) -> Result<peak_press_apps::types::Spec, Error> {
    runtime().block_on(async move {
        let (server, client) = server_and_client().await;
        Mock::given(matchers::any())
            .respond_with(ResponseTemplate::new(status).set_body_raw(body, content_type))
            .mount(&server)
            .await;
        client.describe_spec("s").await
    })
}

/// JSON values of any shape, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Spec-shaped JSON with any field possibly replaced by a value of the wrong type.
fn spec_like() -> impl Strategy<Value = Value> {
    (json_value(), json_value(), json_value(), any::<bool>()).prop_map(|(id, name, status, keep_id)| {
        let mut spec = spec_json("s", "n");
        if !keep_id {
            spec["id"] = id;
        }
        spec["metadata"]["name"] = name;
        spec["metadata"]["status"] = status;
        spec
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_success_body_is_a_value_or_a_decode_error(body in prop::collection::vec(any::<u8>(), 0..256)) {
        match answer(200, body, "application/json") {
            Ok(_) => {}
            Err(error @ Error::Decode { .. }) => {
                prop_assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
                prop_assert!(!error.to_string().contains('\n'), "Display is one line: {}", error);
            }
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn spec_shaped_json_decodes_exactly_when_the_types_fit(spec in spec_like()) {
        let fits = spec["id"].is_string() && spec["metadata"]["name"].is_string()
            && (spec["metadata"]["status"].is_string() || spec["metadata"]["status"].is_null());
        let result = answer(200, serde_json::to_vec(&spec).unwrap(), "application/json");
        prop_assert_eq!(result.is_ok(), fits, "{:?} for {}", result, spec);
    }

    #[test]
    fn any_error_keeps_its_status(status in 400u16..600, body in prop::collection::vec(any::<u8>(), 0..512)) {
        let error = answer(status, body, "text/plain").unwrap_err();
        prop_assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        let line = error.to_string();
        prop_assert!(!line.contains('\n') && !line.contains('\r'), "Display is one line: {:?}", line);
    }

    #[test]
    fn any_json_error_body_gives_a_message(status in 400u16..600, detail in json_value()) {
        let body = serde_json::to_vec(&json!({ "detail": detail })).unwrap();
        let error = answer(status, body, "application/json").unwrap_err();
        prop_assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        prop_assert!(!error.to_string().is_empty());
    }
}
