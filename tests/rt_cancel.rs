//! Cancellation and shutdown: `JoinHandle::cancel` (on the owner thread, by
//! the task itself, from another thread), detaching by dropping the handle,
//! and the cancellation of every pending task when a runtime shuts down.

mod support;

use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::ThreadId;
use std::time::Duration;

use spindle::time::sleep;
use spindle::{run, spawn, yield_now, Handle, JoinHandle, Runtime};
use support::{within, SetOnDrop};

/// Counts its drops and the threads they happened on; `Send`, so it can
/// report to a test that outlives the runtime.
#[derive(Clone, Default)]
struct DropLog {
    ids: Arc<Mutex<Vec<(usize, ThreadId)>>>,
}

impl DropLog {
    /// A guard with number `id` that records itself here when dropped.
    fn guard(&self, id: usize) -> Guard {
        Guard {
            id,
            log: self.clone(),
        }
    }

    /// The ids dropped so far, sorted, with the thread each was dropped on.
    fn dropped(&self) -> Vec<(usize, ThreadId)> {
        let mut ids = self.ids.lock().unwrap().clone();
        ids.sort_by_key(|&(id, _)| id);
        ids
    }
}

struct Guard {
    id: usize,
    log: DropLog,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.log
            .ids
            .lock()
            .unwrap()
            .push((self.id, std::thread::current().id()));
    }
}

/// Asserts that exactly the guards `0..count` were dropped, once each, on
/// this thread.
fn assert_dropped_once_here(log: &DropLog, count: usize) {
    let dropped = log.dropped();
    let ids: Vec<usize> = dropped.iter().map(|&(id, _)| id).collect();
    assert_eq!(
        ids,
        (0..count).collect::<Vec<_>>(),
        "each pending future must be dropped exactly once"
    );
    let here = std::thread::current().id();
    assert!(
        dropped.iter().all(|&(_, thread)| thread == here),
        "a future was dropped off the runtime thread"
    );
}

/// A one-shot signal from a `Drop` impl to a waiting future, on one thread.
#[derive(Clone, Default)]
struct DropSignal(Rc<RefCell<(bool, Option<Waker>)>>);

impl DropSignal {
    fn guard(&self) -> SignalOnDrop {
        SignalOnDrop(self.clone())
    }

    fn fired(&self) -> bool {
        self.0.borrow().0
    }

    /// Completes once the guard has been dropped.
    fn wait(&self) -> impl Future<Output = ()> + '_ {
        poll_fn(move |cx| {
            let mut state = self.0.borrow_mut();
            if state.0 {
                Poll::Ready(())
            } else {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

struct SignalOnDrop(DropSignal);

impl Drop for SignalOnDrop {
    fn drop(&mut self) {
        let waker = {
            let mut state = (self.0).0.borrow_mut();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Runs its closure when dropped.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// Counts its polls; pending forever.
struct CountPolls(Rc<Cell<u32>>);

impl Future for CountPolls {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        self.0.set(self.0.get() + 1);
        Poll::Pending
    }
}

/// On the owner thread, `cancel` drops the future before it returns; the
/// handle then yields a cancelled `JoinError`.
#[test]
fn cancel_drops_the_future_before_cancel_returns() {
    run(async {
        let dropped = Rc::new(Cell::new(false));
        let guard = SetOnDrop(dropped.clone());
        let handle = spawn(async move {
            let _guard = guard;
            pending::<()>().await;
        });
        yield_now().await; // the task runs and parks
        assert!(!dropped.get());
        handle.cancel();
        assert!(
            dropped.get(),
            "the future is still alive after cancel() returned"
        );
        let error = handle.await.unwrap_err();
        assert!(error.is_cancelled());
        assert!(!error.is_panic());
    });
}

/// A task cancelled while still queued is dropped without ever being polled,
/// and is not polled afterwards either.
#[test]
fn cancel_of_a_queued_task_drops_it_unpolled() {
    run(async {
        let polls = Rc::new(Cell::new(0));
        let handle = spawn(CountPolls(polls.clone()));
        handle.cancel();
        assert_eq!(Rc::strong_count(&polls), 1, "the future was not dropped");
        for _ in 0..3 {
            yield_now().await;
        }
        assert_eq!(polls.get(), 0);
        assert!(handle.await.unwrap_err().is_cancelled());
    });
}

/// The future is dropped before a task awaiting the handle learns of the
/// cancellation: the waiting task sees `Err(cancelled)` after the drop.
#[test]
fn a_waiting_task_sees_the_cancellation_after_the_drop() {
    let trace = run(async {
        let trace = Rc::new(RefCell::new(Vec::<String>::new()));
        let log = trace.clone();
        let record = OnDrop(move || log.borrow_mut().push("future dropped".into()));
        let target = spawn(async move {
            let _record = record;
            pending::<()>().await;
        });
        // The handle lives in a slot that the waiter borrows only while it
        // polls, so that main can `cancel` it in between.
        let slot = Rc::new(RefCell::new(target));
        let (log, polled) = (trace.clone(), slot.clone());
        let waiter = spawn(async move {
            let result = poll_fn(|cx| Pin::new(&mut *polled.borrow_mut()).poll(cx)).await;
            let cancelled = result.is_err_and(|e| e.is_cancelled());
            log.borrow_mut()
                .push(format!("joined: cancelled={cancelled}"));
        });
        yield_now().await; // `target` parks, `waiter` waits on it
        slot.borrow().cancel();
        waiter.await.unwrap();
        trace.take()
    });
    assert_eq!(trace, ["future dropped", "joined: cancelled=true"]);
}

/// Cancelling a task that already finished keeps its result.
#[test]
fn cancel_of_a_finished_task_keeps_its_result() {
    run(async {
        let handle = spawn(async { 5 });
        yield_now().await;
        assert!(handle.is_finished());
        handle.cancel();
        assert_eq!(handle.await.unwrap(), 5);

        // Also when the task finished by panicking: the panic is kept.
        let panicked = spawn(async { panic!("kept") });
        yield_now().await;
        panicked.cancel();
        assert!(panicked.await.unwrap_err().is_panic());
    });
}

/// `cancel` twice is the same as once.
#[test]
fn cancel_twice_is_harmless() {
    run(async {
        let drops = Rc::new(Cell::new(0));
        let counter = drops.clone();
        let guard = OnDrop(move || counter.set(counter.get() + 1));
        let handle = spawn(async move {
            let _guard = guard;
            pending::<()>().await;
        });
        handle.cancel();
        handle.cancel();
        yield_now().await;
        handle.cancel();
        assert_eq!(drops.get(), 1);
        assert!(handle.await.unwrap_err().is_cancelled());
    });
}

/// A task that cancels itself through its own handle keeps running until its
/// poll returns, is then dropped, and is never polled again — whether or not
/// it woke itself in that poll.
#[test]
fn a_task_cancelling_itself_is_dropped_after_its_poll() {
    for wakes_itself in [false, true] {
        let trace = run(async move {
            let trace = Rc::new(RefCell::new(Vec::<String>::new()));
            let dropped = Rc::new(Cell::new(false));
            let slot: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::new(RefCell::new(None));
            let (log, own_handle, seen, guard) = (
                trace.clone(),
                slot.clone(),
                dropped.clone(),
                SetOnDrop(dropped.clone()),
            );
            let handle = spawn(async move {
                let _guard = guard;
                own_handle
                    .borrow()
                    .as_ref()
                    .expect("main stores the handle first")
                    .cancel();
                log.borrow_mut()
                    .push(format!("cancelled itself; dropped={}", seen.get()));
                if wakes_itself {
                    yield_now().await; // wakes itself, then returns Pending
                } else {
                    pending::<()>().await;
                }
                log.borrow_mut().push("polled again".into());
            });
            *slot.borrow_mut() = Some(handle);
            yield_now().await; // the task runs and cancels itself
            assert!(
                dropped.get(),
                "the task was not dropped after its poll returned"
            );
            for _ in 0..3 {
                yield_now().await;
            }
            let handle = slot.borrow_mut().take().unwrap();
            assert!(handle.await.unwrap_err().is_cancelled());
            trace.take()
        });
        assert_eq!(
            trace,
            ["cancelled itself; dropped=false"],
            "wakes_itself = {wakes_itself}"
        );
    }
}

/// A task whose own future holds its only `JoinHandle` can cancel itself:
/// dropping the future drops the handle too.
#[test]
fn a_task_owning_its_own_handle_can_cancel_itself() {
    run(async {
        let dropped = Rc::new(Cell::new(false));
        let guard = SetOnDrop(dropped.clone());
        let slot: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::new(RefCell::new(None));
        let own_handle = slot.clone();
        let handle = spawn(async move {
            let _guard = guard;
            let own_handle = own_handle.borrow_mut().take().unwrap();
            own_handle.cancel();
            pending::<()>().await;
            drop(own_handle);
        });
        *slot.borrow_mut() = Some(handle);
        drop(slot); // the task's future now holds the only handle
        yield_now().await;
        assert!(dropped.get());
        yield_now().await;
    });
}

/// `cancel` from another thread (a `JoinHandle<T>` is `Send` when `T` is)
/// reaches a loop that is blocked waiting: the future is dropped, then the
/// handle yields `Err(cancelled)`.
#[test]
fn cancel_from_another_thread_rouses_the_loop() {
    within(Duration::from_secs(5), || {
        run(async {
            let signal = DropSignal::default();
            let guard = signal.guard();
            // The future is not `Send`; the handle is.
            let handle: JoinHandle<()> = spawn(async move {
                let _guard = guard;
                let _not_send = Rc::new(());
                pending::<()>().await;
            });
            yield_now().await; // the task parks; now nothing is ready
            let canceller = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                handle.cancel();
                handle
            });
            // Blocks in the poller: only the cancel message can wake us.
            signal.wait().await;
            let handle = canceller.join().unwrap();
            assert!(handle.is_finished());
            assert!(handle.await.unwrap_err().is_cancelled());
        });
    });
}

/// `cancel` from another thread while the runtime is not running takes effect
/// at the next `block_on`.
#[test]
#[allow(clippy::async_yields_async)] // the handle is handed out of `block_on` on purpose
fn cancel_from_another_thread_between_block_ons() {
    within(Duration::from_secs(5), || {
        let runtime = Runtime::new().unwrap();
        let signal = DropSignal::default();
        let guard = signal.guard();
        let handle = runtime.block_on(async {
            let handle = spawn(async move {
                let _guard = guard;
                pending::<()>().await;
            });
            yield_now().await;
            handle
        });
        let handle = std::thread::spawn(move || {
            handle.cancel();
            handle
        })
        .join()
        .unwrap();
        assert!(
            !signal.fired(),
            "the future must be dropped on the runtime thread, by the runtime"
        );
        let result = runtime.block_on(async {
            signal.wait().await;
            handle.await
        });
        assert!(result.unwrap_err().is_cancelled());
    });
}

/// Dropping a `JoinHandle` detaches the task: it runs to completion.
#[test]
fn dropping_the_handle_detaches_the_task() {
    within(Duration::from_secs(5), || {
        run(async {
            let steps = Rc::new(Cell::new(0));
            let dropped = Rc::new(Cell::new(false));
            let (counter, guard) = (steps.clone(), SetOnDrop(dropped.clone()));
            drop(spawn(async move {
                let _guard = guard;
                for _ in 0..3 {
                    counter.set(counter.get() + 1);
                    yield_now().await;
                }
                sleep(Duration::from_millis(1)).await;
                counter.set(counter.get() + 1);
            }));
            while steps.get() < 4 {
                sleep(Duration::from_millis(1)).await;
            }
            yield_now().await;
            assert!(dropped.get(), "a finished task's future is dropped");
        });
    });
}

/// Every task still pending when `run` returns is dropped exactly once, on
/// the runtime thread, before `run` returns — whatever it was waiting for.
#[test]
#[allow(clippy::async_yields_async)] // the handle is handed out of `run` on purpose
fn run_drops_every_pending_task_once_on_its_thread() {
    let log = DropLog::default();
    let in_run = log.clone();
    let leftover = run(async move {
        let log = in_run;
        // 0..10: parked forever after a poll.
        for id in 0..10 {
            let guard = log.guard(id);
            drop(spawn(async move {
                let _guard = guard;
                pending::<()>().await;
            }));
        }
        // 10: asleep on a long timer.
        let guard = log.guard(10);
        drop(spawn(async move {
            let _guard = guard;
            sleep(Duration::from_secs(3600)).await;
        }));
        // 11: waiting on another pending task (12), whose handle it owns.
        let (guard, inner_guard) = (log.guard(11), log.guard(12));
        let inner = spawn(async move {
            let _guard = inner_guard;
            pending::<()>().await;
        });
        drop(spawn(async move {
            let _guard = guard;
            let _ = inner.await;
        }));
        // 13: waking itself forever.
        let guard = log.guard(13);
        drop(spawn(async move {
            let _guard = guard;
            loop {
                yield_now().await;
            }
        }));
        yield_now().await;
        // 14: spawned last, never polled; its handle is kept.
        let guard = log.guard(14);
        let kept = spawn(async move {
            let _guard = guard;
        });
        assert!(
            log.dropped().is_empty(),
            "nothing is dropped while the tasks are pending"
        );
        kept
    });
    assert_dropped_once_here(&log, 15);
    assert!(leftover.is_finished());
}

/// `block_on` returning leaves pending tasks paused, not dropped; dropping the
/// runtime drops them, exactly once, on its thread.
#[test]
fn dropping_the_runtime_drops_pending_tasks() {
    let log = DropLog::default();
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        for id in 0..5 {
            let guard = log.guard(id);
            drop(spawn(async move {
                let _guard = guard;
                pending::<()>().await;
            }));
        }
        yield_now().await;
    });
    assert!(
        log.dropped().is_empty(),
        "block_on returning must not cancel tasks"
    );
    drop(runtime);
    assert_dropped_once_here(&log, 5);
}

/// A future whose `Drop` spawns another task during shutdown: the new task is
/// dropped too (here, a chain of three), on the runtime thread.
#[test]
fn tasks_spawned_during_shutdown_are_dropped() {
    /// Spawns the next link of the chain when dropped.
    struct SpawnOnDrop {
        depth: usize,
        log: DropLog,
        _guard: Guard,
    }

    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            if self.depth < 3 {
                let next = SpawnOnDrop {
                    depth: self.depth + 1,
                    log: self.log.clone(),
                    _guard: self.log.guard(self.depth + 1),
                };
                drop(spawn(async move {
                    let _next = next;
                    pending::<()>().await;
                }));
            }
        }
    }

    let log = DropLog::default();
    let in_run = log.clone();
    run(async move {
        let first = SpawnOnDrop {
            depth: 0,
            log: in_run.clone(),
            _guard: in_run.guard(0),
        };
        drop(spawn(async move {
            let _first = first;
            pending::<()>().await;
        }));
        yield_now().await;
    });
    assert_dropped_once_here(&log, 4);
}

/// The handle of a task that was pending at shutdown yields a cancelled
/// `JoinError`, awaited anywhere: on another runtime, on another thread, on
/// another executor. `cancel` on it is a no-op.
#[test]
fn a_handle_outliving_its_runtime_yields_cancelled() {
    let (a, b, c) = run(async {
        let handles = (
            spawn(pending::<u32>()),
            spawn(pending::<u32>()),
            spawn(pending::<u32>()),
        );
        yield_now().await;
        handles
    });
    assert!(a.is_finished());

    a.cancel(); // the runtime is gone: nothing to do, nothing to panic about
    let error = Runtime::new().unwrap().block_on(a).unwrap_err();
    assert!(error.is_cancelled());

    let on_thread = std::thread::spawn(move || Runtime::new().unwrap().block_on(b))
        .join()
        .unwrap();
    assert!(on_thread.unwrap_err().is_cancelled());

    assert!(futures_executor::block_on(c).unwrap_err().is_cancelled());
}

/// A future handed to another thread's `Handle::spawn` and cancelled from
/// yet another thread is dropped on the runtime thread.
#[test]
fn cross_thread_spawn_then_cancel() {
    within(Duration::from_secs(5), || {
        let runtime = Runtime::new().unwrap();
        let log = DropLog::default();
        let handle: Handle = runtime.handle();
        let guard = log.guard(0);
        let task = std::thread::spawn(move || {
            handle.spawn(async move {
                let _guard = guard;
                pending::<()>().await;
            })
        })
        .join()
        .unwrap();
        let result = runtime.block_on(async {
            yield_now().await;
            yield_now().await;
            std::thread::scope(|s| {
                s.spawn(|| task.cancel());
            });
            task.await
        });
        assert!(result.unwrap_err().is_cancelled());
        assert_dropped_once_here(&log, 1);
    });
}
