//! Where each key of a YAML file is, from the YAML parser's own positions: a message about a key
//! or a value points at the very place, even when the same key appears at several (a `version` in
//! the second of two config blocks, a misspelt key in the second parameter of a list).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span};

/// The line and column (from 1) of each key, and of each list item, by its dotted path (list
/// items by index: `parameters.run.1.name`).
#[derive(Debug, Default)]
pub struct Places(HashMap<String, (usize, usize)>);

enum Frame {
    Map { path: String, key: Option<String> },
    List { path: String, index: usize },
}

impl Places {
    /// The places of `text`; none when it is not YAML (its parse error says where then).
    pub fn of(text: &str) -> Self {
        let mut places = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        for event in Parser::new_from_str(text) {
            let Ok((event, span)) = event else { break };
            match event {
                Event::MappingStart(..) => {
                    let path = value_path(&mut stack, &mut places, span);
                    stack.push(Frame::Map { path, key: None });
                }
                Event::SequenceStart(..) => {
                    let path = value_path(&mut stack, &mut places, span);
                    stack.push(Frame::List { path, index: 0 });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    after_value(&mut stack);
                }
                Event::Scalar(value, ..) => match stack.last_mut() {
                    Some(Frame::Map { path, key: key @ None }) => {
                        places.insert(child(path, &value), position(span));
                        *key = Some(value.into_owned());
                    }
                    _ => {
                        value_path(&mut stack, &mut places, span);
                        after_value(&mut stack);
                    }
                },
                Event::Alias(_) => {
                    value_path(&mut stack, &mut places, span);
                    after_value(&mut stack);
                }
                _ => {}
            }
        }
        Self(places)
    }

    /// Where the key (or item) at `path` is, such as `body.release.version`.
    pub fn get(&self, path: &str) -> Option<(usize, usize)> {
        self.0.get(path).copied()
    }
}

fn position(span: Span) -> (usize, usize) {
    (span.start.line(), span.start.col() + 1)
}

fn child(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_owned() } else { format!("{parent}.{key}") }
}

/// The path of the value that starts here: a map's current key's, or the list's next item's
/// (whose place is recorded).
fn value_path(stack: &mut [Frame], places: &mut HashMap<String, (usize, usize)>, span: Span) -> String {
    match stack.last() {
        Some(Frame::Map { path, key: Some(key) }) => child(path, key),
        Some(Frame::List { path, index }) => {
            let path = child(path, &index.to_string());
            places.entry(path.clone()).or_insert(position(span));
            path
        }
        _ => String::new(),
    }
}

/// A value ended: the map waits for its next key, the list for its next item.
fn after_value(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { key, .. }) => *key = None,
        Some(Frame::List { index, .. }) => *index += 1,
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_and_item_has_its_own_place() {
        let text = "body:\n  config:\n    - id: a\n      release: {version: 1.0.0}\n    - id: b\n      release:\n        version: oops\n";
        let places = Places::of(text);
        assert_eq!(places.get("body"), Some((1, 1)));
        assert_eq!(places.get("body.config.0.release.version"), Some((4, 17)));
        assert_eq!(places.get("body.config.1.release.version"), Some((7, 9)));
        assert_eq!(places.get("body.config.1"), Some((5, 7)));
        assert_eq!(places.get("body.nothing"), None);
        assert_eq!(Places::of("body: [\n").get("body"), Some((1, 1)));
    }
}
