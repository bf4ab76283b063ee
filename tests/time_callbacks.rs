//! `call_soon`, `call_later`, `call_at` and `TimerHandle`: deadline order,
//! FIFO among equal deadlines, `call_soon` after the tasks already ready,
//! cancelling before and after firing, `when()`, a panicking callback that
//! does not take the runtime down, dropping a handle that does not cancel,
//! and `Duration::MAX`.

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use spindle::time::{call_at, call_later, call_soon, now, sleep, sleep_until, TimerHandle};
use spindle::{spawn, yield_now, Runtime};
use support::{metrics, real, virtual_time, MS};

/// A shared, ordered record of what ran, for exact assertions.
type Log<T> = Rc<RefCell<Vec<T>>>;

fn log<T>() -> Log<T> {
    Rc::new(RefCell::new(Vec::new()))
}

/// A callback that appends `item` to `log`.
fn push<T: 'static>(log: &Log<T>, item: T) -> impl FnOnce() + 'static {
    let log = log.clone();
    move || log.borrow_mut().push(item)
}

/// Callbacks scheduled in scrambled order run in deadline order (their
/// `when()`, which is the order of their delays unless this thread is
/// preempted while scheduling), each no earlier than its `when()`.
#[test]
fn call_later_runs_in_deadline_order() {
    let delays_ms = [30u64, 10, 20, 0, 5, 25, 15, 1];
    let (ran, mut by_deadline) = real(async {
        let ran: Log<(u64, Instant)> = log();
        let mut by_deadline: Vec<(Instant, u64)> = Vec::new();
        for &ms in &delays_ms {
            let ran = ran.clone();
            let handle = call_later(Duration::from_millis(ms), move || {
                ran.borrow_mut().push((ms, now()))
            });
            by_deadline.push((handle.when(), ms));
        }
        sleep(60 * MS).await;
        (ran, by_deadline)
    });
    by_deadline.sort_by_key(|&(when, _)| when); // stable: ties keep scheduling order
    let ran = ran.borrow();
    let order: Vec<u64> = ran.iter().map(|&(ms, _)| ms).collect();
    let expected: Vec<u64> = by_deadline.iter().map(|&(_, ms)| ms).collect();
    assert_eq!(order, expected);
    for (&(ms, at), &(when, _)) in ran.iter().zip(&by_deadline) {
        assert!(at >= when, "the {ms} ms callback ran early");
    }
}

/// Under virtual time each callback runs exactly at its deadline.
#[test]
fn call_later_runs_exactly_at_its_deadline_under_virtual_time() {
    virtual_time(async {
        let start = now();
        let ran = log();
        for secs in [300u64, 100, 200, 0, 100] {
            let ran = ran.clone();
            call_later(Duration::from_secs(secs), move || {
                ran.borrow_mut().push((secs, now() - start))
            });
        }
        sleep(Duration::from_secs(400)).await;
        let secs = Duration::from_secs;
        assert_eq!(
            *ran.borrow(),
            [
                (0, secs(0)),
                (100, secs(100)),
                (100, secs(100)),
                (200, secs(200)),
                (300, secs(300)),
            ]
        );
    });
}

/// Many callbacks for one instant run in the order they were scheduled,
/// with neighbours a nanosecond either side in deadline order. Batches of 300
/// are scheduled at each of `batches_at` (after the start) for the instant
/// `until_when` after the start.
async fn equal_deadlines_are_fifo(until_when: Duration, batches_at: &[Duration]) {
    let start = now();
    let when = start + until_when;
    let ran: Log<String> = log();
    call_at(when + Duration::from_nanos(1), push(&ran, "after".into()));
    let mut scheduled = 0;
    for (batch, &at) in batches_at.iter().enumerate() {
        sleep_until(start + at).await;
        for _ in 0..300 {
            call_at(when, push(&ran, scheduled.to_string()));
            scheduled += 1;
        }
        if batch == 0 {
            // Scheduled later than the first batch, due a nanosecond earlier.
            call_at(when - Duration::from_nanos(1), push(&ran, "before".into()));
        }
    }
    sleep_until(when + MS).await;
    let mut expected = vec!["before".to_string()];
    expected.extend((0..scheduled).map(|i| i.to_string()));
    expected.push("after".to_string());
    assert_eq!(*ran.borrow(), expected);
}

#[test]
fn equal_deadlines_run_in_scheduling_order() {
    // Real time: two batches, 70 ms clear of the deadline.
    real(equal_deadlines_are_fifo(
        100 * MS,
        &[Duration::ZERO, 30 * MS],
    ));
    // Virtual time: batches filed at wheel levels 2, 1 and 0 (the deadline is
    // 5 000 ticks ahead, then 900, then 7).
    virtual_time(equal_deadlines_are_fifo(
        5000 * MS,
        &[Duration::ZERO, 4100 * MS, 4993 * MS],
    ));
}

/// `call_soon` runs its callback after the tasks that are ready when it is
/// called (as in asyncio, where `create_task` and `call_soon` share one
/// ready queue), and callbacks among themselves in FIFO order.
#[test]
fn call_soon_runs_after_the_ready_tasks_in_fifo_order() {
    real(async {
        let ran = log();
        let a = spawn({
            let ran = ran.clone();
            async move { ran.borrow_mut().push("task A") }
        });
        let b = spawn({
            let ran = ran.clone();
            async move { ran.borrow_mut().push("task B") }
        });
        call_soon(push(&ran, "soon 1"));
        call_soon(push(&ran, "soon 2"));
        call_soon(push(&ran, "soon 3"));
        a.await.unwrap();
        b.await.unwrap();
        sleep(10 * MS).await;
        assert_eq!(
            *ran.borrow(),
            ["task A", "task B", "soon 1", "soon 2", "soon 3"]
        );
    });
}

/// `call_soon` callbacks run in FIFO order, without waiting for a timer:
/// one `yield_now` is enough for all of them to have run.
#[test]
fn call_soon_runs_in_fifo_order_at_the_next_turn() {
    virtual_time(async {
        let start = now();
        let ran = log();
        for i in 0..100 {
            call_soon(push(&ran, i));
        }
        assert!(ran.borrow().is_empty(), "call_soon ran its callback inline");
        yield_now().await;
        assert_eq!(*ran.borrow(), (0..100).collect::<Vec<_>>());
        assert_eq!(now(), start, "call_soon moved the virtual clock");
    });
}

/// A callback cancelled before its deadline never runs; cancelling again,
/// or after the callback ran, is a no-op; so is cancelling from inside the
/// callback itself, or after the runtime is gone.
#[test]
fn cancel_before_firing_prevents_it_and_after_firing_is_a_no_op() {
    let leftover = real(async {
        let ran = log();
        let before = metrics();
        let later = call_later(10 * MS, push(&ran, "later"));
        let soon = call_soon(push(&ran, "soon"));
        let at = call_at(now(), push(&ran, "at"));
        later.cancel();
        soon.cancel();
        at.cancel();
        later.cancel(); // twice: a no-op
                        // `call_soon` is not a timer (it waits in the ready queue, as asyncio's
                        // `_ready`), so only the other two count as cancelled timers.
        assert_eq!(metrics().timers_cancelled, before.timers_cancelled + 2);
        sleep(30 * MS).await;
        assert!(ran.borrow().is_empty(), "cancelled callbacks ran: {ran:?}");

        let fired = call_later(MS, push(&ran, "fired"));
        sleep(20 * MS).await;
        assert_eq!(*ran.borrow(), ["fired"]);
        let cancelled = metrics().timers_cancelled;
        fired.cancel();
        fired.cancel();
        assert_eq!(
            metrics().timers_cancelled,
            cancelled,
            "cancelled a spent timer"
        );
        assert_eq!(*ran.borrow(), ["fired"]);

        // A callback that cancels its own handle while it runs.
        let own: Rc<RefCell<Option<TimerHandle>>> = Rc::default();
        let handle = call_later(MS, {
            let own = own.clone();
            let ran = ran.clone();
            move || {
                own.borrow()
                    .as_ref()
                    .expect("the handle is stored")
                    .cancel();
                ran.borrow_mut().push("self-cancelling");
            }
        });
        *own.borrow_mut() = Some(handle);
        sleep(20 * MS).await;
        assert_eq!(*ran.borrow(), ["fired", "self-cancelling"]);

        call_later(Duration::from_secs(3600), || unreachable!("runtime gone"))
    });
    // Its runtime has shut down: cancelling is a no-op, not a panic.
    leftover.cancel();
}

/// A callback cancelled by another callback that runs just before it (both
/// due in the same turn) never runs — asyncio skips a handle cancelled while
/// it waits in the ready queue.
#[test]
fn cancel_from_an_earlier_callback_in_the_same_turn_prevents_it() {
    virtual_time(async {
        let when = now() + 10 * MS;
        let ran = log();
        let victim: Rc<RefCell<Option<TimerHandle>>> = Rc::default();
        call_at(when, {
            let victim = victim.clone();
            let ran = ran.clone();
            move || {
                victim.borrow().as_ref().expect("stored").cancel();
                ran.borrow_mut().push("canceller");
            }
        });
        *victim.borrow_mut() = Some(call_at(when, push(&ran, "victim")));
        sleep(20 * MS).await;
        assert_eq!(*ran.borrow(), ["canceller"], "a cancelled callback ran");
    });
}

/// `when()` is the instant the callback is due.
#[test]
fn when_is_the_deadline() {
    virtual_time(async {
        let t = now();
        assert_eq!(
            call_later(Duration::from_secs(5), || {}).when(),
            t + Duration::from_secs(5)
        );
        assert_eq!(call_at(t + 7 * MS, || {}).when(), t + 7 * MS);
        assert_eq!(call_soon(|| {}).when(), t);
        let forever = call_later(Duration::MAX, || {});
        assert!(
            forever.when() > t + Duration::from_secs(20 * 365 * 86_400),
            "Duration::MAX is reported about 30 years ahead"
        );
    });
    real(async {
        let before = Instant::now();
        let handle = call_later(20 * MS, || {});
        let after = Instant::now();
        assert!(handle.when() >= before + 20 * MS && handle.when() <= after + 20 * MS);
        let fixed = before + Duration::from_secs(1);
        assert_eq!(call_at(fixed, || {}).when(), fixed);
    });
}

/// A callback that panics is reported and the loop goes on: later
/// callbacks and tasks still run, `block_on` returns, and the same runtime
/// runs again afterwards. (The report on stderr is not checked.)
#[test]
fn a_panicking_callback_does_not_take_the_runtime_down() {
    let runtime = Runtime::new().expect("a runtime");
    let ran = runtime.block_on(async {
        let ran = log();
        call_soon(|| panic!("call_soon callback panics (this test expects it)"));
        call_later(5 * MS, || {
            panic!("call_later callback panics (this test expects it)")
        });
        call_later(10 * MS, push(&ran, "callback after the panics"));
        let task = spawn({
            let ran = ran.clone();
            async move {
                sleep(15 * MS).await;
                ran.borrow_mut().push("task after the panics");
            }
        });
        sleep(30 * MS).await;
        task.await.expect("the task was taken down");
        ran
    });
    assert_eq!(
        *ran.borrow(),
        ["callback after the panics", "task after the panics"]
    );
    let again = runtime.block_on(async {
        call_soon(|| panic!("once more (this test expects it)"));
        sleep(MS).await;
        "still running"
    });
    assert_eq!(again, "still running");
}

/// Dropping a `TimerHandle` does not cancel its callback (as in asyncio).
#[test]
fn dropping_a_timer_handle_does_not_cancel() {
    real(async {
        let ran = log();
        {
            let _later = call_later(5 * MS, push(&ran, "later"));
            let _at = call_at(now() + 10 * MS, push(&ran, "at"));
        } // both handles dropped here
        let _ = call_soon(push(&ran, "soon"));
        sleep(30 * MS).await;
        assert_eq!(*ran.borrow(), ["soon", "later", "at"]);
    });
}

/// `call_later(Duration::MAX, f)` does not overflow or panic, and `f` never
/// runs; its captures are released by the time the runtime is gone. The same
/// for a `call_at` centuries ahead that the runtime never reaches.
#[test]
fn call_later_duration_max_never_runs() {
    let ran: Log<&str> = log();
    let captured = Rc::new(());
    virtual_time({
        let ran = ran.clone();
        let captured = captured.clone();
        async move {
            let start = now();
            let forever = call_later(Duration::MAX, {
                let captured = captured.clone();
                let ran = ran.clone();
                move || {
                    let _keep = captured;
                    ran.borrow_mut().push("Duration::MAX ran");
                }
            });
            let centuries = Duration::from_secs(300 * 365 * 86_400);
            if let Some(far) = now().checked_add(centuries) {
                call_at(far, push(&ran, "300 years ran"));
            }
            call_later(Duration::from_secs(3600), push(&ran, "an hour"));
            sleep(Duration::from_secs(2 * 3600)).await;
            assert_eq!(now() - start, Duration::from_secs(2 * 3600));
            forever.cancel(); // a no-op, not a panic
        }
    });
    assert_eq!(*ran.borrow(), ["an hour"]);
    assert_eq!(Rc::strong_count(&captured), 1, "the callback leaked");

    real(async {
        let ran = log();
        call_later(Duration::MAX, push(&ran, "Duration::MAX ran"));
        sleep(20 * MS).await;
        assert!(ran.borrow().is_empty());
    });
}
