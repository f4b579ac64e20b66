//! Each of the 17 operations on the wire: method, path, query, headers and body as a wiremock
//! server on loopback receives them, and the documented response decoded.

mod common;

use common::*;
use peak_press_apps::{
    DeploymentStatus, ParameterValue, RevisionStatus, SpecScope, SpecStatus,
    types::{
        AppParameters, BlockConfig, DeploymentMetadataUpdate, DeploymentSpecRef, NewDeployment,
        NewDeploymentMetadata, NewRelease, NewRevision, NewSpec, NewSpecMetadata, ParameterDefinition,
        ParameterDefinitions, ParameterType, ReleaseInput, RevisionInput, SpecMetadataUpdate, SpecUpdate,
        VersionRef,
    },
};
use serde_json::json;

fn new_spec() -> peak_press_apps::types::builder::NewSpec {
    NewSpec::builder()
        .metadata(NewSpecMetadata::builder().name("churn").summary("Predicts churn").title("Churn"))
        .release(ReleaseInput::builder().version("1.0.0").notes("first"))
        .config(vec![
            BlockConfig::builder()
                .id("block-1")
                .release(VersionRef::builder().version("2.1.0"))
                .auto_run_on_deploy(true)
                .try_into()
                .unwrap(),
        ])
}

fn parameters() -> ParameterDefinitions {
    ParameterDefinitions {
        build: vec![],
        run: vec![ParameterDefinition {
            name: "secret".into(),
            type_: ParameterType::String,
            required: true,
            default_value: Some(json!("x")),
            hide_value: Some(true),
            title: None,
            description: None,
            options: vec![],
            conditions: vec![],
        }],
    }
}

#[tokio::test]
async fn list_specs_sends_every_filter_and_decodes_the_page() {
    let (server, client) = server_and_client().await;
    answer_json(
        &server,
        200,
        json!({"specs": [spec_json("s1", "alpha")], "specCount": 1, "pageCount": 1, "pageNumber": 2, "pageSize": 10}),
    )
    .await;

    let page = client
        .list_specs()
        .status(SpecStatus::Available)
        .status(SpecStatus::Archived)
        .featured(true)
        .name("al")
        .title("A t")
        .sort("name:asc")
        .sort("createdAt:desc")
        .scope(SpecScope::Private)
        .scope(SpecScope::Shared)
        .page_size(10)
        .page(2)
        .await
        .unwrap();

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/v1/apps/specs/");
    assert_eq!(
        request.url.query(),
        Some(
            "featured=true&name=al&pageNumber=2&pageSize=10&scope=private&scope=shared\
             &sort=name%3Aasc&sort=createdAt%3Adesc&status=available&status=archived&title=A+t"
        )
    );
    assert_eq!(header(&request, "authorization"), Some(TOKEN));
    assert_eq!(page.total, 1);
    assert_eq!(page.page_number, 2);
    assert_eq!(page.items[0].id, "s1");
    assert_eq!(page.items[0].metadata.name, "alpha");
    assert_eq!(page.items[0].metadata.status, Some(SpecStatus::Available));
    assert_eq!(page.items[0].latest_release.as_ref().unwrap().version, "1.0.0");
}

#[tokio::test]
async fn create_spec_encodes_the_services_string_fields() {
    let (server, client) = server_and_client().await;
    answer_json(&server, 201, json!({"id": "new-spec"})).await;

    let created = client
        .create_spec(new_spec())
        .featured(true)
        .scope(SpecScope::Shared)
        .tenants(["tenant-a", "tenant-b"])
        .parameters(parameters())
        .await
        .unwrap();
    assert_eq!(created.id, "new-spec");

    let request = only_request(&server).await;
    assert_eq!((request.method.as_str(), request.url.path()), ("POST", "/v1/apps/specs/"));
    assert_eq!(header(&request, "content-type"), Some("application/json"));
    let body = body_json(&request);
    assert_eq!(body["featured"], "true");
    assert_eq!(body["scope"], "shared");
    let spec: serde_json::Value = serde_json::from_str(body["spec"].as_str().unwrap()).unwrap();
    assert_eq!(
        spec,
        json!({
            "version": 1, "kind": "app",
            "metadata": {"name": "churn", "summary": "Predicts churn", "title": "Churn"},
            "release": {"version": "1.0.0", "notes": "first"},
            "config": [{"id": "block-1", "release": {"version": "2.1.0"}, "autoRunOnDeploy": true}]
        })
    );
    let tenants: serde_json::Value = serde_json::from_str(body["tenants"].as_str().unwrap()).unwrap();
    assert_eq!(tenants, json!(["tenant-a", "tenant-b"]));
    let params: serde_json::Value = serde_json::from_str(body["parameters"].as_str().unwrap()).unwrap();
    assert_eq!(
        params,
        json!({"run": [{"name": "secret", "type": "string", "required": true, "defaultValue": "x", "hideValue": true}]})
    );
}

#[tokio::test]
async fn create_spec_without_options_sends_the_sdks_nulls_and_no_tenants() {
    let (server, client) = server_and_client().await;
    answer_json(&server, 200, json!({"id": "s"})).await;
    client.create_spec(new_spec()).await.unwrap();
    let body = body_json(&only_request(&server).await);
    assert_eq!(body["featured"], "null");
    assert_eq!(body["scope"], serde_json::Value::Null);
    assert_eq!(body["parameters"], "null");
    assert!(body.get("tenants").is_none(), "tenants must be left out when empty: {body}");
}

#[tokio::test]
async fn describe_spec_decodes_and_tolerates_new_fields_and_statuses() {
    let (server, client) = server_and_client().await;
    let mut spec = spec_json("abc", "alpha");
    spec["metadata"]["status"] = json!("quarantined");
    spec["somethingNew"] = json!({"nested": true});
    answer_json(&server, 200, spec).await;

    let spec = client.describe_spec("abc").await.unwrap();
    let status = spec.metadata.status.unwrap();
    assert!(matches!(&status, SpecStatus::Unknown(value) if value.as_str() == "quarantined"), "{status:?}");
    assert_eq!(status, SpecStatus::from("quarantined"), "the same text makes the same value");
    assert_eq!(SpecStatus::from("available"), SpecStatus::Available, "a known text is never unknown");
    assert_eq!(serde_json::to_value(&status).unwrap(), json!("quarantined"), "sent back as it came");
    assert_eq!(spec.scope, Some(SpecScope::Private));
    let request = only_request(&server).await;
    assert_eq!((request.method.as_str(), request.url.path()), ("GET", "/v1/apps/specs/abc"));
    assert_eq!(request.url.query(), None);
}

#[tokio::test]
async fn update_spec_metadata_patches_only_given_fields() {
    let (server, client) = server_and_client().await;
    answer_json(&server, 200, spec_json("abc", "renamed")).await;
    let update = SpecUpdate::builder()
        .metadata(SpecMetadataUpdate::builder().name("renamed").status(SpecStatus::Unavailable))
        .featured(false);
    let spec = client.update_spec_metadata("abc", update).await.unwrap();
    assert_eq!(spec.metadata.name, "renamed");
    let request = only_request(&server).await;
    assert_eq!((request.method.as_str(), request.url.path()), ("PATCH", "/v1/apps/specs/abc"));
    assert_eq!(
        body_json(&request),
        json!({"metadata": {"name": "renamed", "status": "unavailable"}, "featured": false})
    );
}

#[tokio::test]
async fn delete_spec_sends_delete() {
    let (server, client) = server_and_client().await;
    answer_json(&server, 200, json!({})).await;
    client.delete_spec("abc").await.unwrap();
    let request = only_request(&server).await;
    assert_eq!((request.method.as_str(), request.url.path()), ("DELETE", "/v1/apps/specs/abc"));
}

#[tokio::test]
async fn create_spec_release_always_sends_parameters() {
    let (server, client) = server_and_client().await;
    answer_json(&server, 201, json!({"id": "abc", "release": {"version": "1.1.0"}})).await;
    let release =
        NewRelease::builder().release(ReleaseInput::builder().version("1.1.0").notes("more")).config(vec![]);
    let created = client.create_spec_release("abc", release).await.unwrap();
    assert_eq!(created.release.version, "1.1.0");
    let request = only_request(&server).await;
    assert_eq!((request.method.as_str(), request.url.path()), ("POST", "/v1/apps/specs/abc/releases"));
    assert_eq!(
        body_json(&request),
        json!({"release": {"version": "1.1.0", "notes": "more"}, "config": [], "parameters": null})
    );
}

#[tokio::test]
async fn describe_spec_release_puts_the_version_in_the_path() {
    let (server, client) = server_and_client().await;
    answer_json(
        &server,
        200,
        json!({"id": "r", "notes": "n", "config": [{"id": "b", "release": {"version": "1.0.0"}}],
               "parameters": {"build": [], "run": [{"name": "p", "type": "number", "required": false, "defaultValue": 3}]}}),
    )
    .await;
    let release = client.describe_spec_release("abc", "1.2.3-beta.1").await.unwrap();
    assert_eq!(release.parameters.unwrap().run[0].default_value, Some(json!(3)));
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/v1/apps/specs/abc/releases/1.2.3-beta.1");
}

#[tokio::test]
async fn list_spec_releases_sends_sort_and_reads_releases() {
    let (server, client) = server_and_client().await;
    answer_json(
        &server,
        200,
        json!({"releases": [{"id": "r", "version": "1.0.0"}], "releaseCount": 1, "pageCount": 1, "pageNumber": 1, "pageSize": 25}),
    )
    .await;
    let page = client.list_spec_releases("abc").sort("createdBy:asc").page(1).await.unwrap();
    assert_eq!(page.items[0].version.as_deref(), Some("1.0.0"));
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/v1/apps/specs/abc/releases");
    assert_eq!(request.url.query(), Some("pageNumber=1&sort=createdBy%3Aasc"));
}

#[tokio::test]
async fn create_deployment_sends_typed_parameter_values() {
    let (server, client) = server_and_client().await;
    answer_json(&server, 201, json!({"id": "dep"})).await;
    let mut run = serde_json::Map::new();
    run.insert("replicas".into(), json!(3));
    let deployment = NewDeployment::builder()
        .metadata(NewDeploymentMetadata::builder().name("prod-churn").summary("s"))
        .revision(RevisionInput::builder().notes("first"))
        .spec(DeploymentSpecRef::builder().id("abc").release(VersionRef { version: "1.0.0".into() }))
        .app_parameters(AppParameters {
            build: [("flag".to_owned(), ParameterValue::from(true))].into(),
            run: [
                ("replicas".to_owned(), ParameterValue::from(3)),
                ("ratio".to_owned(), ParameterValue::from(0.5)),
                ("zones".to_owned(), ParameterValue::from(vec!["a", "b"])),
            ]
            .into(),
        });
    let created = client.create_deployment(deployment).await.unwrap();
    assert_eq!(created.id, "dep");
    let request = only_request(&server).await;
    assert_eq!((request.method.as_str(), request.url.path()), ("POST", "/v1/apps/deployments/"));
    assert_eq!(
        body_json(&request),
        json!({
            "metadata": {"name": "prod-churn", "summary": "s"},
            "revision": {"notes": "first"},
            "spec": {"id": "abc", "release": {"version": "1.0.0"}},
            "appParameters": {"build": {"flag": true}, "run": {"replicas": 3, "ratio": 0.5, "zones": ["a", "b"]}}
        })
    );
}

#[tokio::test]
async fn list_deployments_sends_filters() {
    let (server, client) = server_and_client().await;
    answer_json(
        &server,
        200,
        json!({"deployments": [deployment_json("d", "n", "failed")], "deploymentCount": 1, "pageCount": 1, "pageNumber": 1, "pageSize": 50}),
    )
    .await;
    let page = client
        .list_deployments()
        .status(DeploymentStatus::Failed)
        .status(DeploymentStatus::Warning)
        .name("pro")
        .sort("title:desc")
        .page_size(50)
        .page(1)
        .await
        .unwrap();
    assert_eq!(page.items[0].metadata.status, Some(DeploymentStatus::Failed));
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/v1/apps/deployments/");
    assert_eq!(
        request.url.query(),
        Some("name=pro&pageNumber=1&pageSize=50&sort=title%3Adesc&status=failed&status=warning")
    );
}

#[tokio::test]
async fn describe_deployment_decodes_the_latest_revision() {
    let (server, client) = server_and_client().await;
    answer_json(&server, 200, deployment_json("d1", "prod", "deployed")).await;
    let deployment = client.describe_deployment("d1").await.unwrap();
    let latest = deployment.latest_revision.unwrap();
    assert_eq!(latest.revision, 1);
    assert_eq!(latest.status, Some(RevisionStatus::Deployed));
    assert_eq!(latest.blocks[0].platform_id.as_deref(), Some("p1"));
    assert_eq!(only_request(&server).await.url.path(), "/v1/apps/deployments/d1");
}

#[tokio::test]
async fn update_deployment_metadata_sends_fields_at_the_top_level() {
    let (server, client) = server_and_client().await;
    answer_json(&server, 200, deployment_json("d1", "prod", "deployed")).await;
    let update = DeploymentMetadataUpdate::builder().summary("new summary".to_owned()).title("T".to_owned());
    client.update_deployment_metadata("d1", update).await.unwrap();
    let request = only_request(&server).await;
    assert_eq!((request.method.as_str(), request.url.path()), ("PATCH", "/v1/apps/deployments/d1"));
    assert_eq!(body_json(&request), json!({"summary": "new summary", "title": "T"}));
}

#[tokio::test]
async fn delete_deployment_sends_delete() {
    let (server, client) = server_and_client().await;
    answer_json(&server, 200, json!({})).await;
    client.delete_deployment("d1").await.unwrap();
    let request = only_request(&server).await;
    assert_eq!((request.method.as_str(), request.url.path()), ("DELETE", "/v1/apps/deployments/d1"));
}

#[tokio::test]
async fn redeploy_posts_and_decodes_the_revision() {
    let (server, client) = server_and_client().await;
    answer_json(&server, 200, json!({"deploymentId": "d1", "revision": 2, "revisionId": "rev-2"})).await;
    let redeployed = client.redeploy("d1").await.unwrap();
    assert_eq!((redeployed.revision, redeployed.revision_id.as_str()), (2, "rev-2"));
    let request = only_request(&server).await;
    assert_eq!((request.method.as_str(), request.url.path()), ("POST", "/v1/apps/deployments/d1/redeploy"));
}

#[tokio::test]
async fn create_deployment_revision_sends_the_release_and_notes() {
    let (server, client) = server_and_client().await;
    answer_json(&server, 201, json!({"id": "rev-2", "revision": 2})).await;
    let revision = NewRevision::builder()
        .release(VersionRef { version: "1.1.0".into() })
        .revision(RevisionInput { notes: "bump".into() });
    let created = client.create_deployment_revision("d1", revision).await.unwrap();
    assert_eq!(created.revision, 2);
    let request = only_request(&server).await;
    assert_eq!((request.method.as_str(), request.url.path()), ("POST", "/v1/apps/deployments/d1/revisions"));
    assert_eq!(body_json(&request), json!({"release": {"version": "1.1.0"}, "revision": {"notes": "bump"}}));
}

#[tokio::test]
async fn describe_deployment_revision_decodes_parameter_values() {
    let (server, client) = server_and_client().await;
    answer_json(&server, 200, revision_json(3)).await;
    let revision = client.describe_deployment_revision("d1", 3).await.unwrap();
    let parameters = revision.parameters.unwrap();
    assert_eq!(parameters.run["replicas"], ParameterValue::Integer(3));
    assert_eq!(parameters.run["secret"], ParameterValue::String("********".into()));
    assert_eq!(only_request(&server).await.url.path(), "/v1/apps/deployments/d1/revisions/3");
}

#[tokio::test]
async fn list_deployment_revisions_reads_the_revisions_key() {
    let (server, client) = server_and_client().await;
    answer_json(
        &server,
        200,
        json!({"revisions": [revision_json(2), revision_json(1)], "revisionCount": 2, "pageCount": 1, "pageNumber": 1, "pageSize": 25}),
    )
    .await;
    let page = client
        .list_deployment_revisions("d1")
        .status(RevisionStatus::Deployed)
        .sort("createdAt:asc")
        .page(1)
        .await
        .unwrap();
    assert_eq!(page.items.iter().map(|r| r.revision).collect::<Vec<_>>(), [2, 1]);
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/v1/apps/deployments/d1/revisions");
    assert_eq!(request.url.query(), Some("pageNumber=1&sort=createdAt%3Aasc&status=deployed"));
}

#[tokio::test]
async fn answers_keep_their_empty_lists_when_serialized_and_requests_leave_unset_ones_out() {
    let (server, client) = server_and_client().await;
    let mut sent = spec_json("abc", "empty-lists");
    sent["tenants"] = json!([]);
    sent["metadata"]["tags"] = json!([]);
    answer_json(&server, 200, sent).await;
    let spec = client.describe_spec("abc").await.unwrap();
    let printed = serde_json::to_value(&spec).unwrap();
    assert_eq!(printed["tenants"], json!([]), "as the service sent it: {printed}");
    assert_eq!(printed["metadata"]["tags"], json!([]), "{printed}");
    // A PATCH that does not name the tenants must not clear them.
    let update: SpecUpdate = SpecUpdate::builder().featured(true).try_into().unwrap();
    assert_eq!(serde_json::to_value(&update).unwrap(), json!({"featured": true}));
}

#[tokio::test]
async fn set_twins_take_options_where_a_caller_holds_one() {
    let (server, client) = server_and_client().await;
    answer_json(
        &server,
        200,
        json!({"specs": [], "specCount": 0, "pageCount": 0, "pageNumber": 1, "pageSize": 5}),
    )
    .await;
    let (held_name, held_title): (Option<String>, Option<String>) = (None, Some("Ch".into()));
    client
        .list_specs()
        .set_featured(Some(false))
        .set_name(held_name)
        .set_title(held_title)
        .set_page_size(Some(5))
        .page(1)
        .await
        .unwrap();
    let request = only_request(&server).await;
    assert_eq!(request.url.query(), Some("featured=false&pageNumber=1&pageSize=5&title=Ch"));

    let (server, client) = server_and_client().await;
    answer_json(&server, 200, json!({"id": "s"})).await;
    client
        .create_spec(new_spec())
        .set_featured(Some(true))
        .set_scope(None)
        .set_parameters(Some(parameters()))
        .await
        .unwrap();
    let body = body_json(&only_request(&server).await);
    assert_eq!((body["featured"].as_str(), &body["scope"]), (Some("true"), &serde_json::Value::Null));
    assert_ne!(body["parameters"], "null");

    // The generated builders have them too, added by the build script.
    let (server, client) = server_and_client().await;
    answer_json(&server, 200, spec_json("abc", "renamed")).await;
    let held_status: Option<SpecStatus> = None;
    let update = SpecUpdate::builder()
        .metadata(SpecMetadataUpdate::builder().set_title(Some("T".into())).set_status(held_status))
        .set_featured(None)
        .set_scope(Some(SpecScope::Public));
    client.update_spec_metadata("abc", update).await.unwrap();
    assert_eq!(
        body_json(&only_request(&server).await),
        json!({"metadata": {"title": "T"}, "scope": "public"})
    );
}
