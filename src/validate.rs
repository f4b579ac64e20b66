//! Rules checked before anything is sent, where the API reference states them: ids that name
//! exactly one resource, semantic versions, parameter values of the declared type.
//! A broken rule is an [`Error::InvalidRequest`] and no request is made.

use std::fmt::Display;

use serde_json::Value;

use crate::{
    Error, Result,
    types::{ParameterDefinition, ParameterDefinitions, ParameterType},
};

/// An id used as a path segment. Path segments are percent-encoded, so `/`, `?` and `#` cannot
/// change the path; what encoding cannot neutralise is refused: an empty id (which would name
/// the collection) and the dot segments `.` and `..` (which URL parsers resolve away).
pub(crate) fn id<'a>(what: &str, id: &'a str) -> Result<&'a str> {
    match id {
        "" => Err(Error::invalid(format!("{what} is empty"))),
        "." | ".." => Err(Error::invalid(format!("{what} {id:?} is not an id"))),
        _ => Ok(id),
    }
}

/// A release version: a semantic version such as `1.2.0`.
pub(crate) fn version(what: &str, version: &str) -> Result<()> {
    semver::Version::parse(version)
        .map(drop)
        .map_err(|why| Error::invalid(format!("{what} {version:?} is not a semantic version: {why}")))
}

/// A value that must not be empty, such as a name.
pub(crate) fn non_empty(what: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid(format!("{what} is empty")));
    }
    Ok(())
}

/// A request body given as the type itself or as its generated builder.
pub(crate) fn body<T, B>(what: &str, body: B) -> Result<T>
where
    B: TryInto<T>,
    B::Error: Display,
{
    body.try_into().map_err(|why| Error::invalid(format!("{what}: {why}")))
}

impl ParameterType {
    /// Whether `value` is of this type: `number` takes integers and floating-point numbers alike,
    /// and an array type takes only arrays whose every item is of its item type.
    ///
    /// ```
    /// use peak_press_apps::types::ParameterType;
    ///
    /// assert!(ParameterType::NumberArray.accepts(&serde_json::json!([1, 2.5])));
    /// assert!(!ParameterType::Number.accepts(&serde_json::json!("five")));
    /// ```
    pub fn accepts(&self, value: &Value) -> bool {
        let all = |items: &Vec<Value>, test: fn(&Value) -> bool| items.iter().all(test);
        match (self, value) {
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
}

/// Parameter definitions: names given and unique per list, default values and options of the
/// declared type.
pub(crate) fn parameters(definitions: &ParameterDefinitions) -> Result<()> {
    for (list, params) in [("build", &definitions.build), ("run", &definitions.run)] {
        let mut seen = std::collections::HashSet::new();
        for param in params {
            non_empty(&format!("a {list} parameter's name"), &param.name)?;
            if !seen.insert(param.name.as_str()) {
                return Err(Error::invalid(format!("{list} parameter {:?} is defined twice", param.name)));
            }
            if let Some(default) = &param.default_value {
                check_value(list, param, "defaultValue", default)?;
            }
            for option in &param.options {
                check_value(list, param, "an option's value", &option.value)?;
            }
        }
    }
    Ok(())
}

fn check_value(list: &str, param: &ParameterDefinition, what: &str, value: &Value) -> Result<()> {
    if param.type_.accepts(value) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "{list} parameter {:?} is of type {}, but {what} is {value}",
        param.name, param.type_
    )))
}
