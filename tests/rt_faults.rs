//! The faults table: what spindle does when something goes wrong around it
//! — a task, a loop callback, a future's `Drop` or a user's own waker
//! panics; a waker or a `JoinHandle` outlives its runtime; `accept` runs
//! out of descriptors. One test per row, each asserting what happens (who
//! sees the panic, who still runs, what is dropped, what is freed), not
//! only that nothing crashes.
//!
//! Instruments: `prim_util`'s drop counters and counting wakers, and a
//! waker that panics ([`panicking_waker`]). A waker is an `Arc` here, so
//! `Arc::strong_count` tells whether whoever stored a clone of it (a task,
//! a waiter list) has let it go: that is how the tests see a leaked task.

mod prim_util;
mod support;

use std::any::Any;
use std::cell::RefCell;
use std::future::{pending, poll_fn};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use futures_lite::AsyncReadExt;
use futures_task::noop_waker_ref;
use prim_util::{counting_waker, poll_once, DropCounter};
use spindle::net::{TcpListener, TcpStream};
use spindle::time::{call_later, sleep};
use spindle::{spawn, spawn_named, timeout, to_thread, yield_now, Event, Queue, Runtime};
use support::{isolated, metrics, real, virtual_time, within, MS};

/// How long any test here may take before `within` calls it hung.
const LIMIT: Duration = Duration::from_secs(20);

/// The message of a panic payload made by `panic!` (a `&str` or a `String`).
fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a non-string panic payload)")
}

/// A user's waker whose `wake` and `wake_by_ref` panic with its message.
struct PanickingWaker {
    message: &'static str,
    /// How often it was woken (and panicked).
    wakes: AtomicUsize,
}

impl PanickingWaker {
    fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        panic!("{}", self.message);
    }
}

/// A waker that panics with `message` when woken, and its state.
fn panicking_waker(message: &'static str) -> (Waker, Arc<PanickingWaker>) {
    let state = Arc::new(PanickingWaker {
        message,
        wakes: AtomicUsize::new(0),
    });
    (Waker::from(state.clone()), state)
}

/// Panics with its message when dropped.
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

/// Row: a task panics. Its `JoinHandle` yields `is_panic()` with the
/// payload and a message naming the task; the tasks parked on a timer and
/// on a queue across the panic run on, in order; the loop goes on (a task
/// spawned afterwards runs, a later timer fires). `rt_panic.rs` has the
/// basic case; this one has other tasks in flight.
#[test]
fn a_panicking_task_yields_its_payload_and_the_loop_goes_on() {
    within(LIMIT, || {
        let (error, order) = virtual_time(async {
            let order = Rc::new(RefCell::new(Vec::new()));
            let log = order.clone();
            let sleeper = spawn(async move {
                sleep(5 * MS).await;
                log.borrow_mut().push("sleeper");
            });
            let queue = Queue::new();
            let (log, from) = (order.clone(), queue.clone());
            let getter = spawn(async move {
                let item: u32 = from.get().await;
                log.borrow_mut().push("getter");
                item
            });
            let bad = spawn_named("bad", async {
                yield_now().await;
                panic!("task boom")
            });
            let error = bad.await.unwrap_err();
            order.borrow_mut().push("joined bad");
            queue.put_nowait(7).unwrap();
            assert_eq!(getter.await.unwrap(), 7);
            sleeper.await.unwrap();
            let after = spawn(async {
                sleep(MS).await;
                "after"
            });
            assert_eq!(after.await.unwrap(), "after");
            (error, order.take())
        });
        assert!(error.is_panic() && !error.is_cancelled());
        let shown = error.to_string();
        assert!(
            shown.contains("'bad'") && shown.contains("task boom"),
            "{shown}"
        );
        assert_eq!(message(error.into_panic().as_ref()), "task boom");
        assert_eq!(order, ["joined bad", "getter", "sleeper"]);
    });
}

/// Row: a `call_later` callback panics. The panic is reported on stderr by
/// the runtime itself (`spindle: the callback scheduled at FILE:LINE:COL
/// panicked: MESSAGE`), and the loop goes on: the callback due at the same
/// instant right after it runs, so do a later callback and a task's timer,
/// and `run` returns normally. In a process of its own, to read its stderr.
#[test]
fn a_panicking_callback_is_reported_and_the_loop_goes_on() {
    let test = "a_panicking_callback_is_reported_and_the_loop_goes_on";
    let Some(stderr) = isolated(test, || {
        within(LIMIT, || {
            let order = virtual_time(async {
                let order = Rc::new(RefCell::new(Vec::new()));
                let (same, later, task) = (order.clone(), order.clone(), order.clone());
                call_later(MS, || panic!("callback boom"));
                call_later(MS, move || same.borrow_mut().push("same instant"));
                call_later(2 * MS, move || later.borrow_mut().push("later"));
                let sleeper = spawn(async move {
                    sleep(3 * MS).await;
                    task.borrow_mut().push("task");
                });
                sleeper.await.unwrap();
                order.take()
            });
            assert_eq!(order, ["same instant", "later", "task"]);
        });
    }) else {
        return;
    };
    let report = format!(
        "spindle: the callback scheduled at {}:{}:",
        file!(),
        callback_line()
    );
    assert!(
        stderr.contains(&report) && stderr.contains("panicked: callback boom"),
        "stderr lacks the report {report:?} ... \"panicked: callback boom\":\n{stderr}"
    );
}

/// The line of the panicking `call_later` in the test above, read from
/// this file: the report names it, and the child process ran this source.
fn callback_line() -> usize {
    let index = include_str!("rt_faults.rs")
        .lines()
        .position(|line| line.trim() == "call_later(MS, || panic!(\"callback boom\"));")
        .expect("the panicking call_later is in this file");
    index + 1
}

/// Row: the `Drop` of a cancelled future panics, for a cancel on the
/// runtime's thread and one from another thread. The panic is contained:
/// the rest of the future is still dropped (a guard dropped while the
/// `Drop` unwinds), on the owner thread before `cancel` returns; the handle
/// resolves to a cancelled `JoinError`; another task runs on undisturbed.
#[test]
fn a_panicking_drop_of_a_cancelled_future_is_contained() {
    within(LIMIT, || {
        let drops = DropCounter::new();
        let counter = drops.clone();
        real(async move {
            let witness = spawn(async move {
                sleep(20 * MS).await;
                "witness"
            });
            let bomb = |what: &'static str| {
                let guard = counter.guard();
                async move {
                    let _guard = guard;
                    let _bomb = PanicOnDrop(what);
                    pending::<()>().await;
                }
            };
            let local = spawn(bomb("drop boom, cancelled here"));
            let remote = spawn(bomb("drop boom, cancelled from a thread"));
            yield_now().await; // both park
            local.cancel();
            assert_eq!(counter.count(), 1, "dropped before cancel returned");
            assert!(local.await.unwrap_err().is_cancelled());

            let remote = to_thread(move || {
                remote.cancel();
                remote
            })
            .await
            .unwrap();
            assert!(remote.await.unwrap_err().is_cancelled());
            assert_eq!(counter.count(), 2);

            assert_eq!(witness.await.unwrap(), "witness");
            assert_eq!(spawn(async { 3 }).await.unwrap(), 3);
        });
        assert_eq!(drops.count(), 2);
    });
}

/// Row: the `Drop` of a future cancelled by runtime shutdown panics. No
/// panic escapes the runtime's drop; every other pending future is still
/// dropped, once; each handle resolves to a cancelled `JoinError`.
#[test]
fn a_panicking_drop_at_shutdown_is_contained() {
    within(LIMIT, || {
        let drops = DropCounter::new();
        let runtime = Runtime::new().unwrap();
        let (bomb, before, after) = runtime.block_on(async {
            let parked = |bomb: bool| {
                let guard = drops.guard();
                async move {
                    let _guard = guard;
                    let _bomb = bomb.then(|| PanicOnDrop("drop boom at shutdown"));
                    pending::<()>().await;
                }
            };
            let before = spawn(parked(false));
            let bomb = spawn_named("bomb", parked(true));
            let after = spawn(parked(false));
            yield_now().await;
            (bomb, before, after)
        });
        let shutdown = catch_unwind(AssertUnwindSafe(|| drop(runtime)));
        if let Err(payload) = shutdown {
            panic!(
                "a panicking Drop escaped the runtime's shutdown: {}",
                message(payload.as_ref())
            );
        }
        assert_eq!(drops.count(), 3, "every pending future dropped once");
        for handle in [bomb, before, after] {
            assert!(futures_executor::block_on(handle)
                .unwrap_err()
                .is_cancelled());
        }
    });
}

/// Row: a user's waker panics in `Event::wait`. A `wait()` future polled
/// by hand with a panicking waker sits between parked tasks; a task then
/// calls `set()`. The panic surfaces from `set()` (the task that called it
/// yields `is_panic()` with the waker's payload); every other waiter,
/// before and after the bad one, is still woken, in order; the event is
/// set, the hand-polled `wait()` is released too, and the loop goes on.
#[test]
fn a_panicking_waker_in_event_wait() {
    within(LIMIT, || {
        let (bad_waker, bad) = panicking_waker("event waker boom");
        virtual_time(async move {
            let event = Event::new();
            let order = Rc::new(RefCell::new(Vec::new()));
            let waiter = |i: u32| {
                let (event, order) = (event.clone(), order.clone());
                spawn(async move {
                    event.wait().await;
                    order.borrow_mut().push(i);
                })
            };
            let mut waiters = vec![waiter(0)];
            yield_now().await; // waiter 0 parks first
            let mut by_hand = pin!(event.wait());
            assert!(poll_once(by_hand.as_mut(), &bad_waker).is_pending());
            waiters.extend([waiter(1), waiter(2)]);
            yield_now().await;
            assert_eq!(event.waiter_count(), 4);

            let setter = spawn({
                let event = event.clone();
                async move { event.set() }
            });
            let error = setter.await.unwrap_err();
            assert!(error.is_panic(), "{error}");
            assert_eq!(message(error.into_panic().as_ref()), "event waker boom");
            assert_eq!(bad.wakes(), 1);
            assert!(event.is_set());

            for (i, handle) in waiters.into_iter().enumerate() {
                timeout(Duration::from_secs(1), handle)
                    .await
                    .unwrap_or_else(|_| panic!("waiter {i} was never woken"))
                    .unwrap();
            }
            assert_eq!(*order.borrow(), [0, 1, 2]);
            assert!(poll_once(by_hand.as_mut(), noop_waker_ref()).is_ready());
            assert_eq!(event.waiter_count(), 0);
        });
    });
}

/// Row: a user's waker panics in `Queue::get`. A `get()` polled by hand
/// with a panicking waker is the oldest getter; a task's `put` hands it the
/// item and wakes it. The panic surfaces from `put` (that task yields
/// `is_panic()` with the waker's payload); the item is not lost (it is in
/// transit to the hand-polled `get`, which returns it when polled again);
/// the next puts reach the other getters in order; the loop goes on.
#[test]
fn a_panicking_waker_in_queue_get() {
    within(LIMIT, || {
        let (bad_waker, bad) = panicking_waker("queue waker boom");
        virtual_time(async move {
            let queue: Queue<u32> = Queue::new();
            let mut by_hand = pin!(queue.get());
            assert!(poll_once(by_hand.as_mut(), &bad_waker).is_pending());
            let getters: Vec<_> = (0..2)
                .map(|_| {
                    let queue = queue.clone();
                    spawn(async move { queue.get().await })
                })
                .collect();
            yield_now().await;
            assert_eq!(queue.waiter_count(), 3);

            let putter = spawn({
                let queue = queue.clone();
                async move { queue.put(1).await }
            });
            let error = putter.await.unwrap_err();
            assert!(error.is_panic(), "{error}");
            assert_eq!(message(error.into_panic().as_ref()), "queue waker boom");
            assert_eq!(bad.wakes(), 1);

            assert_eq!(queue.len(), 1, "the item is in transit to the bad getter");
            assert_eq!(
                poll_once(by_hand.as_mut(), noop_waker_ref()),
                Poll::Ready(1)
            );
            queue.put_nowait(2).unwrap();
            queue.put_nowait(3).unwrap();
            let mut got = Vec::new();
            for getter in getters {
                got.push(getter.await.unwrap());
            }
            assert_eq!(got, [2, 3]);
            assert!(queue.is_empty());
            assert_eq!(queue.waiter_count(), 0);
        });
    });
}

/// Row: a user's waker panics in `sleep`. A `Sleep` polled by hand with a
/// panicking waker inside the runtime fires: the loop goes on — the
/// callback and the task's timer due at the same instant still fire, in
/// order, so does a later one — the hand-polled `Sleep` is complete, and
/// `run` returns normally.
#[test]
fn a_panicking_waker_in_sleep() {
    within(LIMIT, || {
        let (bad_waker, bad) = panicking_waker("sleep waker boom");
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            virtual_time(async move {
                let order = Rc::new(RefCell::new(Vec::new()));
                let mut by_hand = sleep(10 * MS);
                assert!(poll_once(Pin::new(&mut by_hand), &bad_waker).is_pending());
                let log = order.clone();
                call_later(10 * MS, move || log.borrow_mut().push("callback at 10 ms"));
                let task = |at: u32, what: &'static str| {
                    let log = order.clone();
                    spawn(async move {
                        sleep(MS * at).await;
                        log.borrow_mut().push(what);
                    })
                };
                let (same, later) = (task(10, "task at 10 ms"), task(20, "task at 20 ms"));
                same.await.unwrap();
                later.await.unwrap();
                assert!(poll_once(Pin::new(&mut by_hand), noop_waker_ref()).is_ready());
                order.take()
            })
        }));
        let order = outcome.unwrap_or_else(|payload| {
            panic!(
                "the waker's panic escaped the runtime: {}",
                message(payload.as_ref())
            )
        });
        assert_eq!(bad.wakes(), 1);
        assert_eq!(
            order,
            ["callback at 10 ms", "task at 10 ms", "task at 20 ms"]
        );
    });
}

/// Row: a user's waker panics as a `JoinHandle`'s join waker. The handle
/// is polled by hand with it; the task finishes and wakes it. The loop goes
/// on (another task and its timer run, `run` returns); nothing leaks: the
/// task's future is dropped when it finishes, its unread output with the
/// handle, and the task itself is freed (it held the only other clone of
/// the join waker). The panic itself is printed by the panic hook; the
/// test cannot tell a report from that.
#[test]
fn a_panicking_join_waker() {
    within(LIMIT, || {
        let (bad_waker, bad) = panicking_waker("join waker boom");
        let drops = DropCounter::new();
        let counter = drops.clone();
        let outcome = catch_unwind(AssertUnwindSafe(move || {
            virtual_time(async move {
                let (in_future, output) = (counter.guard(), counter.guard());
                let mut handle = spawn(async move {
                    let _in_future = in_future;
                    yield_now().await;
                    output
                });
                assert!(poll_once(Pin::new(&mut handle), &bad_waker).is_pending());
                drop(bad_waker);
                let other = spawn(async {
                    sleep(MS).await;
                    "other"
                });
                assert_eq!(other.await.unwrap(), "other");
                assert!(handle.is_finished());
                assert_eq!(
                    counter.count(),
                    1,
                    "the future was dropped when it finished"
                );
                drop(handle);
                assert_eq!(counter.count(), 2, "the unread output went with the handle");
            })
        }));
        if let Err(payload) = outcome {
            panic!(
                "the join waker's panic escaped the runtime: {}",
                message(payload.as_ref())
            );
        }
        assert_eq!(bad.wakes(), 1);
        assert_eq!(drops.count(), 2);
        assert_eq!(
            Arc::strong_count(&bad),
            1,
            "the task still holds the join waker: it was never freed"
        );
    });
}

/// Row: a task's waker used after its runtime was dropped — `wake`,
/// `wake_by_ref`, `clone`, `drop`, on the runtime's thread, on another
/// thread, and inside a new runtime on the same thread. Nothing crashes;
/// nothing happens (the future was dropped once, at shutdown, and stays
/// so; the new runtime sees no wake and no task); nothing leaks: once the
/// last waker is gone, the task is freed (with it the join waker it held).
#[test]
#[allow(clippy::async_yields_async)] // the handle is handed out of `block_on` on purpose
#[allow(clippy::waker_clone_wake)] // `clone().wake()` exercises the consuming `wake`
fn a_waker_used_after_its_runtime_dropped_does_nothing() {
    within(LIMIT, || {
        let drops = DropCounter::new();
        let (join_waker, joins) = counting_waker();
        let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
        let runtime = Runtime::new().unwrap();
        let handle = runtime.block_on({
            let (guard, slot, join_waker) = (drops.guard(), slot.clone(), &join_waker);
            async move {
                let mut handle = spawn(poll_fn(move |cx| {
                    let _captured = &guard;
                    *slot.lock().unwrap() = Some(cx.waker().clone());
                    Poll::<()>::Pending
                }));
                yield_now().await; // the task parks, its waker in the slot
                assert!(poll_once(Pin::new(&mut handle), join_waker).is_pending());
                handle
            }
        });
        let waker = slot.lock().unwrap().take().unwrap();
        drop(runtime);
        assert_eq!(drops.count(), 1, "shutdown dropped the future once");
        assert_eq!(
            joins.count(),
            1,
            "shutdown completed the task: its joiner woke"
        );

        waker.wake_by_ref();
        waker.clone().wake();
        drop(waker.clone());
        let (a, b) = (waker.clone(), waker.clone());
        thread::spawn(move || {
            a.wake_by_ref();
            a.clone().wake();
            drop(a);
            b.wake();
        })
        .join()
        .unwrap();
        let fresh = Runtime::new().unwrap();
        let seen = fresh.block_on(async {
            waker.wake_by_ref();
            waker.clone().wake();
            sleep(MS).await; // a turn of the new loop, mailbox drained
            metrics()
        });
        drop(fresh);
        assert_eq!(
            seen.wakes_remote, 0,
            "another runtime's waker woke this one"
        );
        assert_eq!(seen.tasks_spawned, 0);

        assert_eq!(drops.count(), 1, "the future was dropped more than once");
        assert_eq!(joins.count(), 1, "an old waker woke the joiner again");
        assert!(futures_executor::block_on(handle)
            .unwrap_err()
            .is_cancelled());
        drop(waker);
        drop(join_waker);
        assert_eq!(
            Arc::strong_count(&joins),
            1,
            "the task still holds its join waker: it was never freed"
        );
    });
}

/// The task number in a `JoinError` message: the first run of digits.
fn first_number(message: &str) -> Option<u64> {
    let start = message.find(|c: char| c.is_ascii_digit())?;
    let digits: String = message[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Row: a `JoinHandle` awaited after its runtime was dropped. It resolves
/// to a cancelled `JoinError` whose message names the task (its id and the
/// name given to `spawn_named`) and says the runtime shut down; a task the
/// user cancelled is not said to have been shut down.
#[test]
fn a_join_handle_awaited_after_shutdown_says_the_runtime_shut_down() {
    within(LIMIT, || {
        let runtime = Runtime::new().unwrap();
        let (sleeper, worker, user_cancelled) = runtime.block_on(async {
            let sleeper = spawn_named("sleeper", pending::<()>());
            let worker = spawn_named("worker", pending::<()>());
            let user = spawn_named("user", pending::<()>());
            yield_now().await;
            user.cancel();
            (sleeper, worker, user.await.unwrap_err().to_string())
        });
        drop(runtime);
        let sleeper = futures_executor::block_on(sleeper).unwrap_err();
        let worker = futures_executor::block_on(worker).unwrap_err();
        assert!(sleeper.is_cancelled() && worker.is_cancelled());
        let (sleeper, worker) = (sleeper.to_string(), worker.to_string());
        assert!(
            sleeper.contains("sleeper") && worker.contains("worker"),
            "{sleeper} / {worker}"
        );
        let (a, b) = (first_number(&sleeper), first_number(&worker));
        assert!(
            a.is_some() && a != b,
            "each message names its task's own id: {sleeper} / {worker}"
        );
        assert!(
            sleeper.contains("runtime") && sleeper.contains("shut down"),
            "{sleeper}"
        );
        assert!(
            !user_cancelled.contains("shut down"),
            "a cancel by the user is not a shutdown: {user_cancelled}"
        );
    });
}

/// Row: the same for a `Handle::spawn` that never reached the loop — one
/// spawned after the runtime was dropped, and one still in the mailbox when
/// it was. Both resolve cancelled, with a message saying the runtime shut
/// down (not "task 0 was cancelled": 0 is the `block_on` future's number).
#[test]
fn a_handle_spawn_that_never_ran_says_the_runtime_shut_down() {
    within(LIMIT, || {
        let runtime = Runtime::new().unwrap();
        let handle = runtime.handle();
        let remote = handle.clone();
        let in_mailbox = thread::spawn(move || remote.spawn(async { 1 }))
            .join()
            .unwrap();
        drop(runtime);
        let after = handle.spawn(async { 2 });
        for task in [in_mailbox, after] {
            let error = futures_executor::block_on(task).unwrap_err();
            assert!(error.is_cancelled());
            let shown = error.to_string();
            assert!(
                shown.contains("runtime") && shown.contains("shut down"),
                "{shown}"
            );
        }
    });
}

/// Row: `accept` at the descriptor limit. `net_emfile.rs` shows that
/// `accept` returns EMFILE at once (twice) and that the connection queued
/// meanwhile is accepted once descriptors are free. This adds what it does
/// not: an `accept` already *waiting* when a connection arrives at the
/// limit returns EMFILE instead of hanging; the loop does not spin while
/// that connection waits in the kernel's queue; and once descriptors are
/// free, the listener accepts the queued connection and new ones, and both
/// carry bytes. In a process of its own: it fills the descriptor table.
#[test]
fn accept_at_the_descriptor_limit() {
    let test = "accept_at_the_descriptor_limit";
    isolated(test, || {
        if !support::descriptor_table_fillable() {
            return;
        }
        within(LIMIT, || {
            real(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let acceptor = spawn(async move {
                    let result = listener.accept().await.map(|(_, peer)| peer);
                    (listener, result)
                });
                yield_now().await; // the accept waits: nobody has connected

                let mut filler = support::fill_descriptor_table();
                filler.pop(); // one descriptor, for the client
                let mut client = std::net::TcpStream::connect(addr).unwrap();
                let (listener, result) = timeout(Duration::from_secs(5), acceptor)
                    .await
                    .expect("a waiting accept hung at the descriptor limit")
                    .unwrap();
                let error = result.unwrap_err();
                assert!(support::is_emfile(&error), "{error}");

                // The connection waits in the kernel's queue and the table is
                // still full: a loop that kept polling the listener would show
                // here as many reactor waits or polls.
                let before = metrics();
                sleep(50 * MS).await;
                let after = metrics();
                let (waits, polls) = (
                    after.reactor_waits - before.reactor_waits,
                    after.polls - before.polls,
                );
                assert!(
                    waits < 20 && polls < 20,
                    "the loop spun at the limit: {waits} reactor waits, {polls} polls in 50 ms"
                );

                drop(filler);
                let (mut queued, peer) = listener.accept().await.unwrap();
                assert_eq!(peer, client.local_addr().unwrap());
                std::io::Write::write_all(&mut client, b"queued").unwrap();
                let mut buf = [0; 6];
                queued.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"queued");

                let mut fresh = TcpStream::connect(addr).await.unwrap();
                let (mut accepted, _) = listener.accept().await.unwrap();
                fresh.write_all(b"fresh").await.unwrap();
                let mut buf = [0; 5];
                accepted.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"fresh");
            });
        });
    });
}

/// Row: no descriptor left for the poller. A runtime creates its poller
/// (epoll, an eventfd, a timerfd) only when it first needs one, so with the
/// descriptor table full a runtime still builds, runs ready work and waits
/// for another thread (on a condition variable). A socket that cannot get
/// a poller returns the error; a `block_on` that must wait for a timer and
/// cannot get one panics, saying why; and once descriptors are free the
/// same runtime waits and serves sockets normally. In a process of its
/// own: it fills the descriptor table.
#[test]
fn a_runtime_at_the_descriptor_limit() {
    let test = "a_runtime_at_the_descriptor_limit";
    isolated(test, || {
        if !support::descriptor_table_fillable() {
            return;
        }
        let mut filler = support::fill_descriptor_table();
        let runtime = Runtime::new().expect("building a runtime takes no descriptor");
        let ran = runtime.block_on(async {
            let task = spawn(async { 41 });
            yield_now().await;
            task.await.unwrap() + 1
        });
        assert_eq!(ran, 42, "ready work runs without a poller");
        let from_thread = runtime.block_on(async { to_thread(|| 7).await.unwrap() });
        assert_eq!(from_thread, 7, "waiting for another thread needs no poller");

        // One descriptor free: the socket takes it, the poller finds none.
        filler.pop();
        let error = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect_err("no descriptor for the poller");
        assert!(support::is_emfile(&error), "{error}");

        // Still one free (the socket was closed): epoll fits, its eventfd does not.
        let waited = catch_unwind(AssertUnwindSafe(|| runtime.block_on(sleep(MS))));
        let payload = waited.expect_err("a loop that must wait without a poller");
        assert!(
            message(&*payload).contains("cannot create its poller"),
            "{}",
            message(&*payload)
        );

        drop(filler);
        runtime.block_on(async {
            sleep(MS).await;
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            futures_lite::AsyncWriteExt::write_all(&mut client, b"back")
                .await
                .unwrap();
            let mut buf = [0; 4];
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"back");
        });
    });
}
