//! Plan and apply against the emulator: each kind of change, nothing to change, hidden values,
//! drift, pruning with two owners, interruptions, two applies at once, and a faulty service.

mod support;

use std::time::Duration;

use peak_press_apps::{Client, RetryConfig};
use peak_press_apps_emulator::{EmulatorDeploymentStatus, Faults};
use peak_press_apps_engine::{Action, DesiredState, Kind, Options, apply, plan};
use serde_json::json;
use support::*;

#[tokio::test]
async fn each_kind_of_change_and_then_nothing_to_do() {
    let (emulator, client) = emulator().await;
    let options = owned("team-a");
    let files = desired(&[spec("churn", "1.0.0", "Churn")], &[deployment("churn-prod", "churn", 2, "k1")]);
    let (first, _) = converge(&client, &files, &options).await;
    assert_eq!(
        (actions(&first, "churn"), actions(&first, "churn-prod")),
        (vec![Action::Create], vec![Action::Create])
    );

    // Applied once: a plan finds nothing, and a second apply sends no write at all.
    emulator.clear_requests();
    let (again, report) = converge(&client, &files, &options).await;
    assert!(!again.has_changes(), "{again:?}");
    assert!(report.done.is_empty());
    assert_eq!(writes(&emulator), Vec::<String>::new());

    // Metadata, a new release, other values: update, release, and one revision on the new release.
    let files = desired(&[spec("churn", "1.1.0", "Churn v2")], &[deployment("churn-prod", "churn", 3, "k1")]);
    let (changed, _) = converge(&client, &files, &options).await;
    assert_eq!(actions(&changed, "churn"), vec![Action::Update, Action::Release]);
    assert_eq!(actions(&changed, "churn-prod"), vec![Action::Revise]);
    let fields: Vec<&str> = changed.resources[1].fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(fields, ["spec.release.version", "appParameters.run.replicas"]);
    let held = state(&client).await;
    assert_eq!(held["spec churn"]["title"], "Churn v2");
    assert_eq!(held["spec churn"]["releases"], json!(["1.1.0", "1.0.0"]));
    assert_eq!(held["deployment churn-prod"]["revisions"].as_array().unwrap().len(), 2);
    assert_eq!(held["deployment churn-prod"]["revisions"][0]["parameters"]["run"]["replicas"], 3);
    // The service fills region with its default: not a difference.
    assert!(!plan(&client, &files, &options).await.unwrap().has_changes());

    // Someone changes the deployment by hand: plan shows it, field by field, and apply undoes it.
    let id = changed.resources[1].id.clone().unwrap();
    let by_hand = peak_press_apps::types::DeploymentMetadataUpdate::builder().title("Renamed by hand");
    client.update_deployment_metadata(&id, by_hand).await.unwrap();
    let drifted = plan(&client, &files, &options).await.unwrap();
    assert_eq!(drifted.resources[1].actions(), vec![Action::Update]);
    assert_eq!(drifted.resources[1].fields[0].path, "metadata.title");
    assert_eq!(
        (&drifted.resources[1].fields[0].old, &drifted.resources[1].fields[0].new),
        (&json!("Renamed by hand"), &json!("T"))
    );
    converge(&client, &files, &options).await;
    assert!(!plan(&client, &files, &options).await.unwrap().has_changes());
}

#[tokio::test]
async fn a_changed_hidden_value_makes_a_revision_and_an_unchanged_one_does_not() {
    let (_emulator, client) = emulator().await;
    let options = Options::default();
    converge(&client, &desired(&[spec("s", "1.0.0", "T")], &[deployment("d", "s", 1, "secret-1")]), &options)
        .await;
    let same = desired(&[spec("s", "1.0.0", "T")], &[deployment("d", "s", 1, "secret-1")]);
    assert!(
        !plan(&client, &same, &options).await.unwrap().has_changes(),
        "the masked value is compared by digest"
    );

    let rotated = desired(&[spec("s", "1.0.0", "T")], &[deployment("d", "s", 1, "secret-2")]);
    let (planned, _) = converge(&client, &rotated, &options).await;
    let change = &planned.resources[1];
    assert_eq!(change.actions(), vec![Action::Revise]);
    assert!(change.fields.iter().all(|f| f.hidden && f.old.is_null() && f.new.is_null()), "{change:?}");
    // Every printed form masks it; only the plan's own value, which apply sends, holds it.
    let shown = planned.to_json().to_string();
    assert!(!shown.contains("secret-1") && !shown.contains("secret-2"), "{shown}");
    assert!(shown.contains(peak_press_apps_engine::MASK), "{shown}");
    assert!(serde_json::to_string(&planned).unwrap().contains("secret-2"));
    assert_eq!(planned.redact("refused: \"secret-2\" is too short"), "refused: \"********\" is too short");
    assert!(!plan(&client, &rotated, &options).await.unwrap().has_changes());
}

#[tokio::test]
async fn drift_refusals_and_failed_deployments_are_shown() {
    let (emulator, client) = emulator().await;
    let options = Options::default();
    converge(&client, &desired(&[spec("s", "2.0.0", "T")], &[deployment("d", "s", 1, "k")]), &options).await;

    // The file behind the service's release: drift, never silently ignored.
    let behind = plan(&client, &desired(&[spec("s", "1.0.0", "T")], &[]), &options).await.unwrap();
    assert!(behind.resources[0].notes[0].contains("drift"), "{behind:?}");
    assert!(behind.has_changes());

    // The same version with other contents: refused, and apply says so.
    let mut edited = spec("s", "2.0.0", "T");
    edited["parameters"]["run"][0]["defaultValue"] = json!(9);
    let refused = plan(&client, &desired(&[edited], &[]), &options).await.unwrap();
    assert!(refused.resources[0].problem.as_ref().unwrap().message.contains("bump the version"));
    let report = apply(&client, &client, &refused, &options, &|_| {}).await;
    assert_eq!(report.failed.len(), 1);

    // A deployment failed by the platform: shown, and redeployed only when asked.
    let files = desired(&[spec("s", "2.0.0", "T")], &[deployment("d", "s", 1, "k")]);
    let id = plan(&client, &files, &options).await.unwrap().resources[1].id.clone().unwrap();
    emulator.set_deployment_status(&id, EmulatorDeploymentStatus::Failed).unwrap();
    let failed = plan(&client, &files, &options).await.unwrap();
    assert!(failed.resources[1].notes[0].contains("failed"), "{failed:?}");
    assert!(failed.resources[1].operations.is_empty());
    let redeploy = Options { redeploy_failed: true, ..Options::default() };
    let (planned, _) = converge(&client, &files, &redeploy).await;
    assert_eq!(planned.resources[1].actions(), vec![Action::Redeploy]);
}

#[tokio::test]
async fn prune_deletes_only_what_its_own_owner_made() {
    let (_emulator, client) = emulator().await;
    let a = desired(&[spec("a-spec", "1.0.0", "A")], &[deployment("a-dep", "a-spec", 1, "k")]);
    let b = desired(&[spec("b-spec", "1.0.0", "B")], &[deployment("b-dep", "b-spec", 1, "k")]);
    converge(&client, &a, &owned("team-a")).await;
    converge(&client, &b, &owned("team-b")).await;

    // Team a's files no longer name anything; a's prune deletes a's deployment, then its spec.
    let prune_a = Options { prune: true, ..owned("team-a") };
    let (planned, _) = converge(&client, &DesiredState::default(), &prune_a).await;
    let deleted: Vec<(Kind, &str)> = planned
        .resources
        .iter()
        .filter(|c| c.actions() == [Action::Delete])
        .map(|c| (c.kind, c.name.as_str()))
        .collect();
    assert_eq!(deleted, [(Kind::Deployment, "a-dep"), (Kind::Spec, "a-spec")]);
    let held = state(&client).await;
    assert_eq!(
        held.keys().collect::<Vec<_>>(),
        ["deployment b-dep", "spec b-spec"],
        "team b's are untouched"
    );

    // Without --prune, nothing is ever deleted, but the plan lists the orphans and says how.
    let kept = plan(&client, &DesiredState::default(), &owned("team-b")).await.unwrap();
    let orphans: Vec<(Kind, &str)> = kept.resources.iter().map(|c| (c.kind, c.name.as_str())).collect();
    assert_eq!(orphans, [(Kind::Deployment, "b-dep"), (Kind::Spec, "b-spec")]);
    assert!(kept.resources.iter().all(|c| c.operations.is_empty() && c.orphaned), "{kept:?}");
    assert!(kept.resources[0].notes[0].contains("--prune"), "{kept:?}");
    assert_eq!(kept.summary().orphaned, 2);
}

#[tokio::test]
async fn an_apply_interrupted_after_each_write_and_run_again_ends_as_an_uninterrupted_one() {
    let files = desired(
        &[spec("s1", "1.0.0", "One"), spec("s2", "1.0.0", "Two")],
        &[deployment("d1", "s1", 1, "k"), deployment("d2", "s2", 2, "k")],
    );
    let options = owned("team");
    let (reference, client) = emulator().await;
    converge(&client, &files, &options).await;
    let expected = state(&client).await;
    let total = writes(&reference).len();
    assert_eq!(total, 4, "{:?}", writes(&reference));

    for cut in 1..=total {
        let (emulator, client) = emulator().await;
        let planned = plan(&client, &files, &options).await.unwrap();
        // The apply is dropped, as a killed process stops, once `cut` writes have reached the service.
        let apply = apply(&client, &client, &planned, &options, &|_| {});
        tokio::pin!(apply);
        loop {
            tokio::select! {
                _ = &mut apply => break,
                _ = tokio::time::sleep(Duration::from_micros(200)) => {
                    if writes(&emulator).len() >= cut { break }
                }
            }
        }
        converge(&client, &files, &options).await;
        assert_eq!(state(&client).await, expected, "interrupted after {cut} writes");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_at_once_end_in_the_same_state_without_an_error() {
    let files = desired(
        &[spec("s1", "1.0.0", "One"), spec("s2", "1.0.0", "Two")],
        &[deployment("d1", "s1", 1, "k"), deployment("d2", "s2", 2, "k")],
    );
    let options = owned("team");
    let (_reference, client) = emulator().await;
    converge(&client, &files, &options).await;
    let expected = state(&client).await;

    let (_emulator, client) = emulator().await;
    let (one, two) = (client.clone(), client.clone());
    let (files_one, files_two, options_one, options_two) =
        (files.clone(), files.clone(), options.clone(), options.clone());
    let first = tokio::spawn(async move { converge(&one, &files_one, &options_one).await.1.failed.len() });
    let second = tokio::spawn(async move { converge(&two, &files_two, &options_two).await.1.failed.len() });
    assert_eq!((first.await.unwrap(), second.await.unwrap()), (0, 0));
    assert_eq!(state(&client).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_apply_converges_through_a_faulty_service_without_doing_anything_twice() {
    let files = desired(
        &[spec("s1", "1.0.0", "One"), spec("s2", "1.0.0", "Two"), spec("s3", "1.0.0", "Three")],
        &[deployment("d1", "s1", 1, "k"), deployment("d2", "s2", 2, "k"), deployment("d3", "s3", 3, "k")],
    );
    let options = owned("team");
    let (_reference, client) = emulator().await;
    converge(&client, &files, &options).await;
    let expected = state(&client).await;

    let (emulator, _) = emulator().await;
    let patient = RetryConfig::default().max_attempts(8).initial_backoff(Duration::from_millis(1));
    let client = Client::builder().token("t").base_url(emulator.base_url()).retry(patient).build().unwrap();
    emulator.set_faults(Some(Faults::new(0.3).seed(7).retry_after(0)));
    let planned = plan(&client, &files, &options).await.unwrap();
    let report = apply(&client, &client, &planned, &options, &|_| {}).await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    // A second round of revisions on the new release would follow if the first went in twice.
    let releases = plan(&client, &files, &options).await.unwrap();
    emulator.set_faults(None);
    assert!(!releases.has_changes(), "{releases:?}");
    assert_eq!(state(&client).await, expected, "no release or revision made twice");
}
