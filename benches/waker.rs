//! What spindle's hand-written waker vtable buys over `futures-task`'s
//! `ArcWake`, measured on two minimal single-threaded executors that differ
//! only in the waker mechanism.
//!
//! ```text
//! cargo bench --bench waker
//! ```
//!
//! - **`vtable`** (A) is spindle's design in miniature: a task is one
//!   `Box`-leaked `#[repr(C)]` allocation, a [`Header`] followed by the
//!   future; the waker is a hand-written [`RawWakerVTable`] over a pointer to
//!   that header; "scheduled" is a `Cell<u8>` that only the executor thread
//!   touches; the ready queue holds bare pointers (the executor's own
//!   reference keeps a queued task alive); each poll is lent a borrowed waker
//!   (`ManuallyDrop<Waker>`, no reference-count traffic).
//! - **`arcwake`** (B) is what a careful implementer builds on `futures-task`:
//!   a task is an `Arc<ArcTask<F>>`, "scheduled" is an `AtomicBool` (`ArcWake`
//!   requires `Send + Sync`, so a `Cell` is not allowed: that is part of what
//!   is measured), the ready queue holds `Arc<dyn Runnable>` (`wake_by_ref`
//!   only gets `&Arc<Self>`, so it must clone to enqueue; `wake` is
//!   overridden to move its `Arc` into the queue instead), and each poll is
//!   lent `futures_task::waker_ref(&arc)`, which is also borrowed.
//!
//! Both keep the future inline in the task allocation (B does not box it
//! again), both run the same three workloads, and both share the same
//! loop shape and a thread-local `RefCell<VecDeque<_>>` ready queue:
//!
//! | group | one operation |
//! |---|---|
//! | `waker/yield` | one self-wake (`wake_by_ref`) plus the poll it causes; 100 tasks × 1 000 |
//! | `waker/spawn` | spawn, poll to completion on the first poll, free; 100 000 tasks |
//! | `waker/clone_wake` | one `waker.clone().wake()` plus the poll it causes; 100 tasks × 1 000 |
//!
//! Throughput is per operation (`Throughput::Elements`), so criterion's time
//! divided by the element count is ns per operation.
//!
//! Both executors are sound only because every waker in this file stays on
//! the thread that runs its executor (the futures below never send one
//! away). spindle itself checks the thread-local "current runtime" on every
//! wake and turns a wake from anywhere else into a mailbox message
//! (`runtime/src/waker.rs`); neither miniature needs that branch here.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::VecDeque;
use std::future::Future;
use std::hint::black_box;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{self, AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::Duration;

use criterion::{Criterion, Throughput};

/// Tasks in the `yield` and `clone_wake` workloads.
const TASKS: usize = 100;
/// Wakes per task in the `yield` and `clone_wake` workloads.
const WAKES: u32 = 1_000;
/// Tasks in the `spawn` workload.
const SPAWNS: usize = 100_000;

// ---------------------------------------------------------------------------
// The workloads: the same three futures for both executors.
// ---------------------------------------------------------------------------

/// Wakes itself by reference `left` times, then completes.
struct SelfWake {
    left: u32,
}

impl Future for SelfWake {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.left == 0 {
            return Poll::Ready(());
        }
        self.left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Clones its waker and wakes the clone by value `left` times, then completes.
struct CloneWake {
    left: u32,
}

impl Future for CloneWake {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.left == 0 {
            return Poll::Ready(());
        }
        self.left -= 1;
        // The clone and the by-value wake are what this workload measures.
        #[allow(clippy::waker_clone_wake)]
        cx.waker().clone().wake();
        Poll::Pending
    }
}

/// Completes on its first poll: the `spawn` workload's task.
struct Empty;

impl Future for Empty {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

// ---------------------------------------------------------------------------
// A: one allocation, a hand-written vtable (spindle's mechanism).
// ---------------------------------------------------------------------------

/// The task's type-erased operations, one static instance per future type.
struct TaskVtable {
    /// Polls the future; on `Ready`, drops it in place. Returns whether it
    /// completed.
    poll: unsafe fn(NonNull<Header>, &Waker) -> bool,
    /// Frees the allocation (the future is already gone).
    dealloc: unsafe fn(NonNull<Header>),
}

/// [`Header::state`]: in the ready queue.
const SCHEDULED: u8 = 1 << 0;
/// [`Header::state`]: the future is gone; the task is never polled again.
const DONE: u8 = 1 << 1;

/// The first field of every A task.
struct Header {
    /// `SCHEDULED` / `DONE`; only the executor thread reads or writes it.
    state: Cell<u8>,
    /// The executor's reference (held from spawn until the task is `DONE`
    /// and out of the queue) plus one per owned `Waker`. Atomic because a
    /// waker clone may in general be dropped on any thread.
    refs: AtomicUsize,
    vtable: &'static TaskVtable,
}

/// Header first, so a pointer to the header is a pointer to the task.
#[repr(C)]
struct Task<F> {
    header: Header,
    /// Dropped in place when the future completes (on the executor thread),
    /// never by the `Box` that frees the allocation.
    future: UnsafeCell<ManuallyDrop<F>>,
}

impl<F: Future<Output = ()> + 'static> Task<F> {
    const VTABLE: TaskVtable = TaskVtable {
        poll: Self::poll,
        dealloc: Self::dealloc,
    };

    /// # Safety
    ///
    /// `ptr` is a live, not `DONE` `Task<F>`, and this is its executor thread.
    unsafe fn poll(ptr: NonNull<Header>, waker: &Waker) -> bool {
        let task = ptr.cast::<Task<F>>();
        // SAFETY: per the contract the task is live, not DONE (so the future is
        // still there) and only this thread touches the future; the allocation
        // never moves, so pinning it in place is sound.
        let future = unsafe { Pin::new_unchecked(&mut **(*task.as_ptr()).future.get()) };
        if future.poll(&mut Context::from_waker(waker)).is_pending() {
            return false;
        }
        // SAFETY: the future completed; it is dropped exactly once, here, and the
        // caller marks the task DONE so it is never touched again.
        unsafe { ManuallyDrop::drop(&mut *(*task.as_ptr()).future.get()) };
        true
    }

    /// # Safety
    ///
    /// `ptr` came from `Box::<Task<F>>::leak` in [`spawn_a`] and the last
    /// reference was just released.
    unsafe fn dealloc(ptr: NonNull<Header>) {
        // SAFETY: per the contract; `ManuallyDrop` keeps the (already dropped)
        // future from being dropped again.
        drop(unsafe { Box::from_raw(ptr.cast::<Task<F>>().as_ptr()) });
    }
}

thread_local! {
    /// A's ready queue. Entries hold no reference of their own.
    static QUEUE_A: RefCell<VecDeque<NonNull<Header>>> = const { RefCell::new(VecDeque::new()) };
}

/// The one waker vtable for every A task; the type-specific part is reached
/// through [`Header::vtable`].
static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

/// Drops one reference; frees the task when it was the last.
///
/// # Safety
///
/// The caller owns one reference to the live task at `ptr`.
unsafe fn release(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the header alive until the decrement.
    let header = unsafe { ptr.as_ref() };
    if header.refs.fetch_sub(1, Ordering::Release) == 1 {
        atomic::fence(Ordering::Acquire);
        let dealloc = header.vtable.dealloc;
        // SAFETY: that was the last reference.
        unsafe { dealloc(ptr) };
    }
}

/// Queues the task unless it is already queued or done.
///
/// # Safety
///
/// `ptr` is a live A task (a waker holds or borrows a reference) and this is
/// its executor thread (true of every waker in this file).
unsafe fn schedule(ptr: NonNull<Header>) {
    // SAFETY: per the contract.
    let header = unsafe { ptr.as_ref() };
    let state = header.state.get();
    if state & (SCHEDULED | DONE) == 0 {
        header.state.set(state | SCHEDULED);
        QUEUE_A.with(|queue| queue.borrow_mut().push_back(ptr));
    }
}

unsafe fn waker_clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` is the task of a live waker, which holds or borrows a
    // reference, so the header is alive.
    let header = unsafe { &*data.cast::<Header>() };
    // Relaxed, like `Arc::clone`: the new reference is derived from a live one.
    header.refs.fetch_add(1, Ordering::Relaxed);
    RawWaker::new(data, &WAKER_VTABLE)
}

unsafe fn waker_wake(data: *const ()) {
    let ptr = NonNull::new(data.cast_mut().cast::<Header>()).expect("a task pointer");
    // SAFETY: as in `waker_clone`; this waker owns a reference, released below.
    unsafe { schedule(ptr) };
    // SAFETY: the reference of the waker being consumed.
    unsafe { release(ptr) };
}

unsafe fn waker_wake_by_ref(data: *const ()) {
    let ptr = NonNull::new(data.cast_mut().cast::<Header>()).expect("a task pointer");
    // SAFETY: as in `waker_clone`.
    unsafe { schedule(ptr) };
}

unsafe fn waker_drop(data: *const ()) {
    let ptr = NonNull::new(data.cast_mut().cast::<Header>()).expect("a task pointer");
    // SAFETY: the reference of the waker being dropped.
    unsafe { release(ptr) };
}

/// Allocates an A task holding the executor's reference and queues it.
fn spawn_a<F: Future<Output = ()> + 'static>(future: F) {
    let task = Box::new(Task {
        header: Header {
            state: Cell::new(SCHEDULED),
            refs: AtomicUsize::new(1),
            vtable: &Task::<F>::VTABLE,
        },
        future: UnsafeCell::new(ManuallyDrop::new(future)),
    });
    let ptr = NonNull::from(Box::leak(task)).cast::<Header>();
    QUEUE_A.with(|queue| queue.borrow_mut().push_back(ptr));
}

/// Runs A tasks until the ready queue is empty.
fn run_a() {
    while let Some(ptr) = QUEUE_A.with(|queue| queue.borrow_mut().pop_front()) {
        // SAFETY: a queued task is kept alive by the executor's reference.
        let header = unsafe { ptr.as_ref() };
        let state = header.state.get() & !SCHEDULED;
        header.state.set(state);
        if state & DONE != 0 {
            // Woken during its last poll: the executor's reference was kept
            // for this queue entry.
            // SAFETY: the executor's reference, released exactly once.
            unsafe { release(ptr) };
            continue;
        }
        // SAFETY: the executor's reference outlives the poll, and
        // `ManuallyDrop` stops the lent waker from releasing a reference it
        // does not own. The vtable functions require the executor thread,
        // which holds for every waker in this file (see the module doc).
        let waker = ManuallyDrop::new(unsafe {
            Waker::from_raw(RawWaker::new(ptr.as_ptr().cast(), &WAKER_VTABLE))
        });
        // SAFETY: live, not DONE, on its executor thread.
        let completed = unsafe { (header.vtable.poll)(ptr, &waker) };
        if completed {
            let state = header.state.get();
            header.state.set(state | DONE);
            if state & SCHEDULED == 0 {
                // SAFETY: the executor's reference, released exactly once.
                unsafe { release(ptr) };
            }
        }
    }
}

// ---------------------------------------------------------------------------
// B: `Arc<Task>` with `futures_task::ArcWake` and `waker_ref`.
// ---------------------------------------------------------------------------

/// What B's ready queue holds.
trait Runnable {
    /// Polls the task once; the queue's `Arc` is dropped afterwards.
    fn run(self: Arc<Self>);
}

/// A B task. The future sits inline in the `Arc` allocation (which never
/// moves), not in a second `Pin<Box<F>>`.
struct ArcTask<F> {
    /// `ArcWake` requires `Sync`, so this cannot be a `Cell`: every wake is
    /// an atomic swap.
    scheduled: AtomicBool,
    /// `None` once the future has completed.
    future: UnsafeCell<Option<F>>,
}

// SAFETY: `ArcWake` demands `Send + Sync`. The only non-`Sync` part is the
// future in its `UnsafeCell`, and it is only touched by `Runnable::run` (poll,
// and the drop on completion), which runs on the executor thread: every waker
// in this file is woken on that thread, so a task is only ever queued there.
// The last `Arc` may in principle drop on another thread, but by then the
// future is `None` for every task this file runs to completion. A `Mutex`
// would make this hold without the invariant, at the price of a lock and an
// unlock per poll; that would measure the mutex, not the waker, so B takes
// the same invariant A relies on.
unsafe impl<F> Sync for ArcTask<F> {}
// SAFETY: as for `Sync` above.
unsafe impl<F> Send for ArcTask<F> {}

thread_local! {
    /// B's ready queue. Each entry owns an `Arc`.
    static QUEUE_B: RefCell<VecDeque<Arc<dyn Runnable>>> = const { RefCell::new(VecDeque::new()) };
}

impl<F: Future<Output = ()> + 'static> futures_task::ArcWake for ArcTask<F> {
    fn wake(self: Arc<Self>) {
        // Overridden so a by-value wake moves its `Arc` into the queue
        // instead of the default's clone-then-drop.
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            QUEUE_B.with(|queue| queue.borrow_mut().push_back(self));
        }
    }

    fn wake_by_ref(arc_self: &Arc<Self>) {
        if !arc_self.scheduled.swap(true, Ordering::AcqRel) {
            let task: Arc<dyn Runnable> = arc_self.clone();
            QUEUE_B.with(|queue| queue.borrow_mut().push_back(task));
        }
    }
}

impl<F: Future<Output = ()> + 'static> Runnable for ArcTask<F> {
    fn run(self: Arc<Self>) {
        self.scheduled.store(false, Ordering::Release);
        let waker = futures_task::waker_ref(&self);
        // SAFETY: only this thread touches the future (see the `Sync` impl),
        // and no other borrow of it is live during `run`.
        let slot = unsafe { &mut *self.future.get() };
        let Some(future) = slot.as_mut() else {
            return;
        };
        // SAFETY: the future lives inline in the `Arc` allocation, which never
        // moves, and is only ever dropped in place (below, or with the `Arc`).
        let future = unsafe { Pin::new_unchecked(future) };
        if future.poll(&mut Context::from_waker(&waker)).is_ready() {
            *slot = None;
        }
    }
}

/// Allocates a B task and queues it (the queue's `Arc` is the only one).
fn spawn_b<F: Future<Output = ()> + 'static>(future: F) {
    let task: Arc<dyn Runnable> = Arc::new(ArcTask {
        scheduled: AtomicBool::new(true),
        future: UnsafeCell::new(Some(future)),
    });
    QUEUE_B.with(|queue| queue.borrow_mut().push_back(task));
}

/// Runs B tasks until the ready queue is empty.
fn run_b() {
    while let Some(task) = QUEUE_B.with(|queue| queue.borrow_mut().pop_front()) {
        task.run();
    }
}

// ---------------------------------------------------------------------------
// The benches.
// ---------------------------------------------------------------------------

/// One criterion group per workload, A and B side by side.
fn bench_group(c: &mut Criterion, name: &str, ops: usize, a: fn(), b: fn()) {
    let mut group = c.benchmark_group(format!("waker/{name}"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(ops as u64));
    group.bench_function("vtable", |bencher| bencher.iter(a));
    group.bench_function("arcwake", |bencher| bencher.iter(b));
    group.finish();
}

fn yield_a() {
    for _ in 0..TASKS {
        spawn_a(SelfWake {
            left: black_box(WAKES),
        });
    }
    run_a();
}

fn yield_b() {
    for _ in 0..TASKS {
        spawn_b(SelfWake {
            left: black_box(WAKES),
        });
    }
    run_b();
}

fn spawn_many_a() {
    for _ in 0..black_box(SPAWNS) {
        spawn_a(Empty);
    }
    run_a();
}

fn spawn_many_b() {
    for _ in 0..black_box(SPAWNS) {
        spawn_b(Empty);
    }
    run_b();
}

fn clone_wake_a() {
    for _ in 0..TASKS {
        spawn_a(CloneWake {
            left: black_box(WAKES),
        });
    }
    run_a();
}

fn clone_wake_b() {
    for _ in 0..TASKS {
        spawn_b(CloneWake {
            left: black_box(WAKES),
        });
    }
    run_b();
}

/// Each executor runs every workload once, and the counts must come out
/// right, before anything is timed: a broken waker would otherwise just look
/// fast.
fn check() {
    use std::rc::Rc;

    /// Counts its polls into a shared cell, then behaves like `inner`.
    struct Counted<F> {
        polls: Rc<Cell<usize>>,
        inner: F,
    }

    impl<F: Future + Unpin> Future for Counted<F> {
        type Output = F::Output;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            self.polls.set(self.polls.get() + 1);
            Pin::new(&mut self.inner).poll(cx)
        }
    }

    type Spawn = fn(Counted<SelfWake>);
    for (spawn, run) in [(spawn_a as Spawn, run_a as fn()), (spawn_b, run_b)] {
        let polls = Rc::new(Cell::new(0));
        for _ in 0..TASKS {
            spawn(Counted {
                polls: polls.clone(),
                inner: SelfWake { left: WAKES },
            });
        }
        run();
        assert_eq!(polls.get(), TASKS * (WAKES as usize + 1));
        assert_eq!(Rc::strong_count(&polls), 1);
    }
    type SpawnClone = fn(Counted<CloneWake>);
    for (spawn, run) in [(spawn_a as SpawnClone, run_a as fn()), (spawn_b, run_b)] {
        let polls = Rc::new(Cell::new(0));
        for _ in 0..TASKS {
            spawn(Counted {
                polls: polls.clone(),
                inner: CloneWake { left: WAKES },
            });
        }
        run();
        assert_eq!(polls.get(), TASKS * (WAKES as usize + 1));
        // Every task (and its `Rc`) is freed: no waker reference leaked.
        assert_eq!(Rc::strong_count(&polls), 1);
    }
}

fn main() {
    check();
    let mut c = Criterion::default().configure_from_args();
    bench_group(&mut c, "yield", TASKS * WAKES as usize, yield_a, yield_b);
    bench_group(&mut c, "spawn", SPAWNS, spawn_many_a, spawn_many_b);
    bench_group(
        &mut c,
        "clone_wake",
        TASKS * WAKES as usize,
        clone_wake_a,
        clone_wake_b,
    );
    c.final_summary();
}
