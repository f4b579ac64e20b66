//! Raw HTTP against a running emulator, and validation of its answers against the published
//! document.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use peak_press_apps_emulator::{DOCUMENT, Emulator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub struct Harness {
    pub emulator: Emulator,
    pub http: reqwest::Client,
    pub token: &'static str,
}

impl Harness {
    pub async fn start() -> Self {
        Self::with(Emulator::builder().deploy_delay(Duration::ZERO)).await
    }

    pub async fn with(builder: peak_press_apps_emulator::EmulatorBuilder) -> Self {
        let emulator = builder.start().await.expect("the emulator starts");
        Harness { emulator, http: reqwest::Client::new(), token: "any-token" }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.base_url())
    }

    /// Sends a request with the token and an optional JSON body; returns status and JSON.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_as(self.token, method, path, body).await
    }

    /// Like [`call`](Self::call), with another token.
    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, self.url(path)).header("authorization", token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the emulator answers");
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        (status, value)
    }

    pub async fn create_spec(&self, name: &str, parameters: Value) -> String {
        let spec = json!({
            "version": 1, "kind": "app",
            "metadata": {"name": name, "summary": "s", "title": format!("Title {name}")},
            "release": {"version": "1.0.0", "notes": "first"},
            "config": [{"id": "block-a", "release": {"version": "1.0.0"}}]
        });
        let body = json!({
            "spec": spec.to_string(), "featured": "false", "scope": null,
            "parameters": parameters.to_string()
        });
        let (status, created) = self.call(Method::POST, "/v1/apps/specs/", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["id"].as_str().unwrap().to_owned()
    }

    pub async fn create_deployment(&self, name: &str, spec_id: &str, run: Value) -> String {
        let body = json!({
            "metadata": {"name": name, "summary": "s"},
            "revision": {"notes": "first"},
            "spec": {"id": spec_id},
            "appParameters": {"build": {}, "run": run}
        });
        let (status, created) = self.call(Method::POST, "/v1/apps/deployments/", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["id"].as_str().unwrap().to_owned()
    }

    pub async fn set_status(&self, deployment_id: &str, status: &str) {
        let url = self.url(&format!("/_emulator/deployments/{deployment_id}/status"));
        let response = self.http.post(url).json(&json!({ "status": status })).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}

/// Every read the API offers of the state: both listings in each order, and each spec, release,
/// deployment and revision described and listed.
pub async fn every_read(harness: &Harness) -> Vec<(String, Value)> {
    let mut reads = Vec::new();
    let mut read = |path: String, value: Value| reads.push((path, value));
    for query in ["", "?sort=name:asc", "?pageSize=1&pageNumber=2", "?status=available"] {
        let path = format!("/v1/apps/specs/{query}");
        read(path.clone(), harness.call(Method::GET, &path, None).await.1);
        let path = format!("/v1/apps/deployments/{query}");
        read(path.clone(), harness.call(Method::GET, &path, None).await.1);
    }
    let (_, specs) = harness.call(Method::GET, "/v1/apps/specs/?pageSize=1000", None).await;
    for spec in specs["specs"].as_array().unwrap() {
        let id = spec["id"].as_str().unwrap();
        for path in [format!("/v1/apps/specs/{id}"), format!("/v1/apps/specs/{id}/releases")] {
            read(path.clone(), harness.call(Method::GET, &path, None).await.1);
        }
        let path = format!("/v1/apps/specs/{id}/releases/1.0.0");
        read(path.clone(), harness.call(Method::GET, &path, None).await.1);
    }
    let (_, deployments) = harness.call(Method::GET, "/v1/apps/deployments/?pageSize=1000", None).await;
    for deployment in deployments["deployments"].as_array().unwrap() {
        let id = deployment["id"].as_str().unwrap();
        for path in [
            format!("/v1/apps/deployments/{id}"),
            format!("/v1/apps/deployments/{id}/revisions"),
            format!("/v1/apps/deployments/{id}/revisions/1"),
        ] {
            read(path.clone(), harness.call(Method::GET, &path, None).await.1);
        }
    }
    reads
}

/// A varied state: specs with several releases and scopes, deployments with several revisions, a
/// hidden value, a failed deployment.
pub async fn varied(harness: &Harness) {
    let first = harness.create_spec("alpha", hidden_parameter()).await;
    let second = harness.create_spec("beta", json!({"build": [], "run": []})).await;
    let release = json!({"release": {"version": "1.1.0", "notes": "second"}, "config": [], "parameters": hidden_parameter()});
    let (status, _) =
        harness.call(Method::POST, &format!("/v1/apps/specs/{first}/releases"), Some(release)).await;
    assert_eq!(status, StatusCode::CREATED);
    let update = json!({"scope": "shared", "tenants": ["other"], "metadata": {"title": "Renamed"}});
    harness.call(Method::PATCH, &format!("/v1/apps/specs/{second}"), Some(update)).await;
    let deployed =
        harness.create_deployment("alpha-prod", &first, json!({"secret": "s3cr3t", "replicas": 2})).await;
    let revision = json!({"release": {"version": "1.1.0"}, "revision": {"notes": "again"}, "appParameters": {"build": {}, "run": {"secret": "other", "replicas": 3}}});
    harness.call(Method::POST, &format!("/v1/apps/deployments/{deployed}/revisions"), Some(revision)).await;
    let failed = harness.create_deployment("beta-prod", &second, json!({})).await;
    harness.set_status(&failed, "failed").await;
}

pub fn hidden_parameter() -> Value {
    json!({"build": [], "run": [
        {"name": "secret", "type": "string", "required": true, "defaultValue": "", "hideValue": true},
        {"name": "replicas", "type": "number", "required": false, "defaultValue": 1}
    ]})
}

/// The document's schema for an operation's response with this status, made strict: an object
/// may carry no property the document does not name, so an undocumented field fails.
pub struct Schemas {
    document: Value,
}

impl Schemas {
    pub fn load() -> Self {
        let mut document: Value = serde_json::from_str(DOCUMENT).unwrap();
        for schema in document["components"]["schemas"].as_object_mut().unwrap().values_mut() {
            forbid_extra_properties(schema);
        }
        Schemas { document }
    }

    /// Checks `body` against the response that `operation_id` documents for `status`.
    pub fn check(&self, operation_id: &str, status: StatusCode, body: &Value) {
        let response = self.response(operation_id, status);
        let schema = &response["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "{operation_id} documents no JSON body for {status}");
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.document["components"],
            "allOf": [schema]
        });
        let validator =
            jsonschema::options().should_validate_formats(true).build(&root).expect("a valid schema");
        let errors: Vec<String> =
            validator.iter_errors(body).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(
            errors.is_empty(),
            "{operation_id} {status} does not match the document: {errors:#?}\n{body:#}"
        );
    }

    fn response(&self, operation_id: &str, status: StatusCode) -> Value {
        for item in self.document["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                if operation["operationId"] != operation_id {
                    continue;
                }
                let response = &operation["responses"][status.as_str()];
                assert!(response.is_object(), "{operation_id} does not document status {status}");
                return match response["$ref"].as_str() {
                    Some(pointer) => self.document.pointer(&pointer[1..]).unwrap().clone(),
                    None => response.clone(),
                };
            }
        }
        panic!("no operation {operation_id}");
    }
}

fn forbid_extra_properties(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if object.contains_key("properties") && !object.contains_key("additionalProperties") {
        object.insert("additionalProperties".into(), Value::Bool(false));
    }
    for key in ["properties"] {
        if let Some(Value::Object(properties)) = object.get_mut(key) {
            properties.values_mut().for_each(forbid_extra_properties);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = object.get_mut(key) {
            forbid_extra_properties(inner);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(inner)) = object.get_mut(key) {
            inner.iter_mut().for_each(forbid_extra_properties);
        }
    }
}

/// The binary with `args`, and the URL it announced.
pub fn start_binary(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_press-apps-emulator"))
        .args(["--port", "0", "--deploy-delay-ms", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the emulator starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
    let url = lines
        .find_map(|line| {
            Some(line.split("serving the Press Apps API on ").nth(1)?.split_whitespace().next()?.to_owned())
        })
        .expect("the emulator announces its URL");
    // Its log is read to the end, so that it never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, url)
}
