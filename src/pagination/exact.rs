//! [`Paginator::items`](super::Paginator::items): windows that grow to the largest page, and the
//! repair of every boundary between two pages (the guarantee is in the module documentation of
//! [`Paginator`](super::Paginator)).

use std::{
    collections::{HashMap, VecDeque},
    ops::Range,
    sync::Arc,
};

use futures::{
    StreamExt,
    stream::{self, BoxStream},
};

use super::{
    ListQuery, MAX_PAGE_SIZE, Page, decode_checked,
    prefetch::{Fetched, Prefetch, Window},
};
use crate::{Client, Error, Result};

/// The first window when no page size is set: the service's default page, so that the first
/// items come as quickly as from any client.
const FIRST_WINDOW: u64 = 25;

/// The smallest straddling window; it doubles each time the listing moved too much for it.
const CHECK_WINDOW: u64 = 3;

/// How many straddling windows one boundary may take before the listing gives up.
const CHECK_ATTEMPTS: u32 = 7;

/// How many ids of yielded items are remembered: two of the largest pages and their checks.
const MEMORY: usize = 4 * MAX_PAGE_SIZE as usize;

/// Every item of the listing, in batches of one page each.
pub(super) fn items<'c, Q: ListQuery + 'c>(
    client: &'c Client,
    prefetch: Prefetch<'c, Q>,
    explicit: Option<u64>,
) -> BoxStream<'c, Result<Vec<Q::Item>>> {
    let lister = Exact {
        client,
        prefetch,
        explicit,
        next_offset: 0,
        end: None,
        bound: None,
        memory: Memory::default(),
        done: false,
    };
    stream::try_unfold(lister, |mut lister| async move {
        Ok(lister.next_batch().await?.map(|batch| (batch, lister)))
    })
    .boxed()
}

struct Exact<'c, Q: ListQuery> {
    client: &'c Client,
    prefetch: Prefetch<'c, Q>,
    explicit: Option<u64>,
    /// Where the next window to ask for starts.
    next_offset: u64,
    /// The total the latest page reported: no window is asked for at or past it.
    end: Option<u64>,
    /// How far a listing may reach, given its first total: it may grow, but not without end.
    bound: Option<u64>,
    memory: Memory,
    done: bool,
}

impl<'c, Q: ListQuery + 'c> Exact<'c, Q> {
    /// The window size at `offset`: the caller's, or else doubling from 25 to the largest page.
    fn size_at(&self, offset: u64) -> u64 {
        self.explicit.unwrap_or_else(|| growing_window(offset))
    }

    /// Asks for the windows that the latest total calls for, as far as the prefetch has room.
    fn launch(&mut self) -> Result<()> {
        loop {
            let offset = self.next_offset;
            if offset > 0 {
                // Until the first page is back there is no total to plan by.
                let Some(end) = self.end else { return Ok(()) };
                if offset >= end {
                    return Ok(());
                }
                if let Some(bound) = self.bound
                    && offset > bound
                {
                    return Err(Error::Pagination {
                        message: format!(
                            "the listing reached item {offset}, beyond the bound of {bound} set by its first page"
                        ),
                    });
                }
            }
            let size = self.size_at(offset);
            let check = (offset > 0).then(|| straddling(offset, CHECK_WINDOW));
            if !self.prefetch.has_room(size + check.and_then(|w| w.size).unwrap_or(0)) {
                return Ok(());
            }
            self.prefetch.push(Window::at(offset, size), check);
            self.next_offset = offset + size;
        }
    }

    async fn next_batch(&mut self) -> Result<Option<Vec<Q::Item>>> {
        if self.done {
            return Ok(None);
        }
        self.launch()?;
        let Some(Fetched { window, page, check }) = self.prefetch.next().await? else {
            self.done = true;
            return Ok(None);
        };
        let body = page?;
        let page = decode_checked::<Q>(self.client, window, &body)?;
        self.prefetch.learn(&page, body.len());
        drop(body);
        let offset = window.offset();
        let size = match served_as_asked(window, &page) {
            Ok(size) => size,
            // A service that caps pages at a size of its own: the listing follows it.
            Err(_) if offset == 0 && page.page_size > 0 => {
                self.explicit = Some(page.page_size);
                self.next_offset = page.page_size;
                page.page_size
            }
            Err(error) => return Err(error),
        };
        self.end = Some(page.total);
        self.bound.get_or_insert(page.total.saturating_mul(2).saturating_add(size));
        let last = (page.items.len() as u64) < size || offset + size >= page.total;
        let (batch, ends) = match check {
            None => (ranked(page.items, offset, 0..usize::MAX), false),
            Some(check) => self.across(offset, page.items, check).await?,
        };
        let batch = batch
            .into_iter()
            .map(|(item, rank)| {
                self.memory.remember(Q::id(&item), rank);
                item
            })
            .collect();
        if last || ends {
            self.done = true;
            self.prefetch.clear();
        }
        Ok(Some(batch))
    }

    /// Joins the page at `offset` to what was yielded before it, with straddling windows: the
    /// page's items that follow the last item yielded, after any items in between. Also says
    /// whether the listing ends here.
    async fn across(
        &mut self,
        offset: u64,
        page: Vec<Q::Item>,
        (mut window, mut body): (Window, Result<bytes::Bytes>),
    ) -> Result<(Vec<(Q::Item, u64)>, bool)> {
        let mut size = CHECK_WINDOW;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let check = decode_checked::<Q>(self.client, window, &body?)?;
            served_as_asked(window, &check)?;
            let page_ids: Vec<&str> = page.iter().map(Q::id).collect();
            let check_ids: Vec<&str> = check.items.iter().map(Q::id).collect();
            let center = match judge(&self.memory, &page_ids, offset, &check_ids, window, &check) {
                Verdict::Joined { gap, from, ends } => {
                    let memory = &self.memory;
                    let mut joined = ranked(check.items, window.offset(), gap);
                    joined.extend(
                        ranked(page, offset, from..usize::MAX)
                            .into_iter()
                            .filter(|(item, _)| !memory.contains(Q::id(item))),
                    );
                    return Ok((joined, ends));
                }
                Verdict::Moved { to } => to.unwrap_or(offset),
            };
            if attempt >= CHECK_ATTEMPTS {
                return Err(Error::Pagination {
                    message: format!(
                        "the listing changed faster than it could be followed: the boundary at item {offset} \
                         moved out of {attempt} windows straddling it, the last of {size} items"
                    ),
                });
            }
            size = (size * 2).min(MAX_PAGE_SIZE);
            window = straddling(center, size);
            body = self.prefetch.fetch_now(window).await;
        }
    }
}

/// Without a page size: 25, 25, 50, 100, 200, 400, 200 (to reach 1,000), then pages of 1,000.
/// Each size divides the offset it starts at, as the service's page numbers require.
fn growing_window(offset: u64) -> u64 {
    match offset {
        0 => FIRST_WINDOW,
        _ if offset.is_multiple_of(MAX_PAGE_SIZE) => MAX_PAGE_SIZE,
        _ => offset.min(MAX_PAGE_SIZE - offset % MAX_PAGE_SIZE),
    }
}

/// What a straddling window tells about a boundary.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// The window shows the last item yielded followed by the page's items: yield the window's
    /// items `gap` (pushed back over the boundary), then the page's from index `from`. `ends`:
    /// the window reaches the end of the listing and the page adds nothing after it.
    Joined { gap: Range<usize>, from: usize, ends: bool },
    /// The window does not show both sides: look again, around `to` when known.
    Moved { to: Option<u64> },
}

/// Reads a straddling window `check` (asked as `window`) against the items remembered and the
/// page at `page_offset`.
///
/// One answer is one consistent view. If it shows `a`, the last item yielded that it holds,
/// followed further on by `b`, an item of the page, then every item that existed at that moment
/// and sorts between `a` and `b` is in the window between them: those are the gap. The page's
/// items before `b` sort before it, so they were yielded already, were created since, or were
/// deleted: none is owed. An item that existed throughout the listing is therefore yielded once.
fn judge<T>(
    memory: &Memory,
    page_ids: &[&str],
    page_offset: u64,
    check_ids: &[&str],
    window: Window,
    check: &Page<T>,
) -> Verdict {
    let in_page: HashMap<&str, usize> = page_ids.iter().enumerate().map(|(index, id)| (*id, index)).collect();
    let start = window.offset();
    let Some(last_seen) = check_ids.iter().rposition(|id| memory.contains(id)) else {
        // Where the window is relative to where it was meant to be, from any item it knows.
        let moved = check_ids.iter().enumerate().find_map(|(index, id)| {
            let then = in_page.get(id).map(|i| page_offset + *i as u64)?;
            Some((start + index as u64) as i64 - then as i64)
        });
        let to = match moved {
            Some(shift) => Some(page_offset.saturating_add_signed(shift)),
            // An empty window past the end: the listing shrank; look at its end.
            None if check_ids.is_empty() && check.total <= start => Some(check.total),
            None => None,
        };
        return Verdict::Moved { to };
    };
    let after = last_seen + 1;
    match check_ids[after..].iter().position(|id| in_page.contains_key(id)) {
        Some(found) => Verdict::Joined {
            gap: after..after + found,
            from: in_page[check_ids[after + found]],
            ends: false,
        },
        None => {
            let held = check_ids.len() as u64;
            let reaches_end = held < window.size.unwrap_or(0) || start + held >= check.total;
            // Others pushed the whole page back over the boundary after it was read (a page
            // prefetched long before the stream reached it, while many were created before it):
            // it holds nothing new, and the window alone carries the listing on from the last
            // item yielded.
            let behind = !page_ids.is_empty() && page_ids.iter().all(|id| memory.contains(id));
            if reaches_end || behind {
                Verdict::Joined { gap: after..check_ids.len(), from: page_ids.len(), ends: reaches_end }
            } else {
                // Where the last item yielded was meant to be: just before the boundary.
                let then = memory.rank(check_ids[last_seen]).unwrap_or(page_offset);
                Verdict::Moved { to: Some(page_offset + (start + last_seen as u64).saturating_sub(then)) }
            }
        }
    }
}

/// The page size of `window`, when the service applied it: the offsets of the windows that
/// follow depend on it.
fn served_as_asked<T>(window: Window, page: &Page<T>) -> Result<u64> {
    let asked = window.size.unwrap_or(MAX_PAGE_SIZE);
    if page.page_size == asked {
        return Ok(asked);
    }
    Err(Error::Pagination {
        message: format!(
            "page {} was served in pages of {}, not of the {asked} items asked for",
            window.number, page.page_size
        ),
    })
}

/// `items` from index `keep`, each with its rank in the listing when it was read.
fn ranked<T>(items: Vec<T>, offset: u64, keep: Range<usize>) -> Vec<(T, u64)> {
    items
        .into_iter()
        .enumerate()
        .filter(|(index, _)| keep.contains(index))
        .map(|(index, item)| (item, offset + index as u64))
        .collect()
}

/// A window of between `smallest` and twice as many items whose page number the service can
/// serve, with `boundary` as near its middle as such a window allows.
fn straddling(boundary: u64, smallest: u64) -> Window {
    let smallest = smallest.clamp(2, MAX_PAGE_SIZE / 2);
    let largest = smallest * 2;
    let size = (smallest..=largest)
        .max_by_key(|size| {
            let before = boundary % size;
            before.min(size - before)
        })
        .unwrap_or(smallest);
    // A boundary that every size of the range divides (123456 by 2, 3 and 4) takes a larger one.
    let size = if boundary.is_multiple_of(size) {
        (largest..=MAX_PAGE_SIZE).find(|size| !boundary.is_multiple_of(*size)).unwrap_or(size)
    } else {
        size
    };
    Window::at(boundary - boundary % size, size)
}

/// The ids of the items yielded last, with their ranks when read, in bounded memory.
#[derive(Default)]
struct Memory {
    ranks: HashMap<Arc<str>, u64>,
    order: VecDeque<Arc<str>>,
}

impl Memory {
    fn contains(&self, id: &str) -> bool {
        self.ranks.contains_key(id)
    }

    fn rank(&self, id: &str) -> Option<u64> {
        self.ranks.get(id).copied()
    }

    fn remember(&mut self, id: &str, rank: u64) {
        let id: Arc<str> = Arc::from(id);
        if self.ranks.insert(id.clone(), rank).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > MEMORY {
            if let Some(oldest) = self.order.pop_front() {
                self.ranks.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(ids: &[&str], total: u64) -> Page<String> {
        Page {
            items: ids.iter().map(|id| id.to_string()).collect(),
            total,
            page_count: 0,
            page_number: 0,
            page_size: 0,
        }
    }

    fn memory(ids: &[&str], first_rank: u64) -> Memory {
        let mut memory = Memory::default();
        for (index, id) in ids.iter().enumerate() {
            memory.remember(id, first_rank + index as u64);
        }
        memory
    }

    #[test]
    fn straddling_windows_hold_the_boundary_inside() {
        for boundary in [1, 2, 125, 250, 500, 1000, 5000, 123_456] {
            for smallest in [2, 16, 64, 1000] {
                let window = straddling(boundary, smallest);
                let (start, size) = (window.offset(), window.size.unwrap());
                assert_eq!(start % size, 0, "{boundary} {smallest}");
                assert!(start < boundary && boundary < start + size, "{boundary}: {window:?}");
            }
        }
    }

    #[test]
    fn items_pushed_back_over_the_boundary_are_the_gap() {
        // Yielded a..d (ranks 0..4); a and b were deleted, which moved e and f before the boundary.
        let memory = memory(&["a", "b", "c", "d"], 0);
        let check_ids = ["c", "d", "e", "f", "g", "h"];
        let verdict =
            judge(&memory, &["g", "h", "i", "j"], 4, &check_ids, Window::at(0, 6), &page(&check_ids, 8));
        assert_eq!(verdict, Verdict::Joined { gap: 2..4, from: 0, ends: false });
    }

    #[test]
    fn items_repeated_from_before_the_boundary_are_dropped() {
        // Two creates at the front pushed c and d into the next page.
        let memory = memory(&["a", "b", "c", "d"], 0);
        let check_ids = ["c", "d", "e", "f"];
        let verdict =
            judge(&memory, &["c", "d", "e", "f"], 4, &check_ids, Window::at(4, 4), &page(&check_ids, 10));
        assert_eq!(verdict, Verdict::Joined { gap: 2..2, from: 2, ends: false });
    }

    #[test]
    fn a_window_that_misses_either_side_looks_again() {
        let memory = memory(&["a", "b", "c", "d"], 0);
        let check_ids = ["x", "y"];
        let verdict = judge(&memory, &["e"], 4, &check_ids, Window::at(4, 2), &page(&check_ids, 10));
        assert_eq!(verdict, Verdict::Moved { to: None });
        // It shows the page's first item one place later than it was read: look one place later.
        let check_ids = ["x", "y", "e"];
        let verdict = judge(&memory, &["e"], 4, &check_ids, Window::at(3, 3), &page(&check_ids, 10));
        assert_eq!(verdict, Verdict::Moved { to: Some(5) });
        // An empty window past a listing that shrank looks at its end.
        let verdict = judge(&memory, &[], 4, &[], Window::at(4, 2), &page(&[], 3));
        assert_eq!(verdict, Verdict::Moved { to: Some(3) });
    }

    #[test]
    fn a_page_pushed_wholly_behind_what_was_yielded_is_carried_on_by_the_window() {
        // The page e..f was read while a..f were already yielded elsewhere; g and h follow f now.
        let memory = memory(&["a", "b", "c", "d", "e", "f"], 0);
        let check_ids = ["e", "f", "g", "h"];
        let verdict = judge(&memory, &["e", "f"], 4, &check_ids, Window::at(8, 4), &page(&check_ids, 20));
        assert_eq!(verdict, Verdict::Joined { gap: 2..4, from: 2, ends: false });
        // A page with anything new still needs to be seen after the last item yielded.
        let verdict = judge(&memory, &["f", "x"], 4, &check_ids, Window::at(8, 4), &page(&check_ids, 20));
        assert!(matches!(verdict, Verdict::Moved { .. }), "{verdict:?}");
    }

    #[test]
    fn a_window_that_reaches_the_end_ends_the_listing() {
        // The next page was empty when read; since then e was added after d.
        let memory = memory(&["a", "b", "c", "d"], 0);
        let check_ids = ["d", "e"];
        let verdict = judge(&memory, &[], 4, &check_ids, Window::at(3, 3), &page(&check_ids, 5));
        assert_eq!(verdict, Verdict::Joined { gap: 1..2, from: 0, ends: true });
    }

    #[test]
    fn growing_windows_reach_the_largest_page_in_service_page_numbers() {
        let mut offset = 0;
        let mut sizes = Vec::new();
        while offset < 3000 {
            let size = growing_window(offset);
            assert!(offset.is_multiple_of(size), "{size} does not divide {offset}");
            sizes.push(size);
            offset += size;
        }
        assert_eq!(sizes, [25, 25, 50, 100, 200, 400, 200, 1000, 1000]);
    }

    #[test]
    fn memory_is_bounded() {
        let mut memory = Memory::default();
        for rank in 0..(MEMORY as u64 + 10) {
            memory.remember(&rank.to_string(), rank);
        }
        assert!(!memory.contains("0") && memory.contains(&(MEMORY + 9).to_string()));
        assert_eq!(memory.order.len(), MEMORY);
    }
}
