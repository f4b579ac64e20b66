//! The service's rules that several operations share: release versions, blank names, parameter
//! definitions and values of their declared types, which blocks a release deploys, and how a
//! partial update merges.

use super::*;

pub(super) fn blocks_for(
    release: &Release,
    includes: &[BlockInclude],
    excludes: &[BlockExclude],
) -> Vec<BlockDeployment> {
    let from_config = release.config.iter().map(|c| c.id.clone());
    let included = includes.iter().map(|i| i.id.clone());
    from_config
        .chain(included)
        .filter(|id| !excludes.iter().any(|e| &e.id == id))
        .map(|name| BlockDeployment {
            deployment_id: Uuid::new_v4().to_string(),
            platform_id: Uuid::new_v4().to_string(),
            kind: "workflow",
            name,
            status: RevisionStatus::Deploying,
        })
        .collect()
}

/// The release a deployment or revision asks for: the given version, or the latest.
pub(super) fn find_release<'s>(spec: &'s Spec, wanted: Option<&VersionRef>) -> ApiResult<&'s Release> {
    let Some(wanted) = wanted else {
        return Ok(spec.releases.last().expect("a spec always has a release"));
    };
    let version = semantic_version("release.version", &wanted.version)?;
    spec.releases
        .iter()
        .find(|r| r.version == version)
        .ok_or_else(|| ApiError::not_found(format!("app spec {:?} has no release {version}", spec.id)))
}

pub(super) fn semantic_version(field: &str, text: &str) -> ApiResult<semver::Version> {
    semver::Version::parse(text)
        .map_err(|why| ApiError::bad_request(format!("{field}: {text:?} is not a semantic version ({why})")))
}

pub(super) fn not_blank(field: &str, value: &str) -> ApiResult<()> {
    if value.trim().is_empty() {
        return Err(ApiError::bad_request(format!("{field} must not be empty")));
    }
    Ok(())
}

pub(super) fn prefix_matches(prefix: &Option<String>, value: Option<&String>) -> bool {
    match prefix {
        None => true,
        Some(prefix) => value.is_some_and(|v| v.starts_with(prefix.as_str())),
    }
}

pub(super) fn merge<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

pub(super) fn merge_opt<T>(slot: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *slot = value;
    }
}

pub(super) fn value_fits(type_: ParameterType, value: &Value) -> bool {
    let all = |items: &Vec<Value>, test: fn(&Value) -> bool| items.iter().all(test);
    match (type_, value) {
        (ParameterType::Boolean, Value::Bool(_))
        | (ParameterType::String, Value::String(_))
        | (ParameterType::Number, Value::Number(_))
        | (ParameterType::Object, Value::Object(_)) => true,
        (ParameterType::StringArray, Value::Array(items)) => all(items, Value::is_string),
        (ParameterType::NumberArray, Value::Array(items)) => all(items, Value::is_number),
        (ParameterType::ObjectArray, Value::Array(items)) => all(items, Value::is_object),
        _ => false,
    }
}

/// Parameter definitions: names given and unique per list, defaults and options of the
/// declared type. A body that breaks these parses, but cannot be processed: 422.
pub(super) fn check_definitions(definitions: &ParameterDefinitions) -> ApiResult<()> {
    for (list, params) in [("build", &definitions.build), ("run", &definitions.run)] {
        for (index, param) in params.iter().enumerate() {
            if param.name.trim().is_empty() {
                return Err(ApiError::unprocessable(format!("parameters.{list}[{index}].name is empty")));
            }
            if params[..index].iter().any(|p| p.name == param.name) {
                return Err(ApiError::unprocessable(format!(
                    "{list} parameter {:?} is defined twice",
                    param.name
                )));
            }
            let values = param.default_value.iter().chain(param.options.iter().map(|o| &o.value));
            if let Some(bad) = values.into_iter().find(|v| !value_fits(param.type_, v)) {
                return Err(ApiError::unprocessable(format!(
                    "{list} parameter {:?} is of type {}, but is given {bad}",
                    param.name,
                    param.type_.as_str()
                )));
            }
        }
    }
    Ok(())
}

/// Deployment-time values: each names a defined parameter and has its type.
pub(super) fn check_values(definitions: &ParameterDefinitions, values: &AppParameters) -> ApiResult<()> {
    for (list, defined, given) in
        [("build", &definitions.build, &values.build), ("run", &definitions.run, &values.run)]
    {
        for (name, value) in given {
            let Some(definition) = defined.iter().find(|d| &d.name == name) else {
                return Err(ApiError::unprocessable(format!(
                    "the release defines no {list} parameter {name:?}"
                )));
            };
            if !value_fits(definition.type_, value) {
                return Err(ApiError::unprocessable(format!(
                    "{list} parameter {name:?} is of type {}, but is given {value}",
                    definition.type_.as_str()
                )));
            }
        }
    }
    Ok(())
}
