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
//! but that needs `unsafe`, which this crate keeps to the one module that
//! cannot do without (`mutex.rs`, which lends out `&mut T`).
//!
//! # Three rules for every lock in this crate
//!
//! 1. **Collect wakers under the lock, wake them after releasing it**
//!    (a list taken out whole, or a plain `Option<Waker>` where at most
//!    one waiter can be released). Waking runs executor code, which may
//!    poll the woken task at once on this thread; if that task touches the
//!    same primitive while we still hold its lock, it deadlocks.
//! 2. **Never run user code under the lock.** Items are dropped after the
//!    guard is gone, for the same reason: a `Drop` impl may use the queue.
//!    Because of that, a panic can never leave the state half-updated, and
//!    [`lock`] simply ignores mutex poisoning. One piece of user code does
//!    run under a lock, because it cannot run anywhere else: a
//!    `PriorityQueue`'s heap compares items with their `Ord`.
//!    `queue/heap.rs` makes a comparison that panics leave every item in
//!    place, so the conclusion holds there too.
//! 3. **Wake every waker, even if one panics** ([`wake_all`], [`wake`]).
//!    `wake` is executor code, and executor code can panic. The waiters
//!    released together were all removed from their list under the lock:
//!    stopping at the first panic would leave the rest released but never
//!    woken — parked forever on a primitive that has moved on (a set
//!    `Event` nobody is told about). So the wakes go on past a panic, and
//!    only when the list is done is the first panic raised again, from the
//!    call that did the waking (a `set()`, `put()`, `get()`,
//!    `task_done()`), where it belongs. By then the lock is released and the state complete (rules
//!    1 and 2): the panic reports a bug, it does not cause another.
//!
//! Rule 3 has one exception. A parked future dropped during a panic (its
//! task is unwinding) may still have to wake someone — a `Get` passes its
//! item on, a `Put` its slot. Raising a second panic in a destructor while
//! the first unwinds aborts the process, so there the waker's panic is
//! dropped after the panic hook has printed it, and the first panic
//! carries on.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::PoisonError;
use std::task::Waker;

use spindle_runtime::observe::{wait_on, Label, WaitOn};

use crate::sync::{Mutex, MutexGuard};

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
        let (front, _) = self.entries.front()?;
        // Fast paths: the entry looked for is almost always the oldest one;
        // and a released waiter, whose entry was popped from the front, has
        // an id older than every entry left, so it needs no search.
        if *front == id {
            return Some(0);
        }
        if id < *front {
            return None;
        }
        self.entries.binary_search_by_key(&id, |(key, _)| *key).ok()
    }

    /// Removes an entry by id; `None` if there is none (any more). Always
    /// inlined, with the search behind the front kept out of line: the fast
    /// path is a few instructions on every hand-off, and callgrind showed
    /// the compiler stop inlining it once `Get::poll` grew its panic
    /// handling (+36 instructions per ping-pong round trip).
    #[inline(always)]
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
    #[inline(never)]
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

/// Wakes `waker`, if there is one: [`wake_all`] for the usual case of at
/// most one waiter released (a `put` hands its item to one getter, a freed
/// slot goes to one putter), which returns at once when there is none.
#[inline]
pub(crate) fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        wake_all([waker]);
    }
}

/// Wakes every waker of `wakers`, in order, even if some panic; then
/// raises the first panic again (rule 3 in the module docs).
///
/// Call it only after the lock is released and the state fully updated:
/// the panic, if any, then leaves nothing behind but itself.
pub(crate) fn wake_all(wakers: impl IntoIterator<Item = Waker>) {
    let mut wakers = wakers.into_iter();
    let mut first_panic = None;
    // One `catch_unwind` around the loop, not one per waker: entering it
    // costs next to nothing, and when a `wake` panics, that waker has
    // already left the iterator (and is dropped by the unwinding, so no
    // clone leaks), so the next round of the outer loop goes on with the
    // waker after it. `AssertUnwindSafe` is true here: the only state the
    // closure touches is the iterator, which a panic in `wake` leaves
    // between two items.
    while let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| {
        for waker in wakers.by_ref() {
            waker.wake();
        }
    })) {
        first_panic.get_or_insert(payload);
    }
    if let Some(payload) = first_panic {
        raise_again(payload);
    }
}

/// Raises a waker's caught panic again in the caller — unless the caller
/// is a destructor run by a panic already unwinding, where a second panic
/// would abort the process (the exception to rule 3 in the module docs).
#[cold]
pub(crate) fn raise_again(payload: Box<dyn Any + Send>) {
    if std::thread::panicking() {
        // The panic hook has printed this panic's message already.
        drop(payload);
    } else {
        panic::resume_unwind(payload);
    }
}

/// A primitive's shared state behind its lock, plus its name in traces and
/// task dumps (`Queue#3`, `Event#1`: `spindle::observe`). It derefs to the
/// mutex, so `lock(&shared)` reads as it would on the bare mutex; the label
/// sits outside the lock, since naming the object needs no lock.
pub(crate) struct Named<S> {
    pub(crate) label: Label,
    state: Mutex<S>,
}

impl<S> Named<S> {
    pub(crate) fn new(kind: &'static str, state: S) -> Named<S> {
        Named {
            label: Label::new(kind),
            state: Mutex::new(state),
        }
    }

    /// Records, for the task being polled, that it now waits on this
    /// object for `on` (a no-op outside a spindle runtime).
    #[inline]
    pub(crate) fn waiting(&self, on: &'static WaitOn) {
        wait_on(on, &self.label);
    }
}

impl<S> std::ops::Deref for Named<S> {
    type Target = Mutex<S>;

    fn deref(&self) -> &Mutex<S> {
        &self.state
    }
}
