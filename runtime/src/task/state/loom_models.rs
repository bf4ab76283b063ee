//! loom models of the task's state word and join protocol (`state.rs`).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p spindle-runtime --release
//! --lib loom` (README, "Reliability"). Each model builds a miniature task
//! around the real [`State`]: a `stage` cell standing in for the future and
//! its output, and wakers that count their clones and wakes. The glue does
//! what `task/mod.rs` does with the protocol's answers and nothing more, so
//! what is checked is `state.rs` itself. loom runs every interleaving of the
//! threads (and every value a weakly ordered load may return) and fails on a
//! data race on `stage` or the join-waker cell, or on a broken assertion:
//!
//! - the output is read only after it was stored, and read or dropped
//!   exactly once, never while the "future" is still there;
//! - a waiting handle is woken;
//! - the task is freed exactly once, when every reference is gone, with no
//!   waker left behind (every waker clone is dropped).
//!
//! Reintroducing the old bug — `poll_join` reading any failed
//! compare-exchange as "completed" — makes `the_handle_never_reads_a_live_task`
//! fail with "the handle read the output of a task still running".

use std::sync::Arc;
use std::task::{Poll, RawWaker, RawWakerVTable, Waker};

use loom::cell::UnsafeCell;
// Counters that are only read after every thread has been joined are plain
// std atomics: loom need not explore their interleavings, and each loom
// atomic operation multiplies the states it explores.
use std::sync::atomic::{AtomicUsize, Ordering};

use loom::sync::Notify;
use loom::thread;

use super::State;

/// What the miniature task holds, as `Stage` does in `task/mod.rs`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stage {
    Running,
    Finished,
    Consumed,
}

/// A task reduced to what the protocol touches.
struct Task {
    state: State,
    stage: UnsafeCell<Stage>,
    /// How many times the last reference was released (must end at one).
    freed: AtomicUsize,
}

impl Task {
    fn new() -> Arc<Task> {
        Arc::new(Task {
            state: State::new(),
            stage: UnsafeCell::new(Stage::Running),
            freed: AtomicUsize::new(0),
        })
    }

    /// `TaskRef::drop_reference`.
    fn drop_reference(&self) {
        if self.state.ref_dec() {
            self.free();
        }
    }

    /// `TaskRef::dealloc`: what it frees must be finished with.
    fn free(&self) {
        let before = self.freed.fetch_add(1, Ordering::Relaxed);
        assert_eq!(before, 0, "the task was freed twice");
        self.stage.with(|stage| {
            // SAFETY: loom checks this access against every other.
            let stage = unsafe { *stage };
            assert_ne!(stage, Stage::Running, "freed with the future still there")
        });
    }

    /// The owner thread's end of the task: store the output, publish it, drop
    /// the owner reference (`Core::run_task` → `complete_and_release`).
    fn finish(&self) {
        self.stage.with_mut(|stage| {
            // SAFETY: loom checks this access against every other.
            let stage = unsafe { &mut *stage };
            assert_eq!(*stage, Stage::Running);
            *stage = Stage::Finished;
        });
        if self.state.complete_and_release_if_unawaited() {
            return;
        }
        let panic = self.state.complete(|| self.drop_output());
        assert!(panic.is_none());
        self.drop_reference();
    }

    /// `drop_stage`: drops whatever the stage holds, which must not be the
    /// future (a drop racing another access is loom's to catch).
    fn drop_output(&self) {
        self.stage.with_mut(|stage| {
            // SAFETY: loom checks this access against every other.
            let stage = unsafe { &mut *stage };
            assert_ne!(
                *stage,
                Stage::Running,
                "the output dropped while the task runs"
            );
            *stage = Stage::Consumed;
        });
    }

    /// `JoinHandle::poll`.
    fn poll_handle(&self, waker: &Waker) -> Poll<()> {
        let read_output = || {
            self.stage.with_mut(|stage| {
                // SAFETY: loom checks this access against every other.
                let stage = unsafe { &mut *stage };
                assert_eq!(
                    *stage,
                    Stage::Finished,
                    "the handle read the output of a task still running"
                );
                *stage = Stage::Consumed;
            })
        };
        // SAFETY: one handle per task in every model, never polled after its drop.
        unsafe { self.state.poll_join(waker, read_output) }
    }

    /// `JoinHandle::drop`.
    fn drop_handle(&self) {
        // SAFETY: the handle's one drop.
        if unsafe { self.state.drop_handle(|| self.drop_output()) } {
            self.free();
        }
    }
}

/// A waker that counts its wakes and its live clones, and may hold a
/// reference to a task the way a real task's waker does (clone = `ref_inc`,
/// drop = `drop_reference`) — which is what makes the reference count move
/// under the protocol's feet.
struct Probe {
    /// Sticky, like a real wake: a `wait` after the wake returns at once.
    woken: Notify,
    live: AtomicUsize,
    task: Option<Arc<Task>>,
}

impl Probe {
    fn new(task: Option<Arc<Task>>) -> Arc<Probe> {
        Arc::new(Probe {
            woken: Notify::new(),
            live: AtomicUsize::new(0),
            task,
        })
    }

    fn waker(self: &Arc<Probe>) -> Waker {
        // SAFETY: the vtable below treats the data pointer as an `Arc<Probe>`.
        unsafe { Waker::from_raw(clone(Arc::as_ptr(self).cast())) }
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

unsafe fn clone(data: *const ()) -> RawWaker {
    let probe = data.cast::<Probe>();
    // SAFETY: `data` came from an `Arc<Probe>` that the model keeps alive.
    unsafe { Arc::increment_strong_count(probe) };
    // SAFETY: as above; the count just taken keeps it alive.
    let probe = unsafe { &*probe };
    probe.live.fetch_add(1, Ordering::Relaxed);
    if let Some(task) = &probe.task {
        task.state.ref_inc();
    }
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: a waker that owns one count of its `Arc<Probe>`: wake, then
    // give the count back.
    unsafe {
        wake_by_ref(data);
        drop_waker(data);
    }
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: `data` came from an `Arc<Probe>` that the model keeps alive.
    unsafe { &*data.cast::<Probe>() }.woken.notify();
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the count this waker owned, given back once.
    let probe = unsafe { Arc::from_raw(data.cast::<Probe>()) };
    probe.live.fetch_sub(1, Ordering::Relaxed);
    if let Some(task) = &probe.task {
        task.drop_reference();
    }
}

/// Runs `f` under loom with at most three preemptions per execution unless
/// `LOOM_MAX_PREEMPTIONS` says otherwise: bugs of this kind need one or two
/// (loom's documentation recommends 2–3), and unbounded runs of the models
/// with a third thread take hours.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// Polls the handle until it is ready, waiting for the wake in between.
fn join(task: &Task, probe: &Arc<Probe>) {
    let waker = probe.waker();
    while task.poll_handle(&waker).is_pending() {
        probe.woken.wait();
    }
}

/// The handle awaits the task from another thread while a third thread
/// clones and drops the task's own waker, as a remote waker does: the
/// reference count moves during every step of the join protocol.
#[test]
fn loom_the_handle_never_reads_a_live_task() {
    model(|| {
        let task = Task::new();
        // The churning thread's own reference (a waker it holds).
        task.state.ref_inc();
        let churn = {
            let task = task.clone();
            thread::spawn(move || {
                task.state.ref_inc();
                task.drop_reference();
                task.drop_reference();
            })
        };
        let handle = {
            let task = task.clone();
            thread::spawn(move || {
                let probe = Probe::new(None);
                join(&task, &probe);
                task.drop_handle();
                probe
            })
        };
        task.finish();
        churn.join().unwrap();
        let probe = handle.join().unwrap();
        // Only now: the completer may drop the registered waker after the
        // handle is gone (it finds HANDLE clear when it hands the cell back).
        assert_eq!(probe.live.load(Ordering::Relaxed), 0, "a join waker leaked");
        assert_eq!(task.freed.load(Ordering::Relaxed), 1);
    });
}

/// The join waker is the waker of a task that holds a reference to *this*
/// task (as when a task polls its own handle): replacing or dropping it moves
/// the count. The handle registers one waker, replaces it with another, and
/// drops the handle, racing the completion; nothing may leak or be freed
/// early, and no output may be read live.
#[test]
fn loom_a_join_waker_holding_the_task_is_replaced_and_dropped() {
    model(|| {
        let task = Task::new();
        let handle = {
            let task = task.clone();
            thread::spawn(move || {
                let first = Probe::new(Some(task.clone()));
                let second = Probe::new(Some(task.clone()));
                let ready = task.poll_handle(&first.waker()).is_ready()
                    || task.poll_handle(&second.waker()).is_ready();
                task.drop_handle();
                (ready, first, second)
            })
        };
        task.finish();
        let (_, first, second) = handle.join().unwrap();
        assert_eq!(first.live.load(Ordering::Relaxed), 0, "a join waker leaked");
        assert_eq!(
            second.live.load(Ordering::Relaxed),
            0,
            "a join waker leaked"
        );
        assert_eq!(task.freed.load(Ordering::Relaxed), 1);
    });
}

/// A handle dropped on another thread while the task completes: the output
/// is dropped exactly once (by whichever side owns it), the registered waker
/// is dropped, and the task is freed once.
#[test]
fn loom_a_handle_dropped_while_the_task_completes() {
    model(|| {
        let task = Task::new();
        let probe = Probe::new(None);
        let handle = {
            let (task, probe) = (task.clone(), probe.clone());
            thread::spawn(move || {
                let _ = task.poll_handle(&probe.waker());
                task.drop_handle();
            })
        };
        task.finish();
        handle.join().unwrap();
        // SAFETY: every other thread has been joined.
        let stage = task.stage.with(|stage| unsafe { *stage });
        assert_eq!(stage, Stage::Consumed);
        assert_eq!(probe.live.load(Ordering::Relaxed), 0, "a join waker leaked");
        assert_eq!(task.freed.load(Ordering::Relaxed), 1);
    });
}
