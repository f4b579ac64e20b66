//! The client against the emulator on loopback: every operation end to end, and every rule of
//! the service as a typed error.

mod common;

use std::time::Duration;

use futures::TryStreamExt;
use peak_press_apps::{
    Client, DeploymentStatus, Error, ParameterValue, RevisionStatus, SpecScope, SpecStatus,
    types::{
        AppParameters, DeploymentMetadataUpdate, DeploymentSpecRef, NewDeployment, NewDeploymentMetadata,
        NewRelease, NewRevision, NewSpec, NewSpecMetadata, ParameterDefinition, ParameterDefinitions,
        ParameterType, ReleaseInput, RevisionInput, SpecMetadataUpdate, SpecSortKey, SpecUpdate, VersionRef,
    },
};
use peak_press_apps_emulator::{Emulator, EmulatorBuilder, EmulatorDeploymentStatus, MASK};
use serde_json::json;

async fn start(builder: EmulatorBuilder) -> (Emulator, Client) {
    let emulator = builder.start().await.unwrap();
    let client = Client::builder().token("writer").base_url(emulator.base_url()).build().unwrap();
    (emulator, client)
}

async fn instant() -> (Emulator, Client) {
    start(Emulator::builder().deploy_delay(Duration::ZERO)).await
}

fn spec(name: &str) -> peak_press_apps::types::builder::NewSpec {
    NewSpec::builder()
        .metadata(NewSpecMetadata::builder().name(name).summary("s").title(format!("Title {name}")))
        .release(ReleaseInput::builder().version("1.0.0").notes("first"))
        .config(vec![])
}

fn parameters() -> ParameterDefinitions {
    let param = |name: &str, type_, default_value, hide| ParameterDefinition {
        name: name.into(),
        type_,
        required: false,
        default_value: Some(default_value),
        hide_value: Some(hide),
        title: None,
        description: None,
        options: vec![],
        conditions: vec![],
    };
    ParameterDefinitions {
        build: vec![param("region", ParameterType::String, json!("eu"), false)],
        run: vec![
            param("api_key", ParameterType::String, json!(""), true),
            param("replicas", ParameterType::Number, json!(1), false),
        ],
    }
}

fn deployment(name: &str, spec_id: &str) -> peak_press_apps::types::builder::NewDeployment {
    NewDeployment::builder()
        .metadata(NewDeploymentMetadata::builder().name(name).summary("s"))
        .revision(RevisionInput::builder().notes("first"))
        .spec(DeploymentSpecRef::builder().id(spec_id))
}

fn run_values(values: &[(&str, ParameterValue)]) -> AppParameters {
    AppParameters {
        build: Default::default(),
        run: values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
    }
}

#[tokio::test]
async fn the_whole_lifecycle_through_every_operation() {
    let (emulator, client) = instant().await;

    let spec_id = client.create_spec(spec("churn")).parameters(parameters()).featured(true).await.unwrap().id;
    let described = client.describe_spec(&spec_id).await.unwrap();
    assert_eq!(described.metadata.name, "churn");
    assert_eq!(described.metadata.status, Some(SpecStatus::Available));
    assert_eq!(described.featured, Some(true));
    assert_eq!(described.latest_release.unwrap().version, "1.0.0");

    let update = SpecUpdate::builder().metadata(SpecMetadataUpdate::builder().summary("better summary"));
    let updated = client.update_spec_metadata(&spec_id, update).await.unwrap();
    assert_eq!(updated.metadata.summary.as_deref(), Some("better summary"));
    assert_eq!(updated.metadata.title.as_deref(), Some("Title churn"), "PATCH keeps what it is not given");

    let release = |version: &str| {
        NewRelease::builder()
            .release(ReleaseInput::builder().version(version).notes("n"))
            .config(vec![])
            .parameters(parameters())
    };
    let created = client.create_spec_release(&spec_id, release("1.1.0")).await.unwrap();
    assert_eq!(created.release.version, "1.1.0");
    let error = client.create_spec_release(&spec_id, release("1.0.5")).await.unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    let described = client.describe_spec_release(&spec_id, "1.1.0").await.unwrap();
    assert_eq!(described.parameters.unwrap().run[0].name, "api_key");
    let versions: Vec<_> = client
        .list_spec_releases(&spec_id)
        .items()
        .map_ok(|r| r.version.unwrap())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(versions, ["1.1.0", "1.0.0"], "newest first");
    let error = client.describe_spec_release(&spec_id, "9.9.9").await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");

    let new = deployment("churn-prod", &spec_id)
        .app_parameters(run_values(&[("api_key", "hunter2".into()), ("replicas", 3.into())]));
    let deployment_id = client.create_deployment(new).await.unwrap().id;
    let described = client.describe_deployment(&deployment_id).await.unwrap();
    assert_eq!(described.metadata.status, Some(DeploymentStatus::Deployed));
    assert_eq!(described.spec.unwrap().release.unwrap().version, "1.1.0", "the latest release by default");

    let revision = NewRevision::builder()
        .release(VersionRef { version: "1.0.0".into() })
        .revision(RevisionInput { notes: "roll back".into() })
        .app_parameters(run_values(&[("api_key", "s3cret".into())]));
    let created = client.create_deployment_revision(&deployment_id, revision).await.unwrap();
    assert_eq!(created.revision, 2);
    let second = client.describe_deployment_revision(&deployment_id, 2).await.unwrap();
    let run = second.parameters.unwrap().run;
    assert_eq!(run["api_key"], ParameterValue::String(MASK.into()), "hidden values are masked");
    let revisions: Vec<_> =
        client.list_deployment_revisions(&deployment_id).items().try_collect().await.unwrap();
    let summary: Vec<_> = revisions.iter().map(|r| (r.revision, r.status.clone().unwrap())).collect();
    assert_eq!(summary, [(2, RevisionStatus::Deployed), (1, RevisionStatus::Superseded)]);
    let first_run = revisions[1].parameters.clone().unwrap().run;
    assert_eq!(first_run["api_key"], ParameterValue::String(MASK.into()));
    assert_eq!(first_run["replicas"], ParameterValue::Integer(3), "other values come back as given");
    let error = client.describe_deployment_revision(&deployment_id, 3).await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)));

    let update = DeploymentMetadataUpdate::builder().title("Churn (prod)");
    let updated = client.update_deployment_metadata(&deployment_id, update).await.unwrap();
    assert_eq!(updated.metadata.title.as_deref(), Some("Churn (prod)"));
    assert_eq!(updated.metadata.name, "churn-prod");

    let error = client.redeploy(&deployment_id).await.unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "a deployed deployment cannot be redeployed: {error:?}");
    emulator.set_deployment_status(&deployment_id, EmulatorDeploymentStatus::Failed).unwrap();
    let redeployed = client.redeploy(&deployment_id).await.unwrap();
    assert_eq!((redeployed.deployment_id.as_str(), redeployed.revision), (deployment_id.as_str(), 2));
    assert_eq!(redeployed.revision_id, second.id);
    let listed: Vec<_> = client.list_deployments().items().try_collect().await.unwrap();
    assert_eq!(listed.len(), 1, "redeploy creates no revision and no deployment");

    let error = client.delete_spec(&spec_id).await.unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "a deployed spec cannot be deleted: {error:?}");
    client.delete_deployment(&deployment_id).await.unwrap();
    let error = client.describe_deployment(&deployment_id).await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    client.delete_spec(&spec_id).await.unwrap();
    let error = client.describe_spec(&spec_id).await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)));
}

#[tokio::test]
async fn deploying_and_deleting_take_the_deploy_delay() {
    // A second is margin enough for the checks made before it passes, even on a loaded machine.
    let delay = Duration::from_secs(1);
    let (_emulator, client) = start(Emulator::builder().deploy_delay(delay)).await;
    let spec_id = client.create_spec(spec("slow")).await.unwrap().id;
    let id = client.create_deployment(deployment("slow-dep", &spec_id)).await.unwrap().id;
    let status = |d: peak_press_apps::types::Deployment| d.metadata.status.unwrap();
    let created = std::time::Instant::now();
    assert_eq!(status(client.describe_deployment(&id).await.unwrap()), DeploymentStatus::Deploying);
    // Polled until it changes, with a deadline: the change comes no sooner than the delay.
    let until = |expected: fn(&Result<peak_press_apps::types::Deployment, Error>) -> bool| {
        let (client, id) = (client.clone(), id.clone());
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                let described = client.describe_deployment(&id).await;
                if expected(&described) {
                    return;
                }
                assert!(std::time::Instant::now() < deadline, "still {described:?}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    until(|d| matches!(d, Ok(d) if d.metadata.status == Some(DeploymentStatus::Deployed))).await;
    assert!(created.elapsed() >= delay, "deployed after {:?}, before the delay", created.elapsed());
    client.delete_deployment(&id).await.unwrap();
    let deleted = std::time::Instant::now();
    assert_eq!(status(client.describe_deployment(&id).await.unwrap()), DeploymentStatus::Deleting);
    let error = client.delete_spec(&spec_id).await.unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "a deleting deployment still holds its spec");
    until(|d| matches!(d, Err(Error::NotFound(_)))).await;
    assert!(deleted.elapsed() >= delay, "gone after {:?}, before the delay", deleted.elapsed());
}

#[tokio::test]
async fn listings_filter_sort_count_and_page() {
    let (_emulator, client) = instant().await;
    for i in 0..30 {
        let mut request = client.create_spec(spec(&format!("spec-{i:02}")));
        if i % 3 == 0 {
            request = request.featured(true).scope(SpecScope::Public);
        }
        request.await.unwrap();
    }
    let ids: Vec<_> = client.list_specs().items().map_ok(|s| s.metadata.name).try_collect().await.unwrap();
    let newest_first: Vec<_> = (0..30).rev().map(|i| format!("spec-{i:02}")).collect();
    assert_eq!(ids, newest_first);

    let first = client.list_specs().page(1).await.unwrap();
    assert_eq!((first.items.len(), first.page_size, first.page_count, first.total), (25, 25, 2, 30));
    let past_end = client.list_specs().page(3).await.unwrap();
    assert!(past_end.items.is_empty());
    assert_eq!(past_end.total, 30);

    let featured =
        client.list_specs().featured(true).scope(SpecScope::Public).page_size(4).page(1).await.unwrap();
    assert_eq!((featured.total, featured.page_count), (10, 3), "counts reflect the filters");
    let names: Vec<_> = client
        .list_specs()
        .name("spec-1")
        .sort(SpecSortKey::NameDesc) // typed keys and their text are both accepted
        .items()
        .map_ok(|s| s.metadata.name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(names, (10..20).rev().map(|i| format!("spec-{i}")).collect::<Vec<_>>());
    // A bare field sorts ascending, as the official CLI's help shows (`name:asc,title`).
    let names: Vec<_> = client
        .list_specs()
        .name("spec-1")
        .sort("name")
        .items()
        .map_ok(|s| s.metadata.name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(names, (10..20).map(|i| format!("spec-{i}")).collect::<Vec<_>>());
    let by_title = client.list_specs().title("Title spec-2").page(1).await.unwrap();
    assert_eq!(by_title.total, 10);

    let archived = client.list_specs().status(SpecStatus::Archived).page(1).await.unwrap();
    assert_eq!((archived.total, archived.page_count, archived.items.len()), (0, 0, 0));
    let any = client.list_specs().items().try_next().await.unwrap().unwrap();
    let archive = SpecUpdate::builder().metadata(SpecMetadataUpdate::builder().status(SpecStatus::Archived));
    client.update_spec_metadata(&any.id, archive).await.unwrap();
    let archived: Vec<_> =
        client.list_specs().status(SpecStatus::Archived).items().try_collect().await.unwrap();
    assert_eq!(archived.iter().map(|s| &s.id).collect::<Vec<_>>(), [&any.id]);
}

#[tokio::test]
async fn names_are_unique_and_references_must_exist() {
    let (_emulator, client) = instant().await;
    let spec_id = client.create_spec(spec("unique")).await.unwrap().id;
    let error = client.create_spec(spec("unique")).await.unwrap_err();
    assert!(matches!(&error, Error::Conflict(answer) if answer.message().contains("unique")), "{error:?}");

    client.create_deployment(deployment("dep", &spec_id)).await.unwrap();
    let error = client.create_deployment(deployment("dep", &spec_id)).await.unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    let error = client.create_deployment(deployment("other", "no-such-spec")).await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    let pinned = deployment("pinned", &spec_id).spec(
        DeploymentSpecRef::builder().id(spec_id.clone()).release(VersionRef { version: "2.0.0".into() }),
    );
    let error = client.create_deployment(pinned).await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "an unknown release: {error:?}");
    let wrong_type = deployment("typed", &spec_id).app_parameters(run_values(&[("nope", true.into())]));
    let error = client.create_deployment(wrong_type).await.unwrap_err();
    assert!(matches!(error, Error::UnprocessableEntity(_)), "an undefined parameter: {error:?}");
}

#[tokio::test]
async fn tokens_are_checked_and_read_only_tokens_cannot_write() {
    let (emulator, writer) = start(Emulator::builder().token("writer").read_only_token("reader")).await;
    let as_token =
        |token: &str| Client::builder().token(token).base_url(emulator.base_url()).build().unwrap();
    writer.create_spec(spec("guarded")).await.unwrap();
    let reader = as_token("reader");
    assert_eq!(reader.list_specs().page(1).await.unwrap().total, 1);
    let error = reader.create_spec(spec("nope")).await.unwrap_err();
    assert!(matches!(error, Error::Forbidden(_)), "{error:?}");
    let error = as_token("stranger").list_specs().page(1).await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");
}

#[tokio::test]
async fn an_oversized_body_is_payload_too_large() {
    let (_emulator, client) = start(Emulator::builder().body_limit(2048)).await;
    let long = NewSpec::builder()
        .metadata(NewSpecMetadata::builder().name("big").summary("s").description("x".repeat(4096)))
        .release(ReleaseInput::builder().version("1.0.0").notes("n"))
        .config(vec![]);
    let error = client.create_spec(long).await.unwrap_err();
    assert!(
        matches!(&error, Error::PayloadTooLarge(answer) if answer.message().contains("2048")),
        "{error:?}"
    );
}
