//! The order a queue serves its items in: first in, first out ([`Fifo`],
//! asyncio's `Queue`), smallest first ([`Priority`], asyncio's
//! `PriorityQueue`), or last in, first out ([`Lifo`], asyncio's
//! `LifoQueue`).
//!
//! # One queue, three buffers
//!
//! Almost nothing a queue does depends on its order: parking getters and
//! putters, the hand-off, reserved slots, cancellation, `task_done` and
//! `join` are the same protocol for all three, and they live once, in
//! `mod.rs`, in the one type [`GenericQueue<T, O>`](super::GenericQueue).
//! Its type parameter `O` is one of the three markers here, and all it
//! chooses is the *buffer*: the container where items wait while no getter
//! wants them. A buffer answers four questions, the trait [`Buffer`]:
//!
//! | order | buffer | `push`: a new item goes | `pop`: next out | `give_back`: a returned item goes |
//! |---|---|---|---|---|
//! | [`Fifo`] | `VecDeque<T>` | to the back | the front (oldest) | to the front |
//! | [`Lifo`] | `VecDeque<T>` | on top (the back) | the top (newest) | to the bottom (the front) |
//! | [`Priority`] | a min-heap of `(item, number)` (`heap.rs`) | into the heap | the smallest | into the heap, first among its equals |
//!
//! This is asyncio's design too (`Queue._put`/`_get`, overridden by its two
//! subclasses), made a type parameter so that each queue is compiled for
//! its own buffer, with no dynamic dispatch: a `Queue`'s `put` and `get`
//! execute as many instructions as before the other two orders existed
//! (184 per item through the `queue` workload of `examples/hot_paths.rs`,
//! counted by callgrind, before and after).
//!
//! # The hand-off is right for every order
//!
//! A `put` that finds a getter parked gives it the item at once, without
//! the buffer (`mod.rs`, "The hand-off protocol"). Is that still "smallest
//! first", or "newest first"? Yes, because a getter parks only on an empty
//! buffer and every `put` serves parked getters first: while one is parked
//! the buffer stays empty, so the item being put is the only item that is
//! not already promised to a getter — the oldest, the newest and the
//! smallest at once. Handing it over is exactly what a `get` would return
//! at that moment.
//!
//! What differs from asyncio is *when* the choice is made. asyncio only
//! wakes the getter and leaves the item in the buffer; the getter pops
//! when it runs, and by then more items may have been put: a
//! `PriorityQueue` getter woken for `5` gets the `1` put after it; a
//! `LifoQueue` getter gets the newest item, not the one it was woken for;
//! and either may find its item stolen by a `get_nowait` and go back to
//! waiting. Here the getter that waited longest gets the item that was
//! next when it was handed over, and a smaller (or newer) item put
//! before the getter runs goes to the next waiting getter or into the
//! buffer, where the next `get` finds it first. Each getter is served, in
//! arrival order, with the item the queue's order gave at its turn.
//!
//! # Returned items
//!
//! An item handed to a getter that is dropped before it picks the item up
//! comes back (`futures.rs`, `Get::cancel`): to the next parked getter if
//! there is one (the buffer is then empty, so the argument above holds),
//! else into the buffer by `give_back`, **as the oldest item there**. That
//! is where it would be had it never left: it was handed over when the
//! buffer was empty, so everything put into the buffer since is younger.
//! For FIFO that is the front, where a retried `get` finds it first; for
//! LIFO the bottom, beneath the items put after it, as in asyncio, where
//! the item never left the list; for a priority queue, first among the
//! items equal to it.
//!
//! "As the oldest" is exact for one returned item. When several getters
//! that were handed items are dropped, each returned item goes in ahead
//! of (FIFO), beneath (LIFO) or before the equals of (priority) the ones
//! returned earlier, so two returned items swap places if their getters
//! are dropped in the order they were handed their items. Being exact
//! there would mean numbering every item, a cost on every `put` of every
//! queue for a case that needs two cancellations in a row.
//!
//! # Ties in a priority queue
//!
//! asyncio's `PriorityQueue` is a `heapq`, which is not stable: items that
//! compare equal come out in an order that depends on the heap's shape,
//! and Python programs put `(priority, count, item)` tuples to get
//! first-come-first-served among equal priorities (`heapq`'s documentation
//! suggests it). Here that count is built in: each item is stored with a
//! number, `0, 1, 2, …` in the order items are put, and the heap orders by
//! `(item, number)`. So items that compare equal come out in the order
//! they were put. It costs one `i64` per item and an integer comparison
//! after each comparison of items. A returned item is numbered from the
//! other end, `-1, -2, …`, below every number given before: it goes back
//! first among its equals.
//!
//! # User code under the lock
//!
//! A heap must compare items to place them, so a priority queue calls
//! `T`'s `Ord` under the queue's lock, where the crate's rule is to run no
//! user code (`waiters.rs`, rule 2); asyncio's `heapq` calls `__lt__` the
//! same way. Two things follow. An `Ord` that uses its own queue
//! deadlocks; `PriorityQueue`'s docs forbid it. And an `Ord` that panics
//! must not leave the queue half-updated: the heap (`heap.rs`) is written
//! so that a comparison that panics loses and duplicates nothing — a put
//! has happened, a get has taken nothing — and every count stays right;
//! only the order of later items may be off. The panic comes out of the
//! call that compared. A `Get` dropped with an item in hand gives it back
//! into the heap, comparing: there the panic is caught and raised again
//! after the lock is released, or dropped if the `Get` is being dropped by
//! a panic already, as a waker's is (`waiters.rs`, rule 3).

use std::collections::VecDeque;

use super::heap::PriorityBuffer;

use spindle_runtime::observe::{Arg, WaitOn};

/// The queue of [`Queue`](super::Queue): first in, first out, as asyncio's
/// `Queue`. A marker type for [`GenericQueue`](super::GenericQueue), never a value.
#[derive(Debug)]
pub enum Fifo {}

/// The queue of [`LifoQueue`](super::LifoQueue): last in, first out, as
/// asyncio's `LifoQueue`. A marker type, never a value.
#[derive(Debug)]
pub enum Lifo {}

/// The queue of [`PriorityQueue`](super::PriorityQueue): smallest item
/// first, as asyncio's `PriorityQueue`; items that compare equal come out
/// in the order they were put. A marker type, never a value.
#[derive(Debug)]
pub enum Priority {}

/// How a [`GenericQueue`](super::GenericQueue) orders its items: [`Fifo`],
/// [`Lifo`] or [`Priority`] (for items that are `Ord`).
///
/// Sealed: the queue's guarantees rest on what each of these three does
/// (module `order.rs` in the source explains them), so no other crate can
/// add a fourth.
///
/// # Examples
///
/// A function that works with a queue of any order:
///
/// ```
/// use spindle::queue::{GenericQueue, Order};
/// use spindle::{LifoQueue, PriorityQueue, Queue};
///
/// fn drain<T, O: Order<T>>(queue: &GenericQueue<T, O>) -> Vec<T> {
///     std::iter::from_fn(|| queue.get_nowait().ok()).collect()
/// }
///
/// let (fifo, lifo, priority) = (Queue::new(), LifoQueue::new(), PriorityQueue::new());
/// for n in [2, 3, 1] {
///     fifo.put_nowait(n).unwrap();
///     lifo.put_nowait(n).unwrap();
///     priority.put_nowait(n).unwrap();
/// }
/// assert_eq!(drain(&fifo), [2, 3, 1]);
/// assert_eq!(drain(&lifo), [1, 3, 2]);
/// assert_eq!(drain(&priority), [1, 2, 3]);
/// ```
pub trait Order<T>: Sealed {
    /// Where the queue keeps the items no getter has claimed.
    #[doc(hidden)]
    type Buffer: Buffer<T>;
}

/// Only this module implements [`Order`]. Public in a private module, so
/// that other crates can name neither it nor [`Buffer`].
pub trait Sealed {}

impl Sealed for Fifo {}
impl Sealed for Lifo {}
impl Sealed for Priority {}

impl<T> Order<T> for Fifo {
    type Buffer = FifoBuffer<T>;
}

impl<T> Order<T> for Lifo {
    type Buffer = LifoBuffer<T>;
}

impl<T: Ord> Order<T> for Priority {
    type Buffer = PriorityBuffer<T>;
}

/// What a queue needs from the container its items wait in. Every method
/// runs under the queue's lock and calls no user code but `T`'s `Ord`
/// (the priority buffer's comparisons). If one of them panics, `push` and
/// `give_back` have added their item and `pop` has taken nothing (see
/// "User code under the lock").
pub trait Buffer<T> {
    /// The public type's name, for `Debug`, traces and task dumps:
    /// `Queue`, `LifoQueue`, ...
    const NAME: &'static str;

    /// What a task waiting on this kind of queue waits on:
    /// `PriorityQueue#2.get` (see [`Waits`]).
    fn waits() -> &'static Waits;

    /// An empty buffer; allocates nothing.
    fn new() -> Self;

    /// Adds a newly put item.
    fn push(&mut self, item: T);

    /// Adds an item that was handed to a getter dropped before it picked
    /// it up, as the oldest item in the buffer (see "Returned items").
    fn give_back(&mut self, item: T);

    /// Removes the item that comes out next, if any.
    fn pop(&mut self) -> Option<T>;

    /// How many items wait in the buffer.
    fn len(&self) -> usize;

    /// Whether none does.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The wait reasons of one kind of queue, one per future that waits
/// (`spindle::observe`): statics, one set per [`Buffer`].
pub struct Waits {
    pub(crate) get: WaitOn,
    pub(crate) put: WaitOn,
    pub(crate) join: WaitOn,
}

impl Waits {
    /// The reasons of a queue called `name`.
    pub(crate) const fn new(name: &'static str) -> Waits {
        Waits {
            get: WaitOn::new(name, "get", Arg::Object),
            put: WaitOn::new(name, "put", Arg::Object),
            join: WaitOn::new(name, "join", Arg::Object),
        }
    }
}

/// [`Fifo`]'s buffer: in at the back, out at the front.
pub struct FifoBuffer<T>(VecDeque<T>);

impl<T> Buffer<T> for FifoBuffer<T> {
    const NAME: &'static str = "Queue";

    fn waits() -> &'static Waits {
        static WAITS: Waits = Waits::new("Queue");
        &WAITS
    }

    fn new() -> Self {
        FifoBuffer(VecDeque::new())
    }

    #[inline]
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }

    /// The front: the returned item is the oldest, so it comes out first.
    fn give_back(&mut self, item: T) {
        self.0.push_front(item);
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }

    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// [`Lifo`]'s buffer: a stack whose top is the back of a `VecDeque`, so
/// that a returned item can go to the bottom in O(1) (a `Vec` would shift
/// every item to insert at index 0).
pub struct LifoBuffer<T>(VecDeque<T>);

impl<T> Buffer<T> for LifoBuffer<T> {
    const NAME: &'static str = "LifoQueue";

    fn waits() -> &'static Waits {
        static WAITS: Waits = Waits::new("LifoQueue");
        &WAITS
    }

    fn new() -> Self {
        LifoBuffer(VecDeque::new())
    }

    #[inline]
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }

    /// The bottom: the returned item is the oldest, so it comes out last.
    fn give_back(&mut self, item: T) {
        self.0.push_front(item);
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop_back()
    }

    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    //! The FIFO and LIFO buffers alone: what each pops and gives back
    //! (the heap has its own tests, in `heap.rs`).

    use super::*;

    fn drain<T>(mut buffer: impl Buffer<T>) -> Vec<T> {
        std::iter::from_fn(|| buffer.pop()).collect()
    }

    #[test]
    fn fifo_returns_to_the_front() {
        let mut b = FifoBuffer::new();
        b.push(1);
        b.push(2);
        b.give_back(0);
        assert_eq!(b.len(), 3);
        assert_eq!(drain(b), [0, 1, 2]);
    }

    #[test]
    fn lifo_returns_to_the_bottom() {
        let mut b = LifoBuffer::new();
        b.push(1);
        b.push(2);
        b.give_back(0);
        assert_eq!(drain(b), [2, 1, 0]);
    }
}
