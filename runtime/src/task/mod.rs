//! The task: one heap allocation holding a spawned future, its output, and
//! the bookkeeping that the executor, wakers and the `JoinHandle` share.
//!
//! # Vocabulary
//!
//! - **Task**: a spawned future plus its [`Header`], allocated once by
//!   [`TaskRef::new`] and freed when the last reference goes (into the
//!   runtime's cache of task blocks when that happens on its thread:
//!   `recycle.rs`).
//! - **Owner thread**: the thread of the runtime that spawned the task. The
//!   future is only ever polled *and dropped* there (see "Why `!Send` futures
//!   are sound" below).
//! - **Reference**: a right to keep the allocation alive. Every `Waker`, the
//!   `JoinHandle` and the runtime itself ("the owner reference") each hold one;
//!   the count lives in the upper bits of [`Header::state`].
//! - **Stage**: what the allocation holds right now: the future, its output,
//!   or nothing ([`Stage`]).
//!
//! # Two state words, split by who may touch them
//!
//! A task has two kinds of state, and keeping them apart is what makes the
//! hot path cheap:
//!
//! - [`Header::lifecycle`] is a plain `Cell<u8>` that only the owner thread
//!   reads or writes: is the task in the ready queue, is it being polled, is
//!   its future gone. Scheduling a task from its own thread is therefore a
//!   load, a store and a push: no atomic read-modify-write, no lock, no
//!   syscall.
//! - [`Header::state`] is an `AtomicUsize` for everything another thread may
//!   see: the reference count and the three join bits (`COMPLETE`, `HANDLE`,
//!   `JOIN_WAKER`) that let a `JoinHandle` living on any thread read the
//!   output safely.
//!
//! A wake from another thread never touches `lifecycle`: it sends the task
//! through the runtime's mailbox (a `crossbeam-channel`), and the owner thread
//! schedules it when it drains the mailbox (`executor.rs`).
//!
//! # Lifecycle (owner thread)
//!
//! ```text
//!            (1) spawn                  (2) run_task pops it
//!   ───────────────────────▶ SCHEDULED ─────────────────────▶ RUNNING
//!                               ▲   ▲                          │  │ │
//!               (3) wake        │   │ (4) woken while running:  │  │ │
//!       (Waker::wake → schedule)│   └── re-queued after poll ───┘  │ │
//!                               │                                  │ │
//!                             IDLE ◀──── (5) poll → Pending ────────┘ │
//!                               │                                    │
//!            (7) cancel /       │                  (6) poll → Ready  │
//!             shutdown          ▼                  or panic          ▼
//!                             DONE ◀───────────────────────────────────
//! ```
//!
//! 1. `TaskRef::new`, then `Core::spawn` (directly, or from a mailbox `Spawn`):
//!    the task is queued and becomes `SCHEDULED`.
//! 2. `Core::run_task`: clears `SCHEDULED`, sets `RUNNING`, polls.
//! 3. `Core::schedule` (local wake or a drained remote wake): an `IDLE` task
//!    becomes `SCHEDULED`; a task that is already `SCHEDULED` or `DONE` is left
//!    alone, so one wake never queues a task twice.
//! 4. A wake during the poll sets `SCHEDULED` while `RUNNING`; the task is
//!    already at the back of the ready queue when the poll returns.
//! 5. `Pending`: `RUNNING` is cleared.
//! 6. `Ready` (or a caught panic): the future is dropped in place, the output
//!    stored, `COMPLETE` published; the task is `DONE` for good.
//! 7. `JoinHandle::cancel` or runtime shutdown: the future is dropped without
//!    being polled again and the output becomes a cancelled `JoinError`.
//!
//! `DONE` tasks are unlinked from the runtime's task list. A `DONE` task may
//! still sit in the ready queue (it was woken during its last poll); the
//! executor skips it when it pops it.
//!
//! # The owner reference
//!
//! While a task is live (not `DONE`) or queued, the runtime holds one
//! reference for it. It is released with the only atomic decrement the owner
//! thread does per task, when the task is both `DONE` and out of the ready
//! queue ([`Header::release_owner_if_idle`]). A queue entry therefore needs no
//! reference of its own.
//!
//! # Why `!Send` futures are sound
//!
//! `spawn` accepts futures that are not `Send`. That is sound because the
//! future is touched in exactly three places, all on the owner thread:
//! `run_task` (poll), `cancel_now` (drop), and shutdown (drop). (A fourth,
//! `PendingSpawn::drop` in `mailbox.rs`, drops the future of a task whose
//! `Handle::spawn` message never reached its runtime, on whatever thread
//! drops the message: sound because `Handle::spawn` requires the future to
//! be `Send`, and because no runtime ever saw that task.) The owner
//! reference is only released after the future has been dropped, so the last
//! reference, which may be released on any thread, frees an allocation whose
//! stage is already empty. The output is dropped either by the owner thread or
//! by the `JoinHandle`, and a `JoinHandle<T>` only crosses threads when
//! `T: Send`. Cross-thread wakes and cancels are messages, not calls.
//!
//! # One allocation, a hand-written vtable
//!
//! `Task<F>` is `#[repr(C)]` with the header first, so a `*const Header` is
//! also a `*const Task<F>`; the [`Vtable`] built for each `F` recovers the
//! type. Every `Waker` points at the same allocation, so waking never
//! allocates, and polling lends the future a waker without touching the
//! reference count. The allocation is kept small on purpose: an empty task
//! is 104 bytes, inside glibc's fastbin size class, which took spawning
//! 100 000 tasks from 812 to 672 instructions per task under callgrind (see
//! the size test at the bottom). Most blocks then never reach the allocator
//! again: `recycle.rs` hands a freed task's block to the next spawn.
//!
//! The alternative, `futures-task`'s `ArcWake` with `waker_ref`, was measured
//! against this design on two minimal executors that differ only in the waker
//! (`benches/waker.rs`, `cargo bench --bench waker`). The `ArcWake` task is an
//! `Arc`, its "scheduled" flag an `AtomicBool` (the trait requires
//! `Send + Sync`, so no `Cell`), and its queue entries `Arc<dyn _>`. Medians
//! of five runs on a shared, loaded 2-core AMD EPYC box, in ns per operation:
//!
//! | operation | vtable | `ArcWake` | `ArcWake` / vtable |
//! |---|---:|---:|---:|
//! | `yield`: a self-wake (`wake_by_ref`) and the poll it causes | 6.3 | 7.9 | 1.25 |
//! | `spawn`: spawn, poll once to completion, free | 18.5 | 20.9 | 1.13 |
//! | `clone_wake`: `clone().wake()` and the poll it causes | 7.3 | 8.8 | 1.20 |
//!
//! The vtable was ahead in fourteen of the fifteen pairs and level in the
//! fifteenth (per-run ratios 1.00 to 1.52). The two differ by one to two
//! nanoseconds per operation, and in little else than atomics and width:
//! `ArcWake` swaps the flag on every wake and moves `Arc`s through the queue
//! (an increment when queued, a decrement after the poll, 16-byte entries),
//! where this design checks a `Cell` and queues an 8-byte bare pointer.
//! spindle keeps the hand-written vtable: it is the faster one, and the rest
//! of this module is built on it (`lifecycle` as a `Cell`, bare-pointer queue
//! entries, `!Send` futures), none of which `ArcWake`, whose task must be
//! `Send + Sync`, allows without an `unsafe impl` and invariants the trait
//! cannot state.

use std::alloc::Layout;
use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::context;
use crate::error::JoinError;
use crate::mailbox::Shared;
use crate::recycle::{self, BlockCache};
use crate::report::{drop_payload, report_panic};
use crate::sync::AtomicBool;
use crate::wait::{compact, WaitOn};

mod state;
use state::State;

/// Bits of [`Header::lifecycle`], owner thread only.
pub(crate) mod lifecycle {
    /// In the ready queue. Implies the owner reference is held. May coexist
    /// with `RUNNING` (woken during its own poll) and with `DONE` (woken during
    /// its last poll; skipped when popped).
    pub(crate) const SCHEDULED: u8 = 1 << 0;
    /// Being polled right now. Never coexists with `DONE`.
    pub(crate) const RUNNING: u8 = 1 << 1;
    /// The future is gone (finished, panicked or cancelled). Final.
    pub(crate) const DONE: u8 = 1 << 2;
    /// `cancel` was called while `RUNNING` (the task cancelled itself): drop
    /// the future as soon as the poll returns.
    pub(crate) const CANCEL_AFTER_POLL: u8 = 1 << 3;
}

/// `Header::id` of a task not yet registered by its runtime: one spawned
/// through a `Handle` whose message has not been drained.
pub(crate) const UNREGISTERED: u64 = u64::MAX;

/// What the task allocation holds.
enum Stage<F: Future> {
    /// The future, structurally pinned: the allocation never moves.
    Running(F),
    /// The result, waiting for the `JoinHandle` to take it.
    Finished(Result<F::Output, JoinError>),
    /// Nothing: the result was taken or dropped.
    Consumed,
}

/// Type-erased operations on a `Task<F>`, one static table per future type.
pub(crate) struct Vtable {
    /// Polls the future once (panics are caught). `Ready` means the stage
    /// now holds the result and the future has been dropped; its value says
    /// whether the future panicked.
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<bool>,
    /// Drops the future and stores a cancelled `JoinError`; the flag says
    /// whether the cause is the runtime shutting down.
    cancel: unsafe fn(NonNull<Header>, bool),
    /// Moves the result into `*out`, a `*mut Poll<Result<T, JoinError>>`.
    read_output: unsafe fn(NonNull<Header>, out: *mut ()),
    /// Drops whatever the stage holds.
    drop_stage: unsafe fn(NonNull<Header>),
    /// Frees the allocation.
    dealloc: unsafe fn(NonNull<Header>),
}

/// The type-independent front of every task allocation.
#[repr(C)]
pub(crate) struct Header {
    /// Reference count, join bits and the join waker: the part any thread
    /// may touch (`state.rs`).
    state: State,
    /// `lifecycle::*` bits. Owner thread only.
    lifecycle: Cell<u8>,
    /// A cross-thread wake for this task is in the mailbox and not yet
    /// drained: further remote wakes need not send another message. Any
    /// thread.
    pub(crate) remote_queued: AtomicBool,
    /// What the task waits on (`wait.rs`): the `WaitOn`'s index, 0 for
    /// nothing, and its number. Written by the leaf future that returned
    /// `Pending` during the task's last poll, cleared before each poll;
    /// they fill the padding the two flags above leave. Owner thread only.
    wait_on: Cell<u16>,
    wait_arg: Cell<u32>,
    /// The runtime the task belongs to: its mailbox, for wakes from other
    /// threads. Keeping it here is what lets a `Waker` outlive the runtime.
    pub(crate) shared: Arc<Shared>,
    /// Links of the runtime's list of live tasks. Owner thread only.
    pub(crate) links: Cell<(Option<TaskRef>, Option<TaskRef>)>,
    /// Number in spawn order, assigned when the owner registers the task
    /// ([`UNREGISTERED`] until then); shown in traces and `JoinError`. Owner
    /// thread only.
    pub(crate) id: Cell<u64>,
    /// Name given to `spawn_named`. A thin pointer (a boxed `String`, not a
    /// `Box<str>`): 8 bytes instead of 16, paid for by a second allocation
    /// for named tasks only, so that the spawn location fits beside it in
    /// the 16 bytes a `Box<str>` took (the size test below).
    #[allow(clippy::box_collection)] // on purpose: the thin pointer is the point
    pub(crate) name: Option<Box<String>>,
    /// Where the task was spawned (`#[track_caller]`), for the task dump.
    pub(crate) spawned_at: &'static Location<'static>,
    vtable: &'static Vtable,
}

impl Header {
    /// Records that the task waits on `on` with number `arg`, unless
    /// something was recorded already during this poll (the first wins).
    #[inline]
    pub(crate) fn record_wait(&self, on: &'static WaitOn, arg: u64) {
        if self.wait_on.get() == 0 {
            self.wait_on.set(on.index());
            self.wait_arg.set(compact(arg));
        }
    }

    /// Whether something was recorded during this poll.
    #[inline]
    pub(crate) fn has_wait(&self) -> bool {
        self.wait_on.get() != 0
    }

    /// Forgets the record: the task is about to be polled.
    #[inline]
    pub(crate) fn clear_wait(&self) {
        self.wait_on.set(0);
    }

    /// What the task waits on, if anything was recorded.
    pub(crate) fn wait_record(&self) -> Option<(&'static WaitOn, u64)> {
        let on = WaitOn::from_index(self.wait_on.get())?;
        Some((on, u64::from(self.wait_arg.get())))
    }
}

/// A task allocation: the header first, so that a pointer to one is a pointer
/// to the other.
#[repr(C)]
struct Task<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

/// A pointer to a live task.
///
/// # Invariant
///
/// A `TaskRef` points at an allocation made by [`TaskRef::new`] that is kept
/// alive by a reference someone holds for as long as the `TaskRef` is used:
/// the owner reference (for queue entries and the task list) or a counted
/// reference (a `Waker`, a `JoinHandle`, a mailbox message). `TaskRef` itself
/// does not count; [`OwnedTaskRef`] does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskRef(NonNull<Header>);

impl TaskRef {
    /// Allocates a task holding `future`. The count starts at two references:
    /// the owner's and the `JoinHandle`'s. The task starts idle, in no queue:
    /// `Core::spawn` queues it (directly, or once a `Handle`'s message with it
    /// reaches the owner).
    ///
    /// The memory comes from `blocks`, the owner's cache of freed task
    /// blocks, when the caller is on the owner thread and has it
    /// (`recycle.rs`); otherwise from the allocator.
    #[inline]
    pub(crate) fn new<F>(
        future: F,
        shared: Arc<Shared>,
        name: Option<&str>,
        spawned_at: &'static Location<'static>,
        blocks: Option<&BlockCache>,
    ) -> TaskRef
    where
        F: Future + 'static,
    {
        let ptr = recycle::allocate(Layout::new::<Task<F>>(), blocks).cast::<Task<F>>();
        let task = Task {
            header: Header {
                state: State::new(),
                lifecycle: Cell::new(0),
                remote_queued: AtomicBool::new(false),
                shared,
                links: Cell::new((None, None)),
                id: Cell::new(UNREGISTERED),
                name: name.map(|name| Box::new(name.to_string())),
                spawned_at,
                wait_on: Cell::new(0),
                wait_arg: Cell::new(0),
                vtable: vtable::<F>(),
            },
            stage: UnsafeCell::new(Stage::Running(future)),
        };
        // SAFETY: `allocate` returned an unused block with room and
        // alignment for a `Task<F>`; `dealloc::<F>` frees it.
        unsafe { ptr.as_ptr().write(task) };
        TaskRef(ptr.cast())
    }

    /// Recovers a `TaskRef` from a pointer given out by [`TaskRef::as_ptr`].
    ///
    /// # Safety
    ///
    /// `ptr` came from `as_ptr` of a task that is still alive, and the caller
    /// holds a reference that keeps it so while the result is used.
    pub(crate) unsafe fn from_ptr(ptr: *const ()) -> TaskRef {
        // SAFETY: `as_ptr` only hands out non-null header pointers (caller's contract).
        TaskRef(unsafe { NonNull::new_unchecked(ptr as *mut Header) })
    }

    pub(crate) fn as_ptr(self) -> *const () {
        self.0.as_ptr() as *const ()
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: the type invariant: someone holds a reference that keeps the allocation alive.
        unsafe { self.0.as_ref() }
    }

    /// The task's id and name, as traces show them. Owner thread only.
    pub(crate) fn trace_name(&self) -> (u64, Option<&str>) {
        let header = self.header();
        (header.id.get(), header.name.as_deref().map(String::as_str))
    }

    // ----- owner-thread lifecycle -------------------------------------------------------

    pub(crate) fn lifecycle(self) -> u8 {
        self.header().lifecycle.get()
    }

    pub(crate) fn set_lifecycle(self, bits: u8) {
        self.header().lifecycle.set(bits)
    }

    /// Polls the future once (owner thread, task `RUNNING`). `Ready` means the
    /// task just finished and its result is stored (not yet published); its
    /// value is `true` if the future panicked.
    pub(crate) fn poll(self, cx: &mut Context<'_>) -> Poll<bool> {
        debug_assert!(
            self.lifecycle() & lifecycle::RUNNING != 0,
            "poll of a task not marked RUNNING"
        );
        // SAFETY: called on the owner thread with the task RUNNING and not DONE, so the
        // stage holds the future and nobody else touches it (module doc, "Why !Send").
        unsafe { (self.header().vtable.poll)(self.0, cx) }
    }

    /// Drops the future of a task that is not `RUNNING` and stores a
    /// cancelled result (not yet published). The caller marks the task
    /// `DONE` first, so that code run by the future's `Drop` cannot cancel it
    /// a second time. Owner thread only.
    pub(crate) fn cancel_future(self, shutdown: bool) {
        debug_assert!(
            self.lifecycle() & lifecycle::RUNNING == 0,
            "cancel_future on a running task"
        );
        // SAFETY: owner thread, future present and not being polled (asserted above).
        unsafe { (self.header().vtable.cancel)(self.0, shutdown) }
    }

    /// Publishes the stored result to the `JoinHandle` (owner thread, right
    /// after `poll` returned `Ready` or `cancel_future`): sets `COMPLETE`, then
    /// drops the result if nobody can read it, or wakes the waiting handle. A
    /// panic from that handle's waker is reported, not propagated: the task
    /// that awaits the handle is not the one completing, and the loop goes on.
    pub(crate) fn complete(self) {
        let header = self.header();
        let panic = header.state.complete(|| {
            // SAFETY: COMPLETE is set and there is no handle, so no one else touches the stage.
            unsafe { (header.vtable.drop_stage)(self.0) }
        });
        if let Some(payload) = panic {
            report_panic(
                format_args!("the waker of a task awaiting {}", describe(header)),
                payload,
            );
        }
    }

    /// Releases the owner reference if the task is `DONE` and not queued.
    pub(crate) fn release_owner_if_idle(self) {
        if self.lifecycle() == lifecycle::DONE {
            // SAFETY: the owner reference is held until this point (module doc) and
            // is released exactly once: DONE without SCHEDULED happens once.
            unsafe { self.drop_reference() }
        }
    }

    /// `complete` then `release_owner_if_idle`, the end of every task's life
    /// on the owner thread. When the task is not queued, its handle exists
    /// and nobody awaits it yet — the usual "spawn now, join later" case —
    /// both happen in a single compare-exchange
    /// ([`State::complete_and_release_if_unawaited`]).
    pub(crate) fn complete_and_release(self) {
        if self.lifecycle() == lifecycle::DONE
            && self.header().state.complete_and_release_if_unawaited()
        {
            return;
        }
        self.complete();
        self.release_owner_if_idle();
    }

    // ----- references, any thread -------------------------------------------------------

    /// Adds a counted reference.
    pub(crate) fn add_reference(self) {
        self.header().state.ref_inc();
    }

    /// Drops one counted reference, freeing the task with the last one.
    ///
    /// # Safety
    ///
    /// The caller owns a reference and does not use `self` afterwards.
    pub(crate) unsafe fn drop_reference(self) {
        if self.header().state.ref_dec() {
            // SAFETY: that was the last reference; `ref_dec` made every other
            // thread's use of the task happen before this point.
            unsafe { Self::dealloc(self) }
        }
    }

    /// # Safety
    ///
    /// No reference remains.
    unsafe fn dealloc(self) {
        let header = self.header();
        // The stage is empty by now unless a handle on another thread dropped its
        // output together with its last reference; either way dropping it here is
        // allowed (module doc, "Why !Send").
        // SAFETY: no one else can reach the task any more (caller's contract).
        unsafe {
            (header.vtable.drop_stage)(self.0);
            (header.vtable.dealloc)(self.0);
        }
    }

    // ----- the JoinHandle's side, any thread ----------------------------------------------

    pub(crate) fn is_complete(self) -> bool {
        self.header().state.is_complete()
    }

    /// The join protocol, handle side ([`State::poll_join`]): writes the
    /// result to `out` when the task is complete, otherwise registers `waker`
    /// to be woken on completion and leaves `out` alone.
    ///
    /// # Safety
    ///
    /// Called by the task's `JoinHandle<T>` (so `T` is the future's output)
    /// and `out` points at a `Poll<Result<T, JoinError>>`.
    pub(crate) unsafe fn poll_join(self, waker: &Waker, out: *mut ()) {
        let header = self.header();
        // SAFETY: called by the one handle, never during its drop (caller's contract).
        let _ = unsafe {
            header.state.poll_join(waker, || {
                // SAFETY: COMPLETE is set (Acquire), the result is published and, with the
                // handle alive, only the handle reads it (caller's contract on `out`).
                (header.vtable.read_output)(self.0, out)
            })
        };
    }

    /// The handle's drop ([`State::drop_handle`]): drops an unread result if
    /// the task has completed, and releases the handle's reference.
    ///
    /// # Safety
    ///
    /// Called once, by the task's `JoinHandle`, which is not used afterwards.
    pub(crate) unsafe fn drop_handle(self) {
        let header = self.header();
        // SAFETY: the handle's one drop (caller's contract).
        let last = unsafe {
            header.state.drop_handle(|| {
                // SAFETY: COMPLETE with the handle alive: the stage belongs to the handle.
                (header.vtable.drop_stage)(self.0)
            })
        };
        if last {
            // SAFETY: that was the last reference.
            unsafe { self.dealloc() }
        }
    }
}

/// A `TaskRef` that owns one counted reference and releases it on drop.
/// Used for mailbox messages, which may be dropped on any thread.
pub(crate) struct OwnedTaskRef(TaskRef);

impl OwnedTaskRef {
    /// Takes over a reference the caller owns.
    ///
    /// # Safety
    ///
    /// The caller owns one counted reference to `task` and hands it over.
    pub(crate) unsafe fn from_owned(task: TaskRef) -> OwnedTaskRef {
        OwnedTaskRef(task)
    }

    pub(crate) fn task(&self) -> TaskRef {
        self.0
    }
}

impl Drop for OwnedTaskRef {
    fn drop(&mut self) {
        // SAFETY: we own exactly one reference (constructor's contract).
        unsafe { self.0.drop_reference() }
    }
}

// SAFETY: an OwnedTaskRef only gives access to the atomic parts of the header
// (`state`, `remote_queued`, `shared`) on threads other than the owner; the
// `Cell` fields are touched only by the owner thread (module doc).
unsafe impl Send for OwnedTaskRef {}

// ----- the vtable for one future type ----------------------------------------------------

fn vtable<F: Future + 'static>() -> &'static Vtable {
    // A constant promoted to a static: one table per future type, no allocation.
    trait HasVtable {
        const VTABLE: Vtable;
    }
    impl<F: Future + 'static> HasVtable for F {
        const VTABLE: Vtable = Vtable {
            poll: poll::<F>,
            cancel: cancel::<F>,
            read_output: read_output::<F>,
            drop_stage: drop_stage::<F>,
            dealloc: dealloc::<F>,
        };
    }
    &<F as HasVtable>::VTABLE
}

/// # Safety
///
/// `ptr` is the header of a live `Task<F>`; the caller has the access to the
/// stage that the calling `TaskRef` method documents.
unsafe fn stage<'a, F: Future>(ptr: NonNull<Header>) -> &'a mut Stage<F> {
    // SAFETY: `Task<F>` is repr(C) with the header first (caller's contract).
    unsafe { &mut *(*ptr.cast::<Task<F>>().as_ptr()).stage.get() }
}

unsafe fn poll<F: Future>(ptr: NonNull<Header>, cx: &mut Context<'_>) -> Poll<bool> {
    // SAFETY: see `TaskRef::poll`.
    let stage = unsafe { stage::<F>(ptr) };
    let Stage::Running(future) = stage else {
        unreachable!("a task was polled after its future was gone")
    };
    // SAFETY: the future lives in a heap allocation that never moves until it is dropped.
    let future = unsafe { Pin::new_unchecked(future) };
    let result = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
        Ok(Poll::Pending) => return Poll::Pending,
        Ok(Poll::Ready(output)) => Ok(output),
        // SAFETY: owner thread, ptr is the live header (caller's contract).
        Err(payload) => Err(JoinError::panic(describe(unsafe { ptr.as_ref() }), payload)),
    };
    let panicked = result.is_err();
    set_finished(stage, result);
    Poll::Ready(panicked)
}

/// Replaces the future with its result; a panic while dropping the future is
/// caught too, so that a faulty `Drop` cannot take the runtime down.
fn set_finished<F: Future>(stage: &mut Stage<F>, result: Result<F::Output, JoinError>) {
    empty_stage(stage);
    *stage = Stage::Finished(result);
}

/// Drops what the stage holds, catching a panic from its `Drop`.
fn empty_stage<F: Future>(stage: &mut Stage<F>) {
    let dropped = catch_unwind(AssertUnwindSafe(|| *stage = Stage::Consumed));
    if let Err(payload) = dropped {
        drop_payload(payload);
    }
}

unsafe fn cancel<F: Future>(ptr: NonNull<Header>, shutdown: bool) {
    // SAFETY: see `TaskRef::cancel_future`.
    let (stage, header) = unsafe { (stage::<F>(ptr), ptr.as_ref()) };
    set_finished(stage, Err(JoinError::cancelled(describe(header), shutdown)));
}

unsafe fn read_output<F: Future>(ptr: NonNull<Header>, out: *mut ()) {
    // SAFETY: see `TaskRef::poll_join`.
    let stage = unsafe { stage::<F>(ptr) };
    match std::mem::replace(stage, Stage::Consumed) {
        // SAFETY: `out` is a `*mut Poll<Result<F::Output, JoinError>>` (caller's contract).
        Stage::Finished(result) => unsafe {
            *(out as *mut Poll<Result<F::Output, JoinError>>) = Poll::Ready(result)
        },
        _ => panic!("JoinHandle polled after it returned its result"),
    }
}

unsafe fn drop_stage<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the caller has exclusive access to the stage (see the callers).
    empty_stage(unsafe { stage::<F>(ptr) });
}

unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the last reference is gone (caller's contract), so the header is ours to read.
    let runtime = unsafe { ptr.as_ref() }.shared.id;
    let task = ptr.cast::<Task<F>>();
    // SAFETY: `TaskRef::new` wrote a `Task<F>` here; nothing uses it any more.
    unsafe { std::ptr::drop_in_place(task.as_ptr()) };
    let (block, layout) = (task.cast::<u8>(), Layout::new::<Task<F>>());
    // On the owner thread, the block goes to its cache for the next spawn.
    context::with_maybe_runtime(runtime, |core| {
        // SAFETY: `TaskRef::new` allocated the block with this layout; it was
        // just emptied, and this is the one place that frees it.
        unsafe { recycle::free(block, layout, core.map(|core| &core.blocks)) }
    });
}

/// How messages name a task: `task 3`, or `task 3 ('worker')`.
pub(crate) fn describe(header: &Header) -> String {
    let id = header.id.get();
    match (&header.name, id) {
        (None, UNREGISTERED) => "a task spawned through a Handle".to_string(),
        (Some(name), UNREGISTERED) => format!("task '{name}'"),
        (Some(name), _) => format!("task {id} ('{name}')"),
        (None, _) => format!("task {id}"),
    }
}

/// Marker for types that must stay on one thread.
pub(crate) type NotSend = PhantomData<*const ()>;

#[cfg(test)]
mod tests {
    use super::*;

    /// glibc serves chunks of up to 128 bytes (a 120-byte request plus its
    /// 8-byte header) from its fastbins, its quickest path. A small task
    /// must fit: at 128 bytes (with a 40-byte `JoinError` inline) spawning
    /// 100 000 tasks cost 812 instructions per task under callgrind; at 104,
    /// 672. At 120 bytes (a 128-byte chunk) it still is a fast size, but
    /// spawning cost 15 instructions more per task than at 104: so the
    /// spawn location took the place a `Box<str>` name left, and the wait
    /// record took padding (`wait.rs`).
    #[test]
    fn a_small_task_fits_the_allocators_fast_path() {
        assert!(std::mem::size_of::<Header>() <= 88, "the header grew");
        assert!(std::mem::size_of::<JoinError>() == std::mem::size_of::<usize>());
        assert!(std::mem::size_of::<Task<std::future::Ready<()>>>() <= 104);
    }
}
