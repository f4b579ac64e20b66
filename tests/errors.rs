//! Every status to its error, whatever the body; bad input refused before sending; ids that
//! cannot change the path; time limits; and the token kept out of every output.

mod common;

use std::time::Duration;

use common::*;
use peak_press_apps::{Client, Error, ErrorKind, RetryConfig, types::NewRelease};
use reqwest::StatusCode;
use serde_json::json;
use wiremock::{Mock, ResponseTemplate, matchers};

#[tokio::test]
async fn every_documented_status_has_its_variant_with_message_and_request_id() {
    type IsVariant = fn(&Error) -> bool;
    let cases: [(u16, IsVariant); 8] = [
        (400, |e| matches!(e, Error::BadRequest(_))),
        (401, |e| matches!(e, Error::Unauthorized(_))),
        (403, |e| matches!(e, Error::Forbidden(_))),
        (404, |e| matches!(e, Error::NotFound(_))),
        (409, |e| matches!(e, Error::Conflict(_))),
        (413, |e| matches!(e, Error::PayloadTooLarge(_))),
        (422, |e| matches!(e, Error::UnprocessableEntity(_))),
        (500, |e| matches!(e, Error::InternalServerError(_))),
    ];
    for (status, is_variant) in cases {
        let (server, client) = server_and_client().await;
        Mock::given(matchers::any())
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("x-request-id", "req-42")
                    .set_body_json(json!({"detail": format!("problem {status}")})),
            )
            .mount(&server)
            .await;
        let error = client.describe_spec("abc").await.unwrap_err();
        assert!(is_variant(&error), "{status} became {error:?}");
        assert_eq!(error.status(), Some(StatusCode::from_u16(status).unwrap()));
        assert_eq!(error.request_id(), Some("req-42"));
        let line = error.to_string();
        assert!(line.contains(&format!("problem {status}")) && line.contains("req-42"), "{line}");
        assert!(!line.contains('\n'), "Display is one line: {line:?}");
    }
}

#[tokio::test]
async fn each_status_is_classified_for_callers_and_the_retry_policy() {
    use ErrorKind::*;
    let cases = [
        (400, ClientError, false),
        (401, ClientError, false),
        (403, ClientError, false),
        (404, ClientError, false),
        (409, ClientError, false),
        (413, ClientError, false),
        (418, ClientError, false),
        (422, ClientError, false),
        (429, Throttled, true),
        (500, ServerError, true),
        (501, ServerError, false),
        (502, ServiceUnavailable, true),
        (503, ServiceUnavailable, true),
        (504, ServiceUnavailable, true),
        (599, ServerError, false),
    ];
    for (status, kind, retryable) in cases {
        let body = json!({"detail": format!("problem {status}"), "code": status});
        let (server, client) = server_and_client().await;
        Mock::given(matchers::any())
            .respond_with(ResponseTemplate::new(status).set_body_json(&body))
            .mount(&server)
            .await;
        let error = client.describe_spec("abc").await.unwrap_err();
        assert_eq!(error.kind(), kind, "{status}: {error:?}");
        assert_eq!(error.is_retryable(), retryable, "{status}: {error:?}");
        assert_eq!(error.is_not_found(), status == 404, "{status}");
        assert_eq!(error.is_conflict(), status == 409, "{status}");
        assert_eq!(error.is_auth(), matches!(status, 401 | 403), "{status}");
        let answer = error.service_error().expect("an answer of the service");
        assert_eq!(answer.status().as_u16(), status);
        assert_eq!(answer.json_body(), Some(&body), "the JSON body is kept as sent");
    }
}

#[tokio::test]
async fn errors_without_an_answer_are_classified_too() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let retry = RetryConfig::default().max_attempts(2).initial_backoff(Duration::from_millis(1));
    let client = Client::builder()
        .token(TOKEN)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry(retry)
        .build()
        .unwrap();
    let error = client.describe_spec("abc").await.unwrap_err();
    assert!(matches!(error, Error::RetriesExhausted { attempts: 2, .. }), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Network, "of the kind of its last attempt: {error:?}");
    assert!(error.service_error().is_none(), "{error:?}");
    assert!(error.is_retryable(), "a read may succeed later, retries or not: {error:?}");
    assert!(!error.may_have_been_applied(), "a read: {error:?}");
    let error = client.describe_spec("").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidRequest, "{error:?}");
}

async fn error_for(template: ResponseTemplate) -> Error {
    let (server, client) = server_and_client().await;
    Mock::given(matchers::any()).respond_with(template).mount(&server).await;
    client.describe_deployment("d").await.unwrap_err()
}

#[tokio::test]
async fn an_empty_404_keeps_its_status() {
    let error = error_for(ResponseTemplate::new(404)).await;
    match error {
        Error::NotFound(answer) => {
            assert_eq!(answer.message(), "Not Found");
            assert_eq!(answer.request_id(), None);
            assert_eq!(answer.json_body(), None);
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn an_html_502_from_a_proxy_keeps_its_status_and_title() {
    let page = "<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>";
    let error = error_for(ResponseTemplate::new(502).set_body_raw(page, "text/html")).await;
    match &error {
        Error::Http(answer) => {
            assert_eq!(answer.status(), StatusCode::BAD_GATEWAY);
            assert_eq!(answer.message(), "502 Bad Gateway");
        }
        other => panic!("expected Http, got {other:?}"),
    }
}

#[tokio::test]
async fn a_plain_text_error_is_kept_and_truncated() {
    let text = "x".repeat(5000);
    let error = error_for(ResponseTemplate::new(500).set_body_string(text)).await;
    let Error::InternalServerError(answer) = error else { panic!("expected 500") };
    let message = answer.message();
    assert!(message.starts_with("xxx") && message.ends_with('…'), "{message}");
    assert!(message.chars().count() <= 301);
}

#[tokio::test]
async fn json_message_and_structured_detail_are_read() {
    let error = error_for(ResponseTemplate::new(409).set_body_json(json!({"message": "name taken"}))).await;
    assert!(matches!(&error, Error::Conflict(answer) if answer.message() == "name taken"), "{error:?}");
    let error = error_for(
        ResponseTemplate::new(422)
            .set_body_json(json!({"detail": [{"loc": ["body", "name"], "msg": "required"}]})),
    )
    .await;
    assert!(
        matches!(&error, Error::UnprocessableEntity(answer) if answer.message().contains("required")),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_unknown_status_keeps_its_code() {
    let error = error_for(ResponseTemplate::new(429).set_body_json(json!({"message": "slow down"}))).await;
    assert!(
        matches!(&error, Error::Http(answer) if answer.status().as_u16() == 429 && answer.message() == "slow down"),
        "{error:?}"
    );
    let error = error_for(ResponseTemplate::new(418)).await;
    assert_eq!(error.status().map(|s| s.as_u16()), Some(418));
}

#[tokio::test]
async fn a_success_body_that_does_not_match_the_schema_is_a_decode_error_with_its_status() {
    for (template, what) in [
        (ResponseTemplate::new(200).set_body_json(json!({"id": 5, "metadata": "nope"})), "wrong types"),
        (ResponseTemplate::new(200).set_body_raw("{\"id\": \"d\", \"meta", "application/json"), "truncated"),
        (ResponseTemplate::new(200).set_body_raw("<html>oops</html>", "text/html"), "html"),
        (ResponseTemplate::new(203), "empty"),
        (ResponseTemplate::new(200).set_body_raw(vec![0xff, 0xfe, 0x00], "application/json"), "not UTF-8"),
    ] {
        let error = error_for(template).await;
        let Error::Decode { status, message, .. } = &error else {
            panic!("{what}: expected Decode, got {error:?}")
        };
        assert!(status.is_success(), "{what}: {status}");
        assert!(!message.is_empty());
    }
    let error = error_for(ResponseTemplate::new(203)).await;
    assert_eq!(error.status(), Some(StatusCode::NON_AUTHORITATIVE_INFORMATION));
}

#[tokio::test]
async fn path_ids_are_percent_encoded_and_cannot_change_the_path() {
    let (server, client) = server_and_client().await;
    answer_json(&server, 404, json!({"detail": "no"})).await;
    for (id, path) in [
        ("../x", "/v1/apps/specs/..%2Fx"),
        ("a/b?c#d", "/v1/apps/specs/a%2Fb%3Fc%23d"),
        ("100%", "/v1/apps/specs/100%25"),
        ("sp ace", "/v1/apps/specs/sp%20ace"),
    ] {
        let _ = client.describe_spec(id).await;
        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests.last().unwrap().url.path(), path, "id {id:?}");
    }
}

#[tokio::test]
async fn ids_that_encoding_cannot_protect_are_refused_before_sending() {
    let (server, client) = server_and_client().await;
    for id in ["", ".", ".."] {
        let error = client.describe_deployment(id).await.unwrap_err();
        assert!(matches!(error, Error::InvalidRequest { .. }), "{id:?}: {error:?}");
        let error = client.list_deployment_revisions(id).page(1).await.unwrap_err();
        assert!(matches!(error, Error::InvalidRequest { .. }), "{id:?}: {error:?}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn documented_rules_are_checked_before_sending() {
    let (server, client) = server_and_client().await;
    let release = |version: &str| {
        NewRelease::builder()
            .release(peak_press_apps::types::ReleaseInput::builder().version(version).notes("n"))
            .config(vec![])
    };
    let error = client.create_spec_release("s", release("v1")).await.unwrap_err();
    assert!(
        matches!(&error, Error::InvalidRequest { message } if message.contains("semantic version")),
        "{error}"
    );
    let error = client.describe_spec_release("s", "latest").await.unwrap_err();
    assert!(matches!(error, Error::InvalidRequest { .. }));
    let error = client.describe_deployment_revision("d", 0).await.unwrap_err();
    assert!(matches!(error, Error::InvalidRequest { .. }));
    let error = client.list_specs().sort("colour:asc").page(1).await.unwrap_err();
    assert!(matches!(&error, Error::InvalidRequest { message } if message.contains("colour")), "{error}");
    let error = client.list_specs().page_size(0).page(1).await.unwrap_err();
    assert!(matches!(error, Error::InvalidRequest { .. }));
    let error = client.list_specs().page_size(1001).page(1).await.unwrap_err();
    assert!(matches!(error, Error::InvalidRequest { .. }));
    let error = client.list_specs().page(0).await.unwrap_err();
    assert!(matches!(error, Error::InvalidRequest { .. }));
    // A builder missing a required field.
    let incomplete = NewRelease::builder().config(vec![]);
    let error = client.create_spec_release("s", incomplete).await.unwrap_err();
    assert!(matches!(&error, Error::InvalidRequest { message } if message.contains("release")), "{error}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn parameter_defaults_must_match_their_type() {
    use peak_press_apps::types::{ParameterDefinition, ParameterDefinitions, ParameterType};
    let (_server, client) = server_and_client().await;
    let param = |type_: ParameterType, default_value: serde_json::Value| ParameterDefinition {
        name: "p".into(),
        type_,
        required: false,
        default_value: Some(default_value),
        hide_value: None,
        title: None,
        description: None,
        options: vec![],
        conditions: vec![],
    };
    for (type_, value, ok) in [
        (ParameterType::Number, json!("3"), false),
        (ParameterType::Number, json!(3.5), true),
        (ParameterType::StringArray, json!(["a", 1]), false),
        (ParameterType::StringArray, json!(["a", "b"]), true),
        (ParameterType::Boolean, json!(true), true),
        (ParameterType::ObjectArray, json!([{}]), true),
        (ParameterType::Object, json!([]), false),
    ] {
        let release = NewRelease::builder()
            .release(peak_press_apps::types::ReleaseInput::builder().version("1.0.0").notes("n"))
            .config(vec![])
            .parameters(ParameterDefinitions { build: vec![param(type_, value.clone())], run: vec![] });
        let result = client.create_spec_release("s", release).await;
        let refused = matches!(result, Err(Error::InvalidRequest { .. }));
        assert_eq!(refused, !ok, "{type_} with {value}: {result:?}");
    }
}

#[tokio::test]
async fn a_slow_server_is_a_timeout() {
    let server = wiremock::MockServer::start().await;
    Mock::given(matchers::any())
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(server.uri())
        .timeout(Duration::from_millis(200))
        .retry(peak_press_apps::RetryConfig::disabled())
        .build()
        .unwrap();
    let error = client.describe_spec("s").await.unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error_that_says_why() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = Client::builder()
        .token(TOKEN)
        .base_url(url)
        .retry(peak_press_apps::RetryConfig::disabled())
        .build()
        .unwrap();
    let error = client.describe_spec("s").await.unwrap_err();
    assert!(matches!(error, Error::Network(_)), "{error:?}");
    assert!(error.to_string().to_lowercase().contains("refused"), "{error}");
}

#[tokio::test]
async fn a_callers_own_reqwest_client_still_sends_the_token() {
    let server = wiremock::MockServer::start().await;
    answer_json(&server, 200, json!({})).await;
    let client = Client::builder()
        .token("Bearer abc")
        .base_url(server.uri())
        .user_agent("my-tool/1.0")
        .http_client(reqwest::Client::new())
        .build()
        .unwrap();
    client.delete_spec("s").await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(header(&request, "authorization"), Some("Bearer abc"));
    assert_eq!(header(&request, "user-agent"), Some("my-tool/1.0"));
}
