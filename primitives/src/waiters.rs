//! Waiter lists: the one data structure every primitive here is built on.
//!
//! A synchronisation primitive that knows nothing about the executor can do
//! exactly two things with a task that has to wait: remember the task's
//! [`Waker`] ("park" it), and later call [`Waker::wake`] ("release" it).
//! Everything else — which task runs when — is the executor's business.
//! So `Queue`, `Event` and `Queue::join` are each a bit of shared state
//! behind a [`Mutex`] plus one or more *waiter lists* of parked wakers.
//!
//! # Vocabulary
//!
//! - **waiter**: a future that returned `Pending` and left an *entry* in a
//!   waiter list, found again by its *id*.
//! - **park**: push an entry (`WaiterList::push`), keep the id in the future.
//! - **release**: the *other* side (a `put`, a `set`) removes the entry and
//!   wakes its waker. The waiter, when polled again, finds its entry gone and
//!   knows it was released. **Absence of the entry is the "fired" flag**: no
//!   extra bit is needed, and a release can never be undone by whatever
//!   happens between the wake and the poll (an `Event::clear`, a later `put`).
//! - **cancel**: a waiter future dropped while parked removes its own entry,
//!   so a dropped future leaves nothing behind.
//!
//! # Why a deque in id order, with tombstones
//!
//! Ids come from a counter that only grows, so a list that appends at the
//! back is always sorted by id and its front is the oldest waiter: FIFO
//! service, as asyncio promises, is `pop_front`. Finding a waiter by id is
//! a binary search, O(log n), after a look at the front, where the one
//! sought almost always is (O(1)). A cancelled waiter in the middle is not
//! shifted out (that would be O(n) each, O(n²) for 10 000 waiters that
//! give up); its slot becomes a *tombstone* (`None`) that `pop_front`
//! skips, and the deque is compacted once tombstones outnumber live
//! entries, so cancelling stays amortised O(log n). In the steady state —
//! one getter parks, one put releases it — nothing allocates: the deque
//! keeps its buffer. (A `BTreeMap` did the same job in O(log n), but it
//! allocates a node whenever it goes from empty to one entry, which is
//! every wait of a ping-pong.) A `u64` counter cannot wrap: at one id per
//! nanosecond it lasts 584 years. A production runtime uses an intrusive
//! linked list of nodes that live inside the waiting futures themselves,
//! but that needs `unsafe`, which this crate forbids.
//!
//! # Two rules for every lock in this crate
//!
//! 1. **Collect wakers under the lock, wake them after releasing it**
//!    ([`WakeList`], or a plain `Option<Waker>` where at most one waiter
//!    can be released). Waking runs executor code, which may poll the woken
//!    task at once on this thread; if that task touches the same primitive
//!    while we still hold its lock, it deadlocks.
//! 2. **Never run user code under the lock.** Items are dropped after the
//!    guard is gone, for the same reason: a `Drop` impl may use the queue.
//!    Because of that, a panic can never leave the state half-updated, and
//!    [`lock`] simply ignores mutex poisoning.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Waker;

/// Entries kept in increasing id order; removing one from the middle
/// leaves a tombstone (see the module docs).
pub(crate) struct IdQueue<E> {
    entries: VecDeque<(u64, Option<E>)>,
    /// Entries that are not tombstones.
    live: usize,
}

impl<E> IdQueue<E> {
    /// An empty queue; allocates nothing.
    pub(crate) const fn new() -> Self {
        IdQueue {
            entries: VecDeque::new(),
            live: 0,
        }
    }

    /// Appends an entry; `id` must be greater than every id pushed before.
    #[inline]
    pub(crate) fn push(&mut self, id: u64, entry: E) {
        debug_assert!(
            self.entries.back().map_or(true, |(last, _)| *last < id),
            "ids must only grow"
        );
        self.entries.push_back((id, Some(entry)));
        self.live += 1;
    }

    /// Removes and returns the entry with the smallest id, if any.
    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<(u64, E)> {
        while let Some((id, entry)) = self.entries.pop_front() {
            if let Some(entry) = entry {
                self.live -= 1;
                return Some((id, entry));
            }
        }
        None
    }

    #[inline]
    fn position(&self, id: u64) -> Option<usize> {
        // Fast path: the entry looked for is almost always the oldest one.
        if self.entries.front().is_some_and(|(front, _)| *front == id) {
            return Some(0);
        }
        self.entries.binary_search_by_key(&id, |(key, _)| *key).ok()
    }

    /// Removes an entry by id; `None` if there is none (any more).
    #[inline]
    pub(crate) fn remove(&mut self, id: u64) -> Option<E> {
        // Fast path: the entry is almost always the oldest one, so it just
        // comes off the front (a tombstone there goes the same way).
        if self.entries.front().is_some_and(|(front, _)| *front == id) {
            let entry = self.entries.pop_front()?.1?;
            self.live -= 1;
            return Some(entry);
        }
        self.remove_behind_front(id)
    }

    /// [`IdQueue::remove`] for an entry that is not the oldest one.
    fn remove_behind_front(&mut self, id: u64) -> Option<E> {
        let index = self.position(id)?;
        let entry = self.entries[index].1.take()?;
        self.live -= 1;
        // Tombstones at the front go at once; elsewhere, compact when they
        // outnumber live entries, which keeps the cost amortised O(1).
        while self.entries.front().is_some_and(|(_, e)| e.is_none()) {
            self.entries.pop_front();
        }
        if self.entries.len() > 2 * self.live + 8 {
            self.entries.retain(|(_, e)| e.is_some());
        }
        Some(entry)
    }

    /// The entry with this id, if it is still there.
    #[inline]
    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut E> {
        let index = self.position(id)?;
        self.entries[index].1.as_mut()
    }

    /// Takes every entry out at once, in id order: the deque is moved out in
    /// O(1), so the caller can drop the lock before iterating over it.
    pub(crate) fn take_all(&mut self) -> impl Iterator<Item = E> {
        self.live = 0;
        std::mem::take(&mut self.entries)
            .into_iter()
            .filter_map(|(_, entry)| entry)
    }

    /// How many entries there are.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Whether there are none.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.live == 0
    }
}

impl<E> Default for IdQueue<E> {
    fn default() -> Self {
        IdQueue::new()
    }
}

/// Parked waiters of one kind, in arrival order, each found by its id.
pub(crate) struct WaiterList<E> {
    entries: IdQueue<E>,
    /// The id the next `push` hands out.
    next_id: u64,
}

impl<E> WaiterList<E> {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        WaiterList {
            entries: IdQueue::new(),
            next_id: 0,
        }
    }

    /// Parks a waiter at the back of the line and returns its id.
    #[inline]
    pub(crate) fn push(&mut self, entry: E) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.entries.push(id, entry);
        id
    }

    /// Removes and returns the oldest waiter, if any.
    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<(u64, E)> {
        self.entries.pop_front()
    }

    /// Removes a waiter by id; `None` means someone already released it.
    #[inline]
    pub(crate) fn remove(&mut self, id: u64) -> Option<E> {
        self.entries.remove(id)
    }

    /// The entry of a still-parked waiter; `None` means it was released.
    #[inline]
    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut E> {
        self.entries.get_mut(id)
    }

    /// Releases every waiter at once (see [`IdQueue::take_all`]).
    pub(crate) fn take_all(&mut self) -> impl Iterator<Item = E> {
        self.entries.take_all()
    }

    /// How many waiters are parked.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no waiter is parked.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<E> Default for WaiterList<E> {
    fn default() -> Self {
        WaiterList::new()
    }
}

/// Stores `new` in `slot` unless `slot` already wakes the same task.
///
/// An executor may poll a future with a different waker each time (tokio's
/// `select!` does, and so does a future that moves between tasks), so a
/// parked waiter must refresh its waker on every poll; `will_wake` makes
/// the common case — same task, same waker — free of a clone.
#[inline]
pub(crate) fn refresh_waker(slot: &mut Waker, new: &Waker) {
    if !slot.will_wake(new) {
        slot.clone_from(new);
    }
}

/// Locks `mutex`, ignoring poisoning.
///
/// No code in this crate runs user code (a waker, a `Drop` impl) while
/// holding one of its locks, so a panic cannot leave the state behind a
/// lock half-updated, and a poisoned flag carries no information.
#[inline]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Wakers collected under a lock, to be woken after the lock is released.
///
/// Used where a refill may release several waiters (a parked putter, and
/// the getter its item goes to). Usually there is one, so the first waker
/// is kept inline: the common case does not allocate.
#[derive(Default)]
pub(crate) struct WakeList {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl WakeList {
    /// An empty list; allocates nothing.
    #[inline]
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Remembers `waker` for [`WakeList::wake_all`].
    #[inline]
    pub(crate) fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    /// Wakes everything collected, in the order pushed. Call it only after
    /// dropping the lock guard (see the module docs for why).
    #[inline]
    pub(crate) fn wake_all(self) {
        // Often there is nothing to wake (a `get_nowait` with no putter
        // parked): return before touching the vector, empty then too.
        let Some(first) = self.first else { return };
        first.wake();
        for waker in self.rest {
            waker.wake();
        }
    }
}
