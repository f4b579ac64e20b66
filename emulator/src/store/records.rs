//! The records of one kind (specs, or deployments), keyed by id, that can only be changed
//! through methods that note which record changed. The journal writes exactly what was noted
//! (`Store::take_changes`), so a write operation cannot change a record in memory without the
//! change reaching the database file: there is no other way to change one.

use std::{collections::HashMap, ops::Index};

pub(crate) struct Records<T> {
    by_id: HashMap<String, T>,
    /// The ids of the records inserted, changed or removed since the last `take_changed`.
    changed: Vec<String>,
}

impl<T> Default for Records<T> {
    fn default() -> Self {
        Self { by_id: HashMap::new(), changed: Vec::new() }
    }
}

impl<T> Records<T> {
    pub(crate) fn get(&self, id: &str) -> Option<&T> {
        self.by_id.get(id)
    }

    /// The record `id`, to change: it is noted as changed whether or not the caller changes it.
    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        let record = self.by_id.get_mut(id)?;
        self.changed.push(id.to_owned());
        Some(record)
    }

    pub(crate) fn insert(&mut self, id: String, record: T) {
        self.changed.push(id.clone());
        self.by_id.insert(id, record);
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<T> {
        let removed = self.by_id.remove(id)?;
        self.changed.push(id.to_owned());
        Some(removed)
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.by_id.values()
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &String> {
        self.by_id.keys()
    }

    /// The ids of the records that `pick` picks, with what it says of each, in one pass: to
    /// change them one by one with `get_mut` or `remove`.
    pub(crate) fn select<V>(&self, mut pick: impl FnMut(&T) -> Option<V>) -> Vec<(String, V)> {
        self.by_id.iter().filter_map(|(id, record)| Some((id.clone(), pick(record)?))).collect()
    }

    /// The ids noted since the last call, each once, in the order first noted.
    pub(crate) fn take_changed(&mut self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        std::mem::take(&mut self.changed).into_iter().filter(|id| seen.insert(id.clone())).collect()
    }
}

impl<T> Index<&str> for Records<T> {
    type Output = T;

    fn index(&self, id: &str) -> &T {
        &self.by_id[id]
    }
}

impl<T> Index<&String> for Records<T> {
    type Output = T;

    fn index(&self, id: &String) -> &T {
        &self.by_id[id.as_str()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_of_changing_a_record_notes_it_once() {
        let mut records = Records::default();
        records.insert("a".to_owned(), 1);
        records.insert("b".to_owned(), 2);
        *records.get_mut("a").unwrap() += 1;
        assert_eq!(records.remove("b"), Some(2));
        assert_eq!(records.get_mut("missing"), None);
        assert_eq!(records.remove("missing"), None);
        assert_eq!(records.take_changed(), ["a", "b"]);
        assert!(records.take_changed().is_empty(), "taken once");
        let _ = records.get("a");
        let _ = records.values().count();
        assert!(records.take_changed().is_empty(), "reading notes nothing");
    }
}
