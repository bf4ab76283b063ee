//! Model checks of the hand-off protocols with [loom].
//!
//! The tests in `tests/` drive the primitives from one thread, step by
//! step, so they check every *order of operations* they spell out — but a
//! race lives *between* the steps of two threads: one thread's check and
//! park against another's release, a cancellation in the middle of a
//! hand-off. loom runs each small program below many times, once for every
//! way its threads can interleave at a lock, an atomic or a park (up to a
//! bound on preemptions), and runs the assertions on each. It replaces
//! `Mutex`, `Arc` and the atomics through `sync.rs`, and reports a thread
//! that waits forever — a lost wake-up — as a deadlock.
//!
//! Run them with (about a minute in all on two cores, see each model):
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target-loom \
//!     cargo test -p spindle-primitives --release --lib loom
//! ```
//!
//! `LOOM_MAX_PREEMPTIONS` raises the bound (default here: 3), at a cost
//! that grows quickly; `LOOM_LOG=trace` and `LOOM_CHECKPOINT_FILE` help to
//! replay a failure (see loom's docs).
//!
//! Each model is a few threads; the futures are driven either by
//! `loom::future::block_on` (parks the loom thread until its waker fires,
//! so a lost wake is a deadlock) or by hand with a [`Recorder`] waker when
//! a test needs to poll once and then drop a future at a point of its
//! choosing.
//!
//! [loom]: https://docs.rs/loom

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::Once;
use std::task::{Context, Poll, Wake, Waker};

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use loom::thread;

use crate::{Event, Queue, TaskDoneError};

/// Runs `body` under loom, with at most 3 preemptions per run unless
/// `LOOM_MAX_PREEMPTIONS` says otherwise. Bugs found by model checkers
/// need few preemptions (most need one or two); 3 keeps each model here
/// well under a minute.
pub(crate) fn model(body: impl Fn() + Send + Sync + 'static) {
    silence_waker_panics();
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(body);
}

/// The payload of the panics a [`Recorder`] waker raises on purpose.
const WAKER_PANIC: &str = "a loom test's waker panicked on purpose";

/// The default panic hook, except for [`WAKER_PANIC`]: loom runs a model
/// thousands of times, and each run would print it.
fn silence_waker_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&WAKER_PANIC) {
                default(info);
            }
        }));
    });
}

/// A waker that counts its wakes in a loom atomic (so that loom orders
/// them with everything else), and panics after counting if asked to.
///
/// `Wake` is implemented for `std::sync::Arc` only, so the waker is a std
/// `Arc` around loom state — not a loom `Arc`.
pub(crate) struct Recorder {
    wakes: AtomicUsize,
    panics: bool,
}

impl Recorder {
    pub(crate) fn wakes(&self) -> usize {
        self.wakes.load(SeqCst)
    }
}

impl Wake for Recorder {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
        if self.panics {
            std::panic::panic_any(WAKER_PANIC);
        }
    }
}

/// A recording waker, and the recorder to read it from.
pub(crate) fn recorder(panics: bool) -> (Waker, std::sync::Arc<Recorder>) {
    let recorder = std::sync::Arc::new(Recorder {
        wakes: AtomicUsize::new(0),
        panics,
    });
    (Waker::from(std::sync::Arc::clone(&recorder)), recorder)
}

/// Polls `fut` once with `waker`.
pub(crate) fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

/// A future that owns its queue handle, parked by one poll: a waiter that
/// another thread can drop at any point of its life. `make` builds the
/// future from the handle (`q.get()`, `q.put(x)`).
fn parked<T, O, F>(
    queue: &Queue<T>,
    make: impl FnOnce(Queue<T>) -> F,
) -> Pin<Box<dyn Future<Output = O> + Send>>
where
    F: Future<Output = O> + Send + 'static,
{
    let mut fut: Pin<Box<dyn Future<Output = O> + Send>> = Box::pin(make(queue.clone()));
    let (waker, _) = recorder(false);
    assert!(poll_once(fut.as_mut(), &waker).is_pending(), "must park");
    fut
}

/// (a) A bounded queue of 1: one thread puts 1 then 2, another gets twice,
/// and a third drops a getter that parked first of all — at any point: while
/// still parked, or after item 1 was already handed to it. Whatever the
/// interleaving, the consumer gets 1 then 2: nothing lost (a dropped
/// hand-off goes to the next getter or the front), nothing duplicated,
/// FIFO, and nobody is left waiting (a lost wake would be a deadlock).
#[test]
fn loom_queue_get_cancelled_at_any_point_loses_and_duplicates_nothing() {
    model(|| {
        let q = Queue::bounded(1);
        let cancelled = parked(&q, |q| async move { q.get().await });
        let producer = {
            let q = q.clone();
            thread::spawn(move || {
                block_on(q.put(1));
                block_on(q.put(2));
            })
        };
        let canceller = thread::spawn(move || drop(cancelled));
        let consumer = {
            let q = q.clone();
            thread::spawn(move || [block_on(q.get()), block_on(q.get())])
        };
        producer.join().unwrap();
        canceller.join().unwrap();
        assert_eq!(consumer.join().unwrap(), [1, 2]);
        assert_eq!((q.len(), q.waiter_count()), (0, 0));
    });
}

/// (b) `Event::set` against two waiters: one waits to the end, the other
/// parks with a waker that panics and then gives up (drops its `Wait`) at
/// any point. Every waiter parked when `set` ran is woken — the patient one
/// always, past the panicking waker whichever order they parked in — and
/// `set` reports the panic exactly when it did wake the panicking waker.
/// Nothing stays in the waiter list.
#[test]
fn loom_event_set_wakes_every_parked_waiter_past_a_panicking_waker_and_a_cancel() {
    model(|| {
        let e = Event::new();
        let patient = {
            let e = e.clone();
            thread::spawn(move || block_on(e.wait()))
        };
        let (waker, panicky) = recorder(true);
        let quitter = {
            let e = e.clone();
            thread::spawn(move || {
                let mut wait = pin!(e.wait());
                let parked = poll_once(wait.as_mut(), &waker).is_pending();
                parked // `wait` is dropped here: cancelled if still parked
            })
        };
        let set = catch_unwind(AssertUnwindSafe(|| e.set()));
        patient.join().unwrap();
        let quitter_parked = quitter.join().unwrap();
        let woken = panicky.wakes();
        assert!(woken <= 1, "woken twice");
        assert_eq!(set.is_err(), woken == 1, "set() reports what it woke");
        assert!(quitter_parked || woken == 0, "woken without parking");
        assert!(e.is_set());
        assert_eq!(e.waiter_count(), 0);
    });
}

/// (c) The cancel-safe put. A full bounded queue of 1 (holding 0); the
/// oldest putter (99) parks and is dropped by another thread at any point —
/// perhaps after a get freed the slot and it was reserved for it. A second
/// putter (1) and a getter of two items run concurrently. The dropped put
/// never puts 99 — the getter gets 0 then 1 — and the reservation it may
/// have held passes on to the putter of 1 (or frees the slot), so nobody
/// is left waiting and exactly two items count as put.
#[test]
fn loom_queue_put_cancelled_with_a_reserved_slot_hands_the_slot_on() {
    model(|| {
        let q = Queue::bounded(1);
        q.put_nowait(0).unwrap();
        let cancelled = parked(&q, |q| async move { q.put(99).await });
        let producer = {
            let q = q.clone();
            thread::spawn(move || block_on(q.put(1)))
        };
        let canceller = thread::spawn(move || drop(cancelled));
        let consumer = {
            let q = q.clone();
            thread::spawn(move || [block_on(q.get()), block_on(q.get())])
        };
        producer.join().unwrap();
        canceller.join().unwrap();
        assert_eq!(consumer.join().unwrap(), [0, 1]);
        assert_eq!((q.len(), q.is_full(), q.waiter_count()), (0, false, 0));
        assert_eq!(q.task_done(), Ok(()));
        assert_eq!(q.task_done(), Ok(()));
        assert_eq!(q.task_done(), Err(TaskDoneError));
    });
}

/// What a child of the model below waits for: a count another thread
/// raises, and the child's waker, stored once at its first poll. The
/// count is relaxed on both sides, on purpose: the only thing that can
/// make the raised count visible to the child's next poll is the
/// synchronisation of the waker it was woken through.
struct Remote {
    count: AtomicUsize,
    waker: loom::sync::Mutex<Option<Waker>>,
}

impl Remote {
    /// Raises the count, then wakes whoever waits (the stored waker, which
    /// is the child's own `ChildWaker`).
    fn raise(&self) {
        self.count.fetch_add(1, Relaxed);
        let waker = self.waker.lock().unwrap().clone();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Ready once the count reached `target`.
struct Counted {
    remote: loom::sync::Arc<Remote>,
    target: usize,
}

impl Future for Counted {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.remote.count.load(Relaxed) >= self.target {
            return Poll::Ready(());
        }
        let mut slot = self.remote.waker.lock().unwrap();
        if slot.is_none() {
            *slot = Some(cx.waker().clone());
            drop(slot);
            // Re-check: a raise before the store found no waker to wake.
            if self.remote.count.load(Relaxed) >= self.target {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

/// (d) The ready-list protocol of `FutureSet` (`future_set.rs`), through
/// `join_all`: a child needs two raises from another thread, and the
/// second may land at any point — while its key waits in the ready list,
/// while the parent is polling it, after. The parent is driven by
/// `block_on`, so a lost wake is a deadlock. Two things keep it from
/// being lost, and breaking either makes this model fail: the child's
/// `queued` flag is cleared *before* it is polled (cleared after, a raise
/// during the poll is taken for a duplicate and dropped), and that clear
/// is an acquire that reads the waker's release (relaxed, the child can
/// be polled without seeing the raise that woke it, and nobody wakes it
/// again).
#[test]
fn loom_join_all_a_wake_during_or_before_a_childs_poll_is_never_lost() {
    model(|| {
        let remote = loom::sync::Arc::new(Remote {
            count: AtomicUsize::new(0),
            waker: loom::sync::Mutex::new(None),
        });
        let raiser = {
            let remote = loom::sync::Arc::clone(&remote);
            thread::spawn(move || {
                remote.raise();
                remote.raise();
            })
        };
        block_on(crate::join_all([Counted { remote, target: 2 }]));
        raiser.join().unwrap();
    });
}
