//! A child of a task group from both sides: the [`ChildHandle`] that
//! `spawn` returns to the caller, and the `ChildTask` the group polls.
//!
//! The two meet in a *result slot*: the child's state, `Running` until it
//! ends, then `Ended` with its result. The slots of all of a group's
//! children live in one table, [`Results`], shared by the group, its
//! children's tasks and their handles — rather than one shared allocation
//! per child: a group of a thousand children that return `()` then costs
//! one growing `Vec` (kept for the next group, `spare.rs`), not a thousand
//! allocations. A value is stored as a `Box<dyn Any>` (the children's
//! value types differ) only if its handle still exists to take it, and
//! that allocates nothing for `()` or any other zero-sized type.
//!
//! A slot has two users, the handle and the child's `Ticket`, and is
//! freed (for the next child) when both have let go — the handle dropped
//! or its result taken, the child ended or dropped — so an index is never
//! reused while either side still holds it.
//!
//! The `ChildTask` wraps the user's future and writes the slot:
//!
//! - `Ok(value)`: the value goes to the slot, for the handle; the group
//!   only learns that the child ended.
//! - `Err(error)`: the slot says [`ChildError::Failed`]; the error itself
//!   goes to the group, which fails with it (it cannot be in both places
//!   without `E: Clone`).
//! - a panic (caught around that one poll): the slot says `Panicked`, the
//!   payload goes to the group.
//! - dropped before it ended (the group cancelled it): the slot says
//!   `Cancelled`. That is the `Ticket`'s `Drop`, which runs after the
//!   user's future was dropped (fields drop in order), so whoever awaits
//!   the handle sees the child's cleanup done.
//!
//! The handle's waker is not woken on the spot: it is put on the table's
//! list, which the group wakes at the end of its poll, once its own state
//! is complete. Waking is executor code and may panic; done inside the
//! child's poll, that panic would pass for the child's own.
//!
//! No value is dropped and no waker woken while the table is borrowed:
//! they are taken out first and dropped (or woken) after the borrow ends,
//! so a value's `Drop` may spawn or await another child. (Registering a
//! handle's waker clones it inside the borrow; a waker's clone is executor
//! code, which has no business with a task group.)

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use super::error::{Failure, PanicPayload};
use super::spare;
use crate::waiters::refresh_waker;

/// The handle of a task group's child, returned by
/// [`TaskGroup::spawn`](crate::TaskGroup::spawn) — what asyncio's
/// `tg.create_task` returns.
///
/// - `.await` waits for the child to end and gives its value, or why it
///   has none ([`ChildError`]). Awaiting inside the group's body (or in a
///   sibling) works, as asyncio's `await task` inside the `async with`
///   does: the group polls the child meanwhile.
/// - [`result`](Self::result) gives it without waiting, once the child has
///   ended — for after the group, as asyncio's `task.result()`.
///
/// Dropping the handle leaves the child running; its value is dropped
/// when it ends. Not `Send`: it lives on the group's thread.
///
/// # Cancellation
///
/// A `.await` on it that is dropped before `Ready` leaves nothing behind:
/// the child runs on, and another `.await` or `result()` still gets the
/// value.
///
/// # Examples
///
/// ```
/// use spindle::task_group;
///
/// let (a, b) = futures_executor::block_on(task_group(|group| async move {
///     let a = group.spawn(async { Ok::<_, ()>("a") });
///     let b = group.spawn(async { Ok("b") });
///     Ok((a, b)) // hand the handles out of the group
/// }))
/// .unwrap();
/// assert_eq!((a.result(), b.result()), (Ok("a"), Ok("b")));
/// ```
pub struct ChildHandle<U> {
    link: Link,
    /// The value's type, without owning one (so `U` decides no auto trait).
    _value: PhantomData<fn() -> U>,
}

/// Where a handle finds its child's result.
enum Link {
    /// The child's slot in its group's table.
    Slot(Rc<Results>, usize),
    /// The child never started; nothing to look up.
    NotStarted,
    /// The result was taken (the handle was awaited to the end).
    Taken,
}

/// Why a [`ChildHandle`] has no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildError {
    /// The child returned `Err`; the error is in the group's
    /// [`GroupError`](crate::GroupError).
    Failed,
    /// The child panicked; the payload is in the group's `GroupError`.
    Panicked,
    /// The group cancelled the child (dropped it before it ended), because
    /// another member failed or the group itself was dropped.
    Cancelled,
    /// `spawn` was called on a group that was failing or had ended: the
    /// future was dropped without being polled (asyncio's `create_task`
    /// raises `RuntimeError` there).
    NotStarted,
}

/// The result slots of a group's children, and the wakers to wake at the
/// end of the group's poll.
pub(super) struct Results {
    inner: RefCell<Table>,
}

#[derive(Default)]
pub(super) struct Table {
    slots: Vec<Slot>,
    /// Indices of free slots.
    free: Vec<usize>,
    /// Wakers of handles whose child ended, for the group to wake.
    to_wake: Vec<Waker>,
}

/// One child's result slot. Its life: `open` makes it `Running` with a
/// handle; the handle's drop and the child's end each move it one step
/// (in either order) until it is `Free` again.
enum Slot {
    /// On the free list.
    Free,
    /// The child has not ended. `handle`: its handle still exists;
    /// `waiter`: the waker of a pending `.await` on that handle.
    Running { waiter: Option<Waker>, handle: bool },
    /// The child ended with this result, kept for its handle (which
    /// exists: a child whose handle is gone frees its slot as it ends).
    Ended(Result<Box<dyn Any>, ChildError>),
}

impl Results {
    /// An empty table, on a spare buffer if this thread has one.
    pub(super) fn new() -> Results {
        Results {
            inner: RefCell::new(spare::take()),
        }
    }

    /// A slot for a new child, which has a handle.
    #[inline]
    fn open(&self) -> usize {
        let mut table = self.inner.borrow_mut();
        let slot = Slot::Running {
            waiter: None,
            handle: true,
        };
        match table.free.pop() {
            Some(index) => {
                table.slots[index] = slot;
                index
            }
            None => {
                table.slots.push(slot);
                table.slots.len() - 1
            }
        }
    }

    /// The wakers to wake now that the group's state is complete.
    pub(super) fn take_wakers(&self) -> Vec<Waker> {
        std::mem::take(&mut self.inner.borrow_mut().to_wake)
    }
}

impl Drop for Results {
    fn drop(&mut self) {
        spare::give(std::mem::take(self.inner.get_mut()));
    }
}

impl spare::Buffer for Table {
    fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    fn clear(&mut self) {
        // Values nobody took and wakers nobody woke: dropped here, outside
        // any borrow of the table (it is out of its `RefCell`).
        self.slots.clear();
        self.free.clear();
        self.to_wake.clear();
    }
}

impl Table {
    /// Frees slot `index` and returns what it held, for the caller to drop
    /// after the borrow.
    #[inline]
    fn free(&mut self, index: usize) -> Slot {
        self.free.push(index);
        std::mem::replace(&mut self.slots[index], Slot::Free)
    }

    /// The handle of slot `index` goes away without taking the result.
    #[inline]
    fn drop_handle(&mut self, index: usize) -> Slot {
        match &mut self.slots[index] {
            Slot::Running { waiter, handle } => {
                *handle = false;
                Slot::Running {
                    waiter: waiter.take(),
                    handle: false,
                }
            }
            Slot::Ended(_) => self.free(index),
            Slot::Free => unreachable!("a handle's slot is never free"),
        }
    }

    /// The child of slot `index` ended with `result`: kept for its handle
    /// (whose waker is queued), or given back if the handle is gone —
    /// boxed only when it is kept.
    #[inline]
    fn end<U: 'static>(
        &mut self,
        index: usize,
        result: Result<U, ChildError>,
    ) -> Option<Result<U, ChildError>> {
        match &mut self.slots[index] {
            Slot::Running { handle: false, .. } => {
                self.free.push(index);
                self.slots[index] = Slot::Free;
                Some(result)
            }
            Slot::Running {
                waiter,
                handle: true,
            } => {
                if let Some(waiter) = waiter.take() {
                    self.to_wake.push(waiter);
                }
                self.slots[index] =
                    Slot::Ended(result.map(|value| Box::new(value) as Box<dyn Any>));
                None
            }
            _ => unreachable!("a child ends once"),
        }
    }
}

impl<U: 'static> ChildHandle<U> {
    /// A handle for a child that will never run.
    pub(super) fn not_started() -> ChildHandle<U> {
        ChildHandle {
            link: Link::NotStarted,
            _value: PhantomData,
        }
    }

    /// Whether the child has ended (or never started).
    ///
    /// # Examples
    ///
    /// ```
    /// let handle = futures_executor::block_on(spindle::task_group(|group| async move {
    ///     Ok::<_, ()>(group.spawn(async { Ok(1) }))
    /// }))
    /// .unwrap();
    /// assert!(handle.is_finished()); // the group waited for it
    /// ```
    pub fn is_finished(&self) -> bool {
        match &self.link {
            Link::Slot(results, index) => {
                !matches!(results.inner.borrow().slots[*index], Slot::Running { .. })
            }
            Link::NotStarted | Link::Taken => true,
        }
    }

    /// The child's value, without waiting: asyncio's `task.result()`, for
    /// when the child has ended — always the case once its group has
    /// returned.
    ///
    /// # Errors
    ///
    /// Why the child has no value: it failed, panicked, was cancelled, or
    /// never started ([`ChildError`]).
    ///
    /// # Panics
    ///
    /// If the child is still running (asyncio raises `InvalidStateError`);
    /// check [`is_finished`](Self::is_finished), or `.await` the handle.
    /// If the value was already taken by awaiting the handle.
    ///
    /// # Examples
    ///
    /// ```
    /// let handle = futures_executor::block_on(spindle::task_group(|group| async move {
    ///     Ok::<_, ()>(group.spawn(async { Ok(2) }))
    /// }))
    /// .unwrap();
    /// assert_eq!(handle.result(), Ok(2));
    /// ```
    pub fn result(mut self) -> Result<U, ChildError> {
        match self.take_result() {
            Some(result) => result,
            None => panic!("`ChildHandle::result` on a child that is still running"),
        }
    }

    /// The result if the child has ended, taking it (the handle is done
    /// with its slot then); `None` while it runs.
    fn take_result(&mut self) -> Option<Result<U, ChildError>> {
        let taken = match &self.link {
            Link::Slot(results, index) => {
                let mut table = results.inner.borrow_mut();
                if let Slot::Running { .. } = table.slots[*index] {
                    return None;
                }
                table.free(*index)
            }
            Link::NotStarted => Slot::Ended(Err(ChildError::NotStarted)),
            Link::Taken => panic!("`ChildHandle`: the result was already taken"),
        };
        self.link = Link::Taken; // drops our `Rc`, after the borrow
        let Slot::Ended(result) = taken else {
            unreachable!("an ended child's slot holds its result until taken");
        };
        Some(result.map(|value| {
            *value
                .downcast::<U>()
                .expect("a child's slot holds a value of its handle's type")
        }))
    }
}

impl<U: 'static> Future for ChildHandle<U> {
    type Output = Result<U, ChildError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<U, ChildError>> {
        if let Link::Slot(results, index) = &self.link {
            let mut table = results.inner.borrow_mut();
            if let Slot::Running { waiter, .. } = &mut table.slots[*index] {
                match waiter {
                    Some(waiter) => refresh_waker(waiter, cx.waker()),
                    None => *waiter = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            }
        }
        match &self.link {
            Link::Taken => panic!("`ChildHandle` polled after completion"),
            _ => Poll::Ready(self.take_result().expect("the child has ended")),
        }
    }
}

impl<U> Drop for ChildHandle<U> {
    fn drop(&mut self) {
        if let Link::Slot(results, index) = &self.link {
            let left = results.inner.borrow_mut().drop_handle(*index);
            drop(left); // a value or waker nobody took: dropped after the borrow
        }
    }
}

impl<U: 'static> fmt::Debug for ChildHandle<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildHandle")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChildError::Failed => "the child failed (its error is in the group's error)",
            ChildError::Panicked => "the child panicked (the payload is in the group's error)",
            ChildError::Cancelled => "the child was cancelled",
            ChildError::NotStarted => "the group was failing or had ended: the child never started",
        })
    }
}

impl std::error::Error for ChildError {}

/// A spawned child as the group sees it: a future of `Ok(())` when the
/// child ended well (its value went to the handle), or the [`Failure`].
pub(super) type BoxedChild<E> = Pin<Box<dyn Future<Output = Result<(), Failure<E>>>>>;

pin_project! {
    /// The user's future and its side of the slot. Polled with panics
    /// caught, so a panicking child is a failure of the group, not of the
    /// task that polls the group.
    pub(super) struct ChildTask<F> {
        // Declared first: dropped before `ticket` marks the slot cancelled.
        #[pin]
        future: F,
        ticket: Ticket,
    }
}

/// The child's side of its slot. Its `Drop` marks a child that never ended
/// as cancelled, and lets the slot go.
struct Ticket {
    results: Rc<Results>,
    index: usize,
    /// The child has written its result.
    ended: bool,
}

/// Makes the child task for `future`, and the handle that goes with it.
pub(super) fn new_child<F, U, E>(
    future: F,
    results: &Rc<Results>,
) -> (BoxedChild<E>, ChildHandle<U>)
where
    F: Future<Output = Result<U, E>> + 'static,
    U: 'static,
    E: 'static,
{
    let index = results.open();
    let task = ChildTask {
        future,
        ticket: Ticket {
            results: Rc::clone(results),
            index,
            ended: false,
        },
    };
    let handle = ChildHandle {
        link: Link::Slot(Rc::clone(results), index),
        _value: PhantomData,
    };
    (Box::pin(task), handle)
}

impl Ticket {
    /// Writes the child's result to its slot — or drops it, if the handle
    /// is gone — and queues the handle's waker for the group to wake.
    #[inline]
    fn end<U: 'static>(&mut self, result: Result<U, ChildError>) {
        self.ended = true;
        let unwanted = self.results.inner.borrow_mut().end(self.index, result);
        drop(unwanted); // a value nobody will take: dropped after the borrow
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.ended {
            self.end::<()>(Err(ChildError::Cancelled));
        }
    }
}

impl<F, U, E> Future for ChildTask<F>
where
    F: Future<Output = Result<U, E>>,
    U: 'static,
{
    type Output = Result<(), Failure<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Failure<E>>> {
        let this = self.project();
        // `AssertUnwindSafe`: after a panic the future is never polled
        // again (the group drops it), so no broken state can be observed.
        let polled = panic::catch_unwind(AssertUnwindSafe(|| this.future.poll(cx)));
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(Ok(value))) => {
                this.ticket.end(Ok(value));
                Poll::Ready(Ok(()))
            }
            Ok(Poll::Ready(Err(error))) => {
                this.ticket.end::<U>(Err(ChildError::Failed));
                Poll::Ready(Err(Failure::Error(error)))
            }
            Err(payload) => {
                this.ticket.end::<U>(Err(ChildError::Panicked));
                Poll::Ready(Err(Failure::Panic(PanicPayload::new(payload))))
            }
        }
    }
}
