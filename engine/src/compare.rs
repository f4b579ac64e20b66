//! How a file's values are compared with the service's: a file says only what it cares about, so
//! a value matches when everything the file gives is there (fields it leaves out are not
//! differences), and numbers match whatever their spelling (`2` and `2.0`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A field that would change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Where, such as `metadata.title` or `appParameters.run.replicas`.
    pub path: String,
    /// The value now; null when there is none.
    pub old: Value,
    /// The value the files give.
    pub new: Value,
    /// A masked value: neither is shown.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
}

impl FieldChange {
    pub(crate) fn new(path: &str, old: Value, new: Value) -> Self {
        Self { path: path.to_owned(), old, new, hidden: false }
    }

    pub(crate) fn hidden(path: &str) -> Self {
        Self { path: path.to_owned(), old: Value::Null, new: Value::Null, hidden: true }
    }
}

/// `value` as JSON; a type that does not serialize (none of the API's) reads as null.
pub fn json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// How the service shows a masked value.
const MASKED: &str = "********";

/// Whether everything `want` gives is in `have`: objects by their keys (a null in `want` says
/// nothing), lists item by item and of the same length, numbers by value; a masked value in
/// `have` says nothing either (masked values are compared by their digest).
pub fn contained(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Null, _) => true,
        (_, Value::String(masked)) if masked == MASKED => true,
        (Value::Object(want), Value::Object(have)) => {
            want.iter().all(|(key, value)| contained(value, have.get(key).unwrap_or(&Value::Null)))
        }
        (Value::Object(want), Value::Null) => want.values().all(Value::is_null),
        (Value::Array(want), Value::Array(have)) => {
            want.len() == have.len() && want.iter().zip(have).all(|(want, have)| contained(want, have))
        }
        (Value::Array(want), Value::Null) => want.is_empty(),
        (Value::Number(want), Value::Number(have)) => same_number(want, have),
        (want, have) => want == have,
    }
}

/// Integers compare exactly (2^53 + 1 is not 2^53), and an integer equals a float of the same
/// value (`2` and `2.0`, as a YAML file and the service may spell the same number).
fn same_number(want: &serde_json::Number, have: &serde_json::Number) -> bool {
    match (want.as_i64(), have.as_i64(), want.as_u64(), have.as_u64()) {
        (Some(want), Some(have), _, _) => want == have,
        (_, _, Some(want), Some(have)) => want == have,
        _ => want.as_f64() == have.as_f64(),
    }
}

/// `value` as JSON text with every object's keys in order, whatever map the JSON library was
/// built with (a crate elsewhere in the tree may turn on its order-preserving map): what digests
/// and checksums are computed over.
pub fn canonical(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (index, key) in keys.into_iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    write(&map[key], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// The fields of `want` that `have` lacks or holds otherwise, under `path`; each list that
/// differs is one change.
pub fn differences(path: &str, want: &Value, have: &Value, out: &mut Vec<FieldChange>) {
    match (want, have) {
        (Value::Object(fields), have) if !fields.is_empty() && !matches!(have, Value::Array(_)) => {
            for (key, value) in fields {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                differences(&child, value, have.get(key).unwrap_or(&Value::Null), out);
            }
        }
        (want, have) if !contained(want, have) => {
            out.push(FieldChange::new(path, have.clone(), want.clone()))
        }
        _ => {}
    }
}

/// A short digest of values that the service masks when it shows them (parameters with
/// `hideValue`), so that a changed secret can be told from an unchanged one without keeping it.
/// Salted with the deployment's name, so that equal secrets of two deployments read differently.
pub fn digest(salt: &str, values: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update([0]);
    hasher.update(canonical(values).as_bytes());
    hasher.finalize().iter().take(12).map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_file_says_only_what_it_gives() {
        let have = json!({"title": "T", "summary": "S", "replicas": 2.0, "tags": [{"name": "a"}]});
        assert!(contained(&json!({"title": "T", "replicas": 2}), &have));
        assert!(contained(&json!({"title": null}), &have));
        assert!(!contained(&json!({"title": "U"}), &have));
        assert!(!contained(&json!({"tags": []}), &have), "a list is compared whole");
        assert!(!contained(&json!({"missing": 1}), &have));
    }

    #[test]
    fn differences_name_each_field_with_old_and_new() {
        let mut out = Vec::new();
        differences(
            "metadata",
            &json!({"title": "New", "summary": "S"}),
            &json!({"title": "Old", "summary": "S"}),
            &mut out,
        );
        assert_eq!(out, vec![FieldChange::new("metadata.title", json!("Old"), json!("New"))]);
    }

    #[test]
    fn integers_compare_exactly_and_keys_in_order() {
        assert!(contained(&json!(9_007_199_254_740_993_i64), &json!(9_007_199_254_740_993_i64)));
        assert!(!contained(&json!(9_007_199_254_740_993_i64), &json!(9_007_199_254_740_992_i64)));
        assert!(contained(&json!(2), &json!(2.0)));
        assert_eq!(
            canonical(&json!({"b": [1, {"d": 1, "c": 2}], "a": "x"})),
            r#"{"a":"x","b":[1,{"c":2,"d":1}]}"#
        );
    }

    #[test]
    fn digests_change_with_the_values_and_the_salt() {
        let a = digest("d1", &json!({"run": {"key": "one"}}));
        assert_eq!(a, digest("d1", &json!({"run": {"key": "one"}})));
        assert_ne!(a, digest("d1", &json!({"run": {"key": "two"}})));
        assert_ne!(a, digest("d2", &json!({"run": {"key": "one"}})));
        assert_eq!(a.len(), 24);
    }
}
