//! `press-apps plan PATH...` and `press-apps apply PATH...`: the files are the truth and the
//! service converges to them. This file reads the files into the engine's desired state and
//! prints what the engine plans and does; comparing and converging are the engine's.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    time::Duration,
};

use clap::Args;
use peak_press_apps_engine::{
    Action, ApplyReport, Change, DesiredDeployment, DesiredSpec, DesiredState, Error, Kind, Options, Plan,
    apply, plan, to_json,
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
    /// `-` reads one file from standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// A YAML map of template variables, for every file.
    #[arg(short = 'v', long)]
    params_file: Option<PathBuf>,
    /// A template variable as key=value (repeatable; wins over the params file).
    #[arg(short = 'p', long = "params", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// The name of this set of files: what apply manages is tagged `press-apps.owner:NAME`, and
    /// only what carries that tag is ever pruned.
    #[arg(long, value_name = "NAME")]
    owner: Option<String>,
    /// Delete what this owner's files created earlier and no longer name: deployments, then
    /// specs with no deployments left. Needs --owner; without --prune nothing is deleted.
    #[arg(long, requires = "owner")]
    prune: bool,
    /// Deploy failed deployments again (plan shows them either way).
    #[arg(long)]
    redeploy_failed: bool,
}

/// `plan`'s own flags.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    set: FileSet,
    /// Exit 10 when the service differs from the files (changes, drift or refusals pending), 0
    /// when they agree: for a scheduled job that watches for drift.
    #[arg(long)]
    detailed_exitcode: bool,
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

impl FileSet {
    fn options(&self, wait: Option<Duration>) -> Options {
        Options { owner: self.owner.clone(), prune: self.prune, redeploy_failed: self.redeploy_failed, wait }
    }

    /// Every file of the set, read and told apart by its content.
    fn desired(&self) -> Result<DesiredState, Failure> {
        let template = Template::new(self.params_file.as_deref(), &self.params)?;
        let mut desired = DesiredState::default();
        for path in self.files()? {
            let rendered = template.render(&path)?;
            match kind_of(&rendered)? {
                Kind::Spec => desired.specs.push(rendered.parse::<DesiredSpec>()?),
                Kind::Deployment => desired.deployments.push(rendered.parse::<DesiredDeployment>()?),
            }
        }
        Ok(desired)
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
    let desired = args.set.desired()?;
    let plan = plan(client.reader()?, &desired, &args.set.options(None)).await.map_err(failure)?;
    print_plan(&plan, printer)?;
    if args.detailed_exitcode && plan.has_changes() {
        printer.flush()?;
        return Err(Failure::exit(code::CHANGES));
    }
    Ok(())
}

pub async fn apply_command(
    args: ApplyArgs,
    client: &LazyClient,
    printer: &mut Printer,
) -> Result<(), Failure> {
    let desired = args.set.desired()?;
    let options = args.set.options(args.wait.then_some(args.timeout));
    let reads = client.reader()?;
    let plan = plan(reads, &desired, &options).await.map_err(failure)?;
    let report = apply(reads, client.get()?, &plan, &options, &|event| {
        let kind = if event.kind == Kind::Spec { "spec" } else { "deployment" };
        eprintln!("press-apps: {kind} {}: {}", event.name, event.what);
    })
    .await;
    if !report.unsent.is_empty() {
        for request in &report.unsent {
            printer.value(&super::shown(request))?;
        }
        return Ok(());
    }
    printer.line(&done_line(&plan, &report))?;
    match report.failed.into_iter().next() {
        Some(first) => Err(failure(first.error)),
        None => Ok(()),
    }
}

fn failure(error: Error) -> Failure {
    match error {
        Error::Client(error) => error.into(),
        Error::Refused(why) => Failure::with_code(format!("refused: {why}"), code::CONFLICT),
        other => Failure::usage(other.to_string()),
    }
}

/// The plan as a terminal or a CI log reads it, or as JSON with `-o json`.
fn print_plan(plan: &Plan, printer: &mut Printer) -> Result<(), Failure> {
    if matches!(printer.asked(), Some(Output::Json | Output::Yaml)) || printer.filtering() {
        return printer.value(&to_json(plan));
    }
    let mut text = String::new();
    for change in &plan.resources {
        write_change(&mut text, change);
    }
    let summary = plan.summary();
    let _ = write!(
        text,
        "Plan: {} to create, {} to update, {} to delete, {} unchanged.",
        summary.create, summary.update, summary.delete, summary.unchanged
    );
    if summary.refused > 0 {
        let _ = write!(text, " {} refused.", summary.refused);
    }
    printer.line(&text)
}

fn write_change(text: &mut String, change: &Change) {
    if change.actions.is_empty() && change.refused.is_none() && change.notes.is_empty() {
        return;
    }
    let symbol = match (change.refused.is_some(), change.actions.first()) {
        (true, _) => '!',
        (false, Some(Action::Create)) => '+',
        (false, Some(Action::Delete)) => '-',
        (false, Some(_)) => '~',
        (false, None) => ' ',
    };
    let kind = if change.kind == Kind::Spec { "spec" } else { "deployment" };
    let id = change.id.as_ref().map(|id| format!(" ({id})")).unwrap_or_default();
    let actions: Vec<&str> = change.actions.iter().map(action_word).collect();
    let what = match (&change.refused, actions.is_empty()) {
        (Some(_), _) => "refused".to_owned(),
        (None, true) => "no change".to_owned(),
        (None, false) => actions.join(", "),
    };
    let _ = writeln!(text, "{symbol} {kind} {}{id}: {what}", change.name);
    for field in &change.fields {
        let _ = if field.hidden {
            writeln!(text, "    {}: (hidden value) -> (hidden value)", field.path)
        } else {
            writeln!(text, "    {}: {} -> {}", field.path, shown_value(&field.old), shown_value(&field.new))
        };
    }
    if let Some(why) = &change.refused {
        let _ = writeln!(text, "    refused: {why}");
    }
    for note in &change.notes {
        let _ = writeln!(text, "    note: {note}");
    }
}

fn action_word(action: &Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Release => "release",
        Action::Revise => "revise",
        Action::Redeploy => "redeploy",
        Action::Delete => "delete",
        _ => "change",
    }
}

fn shown_value(value: &Value) -> String {
    match value {
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
