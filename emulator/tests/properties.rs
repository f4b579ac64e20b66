//! Property tests of the emulator's request parsing: whatever a client sends, the answer is a
//! documented success or a 4xx with a JSON detail, never a 5xx, and the server serves on.

use std::sync::OnceLock;

use peak_press_apps_emulator::Emulator;
use proptest::prelude::*;
use reqwest::Method;
use serde_json::Value;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    base_url: String,
    http: reqwest::Client,
    _emulator: Emulator,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let emulator =
            runtime.block_on(Emulator::builder().deploy_delay(std::time::Duration::ZERO).start()).unwrap();
        let base_url = emulator.base_url().to_owned();
        Fixture { runtime, base_url, http: reqwest::Client::new(), _emulator: emulator }
    })
}

/// Sends a request and checks the answer: a success, or a 4xx whose body is JSON with a detail.
fn check(method: Method, path_and_query: &str, body: Option<Vec<u8>>) -> Result<u16, TestCaseError> {
    let f = fixture();
    let (status, text) = f.runtime.block_on(async {
        let mut request = f
            .http
            .request(method, format!("{}{path_and_query}", f.base_url))
            .header("authorization", "t")
            .header("content-type", "application/json");
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("the emulator answers");
        (response.status().as_u16(), response.text().await.unwrap())
    });
    prop_assert!(status < 500, "{status} for {path_and_query}: {text}");
    if status >= 400 {
        let body: Value =
            serde_json::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{text}");
    }
    Ok(status)
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,10}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 20, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("metadata".to_owned()),
                    Just("name".to_owned()),
                    Just("spec".to_owned()),
                    "[a-z]{1,8}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const WRITES: [(&str, &str); 6] = [
    ("POST", "/v1/apps/specs/"),
    ("POST", "/v1/apps/deployments/"),
    ("PATCH", "/v1/apps/specs/some-id"),
    ("PATCH", "/v1/apps/deployments/some-id"),
    ("POST", "/v1/apps/specs/some-id/releases"),
    ("POST", "/v1/apps/deployments/some-id/revisions"),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_as_a_body_get_a_json_answer(route in 0..WRITES.len(), body in prop::collection::vec(any::<u8>(), 0..200)) {
        let (method, path) = WRITES[route];
        check(method.parse().unwrap(), path, Some(body))?;
    }

    #[test]
    fn any_json_as_a_body_get_a_json_answer(route in 0..WRITES.len(), body in json_value()) {
        let (method, path) = WRITES[route];
        check(method.parse().unwrap(), path, Some(serde_json::to_vec(&body).unwrap()))?;
    }

    #[test]
    fn any_query_gets_a_page_or_a_400(
        pairs in prop::collection::vec(
            (prop_oneof![Just("pageSize"), Just("pageNumber"), Just("sort"), Just("status"), Just("scope"),
                         Just("featured"), Just("name"), Just("title")], ".{0,12}"),
            0..5,
        ),
        listing in prop_oneof![Just("/v1/apps/specs/"), Just("/v1/apps/deployments/")],
    ) {
        let query: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let status = check(Method::GET, &format!("{listing}?{query}"), None)?;
        prop_assert!(status == 200 || status == 400, "{}", status);
    }

    #[test]
    fn any_path_segment_gets_a_json_answer(segment in "[^/?#]{1,40}", tail in prop_oneof![Just(""), Just("/releases"), Just("/revisions/1"), Just("/redeploy")]) {
        let encoded: String = form_urlencoded::byte_serialize(segment.as_bytes()).collect();
        check(Method::GET, &format!("/v1/apps/specs/{encoded}{tail}"), None)?;
        check(Method::GET, &format!("/v1/apps/deployments/{encoded}{tail}"), None)?;
    }
}
