//! Behaviour of `run`, `spawn`, `yield_now` and the ready queue: outputs, the
//! moment a spawned task first runs, FIFO order, fairness (and its documented
//! `MAX_POLLS_PER_TURN` bound), `JoinHandle::is_finished` and `spawn_named`.

mod support;

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use spindle::time::{call_at, call_later, call_soon, now, sleep};
use spindle::{run, spawn, spawn_named, yield_now, Runtime, MAX_POLLS_PER_TURN};
// `real` rather than `run` where timers must fire: under virtual time the
// clock stands still while any task is ready, so a timer cannot come due
// next to a task that wakes itself forever.
use support::{real, within};

/// A shared, ordered record of what happened, for exact assertions.
type Trace = Rc<RefCell<Vec<String>>>;

fn push(trace: &Trace, event: impl Into<String>) {
    trace.borrow_mut().push(event.into());
}

/// A future that records each poll as `{name}{n}`, stores its waker in `slot`
/// on the first poll and is ready on the second.
fn parked(
    name: &'static str,
    trace: Trace,
    slot: Rc<RefCell<Option<Waker>>>,
) -> impl Future<Output = ()> {
    let mut polls = 0;
    poll_fn(move |cx| {
        polls += 1;
        push(&trace, format!("{name}{polls}"));
        if polls == 1 {
            *slot.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
}

/// `run` returns the output of its future, whatever its type.
#[test]
fn run_returns_the_output() {
    assert_eq!(run(async { 40 + 2 }), 42);
    assert_eq!(run(async { String::from("spindle") }), "spindle");
    // No `Send` bound on the output either.
    let shared = run(async { Rc::new(Cell::new(7)) });
    assert_eq!(shared.get(), 7);
}

/// `run` returns the output of a future that waited for tasks and timers.
#[test]
fn run_returns_the_output_after_waiting() {
    let output = run(async {
        let doubled = spawn(async { 21 * 2 });
        sleep(Duration::from_millis(1)).await;
        doubled.await.unwrap()
    });
    assert_eq!(output, 42);
}

/// `Runtime::block_on` returns its future's output, and can be called again.
#[test]
fn block_on_returns_the_output() {
    let runtime = Runtime::new().unwrap();
    assert_eq!(runtime.block_on(async { 1 }), 1);
    assert_eq!(
        runtime.block_on(async { spawn(async { 2 }).await.unwrap() }),
        2
    );
}

/// A spawned task first runs at a later turn of the loop, never inside `spawn`.
#[test]
fn spawn_does_not_run_the_task_inside_spawn() {
    run(async {
        let ran = Rc::new(Cell::new(false));
        let flag = ran.clone();
        let handle = spawn(async move { flag.set(true) });
        assert!(!ran.get(), "the task ran inside spawn");
        yield_now().await;
        assert!(ran.get(), "the task did not run while the caller yielded");
        handle.await.unwrap();
    });
}

/// `spawn` takes futures that are not `Send`, with outputs that are not `Send`.
#[test]
fn spawn_accepts_futures_that_are_not_send() {
    let total = run(async {
        let shared = Rc::new(RefCell::new(Vec::new()));
        let handles: Vec<_> = (0..3)
            .map(|i| {
                let shared = shared.clone();
                spawn(async move {
                    yield_now().await; // the Rc lives across an await
                    shared.borrow_mut().push(i);
                    Rc::new(i * 10)
                })
            })
            .collect();
        let mut outputs = Vec::new();
        for handle in handles {
            outputs.push(*handle.await.unwrap());
        }
        assert_eq!(*shared.borrow(), [0, 1, 2]);
        outputs.iter().sum::<i32>()
    });
    assert_eq!(total, 30);
}

/// Spawn order is first-run order.
#[test]
fn tasks_first_run_in_spawn_order() {
    let order = run(async {
        let order = Rc::new(RefCell::new(Vec::new()));
        for i in 0..20 {
            let order = order.clone();
            drop(spawn(async move { order.borrow_mut().push(i) }));
        }
        yield_now().await;
        order.take()
    });
    assert_eq!(order, (0..20).collect::<Vec<_>>());
}

/// Ready order is FIFO: tasks woken in the order A, B are polled A, B — and
/// woken B, A are polled B, A.
#[test]
fn woken_tasks_are_polled_in_wake_order() {
    for wake_order in [["a", "b"], ["b", "a"]] {
        let trace = run(async move {
            let trace = Trace::default();
            let a_waker = Rc::new(RefCell::new(None));
            let b_waker = Rc::new(RefCell::new(None));
            let a = spawn(parked("a", trace.clone(), a_waker.clone()));
            let b = spawn(parked("b", trace.clone(), b_waker.clone()));
            yield_now().await; // both run once and park
            for name in wake_order {
                let slot = if name == "a" { &a_waker } else { &b_waker };
                slot.borrow_mut().take().unwrap().wake();
            }
            yield_now().await;
            push(&trace, "main");
            a.await.unwrap();
            b.await.unwrap();
            trace.take()
        });
        let expected = [
            "a1",
            "b1",
            &format!("{}2", wake_order[0]),
            &format!("{}2", wake_order[1]),
            "main",
        ];
        assert_eq!(trace, expected, "woken in the order {wake_order:?}");
    }
}

/// `yield_now` lets every other ready task run exactly once before the caller
/// resumes.
#[test]
fn yield_now_lets_every_other_ready_task_run_once() {
    let trace = run(async {
        let trace = Trace::default();
        for name in ["A", "B", "C"] {
            let trace = trace.clone();
            drop(spawn(async move {
                for round in 0..3 {
                    push(&trace, format!("{name}{round}"));
                    yield_now().await;
                }
            }));
        }
        for round in 0..4 {
            yield_now().await;
            push(&trace, format!("main{round}"));
        }
        trace.take()
    });
    #[rustfmt::skip]
    let expected = [
        "A0", "B0", "C0", "main0",
        "A1", "B1", "C1", "main1",
        "A2", "B2", "C2", "main2",
        // The tasks finish in this round without recording anything.
        "main3",
    ];
    assert_eq!(trace, expected);
}

/// Fairness: a task that yields forever starves neither other tasks, nor
/// timers, nor work spawned after it.
#[test]
fn a_task_that_yields_forever_starves_nothing() {
    within(Duration::from_secs(5), || {
        real(async {
            let spins = Rc::new(Cell::new(0u64));
            let counter = spins.clone();
            drop(spawn(async move {
                loop {
                    counter.set(counter.get() + 1);
                    yield_now().await;
                }
            }));

            // Another task that needs several turns.
            let other = spawn(async {
                for _ in 0..10 {
                    yield_now().await;
                }
                "other"
            });
            assert_eq!(other.await.unwrap(), "other");

            // A timer.
            let start = now();
            sleep(Duration::from_millis(1)).await;
            assert!(now() - start >= Duration::from_millis(1));

            // Work spawned after the spinner.
            let later = spawn(async { 7 });
            assert_eq!(later.await.unwrap(), 7);

            // A callback on the loop.
            let called = Rc::new(Cell::new(false));
            let flag = called.clone();
            call_soon(move || flag.set(true));
            while !called.get() {
                yield_now().await;
            }

            assert!(
                spins.get() > 10,
                "the spinner did not spin: {} polls",
                spins.get()
            );
        });
    });
}

/// What the fairness probes share: the spinning tasks count their polls.
#[derive(Default)]
struct Probe {
    /// Polls of the spinning tasks so far.
    polls: Cell<u64>,
    /// The spinner that is to schedule a timer due now on its next poll.
    arm: Cell<Option<usize>>,
    /// `polls` when that `call_soon` was scheduled, and when it ran.
    armed_at: Cell<Option<u64>>,
    fired_at: Rc<Cell<Option<u64>>>,
    /// The deadline of the timer under test, once it is scheduled.
    due: Cell<Option<Instant>>,
    /// Spinner polls that saw the deadline passed while the timer had not fired.
    late_polls: Cell<u64>,
    /// The timer's callback ran.
    fired: Cell<bool>,
}

/// Spawns `count` detached tasks that wake themselves forever, counting their
/// polls (and the late ones) in `probe`; spinner `i` schedules a `call_soon`
/// (a timer due now) when `probe.arm` is `Some(i)`.
fn spawn_spinners(count: usize, probe: &Rc<Probe>) {
    for index in 0..count {
        let probe = probe.clone();
        drop(spawn(async move {
            loop {
                probe.polls.set(probe.polls.get() + 1);
                if probe.arm.get() == Some(index) {
                    probe.arm.set(None);
                    probe.armed_at.set(Some(probe.polls.get()));
                    let (polls, fired_at) = (probe.clone(), probe.fired_at.clone());
                    call_at(now(), move || fired_at.set(Some(polls.polls.get())));
                }
                if let Some(due) = probe.due.get() {
                    if !probe.fired.get() && now() >= due {
                        probe.late_polls.set(probe.late_polls.get() + 1);
                    }
                }
                yield_now().await;
            }
        }));
    }
}

/// The documented bound: with many more self-waking tasks than
/// `MAX_POLLS_PER_TURN`, a timer that is due now (`call_at(now())`) fires within
/// `MAX_POLLS_PER_TURN` polls of the spinning tasks. Measured from different
/// places in the ready queue: the timer is scheduled by one spinner and the
/// other spinners count their polls until it fires.
#[test]
fn a_timer_due_now_fires_within_max_polls_per_turn() {
    const SPINNERS: usize = 4 * MAX_POLLS_PER_TURN;
    within(Duration::from_secs(5), || {
        let gaps = run(async {
            let probe = Rc::new(Probe::default());
            spawn_spinners(SPINNERS, &probe);
            yield_now().await;
            let mut gaps = Vec::new();
            for arming in [0, 1, 7, 30, 60, 61, 62, 100, 150, 200, SPINNERS - 1] {
                probe.fired_at.set(None);
                probe.arm.set(Some(arming));
                while probe.fired_at.get().is_none() {
                    yield_now().await;
                }
                gaps.push(probe.fired_at.get().unwrap() - probe.armed_at.get().unwrap());
            }
            gaps
        });
        let worst = *gaps.iter().max().unwrap();
        assert!(
        worst <= MAX_POLLS_PER_TURN as u64,
        "a due timer waited {worst} polls (> MAX_POLLS_PER_TURN = {MAX_POLLS_PER_TURN}); all gaps: {gaps:?}"
    );
    });
}

/// The documented bound in real time: spinning tasks count the polls they
/// make after a `call_later` deadline has passed and before its callback
/// ran; there are at most `MAX_POLLS_PER_TURN` of them. Measured for several
/// timers, since where a deadline falls within a turn is up to chance.
#[test]
fn a_timer_fires_within_max_polls_per_turn_of_its_deadline() {
    const SPINNERS: usize = 4 * MAX_POLLS_PER_TURN;
    within(Duration::from_secs(5), || {
        let (late, total) = real(async {
            let probe = Rc::new(Probe::default());
            spawn_spinners(SPINNERS, &probe);
            yield_now().await;
            let mut late = Vec::new();
            for _ in 0..8 {
                probe.fired.set(false);
                probe.late_polls.set(0);
                let fired = probe.clone();
                let timer = call_later(Duration::from_millis(1), move || fired.fired.set(true));
                probe.due.set(Some(timer.when()));
                while !probe.fired.get() {
                    yield_now().await;
                }
                probe.due.set(None);
                late.push(probe.late_polls.get());
            }
            (late, probe.polls.get())
        });
        assert!(total > SPINNERS as u64, "the spinners did not spin");
        let worst = *late.iter().max().unwrap();
        assert!(
            worst <= MAX_POLLS_PER_TURN as u64,
            "{worst} spinner polls ran after a deadline before its timer fired \
             (> MAX_POLLS_PER_TURN = {MAX_POLLS_PER_TURN}); all: {late:?}"
        );
    });
}

/// `JoinHandle::is_finished` is false while the task is pending and true once
/// it returned, without consuming the result.
#[test]
fn is_finished_tracks_the_task() {
    run(async {
        let handle = spawn(async {
            yield_now().await;
            1
        });
        assert!(!handle.is_finished(), "finished before it ran");
        yield_now().await; // the task runs once and yields
        assert!(!handle.is_finished(), "finished while pending");
        yield_now().await; // the task returns
        assert!(handle.is_finished());
        assert_eq!(handle.await.unwrap(), 1);

        let cancelled = spawn(std::future::pending::<()>());
        cancelled.cancel();
        assert!(
            cancelled.is_finished(),
            "a cancelled task counts as finished"
        );
    });
}

/// `spawn_named`: the name shows in the `JoinError`'s `Display`, for a panic
/// and for a cancellation.
#[test]
fn spawn_named_name_shows_in_join_error() {
    run(async {
        let panicked = spawn_named("worker-7", async { panic!("boom") });
        let error = panicked.await.unwrap_err();
        assert!(error.to_string().contains("worker-7"), "{error}");

        let cancelled = spawn_named("sleeper-3", std::future::pending::<()>());
        cancelled.cancel();
        let error = cancelled.await.unwrap_err();
        assert!(error.is_cancelled());
        assert!(error.to_string().contains("sleeper-3"), "{error}");

        // And a named task that succeeds is just a task.
        assert_eq!(spawn_named("fine", async { 5 }).await.unwrap(), 5);
    });
}

/// Code written against the futures crate's spawning traits runs on
/// spindle: `SpawnExt::spawn_with_handle` through a `Handle` (any thread),
/// and `LocalSpawnExt` for futures that are not `Send`.
#[test]
fn futures_spawn_traits_spawn_on_spindle() {
    use futures_util::task::{LocalSpawnExt, SpawnExt};

    let runtime = spindle::Runtime::new().unwrap();
    let handle = runtime.handle();
    // From another thread, through `Spawn for Handle`.
    let remote = std::thread::spawn({
        let handle = handle.clone();
        move || handle.spawn_with_handle(async { 6 * 7 }).unwrap()
    })
    .join()
    .unwrap();
    // Before block_on, through `LocalSpawn for Runtime`; not Send.
    let shared = std::rc::Rc::new(std::cell::Cell::new(0));
    let local = runtime
        .spawn_local_with_handle({
            let shared = shared.clone();
            async move { shared.set(shared.get() + 1) }
        })
        .unwrap();
    let (answer, inside) = runtime.block_on(async {
        // Inside, through `LocalSpawn for Handle` on the runtime's thread.
        let inside = spindle::Handle::current()
            .spawn_local_with_handle({
                let shared = shared.clone();
                async move {
                    shared.set(shared.get() + 10);
                    "local"
                }
            })
            .unwrap();
        local.await;
        (remote.await, inside.await)
    });
    assert_eq!((answer, inside, shared.get()), (42, "local", 11));
    // On another thread, `LocalSpawn for Handle` cannot run a !Send task.
    let refused = std::thread::spawn(move || handle.spawn_local(async {}).is_err())
        .join()
        .unwrap();
    assert!(
        refused,
        "LocalSpawn off the runtime's thread must be refused"
    );
}
