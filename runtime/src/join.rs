//! [`JoinHandle`], the future that resolves to a task's result (or a
//! [`JoinError`], `error.rs`).
//!
//! A handle is asyncio's `Task` object seen from outside: await it for the
//! result, [`cancel`](JoinHandle::cancel) it, or drop it to let the task run
//! on detached (asyncio keeps tasks alive the same way only while referenced;
//! spindle keeps them alive until they finish or the runtime shuts down).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::context;
use crate::error::JoinError;
use crate::mailbox::Remote;
use crate::observe::{self, Arg, WaitOn};
use crate::task::{OwnedTaskRef, TaskRef};

/// What a task awaiting a `JoinHandle` waits on: `task 5 (consumer)`. The
/// dump's awaited-by edges are these records.
pub(crate) static AWAITS: WaitOn = WaitOn::new("JoinHandle", "join", Arg::Task);

/// An owned permission to await, cancel or detach a spawned task.
///
/// Resolves to `Ok(output)`, or `Err(JoinError)` if the task panicked or was
/// cancelled.
///
/// # Examples
///
/// ```
/// let answer = spindle::run(async {
///     let handle = spindle::spawn(async { 6 * 7 });
///     handle.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
///
/// # Cancellation
///
/// Dropping a `JoinHandle` does *not* cancel the task: it detaches it, and the
/// task runs to completion (or until the runtime shuts down). Use
/// [`cancel`](JoinHandle::cancel) to stop it.
pub struct JoinHandle<T> {
    task: TaskRef,
    _output: PhantomData<T>,
}

// SAFETY: the handle only uses the atomic join protocol of the header (any
// thread) and reads or drops the output `T`, which is why `T: Send` is
// required; the future itself is never touched through a handle.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` offers `is_finished` (an atomic load) and `cancel`
// (a message to the owner thread or an owner-thread call); neither touches `T`.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    ///
    /// `task` was just created by `TaskRef::new` for a future whose output is
    /// `T`, and the handle takes over its `HANDLE` reference.
    pub(crate) unsafe fn new(task: TaskRef) -> JoinHandle<T> {
        JoinHandle {
            task,
            _output: PhantomData,
        }
    }

    /// Cancels the task: its future is dropped promptly, without being polled
    /// again, and the handle then resolves to `Err(e)` with `e.is_cancelled()`.
    /// On the runtime's own thread the future is dropped before `cancel`
    /// returns (or, if the task cancels itself, as soon as its poll returns);
    /// from another thread, at the runtime's next turn. A task that already
    /// finished keeps its result. Like asyncio's `Task.cancel()`.
    pub fn cancel(&self) {
        let task = self.task;
        let shared = &task.header().shared;
        if context::with_runtime(shared.id, |core| core.cancel(task)).is_none() {
            task.add_reference();
            // SAFETY: the reference just added belongs to the message.
            let message = Remote::Cancel(unsafe { OwnedTaskRef::from_owned(task) });
            shared.send(message);
        }
    }

    /// Whether the task has finished (returned, panicked or been cancelled),
    /// so that awaiting the handle would not wait.
    pub fn is_finished(&self) -> bool {
        self.task.is_complete()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: this handle's task has output `T` (constructor's contract) and `out` is
        // a `Poll<Result<T, JoinError>>`.
        unsafe {
            self.task
                .poll_join(cx.waker(), &mut out as *mut _ as *mut ())
        };
        if out.is_pending() {
            record_wait(self.task.header());
        }
        out
    }
}

/// The awaiting task now waits on `header`'s task. Out of line: the
/// handle's poll stays small enough to inline where it is `Ready`.
#[cold]
#[inline(never)]
fn record_wait(header: &crate::task::Header) {
    // The awaited task's id is the owner thread's to read: only when this
    // is that thread, inside that runtime.
    context::with_runtime(header.shared.id, |core| {
        observe::record(core, &AWAITS, header.id.get())
    });
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: the handle's one and only drop.
        unsafe { self.task.drop_handle() }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}
