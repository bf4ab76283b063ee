//! Other threads and the runtime: `Handle` (`current`, `spawn` from many
//! threads, rousing a blocked loop), cross-thread wakes (never lost, even
//! under stress or while the runtime is not running), join handles awaited
//! elsewhere, and `to_thread`.

mod support;

use std::cell::Cell;
use std::future::{pending, poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use spindle::time::{call_soon, now, sleep};
use spindle::{run, spawn, to_thread, yield_now, Builder, Handle, JoinHandle, Runtime};
use support::within;

/// A minimal one-shot channel built on nothing but `Waker`, so that the
/// tests control exactly which wakes happen.
struct Oneshot<T>(Arc<Mutex<(Option<T>, Option<Waker>)>>);

impl<T> Clone for Oneshot<T> {
    fn clone(&self) -> Self {
        Oneshot(self.0.clone())
    }
}

impl<T> Oneshot<T> {
    fn new() -> Self {
        Oneshot(Arc::new(Mutex::new((None, None))))
    }

    /// Stores `value` and wakes the receiver, if it waits.
    fn send(&self, value: T) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.0 = Some(value);
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Future for Oneshot<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.0.lock().unwrap();
        match state.0.take() {
            Some(value) => Poll::Ready(value),
            None => {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// `Handle::current` inside a runtime is a handle to that runtime: what it
/// spawns runs on the runtime's thread, from inside or from another thread.
#[test]
fn handle_current_is_the_running_runtime() {
    within(Duration::from_secs(5), || {
        let here = std::thread::current().id();
        let (inside, from_thread) = run(async {
            let handle = Handle::current();
            let inside = handle
                .spawn(async { std::thread::current().id() })
                .await
                .unwrap();
            let remote =
                std::thread::spawn(move || handle.spawn(async { std::thread::current().id() }))
                    .join()
                    .unwrap();
            // And from inside a task.
            let from_task = spawn(async { Handle::current().spawn(async { 1 }).await.unwrap() });
            assert_eq!(from_task.await.unwrap(), 1);
            (inside, remote.await.unwrap())
        });
        assert_eq!(inside, here);
        assert_eq!(from_thread, here);
    });
}

/// `Handle::spawn` from four threads at once, 1000 tasks each: every task
/// runs, on the runtime thread, with the right result, and each thread's
/// tasks first run in the order that thread spawned them.
#[test]
fn handle_spawn_from_four_threads() {
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 1000;
    within(Duration::from_secs(10), || {
        let runtime = Runtime::new().unwrap();
        let runtime_thread = std::thread::current().id();
        let order: Arc<Mutex<Vec<(u64, u64)>>> = Arc::default();
        // Each spawner thread hands back the handles of the tasks it spawned.
        type Spawner = std::thread::JoinHandle<Vec<JoinHandle<(u64, ThreadId)>>>;
        let spawners: Vec<Spawner> = (0..THREADS)
            .map(|t| {
                let (handle, order) = (runtime.handle(), order.clone());
                std::thread::spawn(move || {
                    (0..PER_THREAD)
                        .map(|i| {
                            let order = order.clone();
                            handle.spawn(async move {
                                order.lock().unwrap().push((t, i));
                                yield_now().await;
                                (t * PER_THREAD + i, std::thread::current().id())
                            })
                        })
                        .collect()
                })
            })
            .collect();
        runtime.block_on(async {
            for (t, spawner) in (0..THREADS).zip(spawners) {
                // Wait for the spawner without blocking the loop.
                let handles = to_thread(move || spawner.join().unwrap()).await.unwrap();
                for (i, handle) in (0..PER_THREAD).zip(handles) {
                    let (value, thread) = handle.await.unwrap();
                    assert_eq!(value, t * PER_THREAD + i);
                    assert_eq!(thread, runtime_thread);
                }
            }
        });
        let order = order.lock().unwrap();
        assert_eq!(order.len() as u64, THREADS * PER_THREAD);
        for t in 0..THREADS {
            let mine: Vec<u64> = order
                .iter()
                .filter(|&&(from, _)| from == t)
                .map(|&(_, i)| i)
                .collect();
            assert_eq!(
                mine,
                (0..PER_THREAD).collect::<Vec<_>>(),
                "thread {t}'s tasks ran out of spawn order"
            );
        }
    });
}

/// A `Handle::spawn` from another thread rouses a loop blocked in the poller:
/// the main future waits for a value that only the spawned task sends (a
/// wake on the runtime's own thread), so nothing but the spawn itself can
/// get the loop going again.
#[test]
fn handle_spawn_rouses_a_blocked_loop() {
    within(Duration::from_secs(5), || {
        let runtime = Runtime::new().unwrap();
        let handle = runtime.handle();
        let started = Instant::now();
        let value = runtime.block_on(async {
            let result = Oneshot::new();
            let sender = result.clone();
            let spawner = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                // Detached: the task itself delivers the value.
                drop(handle.spawn(async move { sender.send(42) }));
            });
            let value = result.await; // blocks in the poller: no timer, no task
            spawner.join().unwrap();
            value
        });
        assert_eq!(value, 42);
        assert!(started.elapsed() >= Duration::from_millis(30));
    });
}

/// A `Handle::spawn` whose handle is awaited by the main future, from a
/// thread that spawns while the loop is blocked.
#[test]
fn main_awaits_a_task_spawned_from_another_thread() {
    within(Duration::from_secs(5), || {
        let runtime = Runtime::new().unwrap();
        let handle = runtime.handle();
        let output = runtime.block_on(async {
            let delivery: Oneshot<JoinHandle<u32>> = Oneshot::new();
            let sender = delivery.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(10));
                sender.send(handle.spawn(async {
                    yield_now().await;
                    6 * 7
                }));
            });
            delivery.await.await.unwrap()
        });
        assert_eq!(output, 42);
    });
}

/// A task that completes once it has seen `sent == target`; it records every
/// value it saw, to check they never go backwards.
struct UntilCount {
    sent: Arc<AtomicU64>,
    target: u64,
    /// Where the first poll sends its waker, for the waking thread.
    waker_out: Option<mpsc::Sender<Waker>>,
    polls: u64,
    last_seen: u64,
}

impl Future for UntilCount {
    /// The number of polls it took.
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        self.polls += 1;
        if let Some(out) = self.waker_out.take() {
            out.send(cx.waker().clone()).unwrap();
        }
        let seen = self.sent.load(Ordering::SeqCst);
        assert!(
            seen >= self.last_seen,
            "the count went backwards: {seen} after {}",
            self.last_seen
        );
        self.last_seen = seen;
        if seen == self.target {
            Poll::Ready(self.polls)
        } else {
            Poll::Pending
        }
    }
}

/// Cross-thread wakes are never lost: four threads each wake their own task
/// 100 000 times, bumping a counter before each wake; every task is polled
/// after the last wake and sees the final count. Wakes coalesce, but a task
/// is never queued twice: at most one poll per wake (plus the first).
#[test]
fn cross_thread_wakes_are_never_lost() {
    const THREADS: usize = 4;
    const WAKES: u64 = 100_000;
    within(Duration::from_secs(30), || {
        let polls = run(async {
            let mut tasks = Vec::new();
            let mut wakers = Vec::new();
            for _ in 0..THREADS {
                let sent = Arc::new(AtomicU64::new(0));
                let (waker_out, waker_in) = mpsc::channel();
                tasks.push(spawn(UntilCount {
                    sent: sent.clone(),
                    target: WAKES,
                    waker_out: Some(waker_out),
                    polls: 0,
                    last_seen: 0,
                }));
                wakers.push(std::thread::spawn(move || {
                    let waker = waker_in.recv().unwrap();
                    for _ in 0..WAKES {
                        sent.fetch_add(1, Ordering::SeqCst);
                        waker.wake_by_ref();
                    }
                }));
            }
            let mut polls = Vec::new();
            for task in tasks {
                polls.push(task.await.unwrap());
            }
            for waker in wakers {
                waker.join().unwrap();
            }
            polls
        });
        for polls in polls {
            assert!(
                (1..=WAKES + 1).contains(&polls),
                "{polls} polls for {WAKES} wakes"
            );
        }
    });
}

/// A wake from another thread while the runtime is not inside `block_on`
/// waits in the mailbox; the next `block_on` polls the task.
#[test]
#[allow(clippy::async_yields_async)] // the handle is handed out of `block_on` on purpose
fn a_remote_wake_between_block_ons_is_kept() {
    within(Duration::from_secs(5), || {
        let runtime = Runtime::new().unwrap();
        let ready = Arc::new(AtomicBool::new(false));
        let (waker_out, waker_in) = mpsc::channel();
        let flag = ready.clone();
        let task = runtime.block_on(async move {
            let task = spawn(poll_fn(move |cx| {
                if flag.load(Ordering::SeqCst) {
                    Poll::Ready("woken")
                } else {
                    waker_out.send(cx.waker().clone()).unwrap();
                    Poll::Pending
                }
            }));
            yield_now().await; // the task parks
            task
        });
        let waker: Waker = waker_in.recv().unwrap();
        std::thread::spawn(move || {
            ready.store(true, Ordering::SeqCst);
            waker.wake();
        })
        .join()
        .unwrap();
        // If the wake were lost, this would block forever.
        assert_eq!(runtime.block_on(task).unwrap(), "woken");
    });
}

/// The same from the runtime's own thread: a wake while `block_on` is not
/// running is not lost either.
#[test]
#[allow(clippy::async_yields_async)] // the handle is handed out of `block_on` on purpose
fn an_owner_thread_wake_between_block_ons_is_kept() {
    within(Duration::from_secs(5), || {
        let runtime = Runtime::new().unwrap();
        let ready = Rc::new(Cell::new(false));
        let stored = Rc::new(Cell::new(None::<Waker>));
        let (flag, slot) = (ready.clone(), stored.clone());
        let task = runtime.block_on(async move {
            let task = spawn(poll_fn(move |cx| {
                if flag.get() {
                    Poll::Ready(1)
                } else {
                    slot.set(Some(cx.waker().clone()));
                    Poll::Pending
                }
            }));
            yield_now().await;
            task
        });
        ready.set(true);
        stored.take().unwrap().wake();
        assert_eq!(runtime.block_on(task).unwrap(), 1);
    });
}

/// A waker that outlives its runtime can still be woken and dropped, from
/// any thread: nothing happens, nothing panics.
#[test]
fn a_waker_outliving_its_runtime_is_harmless() {
    let stored = Rc::new(Cell::new(None::<Waker>));
    let slot = stored.clone();
    run(async move {
        drop(spawn(poll_fn(move |cx| {
            slot.set(Some(cx.waker().clone()));
            Poll::<()>::Pending
        })));
        yield_now().await;
    });
    let waker = stored.take().unwrap();
    waker.wake_by_ref();
    let clone = waker.clone();
    std::thread::spawn(move || clone.wake()).join().unwrap();
    drop(waker);
}

/// `Handle::spawn` after the runtime is gone drops the future at once and the
/// handle yields a cancelled `JoinError`.
#[test]
fn handle_spawn_after_shutdown_is_cancelled() {
    let runtime = Runtime::new().unwrap();
    let handle = runtime.handle();
    drop(runtime);
    let dropped = Arc::new(AtomicBool::new(false));
    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let guard = SetOnDrop(dropped.clone());
    let task = handle.spawn(async move {
        let _guard = guard;
        1
    });
    assert!(dropped.load(Ordering::SeqCst), "the future was kept");
    assert!(task.is_finished());
    assert!(futures_executor::block_on(task).unwrap_err().is_cancelled());
}

/// Join handles awaited on another thread, by another executor, while their
/// tasks finish on the loop: every completion reaches its waiter (the join
/// protocol's race between registering a waker and completing).
#[test]
fn join_handles_awaited_on_another_thread() {
    const TASKS: u64 = 2000;
    within(Duration::from_secs(10), || {
        let sum = run(async {
            let handles: Vec<JoinHandle<u64>> = (0..TASKS)
                .map(|i| {
                    spawn(async move {
                        for _ in 0..i % 3 {
                            yield_now().await;
                        }
                        i
                    })
                })
                .collect();
            to_thread(move || {
                handles
                    .into_iter()
                    .map(|h| futures_executor::block_on(h).unwrap())
                    .sum::<u64>()
            })
            .await
            .unwrap()
        });
        assert_eq!(sum, TASKS * (TASKS - 1) / 2);
    });
}

/// A `JoinHandle` polled by one task and then awaited by another wakes the
/// one that awaits it now.
#[test]
#[allow(clippy::async_yields_async)] // the handle is handed from task to task on purpose
fn a_join_handle_moved_between_tasks_wakes_its_latest_awaiter() {
    within(Duration::from_secs(5), || {
        run(async {
            let release = Rc::new(Cell::new(None::<Waker>));
            let done = Rc::new(Cell::new(false));
            let (slot, flag) = (release.clone(), done.clone());
            let target = spawn(poll_fn(move |cx| {
                if flag.get() {
                    Poll::Ready(9)
                } else {
                    slot.set(Some(cx.waker().clone()));
                    Poll::Pending
                }
            }));
            // Task A polls the handle once (registering its waker), then
            // hands it over and finishes.
            let first = spawn(async move {
                let mut target = target;
                let once =
                    poll_fn(|cx| Poll::Ready(Pin::new(&mut target).poll(cx).is_pending())).await;
                assert!(once);
                target
            });
            let target = first.await.unwrap();
            // Task B awaits it.
            let second = spawn(target);
            yield_now().await; // B registers its waker
            done.set(true);
            release.take().unwrap().wake();
            assert_eq!(second.await.unwrap().unwrap(), 9);
        });
    });
}

/// `to_thread` returns its closure's result.
#[test]
fn to_thread_returns_the_result() {
    within(Duration::from_secs(5), || {
        let (sum, thread) = run(async {
            to_thread(|| ((1..=100u32).sum::<u32>(), std::thread::current().id()))
                .await
                .unwrap()
        });
        assert_eq!(sum, 5050);
        assert_ne!(
            thread,
            std::thread::current().id(),
            "the job ran on the loop's thread"
        );
    });
}

/// A panic in the `to_thread` closure gives a `JoinError` with `is_panic`,
/// carrying the payload.
#[test]
fn to_thread_panic_is_a_join_error() {
    within(Duration::from_secs(5), || {
        let error = run(async {
            to_thread(|| -> u32 { panic!("job failed") })
                .await
                .unwrap_err()
        });
        assert!(error.is_panic());
        assert_eq!(
            error.into_panic().downcast_ref::<&str>(),
            Some(&"job failed")
        );
    });
}

/// The loop runs other tasks while a `to_thread` job blocks: a ticking task
/// advances while the job sleeps for 50 ms (the job itself reads the ticks).
/// Real time on purpose, even with `SPINDLE_CLOCK=virtual`: virtual time
/// holds its clock while a job runs, so the ticker would wait for the job.
#[test]
fn the_loop_runs_on_while_a_job_blocks() {
    within(Duration::from_secs(5), || {
        let ticks_during_job = Runtime::new().unwrap().block_on(async {
            let ticks = Arc::new(AtomicU64::new(0));
            let counter = ticks.clone();
            let ticker = spawn(async move {
                loop {
                    counter.fetch_add(1, Ordering::SeqCst);
                    sleep(Duration::from_millis(1)).await;
                }
            });
            yield_now().await;
            let during = to_thread(move || {
                let before = ticks.load(Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(50));
                ticks.load(Ordering::SeqCst) - before
            })
            .await
            .unwrap();
            ticker.cancel();
            during
        });
        assert!(
            ticks_during_job >= 2,
            "only {ticks_during_job} ticks while the job blocked for 50 ms"
        );
    });
}

/// Under virtual time the runtime waits for a `to_thread` job in real time
/// before jumping the clock: a one-hour sleep that is pending meanwhile does
/// not complete before the job does (the clock does not move while the job
/// runs), and completes at once afterwards.
#[test]
fn virtual_time_waits_for_to_thread_in_real_time() {
    within(Duration::from_secs(5), || {
        let runtime = Builder::default().virtual_time(true).build().unwrap();
        let real_start = Instant::now();
        let (job, hour_done_after_job, virtual_during_job, virtual_total) =
            runtime.block_on(async {
                let start = now();
                let hour_done = Rc::new(Cell::new(false));
                let flag = hour_done.clone();
                let hour = spawn(async move {
                    sleep(Duration::from_secs(3600)).await;
                    flag.set(true);
                });
                yield_now().await; // the sleeper registers its timer
                let job = to_thread(|| {
                    std::thread::sleep(Duration::from_millis(50));
                    "job"
                })
                .await
                .unwrap();
                let (hour_done_after_job, virtual_during_job) = (hour_done.get(), now() - start);
                hour.await.unwrap();
                (job, hour_done_after_job, virtual_during_job, now() - start)
            });
        assert_eq!(job, "job");
        assert!(
            !hour_done_after_job,
            "virtual time jumped past a timer while a to_thread job ran"
        );
        assert!(
            virtual_during_job < Duration::from_secs(3600),
            "{virtual_during_job:?}"
        );
        assert_eq!(virtual_total, Duration::from_secs(3600));
        let real = real_start.elapsed();
        assert!(
            real >= Duration::from_millis(50),
            "the job was not waited for: {real:?}"
        );
    });
}

/// Under virtual time, once a `to_thread` job has finished, a pending timer
/// fires at once (the clock jumps) instead of being waited for in real time.
///
/// Regression test: the helper thread used to wake the waiting task *before*
/// decrementing the pool's in-flight count, and nothing roused the loop after
/// the decrement. A loop that parked inside that window saw a job still in
/// flight and blocked in real time until the next virtual deadline (an hour
/// here). One iteration hit it about one run in three; fifty hit it always.
#[test]
fn virtual_time_jumps_at_once_after_a_to_thread_job() {
    within(Duration::from_secs(5), || {
        let runtime = Builder::default().virtual_time(true).build().unwrap();
        let elapsed = runtime.block_on(async {
            let start = now();
            for _ in 0..50 {
                to_thread(|| ()).await.unwrap();
                sleep(Duration::from_secs(3600)).await;
            }
            now() - start
        });
        assert_eq!(elapsed, Duration::from_secs(50 * 3600));
    });
}

/// A task that never finishes is no obstacle to `to_thread` under virtual
/// time with no timer at all (the loop blocks for the job's wake).
#[test]
fn virtual_time_to_thread_without_timers() {
    within(Duration::from_secs(5), || {
        let runtime = Builder::default().virtual_time(true).build().unwrap();
        let output = runtime.block_on(async {
            drop(spawn(pending::<()>()));
            to_thread(|| {
                std::thread::sleep(Duration::from_millis(20));
                3
            })
            .await
            .unwrap()
        });
        assert_eq!(output, 3);
    });
}

/// Counts drops of a value in a shared counter (`Send`).
struct CountDrop(Arc<AtomicU64>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// `JoinHandle`s dropped on another thread while their tasks finish on the
/// loop: every output is dropped exactly once (the race between the handle's
/// drop and the task's completion).
#[test]
fn join_handles_dropped_on_another_thread_drop_each_output_once() {
    const TASKS: u64 = 2000;
    within(Duration::from_secs(10), || {
        let drops = Arc::new(AtomicU64::new(0));
        let counter = drops.clone();
        run(async move {
            let handles: Vec<JoinHandle<CountDrop>> = (0..TASKS)
                .map(|i| {
                    let counter = counter.clone();
                    spawn(async move {
                        for _ in 0..i % 3 {
                            yield_now().await;
                        }
                        CountDrop(counter)
                    })
                })
                .collect();
            let dropper = to_thread(move || {
                for (i, handle) in handles.into_iter().enumerate() {
                    if i % 100 == 0 {
                        std::thread::yield_now();
                    }
                    drop(handle);
                }
            });
            dropper.await.unwrap();
            // Let every task finish.
            for _ in 0..4 {
                yield_now().await;
            }
        });
        assert_eq!(drops.load(Ordering::SeqCst), TASKS);
    });
}

/// `Handle::spawn` from another thread racing with the runtime's shutdown:
/// the thread keeps spawning from before the runtime is dropped until after.
/// Every future is dropped exactly once, and every handle resolves: to its
/// output if the task ran, to a cancelled `JoinError` otherwise.
#[test]
fn handle_spawn_racing_with_shutdown() {
    within(Duration::from_secs(10), || {
        let runtime = Runtime::new().unwrap();
        let handle = runtime.handle();
        let drops = Arc::new(AtomicU64::new(0));
        let ran = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counter, progress, stopped) = (drops.clone(), ran.clone(), stop.clone());
        let spawner = std::thread::spawn(move || {
            let mut handles = Vec::new();
            // At least a few spawns after the runtime is gone, and a cap so
            // that a slow machine cannot run out of memory.
            let mut after_stop = 0;
            while after_stop < 100 && handles.len() < 200_000 {
                if stopped.load(Ordering::SeqCst) {
                    after_stop += 1;
                }
                let (guard, progress) = (CountDrop(counter.clone()), progress.clone());
                let i = handles.len() as u64;
                handles.push(handle.spawn(async move {
                    let _guard = guard;
                    progress.fetch_add(1, Ordering::SeqCst);
                    yield_now().await;
                    i
                }));
            }
            handles
        });
        // Run until tasks are running, then shut down in the middle of the spawns.
        runtime.block_on(async {
            while ran.load(Ordering::SeqCst) < 100 {
                yield_now().await;
            }
        });
        drop(runtime);
        stop.store(true, Ordering::SeqCst);
        let handles = spawner.join().unwrap();
        let spawned = handles.len() as u64;
        assert_eq!(
            drops.load(Ordering::SeqCst),
            spawned,
            "every future is dropped exactly once"
        );
        for (i, handle) in (0..spawned).zip(handles) {
            assert!(handle.is_finished());
            match futures_executor::block_on(handle) {
                Ok(value) => assert_eq!(value, i),
                Err(error) => assert!(error.is_cancelled()),
            }
        }
    });
}

/// Messages from other threads cannot starve timers: while another thread
/// keeps the mailbox non-empty, a timer that is due still fires.
///
/// Made deterministic with a chain: each cancelled task's `Drop` (which runs
/// while the loop handles the cancel message) has a helper thread send the
/// next cancel before it returns, so the mailbox is never empty when the
/// loop looks again. A `call_soon` scheduled before the chain starts should
/// fire after a few links, not after the whole chain.
#[test]
fn a_busy_mailbox_does_not_starve_timers() {
    const LINKS: usize = 200;

    /// Asks the helper thread for the next cancel, and waits until it is sent.
    struct Link {
        index: usize,
        next: mpsc::Sender<usize>,
        sent: Rc<mpsc::Receiver<()>>,
        dropped: Rc<Cell<usize>>,
    }

    impl Drop for Link {
        fn drop(&mut self) {
            self.dropped.set(self.dropped.get() + 1);
            if self.index + 1 < LINKS {
                self.next.send(self.index + 1).unwrap();
                self.sent.recv_timeout(Duration::from_secs(5)).unwrap();
            }
        }
    }

    within(Duration::from_secs(10), || {
        let runtime = Runtime::new().unwrap();
        let (links_at_fire, links) = runtime.block_on(async {
            let (next, requests) = mpsc::channel::<usize>();
            let (ack, sent) = mpsc::channel::<()>();
            let sent = Rc::new(sent);
            let dropped = Rc::new(Cell::new(0));
            let handles: Vec<JoinHandle<()>> = (0..LINKS)
                .map(|index| {
                    let link = Link {
                        index,
                        next: next.clone(),
                        sent: sent.clone(),
                        dropped: dropped.clone(),
                    };
                    spawn(async move {
                        let _link = link;
                        pending::<()>().await;
                    })
                })
                .collect();
            yield_now().await; // every link parks
            drop(next);
            let (first_sent, first) = mpsc::channel();
            let helper = std::thread::spawn(move || {
                handles[0].cancel();
                first_sent.send(()).unwrap();
                for index in requests {
                    handles[index].cancel();
                    ack.send(()).unwrap();
                }
                handles
            });
            // The first cancel is in the mailbox: the loop handles it right
            // after this poll, and the timer is due right then too.
            first.recv().unwrap();
            let fired_at = Rc::new(Cell::new(None));
            let (slot, progress) = (fired_at.clone(), dropped.clone());
            call_soon(move || slot.set(Some(progress.get())));
            while dropped.get() < LINKS || fired_at.get().is_none() {
                sleep(Duration::from_millis(1)).await;
            }
            drop(helper.join().unwrap());
            (fired_at.get().unwrap(), dropped.get())
        });
        assert_eq!(links, LINKS);
        assert!(
            links_at_fire < LINKS,
            "the timer due now fired only after all {LINKS} chained mailbox messages"
        );
    });
}
