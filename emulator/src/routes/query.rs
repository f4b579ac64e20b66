//! The listings' queries: filters, sort keys and paging, parsed strictly, one value or several
//! comma-joined as the official CLI sends them.

use crate::{
    error::{ApiError, ApiResult},
    model::*,
    orders::SortField,
    store::ListQuery,
};

/// The statuses a listing filters on: how to read one, and what is allowed.
pub(super) struct StatusFilter {
    parse: fn(&str) -> Option<&'static str>,
    expected: fn() -> String,
}

pub(super) const SPEC_STATUSES: StatusFilter =
    StatusFilter { parse: |t| SpecStatus::parse(t).map(SpecStatus::as_str), expected: SpecStatus::expected };
pub(super) const DEPLOYMENT_STATUSES: StatusFilter = StatusFilter {
    parse: |t| DeploymentStatus::parse(t).map(DeploymentStatus::as_str),
    expected: DeploymentStatus::expected,
};
pub(super) const REVISION_STATUSES: StatusFilter = StatusFilter {
    parse: |t| RevisionStatus::parse(t).map(RevisionStatus::as_str),
    expected: RevisionStatus::expected,
};

/// The query parameters a listing accepts.
pub(super) struct Listing {
    pub statuses: Option<StatusFilter>,
    pub sort_fields: &'static [(&'static str, SortField)],
    /// Whether `featured`, `scope` and `title` apply (the specs listing).
    pub spec_filters: bool,
    pub name: bool,
}

pub(super) const ALL_FIELDS: &[(&str, SortField)] = &[
    ("createdAt", SortField::CreatedAt),
    ("createdBy", SortField::CreatedBy),
    ("name", SortField::Name),
    ("title", SortField::Title),
];
pub(super) const HISTORY_FIELDS: &[(&str, SortField)] =
    &[("createdAt", SortField::CreatedAt), ("createdBy", SortField::CreatedBy)];

pub(super) fn parse_listing(raw: Option<String>, listing: &Listing) -> ApiResult<ListQuery> {
    let mut query = ListQuery { page_size: 25, page_number: 1, ..ListQuery::default() };
    let raw = raw.unwrap_or_default();
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        match key.as_ref() {
            "pageSize" => {
                query.page_size = positive("pageSize", &value)?;
                if query.page_size > 1000 {
                    return Err(ApiError::bad_request(format!(
                        "pageSize {value} is over the maximum of 1000"
                    )));
                }
            }
            "pageNumber" => query.page_number = positive("pageNumber", &value)?,
            "sort" => {
                for key in listed(&value) {
                    query.sort.push(sort_key(key, listing.sort_fields)?);
                }
            }
            // Filters take repeated keys and comma-joined values alike, as the official CLI sends.
            "status" => {
                if let Some(filter) = &listing.statuses {
                    for value in listed(&value) {
                        let status = (filter.parse)(value).ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "status: {value:?} is not one of {}",
                                (filter.expected)()
                            ))
                        })?;
                        query.statuses.push(status);
                    }
                }
            }
            "scope" if listing.spec_filters => {
                for value in listed(&value) {
                    let scope = Scope::parse(value).ok_or_else(|| {
                        ApiError::bad_request(format!("scope: {value:?} is not one of {}", Scope::expected()))
                    })?;
                    query.scopes.push(scope);
                }
            }
            "featured" if listing.spec_filters => query.featured = Some(boolean("featured", &value)?),
            "title" if listing.spec_filters => query.title = Some(value.into_owned()),
            "name" if listing.name => query.name = Some(value.into_owned()),
            _ => {}
        }
    }
    Ok(query)
}

/// The values of a query value that may join several with commas.
pub(super) fn listed(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|v| !v.is_empty())
}

pub(super) fn positive(name: &str, value: &str) -> ApiResult<u64> {
    match value.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(ApiError::bad_request(format!("{name}: {value:?} is not a whole number of at least 1"))),
    }
}

/// Booleans as the Python SDK sends them (`True`) or as JSON spells them (`true`).
pub(super) fn boolean(name: &str, value: &str) -> ApiResult<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::bad_request(format!("{name}: {value:?} is not true or false"))),
    }
}

pub(super) fn sort_key(key: &str, fields: &[(&str, SortField)]) -> ApiResult<(SortField, bool)> {
    let (field, direction) = key.split_once(':').unwrap_or((key, "asc"));
    let descending = match direction {
        "asc" => false,
        "desc" => true,
        _ => {
            return Err(ApiError::bad_request(format!("sort: {key:?} must end in :asc or :desc")));
        }
    };
    let field = fields.iter().find(|(name, _)| *name == field).map(|(_, f)| *f).ok_or_else(|| {
        let names: Vec<_> = fields.iter().map(|(n, _)| *n).collect();
        ApiError::bad_request(format!("sort: {field:?} is not one of {}", names.join(", ")))
    })?;
    Ok((field, descending))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::documented;

    /// The bare keys of the document's sort enumeration `schema` (`name` of `name:asc`).
    fn documented_fields(schema: &str) -> Vec<String> {
        let mut fields: Vec<String> =
            documented(schema, None).into_iter().filter(|key| !key.contains(':')).collect();
        fields.sort();
        fields
    }

    fn fields(list: &[(&str, SortField)]) -> Vec<String> {
        let mut names: Vec<String> = list.iter().map(|(name, _)| (*name).to_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn the_sort_fields_are_the_documents() {
        for schema in ["SpecSortKey", "DeploymentSortKey"] {
            assert_eq!(
                fields(ALL_FIELDS),
                documented_fields(schema),
                "emulator/src/routes/query.rs: ALL_FIELDS against {schema}"
            );
        }
        for schema in ["ReleaseSortKey", "RevisionSortKey"] {
            assert_eq!(
                fields(HISTORY_FIELDS),
                documented_fields(schema),
                "emulator/src/routes/query.rs: HISTORY_FIELDS against {schema}"
            );
        }
    }
}
