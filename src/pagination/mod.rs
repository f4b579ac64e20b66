//! One pager for the four list operations; its guarantees are documented on [`Paginator`].

mod exact;
mod prefetch;

use std::time::Duration;

use bytes::Bytes;
use futures::{
    StreamExt, TryStreamExt,
    future::BoxFuture,
    stream::{self, BoxStream},
};

use crate::{Client, Error, Result};
use prefetch::{Prefetch, Window};

/// The largest page the service serves.
pub const MAX_PAGE_SIZE: u64 = 1000;

/// How many pages a listing fetches at once unless told otherwise (within
/// [`DEFAULT_BUFFER_BYTES`]).
pub const DEFAULT_CONCURRENCY: usize = 16;

/// How many bytes of prefetched response bodies a listing holds unless told otherwise.
pub const DEFAULT_BUFFER_BYTES: u64 = 8 * 1024 * 1024;

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

/// The filters of one list operation, and how to fetch and read one page with them: what makes
/// the four listings one [`Paginator`], so that code can be generic over them.
///
/// Sealed: implemented by this crate's four queries only, so that new methods can be added to it
/// without breaking anyone. Its methods are the pager's business; a program names the trait as a
/// bound and [`Item`](ListQuery::Item) as the listing's item type:
///
/// ```no_run
/// use futures::TryStreamExt;
/// use peak_press_apps::{Client, ListQuery, Paginator};
///
/// /// How many items any of the four listings holds, counted across all its pages.
/// async fn count<Q: ListQuery>(listing: Paginator<'_, Q>) -> peak_press_apps::Result<usize> {
///     listing.items().try_fold(0, |n, _| async move { Ok(n + 1) }).await
/// }
///
/// # async fn example(client: Client) -> peak_press_apps::Result<()> {
/// let specs = count(client.list_specs()).await?;
/// let deployments = count(client.list_deployments()).await?;
/// # Ok(()) }
/// ```
pub trait ListQuery: sealed::Sealed + Clone + Send + Sync {
    /// What the listing yields.
    type Item: serde::Serialize + std::fmt::Debug + Clone + Send;

    /// Fetches the body of page `page_number` with these filters.
    #[doc(hidden)]
    fn fetch<'c>(
        &self,
        client: &'c Client,
        page_number: u64,
        page_size: Option<u64>,
    ) -> BoxFuture<'c, Result<Bytes>>;

    /// Decodes a page's body.
    #[doc(hidden)]
    fn decode(client: &Client, body: &[u8]) -> Result<Page<Self::Item>>;

    /// An item's id, unique in the listing.
    #[doc(hidden)]
    fn id(item: &Self::Item) -> &str;
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

/// Implements [`ListQuery`] for a query whose generated envelope `$page` holds its items under
/// `$items` and their total under `$count`.
macro_rules! list_query {
    ($query:ty, $item:ty, $page:ty, $items:ident, $count:ident, |$this:ident, $api:ident| $request:expr) => {
        impl $crate::pagination::sealed::Sealed for $query {}

        impl $crate::pagination::ListQuery for $query {
            type Item = $item;

            fn fetch<'c>(
                &self,
                client: &'c $crate::Client,
                page_number: u64,
                page_size: Option<u64>,
            ) -> futures::future::BoxFuture<'c, $crate::Result<bytes::Bytes>> {
                use $crate::pagination::SetIf;
                let query = self.clone();
                Box::pin(async move {
                    client
                        .call(|$api| {
                            let $this = &query;
                            let request = $request
                                .page_number(page_number)
                                .set_if(page_size, |request, size| request.page_size(size));
                            async move { $crate::response::whole(request.send().await?).await }
                        })
                        .await
                })
            }

            fn decode(client: &$crate::Client, body: &[u8]) -> $crate::Result<$crate::Page<$item>> {
                let page: $page =
                    serde_json::from_slice(body).map_err(|why| client.transport().undecodable(body, &why))?;
                Ok($crate::Page {
                    items: page.$items,
                    total: page.$count,
                    page_count: page.page_count,
                    page_number: page.page_number,
                    page_size: page.page_size,
                })
            }

            fn id(item: &$item) -> &str {
                &item.id
            }
        }
    };
}
pub(crate) use list_query;

/// One pager for the four list operations: a single page with its counts, every page in turn,
/// or every item as a stream.
///
/// ```no_run
/// # async fn example(client: peak_press_apps::Client) -> peak_press_apps::Result<()> {
/// use futures::TryStreamExt;
/// use peak_press_apps::DeploymentStatus;
///
/// // Every failed deployment, as one stream of items across all pages.
/// let mut failed = client.list_deployments().status(DeploymentStatus::Failed).items();
/// while let Some(deployment) = failed.try_next().await? {
///     println!("{} is failed", deployment.metadata.name);
/// }
///
/// // One page with its counts, like the Python SDK's `return_iterator=False`.
/// let page = client.list_specs().page_size(50).page(2).await?;
/// println!("page {} of {}: {} of {} specs", page.page_number, page.page_count, page.items.len(), page.total);
/// # Ok(()) }
/// ```
///
/// # Every item exactly once, while others write
///
/// The service pages by offset, and others create and delete while a listing runs: each create
/// before the read position shifts the rest down (the next page repeats an item), each delete
/// shifts them up (an item is never seen). The official SDK repeats and loses items silently.
/// [`Paginator::items`] does not. It guarantees:
///
/// - an item that exists for the whole listing is yielded exactly once, in order;
/// - an item created or deleted during the listing is yielded at most once;
/// - when the changes outrun what the pager can repair, the stream ends with
///   [`Error::Pagination`] rather than skip anything.
///
/// It reads the listing in windows that overlap what it has yielded. One answer is one consistent
/// view: if a window holds an item already yielded, every item it shows after the last such item
/// is new, and nothing that existed then lies between them, so those items are yielded next and the
/// next window carries on from there. (Pages of a size asked for are joined the same way through a
/// small window read across their start.) How far windows overlap follows how far the order moved
/// lately (each window shows where the items it shares were seen before). When the order moved
/// further than that under windows already asked for, so that the next holds nothing yielded, the
/// listing drops the windows in flight, looks for the last item yielded with fresh windows around
/// where it should be, carries on one window at a time, and fetches ahead again as windows keep
/// joining where they were planned. Items already yielded are recognised by id among the last
/// 4,000, so memory stays bounded. Only when the order moves by more than a window per request
/// does a listing end with [`Error::Pagination`] instead. The guarantee holds for an order that
/// does not change while the listing runs: renaming a spec during a listing sorted by name moves
/// it, and it may then be seen twice or not at all, as with any offset pager.
///
/// [`Paginator::pages`] gives the pages as the service answered them, without this repair.
///
/// # Fast on its defaults, bounded in bytes
///
/// Unless a page size is set, [`items`](Paginator::items) asks for the service's default 25 items
/// first (the first item arrives as quickly as from any client), then for windows that double up
/// to the service's largest page of [`MAX_PAGE_SIZE`]: 10,000 items take about 16 requests instead
/// of the 400 of pages of 25. With an explicit [`page_size`](Paginator::page_size), while the order
/// holds still, the listing reads that size's pages, each with a few items across its start read
/// at the same moment, which joins it to what was yielded without a round trip of its own. While
/// the order moves, it reads overlapping windows of at most that size instead (larger only while it
/// catches up, or when the order moves by more than a quarter of a page between two windows).
///
/// Once the first page tells how many there are, later windows are fetched several at a time: up to
/// [`DEFAULT_CONCURRENCY`] (fewer while the order moves), and no more than
/// [`DEFAULT_BUFFER_BYTES`] of response bodies as estimated from the largest item seen so far (see
/// [`Paginator::concurrency`] and [`Paginator::buffer_bytes`]). Prefetched pages are held as the bytes that arrived and decoded
/// only when the stream reaches them, so what a listing holds is bounded in bytes whatever the
/// page size. Items come out in order, each page's call has its own retries, and dropping the
/// stream cancels what is in flight.
///
/// The bound, whatever the length of the listing: the bodies held, up to
/// [`buffer_bytes`](Paginator::buffer_bytes) (one page more when a single page is larger), one
/// decoded window, the ids of the last 4,000 items yielded, and each connection's buffers. What
/// the process's resident memory shows on top of that is the allocator's (measured with the
/// defaults and glibc's allocator: about 23 MiB after 100,000 items and 21 MiB after 1,000,000;
/// with `MALLOC_MMAP_THRESHOLD_=131072`, which returns page-sized blocks to the system as they are
/// freed, 18 and 14 MiB). `.concurrency(1)` holds one body at a time.
///
/// # Pages that contradict themselves
///
/// A page numbered other than asked, one with more items than its page size, or one with no items
/// although its own total says it should have some (an empty first page that counts a hundred
/// items) ends the listing with [`Error::Pagination`], as does a page count that keeps growing
/// far beyond what the first page said. [`Paginator::page`] checks the same.
///
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
    buffer_bytes: u64,
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
            buffer_bytes: DEFAULT_BUFFER_BYTES,
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
    pub(crate) fn sort_by<K, T>(mut self, key: T, keys: impl FnOnce(&mut Q) -> &mut Vec<K>) -> Self
    where
        T: TryInto<K> + std::fmt::Display,
    {
        let shown = key.to_string();
        match key.try_into() {
            Ok(parsed) => {
                keys(&mut self.query).push(parsed);
                self
            }
            Err(_) => self.reject(Error::invalid(format!(
                "{shown:?} is not a sort key of this listing: expected field, field:asc or field:desc"
            ))),
        }
    }

    /// Items per page, from 1 to [`MAX_PAGE_SIZE`]. Unless set, [`page`](Self::page) and
    /// [`pages`](Self::pages) get the service's default of 25, and [`items`](Self::items) chooses
    /// the fewest round trips (see the [type documentation](Paginator)).
    pub fn page_size(self, size: u64) -> Self {
        self.set_page_size(Some(size))
    }

    /// Like [`page_size`](Self::page_size), from an `Option`: `None` leaves the choice to the
    /// listing.
    pub fn set_page_size(mut self, size: Option<u64>) -> Self {
        if let Some(size) = size
            && !(1..=MAX_PAGE_SIZE).contains(&size)
        {
            return self
                .reject(Error::invalid(format!("page size {size} is not between 1 and {MAX_PAGE_SIZE}")));
        }
        self.page_size = size;
        self
    }

    /// The most pages fetched at once after the first ([`DEFAULT_CONCURRENCY`] unless set); 1
    /// fetches one page after another. [`buffer_bytes`](Self::buffer_bytes) may allow fewer.
    pub fn concurrency(mut self, pages: usize) -> Self {
        if pages == 0 {
            return self.reject(Error::invalid("a listing fetches at least one page at a time"));
        }
        self.concurrency = pages;
        self
    }

    /// The most bytes of prefetched response bodies held at once ([`DEFAULT_BUFFER_BYTES`] unless
    /// set), as estimated from the largest item seen so far. One page is always fetched, however
    /// large.
    pub fn buffer_bytes(mut self, bytes: u64) -> Self {
        self.buffer_bytes = bytes;
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

    fn prefetch(&self) -> Prefetch<'c, Q> {
        Prefetch::new(self.client, self.query.clone(), self.concurrency, self.buffer_bytes, self.timeout)
    }

    /// Fetches one page, counted from 1, with its counts.
    pub async fn page(&self, number: u64) -> Result<Page<Q::Item>> {
        self.check()?;
        if number == 0 {
            return Err(Error::invalid("page numbers start at 1"));
        }
        let window = Window { number, size: self.page_size };
        let body = self.query.fetch(self.client, number, self.page_size).await?;
        decode_checked::<Q>(self.client, window, &body)
    }

    /// Every page in turn as the service answers it, from the first to the last it reports. Once
    /// the first page tells how many there are, several are fetched at a time (see
    /// [`concurrency`](Self::concurrency)); they still come out in order. Dropping the stream
    /// cancels the requests in flight. Unlike [`items`](Self::items), pages are not repaired
    /// when others write during the listing.
    pub fn pages(self) -> BoxStream<'c, Result<Page<Q::Item>>> {
        if let Err(error) = self.check() {
            return stream::once(async { Err(error) }).boxed();
        }
        let lister = PageLister {
            client: self.client,
            prefetch: self.prefetch(),
            size: self.page_size,
            size_hint: self.page_size.unwrap_or(0),
            next: 1,
            planned: 1,
            bound: None,
            done: false,
        };
        stream::try_unfold(lister, |mut lister| async move {
            Ok(lister.next_page().await?.map(|page| (page, lister)))
        })
        .boxed()
    }

    /// Every item of the listing, in order, each exactly once even while others create and delete
    /// (see the [type documentation](Paginator) for the guarantee and its cost).
    pub fn items(self) -> BoxStream<'c, Result<Q::Item>> {
        if let Err(error) = self.check() {
            return stream::once(async { Err(error) }).boxed();
        }
        exact::items(self.client, self.prefetch(), self.page_size)
            .map_ok(|batch| stream::iter(batch.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }
}

/// [`Paginator::pages`]: page numbers in turn, up to the page count the latest page reports.
struct PageLister<'c, Q: ListQuery> {
    client: &'c Client,
    prefetch: Prefetch<'c, Q>,
    size: Option<u64>,
    /// The page size the service applies, for estimating what a page holds.
    size_hint: u64,
    next: u64,
    /// The last page to ask for, as the latest page reported.
    planned: u64,
    bound: Option<u64>,
    done: bool,
}

impl<'c, Q: ListQuery + 'c> PageLister<'c, Q> {
    async fn next_page(&mut self) -> Result<Option<Page<Q::Item>>> {
        if self.done {
            return Ok(None);
        }
        while self.next <= self.planned {
            let window = Window { number: self.next, size: self.size };
            if !self.prefetch.has_room(self.size_hint) {
                break;
            }
            self.prefetch.push(window, None);
            self.next += 1;
        }
        let Some(fetched) = self.prefetch.next().await? else { return Ok(None) };
        let body = fetched.page?;
        let page = decode_checked::<Q>(self.client, fetched.window, &body)?;
        self.prefetch.learn(&page, body.len());
        let bound = *self.bound.get_or_insert_with(|| page_bound(page.page_count));
        if page.page_count > bound {
            return Err(Error::Pagination {
                message: format!(
                    "page {} reports {} pages, beyond the bound of {bound} set by the first page",
                    page.page_number, page.page_count
                ),
            });
        }
        self.size_hint = self.size_hint.max(page.page_size);
        self.planned = page.page_count;
        if page.items.is_empty() || page.page_number >= page.page_count {
            self.done = true;
            // Pages past the end that were already asked for are not needed.
            self.prefetch.clear();
        }
        Ok(Some(page))
    }
}

/// Decodes a page's body and refuses it when it contradicts itself; see [`check_page`].
fn decode_checked<Q: ListQuery>(client: &Client, window: Window, body: &[u8]) -> Result<Page<Q::Item>> {
    let page = Q::decode(client, body)?;
    check_page(window.number, &page)?;
    Ok(page)
}

/// Refuses a page that is not the one asked for, or whose items contradict the counts it reports
/// itself: more items than its page size, or none where its total says there are some (the
/// total decides, not `pageCount`: an empty page past the items a total counts ends a listing
/// whatever `pageCount` claims). Counts that changed between pages are no contradiction (others
/// create and delete while a listing runs); one answer that contradicts itself is, and a listing
/// that took it for data could repeat the same page forever or end early without a word.
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
