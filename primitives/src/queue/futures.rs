//! The three futures of a [`Queue`]: [`Put`], [`Get`] and [`Join`].
//!
//! Each is a small state machine — *not polled yet*, *parked under an id*,
//! *done* — that carries out its side of the hand-off protocol described
//! in the parent module: on its first poll it tries to finish at once and
//! otherwise parks; on later polls it checks whether the other side has
//! completed its operation for it (its entry is gone); on drop it removes
//! its entry, or gives back an item that was handed to it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{slot_freed, End, ParkedPut, Queue};
use crate::waiters::{lock, refresh_waker, wake};

/// The future returned by [`Queue::put`].
///
/// # Cancellation
///
/// See [`Queue::put`]: nothing is lost or duplicated.
///
/// # Examples
///
/// ```
/// use spindle_primitives::queue::{Put, Queue};
///
/// let queue = Queue::new();
/// let put: Put<'_, &str> = queue.put("item");
/// futures_executor::block_on(put);
/// assert_eq!(queue.len(), 1);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Put<'a, T> {
    queue: &'a Queue<T>,
    state: PutState<T>,
}

impl<'a, T> Put<'a, T> {
    pub(super) fn new(queue: &'a Queue<T>, item: T) -> Self {
        Put {
            queue,
            state: PutState::Init(item),
        }
    }
}

/// Where a [`Put`] is in its life.
enum PutState<T> {
    /// Not polled yet; still owns its item.
    Init(T),
    /// Parked under this id; the item sits in the waiter entry.
    Parked(u64),
    /// Returned `Ready`: the item is in the queue.
    Done,
}

// `Put` never pins its item (it only moves it), so it is `Unpin` whatever
// `T` is. This is a safe impl: `Unpin` promises nothing unsafe code relies on.
impl<T> Unpin for Put<'_, T> {}

impl<T> Future for Put<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut inner = lock(&this.queue.shared);
        match std::mem::replace(&mut this.state, PutState::Done) {
            PutState::Init(item) => {
                if inner.is_full() {
                    let id = inner.putters.push(ParkedPut {
                        item,
                        waker: cx.waker().clone(),
                    });
                    this.state = PutState::Parked(id);
                    return Poll::Pending;
                }
                debug_assert!(
                    inner.putters.is_empty(),
                    "putters parked on a queue with room"
                );
                let getter = inner.enqueue(item);
                drop(inner);
                wake(getter);
                Poll::Ready(())
            }
            PutState::Parked(id) => match inner.putters.get_mut(id) {
                Some(parked) => {
                    refresh_waker(&mut parked.waker, cx.waker());
                    this.state = PutState::Parked(id);
                    Poll::Pending
                }
                // Entry gone: `refill` moved our item in on our behalf.
                None => Poll::Ready(()),
            },
            PutState::Done => Poll::Ready(()),
        }
    }
}

impl<T> Put<'_, T> {
    /// Dropped while parked under `id`. Still parked: take our item back
    /// out and drop it after the guard (its `Drop` may use the queue).
    /// Already granted: nothing to undo.
    fn cancel(&self, id: u64) {
        let removed = lock(&self.queue.shared).putters.remove(id);
        drop(removed);
    }
}

impl<T> Drop for Put<'_, T> {
    // Inlined so that the usual case, a put that completed, costs one check.
    #[inline]
    fn drop(&mut self) {
        if let PutState::Parked(id) = self.state {
            self.cancel(id);
        }
    }
}

impl<T> fmt::Debug for Put<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put").finish_non_exhaustive()
    }
}

/// The future returned by [`Queue::get`].
///
/// # Panics
///
/// Polling it again after it returned the item panics.
///
/// # Cancellation
///
/// See [`Queue::get`]: an item handed to it is never lost.
///
/// # Examples
///
/// ```
/// use spindle_primitives::queue::{Get, Queue};
///
/// let queue = Queue::new();
/// queue.put_nowait(42).unwrap();
/// let get: Get<'_, i32> = queue.get();
/// assert_eq!(futures_executor::block_on(get), 42);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Get<'a, T> {
    queue: &'a Queue<T>,
    state: GetState,
}

impl<'a, T> Get<'a, T> {
    pub(super) fn new(queue: &'a Queue<T>) -> Self {
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

impl<T> Future for Get<'_, T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let queue = self.queue;
        let mut inner = lock(&queue.shared);
        let item = match self.state {
            GetState::Init => match inner.items.pop_front() {
                Some(item) => item,
                None => {
                    let id = inner.getters.push(cx.waker().clone());
                    drop(inner);
                    self.state = GetState::Parked(id);
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

impl<T> Get<'_, T> {
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
        // Released: an item was handed to us. It was older than anything
        // in the deque, so it goes to the next getter or back to the front.
        // The slot it occupies stays occupied.
        let next = match inner.handed.remove(id) {
            Some(item) => inner.route(item, End::Front),
            None => None,
        };
        drop(inner);
        wake(next);
    }
}

impl<T> Drop for Get<'_, T> {
    // Inlined so that the usual case, a get that completed, costs one check.
    #[inline]
    fn drop(&mut self) {
        if let GetState::Parked(id) = self.state {
            self.cancel(id);
        }
    }
}

impl<T> fmt::Debug for Get<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get").finish_non_exhaustive()
    }
}

/// The future returned by [`Queue::join`].
///
/// # Cancellation
///
/// Dropping it leaves nothing behind.
///
/// # Examples
///
/// ```
/// use spindle_primitives::queue::{Join, Queue};
///
/// let queue = Queue::new();
/// queue.put_nowait(()).unwrap();
/// queue.get_nowait().unwrap();
/// queue.task_done().unwrap();
/// let join: Join<'_, ()> = queue.join();
/// futures_executor::block_on(join); // every item is done
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Join<'a, T> {
    queue: &'a Queue<T>,
    state: JoinState,
}

impl<'a, T> Join<'a, T> {
    pub(super) fn new(queue: &'a Queue<T>) -> Self {
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

impl<T> Future for Join<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let queue = self.queue;
        let mut inner = lock(&queue.shared);
        match self.state {
            JoinState::Init if inner.unfinished > 0 => {
                let id = inner.joiners.push(cx.waker().clone());
                drop(inner);
                self.state = JoinState::Parked(id);
                return Poll::Pending;
            }
            JoinState::Parked(id) => {
                if let Some(waker) = inner.joiners.get_mut(id) {
                    refresh_waker(waker, cx.waker());
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

impl<T> Drop for Join<'_, T> {
    fn drop(&mut self) {
        if let JoinState::Parked(id) = self.state {
            let removed = lock(&self.queue.shared).joiners.remove(id);
            drop(removed);
        }
    }
}

impl<T> fmt::Debug for Join<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join").finish_non_exhaustive()
    }
}
