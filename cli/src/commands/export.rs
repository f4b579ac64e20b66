//! `press-apps export DIR`: the tenant's specs and deployments written as the files plan and
//! apply read, one per resource, so that adopting what exists is `export`, commit, and
//! `apply --owner NAME`. The reading is the engine's; this file names and writes the files.

use std::path::{Path, PathBuf};

use clap::Args;
use peak_press_apps_engine::{MASK, export};
use serde_json::Value;

use super::LazyClient;
use crate::failure::Failure;

/// `export`'s flags.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The directory to write into: DIR/specs/NAME.yaml and DIR/deployments/NAME.yaml. Files
    /// already there are never overwritten.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Export only the spec or deployment of this name (repeatable); all of them without it.
    #[arg(long = "name", value_name = "NAME")]
    names: Vec<String>,
}

pub async fn export_command(args: ExportArgs, client: &LazyClient) -> Result<(), Failure> {
    let exported = export(client.reader()?, &args.names).await.map_err(|e| Failure::usage(e.to_string()))?;
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for spec in &exported.specs {
        let value = serde_json::to_value(spec).map_err(|e| Failure::usage(e.to_string()))?;
        files.push((args.dir.join("specs").join(file_name(spec.name())), yaml(&value)?));
    }
    let mut variables = Vec::new();
    for deployment in &exported.deployments {
        let name = deployment.name();
        let mut value = serde_json::to_value(deployment).map_err(|e| Failure::usage(e.to_string()))?;
        for (_, path) in exported.hidden.iter().filter(|(owner, _)| owner == name) {
            let Some((phase, parameter)) = path.split_once('.') else { continue };
            let variable = variable_name(name, parameter);
            if let Some(slot) = value.pointer_mut(&format!("/body/appParameters/{phase}/{parameter}"))
                && slot.as_str() == Some(MASK)
            {
                *slot = Value::String(format!("{{{{ {variable} }}}}"));
                variables.push((name.to_owned(), path.clone(), variable));
            }
        }
        files.push((args.dir.join("deployments").join(file_name(name)), yaml(&value)?));
    }
    let taken: Vec<String> =
        files.iter().filter(|(path, _)| path.exists()).map(|(path, _)| path.display().to_string()).collect();
    if !taken.is_empty() {
        return Err(Failure::usage(format!(
            "export never overwrites a file, and these exist: {}; export into an empty directory",
            taken.join(", ")
        )));
    }
    for (path, text) in &files {
        write(path, text)?;
    }
    eprintln!(
        "press-apps: wrote {} specs and {} deployments to {}",
        exported.specs.len(),
        exported.deployments.len(),
        args.dir.display()
    );
    for (deployment, path, variable) in &variables {
        eprintln!(
            "press-apps: deployment {deployment}: the service never shows {path}: the file reads it from \
             the template variable {variable} (-p {variable}=VALUE)"
        );
    }
    Ok(())
}

const HEADER: &str = "# Written by `press-apps export`: `press-apps plan` of these files shows no change.\n";

fn yaml(value: &Value) -> Result<String, Failure> {
    let text = yaml_serde::to_string(value).map_err(|e| Failure::usage(e.to_string()))?;
    Ok(format!("{HEADER}{text}"))
}

/// A resource's file name: its name, with anything that is not safe in a path replaced.
fn file_name(name: &str) -> String {
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    format!("{}.yaml", safe.trim_start_matches('.'))
}

/// A template variable for a deployment's hidden value: `churn_prod_api_key`.
fn variable_name(deployment: &str, parameter: &str) -> String {
    format!("{deployment}_{parameter}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect()
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    let cannot = |e: std::io::Error| Failure::usage(format!("cannot write {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(cannot)?;
    }
    std::fs::write(path, text).map_err(cannot)
}
