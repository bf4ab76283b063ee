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
//! # Why a `BTreeMap` keyed by a counter
//!
//! Ids come from a counter that only grows, so the map's key order *is*
//! arrival order: the oldest waiter is `pop_first`, which gives the FIFO
//! service asyncio promises. A cancelled waiter is removed by id in
//! O(log n), instead of the O(n) scan a `VecDeque` would need, so 10 000
//! waiters that each give up cost O(n log n), not O(n²). Releasing every
//! waiter at once (`take_all`) moves the whole map out in O(1) under the
//! lock. A `u64` counter cannot wrap: at one id per nanosecond it lasts 584
//! years. (A production runtime uses an intrusive linked list of nodes that
//! live inside the waiting futures themselves — no allocation at all — but
//! that needs `unsafe`, which this crate forbids.)
//!
//! # Two rules for every lock in this crate
//!
//! 1. **Collect wakers under the lock, wake them after releasing it**
//!    ([`WakeList`]). Waking runs executor code, which may poll the woken
//!    task at once on this thread; if that task touches the same primitive
//!    while we still hold its lock, it deadlocks.
//! 2. **Never run user code under the lock.** Items are dropped after the
//!    guard is gone, for the same reason: a `Drop` impl may use the queue.
//!    Because of that, a panic can never leave the state half-updated, and
//!    [`lock`] simply ignores mutex poisoning.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Waker;

/// Parked waiters of one kind, in arrival order, each found by its id.
pub(crate) struct WaiterList<E> {
    /// Entry per parked waiter. Keys only grow, so key order is arrival order.
    entries: BTreeMap<u64, E>,
    /// The id the next `push` hands out.
    next_id: u64,
}

impl<E> WaiterList<E> {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        WaiterList {
            entries: BTreeMap::new(),
            next_id: 0,
        }
    }

    /// Parks a waiter at the back of the line and returns its id.
    pub(crate) fn push(&mut self, entry: E) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.entries.insert(id, entry);
        id
    }

    /// Removes and returns the oldest waiter, if any.
    pub(crate) fn pop_front(&mut self) -> Option<(u64, E)> {
        self.entries.pop_first()
    }

    /// Removes a waiter by id; `None` means someone already released it.
    pub(crate) fn remove(&mut self, id: u64) -> Option<E> {
        self.entries.remove(&id)
    }

    /// The entry of a still-parked waiter; `None` means it was released.
    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut E> {
        self.entries.get_mut(&id)
    }

    /// Releases every waiter at once: the whole list is moved out in O(1),
    /// so the caller can drop the lock before iterating over it.
    pub(crate) fn take_all(&mut self) -> BTreeMap<u64, E> {
        std::mem::take(&mut self.entries)
    }

    /// How many waiters are parked.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no waiter is parked.
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
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Wakers collected under a lock, to be woken after the lock is released.
///
/// Most operations release at most one waiter (a `put` hands its item to
/// one getter), so the first waker is kept inline: the common case does
/// not allocate.
#[derive(Default)]
pub(crate) struct WakeList {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl WakeList {
    /// An empty list; allocates nothing.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Remembers `waker` for [`WakeList::wake_all`].
    pub(crate) fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    /// Wakes everything collected, in the order pushed. Call it only after
    /// dropping the lock guard (see the module docs for why).
    pub(crate) fn wake_all(self) {
        if let Some(first) = self.first {
            first.wake();
        }
        for waker in self.rest {
            waker.wake();
        }
    }
}
