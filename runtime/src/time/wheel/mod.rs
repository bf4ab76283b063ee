//! A hierarchical timing wheel: the structure that answers "which timers are
//! due?".
//!
//! A runtime holds many timers (every `sleep`, every `timeout`) and on each
//! turn of its loop asks two questions: *how long may I block?* and *which
//! timers are due now?* A binary heap answers both in O(log n) per timer. The
//! hierarchical timing wheel of Varghese & Lauck ("Hashed and Hierarchical
//! Timing Wheels", SOSP '87, scheme 7) answers both in O(1) per timer; tokio,
//! the Linux kernel and Kafka all use one.
//!
//! # Vocabulary
//!
//! - A **tick** is the wheel's only notion of time: a plain `u64`. The wheel
//!   never sees an `Instant` or a `Waker`. The time driver converts `Instant`
//!   to ticks (1 tick = 1 ms) in one place, keeps the exact deadline itself,
//!   and stores whatever it needs in the payload `T`.
//! - **`elapsed`** is the wheel's current tick. Every entry with
//!   `when <= elapsed` has been handed out, or waits on the *due list* to be
//!   handed out by the next [`Wheel::advance`].
//! - Read a tick in base 64: its **digits** are 6 bits each, least
//!   significant first, like the hands of a clock. **Level** `L` is an array
//!   of 64 **slots**, one per value of digit `L`: a level-0 slot is one tick
//!   wide, a level-1 slot 64 ticks, a level-2 slot 4096 ticks, and so on up
//!   to level 5. The digits above level 5 are the overflow list's business
//!   (see below).
//! - **Cascading**: when `elapsed` reaches the first tick of an occupied slot
//!   at level `L > 0`, its entries are re-filed relative to the new `elapsed`
//!   and land in finer slots further down. An entry moves down at most six
//!   times before it expires, so its total cost is O(1).
//!
//! # Where an entry is filed
//!
//! An entry is filed at the level of the *most significant digit in which
//! `when` and `elapsed` differ*, in the slot given by `when`'s digit at that
//! level. The two agree on every higher digit, so the slot lies ahead of
//! `elapsed` on the current turn of that level: nothing in it can be due
//! before the slot's first tick. A worked example with `elapsed = 100`
//! (digits `1·64 + 36`) and `when = 200` (`3·64 + 8`): they first differ in
//! digit 1, so the entry goes to level 1, slot 3, which covers ticks
//! 192..256. At tick 192 that slot cascades: now `when` and `elapsed` differ
//! only in digit 0, so the entry moves to level 0, slot 8, and at tick 200 it
//! expires.
//!
//! Three lists sit beside the levels. The **due list** holds entries inserted
//! with `when <= elapsed`. The **overflow list** holds entries too far out
//! for the wheel: six levels of 64 slots span 64^6 = 2^36 ticks, which with
//! the driver's 1 ms tick is 68.7 billion ms, about 795 days or 2.2 years. An
//! entry that differs from `elapsed` above bit 36 waits on the overflow list
//! until `elapsed` enters its 2^36-tick block, and is then filed like any
//! other. Each slot, and each of the two lists, is an intrusive doubly-linked
//! list of nodes, so insert and remove are O(1). The nodes live in a
//! generational slab (`slab.rs`): the lists link them by bare `u32` index,
//! and the [`Key`] an insert returns is the slab's, so a key whose entry has
//! expired or been removed is detected, never mistaken for a later entry. No
//! `unsafe` is needed.
//!
//! # Ground rules
//!
//! 1. **Every live entry is on exactly the list that [`Wheel::location_for`]
//!    would choose for it now**, and its node's `location` names that list.
//!    For a slot this is not obvious, because `elapsed` moves after the entry
//!    was filed; it holds because `elapsed` never passes the first tick of an
//!    occupied slot without cascading it, so the digits above the slot's
//!    level stay equal and `elapsed`'s own digit at that level stays below
//!    the slot.
//! 2. Bit `s` of a level's `occupied` bitmap is set exactly when slot `s` is
//!    non-empty, which lets [`Wheel::next_expiration`] skip any run of empty
//!    slots with one `trailing_zeros`.
//! 3. `elapsed` only grows, and only [`Wheel::advance`] moves it.
//!
//! # Teaching simplifications
//!
//! - The overflow list is scanned in O(n) to find its earliest entry. That
//!   happens only when the wheel proper is empty or `elapsed` crosses a
//!   2^36-tick (2.2-year) boundary, which is rare. A production wheel avoids
//!   the list altogether: tokio files such deadlines in its top level, where
//!   they are re-filed each time that level comes round.
//! - The slab never shrinks: a burst of a million timers keeps its memory
//!   until the wheel drops (`slab.rs`).
//! - The wheel is single-threaded (`&mut self` everywhere); the driver keeps
//!   it in the executor's `RefCell`, on the runtime's own thread.

use std::mem;

use crate::slab::{Key, Slab};

/// Bits of a tick that one level consumes: each level is one base-64 digit of
/// the tick.
const LEVEL_BITS: u32 = 6;

/// Slots per level. 64 because a level's occupancy then fits exactly in one
/// `u64` bitmap, and "the next occupied slot" is a single `trailing_zeros`.
const SLOTS: usize = 1 << LEVEL_BITS;

/// Mask that keeps the lowest digit of a tick.
const SLOT_MASK: u64 = SLOTS as u64 - 1;

/// Number of levels. Six levels of six bits span 2^36 ticks: about 2.2 years
/// at 1 ms per tick, longer than almost any real timeout (the same choice as
/// tokio). Farther deadlines are rare and wait on the overflow list.
const LEVELS: usize = 6;

/// The level at which an entry due at `when` is filed while the wheel stands
/// at `elapsed`: the most significant base-64 digit in which the two differ.
///
/// Two ticks that differ only in digit 0, or not at all, give level 0. The
/// result can exceed `LEVELS - 1` (up to 10, for bit 63): the caller sends
/// such entries to the overflow list.
fn level_for(elapsed: u64, when: u64) -> usize {
    // OR-ing in the lowest digit keeps the value non-zero, so `leading_zeros`
    // is at most 58 and the subtraction cannot underflow; it also maps
    // "equal" and "differ in digit 0" to level 0.
    let differing = (elapsed ^ when) | SLOT_MASK;
    let highest_bit = u64::BITS - 1 - differing.leading_zeros();
    (highest_bit / LEVEL_BITS) as usize
}

/// The slot of `when` at `level`: its base-64 digit number `level`.
fn slot_for(when: u64, level: usize) -> usize {
    debug_assert!(
        level < LEVELS,
        "slot_for: level {level} is beyond the wheel's {LEVELS} levels"
    );
    ((when >> (level as u32 * LEVEL_BITS)) & SLOT_MASK) as usize
}

/// The first tick of the block of 64^`level` ticks that contains `tick`:
/// `tick` with its lowest `level` digits cleared. `level` may be `LEVELS`,
/// which gives the start of `tick`'s 2^36-tick block, the unit in which
/// overflow entries return to the wheel.
fn block_start(tick: u64, level: usize) -> u64 {
    debug_assert!(
        level <= LEVELS,
        "block_start: level {level} is beyond {LEVELS}"
    );
    // At most 36 bits are cleared: neither shift nor subtraction overflows.
    tick & !((1u64 << (level as u32 * LEVEL_BITS)) - 1)
}

/// The first tick covered by `slot` at `level`, on the turn of that level
/// that contains `elapsed`: `elapsed`'s digits above `level`, then `slot`,
/// then zeros.
fn slot_start(elapsed: u64, level: usize, slot: usize) -> u64 {
    debug_assert!(
        slot < SLOTS,
        "slot_start: slot {slot} is beyond the {SLOTS} slots of a level"
    );
    block_start(elapsed, level + 1) | ((slot as u64) << (level as u32 * LEVEL_BITS))
}

/// Which list a live node is on: exactly one, while it is live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Location {
    /// The due list: `when <= elapsed`; the next `advance` hands it out.
    Due,
    /// Slot `slot` of level `level`: `when > elapsed`, `when` agrees with
    /// `elapsed` on every digit above `level`, and `slot` is `when`'s digit
    /// at `level`, greater than `elapsed`'s.
    Slot { level: u8, slot: u8 },
    /// The overflow list: `when` is in a later 2^36-tick block than
    /// `elapsed`'s.
    Overflow,
}

/// One entry of the wheel, stored in the slab. A node is on exactly one
/// timer list for as long as it is in the slab.
#[derive(Debug)]
struct Node<T> {
    /// The caller's payload, handed back when the entry expires.
    value: T,
    /// The deadline tick.
    when: u64,
    /// The timer list the node is on.
    location: Location,
    /// The slab index of the previous node on the same list, `None` at the
    /// head.
    prev: Option<u32>,
    /// The slab index of the next node on the same list, `None` at the tail.
    next: Option<u32>,
}

/// One level of the wheel: 64 slot lists and a bitmap of which are non-empty.
#[derive(Clone, Copy, Debug)]
struct Level {
    /// Bit `s` is set exactly when `slots[s]` is non-empty.
    occupied: u64,
    /// The head of each slot's list.
    slots: [Option<u32>; SLOTS],
}

impl Level {
    /// A level with every slot empty.
    const EMPTY: Level = Level {
        occupied: 0,
        slots: [None; SLOTS],
    };
}

/// A hierarchical timing wheel of entries carrying a `T`, on integer ticks
/// (module docs).
#[derive(Debug)]
pub(crate) struct Wheel<T> {
    /// The wheel's current tick. Only [`Wheel::advance`] moves it, forwards.
    elapsed: u64,
    /// Every live entry's node; the lists below hold their slab indices.
    nodes: Slab<Node<T>>,
    /// The wheel proper; level `L` holds entries that first differ from
    /// `elapsed` in digit `L`.
    levels: [Level; LEVELS],
    /// The head of the due list: entries with `when <= elapsed`.
    due: Option<u32>,
    /// A lower bound on the `when` of the due list, so `next_expiration`
    /// needs no scan. It is exact unless a removal took the minimum away, and
    /// is reset when the due list is drained.
    due_min: u64,
    /// The head of the overflow list: entries beyond the wheel's span.
    overflow: Option<u32>,
    /// Where `advance` sorts the due list before handing it out. Always empty
    /// between calls; it is kept only so that a busy loop does not allocate
    /// on every turn.
    batch: Vec<(u64, T)>,
}

impl<T> Default for Wheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Wheel<T> {
    /// An empty wheel standing at tick 0.
    pub(crate) fn new() -> Self {
        Wheel {
            elapsed: 0,
            nodes: Slab::new(),
            levels: [Level::EMPTY; LEVELS],
            due: None,
            due_min: u64::MAX,
            overflow: None,
            batch: Vec::new(),
        }
    }

    /// The wheel's current tick: every entry due at or before it has been
    /// handed out, except those inserted after the fact, which wait for the
    /// next [`Wheel::advance`].
    #[cfg_attr(not(test), allow(dead_code))] // the driver keeps its own count; tests use it
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// The number of live entries.
    #[cfg_attr(not(test), allow(dead_code))] // the driver keeps its own count; tests use it
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the wheel holds no live entry.
    #[cfg_attr(not(test), allow(dead_code))] // the driver keeps its own count; tests use it
    pub(crate) fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Adds an entry due at tick `when`, in O(1), and returns its key.
    ///
    /// `when <= elapsed()` is allowed: the entry is due and comes out of the
    /// next `advance`. `when` may be as large as `u64::MAX`: a deadline
    /// beyond the wheel's 2^36-tick span waits, without overflow, on the
    /// overflow list.
    ///
    /// # Panics
    ///
    /// If the wheel would hold more than 2^32 entries, which `u32` indices
    /// cannot name.
    pub(crate) fn insert(&mut self, when: u64, value: T) -> Key {
        let key = self.nodes.insert(Node {
            value,
            when,
            // Placeholders until `file` links the node.
            location: Location::Due,
            prev: None,
            next: None,
        });
        self.file(key.index());
        key
    }

    /// Removes a live entry in O(1) and returns its value, or `None` if the
    /// key is stale (its entry already expired or was removed).
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        if !self.nodes.contains(key) {
            return None;
        }
        self.unlink(key.index());
        Some(self.nodes.remove_at(key.index()).value)
    }

    /// The value of a live entry, or `None` if the key is stale.
    #[cfg_attr(not(test), allow(dead_code))] // the driver keeps its own slab; tests use it
    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        self.nodes.get(key).map(|node| &node.value)
    }

    /// The earliest tick at which [`Wheel::advance`] has work, or `None` if
    /// the wheel is empty.
    ///
    /// That is a level-0 slot's tick (the exact deadline of its entries), or
    /// the first tick of a higher-level slot, where it cascades: there may be
    /// nothing to hand out there, but advancing to it always makes progress.
    /// With entries on the due list it is the earliest of their deadlines, at
    /// or before `elapsed()`. With only overflow entries it is the earliest
    /// of their deadlines, found by an O(n) scan (rare: see the module docs).
    /// The answer is never later than the earliest live deadline, so a driver
    /// may safely sleep until it.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        if self.due.is_some() {
            return Some(self.due_min);
        }
        if let Some((level, slot)) = self.next_occupied_slot() {
            return Some(slot_start(self.elapsed, level, slot));
        }
        self.overflow_min()
    }

    /// Moves `elapsed()` forward to `now` and calls `expired(when, value)`
    /// for every entry with `when <= now`, in non-decreasing `when` order
    /// (order among equal `when` is unspecified).
    ///
    /// Time never runs backwards: a `now` below `elapsed()` advances to
    /// `elapsed()` itself, which still hands out the due list. The wheel
    /// jumps from one occupied slot to the next rather than stepping tick by
    /// tick, so the cost is O(1) per entry per cascade, plus O(levels) per
    /// occupied slot reached, however far `now` is (and one O(n) overflow
    /// scan per 2^36-tick boundary crossed while overflow entries exist).
    ///
    /// Keys of handed-out entries are already stale when `expired` sees them,
    /// and `expired` cannot reach the wheel: a caller that wants to re-arm an
    /// entry collects it and inserts it again afterwards.
    ///
    /// If `expired` panics, the entries of the batch not yet handed out are
    /// dropped; the wheel itself stays consistent.
    pub(crate) fn advance(&mut self, now: u64, mut expired: impl FnMut(u64, T)) {
        let now = now.max(self.elapsed);
        loop {
            self.expire_due(&mut expired);
            if let Some((level, slot)) = self.next_occupied_slot() {
                let start = slot_start(self.elapsed, level, slot);
                if start > now {
                    // Everything in the wheel proper lies before the next
                    // 2^36-tick block, and `now` lies before `start`, so no
                    // overflow entry can be due either.
                    break;
                }
                self.elapsed = start;
                self.cascade(level, slot);
            } else if let Some(start) = self.overflow_block_reached(now) {
                self.elapsed = start;
                self.pull_overflow();
            } else {
                break;
            }
        }
        // Nothing is filed at or below `now` any more (ground rule 1 then
        // holds for `now` too), so the wheel can jump straight there.
        debug_assert!(self.due.is_none(), "advance: the due list was not drained");
        self.elapsed = now;
    }

    /// The list an entry due at `when` belongs on while the wheel stands
    /// where it does now.
    fn location_for(&self, when: u64) -> Location {
        if when <= self.elapsed {
            return Location::Due;
        }
        match level_for(self.elapsed, when) {
            level if level < LEVELS => Location::Slot {
                level: level as u8,
                slot: slot_for(when, level) as u8,
            },
            _ => Location::Overflow,
        }
    }

    /// The earliest occupied slot of the wheel proper, as `(level, slot)`.
    ///
    /// Within a level, every occupied slot lies ahead of `elapsed`'s digit
    /// (ground rule 1), so the lowest set bit is the earliest. Across levels,
    /// no comparison is needed: level-`L` entries share `elapsed`'s digit
    /// `L + 1`, while level-`L + 1` entries have a greater one, so every slot
    /// of a lower level comes before every slot of a higher level.
    fn next_occupied_slot(&self) -> Option<(usize, usize)> {
        let (level, occupied) = self
            .levels
            .iter()
            .map(|level| level.occupied)
            .enumerate()
            .find(|&(_, bits)| bits != 0)?;
        let slot = occupied.trailing_zeros() as usize;
        debug_assert!(
            slot > slot_for(self.elapsed, level),
            "level {level} slot {slot} is occupied but not ahead of elapsed {}",
            self.elapsed
        );
        Some((level, slot))
    }

    /// Empties slot `slot` of `level`, whose first tick `elapsed` has just
    /// reached, re-filing each entry relative to the new `elapsed`: it lands
    /// in a lower level, or on the due list.
    fn cascade(&mut self, level: usize, slot: usize) {
        let mut cursor = self.levels[level].slots[slot].take();
        self.levels[level].occupied &= !(1 << slot);
        while let Some(index) = cursor {
            let node = &self.nodes[index];
            cursor = node.next;
            debug_assert_eq!(
                block_start(node.when, level),
                self.elapsed,
                "an entry at level {level} slot {slot} lies outside the slot being cascaded"
            );
            debug_assert!(
                match self.location_for(node.when) {
                    Location::Due => true,
                    Location::Slot { level: to, .. } => usize::from(to) < level,
                    Location::Overflow => false,
                },
                "an entry at level {level} would not move down: advance would loop forever"
            );
            self.file(index);
        }
    }

    /// If `now` reaches the 2^36-tick block of the earliest overflow entry,
    /// that block's first tick. Called only when the wheel proper is empty;
    /// the scan runs only when `now` is in a later block than `elapsed`, so
    /// an idle wheel ticking along is not slowed by far timers.
    fn overflow_block_reached(&self, now: u64) -> Option<u64> {
        if self.overflow.is_none() || block_start(now, LEVELS) == block_start(self.elapsed, LEVELS)
        {
            return None;
        }
        let start = block_start(self.overflow_min()?, LEVELS);
        (start <= now).then_some(start)
    }

    /// Files every overflow entry of the 2^36-tick block that `elapsed` has
    /// just entered into the wheel proper (or onto the due list, for a
    /// deadline on the block's very first tick).
    fn pull_overflow(&mut self) {
        debug_assert_eq!(
            block_start(self.elapsed, LEVELS),
            self.elapsed,
            "overflow entries are pulled only on the first tick of a 2^36-tick block"
        );
        let mut cursor = self.overflow;
        while let Some(index) = cursor {
            let node = &self.nodes[index];
            cursor = node.next;
            if block_start(node.when, LEVELS) == self.elapsed {
                self.unlink(index);
                self.file(index);
            }
        }
    }

    /// The earliest deadline on the overflow list, by a linear scan.
    fn overflow_min(&self) -> Option<u64> {
        let mut cursor = self.overflow;
        let mut min = None;
        while let Some(index) = cursor {
            let node = &self.nodes[index];
            min = Some(min.map_or(node.when, |m: u64| m.min(node.when)));
            cursor = node.next;
        }
        min
    }

    /// Hands out the whole due list in non-decreasing `when` order.
    ///
    /// Entries are unlinked and freed before `expired` sees any of them, so a
    /// panicking callback leaves a consistent wheel. The list is unsorted
    /// (entries inserted late can be due at any past tick), hence the sort;
    /// it is O(k) in the usual case where every entry came out of the same
    /// level-0 slot and so shares one `when`.
    fn expire_due(&mut self, expired: &mut impl FnMut(u64, T)) {
        let mut cursor = self.due.take();
        if cursor.is_none() {
            return;
        }
        self.due_min = u64::MAX;
        let mut batch = mem::take(&mut self.batch);
        while let Some(index) = cursor {
            // The whole list goes, so there are no neighbours to relink.
            let node = self.nodes.remove_at(index);
            cursor = node.next;
            debug_assert!(
                node.when <= self.elapsed,
                "due entry at {} is after elapsed {}",
                node.when,
                self.elapsed
            );
            batch.push((node.when, node.value));
        }
        batch.sort_unstable_by_key(|entry| entry.0);
        for (when, value) in batch.drain(..) {
            expired(when, value);
        }
        self.batch = batch;
    }

    /// Puts a live, unlinked node on the list that its deadline calls for
    /// right now.
    fn file(&mut self, index: u32) {
        let when = self.nodes[index].when;
        let location = self.location_for(when);
        if location == Location::Due {
            self.due_min = self.due_min.min(when);
        }
        self.link(index, location);
    }

    /// The head of the list that `location` names.
    fn head_mut(&mut self, location: Location) -> &mut Option<u32> {
        match location {
            Location::Due => &mut self.due,
            Location::Overflow => &mut self.overflow,
            Location::Slot { level, slot } => &mut self.levels[level as usize].slots[slot as usize],
        }
    }

    /// Pushes an unlinked node on the front of `location`'s list, in O(1).
    fn link(&mut self, index: u32, location: Location) {
        let old_head = self.head_mut(location).replace(index);
        if let Location::Slot { level, slot } = location {
            self.levels[level as usize].occupied |= 1 << slot;
        }
        if let Some(old_head) = old_head {
            self.nodes[old_head].prev = Some(index);
        }
        let node = &mut self.nodes[index];
        node.location = location;
        node.prev = None;
        node.next = old_head;
    }

    /// Takes a node off its list, in O(1), clearing the slot's bit if the
    /// slot becomes empty.
    fn unlink(&mut self, index: u32) {
        let Node {
            prev,
            next,
            location,
            ..
        } = self.nodes[index];
        match prev {
            Some(prev) => self.nodes[prev].next = next,
            None => *self.head_mut(location) = next,
        }
        if let Some(next) = next {
            self.nodes[next].prev = prev;
        }
        if let Location::Slot { level, slot } = location {
            let level = &mut self.levels[level as usize];
            if level.slots[slot as usize].is_none() {
                level.occupied &= !(1 << slot);
            }
        }
    }
}

#[cfg(test)]
mod tests;
