//! `Queue`, `PriorityQueue`, `LifoQueue`: queues between tasks — asyncio's
//! three, done right.
//!
//! Producers `put` items, consumers `get` them: in the order they were put
//! ([`Queue`]), smallest first ([`PriorityQueue`]) or newest first
//! ([`LifoQueue`]). A *bounded* queue (`Queue::bounded(n)`) holds at most
//! `n` items and makes `put` wait while it is full; an unbounded one
//! (`Queue::new()`) never does. On top of that sits asyncio's work
//! counting: every item put is *unfinished* until a consumer calls
//! `task_done()` for it, and `join()` waits until nothing is unfinished.
//!
//! The three are one type, [`GenericQueue<T, O>`], whose parameter `O`
//! only chooses the *buffer* the waiting items are kept in (`order.rs`,
//! which also shows why the protocol below is right for every order).
//! Everything else — this whole file and `futures.rs` — is written once.
//! Where the text below says "the buffer", read "the deque" for a `Queue`.
//!
//! # The hand-off protocol
//!
//! asyncio's `get` is "while empty: park; then pop". When a `put` wakes a
//! parked getter, the item still sits in the buffer until that getter runs,
//! and a `get_nowait` that runs first steals it — the getter that waited
//! longest goes back to waiting. asyncio's `put` has the same hole the
//! other way round: a `put_nowait` can take the slot a woken putter was
//! woken for. This queue never lets either happen: **the side that makes
//! progress possible settles the waiter's claim under the lock, before
//! waking it** — with the item for a getter, with a reserved slot for a
//! putter.
//!
//! - **put → waiting getter**: if a getter is parked, `put` does not push
//!   the item; it moves it straight into that getter's *hand-off slot*
//!   (`handed`, keyed by the getter's id), removes the getter from the
//!   waiter list, and wakes it after unlocking. When the getter is polled,
//!   it takes its item from the slot. A racing `get_nowait` finds the queue
//!   empty, so waiting getters are served strictly in arrival order.
//! - **slot freed → waiting putter**: a parked `put` keeps its item *in its
//!   own future*; its waiter entry holds only its waker. Whenever a slot
//!   frees up, the queue *reserves* it for the oldest parked putter
//!   (`reserved += 1`), removes the entry and wakes the putter. The item
//!   does not move yet. When the putter is polled, it finds its entry gone,
//!   turns the reservation into its item (`reserved -= 1`, then the item
//!   enters as any put's would, to a waiting getter or into the buffer)
//!   and returns `Ready(())`.
//! - A parked future tells "released" from "still waiting" by whether its
//!   entry is still in the list (see `waiters.rs`).
//!
//! An item in a hand-off slot has left the buffer but not yet reached its
//! getter: it is *in transit*. In-transit items count in `len()` and
//! occupy a slot of a bounded queue, exactly as the item would in asyncio
//! until its getter runs — and that is what keeps the bound true when a
//! getter is cancelled and its item comes back. A reserved slot holds no
//! item yet, so it does not count in `len()` (a getter finds nothing in
//! it), but it is taken: it counts towards `is_full()`, so no `put_nowait`
//! or new `put` can have it.
//!
//! Why reserve, rather than move the item in at once as a getter's item
//! is moved? Because a put must stay *cancel-safe*: a `put` future dropped
//! before it returned `Ready` must have put nothing — as tokio's
//! `Sender::send` promises ("if some other branch completes first, the
//! message was not sent"), and as asyncio's `put` does when cancelled. A
//! caller that races `put` against a timeout in a `select` and retries on
//! the losing branch would otherwise put the item twice. A getter has no
//! such problem: an item handed to a dropped getter can go back (below).
//!
//! Slots are granted in arrival order, one per freed slot, so no putter
//! overtakes one that waited longer. Two putters granted slots before
//! either runs move their items in when they are polled, so those items
//! enter in the order the executor polls them — on a FIFO executor such as
//! spindle's, the order they were woken, which is the order they arrived.
//!
//! # Invariants (checked by `debug_assert!`)
//!
//! - getters are parked ⇒ the buffer is empty (a getter only parks when
//!   there is nothing to take, and every `put` serves parked getters first);
//! - putters are parked ⇒ the queue is full, reserved slots included
//!   (every freed slot is granted to the parked putters first). So `put`
//!   on a queue with room never parks, and `put_nowait` can never overtake
//!   a parked putter;
//! - `reserved` is the number of putters released and neither polled nor
//!   dropped since: every reservation belongs to exactly one `Put`.
//!
//! # Cancellation, races included
//!
//! A future can be dropped at any point, in particular *between* being
//! released and being polled — its claim already settled. Nothing is lost
//! or duplicated:
//!
//! - a `get` dropped while parked removes its entry;
//! - a `get` dropped after an item was handed to it gives the item back: to
//!   the next parked getter if there is one, else into the buffer as its
//!   *oldest* item — the front of a `Queue` (`order.rs`, "Returned items",
//!   says why that is where it belongs, in every order);
//! - a `put` dropped while parked removes its entry; its item, which never
//!   left the future, is dropped with it;
//! - a `put` dropped after a slot was reserved for it passes the
//!   reservation on: to the next parked putter (granted and woken as if
//!   the slot had just freed — it has), else the slot is free again. Its
//!   item never entered the queue and is dropped with the future: the put
//!   did not happen.
//!
//! So a dropped `put` or `get` that did not return `Ready` has had no
//! effect, except that the next waiter in line may have been woken.
//!
//! Every one of these steps — park, release, pick up, cancel — runs under
//! the queue's one lock, so steps of two threads never interleave inside
//! each other: a race is only a question of which step comes first, and
//! each order is one of the cases above. Take a putter dropped just as a
//! `get` frees a slot. If the `get` locks first, it reserves the slot for
//! the putter and removes its entry; the drop then finds the entry gone
//! and passes the reservation on. If the drop locks first, it removes its
//! entry, and the `get` grants the slot to the next putter instead. Either
//! way exactly one putter holds the slot, and it was woken. The loom models
//! in `loom_tests.rs` check this (and the getter's side) under every
//! interleaving of a few threads.
//!
//! Wakers are woken and items dropped only after the lock is released.
//!
//! # A waker that panics
//!
//! Whoever releases waiters wakes them *all* even if a waker panics, and
//! raises the first panic again afterwards, from its own call (`put`,
//! `put_nowait`, `get`, `get_nowait`, `task_done`, or the drop of a `Get`
//! or a `Put` that passes its item or slot on),
//! with the lock released and the state complete (`waiters.rs`, rule 3):
//! the operation has happened, and no waiter misses its wake. One thing
//! follows for `get` and `get_nowait`: their item is taken before they
//! wake the putter its slot goes to, so if that waker panics, the item is
//! dropped by the unwinding, as if the task had panicked right after
//! receiving it.

use std::fmt;
use std::task::Waker;

use crate::sync::{Arc, MutexGuard};
use crate::waiters::{lock, wake, wake_all, IdQueue, Named, WaiterList};
use order::Buffer;

mod error;
mod futures;
mod heap;
mod order;

pub use error::{QueueEmpty, QueueFull, TaskDoneError};
pub use futures::{Get, Join, Put};
pub use order::{Fifo, Lifo, Order, Priority};

/// A queue for passing items between tasks, in the order `O`: the one type
/// behind [`Queue`], [`PriorityQueue`] and [`LifoQueue`], which are the
/// names to use.
///
/// Everything but the order is the same for the three: waiting, the
/// hand-off to waiting getters, cancellation, `task_done` and `join` (see
/// the [module docs](crate::queue)). "The next item" below means the one
/// the order gives: the oldest for a `Queue`, the smallest for a
/// `PriorityQueue`, the newest for a `LifoQueue`.
///
/// A `GenericQueue` is a cheap handle: clones share one queue. It is
/// `Send + Sync` when `T: Send`, so producers and consumers may live on
/// different threads or executors.
///
/// # Examples
///
/// ```
/// use spindle::queue::{GenericQueue, Lifo};
/// use spindle::LifoQueue;
///
/// // `LifoQueue<T>` is another name for `GenericQueue<T, Lifo>`.
/// let stack: GenericQueue<&str, Lifo> = LifoQueue::new();
/// stack.put_nowait("first").unwrap();
/// stack.put_nowait("second").unwrap();
/// assert_eq!(stack.get_nowait(), Ok("second"));
/// ```
pub struct GenericQueue<T, O: Order<T>> {
    shared: Arc<Named<Inner<T, O>>>,
}

/// A FIFO queue for passing items between tasks, like asyncio's `Queue`:
/// items come out in the order they were put.
///
/// `Queue` is a cheap handle: clones share one queue. It is `Send + Sync`
/// when `T: Send`, so producers and consumers may live on different
/// threads or executors. Its methods are those of [`GenericQueue`], the
/// type it names.
///
/// # Examples
///
/// ```
/// use spindle::Queue;
///
/// futures_executor::block_on(async {
///     let queue = Queue::new();
///     queue.put("job").await; // room: never waits
///     let job = queue.get().await;
///     assert_eq!(job, "job");
///     queue.task_done().unwrap();
///     queue.join().await; // every item put is done
/// });
/// ```
pub type Queue<T> = GenericQueue<T, Fifo>;

/// A queue that serves the smallest item first, like asyncio's
/// `PriorityQueue` (a `heapq`): `T` must be `Ord`.
///
/// As in Python, the usual item is a tuple `(priority, data)`: tuples
/// compare by their first field, then the next. Unlike Python's heap,
/// this one is stable: items that compare equal come out in the order they
/// were put, so `(priority, data)` needs no tie-breaking count, and an
/// `Ord` that looks at the priority alone is enough.
///
/// Everything else is [`Queue`]'s: bounded or not, the hand-off to the
/// getter that waited longest, cancel-safe `put` and `get`, `task_done`
/// and `join`. Its methods are those of [`GenericQueue`], the type it
/// names.
///
/// `T`'s `Ord` is called under the queue's lock, as the heap places and
/// takes items. It must not use the queue: that would deadlock. If it
/// panics, the panic comes out of the call that compared (a `put`, a
/// `get`, the drop of a `get` giving back its item) and the queue stays
/// whole: no item is lost or duplicated and the counts stay right — a put
/// whose comparison panicked has happened, a get whose comparison
/// panicked has taken nothing — but the order in which items come out
/// afterwards is unspecified.
///
/// # Examples
///
/// ```
/// use spindle::PriorityQueue;
///
/// futures_executor::block_on(async {
///     let queue = PriorityQueue::new();
///     for job in [(3, "low"), (1, "urgent"), (2, "normal"), (1, "urgent too")] {
///         queue.put(job).await;
///     }
///     assert_eq!(queue.get().await, (1, "urgent"));
///     assert_eq!(queue.get().await, (1, "urgent too"));
///     assert_eq!(queue.get().await, (2, "normal"));
///     assert_eq!(queue.get().await, (3, "low"));
/// });
/// ```
///
/// A type that is not `Ord` cannot be put in one:
///
/// ```compile_fail
/// struct Job;
/// let queue = spindle::PriorityQueue::<Job>::new(); // error: `Job: Ord` is not satisfied
/// ```
pub type PriorityQueue<T> = GenericQueue<T, Priority>;

/// A queue that serves the newest item first (a stack), like asyncio's
/// `LifoQueue`.
///
/// Everything else is [`Queue`]'s: bounded or not, the hand-off to the
/// getter that waited longest, cancel-safe `put` and `get`, `task_done`
/// and `join`. Its methods are those of [`GenericQueue`], the type it
/// names.
///
/// # Examples
///
/// ```
/// use spindle::LifoQueue;
///
/// futures_executor::block_on(async {
///     let stack = LifoQueue::new();
///     for n in 1..=3 {
///         stack.put(n).await;
///     }
///     let mut out = Vec::new();
///     for _ in 0..3 {
///         out.push(stack.get().await);
///     }
///     assert_eq!(out, [3, 2, 1]);
/// });
/// ```
pub type LifoQueue<T> = GenericQueue<T, Lifo>;

/// Everything behind the queue's one lock.
struct Inner<T, O: Order<T>> {
    /// Items put and not yet taken or promised to a getter, in the order
    /// they will come out.
    items: O::Buffer,
    /// Items handed to a parked getter that has not picked them up yet
    /// (in transit), keyed by that getter's id. They count in `len`.
    handed: IdQueue<T>,
    /// Getters parked on an empty queue. Non-empty ⇒ `items` is empty.
    getters: WaiterList<Waker>,
    /// Putters parked on a full queue; each keeps its item in its own
    /// future. Non-empty ⇒ full.
    putters: WaiterList<Waker>,
    /// Slots granted to released putters that have not been polled (nor
    /// dropped) since: each is held for one `Put`, which turns it into its
    /// item when polled, or passes it on when dropped. They count towards
    /// `is_full`, not `len`: no item is in them yet.
    reserved: usize,
    /// `join()` callers parked. Non-empty ⇒ `unfinished > 0`.
    joiners: WaiterList<Waker>,
    /// `None` for an unbounded queue; otherwise at least 1.
    maxsize: Option<usize>,
    /// Items put minus `task_done` calls; never negative.
    unfinished: usize,
}

impl<T, O: Order<T>> Inner<T, O> {
    /// Items in the queue, in transit ones included.
    #[inline]
    fn len(&self) -> usize {
        self.items.len() + self.handed.len()
    }

    /// Whether a `put` would have to wait: every slot holds an item or is
    /// reserved for a released putter.
    #[inline]
    fn is_full(&self) -> bool {
        self.maxsize
            .is_some_and(|max| self.len() + self.reserved >= max)
    }

    /// A new item enters the queue: it becomes unfinished and goes to the
    /// oldest parked getter, or into the buffer. Returns the waker of the
    /// getter it went to, to wake after unlocking.
    #[inline]
    fn enqueue(&mut self, item: T) -> Option<Waker> {
        debug_assert!(!self.is_full(), "enqueue into a full queue");
        self.unfinished += 1;
        self.route(item, Arrival::New)
    }

    /// Gives `item` to the oldest parked getter if there is one and returns
    /// its waker, to wake after unlocking; else puts it into the buffer, as
    /// a new or a returned item, and returns `None`.
    #[inline]
    fn route(&mut self, item: T, arrival: Arrival) -> Option<Waker> {
        let Some((id, waker)) = self.getters.pop_front() else {
            match arrival {
                Arrival::New => self.items.push(item),
                Arrival::Returned => self.items.give_back(item),
            }
            return None;
        };
        debug_assert!(self.items.is_empty(), "getters parked on a non-empty queue");
        self.handed.push(id, item);
        Some(waker)
    }
}

/// A slot freed up — an item was taken (from the buffer, or picked up in
/// transit), or a released putter was dropped with its reservation: grant
/// it to the oldest parked putter, unlock, and wake that putter.
///
/// One slot is enough for one putter, and one is all there can be: putters
/// are parked only on a full queue, so before this slot freed there was
/// none. Usually nobody is parked (never, on an unbounded queue): then it
/// only unlocks, in a check small enough to inline into every `get`.
#[inline]
fn slot_freed<T, O: Order<T>>(inner: MutexGuard<'_, Inner<T, O>>) {
    if !inner.putters.is_empty() {
        grant_slot(inner);
    }
}

/// [`slot_freed`] with a putter parked: reserve the slot for the oldest.
/// Kept out of line so that the check in `slot_freed` stays small enough
/// to inline.
#[inline(never)]
fn grant_slot<T, O: Order<T>>(mut inner: MutexGuard<'_, Inner<T, O>>) {
    let Some((_, putter)) = inner.putters.pop_front() else {
        return;
    };
    inner.reserved += 1;
    debug_assert!(
        inner.is_full(),
        "more than one slot was free while putters were parked"
    );
    drop(inner);
    wake(Some(putter));
}

/// How an item comes into the buffer.
enum Arrival {
    /// Newly put: `Buffer::push`.
    New,
    /// Back from a getter dropped after it was handed the item:
    /// `Buffer::give_back`, as the oldest item.
    Returned,
}

impl<T, O: Order<T>> GenericQueue<T, O> {
    /// A new unbounded queue: `put` never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = spindle::Queue::<u8>::new();
    /// assert_eq!(queue.maxsize(), None);
    /// ```
    pub fn new() -> Self {
        Self::with_maxsize(None)
    }

    /// A new queue holding at most `maxsize` items; `put` waits while full.
    ///
    /// # Panics
    ///
    /// If `maxsize` is 0: such a queue could never hold an item. (asyncio
    /// reads `maxsize=0` as "unbounded"; here that is [`new`](Self::new).)
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = spindle::Queue::bounded(1);
    /// queue.put_nowait('a').unwrap();
    /// assert!(queue.is_full());
    /// assert_eq!(queue.put_nowait('b').unwrap_err().into_inner(), 'b');
    /// ```
    #[track_caller]
    pub fn bounded(maxsize: usize) -> Self {
        assert!(
            maxsize > 0,
            "{}::bounded(0) could never hold an item; use {0}::new() for an unbounded queue",
            O::Buffer::NAME
        );
        Self::with_maxsize(Some(maxsize))
    }

    fn with_maxsize(maxsize: Option<usize>) -> Self {
        GenericQueue {
            shared: Arc::new(Named::new(
                <O::Buffer as Buffer<T>>::NAME,
                Inner {
                    items: O::Buffer::new(),
                    handed: IdQueue::new(),
                    getters: WaiterList::new(),
                    putters: WaiterList::new(),
                    reserved: 0,
                    joiners: WaiterList::new(),
                    maxsize,
                    unfinished: 0,
                },
            )),
        }
    }

    /// Puts `item` into the queue, waiting while it is full.
    ///
    /// On a queue with room (always, if unbounded) the future is ready on
    /// its first poll: `put` never yields to other tasks then. If a getter
    /// is waiting, the item goes straight to the one that waited longest
    /// (the queue is empty then, so the item is the next in any order).
    ///
    /// # Panics
    ///
    /// Only if the waker of the getter it hands its item to panics: the
    /// panic is raised again here, after the put has happened ([a waker
    /// that panics](crate::queue#a-waker-that-panics)).
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: dropped before it returned `Ready`, the put has not
    /// happened. The item is dropped with the future and was never in the
    /// queue, not even if a slot had already been reserved for it (woken,
    /// not yet polled again): that slot passes to the next waiting put, in
    /// arrival order, or is free again. So a `put` that loses a `select`
    /// can simply be retried.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::Queue;
    ///
    /// let queue = Queue::bounded(2);
    /// futures_executor::block_on(async {
    ///     queue.put(1).await;
    ///     queue.put(2).await;
    /// });
    /// assert!(queue.is_full());
    /// ```
    pub fn put(&self, item: T) -> Put<'_, T, O> {
        Put::new(self, item)
    }

    /// Puts `item` without waiting.
    ///
    /// # Errors
    ///
    /// [`QueueFull`] if the queue is full; it hands the item back.
    ///
    /// # Panics
    ///
    /// As [`put`](Self::put): only if a getter's waker panics, after the
    /// put has happened.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = spindle::Queue::bounded(1);
    /// assert!(queue.put_nowait(1).is_ok());
    /// let full = queue.put_nowait(2).unwrap_err();
    /// assert_eq!(full.into_inner(), 2);
    /// ```
    pub fn put_nowait(&self, item: T) -> Result<(), QueueFull<T>> {
        let getter = {
            let mut inner = lock(&self.shared);
            if inner.is_full() {
                return Err(QueueFull(item));
            }
            debug_assert!(
                inner.putters.is_empty(),
                "putters parked on a queue with room"
            );
            inner.enqueue(item)
        };
        wake(getter);
        Ok(())
    }

    /// Removes and returns the next item — the oldest, the smallest or the
    /// newest, by the queue's order — waiting while the queue is empty.
    /// Waiting getters are served in the order they started waiting.
    ///
    /// # Panics
    ///
    /// Only if the waker of a putter it releases panics: the panic is
    /// raised again here after every wake, and the item it took is dropped
    /// by the unwinding ([a waker that
    /// panics](crate::queue#a-waker-that-panics)).
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: dropped before it returned `Ready`, it has taken
    /// nothing. Dropped while waiting, nothing is left behind. Dropped after
    /// an item was handed to it (woken but not yet polled), the item is not
    /// lost: it goes to the next waiting getter, or back into the queue as
    /// its oldest item — the front of a `Queue`, where a retried `get` finds
    /// it first; the bottom of a `LifoQueue`, beneath the items put after
    /// it; first among its equals in a `PriorityQueue`.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = spindle::Queue::new();
    /// queue.put_nowait("first").unwrap();
    /// queue.put_nowait("second").unwrap();
    /// let got = futures_executor::block_on(queue.get());
    /// assert_eq!(got, "first");
    /// ```
    pub fn get(&self) -> Get<'_, T, O> {
        Get::new(self)
    }

    /// Removes and returns the next item without waiting.
    ///
    /// # Errors
    ///
    /// [`QueueEmpty`] if no item is available. Items already handed to a
    /// waiting getter are not available (they still count in
    /// [`len`](Self::len)): they belong to the getter that waited.
    ///
    /// # Panics
    ///
    /// As [`get`](Self::get): only if a putter's waker panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::{PriorityQueue, QueueEmpty};
    ///
    /// let queue = PriorityQueue::new();
    /// assert_eq!(queue.get_nowait(), Err(QueueEmpty));
    /// queue.put_nowait(7).unwrap();
    /// queue.put_nowait(5).unwrap();
    /// assert_eq!(queue.get_nowait(), Ok(5));
    /// ```
    pub fn get_nowait(&self) -> Result<T, QueueEmpty> {
        let mut inner = lock(&self.shared);
        let item = inner.items.pop().ok_or(QueueEmpty)?;
        slot_freed(inner);
        Ok(item)
    }

    /// Marks one item taken from the queue as fully processed, for
    /// [`join`](Self::join).
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if called more times than items were put.
    ///
    /// # Panics
    ///
    /// Only if the waker of a [`join`](Self::join) it releases panics:
    /// every other joiner is still woken, then the first such panic is
    /// raised again here. The item is marked done by then.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::{Queue, TaskDoneError};
    ///
    /// let queue = Queue::new();
    /// queue.put_nowait(()).unwrap();
    /// assert_eq!(queue.task_done(), Ok(()));
    /// assert_eq!(queue.task_done(), Err(TaskDoneError));
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let released = {
            let mut inner = lock(&self.shared);
            if inner.unfinished == 0 {
                return Err(TaskDoneError);
            }
            inner.unfinished -= 1;
            if inner.unfinished > 0 {
                return Ok(());
            }
            inner.joiners.take_all()
        };
        wake_all(released);
        Ok(())
    }

    /// Waits until every item put has been marked done by
    /// [`task_done`](Self::task_done); ready at once if none is unfinished.
    ///
    /// Like an event: once released, it returns even if more items are put
    /// before it is polled.
    ///
    /// # Cancellation
    ///
    /// Dropping the future leaves nothing behind (see [`Join`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = spindle::Queue::<u8>::new();
    /// futures_executor::block_on(queue.join()); // nothing unfinished
    /// ```
    pub fn join(&self) -> Join<'_, T, O> {
        Join::new(self)
    }

    /// The number of items in the queue, items already handed to a waiting
    /// getter (woken, not yet polled) included. A slot reserved for a
    /// waiting `put` that was woken holds no item until that put runs, so
    /// it is not counted here (but see [`is_full`](Self::is_full)).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = spindle::Queue::new();
    /// queue.put_nowait(1).unwrap();
    /// assert_eq!(queue.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        lock(&self.shared).len()
    }

    /// Whether [`len`](Self::len) is 0: asyncio's `empty()`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::Queue::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a `put` would wait: bounded, with every one of its `maxsize`
    /// slots holding an item or reserved for a waiting `put` that was
    /// woken and has not run yet. Always `false` for an unbounded queue.
    ///
    /// So `is_full()` can be `true` while [`len`](Self::len) is below
    /// `maxsize`: a slot promised to a waiting put is not free.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = spindle::Queue::bounded(1);
    /// assert!(!queue.is_full());
    /// queue.put_nowait(0).unwrap();
    /// assert!(queue.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        lock(&self.shared).is_full()
    }

    /// The bound, or `None` for an unbounded queue.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle::Queue::<()>::bounded(3).maxsize(), Some(3));
    /// ```
    pub fn maxsize(&self) -> Option<usize> {
        lock(&self.shared).maxsize
    }

    /// Parked futures the queue still tracks (getters, putters, joiners,
    /// in-transit items and reserved slots). For tests of cancellation.
    #[doc(hidden)]
    pub fn waiter_count(&self) -> usize {
        let inner = lock(&self.shared);
        inner.getters.len()
            + inner.putters.len()
            + inner.joiners.len()
            + inner.handed.len()
            + inner.reserved
    }
}

impl<T, O: Order<T>> Clone for GenericQueue<T, O> {
    /// Another handle to the same queue.
    fn clone(&self) -> Self {
        GenericQueue {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T, O: Order<T>> Default for GenericQueue<T, O> {
    /// An unbounded queue.
    fn default() -> Self {
        Self::new()
    }
}

impl<T, O: Order<T>> fmt::Debug for GenericQueue<T, O> {
    /// `Queue { len: 2, maxsize: None, unfinished: 3, .. }`, or
    /// `PriorityQueue { .. }`, `LifoQueue { .. }`: the name used to make
    /// it. The items are not shown (they need not be `Debug`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = lock(&self.shared);
        f.debug_struct(O::Buffer::NAME)
            .field("len", &inner.len())
            .field("maxsize", &inner.maxsize)
            .field("unfinished", &inner.unfinished)
            .finish_non_exhaustive()
    }
}
