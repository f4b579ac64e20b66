//! The `press-apps` binary end to end against the in-process emulator: every command, each
//! output format, the input files' features, and the exit code of each kind of failure.

use std::{
    io::Read,
    path::Path,
    process::{Command, Output, Stdio},
    time::Duration,
};

use peak_press_apps_emulator::{Emulator, EmulatorDeploymentStatus};
use serde_json::Value;
use tempfile::TempDir;

const TOKEN: &str = "cli-test-token";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "stderr: {}\nstdout: {}", self.stderr, self.stdout);
        self
    }
}

/// The binary with `args`, pointed at `base_url`, run in `dir` with the test's token.
fn command(base_url: &str, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_press-apps"));
    command
        .args(args)
        .arg("--base-url")
        .arg(base_url)
        .current_dir(dir)
        .env("PEAK_AUTH_TOKEN", TOKEN)
        .env("CLI_TEST_OWNER", "data-team");
    command
}

/// `command` started with its stdout and stderr piped, for a test that reads them as it runs.
fn spawn(base_url: &str, dir: &Path, args: &[&str]) -> std::process::Child {
    command(base_url, dir, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

fn press_apps(emulator: &Emulator, dir: &Path, args: &[&str]) -> Run {
    let output: Output = command(emulator.base_url(), dir, args).output().expect("the binary runs");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(!run.stderr.contains(TOKEN), "the token leaked: {}", run.stderr);
    run
}

/// A new work directory, removed when it is dropped.
fn workdir(name: &str) -> TempDir {
    tempfile::Builder::new().prefix(&format!("press-apps-cli-{name}-")).tempdir().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A work directory holding the spec template `spec.yaml` (with an empty tags include).
fn spec_dir(name: &str) -> TempDir {
    let temp = workdir(name);
    let dir = temp.path();
    std::fs::create_dir_all(dir.join("parts")).unwrap();
    write(dir, "spec.yaml", SPEC);
    write(dir, "parts/tags.yaml", "tags: []\n");
    temp
}

/// Creates `count` specs from the template, named `{prefix}-0` and on; returns their ids.
fn create_specs(emulator: &Emulator, dir: &Path, prefix: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let name = format!("name={prefix}-{i}");
            let created =
                press_apps(emulator, dir, &["specs", "create", "spec.yaml", "-p", &name, "-p", "title=T"])
                    .ok();
            created.json()["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// A spec template: its name from a variable, its owner from the environment, its tags from an
/// included file at the metadata's indentation.
const SPEC: &str = r#"body:
  version: 1
  kind: app
  metadata:
    name: "{{ name }}"
    title: "{{ title }}"
    summary: "owned by {{ os_env.CLI_TEST_OWNER }}"
    {% include "parts/tags.yaml" %}
  release:
    version: 1.0.0
    notes: first
  config:
    - id: block-a
      release:
        version: 1.0.0
featured: true
scope: private
parameters:
  build: []
  run:
    - name: replicas
      type: number
      required: false
      defaultValue: 1
"#;

async fn emulator(delay: Duration) -> Emulator {
    Emulator::builder().deploy_delay(delay).start().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lifecycle_through_every_command() {
    let emulator = emulator(Duration::from_millis(50)).await;
    let temp = workdir("lifecycle");
    let dir = temp.path();
    std::fs::create_dir_all(dir.join("parts")).unwrap();
    write(dir, "spec.yaml", SPEC);
    write(dir, "parts/tags.yaml", "tags:\n  - name: ml\n");
    write(dir, "params.yaml", "name: from-file\ntitle: Churn\n");
    write(dir, "notes.md", "Second release, from a markdown file.");
    let run = |args: &[&str]| press_apps(&emulator, dir, args);

    // Specs: -p wins over -v; the include keeps its indentation; os_env is there.
    let spec_id = run(&["specs", "create", "spec.yaml", "-v", "params.yaml", "-p", "name=churn"]).ok().json()
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let spec = run(&["specs", "describe", &spec_id]).ok().json();
    assert_eq!(spec["metadata"]["name"], "churn");
    assert_eq!(spec["metadata"]["summary"], "owned by data-team");
    assert_eq!(spec["metadata"]["tags"][0]["name"], "ml");
    assert_eq!(spec["featured"], true);

    write(
        dir,
        "release.yaml",
        "body:\n  release:\n    version: 2.0.0\n  config:\n    - id: block-a\n      release:\n        version: 1.0.0\n",
    );
    run(&["specs", "create-release", &spec_id, "release.yaml", "-n", "notes.md"]).ok();
    let release =
        run(&["specs", "describe-release", "--spec-id", &spec_id, "--version", "2.0.0"]).ok().json();
    assert_eq!(release["notes"], "Second release, from a markdown file.");
    let releases =
        run(&["specs", "list-releases", "--spec-id", &spec_id, "--sort", "createdAt:asc"]).ok().json();
    assert_eq!(releases["releaseCount"], 2);
    assert_eq!(releases["releases"][0]["version"], "1.0.0");

    write(dir, "spec-update.yaml", "body:\n  metadata:\n    title: Churn model\n  featured: false\n");
    let updated = run(&["specs", "update-metadata", &spec_id, "spec-update.yaml"]).ok().json();
    assert_eq!(
        (updated["metadata"]["title"].as_str(), updated["featured"].as_bool()),
        (Some("Churn model"), Some(false))
    );

    // Lists: the official envelope by default, YAML, a table.
    let list =
        run(&["specs", "list", "--status", "available,unavailable", "--sort", "name:asc,title"]).ok().json();
    assert_eq!((list["specCount"].as_u64(), list["pageNumber"].as_u64()), (Some(1), Some(1)));
    assert_eq!(list["specs"][0]["id"], spec_id.as_str());
    let yaml: Value = yaml_serde::from_str(&run(&["specs", "list", "-o", "yaml"]).ok().stdout).unwrap();
    assert_eq!(yaml["specs"][0]["metadata"]["name"], "churn");
    let table = run(&["specs", "list", "-o", "table"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("NAME") && lines[0].contains("LATEST RELEASE"),
        "{table}"
    );
    assert!(
        lines[1].contains(&spec_id) && lines[1].contains("Churn model") && lines[1].contains("2.0.0"),
        "{table}"
    );

    // Deployments, waited on.
    let deployment = format!(
        "body:\n  metadata:\n    name: churn-prod\n    summary: s\n  revision:\n    notes: first\n  spec:\n    id: {spec_id}\n    release:\n      version: 1.0.0\n  appParameters:\n    build: {{}}\n    run:\n      replicas: 2\n"
    );
    write(dir, "deployment.yaml", &deployment);
    let created = run(&["deployments", "create", "deployment.yaml", "--wait", "--timeout", "30s"]).ok();
    assert!(created.stderr.contains("is deployed at revision 1"), "{}", created.stderr);
    let deployment_id = created.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        run(&["deployments", "describe", &deployment_id]).ok().json()["metadata"]["status"],
        "deployed"
    );

    write(dir, "revision.yaml", "body:\n  release:\n    version: 2.0.0\n  revision:\n    notes: to 2.0.0\n");
    let revision = run(&["deployments", "create-revision", &deployment_id, "revision.yaml", "--wait"]).ok();
    assert_eq!(revision.json()["revision"], 2);
    let described =
        run(&["deployments", "describe-revision", "--deployment-id", &deployment_id, "--revision", "2"])
            .ok()
            .json();
    assert_eq!(described["spec"]["release"]["version"], "2.0.0");
    let revisions = run(&["deployments", "list-revisions", &deployment_id, "-o", "table"]).ok().stdout;
    assert_eq!(revisions.lines().count(), 3, "{revisions}");
    assert!(
        revisions.lines().any(|line| line.starts_with("1 ") && line.contains("superseded")),
        "{revisions}"
    );

    write(dir, "deployment-update.yaml", "body:\n  title: Churn (prod)\n");
    write(dir, "about.txt", "Runs the churn model.");
    let updated =
        run(&["deployments", "update-metadata", &deployment_id, "deployment-update.yaml", "-d", "about.txt"])
            .ok()
            .json();
    assert_eq!(updated["metadata"]["title"], "Churn (prod)");
    assert_eq!(updated["metadata"]["description"], "Runs the churn model.");
    let deployments = run(&["deployments", "list", "--status", "deployed", "--name", "churn"]).ok().json();
    assert_eq!(deployments["deploymentCount"], 1);

    // A conflict, then a forced failure and a redeploy waited on.
    let refused = run(&["deployments", "redeploy", &deployment_id]);
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(
        refused.stderr.starts_with("press-apps: 409 Conflict: ") && refused.stderr.lines().count() == 1,
        "{}",
        refused.stderr
    );
    emulator.set_deployment_status(&deployment_id, EmulatorDeploymentStatus::Failed).unwrap();
    run(&["deployments", "redeploy", &deployment_id, "--wait"]).ok();

    // The spec cannot go while deployed; the deployment can, waited on until gone.
    assert_eq!(run(&["specs", "delete", &spec_id]).code, 4);
    let deleted = run(&["deployments", "delete", &deployment_id, "--wait"]).ok();
    assert!(deleted.stderr.contains("is gone"), "{}", deleted.stderr);
    assert_eq!(run(&["deployments", "describe", &deployment_id]).code, 3);
    run(&["specs", "delete", &spec_id]).ok();
    assert_eq!(run(&["specs", "describe", &spec_id]).code, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn all_streams_every_page_as_json_lines_yaml_documents_or_one_table() {
    let emulator = emulator(Duration::ZERO).await;
    let temp = spec_dir("all");
    let dir = temp.path();
    create_specs(&emulator, dir, "spec", 7);
    let lines = press_apps(&emulator, dir, &["specs", "list", "--all", "--page-size", "3", "--sort", "name"])
        .ok()
        .stdout;
    let names: Vec<String> = lines
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["metadata"]["name"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(names, (0..7).map(|i| format!("spec-{i}")).collect::<Vec<_>>());
    let yaml =
        press_apps(&emulator, dir, &["specs", "list", "--all", "--page-size", "3", "-o", "yaml"]).ok().stdout;
    assert_eq!(yaml.matches("\n---\n").count(), 6, "{yaml}");
    let table = press_apps(&emulator, dir, &["specs", "list", "--all", "--page-size", "3", "-o", "table"])
        .ok()
        .stdout;
    assert_eq!(table.lines().count(), 8, "one header, seven rows: {table}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_one_line_and_the_exit_code_of_its_kind() {
    let emulator = Emulator::builder().token(TOKEN).start().await.unwrap();
    let temp = workdir("bad");
    let dir = temp.path();
    write(dir, "syntax.yaml", "body:\n  metadata: [unclosed\n");
    write(dir, "unknown.yaml", "body:\n  metadata:\n    name: x\n    sumary: typo\n");
    write(dir, "unknown-top.yaml", "bodyy:\n  metadata: {}\n");
    write(dir, "undefined.yaml", "body:\n  metadata:\n    name: {{ missing }}\n");
    write(
        dir,
        "wrong-type.yaml",
        "body:\n  metadata:\n    name: x\n    summary: s\n  release: 3\n  config: []\n",
    );
    write(dir, "includes.yaml", "body:\n  metadata:\n    {% include \"parts/meta.yaml\" %}\n");
    write(dir, "parts/meta.yaml", "name: x\nsummary: s\ntitle: {{ no_such_title }}\n");
    write(dir, "a.yaml", "{% include \"b.yaml\" %}\n");
    write(dir, "b.yaml", "{% include \"a.yaml\" %}\n");
    write(dir, "notes.pdf", "x");
    write(dir, "valid.yaml", "body:\n  featured: true\n");
    let cases: &[(&[&str], i32, &str)] = &[
        (&["specs", "create", "missing.yaml"], 2, "cannot read missing.yaml"),
        (&["specs", "create", "syntax.yaml"], 2, "line 2"),
        (
            &["specs", "update-metadata", "s", "unknown.yaml"],
            2,
            "unknown key `body.metadata.sumary`; did you mean `summary`? (line 4, column 5)",
        ),
        (&["specs", "create", "unknown-top.yaml"], 2, "unknown key `bodyy`; did you mean `body`?"),
        (&["specs", "create", "undefined.yaml"], 2, "undefined.yaml at line 3: undefined value `missing`"),
        (
            &["specs", "create", "wrong-type.yaml"],
            2,
            "wrong-type.yaml: `body.release`: the number 3 where a map of keys belongs (line 5, column 12)",
        ),
        (&["specs", "create", "a.yaml"], 2, "circular include"),
        // A mistake inside an included file names that file and its own line.
        (
            &["specs", "create", "includes.yaml"],
            2,
            "parts/meta.yaml at line 3: undefined value `no_such_title`",
        ),
        (&["specs", "update-metadata", "s", "valid.yaml", "-d", "notes.pdf"], 2, "only .md and .txt"),
        (&["specs", "describe", "no-such-spec"], 3, "404 Not Found"),
        (&["specs", "list", "--page-size", "0"], 2, "page size 0"),
    ];
    for (args, code, needle) in cases {
        let run = press_apps(&emulator, dir, args);
        assert_eq!(run.code, *code, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: one line: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: nothing on stdout: {}", run.stdout);
    }
    // A refused token.
    let refused = command(emulator.base_url(), dir, &["specs", "list"])
        .env("PEAK_AUTH_TOKEN", "wrong-token")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(5), "{}", String::from_utf8_lossy(&refused.stderr));
    // No token at all.
    let missing = command(emulator.base_url(), dir, &["specs", "list"])
        .env_remove("PEAK_AUTH_TOKEN")
        .env_remove("API_KEY")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2), "{}", String::from_utf8_lossy(&missing.stderr));
    let said = String::from_utf8_lossy(&missing.stderr);
    assert!(said.contains("set PEAK_AUTH_TOKEN (or API_KEY)") && !said.contains("builder"), "{said}");
    // A base URL without its scheme is a usage mistake, not an authentication failure.
    // The library's words, naming the flag or the variable the URL came from.
    let schemeless = command("127.0.0.1:18080", dir, &["specs", "list"]).output().unwrap();
    assert_eq!(schemeless.status.code(), Some(2), "{}", String::from_utf8_lossy(&schemeless.stderr));
    let said = String::from_utf8_lossy(&schemeless.stderr);
    assert!(said.contains("--base-url: ") && said.contains("as in \"http://127.0.0.1:18080\""), "{said}");
    let from_variable = Command::new(env!("CARGO_BIN_EXE_press-apps"))
        .args(["specs", "list"])
        .env("PEAK_AUTH_TOKEN", TOKEN)
        .env("PRESS_APPS_BASE_URL", "127.0.0.1:18080")
        .output()
        .unwrap();
    assert_eq!(from_variable.status.code(), Some(2));
    let said = String::from_utf8_lossy(&from_variable.stderr);
    assert!(said.contains("PRESS_APPS_BASE_URL: ") && said.contains("has no scheme"), "{said}");
    // The variable alone points the CLI at the emulator.
    let listed = Command::new(env!("CARGO_BIN_EXE_press-apps"))
        .args(["specs", "list"])
        .current_dir(dir)
        .env("PEAK_AUTH_TOKEN", TOKEN)
        .env("PRESS_APPS_BASE_URL", emulator.base_url())
        .output()
        .unwrap();
    assert_eq!(listed.status.code(), Some(0), "{}", String::from_utf8_lossy(&listed.stderr));
    // Nothing listens: a network failure.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down =
        command(&format!("http://127.0.0.1:{port}"), dir, &["specs", "describe", "x"]).output().unwrap();
    assert_eq!(down.status.code(), Some(6), "{}", String::from_utf8_lossy(&down.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_deployment_ends_the_wait_with_exit_code_7() {
    let emulator = emulator(Duration::from_secs(30)).await;
    let temp = spec_dir("wait");
    let dir = temp.path();
    let spec_id = create_specs(&emulator, dir, "wait", 1).remove(0);
    write(
        dir,
        "deployment.yaml",
        &format!(
            "body:\n  metadata:\n    name: w\n    summary: s\n  revision:\n    notes: n\n  spec:\n    id: {spec_id}\n"
        ),
    );
    let mut child = spawn(emulator.base_url(), dir, &["deployments", "create", "deployment.yaml", "--wait"]);
    let mut first_line = [0u8; 16];
    child.stdout.as_mut().unwrap().read_exact(&mut first_line).unwrap();
    let id = loop {
        let page =
            peak_press_apps::Client::builder().token(TOKEN).base_url(emulator.base_url()).build().unwrap();
        if let Ok(found) = page.list_deployments().page(1).await
            && let Some(deployment) = found.items.first()
        {
            break deployment.id.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    emulator.set_deployment_status(&id, EmulatorDeploymentStatus::Failed).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("is failed"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_pipe_is_no_panic_and_completions_are_printed() {
    let emulator = emulator(Duration::ZERO).await;
    let temp = spec_dir("pipe");
    let dir = temp.path();
    create_specs(&emulator, dir, "pipe", 30);
    let mut child = spawn(emulator.base_url(), dir, &["specs", "list", "--all", "--page-size", "1"]);
    let mut first = [0u8; 1];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));

    let help = press_apps(&emulator, dir, &["--help"]).ok().stdout;
    assert!(
        help.contains("Exit codes: 0 success") && help.contains("7 a deployment waited on failed"),
        "{help}"
    );
    // The README lists the same codes as --help, which prints the one table in the code.
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let codes = help.lines().find(|line| line.starts_with("Exit codes:")).unwrap();
    assert!(words(include_str!("../../README.md")).contains(&words(codes)), "README.md lacks: {codes}");
    for shell in ["bash", "zsh", "fish"] {
        let script = press_apps(&emulator, dir, &["completions", shell]).ok().stdout;
        assert!(script.contains("create-revision") && script.contains("press-apps"), "{shell}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_samples_run_as_they_are() {
    let emulator = emulator(Duration::ZERO).await;
    let temp = workdir("samples");
    let dir = temp.path();
    let run = |args: &[&str]| press_apps(&emulator, dir, args);
    let sample = |command: &[&str], file: &str| {
        let mut args = command.to_vec();
        args.push("--generate");
        write(dir, file, &run(&args).ok().stdout);
    };
    sample(&["specs", "create"], "spec.yaml");
    sample(&["specs", "create-release"], "release.yaml");
    sample(&["specs", "update-metadata"], "spec-update.yaml");
    sample(&["deployments", "create"], "deployment.yaml");
    sample(&["deployments", "create-revision"], "revision.yaml");
    sample(&["deployments", "update-metadata"], "deployment-update.yaml");

    let spec_id = run(&["specs", "create", "spec.yaml"]).ok().json()["id"].as_str().unwrap().to_owned();
    run(&["specs", "create-release", &spec_id, "release.yaml"]).ok();
    let spec = run(&["specs", "update-metadata", &spec_id, "spec-update.yaml"]).ok().json();
    assert_eq!(spec["metadata"]["title"], "Example app, renamed");
    assert_eq!(spec["latestRelease"]["version"], "2.0.0");
    let variable = format!("spec_id={spec_id}");
    let created = run(&["deployments", "create", "deployment.yaml", "-p", &variable]).ok().json();
    let deployment_id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        run(&["deployments", "create-revision", &deployment_id, "revision.yaml"]).ok().json()["revision"],
        2
    );
    let renamed =
        run(&["deployments", "update-metadata", &deployment_id, "deployment-update.yaml"]).ok().json();
    assert_eq!(renamed["metadata"]["title"], "Example deployment, renamed");
    let without_id = run(&["deployments", "create", "deployment.yaml"]);
    assert_eq!(without_id.code, 2, "the spec id is a variable the sample names: {}", without_id.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_prints_the_requests_as_sent_and_sends_nothing() {
    let emulator = emulator(Duration::ZERO).await;
    let temp = spec_dir("dry-run");
    let dir = temp.path();
    let run = press_apps(
        &emulator,
        dir,
        &["specs", "create", "spec.yaml", "-p", "name=dry", "-p", "title=D", "--dry-run"],
    )
    .ok();
    assert!(emulator.requests().is_empty(), "nothing reached the service: {:?}", emulator.requests());
    assert!(!run.stdout.contains(TOKEN), "the token is redacted: {}", run.stdout);
    let request = run.json();
    assert_eq!(request["method"], "POST");
    assert_eq!(request["url"], format!("{}/v1/apps/specs/", emulator.base_url()));
    assert_eq!(request["headers"]["authorization"], "<redacted>");
    assert_eq!(request["headers"]["content-type"], "application/json");
    // The service's wire shape, as the client sends it: the spec as a JSON document in a string.
    let spec: Value = serde_json::from_str(request["body"]["spec"].as_str().unwrap()).unwrap();
    assert_eq!(spec["metadata"]["name"], "dry");
    assert_eq!(request["body"]["featured"], "true");

    let delete =
        press_apps(&emulator, dir, &["deployments", "delete", "some-id", "--dry-run", "--wait"]).ok().json();
    assert_eq!((delete["method"].as_str(), delete["body"].is_null()), (Some("DELETE"), true));
    assert!(emulator.requests().is_empty());
    // A wait and a listing stop at their first request, which is the whole output.
    for args in
        [&["deployments", "wait", "some-id", "--dry-run"][..], &["specs", "list", "--all", "--dry-run"]]
    {
        let run = press_apps(&emulator, dir, args).ok();
        assert_eq!(run.stdout.lines().filter(|l| l.starts_with('{')).count(), 1, "{args:?}: {}", run.stdout);
        assert_eq!(run.json()["method"], "GET", "{args:?}");
    }
    assert!(emulator.requests().is_empty());
    // It sends nothing, so it needs no token.
    let tokenless = command(emulator.base_url(), dir, &["specs", "delete", "some-id", "--dry-run"])
        .env_remove("PEAK_AUTH_TOKEN")
        .env_remove("API_KEY")
        .output()
        .unwrap();
    assert_eq!(tokenless.status.code(), Some(0), "{}", String::from_utf8_lossy(&tokenless.stderr));
    let shown: Value = serde_json::from_slice(&tokenless.stdout).unwrap();
    assert_eq!(
        (shown["method"].as_str(), shown["headers"]["authorization"].as_str()),
        (Some("DELETE"), Some("<redacted>"))
    );
    assert!(emulator.requests().is_empty());
    // A value refused before sending is reported as usual.
    assert_eq!(
        press_apps(
            &emulator,
            dir,
            &["specs", "describe-release", "--spec-id", "s", "--version", "v1", "--dry-run"]
        )
        .code,
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_input_schemas_accept_the_samples_and_refuse_what_press_apps_refuses() {
    let emulator = emulator(Duration::ZERO).await;
    let temp = workdir("schema");
    let dir = temp.path();
    let commands = [
        ("specs", "create"),
        ("specs", "create-release"),
        ("specs", "update-metadata"),
        ("deployments", "create"),
        ("deployments", "create-revision"),
        ("deployments", "update-metadata"),
    ];
    for (group, command) in commands {
        let schema = press_apps(&emulator, dir, &["schema", group, command]).ok().json();
        let validator = jsonschema::draft7::new(&schema).unwrap_or_else(|e| panic!("{group} {command}: {e}"));
        let sample = press_apps(&emulator, dir, &[group, command, "--generate"]).ok().stdout;
        let sample: Value = yaml_serde::from_str(&sample.replace("{{ spec_id }}", "some-spec")).unwrap();
        let errors: Vec<String> = validator.iter_errors(&sample).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{group} {command}: its own sample is refused: {errors:?}");

        let mut misspelt = sample.clone();
        misspelt["body"]["notAKey"] = Value::from(1);
        assert!(!validator.is_valid(&misspelt), "{group} {command}: an unknown key passes");
        let mut wrong = sample.clone();
        wrong["body"] = Value::from("a string");
        assert!(!validator.is_valid(&wrong), "{group} {command}: a body of the wrong type passes");
    }
    let unknown = press_apps(&emulator, dir, &["schema", "specs", "list"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
}

/// `text` with what changes from run to run (ids, timestamps) replaced by fixed text of the same
/// length, so that tables keep their alignment.
fn normalized(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let shape = |at: usize, pattern: &str| {
        pattern.chars().enumerate().all(|(i, p)| {
            chars.get(at + i).is_some_and(|&c| match p {
                'h' => c.is_ascii_hexdigit(),
                'd' => c.is_ascii_digit(),
                other => c == other,
            })
        })
    };
    const ID: &str = "hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh";
    const STAMP: &str = "dddd-dd-ddTdd:dd:dd.dddZ";
    // A time on a whole second is printed without its fraction (chrono's form of it).
    const WHOLE_SECOND: &str = "dddd-dd-ddTdd:dd:ddZ";
    let mut out = String::new();
    let mut at = 0;
    while at < chars.len() {
        if shape(at, ID) {
            out.push_str("00000000-0000-0000-0000-000000000000");
            at += ID.len();
        } else if shape(at, STAMP) || shape(at, WHOLE_SECOND) {
            out.push_str("2000-01-01T00:00:00.000Z");
            at += if shape(at, STAMP) { STAMP.len() } else { WHOLE_SECOND.len() };
        } else {
            out.push(chars[at]);
            at += 1;
        }
    }
    out
}

/// Compares `actual` with the golden file `name`; `UPDATE_GOLDEN=1` rewrites it instead.
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    let actual = normalized(actual);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(actual, expected, "{name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it)");
}

#[tokio::test(flavor = "multi_thread")]
async fn tables_and_yaml_match_their_golden_files() {
    let emulator = emulator(Duration::ZERO).await;
    let temp = workdir("golden");
    let dir = temp.path();
    let run = |args: &[&str]| press_apps(&emulator, dir, args);
    write(dir, "spec.yaml", &run(&["specs", "create", "--generate"]).ok().stdout);
    let spec_id = run(&["specs", "create", "spec.yaml"]).ok().json()["id"].as_str().unwrap().to_owned();
    std::fs::write(
        dir.join("other.yaml"),
        std::fs::read_to_string(dir.join("spec.yaml"))
            .unwrap()
            .replace("example-app", "another-app")
            .replace("scope: shared", "scope: public")
            .replace("tenants:\n  - other-tenant\n", ""),
    )
    .unwrap();
    run(&["specs", "create", "other.yaml"]).ok();
    write(dir, "deployment.yaml", &run(&["deployments", "create", "--generate"]).ok().stdout);
    write(dir, "revision.yaml", &run(&["deployments", "create-revision", "--generate"]).ok().stdout);
    let variable = format!("spec_id={spec_id}");
    let deployment_id = run(&["deployments", "create", "deployment.yaml", "-p", &variable]).ok().json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run(&["deployments", "create-revision", &deployment_id, "revision.yaml"]).ok();

    golden("specs-list.txt", &run(&["specs", "list", "--sort", "name", "-o", "table"]).ok().stdout);
    golden("spec-describe.yaml", &run(&["specs", "describe", &spec_id, "-o", "yaml"]).ok().stdout);
    golden("deployments-list.txt", &run(&["deployments", "list", "-o", "table"]).ok().stdout);
    golden(
        "revisions-list.txt",
        &run(&["deployments", "list-revisions", &deployment_id, "--sort", "createdAt", "-o", "table"])
            .ok()
            .stdout,
    );
    golden(
        "revision-describe.yaml",
        &run(&[
            "deployments",
            "describe-revision",
            "--deployment-id",
            &deployment_id,
            "--revision",
            "2",
            "-o",
            "yaml",
        ])
        .ok()
        .stdout,
    );
}

/// The query of the last request the emulator received.
fn last_query(emulator: &Emulator) -> String {
    emulator.requests().last().and_then(|request| request.query.clone()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn list_options_take_repeated_and_comma_joined_values_as_peak_does() {
    let emulator = emulator(Duration::ZERO).await;
    let temp = workdir("lists");
    let dir = temp.path();
    let cases: &[(&[&str], &str)] = &[
        (
            &["specs", "list", "--status", "available", "--status", "unavailable"],
            "status=available&status=unavailable",
        ),
        (&["specs", "list", "--status", "available, unavailable"], "status=available&status=unavailable"),
        (
            &["specs", "list", "--scope", "private", "--scope", "public,shared"],
            "scope=private&scope=public&scope=shared",
        ),
        (
            &["specs", "list", "--sort", "name:asc", "--sort", "title:desc,createdAt"],
            "sort=name%3Aasc&sort=title%3Adesc&sort=createdAt",
        ),
        (
            &["deployments", "list", "--status", "deployed,failed", "--status", "warning"],
            "status=deployed&status=failed&status=warning",
        ),
        (
            &["deployments", "list-revisions", "d", "--status", "deployed", "--status", "superseded"],
            "status=deployed&status=superseded",
        ),
    ];
    for (args, query) in cases {
        let run = press_apps(&emulator, dir, args);
        assert!(run.code == 0 || run.code == 3, "{args:?}: {}", run.stderr);
        assert!(last_query(&emulator).contains(query), "{args:?}: {}", last_query(&emulator));
    }
    let empty = press_apps(&emulator, dir, &["specs", "list", "--status", "available,"]);
    assert_eq!(empty.code, 2, "an empty value is a usage error: {}", empty.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn timeouts_are_human_durations_and_overflow_is_a_usage_error() {
    let emulator = emulator(Duration::ZERO).await;
    let temp = workdir("timeouts");
    let dir = temp.path();
    for timeout in ["90s", "15m", "1h 30m", "2h"] {
        let args = ["deployments", "delete", "d", "--wait", "--timeout", timeout, "--dry-run"];
        press_apps(&emulator, dir, &args).ok();
    }
    for timeout in ["99999999999999999999h", "10 parsecs", "1 fortnight"] {
        let run = press_apps(&emulator, dir, &["deployments", "delete", "d", "--wait", "--timeout", timeout]);
        assert_eq!(run.code, 2, "{timeout}: {}", run.stderr);
        assert!(run.stderr.contains("--timeout"), "{timeout}: {}", run.stderr);
    }
    assert!(emulator.requests().is_empty(), "nothing was sent: {:?}", emulator.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commands_schema_flag_and_the_schema_command_agree() {
    let emulator = emulator(Duration::ZERO).await;
    let temp = workdir("schema-flag");
    let dir = temp.path();
    let flag = press_apps(&emulator, dir, &["deployments", "create", "--schema"]).ok().json();
    let command = press_apps(&emulator, dir, &["schema", "deployments", "create"]).ok().json();
    assert_eq!(flag, command);
    assert_eq!(flag["title"], "press-apps deployments create input file");
    assert_eq!(flag["required"], serde_json::json!(["body"]));
}

/// `command` with `stdin` written to its standard input.
fn with_stdin(mut command: Command, stdin: &str) -> Run {
    use std::io::Write;
    let mut child =
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scripts_get_bare_values_with_jq_and_files_from_standard_input() {
    let emulator = emulator(Duration::ZERO).await;
    let temp = spec_dir("jq");
    let dir = temp.path();
    let sample = press_apps(&emulator, dir, &["specs", "create", "--generate"]).ok().stdout;
    let created =
        with_stdin(command(emulator.base_url(), dir, &["specs", "create", "-", "--jq", ".id"]), &sample).ok();
    let id = created.stdout.trim_end();
    assert_eq!(created.stdout.lines().count(), 1, "{}", created.stdout);
    let described = press_apps(&emulator, dir, &["specs", "describe", id]).ok().json();
    assert_eq!(
        (described["id"].as_str(), described["metadata"]["name"].as_str()),
        (Some(id), Some("example-app"))
    );

    create_specs(&emulator, dir, "jq", 3);
    let names =
        press_apps(&emulator, dir, &["specs", "list", "--all", "--sort", "name", "--jq", ".metadata.name"])
            .ok();
    assert_eq!(names.stdout, "example-app\njq-0\njq-1\njq-2\n");
    let count =
        press_apps(&emulator, dir, &["specs", "list", "--jq", "[.specs[] | select(.featured)] | length"])
            .ok();
    assert_eq!(count.stdout, "3\n", "non-text results are JSON");

    emulator.clear_requests();
    for args in [
        &["specs", "list", "--jq", ".specs["][..],
        &["specs", "list", "--jq", "no_such_filter"],
        &["specs", "list", "--jq", ".id", "-o", "table"],
    ] {
        let refused = press_apps(&emulator, dir, args);
        assert_eq!(refused.code, 2, "{args:?}: {}", refused.stderr);
        assert!(refused.stderr.contains("--jq"), "{args:?}: {}", refused.stderr);
    }
    assert!(emulator.requests().is_empty(), "a bad expression is refused before any request");
}

#[tokio::test(flavor = "multi_thread")]
async fn deployments_wait_resumes_a_wait_and_exits_as_wait_does() {
    let emulator = emulator(Duration::from_millis(300)).await;
    let temp = spec_dir("wait");
    let dir = temp.path();
    let spec_id = create_specs(&emulator, dir, "wait", 1).remove(0);
    let deployment = press_apps(&emulator, dir, &["deployments", "create", "--generate"]).ok().stdout;
    write(dir, "deployment.yaml", &deployment);
    let spec_id_param = format!("spec_id={spec_id}");
    let args = ["deployments", "create", "deployment.yaml", "-p", &spec_id_param, "--jq", ".id"];
    let deployment_id = press_apps(&emulator, dir, &args).ok().stdout.trim_end().to_owned();

    let waited =
        press_apps(&emulator, dir, &["deployments", "wait", &deployment_id, "--timeout", "20s"]).ok();
    assert_eq!(waited.json()["metadata"]["status"], "deployed");
    assert!(waited.stderr.contains("is deployed at revision 1"), "{}", waited.stderr);

    let too_soon = press_apps(
        &emulator,
        dir,
        &["deployments", "wait", &deployment_id, "--for", "gone", "--timeout", "1s"],
    );
    assert_eq!(too_soon.code, 7, "a wait that runs out exits as --wait does: {}", too_soon.stderr);

    press_apps(&emulator, dir, &["deployments", "delete", &deployment_id]).ok();
    let gone = press_apps(&emulator, dir, &["deployments", "wait", &deployment_id, "--for", "gone"]).ok();
    assert!(gone.stderr.contains("is gone"), "{}", gone.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn verbose_shows_each_request_and_retry_without_the_token() {
    let emulator = Emulator::builder().token(TOKEN).start().await.unwrap();
    let temp = workdir("verbose");
    let dir = temp.path();
    emulator.fail_next("GET", "/v1/apps/specs/", 1, peak_press_apps_emulator::Fault::Unavailable);
    let run = press_apps(&emulator, dir, &["specs", "list", "--verbose"]).ok();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "a 503, its retry, the answer: {}", run.stderr);
    assert!(lines[0].contains("response method=GET") && lines[0].contains("status=503"), "{}", lines[0]);
    assert!(lines[1].contains("retrying attempt=1") && lines[1].contains("503"), "{}", lines[1]);
    assert!(
        lines[2].contains("/v1/apps/specs/?pageNumber=1") && lines[2].contains("status=200"),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains("duration_ms="), "{}", lines[2]);

    let headers = press_apps(&emulator, dir, &["specs", "list", "--verbose", "--verbose"]).ok();
    assert!(headers.stderr.contains(r#""authorization": Sensitive"#), "{}", headers.stderr);
    let quiet = press_apps(&emulator, dir, &["specs", "list"]).ok();
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    let chosen = command(emulator.base_url(), dir, &["specs", "list"])
        .env("RUST_LOG", "peak_press_apps::http=debug")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&chosen.stderr).contains("status=200"), "RUST_LOG chooses too");
}

#[tokio::test(flavor = "multi_thread")]
async fn file_mistakes_name_the_file_line_and_key_in_the_files_terms() {
    let emulator = emulator(Duration::ZERO).await;
    let temp = spec_dir("file-errors");
    let dir = temp.path();
    write(dir, "version.yaml", &SPEC.replace("    version: 1.0.0\n    notes", "    version: 1.0\n    notes"));
    write(dir, "list.yaml", &SPEC.replace("  metadata:\n    name", "  metadata: []\n  unused:\n    name"));
    let version =
        press_apps(&emulator, dir, &["specs", "create", "version.yaml", "-p", "name=v", "-p", "title=V"]);
    assert_eq!(version.code, 2, "{}", version.stderr);
    assert!(
        version.stderr.contains("version.yaml: `body.release.version`: \"1.0\" is not a semantic version"),
        "{}",
        version.stderr
    );
    assert!(version.stderr.contains("(line 10, column 5)"), "{}", version.stderr);
    let list = press_apps(&emulator, dir, &["specs", "create", "list.yaml", "-p", "name=v", "-p", "title=V"]);
    assert_eq!(list.code, 2, "{}", list.stderr);
    assert!(list.stderr.contains("list.yaml") && list.stderr.contains("line"), "{}", list.stderr);
    assert!(
        list.stderr
            .contains("list.yaml: `body.metadata`: a list where a map of keys belongs (line 4, column 13)"),
        "{}",
        list.stderr
    );
    assert!(!list.stderr.contains("struct") && !list.stderr.contains("NewSpecMetadata"), "{}", list.stderr);

    // Messages built from what is there and what belongs: a key left out.
    write(
        dir,
        "no-summary.yaml",
        "body:\n  version: 1\n  kind: app\n  metadata:\n    name: s\n  release:\n    version: 1.0.0\n    notes: n\n  config: []\n",
    );
    let run = press_apps(&emulator, dir, &["specs", "create", "no-summary.yaml"]);
    assert!(
        run.stderr.contains("no-summary.yaml: `body.metadata`: `summary` is required here"),
        "{}",
        run.stderr
    );

    // The same key at several places: the message points at the one that is wrong.
    let blocks = "body:\n  version: 1\n  kind: app\n  metadata:\n    name: s\n    summary: s\n  release:\n    \
                  version: 1.0.0\n    notes: n\n  config:\n    - id: a\n      release:\n        version: 1.0.0\n    \
                  - id: b\n      release:\n        version: oops\n";
    write(dir, "blocks.yaml", blocks);
    let run = press_apps(&emulator, dir, &["specs", "create", "blocks.yaml"]);
    assert!(run.stderr.contains("`body.config.1.release.version`: \"oops\""), "{}", run.stderr);
    assert!(
        run.stderr.contains("(line 16, column 9)"),
        "the second block's, not the first's: {}",
        run.stderr
    );
    let parameters = format!(
        "{}parameters:\n  run:\n    - name: a\n      type: string\n      required: false\n    - name: b\n      type: string\n      requird: false\n",
        blocks.replace("oops", "1.0.0")
    );
    write(dir, "parameters.yaml", &parameters);
    let run = press_apps(&emulator, dir, &["specs", "create", "parameters.yaml"]);
    assert!(run.stderr.contains("unknown key `parameters.run.1.requird`"), "{}", run.stderr);
    assert!(run.stderr.contains("(line 24, column 7)"), "the second parameter's line: {}", run.stderr);
    assert!(emulator.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn tables_for_one_answer_and_a_word_about_more_pages() {
    let emulator = emulator(Duration::ZERO).await;
    let temp = spec_dir("tables");
    let dir = temp.path();
    let ids = create_specs(&emulator, dir, "t", 3);
    let table = press_apps(&emulator, dir, &["specs", "describe", &ids[0], "-o", "table"]).ok().stdout;
    let rows: Vec<&str> = table.lines().collect();
    assert!(rows[0].starts_with("FIELD") && rows[0].contains("VALUE"), "{table}");
    assert!(rows.iter().any(|row| row.starts_with("metadata.name") && row.ends_with("t-0")), "{table}");
    assert!(
        rows.iter().any(|row| row.starts_with("latestRelease.version") && row.ends_with("1.0.0")),
        "{table}"
    );

    let page = press_apps(&emulator, dir, &["specs", "list", "-o", "table", "--page-size", "2"]).ok();
    assert_eq!(page.stdout.lines().count(), 3, "{}", page.stdout);
    assert!(
        page.stderr.contains("page 1 of 2 (3 specs in all); --page-number 2 for the next, --all"),
        "{}",
        page.stderr
    );
    let last = press_apps(
        &emulator,
        dir,
        &["specs", "list", "-o", "table", "--page-size", "2", "--page-number", "2"],
    )
    .ok();
    assert!(last.stderr.is_empty(), "{}", last.stderr);
}

#[test]
fn a_mistyped_command_gets_the_right_one_suggested() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_press-apps")).arg("spce").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("similar subcommands exist") && stderr.contains("'specs'"), "{stderr}");
}
