//! A deployment's parameter values checked against its release's parameter definitions at plan
//! time, so that a value the service would refuse is found before any write, with its place.

use peak_press_apps::types::{AppParameters, ParameterDefinition, ParameterDefinitions};
use serde_json::Value;

use crate::{
    compare::json,
    plan::{Problem, ProblemKind},
};

/// The first value that breaks a definition: a name not defined, a value not of the parameter's
/// type or not among its options, or a required parameter with no value and no default.
pub fn check(definitions: &ParameterDefinitions, values: Option<&AppParameters>) -> Option<Problem> {
    let phases = [
        ("build", &definitions.build, values.map(|v| &v.build)),
        ("run", &definitions.run, values.map(|v| &v.run)),
    ];
    for (phase, defined, given) in phases {
        for (name, value) in given.into_iter().flatten() {
            let path = Some(format!("body.appParameters.{phase}.{name}"));
            let problem =
                |message: String| Some(Problem { kind: ProblemKind::Invalid, message, path: path.clone() });
            let Some(definition) = defined.iter().find(|d| &d.name == name) else {
                let names: Vec<&str> = defined.iter().map(|d| d.name.as_str()).collect();
                return problem(format!(
                    "the release defines no {phase} parameter {name:?} (it defines: {})",
                    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
                ));
            };
            let value = json(value);
            if value.is_null() {
                // JSON has no NaN or infinity: such a value would go out as null, and compare
                // as "no difference".
                return problem(format!(
                    "{phase} parameter {name:?} has a value JSON cannot carry (such as .nan or .inf)"
                ));
            }
            if !definition.type_.accepts(&value) {
                let shown = if definition.hide_value == Some(true) {
                    "a hidden value".to_owned()
                } else {
                    value.to_string()
                };
                return problem(format!(
                    "{phase} parameter {name:?} is of type {}, but the file gives {shown}",
                    json(&definition.type_).as_str().unwrap_or_default()
                ));
            }
            if let Some(allowed) = outside_options(definition, &value) {
                return problem(format!("{phase} parameter {name:?} must be one of {allowed}"));
            }
        }
        for definition in defined {
            let given = given.is_some_and(|given| given.contains_key(&definition.name));
            let needed =
                definition.required && definition.default_value.is_none() && definition.conditions.is_empty();
            if needed && !given {
                return Some(Problem {
                    kind: ProblemKind::Invalid,
                    message: format!(
                        "{phase} parameter {:?} is required and has no default: give it a value",
                        definition.name
                    ),
                    path: Some(format!("body.appParameters.{phase}")),
                });
            }
        }
    }
    None
}

/// With options, the values allowed when `value` (or an item of it) is not among them.
fn outside_options(definition: &ParameterDefinition, value: &Value) -> Option<String> {
    if definition.options.is_empty() {
        return None;
    }
    let allowed: Vec<Value> = definition.options.iter().map(|option| json(&option.value)).collect();
    let items = match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let outside = items.iter().any(|item| !allowed.contains(item));
    outside.then(|| allowed.iter().map(Value::to_string).collect::<Vec<_>>().join(", "))
}
