//! `press-apps plan` and `apply` through the binary against the in-process emulator: a
//! repository's directory of files, the plan as people and programs read it, exit codes, dry
//! runs, bad files and the files' schema.

use std::{path::Path, process::Command, time::Duration};

use peak_press_apps_emulator::Emulator;
use serde_json::Value;
use tempfile::TempDir;

const TOKEN: &str = "declarative-test-token";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn press_apps(emulator: &Emulator, dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_press-apps"))
        .args(args)
        .arg("--base-url")
        .arg(emulator.base_url())
        .current_dir(dir)
        .env("PEAK_AUTH_TOKEN", TOKEN)
        .output()
        .expect("the binary runs");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked") && !run.stderr.contains(TOKEN), "{}", run.stderr);
    run
}

/// A repository's directory: a spec and, in a subdirectory, a deployment that names it.
fn repository(name: &str, replicas: u32) -> TempDir {
    let temp = tempfile::Builder::new().prefix(&format!("press-apps-declarative-{name}-")).tempdir().unwrap();
    let dir = temp.path();
    std::fs::create_dir_all(dir.join("apps/deployments")).unwrap();
    std::fs::write(dir.join("apps/churn.yaml"), SPEC).unwrap();
    std::fs::write(
        dir.join("apps/deployments/churn-prod.yaml"),
        DEPLOYMENT.replace("REPLICAS", &replicas.to_string()),
    )
    .unwrap();
    std::fs::write(dir.join("apps/README.md"), "not a file of the set").unwrap();
    temp
}

const SPEC: &str = r#"body:
  version: 1
  kind: app
  metadata:
    name: churn
    title: Churn model
    summary: Predicts churn
  release:
    version: 1.0.0
    notes: First release
  config: []
parameters:
  build: []
  run:
    - name: replicas
      type: number
      required: false
      defaultValue: 1
    - name: api_key
      type: string
      required: false
      defaultValue: ""
      hideValue: true
"#;

const DEPLOYMENT: &str = r#"body:
  metadata:
    name: churn-prod
    title: Churn in production
    summary: Nightly scoring
  spec:
    name: churn
  appParameters:
    build: {}
    run:
      replicas: REPLICAS
      api_key: "{{ api_key }}"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn plan_then_apply_then_nothing_left_to_do() {
    let emulator = Emulator::builder().deploy_delay(Duration::from_millis(100)).start().await.unwrap();
    let temp = repository("cycle", 2);
    let dir = temp.path();
    let set = ["apps", "-p", "api_key=first", "--owner", "team-a"];
    let with = |extra: &[&'static str]| -> Vec<&str> { extra.iter().copied().chain(set).collect() };

    let planned = press_apps(&emulator, dir, &with(&["plan", "--detailed-exitcode"]));
    assert_eq!(planned.code, 10, "changes pending: {}", planned.stderr);
    let headlines: Vec<&str> = planned.stdout.lines().filter(|line| !line.starts_with(' ')).collect();
    assert_eq!(
        headlines,
        [
            "+ spec churn: create",
            "+ deployment churn-prod: create",
            "Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged."
        ]
    );
    // A create shows the fields it sets, the secret masked.
    assert!(
        planned.stdout.contains("\n    metadata.title: (none) -> \"Churn model\"\n"),
        "{}",
        planned.stdout
    );
    assert!(planned.stdout.contains("\n    appParameters.run.replicas: (none) -> 2\n"), "{}", planned.stdout);
    assert!(
        planned.stdout.contains("appParameters.run.api_key: (hidden value) -> (hidden value)"),
        "{}",
        planned.stdout
    );
    assert!(!planned.stdout.contains("first"), "{}", planned.stdout);
    assert!(emulator.requests().iter().all(|r| r.method == "GET"), "plan sends no write");

    let applied = press_apps(&emulator, dir, &with(&["apply", "--wait", "--timeout", "30s"]));
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(applied.stdout, "Apply: 2 created, 0 updated, 0 deleted, 0 unchanged.\n");
    assert!(
        applied.stderr.contains("spec churn: created (")
            && applied.stderr.contains("deployment churn-prod: created (")
    );
    let deployment = &press_apps(&emulator, dir, &["deployments", "list", "--jq", ".deployments[0]"]).stdout;
    let deployment: Value = serde_json::from_str(deployment).unwrap();
    assert_eq!(deployment["metadata"]["status"], "deployed", "--wait waited");
    let tags: Vec<&str> = deployment["metadata"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(tags, ["press-apps.owner:team-a", r#"press-apps.applied:{"fields":["title"]}"#]);

    emulator.clear_requests();
    let again = press_apps(&emulator, dir, &with(&["apply"]));
    assert_eq!(again.stdout, "Apply: 0 created, 0 updated, 0 deleted, 2 unchanged.\n");
    assert!(emulator.requests().iter().all(|r| r.method == "GET"), "a second apply sends no write");
    assert_eq!(press_apps(&emulator, dir, &with(&["plan", "--detailed-exitcode"])).code, 0);

    // A new value, and a rotated secret: one revision, the secret shown as hidden.
    let temp = repository("cycle-2", 3);
    let dir = temp.path();
    let changed = press_apps(&emulator, dir, &["plan", "apps", "-p", "api_key=second", "--owner", "team-a"]);
    assert!(changed.stdout.contains("~ deployment churn-prod ("), "{}", changed.stdout);
    assert!(changed.stdout.contains("    appParameters.run.replicas: 2 -> 3\n"), "{}", changed.stdout);
    assert!(changed.stdout.contains("(hidden value) -> (hidden value)"), "{}", changed.stdout);
    assert!(!changed.stdout.contains("second") && !changed.stdout.contains("first"), "{}", changed.stdout);
    let json = press_apps(
        &emulator,
        dir,
        &["plan", "apps", "-p", "api_key=second", "--owner", "team-a", "-o", "json"],
    );
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["formatVersion"], 2);
    assert_eq!(json["summary"]["update"], 1);
    assert_eq!(json["resources"][1]["actions"], serde_json::json!(["revise"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_apply_shows_the_writes_and_sends_none() {
    let emulator = Emulator::start().await.unwrap();
    let temp = repository("dry", 2);
    let dir = temp.path();
    let run = press_apps(&emulator, dir, &["apply", "apps", "-p", "api_key=k", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let requests: Vec<Value> =
        serde_json::Deserializer::from_str(&run.stdout).into_iter::<Value>().map(Result::unwrap).collect();
    assert_eq!(requests.len(), 2, "{}", run.stdout);
    assert_eq!(
        (requests[0]["method"].as_str(), requests[1]["method"].as_str()),
        (Some("POST"), Some("POST"))
    );
    assert!(requests[1]["url"].as_str().unwrap().ends_with("/v1/apps/deployments/"));
    assert_eq!(requests[1]["headers"]["authorization"], "<redacted>");
    assert!(emulator.requests().iter().all(|r| r.method == "GET"), "nothing was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_sets_are_refused_before_anything_is_sent() {
    let emulator = Emulator::start().await.unwrap();
    let temp = repository("bad", 2);
    let dir = temp.path();
    std::fs::write(dir.join("neither.yaml"), "body:\n  metadata:\n    name: x\n").unwrap();
    std::fs::write(dir.join("broken.yaml"), "body: [\n").unwrap();
    std::fs::write(dir.join("typo.yaml"), SPEC.replace("summary:", "sumary:")).unwrap();
    std::fs::write(
        dir.join("orphan.yaml"),
        DEPLOYMENT.replace("name: churn\n", "name: nowhere\n").replace("REPLICAS", "1"),
    )
    .unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["plan", "neither.yaml"],
            "neither.yaml: `body` has neither: a spec file has body.release and body.config, a deployment file body.spec (line 1, column 1)",
        ),
        (&["plan", "typo.yaml"], "unknown key `body.metadata.sumary`; did you mean `summary`?"),
        (&["plan", "orphan.yaml", "-p", "api_key=k"], "no spec \"nowhere\" in the files or the service"),
        (&["plan", "apps", "apps/churn.yaml", "-p", "api_key=k"], "spec \"churn\" is described twice"),
        (&["apply", "apps", "--prune"], "--owner"),
        (&["watch", "apps", "-p", "api_key=k", "--dry-run"], "--report-only reports without writing"),
        (&["watch", "broken.yaml"], "broken.yaml"),
        (&["watch", "-"], "not standard input"),
    ];
    for (args, needle) in cases {
        let run = press_apps(&emulator, dir, args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    }
    assert!(emulator.requests().iter().all(|r| r.method == "GET"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_schema_of_the_set_accepts_both_kinds_of_file() {
    let emulator = Emulator::start().await.unwrap();
    let temp = repository("schema", 2);
    let dir = temp.path();
    let schema: Value =
        serde_json::from_str(&press_apps(&emulator, dir, &["schema", "apply"]).stdout).unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let spec: Value = yaml_serde::from_str(SPEC).unwrap();
    let deployment: Value = yaml_serde::from_str(&DEPLOYMENT.replace("REPLICAS", "2")).unwrap();
    for file in [&spec, &deployment] {
        let errors: Vec<String> = validator.iter_errors(file).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
    let mut typo = deployment.clone();
    typo["body"]["spec"]["nmae"] = Value::from("churn");
    assert!(!validator.is_valid(&typo), "an unknown key is refused");
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_applied_as_reviewed_and_refused_when_stale() {
    let emulator = Emulator::builder().deploy_delay(Duration::ZERO).start().await.unwrap();
    let temp = repository("saved", 2);
    let dir = temp.path();

    // Reviewed on the pull request, applied on merge: exactly that plan, the files not read again.
    let planned =
        press_apps(&emulator, dir, &["plan", "apps", "-p", "api_key=first", "--out", "reviewed.plan"]);
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    assert!(planned.stderr.contains("press-apps apply reviewed.plan"), "{}", planned.stderr);
    assert_eq!(mode(&dir.join("reviewed.plan")), 0o600, "it holds hidden values");
    std::fs::remove_dir_all(dir.join("apps")).unwrap();
    let applied = press_apps(&emulator, dir, &["apply", "reviewed.plan"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(applied.stdout, "Apply: 2 created, 0 updated, 0 deleted, 0 unchanged.\n");

    // A second plan, then a change by hand before it is applied: refused, nothing written.
    let temp = repository("saved-2", 3);
    let dir = temp.path();
    let planned = press_apps(&emulator, dir, &["plan", "apps", "-p", "api_key=first", "--out", "next.plan"]);
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    let id = press_apps(&emulator, dir, &["deployments", "list", "--jq", ".deployments[0].id"]).stdout;
    let by_hand = "title: Retitled by hand\n";
    std::fs::write(dir.join("by-hand.yaml"), format!("body:\n  {by_hand}")).unwrap();
    let updated = press_apps(&emulator, dir, &["deployments", "update-metadata", id.trim(), "by-hand.yaml"]);
    assert_eq!(updated.code, 0, "{}", updated.stderr);
    emulator.clear_requests();
    let stale = press_apps(&emulator, dir, &["apply", "next.plan"]);
    assert_eq!(stale.code, 8, "{}", stale.stderr);
    assert!(stale.stderr.contains("deployment churn-prod: metadata.title"), "{}", stale.stderr);
    assert!(stale.stderr.contains("no write was sent"), "{}", stale.stderr);
    assert!(emulator.requests().iter().all(|r| r.method == "GET"), "nothing was written");

    // Edited, cut short, or given with options of its own: refused.
    let text = std::fs::read_to_string(dir.join("next.plan")).unwrap();
    std::fs::write(dir.join("edited.plan"), text.replace("\"replicas\": 3", "\"replicas\": 30")).unwrap();
    let edited = press_apps(&emulator, dir, &["apply", "edited.plan"]);
    assert_eq!(edited.code, 8, "{}", edited.stderr);
    assert!(edited.stderr.contains("checksum"), "{}", edited.stderr);
    std::fs::write(dir.join("cut.plan"), &text[..text.len() / 2]).unwrap();
    assert_eq!(press_apps(&emulator, dir, &["apply", "cut.plan"]).code, 8);
    let flags = press_apps(&emulator, dir, &["apply", "next.plan", "-p", "api_key=x"]);
    assert_eq!(flags.code, 2, "{}", flags.stderr);
    assert!(emulator.requests().iter().all(|r| r.method == "GET"), "nothing was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_owner_comes_from_the_environment_and_a_markdown_plan_is_a_review_comment() {
    let emulator = Emulator::builder().deploy_delay(Duration::ZERO).start().await.unwrap();
    let temp = repository("markdown", 2);
    let dir = temp.path();
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_press-apps"))
            .args(args)
            .args(["--base-url", emulator.base_url()])
            .current_dir(dir)
            .env("PEAK_AUTH_TOKEN", TOKEN)
            .env("PRESS_APPS_OWNER", "team-env")
            .output()
            .unwrap();
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let (code, markdown) = run(&["plan", "apps", "-p", "api_key=very-secret", "-o", "markdown"]);
    assert_eq!(code, Some(0));
    assert!(markdown.starts_with("### press-apps plan\n\n**Plan: 2 to create,"), "{markdown}");
    assert!(markdown.contains("| `+` | deployment | churn-prod | create |"), "{markdown}");
    assert!(
        markdown.contains("<details><summary><code>+</code> spec <b>churn</b>: create</summary>"),
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "<code>metadata.title</code> | <code>(none)</code> | <code>&quot;Churn model&quot;</code>"
        ) || markdown
            .contains("<code>metadata.title</code> | <code>(none)</code> | <code>\"Churn model\"</code>"),
        "{markdown}"
    );
    assert!(markdown.contains("press-apps.owner:team-env"), "the owner from PRESS_APPS_OWNER: {markdown}");
    assert!(!markdown.contains("very-secret"), "{markdown}");
    assert_eq!(run(&["specs", "list", "-o", "markdown"]).0, Some(2), "markdown is for plan");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_pin_is_shown_in_its_file_and_line_and_apply_writes_nothing() {
    let emulator = Emulator::start().await.unwrap();
    let temp = repository("pin", 2);
    let dir = temp.path();
    let pinned =
        DEPLOYMENT.replace("    name: churn\n", "    name: churn\n    release:\n      version: 0.9.0\n");
    std::fs::write(dir.join("apps/deployments/churn-prod.yaml"), pinned.replace("REPLICAS", "1")).unwrap();
    for command in ["plan", "apply"] {
        let run = press_apps(&emulator, dir, &[command, "apps", "-p", "api_key=k"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains(
                "deployment churn-prod in apps/deployments/churn-prod.yaml (line 9, column 7): release 0.9.0 of spec \"churn\""
            ),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("the releases there are: 1.0.0"), "{}", run.stderr);
    }
    assert!(emulator.requests().iter().all(|r| r.method == "GET"), "nothing was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn what_exists_is_exported_as_files_that_plan_finds_unchanged_and_is_adopted_with_an_owner() {
    let emulator = Emulator::builder().deploy_delay(Duration::ZERO).start().await.unwrap();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    // Made by hand, with the official commands' files: no owner, no record of the hidden value.
    std::fs::write(
        dir.join("spec.yaml"),
        SPEC.replace(
            "    summary: Predicts churn\n",
            "    summary: Predicts churn\n    tags:\n      - name: ml\n",
        ),
    )
    .unwrap();
    let created = press_apps(&emulator, dir, &["specs", "create", "spec.yaml", "--jq", ".id"]);
    assert_eq!(created.code, 0, "{}", created.stderr);
    let deployment = format!(
        "body:\n  metadata:\n    name: churn-prod\n    summary: Nightly\n  spec:\n    id: {}\n    release:\n      version: 1.0.0\n  appParameters:\n    run:\n      replicas: 4\n      api_key: hand-made-secret\n  revision:\n    notes: by hand\n",
        created.stdout.trim()
    );
    std::fs::write(dir.join("deployment.yaml"), deployment).unwrap();
    assert_eq!(press_apps(&emulator, dir, &["deployments", "create", "deployment.yaml"]).code, 0);

    let exported = press_apps(&emulator, dir, &["export", "repo"]);
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    assert!(exported.stderr.contains("wrote 1 specs and 1 deployments"), "{}", exported.stderr);
    assert!(exported.stderr.contains("-p churn_prod_api_key=VALUE"), "{}", exported.stderr);
    let file = std::fs::read_to_string(dir.join("repo/deployments/churn-prod.yaml")).unwrap();
    assert!(
        file.contains("name: churn\n") && file.contains("version: 1.0.0"),
        "by spec name and release: {file}"
    );
    assert!(!file.contains("hand-made-secret") && file.contains("'{{ churn_prod_api_key }}'"), "{file}");

    // Right after: no change, and a remark that the hidden value cannot be verified.
    let planned = press_apps(
        &emulator,
        dir,
        &["plan", "repo", "-p", "churn_prod_api_key=hand-made-secret", "--detailed-exitcode"],
    );
    assert_eq!(planned.code, 0, "{}{}", planned.stdout, planned.stderr);
    assert!(planned.stdout.contains("cannot be verified"), "{}", planned.stdout);
    assert!(
        planned.stdout.ends_with("Plan: 0 to create, 0 to update, 0 to delete, 2 unchanged.\n"),
        "{}",
        planned.stdout
    );

    // Adopted: apply with an owner only adds the owner's mark.
    emulator.clear_requests();
    let adopted =
        press_apps(&emulator, dir, &["apply", "repo", "-p", "churn_prod_api_key=x", "--owner", "team"]);
    assert_eq!(adopted.code, 0, "{}", adopted.stderr);
    let writes: Vec<String> =
        emulator.requests().iter().filter(|r| r.method != "GET").map(|r| r.method.clone()).collect();
    assert_eq!(writes, ["PATCH", "PATCH"], "the two owner marks, nothing else");
    assert_eq!(press_apps(&emulator, dir, &["export", "repo"]).code, 2, "never overwrites");
    let chosen = press_apps(&emulator, dir, &["export", "only", "--name", "churn"]);
    assert!(chosen.stderr.contains("wrote 1 specs and 0 deployments"), "{}", chosen.stderr);
    assert!(dir.join("only/specs/churn.yaml").exists() && !dir.join("only/deployments").exists());
}

/// A GET on loopback, without a client library: the status code and the body.
fn http_get(address: &str, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let code = answer.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()))
}

fn wait_for(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_applies_the_files_follows_an_edit_serves_its_status_and_stops_cleanly_on_sigterm() {
    let emulator = Emulator::builder().deploy_delay(Duration::ZERO).start().await.unwrap();
    let temp = repository("watch", 2);
    let dir = temp.path().to_owned();
    let address = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };
    let child = Command::new(env!("CARGO_BIN_EXE_press-apps"))
        .args(["watch", "apps", "-p", "api_key=very-secret", "--interval", "1h", "--log-format", "json"])
        .args(["--listen", &address, "--base-url", emulator.base_url()])
        .current_dir(&dir)
        .env("PEAK_AUTH_TOKEN", TOKEN)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let ready = tokio::task::spawn_blocking({
        let address = address.clone();
        move || {
            wait_for(Duration::from_secs(20), || {
                http_get(&address, "/readyz").is_some_and(|(code, _)| code == 200)
            })
        }
    });
    assert!(ready.await.unwrap(), "ready after the first round");
    let list = |emulator: &Emulator| {
        let run =
            press_apps(emulator, &dir, &["deployments", "list", "--jq", ".deployments[0].metadata.title"]);
        run.stdout.trim().to_owned()
    };
    assert_eq!(list(&emulator), "Churn in production");

    // An edit is applied within seconds, though the interval is an hour; an editor's save of
    // several files at once is one round.
    let rounds = |address: &str| {
        let (_, metrics) = http_get(address, "/metrics").unwrap();
        let prefix = "press_apps_reconcile_total{result=\"success\"}";
        let line = metrics.lines().find(|l| l.starts_with(prefix)).unwrap().to_owned();
        line.rsplit(' ').next().unwrap().parse::<u64>().unwrap()
    };
    let before = rounds(&address);
    let file = dir.join("apps/deployments/churn-prod.yaml");
    let edited =
        std::fs::read_to_string(&file).unwrap().replace("Churn in production", "Edited while watched");
    std::fs::write(&file, edited).unwrap();
    let spec = std::fs::read_to_string(dir.join("apps/churn.yaml")).unwrap();
    std::fs::write(dir.join("apps/churn.yaml"), spec).unwrap();
    std::fs::write(dir.join("apps/notes.yml.bak"), "not a file of the set").unwrap();
    let followed = tokio::task::spawn_blocking({
        let dir = dir.clone();
        let base = emulator.base_url().to_owned();
        move || {
            wait_for(Duration::from_secs(15), || {
                let output = Command::new(env!("CARGO_BIN_EXE_press-apps"))
                    .args([
                        "deployments",
                        "list",
                        "--jq",
                        ".deployments[0].metadata.title",
                        "--base-url",
                        &base,
                    ])
                    .current_dir(&dir)
                    .env("PEAK_AUTH_TOKEN", TOKEN)
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&output.stdout).trim() == "Edited while watched"
            })
        }
    });
    assert!(followed.await.unwrap(), "the edit was applied");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(rounds(&address), before + 1, "one round for the three files written");
    let (code, status) = http_get(&address, "/status").unwrap();
    assert_eq!(code, 200);
    assert!(status.contains("\"name\":\"churn-prod\"") && status.contains("\"sync\":\"Synced\""), "{status}");
    let (_, metrics) = http_get(&address, "/metrics").unwrap();
    assert!(metrics.contains("press_apps_reconcile_total{result=\"success\"}"), "{metrics}");

    // SIGTERM: exits 0, and what it logged is JSON lines without the token or the hidden value.
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let exited = tokio::task::spawn_blocking(move || {
        let output = child.wait_with_output().unwrap();
        (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
    });
    let (code, stderr) = tokio::time::timeout(Duration::from_secs(20), exited).await.unwrap().unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    let rounds: Vec<Value> = stderr
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|event: &Value| event["message"] == "round")
        .collect();
    assert!(rounds.len() >= 2, "{stderr}");
    assert_eq!(rounds[0]["result"], "success", "{stderr}");
    assert!(!stderr.contains(TOKEN) && !stderr.contains("very-secret"), "{stderr}");
}

/// An emulator that answers in 40 ms, and a repository of four specs with a deployment each: a
/// round long enough to stop or kill a watch in the middle of.
async fn slow_emulator_and_four_apps(name: &str) -> (Emulator, TempDir) {
    let emulator = Emulator::builder()
        .deploy_delay(Duration::ZERO)
        .faults(peak_press_apps_emulator::Faults::new(0.0).latency(Duration::from_millis(40)))
        .start()
        .await
        .unwrap();
    let temp = repository(name, 2);
    for i in 0..4 {
        let spec = SPEC.replace("name: churn\n", &format!("name: churn-{i}\n"));
        std::fs::write(temp.path().join(format!("apps/churn-{i}.yaml")), spec).unwrap();
        let deployment = DEPLOYMENT
            .replace("name: churn-prod", &format!("name: churn-{i}-prod"))
            .replace("name: churn\n", &format!("name: churn-{i}\n"))
            .replace("REPLICAS", "1");
        std::fs::write(temp.path().join(format!("apps/deployments/churn-{i}.yaml")), deployment).unwrap();
    }
    (emulator, temp)
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_killed_mid_round_and_started_again_converges_without_duplicates() {
    let (emulator, temp) = slow_emulator_and_four_apps("killed").await;
    let dir = temp.path().to_owned();
    let watch = || {
        Command::new(env!("CARGO_BIN_EXE_press-apps"))
            .args(["watch", "apps", "-p", "api_key=k", "--interval", "1h", "--base-url", emulator.base_url()])
            .current_dir(&dir)
            .env("PEAK_AUTH_TOKEN", TOKEN)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // Killed with -9 once some writes reached the service, before the round could finish.
    let mut first = watch();
    let started = std::time::Instant::now();
    while emulator.requests().iter().filter(|r| r.method == "POST").count() < 3 {
        assert!(started.elapsed() < Duration::from_secs(20), "no writes");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let creates = emulator.requests().iter().filter(|r| r.method == "POST").count();
    assert!(creates < 10, "killed before the round ended: {creates} of the 10 creates");

    // Started again: converged, each spec with one release and each deployment with one revision.
    let mut second = watch();
    let converged = tokio::task::spawn_blocking({
        let dir = dir.clone();
        let base = emulator.base_url().to_owned();
        move || {
            wait_for(Duration::from_secs(30), || {
                let output = Command::new(env!("CARGO_BIN_EXE_press-apps"))
                    .args(["plan", "apps", "-p", "api_key=k", "--detailed-exitcode", "--base-url", &base])
                    .current_dir(&dir)
                    .env("PEAK_AUTH_TOKEN", TOKEN)
                    .output()
                    .unwrap();
                output.status.code() == Some(0)
            })
        }
    });
    assert!(converged.await.unwrap(), "converged after the restart");
    second.kill().unwrap();
    second.wait().unwrap();
    let specs = press_apps(&emulator, &dir, &["specs", "list", "--all", "--jq", ".id"]).stdout;
    let specs: Vec<&str> = specs.lines().collect();
    assert_eq!(specs.len(), 5);
    for id in specs {
        let releases = press_apps(
            &emulator,
            &dir,
            &["specs", "list-releases", "--spec-id", id, "--jq", ".releases | length"],
        );
        assert_eq!(releases.stdout.trim(), "1", "one release of {id}");
    }
    let deployments = press_apps(&emulator, &dir, &["deployments", "list", "--all", "--jq", ".id"]).stdout;
    let deployments: Vec<&str> = deployments.lines().collect();
    assert_eq!(deployments.len(), 5);
    for id in deployments {
        let revisions = press_apps(
            &emulator,
            &dir,
            &["deployments", "list-revisions", id, "--jq", ".revisions | length"],
        );
        assert_eq!(revisions.stdout.trim(), "1", "one revision of {id}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_markdown_plan_caps_its_details_and_says_how_much_it_left_out() {
    let emulator = Emulator::start().await.unwrap();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    std::fs::create_dir_all(dir.join("apps")).unwrap();
    for i in 0..60 {
        let file = SPEC.replace("name: churn\n", &format!("name: churn-{i:02}\n"));
        std::fs::write(dir.join(format!("apps/spec-{i:02}.yaml")), file).unwrap();
    }
    let run = press_apps(&emulator, dir, &["plan", "apps", "-o", "markdown"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.matches("| `+` | spec |").count(), 60, "the table lists every resource");
    // At most 50 resources' details, fewer when they would pass 40,000 characters.
    let detailed = run.stdout.matches("<details>").count();
    assert!((1..=50).contains(&detailed), "{detailed}");
    let left_out = format!("_The details of {} more resources are left out", 60 - detailed);
    assert!(run.stdout.contains(&left_out), "{}", run.stdout);
    assert!(run.stdout.len() < 65_536, "fits a pull-request comment: {}", run.stdout.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_stopped_by_sigterm_mid_round_begins_nothing_more_and_exits_0() {
    let (emulator, temp) = slow_emulator_and_four_apps("stopped").await;
    let dir = temp.path().to_owned();
    let posts = |emulator: &Emulator| emulator.requests().iter().filter(|r| r.method == "POST").count();
    let watch = Command::new(env!("CARGO_BIN_EXE_press-apps"))
        .args(["watch", "apps", "-p", "api_key=k", "--interval", "1h", "--base-url", emulator.base_url()])
        .current_dir(&dir)
        .env("PEAK_AUTH_TOKEN", TOKEN)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while posts(&emulator) < 2 {
        assert!(started.elapsed() < Duration::from_secs(20), "no writes");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // SIGTERM while the specs' creates are in flight: they finish, no deployment (which waits for
    // its spec) is begun, and it exits 0 before the round is done.
    assert!(Command::new("kill").args(["-TERM", &watch.id().to_string()]).status().unwrap().success());
    let output = tokio::task::spawn_blocking(move || watch.wait_with_output().unwrap()).await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("stopping: no new writes"), "{stderr}");
    let deployments =
        emulator.requests().iter().filter(|r| r.method == "POST" && r.path.contains("deployments")).count();
    assert_eq!(deployments, 0, "no resource begun after the stop");
    let specs = press_apps(&emulator, &dir, &["specs", "list", "--all", "--jq", ".id"]).stdout;
    assert_eq!(specs.lines().count(), posts(&emulator), "every create begun finished");
}
