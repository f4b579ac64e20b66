//! One pager for the four list operations: a single page with its counts, every page in turn,
//! or every item as a stream.
//!
//! The service numbers pages from 1 and reports `pageCount` on each. The pager keeps the
//! filters and page size on every request, stops after the last page the service reports or at
//! the first empty page, and refuses to go on when the reported page count grows far beyond what
//! the first page said, so a server that misreports cannot keep it looping.
//!
//! A page that contradicts itself ends the listing with [`Error::Pagination`] rather than being
//! taken as data: one numbered other than asked, one with more items than its page size, or one
//! with no items although its own total says it should have some (an empty first page that
//! counts a hundred items on five pages). [`Paginator::page`] checks the same.
//!
//! Once the first page has told how many there are, later pages are fetched
//! [`DEFAULT_CONCURRENCY`] at a time (see [`Paginator::concurrency`]): a long listing costs about
//! `pages / concurrency` round trips instead of `pages`. Items still come out in order, at most
//! that many pages are held in memory, each page's call has its own retries, and dropping the
//! stream cancels what is in flight.
//!
//! ```no_run
//! # async fn example(client: peak_press_apps::Client) -> peak_press_apps::Result<()> {
//! use futures::TryStreamExt;
//! use peak_press_apps::DeploymentStatus;
//!
//! // Every failed deployment, page after page, as one stream of items.
//! let mut failed = client.list_deployments().status(DeploymentStatus::Failed).page_size(100).items();
//! while let Some(deployment) = failed.try_next().await? {
//!     println!("{} is failed", deployment.metadata.name);
//! }
//!
//! // One page with its counts, like the Python SDK's `return_iterator=False`.
//! let page = client.list_specs().page_size(50).page(2).await?;
//! println!("page {} of {}: {} of {} specs", page.page_number, page.page_count, page.items.len(), page.total);
//! # Ok(()) }
//! ```

use std::{
    str::FromStr,
    time::{Duration, Instant},
};

use futures::{
    FutureExt, StreamExt, TryStreamExt,
    future::BoxFuture,
    stream::{self, BoxStream, FuturesOrdered},
};

use crate::{Client, Error, Result};

/// The largest page the service serves.
pub const MAX_PAGE_SIZE: u64 = 1000;

/// How many pages a listing fetches at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// One page of a listing, with the counts the service reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// How many items match the filters, on all pages (`specCount`, `deploymentCount`, ...).
    pub total: u64,
    /// How many pages there are.
    pub page_count: u64,
    /// This page's number, counted from 1.
    pub page_number: u64,
    /// The page size the service applied.
    pub page_size: u64,
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// The filters of one list operation, and how to fetch one page with them.
///
/// Implemented by this crate's four queries only.
pub trait ListQuery: sealed::Sealed + Clone + Send + Sync {
    /// What the listing yields.
    type Item: Send;

    /// Fetches page `page_number` with these filters.
    #[doc(hidden)]
    fn fetch<'c>(
        &self,
        client: &'c Client,
        page_number: u64,
        page_size: Option<u64>,
    ) -> BoxFuture<'c, Result<Page<Self::Item>>>;
}

/// Calls a generated setter only when there is a value: progenitor's setters for optional
/// parameters take the value itself, not an `Option`.
pub(crate) trait SetIf: Sized {
    fn set_if<T>(self, value: Option<T>, set: impl FnOnce(Self, T) -> Self) -> Self {
        match value {
            Some(value) => set(self, value),
            None => self,
        }
    }
}

impl<B> SetIf for B {}

/// Implements [`ListQuery`] for a query whose generated envelope holds its items under
/// `$items` and their total under `$count`.
macro_rules! list_query {
    ($query:ty, $item:ty, $items:ident, $count:ident, |$this:ident, $api:ident| $request:expr) => {
        impl $crate::pagination::sealed::Sealed for $query {}

        impl $crate::pagination::ListQuery for $query {
            type Item = $item;

            fn fetch<'c>(
                &self,
                client: &'c $crate::Client,
                page_number: u64,
                page_size: Option<u64>,
            ) -> futures::future::BoxFuture<'c, $crate::Result<$crate::Page<$item>>> {
                use $crate::pagination::SetIf;
                let query = self.clone();
                Box::pin(async move {
                    let page = client
                        .call(|$api| {
                            let $this = &query;
                            $request
                                .page_number(page_number)
                                .set_if(page_size, |request, size| request.page_size(size))
                                .send()
                        })
                        .await?;
                    Ok($crate::Page {
                        items: page.$items,
                        total: page.$count,
                        page_count: page.page_count,
                        page_number: page.page_number,
                        page_size: page.page_size,
                    })
                })
            }
        }
    };
}
pub(crate) use list_query;

/// A listing being set up: filters and page size, then [`page`](Self::page),
/// [`pages`](Self::pages) or [`items`](Self::items).
///
/// Setters never fail on the spot; a value that breaks a rule (an unknown sort key, a page size
/// out of range) is reported as [`Error::InvalidRequest`] by the first request, and nothing is
/// sent.
#[derive(Debug, Clone)]
#[must_use = "a listing does nothing until it is awaited or streamed"]
pub struct Paginator<'c, Q> {
    client: &'c Client,
    pub(crate) query: Q,
    page_size: Option<u64>,
    timeout: Option<Duration>,
    concurrency: usize,
    invalid: Option<String>,
}

impl<'c, Q: ListQuery + 'c> Paginator<'c, Q> {
    pub(crate) fn new(client: &'c Client, query: Q) -> Self {
        Self {
            client,
            query,
            page_size: None,
            timeout: None,
            concurrency: DEFAULT_CONCURRENCY,
            invalid: None,
        }
    }

    /// Remembers the first broken rule; it is reported when the listing runs.
    pub(crate) fn reject(mut self, error: Error) -> Self {
        let why = match error {
            Error::InvalidRequest { message } => message,
            other => other.to_string(),
        };
        self.invalid.get_or_insert(why);
        self
    }

    /// Adds a sort key after checking it against the keys this listing knows.
    pub(crate) fn sort_by<K: FromStr>(mut self, key: &str, keys: impl FnOnce(&mut Q) -> &mut Vec<K>) -> Self {
        match key.parse() {
            Ok(parsed) => {
                keys(&mut self.query).push(parsed);
                self
            }
            Err(_) => self.reject(Error::invalid(format!(
                "{key:?} is not a sort key of this listing: expected field:asc or field:desc"
            ))),
        }
    }

    /// Items per page, from 1 to [`MAX_PAGE_SIZE`]; the service's default is 25.
    pub fn page_size(mut self, size: u64) -> Self {
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            return self
                .reject(Error::invalid(format!("page size {size} is not between 1 and {MAX_PAGE_SIZE}")));
        }
        self.page_size = Some(size);
        self
    }

    /// How many pages may be fetched at once after the first ([`DEFAULT_CONCURRENCY`] unless
    /// set); 1 fetches one page after another. At most this many pages are held in memory.
    pub fn concurrency(mut self, pages: usize) -> Self {
        if pages == 0 {
            return self.reject(Error::invalid("a listing fetches at least one page at a time"));
        }
        self.concurrency = pages;
        self
    }

    /// A deadline for the whole listing, counted from its first request: once it passes, the
    /// stream ends with [`Error::Timeout`]. Each page's call keeps its own timeouts and retries.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    fn check(&self) -> Result<()> {
        match &self.invalid {
            Some(why) => Err(Error::invalid(why.clone())),
            None => Ok(()),
        }
    }

    /// Fetches one page, counted from 1, with its counts.
    pub async fn page(&self, number: u64) -> Result<Page<Q::Item>> {
        self.check()?;
        if number == 0 {
            return Err(Error::invalid("page numbers start at 1"));
        }
        fetch_checked(&self.query, self.client, number, self.page_size).await
    }

    /// Every page in turn, from the first to the last the service reports. Once the first page
    /// tells how many there are, up to [`concurrency`](Self::concurrency) pages are fetched at a
    /// time; they still come out in order, and no more than that many are held at once. Dropping
    /// the stream cancels the requests in flight.
    pub fn pages(self) -> BoxStream<'c, Result<Page<Q::Item>>> {
        if let Err(error) = self.check() {
            return stream::once(async { Err(error) }).boxed();
        }
        let Self { client, query, page_size, timeout, concurrency, .. } = self;
        let start = Cursor {
            next: 1,
            planned: 1,
            bound: None,
            deadline: timeout.map(|limit| (limit, None)),
            in_flight: FuturesOrdered::new(),
            done: false,
        };
        stream::try_unfold(start, move |mut cursor| {
            let query = query.clone();
            async move {
                if cursor.done {
                    return Ok(None);
                }
                while cursor.in_flight.len() < concurrency && cursor.next <= cursor.planned {
                    let number = cursor.next;
                    let fetch = fetch_checked(&query, client, number, page_size);
                    cursor.in_flight.push_back(async move { (number, fetch.await) }.boxed());
                    cursor.next += 1;
                }
                let Some((number, page)) = cursor.next_in_order().await? else { return Ok(None) };
                let page = page?;
                let bound = *cursor.bound.get_or_insert_with(|| page_bound(page.page_count));
                if page.page_count > bound {
                    return Err(Error::Pagination {
                        message: format!(
                            "page {number} reports {} pages, beyond the bound of {bound} set by the first page",
                            page.page_count
                        ),
                    });
                }
                cursor.planned = page.page_count;
                if page.items.is_empty() || number >= page.page_count {
                    cursor.done = true;
                    // Pages past the end that were already asked for are not needed.
                    cursor.in_flight = FuturesOrdered::new();
                }
                Ok(Some((page, cursor)))
            }
        })
        .boxed()
    }

    /// Every item of every page, in order, as one stream.
    pub fn items(self) -> BoxStream<'c, Result<Q::Item>> {
        self.pages().map_ok(|page| stream::iter(page.items.into_iter().map(Ok))).try_flatten().boxed()
    }
}

/// Where a listing is: which pages are asked for, and which are in flight.
struct Cursor<'c, T> {
    next: u64,
    /// The last page to ask for, as the latest page reported.
    planned: u64,
    bound: Option<u64>,
    /// The listing's time limit, and the instant it runs out once the first request is made.
    deadline: Option<(Duration, Option<Instant>)>,
    in_flight: FuturesOrdered<BoxFuture<'c, (u64, Result<Page<T>>)>>,
    done: bool,
}

impl<T> Cursor<'_, T> {
    /// The next page in order, within the listing's deadline.
    async fn next_in_order(&mut self) -> Result<Option<(u64, Result<Page<T>>)>> {
        let Some((limit, at)) = &mut self.deadline else { return Ok(self.in_flight.next().await) };
        let deadline = *at.get_or_insert_with(|| Instant::now() + *limit);
        let limit = *limit;
        tokio::time::timeout_at(deadline.into(), self.in_flight.next()).await.map_err(|_| Error::Timeout {
            message: format!("the listing did not finish within {limit:?}"),
            source: None,
        })
    }
}

/// Fetches page `number` and refuses it when it contradicts itself; see [`check_page`].
fn fetch_checked<'c, Q: ListQuery + 'c>(
    query: &Q,
    client: &'c Client,
    number: u64,
    page_size: Option<u64>,
) -> BoxFuture<'c, Result<Page<Q::Item>>> {
    let fetch = query.fetch(client, number, page_size);
    async move {
        let page = fetch.await?;
        check_page(number, &page)?;
        Ok(page)
    }
    .boxed()
}

/// Refuses a page that is not the one asked for, or whose items contradict the counts it reports
/// itself: more items than its page size, or none where its total says there are some (the
/// total decides, not `pageCount`: an empty page past the items a total counts ends a listing
/// whatever `pageCount` claims). Counts
/// that changed between pages are no contradiction (others create and delete while a listing
/// runs); one answer that contradicts itself is, and a listing that took it for data could repeat
/// the same page forever or end early without a word.
fn check_page<T>(asked: u64, page: &Page<T>) -> Result<()> {
    let refuse = |why: String| Err(Error::Pagination { message: format!("page {asked} {why}") });
    if page.page_number != asked {
        return refuse(format!("was answered with page {} instead", page.page_number));
    }
    let held = page.items.len() as u64;
    if page.page_size > 0 && held > page.page_size {
        return refuse(format!("holds {held} items, more than its page size of {}", page.page_size));
    }
    let before = (asked - 1).saturating_mul(page.page_size);
    if held == 0 && page.total > before {
        return refuse(format!(
            "holds no items, although it reports {} items in pages of {}",
            page.total, page.page_size
        ));
    }
    Ok(())
}

/// How many pages a listing may reach, given the count its first page reported: a listing may
/// grow while it is read, but not without end.
fn page_bound(first_page_count: u64) -> u64 {
    first_page_count.max(1).saturating_mul(2).saturating_add(1)
}
