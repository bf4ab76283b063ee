//! `Queue`: a FIFO queue between tasks — asyncio's `Queue`, done right.
//!
//! Producers `put` items, consumers `get` them in the same order. A
//! *bounded* queue (`Queue::bounded(n)`) holds at most `n` items and makes
//! `put` wait while it is full; an unbounded one (`Queue::new()`) never
//! does. On top of that sits asyncio's work counting: every item put is
//! *unfinished* until a consumer calls `task_done()` for it, and `join()`
//! waits until nothing is unfinished.
//!
//! # The hand-off protocol
//!
//! asyncio's `get` is "while empty: park; then pop". When a `put` wakes a
//! parked getter, the item still sits in the deque until that getter runs,
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
//!   enters as any put's would, to a waiting getter or the back of the
//!   deque) and returns `Ready(())`.
//! - A parked future tells "released" from "still waiting" by whether its
//!   entry is still in the list (see `waiters.rs`).
//!
//! An item in a hand-off slot has left the deque but not yet reached its
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
//! - getters are parked ⇒ the deque is empty (a getter only parks when
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
//!   the next parked getter if there is one (it keeps its place: it was
//!   older than anything in the deque), else to the *front* of the deque;
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

use std::collections::VecDeque;
use std::fmt;
use std::task::Waker;

use crate::sync::{Arc, Mutex, MutexGuard};
use crate::waiters::{lock, wake, wake_all, IdQueue, WaiterList};

mod error;
mod futures;

pub use error::{QueueEmpty, QueueFull, TaskDoneError};
pub use futures::{Get, Join, Put};

/// A FIFO queue for passing items between tasks, like asyncio's `Queue`.
///
/// `Queue` is a cheap handle: clones share one queue. It is `Send + Sync`
/// when `T: Send`, so producers and consumers may live on different
/// threads or executors.
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
pub struct Queue<T> {
    shared: Arc<Mutex<Inner<T>>>,
}

/// Everything behind the queue's one lock.
struct Inner<T> {
    /// Items put and not yet taken or promised to a getter, oldest first.
    items: VecDeque<T>,
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

impl<T> Inner<T> {
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
    /// oldest parked getter, or to the back of the deque. Returns the waker
    /// of the getter it went to, to wake after unlocking.
    #[inline]
    fn enqueue(&mut self, item: T) -> Option<Waker> {
        debug_assert!(!self.is_full(), "enqueue into a full queue");
        self.unfinished += 1;
        self.route(item, End::Back)
    }

    /// Gives `item` to the oldest parked getter if there is one and returns
    /// its waker, to wake after unlocking; else puts it at `end` of the
    /// deque and returns `None`.
    #[inline]
    fn route(&mut self, item: T, end: End) -> Option<Waker> {
        let Some((id, waker)) = self.getters.pop_front() else {
            match end {
                End::Front => self.items.push_front(item),
                End::Back => self.items.push_back(item),
            }
            return None;
        };
        debug_assert!(self.items.is_empty(), "getters parked on a non-empty queue");
        self.handed.push(id, item);
        Some(waker)
    }
}

/// A slot freed up — an item was taken (from the deque, or picked up in
/// transit), or a released putter was dropped with its reservation: grant
/// it to the oldest parked putter, unlock, and wake that putter.
///
/// One slot is enough for one putter, and one is all there can be: putters
/// are parked only on a full queue, so before this slot freed there was
/// none. Usually nobody is parked (never, on an unbounded queue): then it
/// only unlocks, in a check small enough to inline into every `get`.
#[inline]
fn slot_freed<T>(inner: MutexGuard<'_, Inner<T>>) {
    if !inner.putters.is_empty() {
        grant_slot(inner);
    }
}

/// [`slot_freed`] with a putter parked: reserve the slot for the oldest.
/// Kept out of line so that the check in `slot_freed` stays small enough
/// to inline.
#[inline(never)]
fn grant_slot<T>(mut inner: MutexGuard<'_, Inner<T>>) {
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

/// Which end of the deque an item goes to.
enum End {
    /// A returned in-transit item: it was older than anything queued.
    Front,
    /// A newly put item.
    Back,
}

impl<T> Queue<T> {
    /// A new unbounded queue: `put` never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = spindle::Queue::<u8>::new();
    /// assert_eq!(queue.maxsize(), None);
    /// ```
    pub fn new() -> Queue<T> {
        Queue::with_maxsize(None)
    }

    /// A new queue holding at most `maxsize` items; `put` waits while full.
    ///
    /// # Panics
    ///
    /// If `maxsize` is 0: such a queue could never hold an item. (asyncio
    /// reads `maxsize=0` as "unbounded"; here that is [`Queue::new`].)
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
    pub fn bounded(maxsize: usize) -> Queue<T> {
        assert!(
            maxsize > 0,
            "Queue::bounded(0) could never hold an item; use Queue::new() for an unbounded queue"
        );
        Queue::with_maxsize(Some(maxsize))
    }

    fn with_maxsize(maxsize: Option<usize>) -> Queue<T> {
        Queue {
            shared: Arc::new(Mutex::new(Inner {
                items: VecDeque::new(),
                handed: IdQueue::new(),
                getters: WaiterList::new(),
                putters: WaiterList::new(),
                reserved: 0,
                joiners: WaiterList::new(),
                maxsize,
                unfinished: 0,
            })),
        }
    }

    /// Puts `item` at the back of the queue, waiting while it is full.
    ///
    /// On a queue with room (always, if unbounded) the future is ready on
    /// its first poll: `put` never yields to other tasks then. If a getter
    /// is waiting, the item goes straight to the one that waited longest.
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
    pub fn put(&self, item: T) -> Put<'_, T> {
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
    /// As [`put`](Queue::put): only if a getter's waker panics, after the
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

    /// Removes and returns the oldest item, waiting while the queue is
    /// empty. Waiting getters are served in the order they started waiting.
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
    /// lost: it goes to the next waiting getter, or back to the front of the
    /// queue, where a retried `get` finds it first.
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
    pub fn get(&self) -> Get<'_, T> {
        Get::new(self)
    }

    /// Removes and returns the oldest item without waiting.
    ///
    /// # Errors
    ///
    /// [`QueueEmpty`] if no item is available. Items already handed to a
    /// waiting getter are not available (they still count in
    /// [`len`](Queue::len)): they belong to the getter that waited.
    ///
    /// # Panics
    ///
    /// As [`get`](Queue::get): only if a putter's waker panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::{Queue, QueueEmpty};
    ///
    /// let queue = Queue::new();
    /// assert_eq!(queue.get_nowait(), Err(QueueEmpty));
    /// queue.put_nowait(7).unwrap();
    /// assert_eq!(queue.get_nowait(), Ok(7));
    /// ```
    pub fn get_nowait(&self) -> Result<T, QueueEmpty> {
        let mut inner = lock(&self.shared);
        let item = inner.items.pop_front().ok_or(QueueEmpty)?;
        slot_freed(inner);
        Ok(item)
    }

    /// Marks one item taken from the queue as fully processed, for
    /// [`join`](Queue::join).
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if called more times than items were put.
    ///
    /// # Panics
    ///
    /// Only if the waker of a [`join`](Queue::join) it releases panics:
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
    /// [`task_done`](Queue::task_done); ready at once if none is unfinished.
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
    pub fn join(&self) -> Join<'_, T> {
        Join::new(self)
    }

    /// The number of items in the queue, items already handed to a waiting
    /// getter (woken, not yet polled) included. A slot reserved for a
    /// waiting `put` that was woken holds no item until that put runs, so
    /// it is not counted here (but see [`is_full`](Queue::is_full)).
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

    /// Whether [`len`](Queue::len) is 0.
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
    /// So `is_full()` can be `true` while [`len`](Queue::len) is below
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

impl<T> Clone for Queue<T> {
    /// Another handle to the same queue.
    fn clone(&self) -> Self {
        Queue {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Default for Queue<T> {
    /// An unbounded queue.
    fn default() -> Self {
        Queue::new()
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = lock(&self.shared);
        f.debug_struct("Queue")
            .field("len", &inner.len())
            .field("maxsize", &inner.maxsize)
            .field("unfinished", &inner.unfinished)
            .finish_non_exhaustive()
    }
}
