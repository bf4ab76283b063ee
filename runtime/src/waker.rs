//! The `Waker` of a task: a pointer to the task allocation plus the
//! hand-written [`RawWakerVTable`] below.
//!
//! A wake has two paths, chosen by *where* it happens:
//!
//! - **Local** — on the owner thread, while its runtime is running (the
//!   thread-local "current runtime" is the task's runtime): the task is pushed
//!   straight onto the ready queue by [`Core::schedule`]. No lock, no atomic
//!   read-modify-write, no syscall.
//! - **Remote** — anywhere else (another thread, or the owner thread while the
//!   runtime is not inside `block_on`): the wake becomes a message in the
//!   runtime's mailbox, and the loop is roused if it is blocked in the
//!   reactor ([`Shared::wake_remote`]).
//!
//! Cloning adds a reference and dropping removes one; those are atomic because
//! a clone may be dropped on any thread. Polling needs no clone at all: the
//! executor lends each poll a waker that borrows the owner reference
//! ([`with_borrowed_waker`]).
//!
//! [`Core::schedule`]: crate::executor::Core::schedule
//! [`Shared::wake_remote`]: crate::mailbox::Shared::wake_remote

use std::mem::ManuallyDrop;
use std::task::{RawWaker, RawWakerVTable, Waker};

use crate::context;
use crate::task::TaskRef;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// Calls `f` with a waker for `task` that does not own a reference. The task
/// must be kept alive by the caller (the executor's owner reference) for the
/// duration; a clone made by `f` takes a reference of its own.
pub(crate) fn with_borrowed_waker<R>(task: TaskRef, f: impl FnOnce(&Waker) -> R) -> R {
    // SAFETY: the data pointer is a live task and the vtable's functions treat it as
    // one; ManuallyDrop keeps `drop_waker` from releasing a reference we do not own.
    let waker =
        ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(task.as_ptr(), &VTABLE)) });
    f(&waker)
}

/// Wakes `task`: the local path when the current runtime owns it, the remote
/// path otherwise.
pub(crate) fn wake_task(task: TaskRef) {
    let owner = &task.header().shared;
    if context::with_runtime(owner.id, |core| core.schedule(task)).is_none() {
        owner.wake_remote(task);
    }
}

unsafe fn clone(ptr: *const ()) -> RawWaker {
    // SAFETY: `ptr` is the task of a live waker, which holds or borrows a reference.
    let task = unsafe { TaskRef::from_ptr(ptr) };
    task.add_reference();
    RawWaker::new(ptr, &VTABLE)
}

unsafe fn wake(ptr: *const ()) {
    // SAFETY: as in `clone`; this waker owns a reference, released just below.
    let task = unsafe { TaskRef::from_ptr(ptr) };
    wake_task(task);
    // SAFETY: the reference owned by the waker being consumed.
    unsafe { task.drop_reference() };
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: as in `clone`.
    wake_task(unsafe { TaskRef::from_ptr(ptr) });
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: as in `clone`; the reference owned by the waker being dropped.
    unsafe { TaskRef::from_ptr(ptr).drop_reference() };
}
