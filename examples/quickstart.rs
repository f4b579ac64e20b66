//! A tour of the whole app lifecycle with the client.
//!
//! ```text
//! cargo run --example quickstart                        # on an emulator started in-process
//! cargo run --example quickstart -- --base-url URL      # on another server (token: PEAK_AUTH_TOKEN)
//! cargo run --example quickstart -- --real-stage STAGE  # on Peak's real service (token: PEAK_AUTH_TOKEN)
//! cargo run --example quickstart -- --help
//! ```
//!
//! It runs on its own emulator unless told otherwise on the command line: a `PEAK_AUTH_TOKEN` in
//! the environment is not enough to send it to a real stage. There it creates a spec and a
//! deployment with unique names, and deletes both.

use std::time::{SystemTime, UNIX_EPOCH};

use futures::TryStreamExt;
use peak_press_apps::{
    Client, Error, Stage,
    types::{
        AppParameters, DeploymentMetadataUpdate, DeploymentSpecRef, NewDeployment, NewDeploymentMetadata,
        NewRelease, NewRevision, NewSpec, NewSpecMetadata, ParameterDefinition, ParameterDefinitions,
        ParameterType, ReleaseInput, RevisionInput, VersionRef,
    },
};
use peak_press_apps_emulator::{Emulator, EmulatorDeploymentStatus};
use serde_json::json;

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("quickstart failed: {error}");
        std::process::exit(1);
    }
}

const USAGE: &str = "\
A tour of the whole app lifecycle with peak-press-apps.

Usage: quickstart [--base-url URL | --real-stage STAGE]

  (no option)          on an emulator started in-process: nothing leaves this machine
  --base-url URL       on the server at URL, such as an emulator started on its own; the token
                       is PEAK_AUTH_TOKEN, or any when unset
  --real-stage STAGE   on Peak's real service at STAGE (prod, dev, test, beta, ...), with the token
                       in PEAK_AUTH_TOKEN: creates a spec and a deployment there, and deletes both
  -h, --help           prints this
";

/// Where the tour runs, as its command line says.
enum Target {
    Emulator,
    Server(String),
    RealStage(Stage),
}

fn target() -> Result<Option<Target>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => Ok(Some(Target::Emulator)),
        ["-h" | "--help"] => Ok(None),
        ["--base-url", url] => Ok(Some(Target::Server(url.to_string()))),
        ["--real-stage", stage] => Ok(Some(Target::RealStage(stage.parse()?))),
        _ => Err(format!("unexpected arguments {args:?}\n\n{USAGE}").into()),
    }
}

async fn run() -> Result<()> {
    let Some(target) = target()? else {
        print!("{USAGE}");
        return Ok(());
    };
    let token = std::env::var("PEAK_AUTH_TOKEN").ok().filter(|t| !t.is_empty());
    // Kept alive until the end of the tour when the tour runs on it.
    let mut emulator = None;
    let client = match target {
        Target::Server(url) => {
            Client::builder().base_url(url).token(token.unwrap_or_else(|| "quickstart".into())).build()?
        }
        Target::RealStage(stage) => {
            let token = token.ok_or("--real-stage needs the token in PEAK_AUTH_TOKEN")?;
            println!("On Peak's real service, stage {stage}: this creates and deletes real resources.");
            Client::builder().stage(stage).token(token).build()?
        }
        Target::Emulator => {
            let started = Emulator::start().await?;
            println!("Started the emulator at {}", started.base_url());
            let client = Client::builder().base_url(started.base_url()).token("quickstart").build()?;
            emulator = Some(started);
            client
        }
    };
    println!("Talking to {}\n", client.base_url());
    let suffix = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let spec_name = format!("quickstart-{suffix}");

    // 1. A spec with a build parameter and two run parameters, one of them hidden.
    let parameters = ParameterDefinitions {
        build: vec![definition("region", ParameterType::String, json!("eu-west-1"), false)],
        run: vec![
            definition("api_key", ParameterType::String, json!(""), true),
            definition("replicas", ParameterType::Number, json!(1), false),
        ],
    };
    let spec = NewSpec::builder()
        .metadata(NewSpecMetadata::builder().name(spec_name.clone()).summary("Predicts churn"))
        .release(ReleaseInput::builder().version("1.0.0").notes("First release"))
        .config(vec![]);
    let spec_id = client.create_spec(spec).parameters(parameters.clone()).await?.id;
    println!("1. Created spec {spec_name} ({spec_id})");

    // 2. A second release.
    let release = NewRelease::builder()
        .release(ReleaseInput::builder().version("1.1.0").notes("Faster scoring"))
        .config(vec![])
        .parameters(parameters);
    let created = client.create_spec_release(&spec_id, release).await?;
    println!("2. Published release {}", created.release.version);

    // 3. Every spec, streamed across pages.
    let mut specs = client.list_specs().sort("createdAt:desc").page_size(50).items();
    let mut count = 0;
    while let Some(spec) = specs.try_next().await? {
        count += 1;
        if count <= 3 {
            let latest = spec.latest_release.map(|r| r.version).unwrap_or_default();
            println!("   - {} (latest release {latest})", spec.metadata.name);
        }
    }
    println!("3. Streamed {count} spec(s)");

    // 4. A deployment of the latest release, and the wait until it is deployed.
    let deployment = NewDeployment::builder()
        .metadata(NewDeploymentMetadata::builder().name(format!("{spec_name}-prod")).summary("Production"))
        .revision(RevisionInput::builder().notes("First deployment"))
        .spec(DeploymentSpecRef::builder().id(spec_id.clone()))
        .app_parameters(run_values(&[("api_key", "hunter2".into()), ("replicas", 2.into())]));
    let deployment_id = client.create_deployment(deployment).await?.id;
    println!("4. Created deployment {deployment_id}; waiting for it to be deployed...");
    let deployed = client
        .wait_for_deployment(&deployment_id)
        .on_status(|status| println!("   it is {status}"))
        .deployed()
        .await?;
    println!("   deployed at revision {}", deployed.latest_revision.map_or(0, |r| r.revision));

    // 5. A second revision, from the first release.
    let revision = NewRevision::builder()
        .release(VersionRef { version: "1.0.0".into() })
        .revision(RevisionInput { notes: "Back to 1.0.0".into() })
        .app_parameters(run_values(&[("api_key", "s3cret".into())]));
    let created = client.create_deployment_revision(&deployment_id, revision).await?;
    println!("5. Created revision {}", created.revision);
    client.wait_for_deployment(&deployment_id).deployed().await?;

    // 6. The hidden value comes back masked.
    let described = client.describe_deployment_revision(&deployment_id, created.revision).await?;
    let run = described.parameters.map(|p| p.run).unwrap_or_default();
    println!(
        "6. Revision {} run parameters as the service shows them: {}",
        created.revision,
        serde_json::to_string(&run)?
    );

    // 7. The revisions, newest first.
    println!("7. Revisions:");
    let mut revisions = client.list_deployment_revisions(&deployment_id).items();
    while let Some(revision) = revisions.try_next().await? {
        let status = revision.status.map(|s| s.to_string()).unwrap_or_default();
        println!("   - revision {} is {status}", revision.revision);
    }

    // 8. Metadata changes only what it is given.
    let update = DeploymentMetadataUpdate::builder().title("Churn model (production)");
    let updated = client.update_deployment_metadata(&deployment_id, update).await?;
    println!("8. Renamed the deployment's title to {:?}", updated.metadata.title.unwrap_or_default());

    // 9. A failure, forced on the emulator, then a redeploy.
    if let Some(emulator) = &emulator {
        emulator.set_deployment_status(&deployment_id, EmulatorDeploymentStatus::Failed)?;
        let redeployed = client.redeploy(&deployment_id).await?;
        println!("9. Forced a failure and redeployed revision {}", redeployed.revision);
        client.wait_for_deployment(&deployment_id).deployed().await?;
    } else {
        println!("9. Skipped forcing a failure: only the emulator can do that");
    }

    // 10. Typed errors.
    match client.describe_deployment("no-such-deployment").await {
        Err(Error::NotFound(answer)) => println!("10. A typed 404: {}", answer.message()),
        other => println!("10. Expected a 404, got {other:?}"),
    }
    match client.delete_spec(&spec_id).await {
        Err(Error::Conflict(answer)) => println!("    A typed 409: {}", answer.message()),
        other => println!("    Expected a 409, got {other:?}"),
    }

    // 11. Clean up: the deployment first, then the spec it holds.
    client.delete_deployment(&deployment_id).await?;
    client.wait_for_deployment(&deployment_id).gone().await?;
    client.delete_spec(&spec_id).await?;
    println!("11. Deleted the deployment and the spec");
    if let Some(emulator) = emulator {
        emulator.shutdown().await;
    }
    Ok(())
}

fn definition(
    name: &str,
    type_: ParameterType,
    default_value: serde_json::Value,
    hide: bool,
) -> ParameterDefinition {
    ParameterDefinition {
        name: name.into(),
        type_,
        required: false,
        default_value: Some(default_value),
        hide_value: Some(hide),
        title: None,
        description: None,
        options: vec![],
        conditions: vec![],
    }
}

fn run_values(values: &[(&str, peak_press_apps::ParameterValue)]) -> AppParameters {
    AppParameters {
        build: Default::default(),
        run: values.iter().map(|(name, value)| (name.to_string(), value.clone())).collect(),
    }
}
