//! Waiters against the emulator with a deploy delay: a deployment that becomes deployed, one that
//! fails, one that is deleted, and a wait that runs out of time.

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use peak_press_apps::{
    Client, DeploymentStatus, Error,
    types::{
        DeploymentSpecRef, NewDeployment, NewDeploymentMetadata, NewSpec, NewSpecMetadata, ReleaseInput,
        RevisionInput,
    },
};
use peak_press_apps_emulator::{Emulator, EmulatorDeploymentStatus};

async fn start(deploy_delay: Duration) -> (Emulator, Client, String) {
    let emulator = Emulator::builder().deploy_delay(deploy_delay).start().await.unwrap();
    let client = Client::builder().token("t").base_url(emulator.base_url()).build().unwrap();
    let spec = NewSpec::builder()
        .metadata(NewSpecMetadata::builder().name("waited").summary("s"))
        .release(ReleaseInput::builder().version("1.0.0").notes("n"))
        .config(vec![]);
    let spec_id = client.create_spec(spec).await.unwrap().id;
    let deployment = NewDeployment::builder()
        .metadata(NewDeploymentMetadata::builder().name("d").summary("s"))
        .revision(RevisionInput::builder().notes("n"))
        .spec(DeploymentSpecRef::builder().id(spec_id));
    let deployment_id = client.create_deployment(deployment).await.unwrap().id;
    (emulator, client, deployment_id)
}

/// Polls quickly, so that the tests follow a short deploy delay closely.
fn quick(waiter: peak_press_apps::DeploymentWaiter<'_>) -> peak_press_apps::DeploymentWaiter<'_> {
    waiter.poll_interval(Duration::from_millis(20), Duration::from_millis(80))
}

#[tokio::test]
async fn a_deployment_is_waited_for_until_deployed_and_its_statuses_are_seen() {
    let (_emulator, client, id) = start(Duration::from_millis(300)).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorder = seen.clone();
    let deployment = quick(client.wait_for_deployment(&id))
        .on_status(move |status| recorder.lock().unwrap().push(status.clone()))
        .deployed()
        .await
        .unwrap();
    assert_eq!(deployment.id, id);
    assert_eq!(deployment.metadata.status, Some(DeploymentStatus::Deployed));
    assert_eq!(
        *seen.lock().unwrap(),
        [DeploymentStatus::Deploying, DeploymentStatus::Deployed],
        "each change once"
    );
}

#[tokio::test]
async fn a_failed_deployment_ends_the_wait_with_the_deployment_as_last_seen() {
    let (emulator, client, id) = start(Duration::from_secs(60)).await;
    let waiting = tokio::spawn({
        let client = client.clone();
        let id = id.clone();
        async move { quick(client.wait_for_deployment(&id)).deployed().await }
    });
    // Once the waiter has polled at least once, the deployment fails.
    let polled = |emulator: &Emulator| {
        emulator
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.path.ends_with(&format!("/deployments/{id}")))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !polled(&emulator) {
        assert!(std::time::Instant::now() < deadline, "the waiter never polled");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    emulator.set_deployment_status(&id, EmulatorDeploymentStatus::Failed).unwrap();
    match waiting.await.unwrap() {
        Err(Error::DeploymentFailed { status, deployment }) => {
            assert_eq!(status, DeploymentStatus::Failed);
            assert_eq!(
                (deployment.id.as_str(), deployment.metadata.status),
                (id.as_str(), Some(DeploymentStatus::Failed))
            );
        }
        other => panic!("expected DeploymentFailed, got {other:?}"),
    }
    // After a redeploy the same wait ends deployed.
    emulator.set_deployment_status(&id, EmulatorDeploymentStatus::Failed).unwrap();
    client.redeploy(&id).await.unwrap();
    emulator.set_deployment_status(&id, EmulatorDeploymentStatus::Deployed).unwrap();
    quick(client.wait_for_deployment(&id)).deployed().await.unwrap();
}

#[tokio::test]
async fn a_deleted_deployment_is_waited_for_until_gone() {
    let (_emulator, client, id) = start(Duration::from_millis(300)).await;
    quick(client.wait_for_deployment(&id)).deployed().await.unwrap();
    client.delete_deployment(&id).await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorder = seen.clone();
    quick(client.wait_for_deployment(&id))
        .on_status(move |status| recorder.lock().unwrap().push(status.clone()))
        .gone()
        .await
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), [DeploymentStatus::Deleting]);
    assert!(matches!(client.describe_deployment(&id).await, Err(Error::NotFound(_))));
    // Waiting for a deployment that is gone to be deployed says it is not found.
    let error = quick(client.wait_for_deployment(&id)).deployed().await.unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn a_wait_that_runs_out_of_time_says_how_long_and_how_often() {
    let (_emulator, client, id) = start(Duration::from_secs(60)).await;
    let error = quick(client.wait_for_deployment(&id))
        .timeout(Duration::from_millis(400))
        .deployed()
        .await
        .unwrap_err();
    match &error {
        Error::WaitTimedOut { deployment_id, waited, polls, last_status } => {
            assert_eq!(deployment_id, &id);
            assert!(*waited >= Duration::from_millis(400), "{waited:?}");
            assert!(*polls >= 3, "polled {polls} times in 400 ms at 20 to 80 ms");
            assert_eq!(last_status, &Some(DeploymentStatus::Deploying));
        }
        other => panic!("expected WaitTimedOut, got {other:?}"),
    }
    assert!(error.to_string().contains("last seen deploying"), "{error}");
}
