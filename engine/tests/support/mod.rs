//! What the engine's tests share: an emulator with a client, files as JSON, and the service's
//! state and writes as a test compares them.
#![allow(dead_code)]

use std::{collections::BTreeMap, time::Duration};

use futures::TryStreamExt;
use peak_press_apps::Client;
use peak_press_apps_emulator::Emulator;
use peak_press_apps_engine::{Action, ApplyReport, DesiredState, Options, Plan, apply, plan};
use serde_json::{Value, json};

pub async fn emulator() -> (Emulator, Client) {
    let emulator = Emulator::builder().deploy_delay(Duration::ZERO).start().await.unwrap();
    let client = Client::builder().token("t").base_url(emulator.base_url()).build().unwrap();
    (emulator, client)
}

pub fn spec(name: &str, version: &str, title: &str) -> Value {
    json!({
        "body": {
            "version": 1, "kind": "app",
            "metadata": {"name": name, "title": title, "summary": "s", "tags": [{"name": "ml"}]},
            "release": {"version": version, "notes": "n"},
            "config": [{"id": "block-a", "release": {"version": "1.0.0"}}]
        },
        "featured": false,
        "parameters": {"build": [], "run": [
            {"name": "replicas", "type": "number", "required": false, "defaultValue": 1},
            {"name": "region", "type": "string", "required": false, "defaultValue": "eu"},
            {"name": "api_key", "type": "string", "required": false, "defaultValue": "", "hideValue": true}
        ]}
    })
}

pub fn deployment(name: &str, spec: &str, replicas: i64, api_key: &str) -> Value {
    json!({"body": {
        "metadata": {"name": name, "title": "T", "summary": "s"},
        "spec": {"name": spec},
        "appParameters": {"build": {}, "run": {"replicas": replicas, "api_key": api_key}},
        "revision": {"notes": "from the files"}
    }})
}

pub fn desired(specs: &[Value], deployments: &[Value]) -> DesiredState {
    DesiredState {
        specs: specs.iter().map(|s| serde_json::from_value(s.clone()).unwrap()).collect(),
        deployments: deployments.iter().map(|d| serde_json::from_value(d.clone()).unwrap()).collect(),
    }
}

pub fn owned(owner: &str) -> Options {
    Options { owner: Some(owner.to_owned()), ..Options::default() }
}

pub async fn converge(client: &Client, desired: &DesiredState, options: &Options) -> (Plan, ApplyReport) {
    let plan = plan(client, desired, options).await.unwrap();
    let report = apply(client, client, &plan, options, &|_| {}).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    (plan, report)
}

pub fn actions(plan: &Plan, name: &str) -> Vec<Action> {
    plan.resources.iter().find(|c| c.name == name).map(|c| c.actions()).unwrap_or_default()
}

/// Everything the service holds, without ids and times: specs with every release, deployments
/// with every revision.
pub async fn state(client: &Client) -> BTreeMap<String, Value> {
    let mut state = BTreeMap::new();
    let specs: Vec<_> = client.list_specs().items().try_collect().await.unwrap();
    for spec in specs {
        let releases: Vec<_> = client.list_spec_releases(&spec.id).items().try_collect().await.unwrap();
        let versions: Vec<_> = releases.iter().map(|r| r.version.clone()).collect();
        let tags: Vec<_> = spec.metadata.tags.iter().map(|t| t.name.clone()).collect();
        state.insert(
            format!("spec {}", spec.metadata.name),
            json!({"title": spec.metadata.title, "tags": tags, "releases": versions}),
        );
    }
    let deployments: Vec<_> = client.list_deployments().items().try_collect().await.unwrap();
    for deployment in deployments {
        let revisions: Vec<_> =
            client.list_deployment_revisions(&deployment.id).items().try_collect().await.unwrap();
        let revisions: Vec<Value> = revisions
            .iter()
            .map(|r| json!({"revision": r.revision, "release": r.spec.as_ref().and_then(|s| s.release.clone()), "parameters": r.parameters}))
            .collect();
        state.insert(
            format!("deployment {}", deployment.metadata.name),
            json!({"title": deployment.metadata.title, "revisions": revisions}),
        );
    }
    state
}

pub fn writes(emulator: &Emulator) -> Vec<String> {
    emulator
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}
