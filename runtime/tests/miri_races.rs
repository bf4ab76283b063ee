//! Races between the runtime's thread and others, small enough for Miri,
//! which explores thread interleavings and weak-memory behaviours that a
//! real machine shows rarely or never. Each seed is another schedule;
//! `scripts/miri.sh` runs this file over several:
//!
//! ```text
//! MIRIFLAGS="-Zmiri-strict-provenance -Zmiri-many-seeds=0..16" \
//!     cargo +nightly miri test -p spindle-runtime --test miri_races
//! ```
//!
//! Two protocols are exercised:
//!
//! - **The join protocol while the reference count moves** (`task/state.rs`). The
//!   count shares `Header::state` with the join bits that `JoinHandle`
//!   compare-exchanges; a waker cloned, dropped or woken during the handle's
//!   poll must not make the handle take the task for finished. These are the
//!   scenarios of the workspace's `tests/rt_join_race.rs`, with few rounds.
//! - **Coalesced remote wakes** (`executor.rs`, the mailbox). A wake from
//!   another thread that finds one already queued sends nothing; the poll
//!   that the queued message causes must still see what that thread wrote
//!   before its later wake.
//!
//! Outside Miri the same tests run with more rounds, as plain stress tests.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use spindle_runtime::{run, spawn, yield_now, JoinHandle, Runtime};

#[path = "common/join_race.rs"]
mod join_race;
use join_race::{panic_text, unpark_waker, Churn, DropSites, Overlap};

fn poll_pending<T>(handle: &mut JoinHandle<T>, cx: &mut Context<'_>) -> bool {
    Pin::new(handle).poll(cx).is_pending()
}

/// Waits until `done()`, napping in growing steps, for at most ten seconds
/// (under Miri, of its virtual clock, which jumps ahead when every thread is
/// blocked: a wait for something that never comes costs next to nothing).
fn eventually(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut nap = Duration::from_micros(100);
    loop {
        if done() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(500));
    }
}

thread_local! {
    /// The handle of the task in the first test, where that task finds it.
    static OWN_HANDLE: RefCell<Option<JoinHandle<u32>>> = const { RefCell::new(None) };
    /// What that task's poll of its own handle returned: pending or not.
    static SELF_POLL: Cell<Option<bool>> = const { Cell::new(None) };
    /// Drops of [`CountDrop`] on this thread.
    static DROPS: Cell<u32> = const { Cell::new(0) };
}

/// Counts its drops in [`DROPS`]. Zero-sized, so that even a second drop of
/// the same value (possible on the unfixed code in a release build) is
/// harmless.
struct CountDrop;

impl Drop for CountDrop {
    fn drop(&mut self) {
        DROPS.with(|drops| drops.set(drops.get() + 1));
    }
}

/// A task polls its own handle (cloning its own waker into it), then `main`
/// awaits the handle (dropping that clone): the count moves inside both
/// polls. Deterministic. The task's state is in thread-locals rather than
/// captured `Rc`s because the unfixed code drops the future in the middle of
/// its own poll.
#[test]
fn a_task_that_polled_its_own_handle_is_joined_by_main() {
    SELF_POLL.with(|polled| polled.set(None));
    DROPS.with(|drops| drops.set(0));
    run(async {
        let task = spawn(async {
            let _guard = CountDrop;
            let pending = poll_fn(|cx| {
                OWN_HANDLE
                    .with(|own| Poll::Ready(poll_pending(own.borrow_mut().as_mut().unwrap(), cx)))
            })
            .await;
            SELF_POLL.with(|polled| polled.set(Some(pending)));
            yield_now().await;
            7
        });
        OWN_HANDLE.with(|own| *own.borrow_mut() = Some(task));
        yield_now().await; // the task polls its own handle, then yields
        let handle = OWN_HANDLE.with(|own| own.borrow_mut().take()).unwrap();
        let self_poll = SELF_POLL.with(Cell::get);
        let drops_before = DROPS.with(Cell::get);
        let output = handle.await;
        assert!(
            self_poll == Some(true) && drops_before == 0 && matches!(output, Ok(7)),
            "the task's poll of its own handle: {self_poll:?} (Some(true), pending, \
             expected); drops of its future before main's poll: {drops_before}; \
             main's await: {output:?}"
        );
    });
    assert_eq!(DROPS.with(Cell::get), 1);
}

/// The handle is polled once on another thread with a waker of its own
/// task, while the task waits: cloning it into the handle moves the count
/// inside that poll. The `!Send` future must not be dropped there.
/// Deterministic.
#[test]
fn a_handle_polled_on_another_thread_with_its_tasks_waker() {
    let runtime_thread = thread::current().id();
    let sites = DropSites::default();
    let site = sites.guard();
    let on_main = sites.clone();
    run(async move {
        let waker: Rc<RefCell<Option<Waker>>> = Rc::default();
        let go = Rc::new(Cell::new(false));
        let (slot, gate) = (waker.clone(), go.clone());
        let handle = spawn(async move {
            let _site = site;
            poll_fn(|cx| {
                *slot.borrow_mut() = Some(cx.waker().clone());
                Poll::Ready(())
            })
            .await;
            while !gate.get() {
                yield_now().await;
            }
            7
        });
        yield_now().await; // the task hands out its waker, then waits
        let waker = waker.borrow_mut().take().unwrap();
        // The runtime's thread blocks in `join`: no poll of the task overlaps.
        let (handle, polled) = thread::spawn(move || {
            let mut handle = handle;
            let polled = catch_unwind(AssertUnwindSafe(|| {
                poll_pending(&mut handle, &mut Context::from_waker(&waker))
            }))
            .map_err(|payload| panic_text(&*payload));
            (handle, polled)
        })
        .join()
        .unwrap();
        assert!(
            polled == Ok(true),
            "polling the handle on another thread: {polled:?} (Ok(true), pending, \
             expected); the future was dropped on {:?}, the runtime runs on \
             {runtime_thread:?}",
            on_main.get()
        );
        go.set(true);
        assert_eq!(handle.await.unwrap(), 7);
    });
    assert_eq!(sites.get(), [runtime_thread]);
}

/// A waker whose last drop says so and then waits, boundedly, for the test
/// to let it go on: dropped by a handle that replaces it, it holds that
/// handle's poll at the point of the drop.
struct HoldOnDrop {
    dropping: Arc<AtomicBool>,
    go_on: Arc<AtomicBool>,
}

impl Wake for HoldOnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for HoldOnDrop {
    fn drop(&mut self) {
        self.dropping.store(true, Ordering::Release);
        eventually(|| self.go_on.load(Ordering::Acquire));
    }
}

/// The handle is polled on another thread with a [`HoldOnDrop`] waker, then
/// with another, which drops the first inside the second poll; meanwhile the
/// task clones its own waker, and the runtime's thread then blocks until the
/// poll is over. Both polls must be pending and leave the `!Send` future
/// alone. Deterministic.
#[test]
fn a_poll_on_another_thread_while_the_tasks_count_moves_leaves_the_task_alone() {
    let runtime_thread = thread::current().id();
    let sites = DropSites::default();
    let site = sites.guard();
    let on_main = sites.clone();
    run(async move {
        let dropping = Arc::new(AtomicBool::new(false));
        let go_on = Arc::new(AtomicBool::new(false));
        let kept: Rc<RefCell<Option<Waker>>> = Rc::default();
        let finish = Rc::new(Cell::new(false));
        let (in_drop, slot, gate) = (dropping.clone(), kept.clone(), finish.clone());
        let handle = spawn(async move {
            let _site = site;
            poll_fn(|cx| {
                if gate.get() {
                    return Poll::Ready(7);
                }
                if in_drop.load(Ordering::Acquire) && slot.borrow().is_none() {
                    *slot.borrow_mut() = Some(cx.waker().clone());
                }
                cx.waker().wake_by_ref();
                Poll::Pending
            })
            .await
        });
        let first = Waker::from(Arc::new(HoldOnDrop {
            dropping: dropping.clone(),
            go_on: go_on.clone(),
        }));
        let poller = thread::spawn(move || {
            let mut handle = handle;
            let mut poll_with = |waker: Waker| {
                catch_unwind(AssertUnwindSafe(|| {
                    poll_pending(&mut handle, &mut Context::from_waker(&waker))
                }))
                .map_err(|payload| panic_text(&*payload))
            };
            let first = poll_with(first);
            let second = poll_with(unpark_waker());
            (handle, first, second)
        });
        while kept.borrow().is_none() && !poller.is_finished() {
            yield_now().await;
        }
        go_on.store(true, Ordering::Release);
        let (handle, first, second) = poller.join().unwrap();
        assert!(
            first == Ok(true) && second == Ok(true),
            "polling the handle on another thread: {first:?}, then {second:?} \
             (Ok(true), pending, expected); the future was dropped on {:?}, the \
             runtime runs on {runtime_thread:?}",
            on_main.get()
        );
        assert!(kept.borrow_mut().take().is_some(), "the count moved");
        finish.set(true);
        assert_eq!(handle.await.unwrap(), 7);
    });
    assert_eq!(sites.get(), [runtime_thread]);
}

/// A one-item slot that a task waits on and another thread fills, like a
/// `Queue::get` served by `put_nowait`: the filler takes the stored waker
/// and wakes it by value.
#[derive(Clone, Default)]
struct Slot(Arc<Mutex<(Option<u64>, Option<Waker>)>>);

impl Slot {
    fn fill(&self, item: u64) {
        let waker = {
            let mut slot = self.0.lock().unwrap();
            slot.0 = Some(item);
            slot.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    async fn take(&self) -> u64 {
        poll_fn(|cx| {
            let mut slot = self.0.lock().unwrap();
            match slot.0.take() {
                Some(item) => Poll::Ready(item),
                None => {
                    slot.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// `main` awaits the handle of a task parked on a [`Slot`] while another
/// thread fills the slot, waking the task: the wake's reference-count
/// changes can land inside the handle's first poll.
#[test]
fn main_joins_a_task_woken_from_another_thread() {
    const ROUNDS: u64 = if cfg!(miri) { 12 } else { 2000 };
    const STOP: u64 = u64::MAX;
    let slot = Slot::default();
    let go = Arc::new(AtomicU64::new(0));
    let filler = {
        let (slot, go) = (slot.clone(), go.clone());
        thread::spawn(move || {
            let mut done = 0;
            loop {
                let round = go.load(Ordering::Acquire);
                if round == done {
                    thread::yield_now();
                    continue;
                }
                if round == STOP {
                    return;
                }
                slot.fill(round);
                done = round;
            }
        })
    };
    // Stops the filler however the rounds end, a panic included.
    struct Stop(Arc<AtomicU64>);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.store(STOP, Ordering::Release);
        }
    }
    let stop = Stop(go.clone());
    let reached = Cell::new(0);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        run(async {
            for round in 1..=ROUNDS {
                reached.set(round);
                let s = slot.clone();
                let task = spawn(async move { s.take().await });
                yield_now().await; // the task parks on the slot
                go.store(round, Ordering::Release);
                assert_eq!(task.await.unwrap(), round);
            }
        })
    }));
    drop(stop);
    filler.join().unwrap();
    if let Err(payload) = outcome {
        panic!(
            "round {} of {ROUNDS}: {}",
            reached.get(),
            panic_text(&*payload)
        );
    }
}

/// Polls `handle` `polls` times while its task churns, with a new waker each
/// time, then lets the task finish and waits for its output. `Ok` if every
/// poll was pending and the output came; otherwise what went wrong.
fn poll_from_here(mut handle: JoinHandle<()>, polls: u64, shared: &Overlap) -> Result<(), String> {
    for n in 1..=polls {
        if !eventually(|| shared.churning.load(Ordering::Acquire)) {
            return Err(format!("the task stopped churning before poll {n}"));
        }
        let waker = unpark_waker();
        let mut cx = Context::from_waker(&waker);
        match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut handle).poll(&mut cx))) {
            Ok(Poll::Pending) => {}
            Ok(Poll::Ready(output)) => return Err(format!("poll {n} was ready: {output:?}")),
            Err(payload) => return Err(format!("poll {n} panicked: {}", panic_text(&*payload))),
        }
        shared.polls.fetch_add(1, Ordering::Release);
    }
    shared.stop.store(true, Ordering::Release);
    let waker = unpark_waker();
    let mut cx = Context::from_waker(&waker);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Poll::Ready(output) = Pin::new(&mut handle).poll(&mut cx) {
            return output.map_err(|error| format!("the task failed: {error}"));
        }
        if Instant::now() > deadline {
            return Err("the task did not finish".into());
        }
        thread::park_timeout(Duration::from_millis(10));
    }
}

/// A handle polled on another thread, with a new waker each time, while its
/// task clones and drops its waker on the runtime's thread: every poll is
/// pending until the task may finish, and the `!Send` future is dropped
/// once, on the runtime's thread.
#[test]
fn a_handle_polled_on_another_thread_while_its_task_churns_its_waker() {
    const POLLS: u64 = if cfg!(miri) { 8 } else { 20_000 };
    let runtime_thread = thread::current().id();
    let sites = DropSites::default();
    let shared = Arc::new(Overlap::default());
    let runtime = Runtime::new().unwrap();
    let poller = runtime.block_on(async {
        let handle = spawn(Churn {
            _site: sites.guard(),
            shared: shared.clone(),
            // Wait for one poll of the handle per burst: Miri is slow.
            overlap: 1,
        });
        let shared = shared.clone();
        thread::spawn(move || {
            let outcome = poll_from_here(handle, POLLS, &shared);
            shared.stop.store(true, Ordering::Release); // however it ended
            outcome
        })
    });
    let ran = catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(async {
            while !poller.is_finished() {
                yield_now().await;
            }
        })
    }))
    .map_err(|payload| panic_text(&*payload));
    let foreign = poller.join().unwrap();
    if ran.is_err() {
        // The runtime panicked mid-turn with a task half-polled; its drop
        // would only add a second, less telling panic.
        std::mem::forget(runtime);
    } else {
        drop(runtime);
    }
    let sites = sites.get();
    assert!(
        foreign.is_ok() && ran.is_ok() && sites == [runtime_thread],
        "polling the handle on another thread: {foreign:?}; the runtime: {ran:?}; \
         the future was dropped on {sites:?}, the runtime runs on {runtime_thread:?}"
    );
}

/// Another thread writes a value and wakes a task, `WRITES` times a round;
/// the task is done with a round when it has seen the round's last value.
/// The value is written `Relaxed`, so only the wake publishes it: a wake
/// that finds the task's earlier wake still in the mailbox sends nothing,
/// and the poll that the earlier message causes must then see the later
/// write (the loop has to acquire what the later waker released on the
/// task's `remote_queued` flag). If it does not, the task is never polled
/// again; the writer notices after a bounded wait, records the round, and
/// wakes the task once more so that the test ends.
#[test]
fn a_wake_merged_into_a_queued_one_publishes_the_writes_before_it() {
    const ROUNDS: u64 = if cfg!(miri) { 4 } else { 1000 };
    const WRITES: u64 = 3;
    let value = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(AtomicU64::new(0));
    let (waker_out, waker_in) = mpsc::channel::<Waker>();
    let writer = {
        let (value, seen) = (value.clone(), seen.clone());
        thread::spawn(move || {
            let waker = waker_in.recv().unwrap();
            let mut lost = Vec::new();
            for round in 0..ROUNDS {
                let last = (round + 1) * WRITES;
                for k in last + 1 - WRITES..=last {
                    value.store(k, Ordering::Relaxed);
                    waker.wake_by_ref();
                }
                if !eventually(|| seen.load(Ordering::Acquire) == last) {
                    lost.push(last);
                    // The loop drained the merged wake long ago: this one
                    // travels as a message of its own, which does publish.
                    waker.wake_by_ref();
                    assert!(
                        eventually(|| seen.load(Ordering::Acquire) == last),
                        "the task never saw {last}, even after another wake"
                    );
                }
            }
            lost
        })
    };
    let mut waker_out = Some(waker_out);
    run(async {
        let task = spawn(poll_fn(move |cx| {
            if let Some(out) = waker_out.take() {
                out.send(cx.waker().clone()).unwrap();
            }
            let now = value.load(Ordering::Relaxed);
            seen.store(now, Ordering::Release);
            if now == ROUNDS * WRITES {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
        task.await.unwrap();
    });
    let lost = writer.join().unwrap();
    assert!(
        lost.is_empty(),
        "the task was not polled after the wake that followed writing {lost:?} \
         (of {ROUNDS} rounds): that wake coalesced with a queued one, and the \
         poll the queued one caused did not see the write"
    );
}
