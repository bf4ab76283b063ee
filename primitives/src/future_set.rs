//! `FutureSet`: many futures polled in place by one parent future, each
//! with a waker of its own, so that a wake polls only the future it names.
//!
//! `join_all`, `try_join_all`, `as_completed` and `TaskGroup` are all one
//! future that owns its children and polls them when it is polled. No task
//! is spawned: the children make progress whenever the parent does. This
//! file is the machinery they share; each of them adds only what it does
//! with an output (keep it by index, stop at the first `Err`, yield it,
//! record a failure).
//!
//! # Why every child gets its own waker
//!
//! The naive parent polls *every* unfinished child each time it is woken.
//! A wake carries no information about *who* woke it, so it has no choice.
//! With `n` children that each wake once, that is `n` wakes × `n` polls =
//! O(n²) polls: 100 000 children cost 10¹⁰ polls (futures-rs issue #1603;
//! futures-rs now hands large joins to `FuturesUnordered`, whose per-task
//! wakers follow the same idea as here).
//!
//! Here each child is polled with a waker of its own, a `ChildWaker` that
//! knows the child's *key*. Waking it pushes the key onto a shared *ready
//! list* and wakes the parent; the parent, when polled, takes the list and
//! polls only those children. `n` children that each wake once now cost
//! `n` first polls plus `n` second polls.
//!
//! # Vocabulary
//!
//! - **slot**: a place in the set, found by its *index*; it holds a child
//!   or is *vacant*. A finished child's slot is vacated at once (the future
//!   is dropped there and then) and reused by the next child inserted.
//! - **key**: an index plus the slot's *generation*, which grows each time
//!   the slot is vacated. A wake that arrives after its child finished
//!   names an old generation and is skipped, even if a new child lives in
//!   that slot by then: each child is polled only after *its own* waker
//!   fired.
//! - **due**: the keys the parent polls in its current poll, in order.
//!   A new child is due at once (its first poll); a woken one once the
//!   parent has taken the ready list.
//!
//! # The ready-list protocol, races included
//!
//! Shared state (`ReadyList`, one mutex): `ready`, the keys woken since the
//! parent last looked, and `parent`, the waker of whoever polls the parent.
//! Per child waker, an atomic flag `queued`: "my key is in `ready` or
//! `due`, about to be polled".
//!
//! - **child wake** (any thread): `queued.swap(true)`. If it was already
//!   `true`, stop: one entry is enough, so a child that wakes 1 000 times
//!   before the parent runs costs one poll, and `ready` never holds
//!   duplicates. Else lock, push the key, and if `ready` was empty, take a
//!   clone of `parent`; unlock; wake the parent. Only the wake that makes
//!   the list non-empty wakes the parent: the ones after it know a wake is
//!   already on its way, and the parent drains the whole list when it runs.
//! - **parent poll** ([`FutureSet::begin`], then [`FutureSet::poll_next`]):
//!   lock, store the current waker in `parent`, move `ready` to the end of
//!   `due`; unlock. For each due key: skip it if its slot moved on to
//!   another generation; else clear `queued` *before* polling the child
//!   (with `swap(false)`, which reads the last `true` written and so sees
//!   everything that waker's caller did before waking), then poll it. A
//!   wake that races with the poll either found `queued` still `true` —
//!   fine, the child is about to be polled and will see its cause — or
//!   pushes the key anew and wakes the parent, so the child is polled
//!   again next time. A wake is never lost; at worst a child is polled once
//!   more than needed.
//! - A child that wakes itself *during* its poll lands in `ready`, which is
//!   taken only at the parent's *next* poll: the parent does not loop, it
//!   returns `Pending` and lets the executor decide when to poll it again.
//!   This keeps one greedy child from monopolising the thread, and bounds
//!   each poll of the parent by the children due when it began.
//!
//! loom checks this protocol (`loom_tests.rs`, model (d)): a wake from
//! another thread at any point of a child's poll is never lost, and the
//! model fails if the flag is cleared after the poll instead of before,
//! or if the two swaps are made relaxed.
//!
//! # Wakers are made lazily and reused
//!
//! A child gets its `ChildWaker` (one allocation) at its first poll; the
//! set keeps it with a `Waker` made from it once (`OwnWaker`), so a poll
//! takes no new reference. When the child finishes and nobody else holds
//! a clone — the set's two references are the only ones — the waker is
//! kept, re-keyed, and handed to the next child's first poll.
//!
//! A new child is polled the first time *before* it takes a slot
//! ([`FutureSet::poll_first`]), with a waker keyed to the slot it would
//! take: if it finishes then and there without keeping its waker — an
//! empty task, a ready value — it never touches the slab and its waker
//! goes straight back to the spares, so a thousand such children share one
//! waker and no slot. If it kept the waker (or woke it), the key it was
//! given is burnt: the slot's generation moves on, and a late wake through
//! it finds nobody.
//!
//! *Teaching simplification*: children are `Unpin` here — the users box
//! theirs (`Pin<Box<F>>`) — because pinning into one shared slab needs
//! `unsafe` pin projection (what futures-rs does), and this crate forbids
//! it. The cost is one allocation per child.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
// `std`'s `Arc`, not `crate::sync`'s: each child's `Waker` is made from
// one, and `Waker::from` takes no other. What it points to uses the shim.
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::sync::{AtomicBool, AtomicU64, AtomicUsize, Mutex, Ordering};
use crate::waiters::{lock, refresh_waker, wake};

/// How many finished children's wakers a set keeps for reuse. Enough for a
/// burst of children that finish in one poll to recycle each other's; a
/// set whose many children all finish at once frees the rest instead of
/// holding memory nobody will ask for.
const SPARE_WAKERS: usize = 32;

/// Futures polled in place by one parent, each with its own waker (see the
/// module docs).
pub(crate) struct FutureSet<F> {
    /// The children by index; vacant slots hold `None`.
    slots: Vec<Slot<F>>,
    /// Indices of vacant slots, the most recently vacated last.
    vacant: Vec<usize>,
    /// How many children the set holds.
    len: usize,
    /// The list the child wakers push to.
    list: Arc<ReadyList>,
    /// Keys to poll in this poll of the parent; `next` is the first not yet
    /// polled. Kept between polls to reuse its allocation.
    due: Vec<Key>,
    next: usize,
    /// Wakers of finished children that nobody else holds, for reuse.
    spare: Vec<OwnWaker>,
}

/// One place in the set.
struct Slot<F> {
    /// The child; `None` once it finished (or before any child came).
    future: Option<F>,
    /// Bumped each time the slot is vacated: keys of earlier children no
    /// longer match.
    generation: u64,
    /// The child's waker, made at its first poll; `None` before that.
    waker: Option<OwnWaker>,
}

/// A child's name in the ready list: its slot and that slot's generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    index: usize,
    generation: u64,
}

/// The state shared between a set and its children's wakers.
struct ReadyList {
    inner: Mutex<ReadyInner>,
}

/// What the ready list's mutex guards.
struct ReadyInner {
    /// Keys of children woken since the parent last looked, in wake order;
    /// no duplicates (a waker's `queued` flag keeps it from pushing twice).
    ready: Vec<Key>,
    /// The waker of the task polling the parent; `None` before its first
    /// poll.
    parent: Option<Waker>,
}

/// The waker given to one child: waking it marks that child ready.
struct ChildWaker {
    /// The child it wakes, as a [`Key`]. Changed only when the waker is
    /// reused, which is only when the set holds the sole references to it
    /// ([`OwnWaker::unshared`]): then no wake can be reading it meanwhile,
    /// and whoever gets the waker next gets it through the set, after the
    /// change. So relaxed loads and stores suffice.
    index: AtomicUsize,
    generation: AtomicU64,
    /// `true` while the key is in `ready` or `due`, about to be polled.
    /// Atomic, so that a repeated wake costs no lock.
    queued: AtomicBool,
    list: Arc<ReadyList>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // AcqRel: pairs with the parent's `swap(false)` (see module docs).
        if self.queued.swap(true, Ordering::AcqRel) {
            return; // already queued: the coming poll covers this wake too
        }
        let parent = {
            let mut inner = lock(&self.list.inner);
            let was_empty = inner.ready.is_empty();
            inner.ready.push(Key {
                index: self.index.load(Ordering::Relaxed),
                generation: self.generation.load(Ordering::Relaxed),
            });
            if was_empty {
                inner.parent.clone()
            } else {
                None // a wake of the parent is already on its way
            }
        };
        wake(parent);
    }
}

/// A child's waker as the set keeps it: the `Arc` (for the flag and the
/// key) and a `Waker` made from it once, so that polling needs no new
/// reference each time. The set's own references are these two.
struct OwnWaker {
    shared: Arc<ChildWaker>,
    waker: Waker,
}

impl OwnWaker {
    fn new(list: &Arc<ReadyList>, key: Key) -> OwnWaker {
        let shared = Arc::new(ChildWaker {
            index: AtomicUsize::new(key.index),
            generation: AtomicU64::new(key.generation),
            queued: AtomicBool::new(false),
            list: Arc::clone(list),
        });
        let waker = Waker::from(Arc::clone(&shared));
        OwnWaker { shared, waker }
    }

    /// Whether the set's two references are the only ones: no child holds a
    /// clone, so no wake can come through it any more. The count is read
    /// relaxed, then an acquire fence pairs with the release decrement of
    /// whoever dropped the last clone (as `Arc`'s own drop does), so that
    /// everything they did with it happened before what the set does next.
    fn unshared(&self) -> bool {
        if Arc::strong_count(&self.shared) != 2 {
            return false;
        }
        std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
        true
    }

    /// Points an unshared waker at another child.
    fn rekey(&self, key: Key) {
        debug_assert!(self.unshared(), "re-keying a waker someone holds");
        self.shared.index.store(key.index, Ordering::Relaxed);
        self.shared
            .generation
            .store(key.generation, Ordering::Relaxed);
    }
}

impl<F> FutureSet<F> {
    /// An empty set with room for `capacity` children.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        FutureSet {
            slots: Vec::with_capacity(capacity),
            vacant: Vec::new(),
            len: 0,
            list: Arc::new(ReadyList {
                inner: Mutex::new(ReadyInner {
                    ready: Vec::new(),
                    parent: None,
                }),
            }),
            due: Vec::with_capacity(capacity),
            next: 0,
            spare: Vec::new(),
        }
    }

    /// How many children the set holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no child.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a child and returns its index. It is due at once: it gets its
    /// first poll in the parent's current or next poll, after the children
    /// due already and before those a later [`begin`](Self::begin) adds.
    pub(crate) fn insert(&mut self, future: F) -> usize {
        let index = match self.vacant.pop() {
            Some(index) => {
                self.slots[index].future = Some(future);
                index
            }
            None => {
                self.slots.push(Slot {
                    future: Some(future),
                    generation: 0,
                    waker: None,
                });
                self.slots.len() - 1
            }
        };
        self.len += 1;
        let generation = self.slots[index].generation;
        self.due.push(Key { index, generation });
        index
    }

    /// Starts a poll of the parent: remembers its waker, and makes every
    /// child woken since the last poll due.
    pub(crate) fn begin(&mut self, parent: &Waker) {
        // Forget the keys polled already (a caller that stopped at a
        // finished child left the rest due), so `due` does not grow.
        if self.next > 0 {
            self.due.drain(..self.next);
            self.next = 0;
        }
        let mut inner = lock(&self.list.inner);
        match &mut inner.parent {
            Some(stored) => refresh_waker(stored, parent),
            None => inner.parent = Some(parent.clone()),
        }
        if self.due.is_empty() {
            // The common case: nothing left over, so swap the buffers
            // instead of copying (`ready` gets `due`'s empty allocation).
            std::mem::swap(&mut inner.ready, &mut self.due);
        } else {
            self.due.append(&mut inner.ready);
        }
    }

    /// Polls a new child for the first time *before* it takes a slot, and
    /// keeps it only if it is pending (then it returns `None`; the child
    /// is in the set, not due, and is polled again once woken). The child
    /// comes in its caller's own form `G`, polled by `poll`, and becomes
    /// an `F` (with `into_child`) only if it stays: the caller's first poll
    /// skips whatever wrapping the set's children need.
    ///
    /// A child that finishes in its first poll — the common case of a short
    /// task — costs no slot at all: it is polled with a waker keyed to the
    /// slot it *would* take. If nobody kept that waker and nobody woke it,
    /// the key was never seen and the waker goes back to the spares;
    /// otherwise the key is burnt (the slot's generation moves on), so that
    /// a late wake through it is recognised as stale.
    pub(crate) fn poll_first<G, R>(
        &mut self,
        mut first: G,
        poll: impl FnOnce(&mut G, &mut Context<'_>) -> Poll<R>,
        into_child: impl FnOnce(G) -> F,
    ) -> Option<R> {
        let index = self.vacant.last().copied().unwrap_or(self.slots.len());
        let generation = self.slots.get(index).map_or(0, |slot| slot.generation);
        let key = Key { index, generation };
        let waker = Self::new_waker(&mut self.spare, &self.list, key);
        let poll = poll(&mut first, &mut Context::from_waker(&waker.waker));
        match poll {
            Poll::Pending => {
                let future = into_child(first);
                if index == self.slots.len() {
                    self.slots.push(Slot {
                        future: Some(future),
                        generation,
                        waker: Some(waker),
                    });
                } else {
                    self.vacant.pop();
                    let slot = &mut self.slots[index];
                    slot.future = Some(future);
                    slot.waker = Some(waker);
                }
                self.len += 1;
                None
            }
            Poll::Ready(output) => {
                if !self.retire_waker(waker) {
                    // The key got out: burn it.
                    if index == self.slots.len() {
                        self.slots.push(Slot {
                            future: None,
                            generation: generation + 1,
                            waker: None,
                        });
                        self.vacant.push(index);
                    } else {
                        self.slots[index].generation += 1;
                    }
                }
                drop(first); // user code, after the set is consistent
                Some(output)
            }
        }
    }

    /// Removes every child, in index order, vacating their slots; the caller
    /// drops them (and so decides what a panicking destructor means).
    pub(crate) fn drain(&mut self) -> Vec<F> {
        let mut children = Vec::with_capacity(self.len);
        for index in 0..self.slots.len() {
            if self.slots[index].future.is_some() {
                children.extend(self.vacate_slot(index));
            }
        }
        self.due.clear();
        self.next = 0;
        children
    }

    /// A waker for the child with `key`: a spare one re-keyed, or a new one.
    #[inline]
    fn new_waker(spare: &mut Vec<OwnWaker>, list: &Arc<ReadyList>, key: Key) -> OwnWaker {
        match spare.pop() {
            Some(waker) => {
                waker.rekey(key);
                waker
            }
            None => OwnWaker::new(list, key),
        }
    }

    /// Takes back the waker of a child that finished, for reuse if nobody
    /// else holds it. Returns whether its key never got out: nobody holds
    /// a clone and nobody woke it (so its key is in no ready list).
    #[inline]
    fn retire_waker(&mut self, waker: OwnWaker) -> bool {
        if !waker.unshared() {
            return false;
        }
        // Unshared: it may serve the next child. The child may have woken
        // itself before finishing: clear the flag, or the next child's
        // wakes would be taken for duplicates.
        let woken = waker.shared.queued.swap(false, Ordering::Relaxed);
        if self.spare.len() < SPARE_WAKERS {
            self.spare.push(waker);
        }
        !woken
    }

    /// Vacates the slot of a child that finished and drops the future, after
    /// the set's state is complete (its `Drop` is user code and may panic).
    fn vacate(&mut self, index: usize) {
        drop(self.vacate_slot(index));
    }

    /// Empties slot `index`, keeps its waker for reuse if nobody else holds
    /// it, and returns the future.
    fn vacate_slot(&mut self, index: usize) -> Option<F> {
        let slot = &mut self.slots[index];
        let future = slot.future.take();
        slot.generation += 1;
        if let Some(waker) = slot.waker.take() {
            self.retire_waker(waker);
        }
        if future.is_some() {
            self.len -= 1;
            self.vacant.push(index);
        }
        future
    }
}

impl<F: Future + Unpin> FutureSet<F> {
    /// Polls the due children in order until one finishes, and returns its
    /// index and output; its slot is vacated (the future dropped) first.
    /// `None` once no due child is left: the parent's poll is over, and
    /// the children woken meanwhile wait for the next [`begin`](Self::begin).
    ///
    /// A child that panics unwinds out of this call; the set stays usable,
    /// and that child is polled again only if it is woken.
    pub(crate) fn poll_next(&mut self) -> Option<(usize, F::Output)> {
        while let Some(&key) = self.due.get(self.next) {
            self.next += 1;
            let slot = &mut self.slots[key.index];
            if slot.generation != key.generation {
                continue; // a stale wake of a child that has finished
            }
            let Some(future) = slot.future.as_mut() else {
                continue;
            };
            let waker = match &mut slot.waker {
                Some(waker) => {
                    // Clear before polling, so a wake during the poll re-queues.
                    waker.shared.queued.swap(false, Ordering::AcqRel);
                    waker
                }
                none => none.insert(Self::new_waker(&mut self.spare, &self.list, key)),
            };
            let poll = Pin::new(future).poll(&mut Context::from_waker(&waker.waker));
            if let Poll::Ready(output) = poll {
                self.vacate(key.index);
                return Some((key.index, output));
            }
        }
        self.due.clear();
        self.next = 0;
        None
    }
}

impl<F> fmt::Debug for FutureSet<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FutureSet")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}
