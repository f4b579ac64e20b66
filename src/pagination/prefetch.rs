//! Fetching pages ahead of the consumer: in order, within a number of pages and a budget of
//! bytes, and within the listing's deadline.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{FutureExt, StreamExt, future::BoxFuture, stream::FuturesOrdered};

use super::{ListQuery, Page};
use crate::{Client, Error, Result, TimeLimit};

/// One request of a listing: a page number and the page size asked for (`None`: the service's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Window {
    pub(super) number: u64,
    pub(super) size: Option<u64>,
}

impl Window {
    /// A window of `size` items starting at `offset`, which `size` divides.
    pub(super) fn at(offset: u64, size: u64) -> Self {
        Self { number: offset / size + 1, size: Some(size) }
    }

    pub(super) fn offset(&self) -> u64 {
        (self.number - 1) * self.size.unwrap_or(0)
    }
}

/// A page as it arrived, with the window that straddles its start when one was asked for.
pub(super) struct Fetched {
    pub(super) window: Window,
    pub(super) page: Result<Bytes>,
    pub(super) check: Option<(Window, Result<Bytes>)>,
}

pub(super) struct Prefetch<'c, Q> {
    client: &'c Client,
    query: Q,
    max_pages: usize,
    buffer_bytes: u64,
    /// The most bytes an item took in any page so far; 0 before the first.
    bytes_per_item: u64,
    /// The listing's time limit, and the instant it runs out once the first request is made.
    deadline: Option<(Duration, Option<Instant>)>,
    queue: FuturesOrdered<BoxFuture<'c, Fetched>>,
}

impl<'c, Q: ListQuery + 'c> Prefetch<'c, Q> {
    pub(super) fn new(
        client: &'c Client,
        query: Q,
        max_pages: usize,
        buffer_bytes: u64,
        timeout: Option<Duration>,
    ) -> Self {
        Self {
            client,
            query,
            max_pages,
            buffer_bytes,
            bytes_per_item: 0,
            deadline: timeout.map(|limit| (limit, None)),
            queue: FuturesOrdered::new(),
        }
    }

    /// Whether one more request of `items` items fits: within the number of pages, and within the
    /// byte budget as estimated for every request held. An empty queue always has room.
    pub(super) fn has_room(&self, items: u64) -> bool {
        let held = self.queue.len() as u64;
        if held == 0 {
            return true;
        }
        held < self.max_pages as u64
            && (held + 1).saturating_mul(items).saturating_mul(self.bytes_per_item) <= self.buffer_bytes
    }

    /// Asks for `window`, and for `check` at the same moment when given.
    pub(super) fn push(&mut self, window: Window, check: Option<Window>) {
        let page = self.fetch(window);
        let fetched = match check {
            None => page.map(move |page| Fetched { window, page, check: None }).boxed(),
            Some(check) => futures::future::join(page, self.fetch(check))
                .map(move |(page, body)| Fetched { window, page, check: Some((check, body)) })
                .boxed(),
        };
        self.queue.push_back(fetched);
    }

    /// The most requests the listing may have in flight.
    pub(super) fn max_pages(&self) -> usize {
        self.max_pages
    }

    /// How many requests are queued or in flight.
    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    fn fetch(&self, window: Window) -> BoxFuture<'c, Result<Bytes>> {
        self.query.fetch(self.client, window.number, window.size)
    }

    /// Fetches `window` now, outside the queue, within the listing's deadline.
    pub(super) async fn fetch_now(&mut self, window: Window) -> Result<Bytes> {
        within(self.deadline_at(), self.fetch(window)).await?
    }

    /// The next page in order; `None` when nothing is queued.
    pub(super) async fn next(&mut self) -> Result<Option<Fetched>> {
        within(self.deadline_at(), self.queue.next()).await
    }

    fn deadline_at(&mut self) -> Option<(Duration, Instant)> {
        let (limit, at) = self.deadline.as_mut()?;
        Some((*limit, *at.get_or_insert_with(|| Instant::now() + *limit)))
    }

    /// Notes how many bytes an item of `page` takes, for the estimates of [`has_room`].
    pub(super) fn learn<T>(&mut self, page: &Page<T>, body_len: usize) {
        let per_item = body_len as u64 / (page.items.len() as u64).max(1);
        self.bytes_per_item = self.bytes_per_item.max(per_item);
    }

    /// Drops what is queued: pages past the end that were already asked for are not needed.
    pub(super) fn clear(&mut self) {
        self.queue = FuturesOrdered::new();
    }
}

/// `future`, unless the listing's `deadline` (its limit and the instant it runs out) passes first.
async fn within<T>(deadline: Option<(Duration, Instant)>, future: impl Future<Output = T>) -> Result<T> {
    match deadline {
        None => Ok(future.await),
        Some((limit, at)) => tokio::time::timeout_at(at.into(), future).await.map_err(|_| Error::Timeout {
            limit: TimeLimit::Listing(limit),
            request: None,
            source: None,
        }),
    }
}
