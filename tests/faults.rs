//! The client against the emulator with faults injected: listings that stay exact, creates
//! that are never doubled, exhausted retries that end in the right error, concurrent writers,
//! and panics the server survives.

use std::{collections::HashSet, time::Duration};

use futures::{TryStreamExt, future::join_all};
use peak_press_apps::{
    Client, Error, RetryConfig,
    types::{
        DeploymentSpecRef, NewDeployment, NewDeploymentMetadata, NewRevision, NewSpec, NewSpecMetadata,
        ReleaseInput, RevisionInput,
    },
};
use peak_press_apps_emulator::{Emulator, Fault, Faults};

/// Retries that outlast a 30% fault rate without waiting long.
fn persistent() -> RetryConfig {
    RetryConfig::default()
        .max_attempts(12)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(4))
        .max_retry_after(Duration::from_millis(4))
        .budget(1_000_000)
}

/// Faults whose 429s ask for no wait, so that the retries above may follow them.
fn faults(rate: f64) -> Faults {
    Faults::new(rate).retry_after(0)
}

async fn start() -> (Emulator, Client) {
    let emulator = Emulator::builder().deploy_delay(Duration::ZERO).start().await.unwrap();
    let client =
        Client::builder().token("t").base_url(emulator.base_url()).retry(persistent()).build().unwrap();
    (emulator, client)
}

fn spec(name: &str) -> peak_press_apps::types::builder::NewSpec {
    NewSpec::builder()
        .metadata(NewSpecMetadata::builder().name(name).summary("s"))
        .release(ReleaseInput::builder().version("1.0.0").notes("n"))
        .config(vec![])
}

async fn deployment(client: &Client) -> String {
    let spec_id = client.create_spec(spec("base")).await.unwrap().id;
    let deployment = NewDeployment::builder()
        .metadata(NewDeploymentMetadata::builder().name("dep").summary("s"))
        .revision(RevisionInput::builder().notes("n"))
        .spec(DeploymentSpecRef::builder().id(spec_id));
    client.create_deployment(deployment).await.unwrap().id
}

fn revision() -> NewRevision {
    NewRevision { revision: Some(RevisionInput { notes: "n".into() }), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_of_5000_items_under_30_percent_faults_yields_each_once_in_order() {
    let (emulator, client) = start().await;
    let mut created = Vec::new();
    for batch in (0..5000).collect::<Vec<usize>>().chunks(250) {
        let futures = batch.iter().map(|i| {
            let client = client.clone();
            async move { client.create_spec(spec(&format!("spec-{i:04}"))).await.map(|c| c.id) }
        });
        for id in join_all(futures).await {
            created.push(id.unwrap());
        }
    }

    let ids_by_name =
        || client.list_specs().sort("name:asc").page_size(100).items().map_ok(|s| s.id).try_collect();
    let expected: Vec<String> = ids_by_name().await.unwrap();
    assert_eq!(expected.len(), 5000);

    emulator.set_faults(Some(faults(0.3).seed(42)));
    let listed: Vec<String> = ids_by_name().await.unwrap();
    emulator.set_faults(None);
    assert_eq!(listed, expected, "every item once, in order");
    assert_eq!(listed.iter().collect::<HashSet<_>>().len(), 5000);
    assert_eq!(created.iter().collect::<HashSet<_>>(), listed.iter().collect::<HashSet<_>>());
}

#[tokio::test]
async fn creates_under_faults_are_never_doubled() {
    let (emulator, client) = start().await;
    let deployment_id = deployment(&client).await;
    let calls = 100;

    emulator.set_faults(Some(faults(0.3).seed(7)));
    let mut succeeded = 0;
    for _ in 0..calls {
        if client.create_deployment_revision(&deployment_id, revision()).await.is_ok() {
            succeeded += 1;
        }
    }
    emulator.set_faults(None);
    let revisions: Vec<_> =
        client.list_deployment_revisions(&deployment_id).items().try_collect().await.unwrap();
    let made = revisions.len() - 1;
    assert!(made <= calls, "{made} revisions from {calls} calls: a create was sent twice");
    assert!(made >= succeeded, "every success made a revision");
    assert!(succeeded < calls, "with 30% faults some creates fail: the faults were on");
    let numbers: Vec<u64> = revisions.iter().rev().map(|r| r.revision).collect();
    assert_eq!(numbers, (1..=revisions.len() as u64).collect::<Vec<_>>(), "dense numbering");

    // The contrast: a caller who opts in to retrying creates gets duplicates under the same
    // faults, which is exactly what the default protects against.
    let retrying = Client::builder()
        .token("t")
        .base_url(emulator.base_url())
        .retry(persistent().retry_creates(true))
        .build()
        .unwrap();
    let before = made + 1;
    emulator.set_faults(Some(faults(0.3).seed(7)));
    for _ in 0..calls {
        retrying.create_deployment_revision(&deployment_id, revision()).await.unwrap();
    }
    emulator.set_faults(None);
    let after = client.list_deployment_revisions(&deployment_id).page(1).await.unwrap().total as usize;
    assert!(after - before > calls, "opting in retries creates that were carried out: {}", after - before);
}

#[tokio::test]
async fn exhausted_retries_end_in_the_error_of_the_last_attempt() {
    let (emulator, _) = start().await;
    let client = Client::builder()
        .token("t")
        .base_url(emulator.base_url())
        .retry(persistent().max_attempts(3))
        .build()
        .unwrap();
    type Expected = fn(&Error) -> bool;
    let cases: [(Fault, Expected); 5] = [
        (Fault::Unavailable, |e| e.status().is_some_and(|s| s.as_u16() == 503)),
        (Fault::TooManyRequests, |e| e.status().is_some_and(|s| s.as_u16() == 429)),
        (Fault::InternalError, |e| matches!(e, Error::InternalServerError(_))),
        (Fault::BadGateway, |e| matches!(e, Error::Http(answer) if answer.message() == "502 Bad Gateway")),
        (Fault::Reset, |e| matches!(e, Error::Network(_))),
    ];
    for (fault, expected) in cases {
        emulator.set_faults(Some(faults(1.0).kinds([fault])));
        let error = client.list_specs().page(1).await.unwrap_err();
        match &error {
            Error::RetriesExhausted { attempts: 3, last, .. } => {
                assert!(expected(last), "{fault:?}: {last:?}")
            }
            other => panic!("{fault:?}: expected RetriesExhausted after 3 attempts, got {other:?}"),
        }
    }
    emulator.set_faults(Some(faults(1.0).kinds([Fault::Truncate])));
    let error = client.list_specs().page(1).await.unwrap_err();
    assert!(matches!(error, Error::RetriesExhausted { attempts: 3, .. }), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_on_one_deployment_get_dense_unique_numbers() {
    let (_emulator, client) = start().await;
    let deployment_id = deployment(&client).await;
    let writers = (0..50).map(|_| {
        let client = client.clone();
        let deployment_id = deployment_id.clone();
        tokio::spawn(async move {
            client.create_deployment_revision(&deployment_id, revision()).await.unwrap().revision
        })
    });
    let mut numbers: Vec<u64> = join_all(writers).await.into_iter().map(Result::unwrap).collect();
    numbers.sort();
    assert_eq!(numbers, (2..=51).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_panicking_handler_does_not_take_the_server_down() {
    let (emulator, client) = start().await;
    let no_retry = Client::builder()
        .token("t")
        .base_url(emulator.base_url())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    emulator.set_faults(Some(faults(1.0).kinds([Fault::Panic])));
    for _ in 0..5 {
        let error = no_retry.list_specs().page(1).await.unwrap_err();
        assert!(matches!(error, Error::InternalServerError(_)), "{error:?}");
    }
    emulator.set_faults(None);
    assert_eq!(client.list_specs().page(1).await.unwrap().total, 0, "still serving");
}

#[tokio::test]
async fn deletes_under_faults_succeed_once_what_they_delete_is_gone() {
    let (emulator, client) = start().await;
    let mut specs = Vec::new();
    for i in 0..100 {
        specs.push(client.create_spec(spec(&format!("doomed-{i}"))).await.unwrap().id);
    }
    // The faults that strike after the delete was carried out make the retry find it gone.
    emulator.set_faults(Some(faults(0.3).seed(3).kinds([
        Fault::InternalError,
        Fault::BadGateway,
        Fault::Reset,
        Fault::Truncate,
    ])));
    for id in &specs {
        client.delete_spec(id).await.unwrap_or_else(|error| panic!("deleting {id}: {error:?}"));
    }
    emulator.set_faults(None);
    assert_eq!(client.list_specs().page(1).await.unwrap().total, 0, "every spec is gone");
    // A spec that never existed is still not found when the faults struck before any work.
    emulator.set_faults(Some(faults(0.5).seed(1).kinds([Fault::TooManyRequests, Fault::Unavailable])));
    for _ in 0..10 {
        let error = client.delete_spec("never-was").await.unwrap_err();
        assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    }
}
