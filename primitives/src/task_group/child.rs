//! A child of a task group from both sides: the [`ChildHandle`] that
//! `spawn` returns to the caller, and the `ChildTask` the group polls.
//!
//! The two share a *slot* (`Rc<Slot<U>>`): the child's state, `Running`
//! until it ends, then `Ended` with its result. The `ChildTask` wraps the
//! user's future and writes the slot:
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
//! The handle's waker is not woken on the spot: it is handed to the group,
//! which wakes all such wakers at the end of its poll, once its own state
//! is complete. Waking is executor code and may panic; done inside the
//! child's poll, that panic would pass for the child's own.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use super::error::{Failure, PanicPayload};
use super::Shared;
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
    slot: Rc<Slot<U>>,
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

/// What a child's handle and its task share.
pub(super) struct Slot<U> {
    state: RefCell<SlotState<U>>,
}

enum SlotState<U> {
    /// The child has not ended; `waiter` is the waker of a pending `.await`
    /// on the handle.
    Running { waiter: Option<Waker> },
    /// The child ended with this result, not taken yet.
    Ended(Result<U, ChildError>),
    /// The handle took the result.
    Taken,
}

impl<U> ChildHandle<U> {
    /// A handle for a child that will never run.
    pub(super) fn not_started() -> ChildHandle<U> {
        ChildHandle {
            slot: Rc::new(Slot {
                state: RefCell::new(SlotState::Ended(Err(ChildError::NotStarted))),
            }),
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
        !matches!(*self.slot.state.borrow(), SlotState::Running { .. })
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
    pub fn result(self) -> Result<U, ChildError> {
        let mut state = self.slot.state.borrow_mut();
        match std::mem::replace(&mut *state, SlotState::Taken) {
            SlotState::Ended(result) => result,
            SlotState::Running { .. } => {
                panic!("`ChildHandle::result` on a child that is still running")
            }
            SlotState::Taken => panic!("`ChildHandle::result`: the result was already taken"),
        }
    }
}

impl<U> Future for ChildHandle<U> {
    type Output = Result<U, ChildError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<U, ChildError>> {
        let mut state = self.slot.state.borrow_mut();
        match &mut *state {
            SlotState::Running { waiter } => {
                match waiter {
                    Some(waiter) => refresh_waker(waiter, cx.waker()),
                    None => *waiter = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            SlotState::Ended(_) => match std::mem::replace(&mut *state, SlotState::Taken) {
                SlotState::Ended(result) => Poll::Ready(result),
                _ => unreachable!("matched `Ended` just above"),
            },
            SlotState::Taken => panic!("`ChildHandle` polled after completion"),
        }
    }
}

impl<U> fmt::Debug for ChildHandle<U> {
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
    pub(super) struct ChildTask<F, U, E> {
        // Declared first: dropped before `ticket` marks the slot cancelled.
        #[pin]
        future: F,
        ticket: Ticket<U, E>,
    }
}

/// The child's side of its slot. Its `Drop` marks a child that never ended
/// as cancelled.
struct Ticket<U, E> {
    slot: Rc<Slot<U>>,
    /// The group, whose list of wakers to wake gets the handle's waker.
    group: Rc<Shared<E>>,
}

/// Makes the child task for `future`, and the handle that goes with it.
pub(super) fn new_child<F, U, E>(future: F, group: Rc<Shared<E>>) -> (BoxedChild<E>, ChildHandle<U>)
where
    F: Future<Output = Result<U, E>> + 'static,
    U: 'static,
    E: 'static,
{
    let slot = Rc::new(Slot {
        state: RefCell::new(SlotState::Running { waiter: None }),
    });
    let task = ChildTask {
        future,
        ticket: Ticket {
            slot: Rc::clone(&slot),
            group,
        },
    };
    (Box::pin(task), ChildHandle { slot })
}

impl<U, E> Ticket<U, E> {
    /// Writes the child's result to the slot and passes the handle's waker
    /// to the group, to be woken at the end of its poll.
    fn end(&self, result: Result<U, ChildError>) {
        let waiter = {
            let mut state = self.slot.state.borrow_mut();
            match std::mem::replace(&mut *state, SlotState::Ended(result)) {
                SlotState::Running { waiter } => waiter,
                _ => unreachable!("a child ends once"),
            }
        };
        if let Some(waiter) = waiter {
            self.group.wake_later(waiter);
        }
    }
}

impl<U, E> Drop for Ticket<U, E> {
    fn drop(&mut self) {
        let running = matches!(*self.slot.state.borrow(), SlotState::Running { .. });
        if running {
            self.end(Err(ChildError::Cancelled));
        }
    }
}

impl<F, U, E> Future for ChildTask<F, U, E>
where
    F: Future<Output = Result<U, E>>,
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
                this.ticket.end(Err(ChildError::Failed));
                Poll::Ready(Err(Failure::Error(error)))
            }
            Err(payload) => {
                this.ticket.end(Err(ChildError::Panicked));
                Poll::Ready(Err(Failure::Panic(PanicPayload::new(payload))))
            }
        }
    }
}
