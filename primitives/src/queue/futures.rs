//! The three futures of a queue ([`Queue`], [`PriorityQueue`],
//! [`LifoQueue`]): [`Put`], [`Get`] and [`Join`].
//!
//! Each is a small state machine — *not polled yet*, *parked under an id*,
//! *done* — that carries out its side of the hand-off protocol described
//! in the parent module: on its first poll it tries to finish at once and
//! otherwise parks; on later polls it checks whether the other side has
//! settled its claim (its entry is gone: a `Get` was handed an item, a
//! `Put` a reserved slot); on drop it removes its entry, or gives back what
//! it was handed — the item to the next getter or back into the buffer,
//! the slot to the next putter.
//!
//! Each is generic over the queue's order `O` like the queue itself, and
//! never looks at it: only `Get` touches the buffer, to `pop` an item on
//! its first poll, and to give an item it was handed back (`route`) when
//! it is dropped. The order defaults to [`Fifo`], so `Get<'_, T>` names a
//! [`Queue`]'s future.

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{slot_freed, Arrival, Buffer, Fifo, GenericQueue, Order};
#[cfg(doc)]
use super::{LifoQueue, PriorityQueue, Queue};
use crate::waiters::{lock, raise_again, refresh_waker, wake};

/// The future returned by [`put`](GenericQueue::put).
///
/// # Cancellation
///
/// Cancel-safe, as [`put`](GenericQueue::put) explains: dropped before it returned
/// `Ready`, it has put nothing, and a slot reserved for it passes to the
/// next waiting put.
///
/// # Examples
///
/// ```
/// use spindle::queue::{Put, Queue};
///
/// let queue = Queue::new();
/// let put: Put<'_, &str> = queue.put("item");
/// futures_executor::block_on(put);
/// assert_eq!(queue.len(), 1);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Put<'a, T, O: Order<T> = Fifo> {
    queue: &'a GenericQueue<T, O>,
    state: PutState<T>,
}

impl<'a, T, O: Order<T>> Put<'a, T, O> {
    pub(super) fn new(queue: &'a GenericQueue<T, O>, item: T) -> Self {
        Put {
            queue,
            state: PutState::Init(item),
        }
    }
}

/// Where a [`Put`] is in its life.
enum PutState<T> {
    /// Not polled yet; owns its item.
    Init(T),
    /// Parked under this id, still owning its item: while the entry is in
    /// the queue's `putters` it waits; once the entry is gone, a slot is
    /// reserved for it.
    Parked { id: u64, item: T },
    /// Returned `Ready`: the item is in the queue.
    Done,
}

// `Put` never pins its item (it only moves it), so it is `Unpin` whatever
// `T` is. This is a safe impl: `Unpin` promises nothing unsafe code relies on.
impl<T, O: Order<T>> Unpin for Put<'_, T, O> {}

impl<T, O: Order<T>> Future for Put<'_, T, O> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut inner = lock(&this.queue.shared);
        let item = match std::mem::replace(&mut this.state, PutState::Done) {
            PutState::Init(item) => {
                if inner.is_full() {
                    let id = inner.putters.push(cx.waker().clone());
                    this.state = PutState::Parked { id, item };
                    drop(inner);
                    this.queue.shared.waiting(&O::Buffer::waits().put);
                    return Poll::Pending;
                }
                debug_assert!(
                    inner.putters.is_empty(),
                    "putters parked on a queue with room"
                );
                item
            }
            PutState::Parked { id, item } => {
                if let Some(waker) = inner.putters.get_mut(id) {
                    // Still parked: a spurious poll. Keep the newest waker.
                    refresh_waker(waker, cx.waker());
                    this.state = PutState::Parked { id, item };
                    drop(inner);
                    this.queue.shared.waiting(&O::Buffer::waits().put);
                    return Poll::Pending;
                }
                // Entry gone: `slot_freed` reserved a slot for us. Our item
                // takes it, so it is no longer merely reserved.
                debug_assert!(inner.reserved > 0, "a released put has no slot");
                inner.reserved -= 1;
                item
            }
            PutState::Done => return Poll::Ready(()),
        };
        // The put happens: the item enters through a free (or just
        // reserved) slot, and the getter it went to, if any, is woken.
        let getter = inner.enqueue(item);
        drop(inner);
        wake(getter);
        Poll::Ready(())
    }
}

impl<T, O: Order<T>> Put<'_, T, O> {
    /// Dropped while parked under `id`. Still parked: leave the line.
    /// Released: a slot was reserved for us, and since we will not use it,
    /// it goes to the next parked putter, or is free again. Either way the
    /// item, still ours, is dropped with the future after this returns —
    /// outside the lock (its `Drop` may use the queue).
    fn cancel(&self, id: u64) {
        let mut inner = lock(&self.queue.shared);
        if let Some(waker) = inner.putters.remove(id) {
            drop(inner);
            drop(waker);
            return;
        }
        debug_assert!(inner.reserved > 0, "a released put has no slot");
        inner.reserved -= 1;
        slot_freed(inner);
    }
}

impl<T, O: Order<T>> Drop for Put<'_, T, O> {
    // Inlined so that the usual case, a put that completed, costs one check.
    #[inline]
    fn drop(&mut self) {
        if let PutState::Parked { id, .. } = self.state {
            self.cancel(id);
        }
    }
}

impl<T, O: Order<T>> fmt::Debug for Put<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put").finish_non_exhaustive()
    }
}

/// The future returned by [`get`](GenericQueue::get).
///
/// # Panics
///
/// Polling it again after it returned the item panics.
///
/// # Cancellation
///
/// Cancel-safe, as [`get`](GenericQueue::get) explains: dropped before it
/// returned `Ready`, it has taken nothing; an item already handed to it
/// goes to the next waiting getter or back into the queue as its oldest
/// item.
///
/// # Examples
///
/// ```
/// use spindle::queue::{Get, Queue};
///
/// let queue = Queue::new();
/// queue.put_nowait(42).unwrap();
/// let get: Get<'_, i32> = queue.get();
/// assert_eq!(futures_executor::block_on(get), 42);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Get<'a, T, O: Order<T> = Fifo> {
    queue: &'a GenericQueue<T, O>,
    state: GetState,
}

impl<'a, T, O: Order<T>> Get<'a, T, O> {
    pub(super) fn new(queue: &'a GenericQueue<T, O>) -> Self {
        Get {
            queue,
            state: GetState::Init,
        }
    }
}

/// Where a [`Get`] is in its life.
enum GetState {
    /// Not polled yet.
    Init,
    /// Parked under this id; an item may already wait in `handed[id]`.
    Parked(u64),
    /// Returned its item.
    Done,
}

impl<T, O: Order<T>> Future for Get<'_, T, O> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let queue = self.queue;
        let mut inner = lock(&queue.shared);
        let item = match self.state {
            GetState::Init => match inner.items.pop() {
                Some(item) => item,
                None => {
                    let id = inner.getters.push(cx.waker().clone());
                    drop(inner);
                    self.state = GetState::Parked(id);
                    queue.shared.waiting(&O::Buffer::waits().get);
                    return Poll::Pending;
                }
            },
            GetState::Parked(id) => match inner.handed.remove(id) {
                Some(item) => item,
                None => {
                    let waker = inner.getters.get_mut(id);
                    debug_assert!(waker.is_some(), "a parked getter lost both entry and item");
                    if let Some(waker) = waker {
                        refresh_waker(waker, cx.waker());
                    }
                    drop(inner);
                    queue.shared.waiting(&O::Buffer::waits().get);
                    return Poll::Pending;
                }
            },
            GetState::Done => panic!("`Get` polled after it returned its item"),
        };
        self.state = GetState::Done;
        slot_freed(inner);
        Poll::Ready(item)
    }
}

impl<T, O: Order<T>> Get<'_, T, O> {
    /// Dropped while parked under `id`: leave the line, or give back the
    /// item that was handed to us.
    fn cancel(&self, id: u64) {
        let mut inner = lock(&self.queue.shared);
        if let Some(waker) = inner.getters.remove(id) {
            // Still parked: we just leave the line.
            drop(inner);
            drop(waker);
            return;
        }
        // Released: an item was handed to us. It goes to the next getter,
        // or back into the buffer as its oldest item (`order.rs`, "Returned
        // items"). The slot it occupies stays occupied.
        let item = inner.handed.remove(id);
        debug_assert!(item.is_some(), "a released getter has no item");
        let Some(item) = item else { return };
        // Into a priority queue's heap, giving back compares items with
        // `T`'s `Ord`, which may panic — and this may be a drop during a
        // panic, where a second one aborts. So the panic is caught, and
        // raised again after unlocking, or dropped if a panic is already
        // under way, as a waker's is (`waiters.rs`, rule 3). The heap has
        // kept the item either way.
        let routed = catch_unwind(AssertUnwindSafe(|| inner.route(item, Arrival::Returned)));
        drop(inner);
        match routed {
            Ok(next) => wake(next),
            Err(panic) => raise_again(panic),
        }
    }
}

impl<T, O: Order<T>> Drop for Get<'_, T, O> {
    // Inlined so that the usual case, a get that completed, costs one check.
    #[inline]
    fn drop(&mut self) {
        if let GetState::Parked(id) = self.state {
            self.cancel(id);
        }
    }
}

impl<T, O: Order<T>> fmt::Debug for Get<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get").finish_non_exhaustive()
    }
}

/// The future returned by [`join`](GenericQueue::join).
///
/// # Cancellation
///
/// Dropping it leaves nothing behind: a parked `Join` removes its entry,
/// and one that the last `task_done` already released has nothing to
/// undo. Waiting changes nothing in the queue.
///
/// # Examples
///
/// ```
/// use spindle::queue::{Join, Queue};
///
/// let queue = Queue::new();
/// queue.put_nowait(()).unwrap();
/// queue.get_nowait().unwrap();
/// queue.task_done().unwrap();
/// let join: Join<'_, ()> = queue.join();
/// futures_executor::block_on(join); // every item is done
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Join<'a, T, O: Order<T> = Fifo> {
    queue: &'a GenericQueue<T, O>,
    state: JoinState,
}

impl<'a, T, O: Order<T>> Join<'a, T, O> {
    pub(super) fn new(queue: &'a GenericQueue<T, O>) -> Self {
        Join {
            queue,
            state: JoinState::Init,
        }
    }
}

/// Where a [`Join`] is in its life.
enum JoinState {
    /// Not polled yet.
    Init,
    /// Parked under this id until `unfinished` reaches 0.
    Parked(u64),
    /// Returned `Ready`.
    Done,
}

impl<T, O: Order<T>> Future for Join<'_, T, O> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let queue = self.queue;
        let mut inner = lock(&queue.shared);
        match self.state {
            JoinState::Init if inner.unfinished > 0 => {
                let id = inner.joiners.push(cx.waker().clone());
                drop(inner);
                self.state = JoinState::Parked(id);
                queue.shared.waiting(&O::Buffer::waits().join);
                return Poll::Pending;
            }
            JoinState::Parked(id) => {
                if let Some(waker) = inner.joiners.get_mut(id) {
                    refresh_waker(waker, cx.waker());
                    drop(inner);
                    queue.shared.waiting(&O::Buffer::waits().join);
                    return Poll::Pending;
                }
                // Entry gone: the last task_done() released us.
            }
            JoinState::Init | JoinState::Done => {}
        }
        drop(inner);
        self.state = JoinState::Done;
        Poll::Ready(())
    }
}

impl<T, O: Order<T>> Drop for Join<'_, T, O> {
    fn drop(&mut self) {
        if let JoinState::Parked(id) = self.state {
            let removed = lock(&self.queue.shared).joiners.remove(id);
            drop(removed);
        }
    }
}

impl<T, O: Order<T>> fmt::Debug for Join<'_, T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join").finish_non_exhaustive()
    }
}
