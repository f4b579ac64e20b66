//! The orders listings are served in: creation order always, and each sorted order a listing has
//! asked for, built on first use and kept up to date by every write after. A sorted page is then
//! cut from an order that is already there, as an unsorted one is, instead of sorting every
//! record again for each page while the store is locked and writers wait.

use std::{cmp::Ordering, collections::HashMap, sync::Mutex};

/// A field a listing can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortField {
    CreatedAt,
    CreatedBy,
    Name,
    Title,
}

/// Sort keys in order, each with `true` for descending.
pub type SortKeys = [(SortField, bool)];

/// Something a listing can sort: its sortable fields.
pub trait Sortable {
    fn field(&self, field: SortField) -> Option<&str>;
}

/// How two records compare under `keys`, ties broken by id so that every order is strict.
pub fn compare<S: Sortable>(keys: &SortKeys, a: &S, b: &S, a_id: &str, b_id: &str) -> Ordering {
    keys.iter()
        .map(|&(field, descending)| {
            let order = a.field(field).cmp(&b.field(field));
            if descending { order.reverse() } else { order }
        })
        .find(|order| *order != Ordering::Equal)
        .unwrap_or_else(|| a_id.cmp(b_id))
}

/// The ids of one kind of record in the orders listings ask for.
#[derive(Default)]
pub struct Orders {
    /// Creation order, which is also `createdAt` order: creation times strictly increase.
    created: Vec<String>,
    /// Other orders by their keys. Behind a lock of its own because a listing, which only reads
    /// the store, builds an order the first time it is asked for.
    sorted: Mutex<SortedOrders>,
}

/// Ids in each sorted order, by its keys.
type SortedOrders = HashMap<Vec<(SortField, bool)>, Vec<String>>;

impl Orders {
    fn sorted_mut(&mut self) -> &mut SortedOrders {
        self.sorted.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new record, the newest.
    pub fn push<S: Sortable>(&mut self, id: &str, fields: impl Fn(&str) -> S) {
        self.created.push(id.to_owned());
        self.place(id, fields);
    }

    /// Records that are gone.
    pub fn remove(&mut self, ids: &[String]) {
        self.created.retain(|kept| !ids.contains(kept));
        for order in self.sorted_mut().values_mut() {
            order.retain(|kept| !ids.contains(kept));
        }
    }

    /// A record whose sortable fields changed: it moves to its new place in every sorted order.
    pub fn changed<S: Sortable>(&mut self, id: &str, fields: impl Fn(&str) -> S) {
        for order in self.sorted_mut().values_mut() {
            order.retain(|kept| kept != id);
        }
        self.place(id, fields);
    }

    fn place<S: Sortable>(&mut self, id: &str, fields: impl Fn(&str) -> S) {
        let new = fields(id);
        for (keys, order) in self.sorted_mut() {
            let at = order.partition_point(|other| compare(keys, &fields(other), &new, other, id).is_lt());
            order.insert(at, id.to_owned());
        }
    }

    /// The ids at `start..start + size` of those that `keep` accepts, in the order of `keys`
    /// (newest first when there are none), and how many it accepts in all. Without a filter
    /// only the page itself is read.
    pub fn page<S: Sortable>(
        &self,
        keys: &SortKeys,
        fields: impl Fn(&str) -> S,
        keep: Option<&dyn Fn(&str) -> bool>,
        start: usize,
        size: usize,
    ) -> (u64, Vec<String>) {
        let cut = |ids: &mut dyn Iterator<Item = &String>| -> (u64, Vec<String>) {
            match keep {
                None => {
                    let page: Vec<String> = ids.skip(start).take(size).cloned().collect();
                    (self.created.len() as u64, page)
                }
                Some(keep) => {
                    let (mut total, mut page) = (0, Vec::new());
                    for id in ids.filter(|id| keep(id)) {
                        if total >= start && page.len() < size {
                            page.push(id.clone());
                        }
                        total += 1;
                    }
                    (total as u64, page)
                }
            }
        };
        match keys {
            [] | [(SortField::CreatedAt, true)] => cut(&mut self.created.iter().rev()),
            [(SortField::CreatedAt, false)] => cut(&mut self.created.iter()),
            _ => {
                let mut sorted = self.sorted.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if !sorted.contains_key(keys) {
                    let mut order = self.created.clone();
                    order.sort_by(|a, b| compare(keys, &fields(a), &fields(b), a, b));
                    sorted.insert(keys.to_vec(), order);
                }
                cut(&mut sorted[keys].iter())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Named<'a>(&'a str);

    impl Sortable for Named<'_> {
        fn field(&self, field: SortField) -> Option<&str> {
            (field == SortField::Name).then_some(self.0)
        }
    }

    #[test]
    fn sorted_orders_follow_every_write() {
        let names: HashMap<&str, &str> = HashMap::from([("1", "b"), ("2", "a"), ("3", "c"), ("4", "ab")]);
        let mut names = names;
        let mut orders = Orders::default();
        let by_name = [(SortField::Name, false)];
        for id in ["1", "2", "3"] {
            orders.push(id, |id| Named(names[id]));
        }
        let page = |orders: &Orders, names: &HashMap<&str, &str>| {
            orders.page(&by_name, |id| Named(names[id]), None, 0, 10).1
        };
        assert_eq!(page(&orders, &names), ["2", "1", "3"]);
        orders.push("4", |id| Named(names[id]));
        assert_eq!(page(&orders, &names), ["2", "4", "1", "3"]);
        names.insert("3", "0");
        orders.changed("3", |id| Named(names[id]));
        assert_eq!(page(&orders, &names), ["3", "2", "4", "1"]);
        orders.remove(&["2".to_owned()]);
        assert_eq!(page(&orders, &names), ["3", "4", "1"]);
        assert_eq!(orders.page(&[], |id| Named(names[id]), None, 0, 10).1, ["4", "3", "1"]);
        let keep: &dyn Fn(&str) -> bool = &|id| id != "4";
        assert_eq!(
            orders.page(&by_name, |id| Named(names[id]), Some(keep), 1, 10),
            (2, vec!["1".to_owned()])
        );
    }
}
