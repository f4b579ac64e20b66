//! [`Paginator::items`](super::Paginator::items): windows that overlap what was yielded (or, with
//! a page size asked for while the order holds still, pages read with a few items across their
//! start), each joined to what was yielded by an item they share; when the order moved too far for
//! a window to be joined, the listing finds its place again and carries on (the guarantee is in
//! the documentation of [`Paginator`](super::Paginator)).

use std::{
    collections::{HashMap, VecDeque},
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

/// The smallest window read across the start of a page.
const CHECK_WINDOW: u64 = 3;

/// The fewest items a window asks for after the first: windows overlap, and must still move on.
const SMALLEST_WINDOW: u64 = 4;

/// The smallest window that looks for the last item yielded after the order moved; it doubles
/// with each look.
const FIRST_SEARCH: u64 = 16;

/// How many windows may look for the last item yielded before the listing gives up.
const SEARCHES: u32 = 7;

/// How many windows in a row may bring nothing new before the listing gives up.
const IDLE_WINDOWS: u32 = 16;

/// How many ids of yielded items are remembered: four of the largest pages.
const MEMORY: usize = 4 * MAX_PAGE_SIZE as usize;

/// How many of the latest moves of the order set the overlap.
const MOVES: usize = 16;

/// Every item of the listing, in batches of one window each.
pub(super) fn items<'c, Q: ListQuery + 'c>(
    client: &'c Client,
    prefetch: Prefetch<'c, Q>,
    explicit: Option<u64>,
) -> BoxStream<'c, Result<Vec<Q::Item>>> {
    let depth = prefetch.max_pages();
    let lister = Exact {
        client,
        prefetch,
        explicit,
        largest: MAX_PAGE_SIZE,
        started: false,
        plan_end: 0,
        end: None,
        bound: None,
        depth,
        moves: Moves::default(),
        memory: Memory::default(),
        idle: 0,
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
    /// The largest window the service serves as asked.
    largest: u64,
    /// Whether the first window was asked for.
    started: bool,
    /// Where the window after the last one asked for should carry on from.
    plan_end: u64,
    /// The total the latest window reported: no window is planned at or past it.
    end: Option<u64>,
    /// How far a listing may reach, given its first total: it may grow, but not without end.
    bound: Option<u64>,
    /// How many windows may be in flight now: the concurrency while windows join where they were
    /// planned; one after a window could not be joined, half after one that the order moved
    /// further than it should, one more with each that joins calmly.
    depth: usize,
    moves: Moves,
    memory: Memory,
    /// Windows in a row that brought nothing new.
    idle: u32,
    done: bool,
}

/// A window joined to what was yielded before it.
struct Joined<T> {
    /// Its items after the last one it shares with what was yielded.
    batch: Vec<T>,
    /// It reaches the end of the listing.
    ends: bool,
    /// The order moved no further than windows in flight allow.
    calm: bool,
    /// The page it was read with could not be placed, and was left out.
    page_dropped: bool,
}

impl<'c, Q: ListQuery + 'c> Exact<'c, Q> {
    /// Asks for the windows that carry on from the last item yielded, as far as the latest total,
    /// the depth and the prefetch's budget allow; always one when none is in flight.
    fn launch(&mut self) -> Result<()> {
        if !self.started {
            self.started = true;
            self.prefetch.push(Window::at(0, self.explicit.unwrap_or(FIRST_WINDOW)), None);
            return Ok(());
        }
        // Until the first window is back there is no total to plan by.
        let Some(end) = self.end else { return Ok(()) };
        if self.prefetch.len() == 0 {
            // The next answer comes one request later than the last: when every request lately
            // moved the order forward, half the least of those moves is taken for granted.
            self.plan_end =
                self.memory.cursor().map_or(0, |cursor| cursor + 1 + self.moves.least_forward() / 2);
        }
        while self.prefetch.len() < self.depth {
            let queued = self.prefetch.len() > 0;
            if queued && self.plan_end >= end {
                return Ok(());
            }
            let (window, check) = self.plan(self.plan_end);
            let size = window.size.unwrap_or(0);
            if !self.prefetch.has_room(size + check.and_then(|check| check.size).unwrap_or(0)) {
                return Ok(());
            }
            if let Some(bound) = self.bound
                && window.offset() > bound
            {
                return Err(Error::Pagination {
                    message: format!(
                        "the listing reached item {}, beyond the bound of {bound} set by its first page",
                        window.offset()
                    ),
                });
            }
            self.prefetch.push(window, check);
            self.plan_end = window.offset() + size;
        }
        Ok(())
    }

    /// The window that carries on from `plan_end`, and the one that straddles its start when it
    /// needs one. With a page size asked for, while the order holds still, the windows are that
    /// size's pages, each read with a few items across its start at the same moment (so that the
    /// pages need not overlap, and take no more requests than pages); otherwise windows overlap
    /// what was yielded (see [`window_after`]).
    fn plan(&self, plan_end: u64) -> (Window, Option<Window>) {
        if let Some(size) = self.explicit
            && self.idle == 0
            && self.moves.still()
            && plan_end > 0
        {
            if plan_end.is_multiple_of(size) {
                return (Window::at(plan_end, size), Some(straddling(plan_end, CHECK_WINDOW)));
            }
            // Back onto the pages: the page that holds the last item planned, when it moves on.
            let start = (plan_end - 1) / size * size;
            if start + size > plan_end {
                return (Window::at(start, size), None);
            }
        }
        // After windows that brought nothing new (items yielded before, seen again where others
        // pushed them), each is twice as large as the last, to catch up.
        let explicit =
            self.explicit.map(|size| size.saturating_mul(1 << self.idle.min(10)).min(self.largest));
        (window_after(plan_end, explicit, self.largest, self.moves.margin()), None)
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
        let page = self.read(window, page)?;
        let check = match check {
            Some((check, body)) => Some((check.offset(), self.read(check, body)?)),
            None => None,
        };
        let joined = match self.join_across(window.offset(), page, check) {
            Some(joined) => joined,
            None => {
                // The order moved under the windows asked for: none of them can be placed.
                self.prefetch.clear();
                self.depth = 1;
                self.find_place().await?
            }
        };
        // More windows in flight while they join calmly, half as many when they do not: more
        // windows at once also means more change between one and the next.
        self.depth = if joined.calm && !joined.batch.is_empty() {
            (self.depth + 1).min(self.prefetch.max_pages())
        } else {
            (self.depth / 2).max(1)
        };
        if joined.ends {
            self.done = true;
            // Windows past the end that were already asked for are not needed.
            self.prefetch.clear();
            return Ok(Some(joined.batch));
        }
        if joined.batch.is_empty() || joined.page_dropped {
            // The order moved forward past this window, and past the windows planned after it
            // with it (or its page could not be placed, and those after it neither): plan again
            // from where the last item yielded is now.
            self.prefetch.clear();
        }
        if !joined.batch.is_empty() {
            self.idle = 0;
        } else {
            self.idle += 1;
            if self.idle >= IDLE_WINDOWS {
                return Err(Error::Pagination {
                    message: format!(
                        "the listing changed faster than it could be followed: {} windows in a row \
                         brought nothing new",
                        self.idle
                    ),
                });
            }
        }
        Ok(Some(joined.batch))
    }

    /// Decodes a window's body, checks it, and notes the total it reports.
    fn read(&mut self, window: Window, body: Result<bytes::Bytes>) -> Result<Page<Q::Item>> {
        let body = body?;
        let page = decode_checked::<Q>(self.client, window, &body)?;
        self.prefetch.learn(&page, body.len());
        drop(body);
        if let Err(error) = served_as_asked(window, &page) {
            // A service that caps pages at a size of its own: the listing follows it from its
            // first answer.
            let first = self.end.is_none();
            if first && page.page_size > 0 && page.page_size < window.size.unwrap_or(0) {
                self.explicit = Some(page.page_size);
                self.largest = page.page_size;
            } else {
                return Err(error);
            }
        }
        self.end = Some(page.total);
        self.bound.get_or_insert(page.total.saturating_mul(2).saturating_add(page.page_size));
        Ok(page)
    }

    /// Joins a page to what was yielded: by an item it shares with what was yielded when it
    /// holds one, or else across the window read with it, which must hold the last item yielded
    /// it holds (the anchor) followed by items of the page. One answer is one consistent view:
    /// whatever that window shows between the anchor and the first such item is what lies
    /// between them, and the page from that item on carries on. A window that holds an item
    /// yielded but none of the page joins alone, and the page is dropped.
    fn join_across(
        &mut self,
        offset: u64,
        page: Page<Q::Item>,
        check: Option<(u64, Page<Q::Item>)>,
    ) -> Option<Joined<Q::Item>> {
        let anchored = offset == 0 || page.items.iter().any(|item| self.memory.contains(Q::id(item)));
        let Some((check_offset, mut check)) = check.filter(|_| !anchored) else {
            return self.join(offset, page);
        };
        let anchor = check.items.iter().rposition(|item| self.memory.contains(Q::id(item)))?;
        let in_page: HashMap<&str, usize> =
            page.items.iter().enumerate().map(|(index, item)| (Q::id(item), index)).collect();
        let across = check.items[anchor + 1..].iter().position(|item| in_page.contains_key(Q::id(item)));
        let Some(across) = across.map(|found| anchor + 1 + found) else {
            let joined = self.join(check_offset, check)?;
            return Some(Joined { page_dropped: true, ..joined });
        };
        let from = in_page[Q::id(&check.items[across])];
        drop(in_page);
        check.items.truncate(across);
        let mut joined = self.join(check_offset, check)?;
        let held = page.items.len() as u64;
        joined.ends = held < page.page_size || offset + held >= page.total;
        for (index, item) in page.items.into_iter().enumerate().skip(from) {
            self.memory.remember(Q::id(&item), offset + index as u64);
            joined.batch.push(item);
        }
        Some(joined)
    }

    /// Joins the window at `offset` to what was yielded: its items after the last one it shares
    /// with what was yielded (the anchor). `None` when it shares none and does not start the
    /// listing: it cannot be placed.
    ///
    /// One answer is one consistent view. Every item it shows after the anchor was not yielded
    /// (the anchor is the last item yielded that it holds), and every item that existed at that
    /// moment and sorts between the anchor and the window's end is in it. An item that exists
    /// throughout the listing and sorts after the last item yielded is therefore in this batch
    /// or after this window's end, where the next window carries on from this one's last item.
    fn join(&mut self, offset: u64, mut page: Page<Q::Item>) -> Option<Joined<Q::Item>> {
        let held = page.items.len() as u64;
        let ends = held < page.page_size || offset + held >= page.total;
        let anchor = page.items.iter().rposition(|item| self.memory.contains(Q::id(item)));
        if anchor.is_none() && offset > 0 {
            return None;
        }
        let from = anchor.map_or(0, |index| index + 1);
        let mut calm = true;
        if let Some(index) = anchor {
            let now = offset + index as u64;
            let then = self.memory.rank(Q::id(&page.items[index])).unwrap_or(now);
            let moved = now as i64 - then as i64;
            // Forward, the order may move by a quarter of a window before windows in flight are
            // spent on what was yielded; back, no further than it has lately.
            calm = self.moves.calm(moved) && moved <= (page.page_size / 4) as i64;
            self.moves.observe(moved);
            let mut last_seen = false;
            for (index, item) in page.items[..from].iter().enumerate() {
                last_seen |= self.memory.seen_at(Q::id(item), offset + index as u64);
            }
            if !last_seen {
                // The last item yielded lies beyond this window (or was deleted): it moved as
                // the anchor did, and at least past this window.
                self.memory.move_last(moved, offset + held);
            }
        }
        let batch = page
            .items
            .drain(from..)
            .enumerate()
            .map(|(index, item)| {
                self.memory.remember(Q::id(&item), offset + (from + index) as u64);
                item
            })
            .collect();
        Some(Joined { batch, ends, calm, page_dropped: false })
    }

    /// Finds the last item yielded again after the order moved under the windows asked for:
    /// fresh windows around where it should be, larger each time, until one holds it (or an
    /// item yielded before it) and is joined.
    async fn find_place(&mut self) -> Result<Joined<Q::Item>> {
        let mut size = (4 * self.moves.margin()).clamp(FIRST_SEARCH, self.largest);
        let mut around = 0;
        for _ in 0..SEARCHES {
            // A listing that shrank past the last item yielded: look at its end.
            around = self.memory.cursor().unwrap_or(0).min(self.end.unwrap_or(0));
            let window = if around == 0 || size >= self.largest {
                Window::at(around.saturating_sub(size / 2) / size * size, size)
            } else {
                straddling(around, size.div_ceil(2))
            };
            let body = self.prefetch.fetch_now(window).await;
            let page = self.read(window, body)?;
            if let Some(joined) = self.join(window.offset(), page) {
                return Ok(Joined { calm: false, ..joined });
            }
            size = (size * 2).min(self.largest);
        }
        Err(Error::Pagination {
            message: format!(
                "the listing changed faster than it could be followed: the last item yielded was not \
                 found in {SEARCHES} windows around item {around}, the last of {size} items"
            ),
        })
    }
}

/// The window that carries on from `plan_end` (just after the last item yielded or planned): it
/// starts `margin` items earlier, so that it holds that item even if the order moved back as far
/// as it has lately, and reaches as far as the service's page numbers allow. Its size is between
/// half and all of the page size asked for (at least [`SMALLEST_WINDOW`]), or else as large as the
/// offset it starts at, from 25 up to the largest page; never more than `largest`.
fn window_after(plan_end: u64, explicit: Option<u64>, largest: u64, margin: u64) -> Window {
    let size = match explicit {
        Some(size) => size.max(SMALLEST_WINDOW),
        None => plan_end.clamp(FIRST_WINDOW, MAX_PAGE_SIZE).max(4 * margin),
    }
    .min(largest)
    .max(1);
    let margin = margin.max(size / 32).min(size / 2);
    let latest_start = plan_end.saturating_sub(margin);
    let best = |sizes: std::ops::RangeInclusive<u64>| {
        sizes
            .map(|size| Window::at(latest_start - latest_start % size, size))
            .max_by_key(|window| {
                let size = window.size.unwrap_or(0);
                (window.offset() + size, std::cmp::Reverse(size))
            })
            .filter(|window| window.offset() + window.size.unwrap_or(0) > plan_end)
    };
    // Tiny windows may find no page number that both overlaps and moves on: they grow a little.
    best(size.div_ceil(2)..=size)
        .or_else(|| {
            (size + 1..=largest)
                .map(|size| Window::at(latest_start - latest_start % size, size))
                .find(|window| window.offset() + window.size.unwrap_or(0) > plan_end)
        })
        .unwrap_or_else(|| straddling(plan_end, size))
}

/// How far the order moved between two looks at the same item, lately: what windows must
/// overlap by.
#[derive(Default)]
struct Moves {
    latest: VecDeque<i64>,
}

impl Moves {
    fn observe(&mut self, moved: i64) {
        self.latest.push_back(moved);
        if self.latest.len() > MOVES {
            self.latest.pop_front();
        }
    }

    /// The furthest an item moved towards the start lately (deletes before it).
    fn back(&self) -> u64 {
        self.latest.iter().map(|moved| moved.min(&0).unsigned_abs()).max().unwrap_or(0)
    }

    /// The least an item moved towards the end lately, when every move lately was that way.
    fn least_forward(&self) -> u64 {
        self.latest.iter().min().map_or(0, |least| (*least).max(0).unsigned_abs())
    }

    /// How many items a window overlaps the last item yielded by: its own place, and half as
    /// much again as the furthest move back lately.
    fn margin(&self) -> u64 {
        let back = self.back();
        1 + back + back / 2
    }

    /// Whether the order held still lately (or nothing was seen move yet).
    fn still(&self) -> bool {
        self.latest.iter().all(|moved| *moved == 0)
    }

    /// Whether a move is no further back than the moves lately.
    fn calm(&self, moved: i64) -> bool {
        moved.min(0).unsigned_abs() <= self.back()
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

/// The ids of the items yielded last, with their places when last seen, in bounded memory.
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

    /// Where the last item yielded was when last seen.
    fn cursor(&self) -> Option<u64> {
        self.order.back().and_then(|id| self.rank(id))
    }

    /// Notes where an item yielded before is now; true when it is the last item yielded.
    fn seen_at(&mut self, id: &str, rank: u64) -> bool {
        match self.ranks.get_mut(id) {
            Some(place) => {
                *place = rank;
                self.order.back().is_some_and(|last| &**last == id)
            }
            None => false,
        }
    }

    /// Moves where the last item yielded is thought to be, to no earlier than `at_least`.
    fn move_last(&mut self, moved: i64, at_least: u64) {
        if let Some(place) = self.order.back().and_then(|id| self.ranks.get_mut(id)) {
            *place = place.saturating_add_signed(moved).max(at_least);
        }
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
    fn windows_overlap_the_last_item_by_the_margin_and_move_on() {
        for explicit in [None, Some(1), Some(3), Some(10), Some(25), Some(100), Some(1000)] {
            for margin in [1, 5, 40] {
                for plan_end in (1..5000).step_by(7).chain([999_983, 1_000_000, 7_654_321]) {
                    let window = window_after(plan_end, explicit, MAX_PAGE_SIZE, margin);
                    let (start, size) = (window.offset(), window.size.unwrap());
                    let what = format!("{explicit:?} {margin} {plan_end}: {window:?}");
                    assert_eq!(start % size, 0, "{what}");
                    assert!(start < plan_end, "{what}: it holds the last item planned");
                    let asked = explicit.map_or(plan_end.clamp(25, 1000).max(4 * margin), |size| size.max(4));
                    let needed = margin.min(asked.min(MAX_PAGE_SIZE) / 2);
                    assert!(start + needed <= plan_end || start == 0, "{what}: it overlaps by the margin");
                    assert!(start + size > plan_end, "{what}: it moves on");
                    // Within the page size, unless the order moves by more than a quarter of it.
                    if let Some(asked) = explicit.filter(|asked| *asked >= 8 && margin <= asked / 4) {
                        assert!(size <= asked, "{what}: within the page size");
                    }
                }
            }
        }
    }

    #[test]
    fn without_a_page_size_windows_double_to_the_largest_page() {
        let mut plan_end = 25;
        let mut sizes = vec![25];
        while plan_end < 5000 {
            let window = window_after(plan_end, None, MAX_PAGE_SIZE, 1);
            sizes.push(window.size.unwrap());
            plan_end = window.offset() + window.size.unwrap();
        }
        let large = sizes.iter().position(|size| *size >= 900).unwrap();
        assert!(large <= 8 && sizes[large..].iter().all(|size| *size >= 900), "{sizes:?}");
        assert!(sizes.len() <= 12, "5,000 items in {} windows: {sizes:?}", sizes.len());
        assert!(sizes.iter().all(|size| *size <= MAX_PAGE_SIZE));
    }

    #[test]
    fn the_margin_follows_the_moves_back_lately() {
        let mut moves = Moves::default();
        assert_eq!(moves.margin(), 1, "with no move, a window holds the last item itself");
        assert!(moves.still());
        moves.observe(0);
        assert!(moves.still());
        assert!(moves.calm(5) && !moves.calm(-1));
        moves.observe(-4);
        moves.observe(7);
        assert!(!moves.still());
        assert_eq!(moves.margin(), 7);
        assert_eq!(moves.least_forward(), 0);
        assert!(moves.calm(-4) && !moves.calm(-5));
        for _ in 0..MOVES {
            moves.observe(0);
        }
        assert_eq!(moves.margin(), 1, "old moves are forgotten");
        moves.observe(3);
        assert_eq!(moves.least_forward(), 0);
        for _ in 0..MOVES {
            moves.observe(3);
        }
        assert_eq!(moves.least_forward(), 3);
    }

    #[test]
    fn memory_is_bounded_and_tracks_the_last_item() {
        let mut memory = Memory::default();
        for rank in 0..(MEMORY as u64 + 10) {
            memory.remember(&rank.to_string(), rank);
        }
        assert!(!memory.contains("0") && memory.contains(&(MEMORY + 9).to_string()));
        assert_eq!(memory.order.len(), MEMORY);
        let last = (MEMORY + 9).to_string();
        assert_eq!(memory.cursor(), Some(MEMORY as u64 + 9));
        assert!(memory.seen_at(&last, 3) && !memory.seen_at("10", 2) && !memory.seen_at("nope", 1));
        memory.move_last(-2, 0);
        assert_eq!(memory.cursor(), Some(1));
        memory.move_last(1, 5);
        assert_eq!(memory.cursor(), Some(5));
    }
}
