//! `press-apps plan PATH...` and `press-apps apply PATH...`: the files are the truth and the
//! service converges to them. This file reads the files into the engine's desired state and
//! prints what the engine plans and does; comparing and converging are the engine's.

mod markdown;

use std::{
    collections::HashMap,
    fmt::Write as _,
    io::Write as _,
    path::{Path, PathBuf},
    time::Duration,
};

use clap::Args;
use peak_press_apps_engine::{
    Action, ApplyReport, Change, DesiredDeployment, DesiredSpec, DesiredState, Error, FieldChange, Kind,
    Options, Plan, ProblemKind, SavedPlan, apply, check_fresh, plan,
};
use serde_json::Value;

use super::LazyClient;
use crate::{
    args::Output,
    failure::{Failure, code},
    input::{Rendered, Template},
    output::Printer,
};

/// The files and the options that plan and apply share.
#[derive(Debug, Args)]
pub struct FileSet {
    /// Spec and deployment files, or directories of them (read recursively: *.yaml, *.yml);
    /// `-` reads one file from standard input. For apply, instead: one plan file that
    /// `plan --out` wrote.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// A YAML map of template variables, for every file.
    #[arg(short = 'v', long)]
    params_file: Option<PathBuf>,
    /// A template variable as key=value (repeatable; wins over the params file).
    #[arg(short = 'p', long = "params", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// The name of this set of files: what apply manages is tagged `press-apps.owner:NAME`, and
    /// only what carries that tag is ever pruned. Plan lists what this owner's files no longer
    /// name.
    #[arg(long, value_name = "NAME", env = OWNER_VARIABLE)]
    owner: Option<String>,
    /// Delete what this owner's files created earlier and no longer name: deployments, then
    /// specs with no deployments left. Needs --owner; without --prune nothing is deleted.
    #[arg(long, requires = "owner")]
    prune: bool,
    /// Deploy failed deployments again (plan shows them either way).
    #[arg(long)]
    redeploy_failed: bool,
}

/// The variable that names the owner when `--owner` is not given.
const OWNER_VARIABLE: &str = "PRESS_APPS_OWNER";

/// `plan`'s own flags.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    set: FileSet,
    /// Exit 10 when the service differs from the files (changes, drift or refusals pending), 0
    /// when they agree: for a scheduled job that watches for drift.
    #[arg(long)]
    detailed_exitcode: bool,
    /// Save the plan to FILE, for `press-apps apply FILE` to carry out exactly, after checking
    /// that nothing it touches changed since. The file holds the values the writes send, hidden
    /// ones included: it is written readable by its owner only (mode 0600); keep it as a secret.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// `apply`'s own flags.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    set: FileSet,
    /// Wait until every deployment apply created, revised or redeployed is deployed.
    #[arg(long)]
    wait: bool,
    /// How long to wait, such as 90s, 15m or 1h30m.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "15m", requires = "wait")]
    timeout: Duration,
}

/// Where each resource of the set was read from, to show problems in place.
pub type Sources = HashMap<(Kind, String), Rendered>;

impl FileSet {
    pub fn options(&self, wait: Option<Duration>) -> Options {
        Options {
            owner: self.owner.clone(),
            prune: self.prune,
            redeploy_failed: self.redeploy_failed,
            wait,
            stop: None,
        }
    }

    /// The paths given.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Every file of the set, read and told apart by its content.
    pub fn desired(&self) -> Result<(DesiredState, Sources), Failure> {
        let template = Template::new(self.params_file.as_deref(), &self.params)?;
        let mut desired = DesiredState::default();
        let mut sources = Sources::new();
        for path in self.files()? {
            let rendered = template.render(&path)?;
            let name = match kind_of(&rendered)? {
                Kind::Spec => {
                    desired.specs.push(rendered.parse::<DesiredSpec>()?);
                    desired.specs.last().map(|spec| (Kind::Spec, spec.name().to_owned()))
                }
                Kind::Deployment => {
                    desired.deployments.push(rendered.parse::<DesiredDeployment>()?);
                    desired.deployments.last().map(|d| (Kind::Deployment, d.name().to_owned()))
                }
            };
            sources.extend(name.map(|name| (name, rendered)));
        }
        Ok((desired, sources))
    }

    /// The files named, with the YAML files of the directories named, in a stable order.
    fn files(&self) -> Result<Vec<PathBuf>, Failure> {
        let mut files = Vec::new();
        for path in &self.paths {
            if path.is_dir() {
                walk(path, &mut files)?;
            } else {
                files.push(path.clone());
            }
        }
        Ok(files)
    }

    /// The saved plan, when the one path given is a file that `plan --out` wrote.
    fn saved_plan(&self) -> Result<Option<Vec<u8>>, Failure> {
        let [path] = self.paths.as_slice() else { return Ok(None) };
        if !path.is_file() {
            return Ok(None);
        }
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
        let start = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]).into_owned();
        let saved = start.trim_start().starts_with('{') && start.contains("\"press-apps-plan\"");
        if !saved {
            return Ok(None);
        }
        let given = [
            (!self.params.is_empty() || self.params_file.is_some(), "-p/-v"),
            (self.prune, "--prune"),
            (self.redeploy_failed, "--redeploy-failed"),
        ];
        if let Some((_, flag)) = given.iter().find(|(given, _)| *given) {
            return Err(Failure::usage(format!(
                "{}: a saved plan carries its files and options: leave out {flag}, or plan again",
                path.display()
            )));
        }
        Ok(Some(bytes))
    }
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Failure::usage(format!("cannot read {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|entry| Some(entry.ok()?.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") {
            files.push(path);
        }
    }
    Ok(())
}

/// A spec file has `body.release` or `body.config`; a deployment file has `body.spec`.
fn kind_of(rendered: &Rendered) -> Result<Kind, Failure> {
    let value = rendered.value()?;
    let body = value.get("body").and_then(Value::as_object);
    let has = |key: &str| body.is_some_and(|body| body.contains_key(key));
    match (has("spec"), has("release") || has("config")) {
        (true, false) => Ok(Kind::Deployment),
        (false, true) => Ok(Kind::Spec),
        (both, _) => {
            let what =
                if both { "both a spec's `body.release` and a deployment's `body.spec`" } else { "neither" };
            Err(Failure::usage(format!(
                "{}: `body` has {what}: a spec file has body.release and body.config, a deployment file body.spec{}",
                rendered.shown,
                rendered.place("body")
            )))
        }
    }
}

pub async fn plan_command(args: PlanArgs, client: &LazyClient, printer: &mut Printer) -> Result<(), Failure> {
    let (desired, sources) = args.set.desired()?;
    let options = args.set.options(None);
    let plan = plan(client.reader()?, &desired, &options).await.map_err(failure)?;
    print_plan(&plan, &sources, printer)?;
    printer.flush()?;
    invalid(&plan, &sources)?;
    if let Some(out) = &args.out {
        save(out, &SavedPlan::new(plan.clone(), client.target()?, &options))?;
        eprintln!("press-apps: plan saved to {0}; carry it out with `press-apps apply {0}`", out.display());
    }
    if args.detailed_exitcode && plan.has_changes() {
        return Err(Failure::exit(code::CHANGES));
    }
    Ok(())
}

/// Refuses a plan with resources wrong in the files, naming each in place.
fn invalid(plan: &Plan, sources: &Sources) -> Result<(), Failure> {
    let lines: Vec<String> = plan.invalid().map(|change| problem_line(change, sources)).collect();
    if lines.is_empty() {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "{} wrong in the files; nothing was sent:\n  {}",
        count(lines.len(), "resource is", "resources are"),
        lines.join("\n  ")
    )))
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A change's problem, with the file and line it comes from when known.
fn problem_line(change: &Change, sources: &Sources) -> String {
    let Some(problem) = &change.problem else { return String::new() };
    let place = sources
        .get(&(change.kind, change.name.clone()))
        .map(|source| {
            let line = problem.path.as_deref().map(|path| source.place(path)).unwrap_or_default();
            format!(" in {}{line}", source.shown)
        })
        .unwrap_or_default();
    format!("{} {}{place}: {}", change.kind.as_str(), change.name, problem.message)
}

/// Writes the plan file readable by its owner only: it may hold hidden values.
fn save(path: &Path, saved: &SavedPlan) -> Result<(), Failure> {
    let cannot =
        |e: std::io::Error| Failure::usage(format!("cannot write the plan to {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(cannot)?;
        }
    }
    let mut file = options.open(path).map_err(cannot)?;
    file.write_all(&saved.to_bytes()).map_err(cannot)?;
    file.sync_all().map_err(cannot)
}

pub async fn apply_command(
    args: ApplyArgs,
    client: &LazyClient,
    printer: &mut Printer,
) -> Result<(), Failure> {
    let wait = args.wait.then_some(args.timeout);
    let reads = client.reader()?;
    let (plan, options, sources) = match args.set.saved_plan()? {
        Some(bytes) => {
            let saved =
                SavedPlan::from_bytes(&bytes).map_err(|e| Failure::with_code(e.to_string(), code::STALE))?;
            saved
                .check_target(&client.target()?)
                .map_err(|e| Failure::with_code(e.to_string(), code::STALE))?;
            if let Some(owner) =
                args.set.owner.as_ref().filter(|owner| saved.options.owner.as_ref() != Some(owner))
            {
                return Err(Failure::usage(format!(
                    "the plan was made {}, not for owner {owner:?}: plan again with this owner",
                    saved
                        .options
                        .owner
                        .as_ref()
                        .map_or("without an owner".to_owned(), |o| format!("for owner {o:?}"))
                )));
            }
            if let Err(stale) = check_fresh(reads, &saved.plan).await? {
                return Err(Failure::with_code(stale.to_string(), code::STALE));
            }
            let options = Options {
                owner: saved.options.owner,
                prune: saved.options.prune,
                redeploy_failed: saved.options.redeploy_failed,
                wait,
                stop: None,
            };
            (saved.plan, options, Sources::new())
        }
        None => {
            let (desired, sources) = args.set.desired()?;
            let options = args.set.options(wait);
            (plan(reads, &desired, &options).await.map_err(failure)?, options, sources)
        }
    };
    invalid(&plan, &sources)?;
    crate::secrets::learn(plan.secrets());
    let report = apply(reads, client.get()?, &plan, &options, &|event| {
        eprintln!("press-apps: {} {}: {}", event.kind.as_str(), event.name, event.what);
    })
    .await;
    if !report.unsent.is_empty() {
        for request in &report.unsent {
            printer.value(&super::shown(request))?;
        }
        return Ok(());
    }
    printer.line(&done_line(&plan, &report))?;
    // Each failure was reported as it happened; the exit code is the most severe one's.
    let failed = report.failed.len();
    let worst = report.failed.into_iter().map(|failed| failure(failed.error).code()).max();
    match worst {
        Some(code) => Err(Failure::with_code(
            format!(
                "{} not brought to what the files say (each is named above)",
                count(failed, "resource was", "resources were")
            ),
            code,
        )),
        None => Ok(()),
    }
}

fn failure(error: Error) -> Failure {
    match error {
        Error::Client(error) => error.into(),
        Error::Refused(why) => Failure::with_code(format!("refused: {why}"), code::CONFLICT),
        Error::Unreadable(why) => Failure::with_code(why, code::NOT_FOUND),
        other => Failure::usage(other.to_string()),
    }
}

/// The plan as a terminal or a CI log reads it, as a pull-request comment with `-o markdown`, or
/// as JSON with `-o json`.
fn print_plan(plan: &Plan, sources: &Sources, printer: &mut Printer) -> Result<(), Failure> {
    match printer.asked() {
        _ if printer.filtering() => return printer.value(&plan.to_json()),
        Some(Output::Json | Output::Yaml) => return printer.value(&plan.to_json()),
        Some(Output::Markdown) => {
            return printer.line(&markdown::plan(plan, |change| problem_line(change, sources)));
        }
        _ => {}
    }
    let mut text = String::new();
    for change in &plan.resources {
        write_change(&mut text, change, sources);
    }
    let _ = write!(text, "{}", summary_line(plan));
    printer.line(&text)
}

/// `Plan: 1 to create, ...`, as Terraform says it.
pub fn summary_line(plan: &Plan) -> String {
    let summary = plan.summary();
    let mut line = format!(
        "Plan: {} to create, {} to update, {} to delete, {} unchanged.",
        summary.create, summary.update, summary.delete, summary.unchanged
    );
    if summary.refused > 0 {
        let _ = write!(line, " {} refused.", summary.refused);
    }
    if summary.orphaned > 0 {
        let _ = write!(line, " {} orphaned (apply --prune deletes them).", summary.orphaned);
    }
    line
}

/// The sign of a change, as Terraform's plan prints it.
pub fn symbol(change: &Change) -> char {
    match (change.problem.is_some(), change.operations.first().map(|op| op.action())) {
        (true, _) => '!',
        (false, Some(Action::Create)) => '+',
        (false, Some(Action::Delete)) => '-',
        (false, Some(_)) => '~',
        (false, None) => ' ',
    }
}

/// What a change does, in words: `create`, `update, release`, `no change`, `refused`.
pub fn what(change: &Change) -> String {
    let actions: Vec<&str> = change.actions().into_iter().map(Action::as_str).collect();
    match (&change.problem, actions.is_empty()) {
        (Some(problem), _) if problem.kind == ProblemKind::Invalid => "invalid".to_owned(),
        (Some(_), _) => "refused".to_owned(),
        (None, true) => "no change".to_owned(),
        (None, false) => actions.join(", "),
    }
}

fn write_change(text: &mut String, change: &Change, sources: &Sources) {
    if change.operations.is_empty()
        && change.problem.is_none()
        && change.notes.is_empty()
        && change.remarks.is_empty()
    {
        return;
    }
    let kind = change.kind.as_str();
    let id = change.id.as_ref().map(|id| format!(" ({id})")).unwrap_or_default();
    let _ = writeln!(text, "{} {kind} {}{id}: {}", symbol(change), change.name, what(change));
    for field in &change.fields {
        let _ = writeln!(
            text,
            "    {}: {} -> {}",
            field.path,
            shown_value(field, &field.old),
            shown_value(field, &field.new)
        );
    }
    if change.problem.is_some() {
        let _ = writeln!(text, "    problem: {}", problem_line(change, sources));
    }
    for note in change.notes.iter().chain(&change.remarks) {
        let _ = writeln!(text, "    note: {note}");
    }
}

/// A field's value as plans print it: `(none)` for nothing, masked when hidden.
pub fn shown_value(field: &FieldChange, value: &Value) -> String {
    match value {
        _ if field.hidden => "(hidden value)".to_owned(),
        Value::Null => "(none)".to_owned(),
        other => other.to_string(),
    }
}

/// The summary of what apply did.
fn done_line(plan: &Plan, report: &ApplyReport) -> String {
    let count = |actions: &[Action]| {
        let mut names: Vec<(&Kind, &str)> = report
            .done
            .iter()
            .filter(|d| actions.contains(&d.action))
            .map(|d| (&d.kind, d.name.as_str()))
            .collect();
        names.sort();
        names.dedup();
        names.len()
    };
    let created = count(&[Action::Create]);
    let deleted = count(&[Action::Delete]);
    let updated = count(&[Action::Update, Action::Release, Action::Revise, Action::Redeploy]);
    let mut line = format!(
        "Apply: {created} created, {updated} updated, {deleted} deleted, {} unchanged.",
        plan.summary().unchanged
    );
    if !report.failed.is_empty() {
        let _ = write!(line, " {} failed.", report.failed.len());
    }
    line
}

/// The JSON Schema of a file of the set (`press-apps schema apply`): a spec's or a deployment's.
pub fn set_file_schema() -> schemars::schema::RootSchema {
    crate::input::either_schema::<DesiredSpec, DesiredDeployment>("press-apps plan and apply file")
}
