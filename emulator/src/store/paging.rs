//! What a listing asks for, and its pages: filters applied to the kept orders, the page cut,
//! and the counts the service reports.

use super::*;

/// What a list request asks for, already checked.
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    pub statuses: Vec<&'static str>,
    pub scopes: Vec<Scope>,
    pub featured: Option<bool>,
    pub name: Option<String>,
    pub title: Option<String>,
    /// Keys in order, each with `true` for descending.
    pub sort: Vec<(SortField, bool)>,
    pub page_size: u64,
    pub page_number: u64,
}

impl ListQuery {
    /// Whether any filter is set; a listing only ever fills the filters it accepts.
    fn has_filters(&self) -> bool {
        !self.statuses.is_empty()
            || !self.scopes.is_empty()
            || self.featured.is_some()
            || self.name.is_some()
            || self.title.is_some()
    }
}

/// One page of results with the counts the service reports.
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page_count: u64,
    pub page_number: u64,
    pub page_size: u64,
}

/// One page of the records of `orders` that pass the query's filters, in the query's order;
/// `all_visible` says that the caller's tenant sees every record, so only the query filters.
pub(super) fn page_of<S: Sortable>(
    orders: &Orders,
    query: &ListQuery,
    all_visible: bool,
    fields: impl Fn(&str) -> S,
    keep: impl Fn(&str) -> bool,
) -> Page<String> {
    let start = usize::try_from(query.page_size.saturating_mul(query.page_number - 1)).unwrap_or(usize::MAX);
    let size = usize::try_from(query.page_size).unwrap_or(usize::MAX);
    let filtered = query.has_filters() || !all_visible;
    let filter: Option<&dyn Fn(&str) -> bool> = if filtered { Some(&keep) } else { None };
    let (total, items) = orders.page(&query.sort, fields, filter, start, size);
    Page::of(items, total, query)
}

impl Sortable for &Metadata {
    fn field(&self, field: SortField) -> Option<&str> {
        match field {
            SortField::CreatedAt => Some(&self.created_at),
            SortField::CreatedBy => Some(&self.created_by),
            SortField::Name => Some(&self.name),
            SortField::Title => self.title.as_deref(),
        }
    }
}

impl Sortable for (&String, &String) {
    fn field(&self, field: SortField) -> Option<&str> {
        match field {
            SortField::CreatedAt => Some(self.0),
            SortField::CreatedBy => Some(self.1),
            SortField::Name | SortField::Title => None,
        }
    }
}

/// Sorts by the query's keys (newest first when none), ties broken by id, and cuts one page.
/// `items` come in creation order, which is `createdAt` order since creation times strictly
/// increase, so sorting by creation time alone needs no sort.
pub(super) fn paginate<'a, T, S: Sortable>(
    mut items: Vec<&'a T>,
    query: &ListQuery,
    fields: impl Fn(&'a T) -> S,
    id: impl Fn(&'a T) -> &'a String,
) -> Page<&'a T> {
    let default = [(SortField::CreatedAt, true)];
    let keys = if query.sort.is_empty() { &default[..] } else { &query.sort[..] };
    match keys {
        [(SortField::CreatedAt, true)] => items.reverse(),
        [(SortField::CreatedAt, false)] => {}
        _ => items.sort_by(|a, b| compare(keys, &fields(a), &fields(b), id(a), id(b))),
    }
    let total = items.len() as u64;
    let start = query.page_size.saturating_mul(query.page_number - 1);
    let items = items
        .into_iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(query.page_size as usize)
        .collect();
    Page::of(items, total, query)
}

impl<T> Page<T> {
    /// The page `query` asked for, holding `items` of the `total` that pass its filters.
    fn of(items: Vec<T>, total: u64, query: &ListQuery) -> Self {
        Page {
            items,
            total,
            page_count: total.div_ceil(query.page_size),
            page_number: query.page_number,
            page_size: query.page_size,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page_count: self.page_count,
            page_number: self.page_number,
            page_size: self.page_size,
        }
    }
}
