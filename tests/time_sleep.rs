//! `sleep`, `sleep_until` and `Sleep`: never early (10 000 random sleeps in
//! real time), `sleep(Duration::ZERO)` done on its first poll, no early
//! sleep when the runtime's latest clock reading is stale, `Duration::MAX`
//! and far-future deadlines that neither overflow nor fire, `Sleep::reset`
//! earlier and later, and dropping a `Sleep` cancels its timer.
//!
//! Real-time tests assert lower bounds (never early) and order, with upper
//! bounds only where a hang would otherwise go unnoticed; exact instants are
//! checked under virtual time.

mod support;

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use spindle::time::{now, sleep, sleep_until, Sleep};
use spindle::{spawn, timeout, yield_now, Runtime};
use support::{metrics, real, virtual_runtime, XorShift, MS};

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// Polls `future` once with a waker that does nothing.
fn poll_noop<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    let waker = futures_util::task::noop_waker();
    Pin::new(future).poll(&mut Context::from_waker(&waker))
}

/// Polls `future` once with the current task's waker, so a timer it registers
/// wakes this task.
async fn poll_here<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// 10 000 tasks each sleep a random 0–30 ms (nanosecond resolution, so most
/// deadlines fall inside a wheel tick) and none wakes before its deadline, by
/// `Instant::now()` nor by the runtime's clock; every one of them completes.
#[test]
fn never_early_over_10_000_random_sleeps() {
    const SLEEPS: usize = 10_000;
    let wall = Instant::now();
    let results = real(async {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let handles: Vec<_> = (0..SLEEPS)
            .map(|i| {
                let requested = match i % 100 {
                    0 => Duration::ZERO,
                    // Whole milliseconds: deadlines on a tick boundary.
                    1 => MS * rng.up_to(30) as u32,
                    _ => Duration::from_nanos(rng.up_to(30_000_000)),
                };
                spawn(async move {
                    let real_start = Instant::now();
                    let clock_start = now();
                    sleep(requested).await;
                    (requested, real_start.elapsed(), now() - clock_start)
                })
            })
            .collect();
        let mut results = Vec::with_capacity(SLEEPS);
        for handle in handles {
            results.push(handle.await.expect("a sleeping task failed"));
        }
        results
    });
    assert_eq!(results.len(), SLEEPS, "every sleep completes");
    for (i, &(requested, by_instant, by_clock)) in results.iter().enumerate() {
        assert!(
            by_instant >= requested,
            "sleep #{i} of {requested:?} woke after {by_instant:?} by Instant::now()"
        );
        assert!(
            by_clock >= requested,
            "sleep #{i} of {requested:?} woke after {by_clock:?} by spindle::time::now()"
        );
    }
    // Generous: 30 ms of sleeping plus the bookkeeping of 10 000 tasks.
    assert!(
        wall.elapsed() < Duration::from_secs(10),
        "10 000 sleeps of at most 30 ms took {:?}",
        wall.elapsed()
    );
}

/// `sleep(Duration::ZERO)` (and a deadline already passed) completes on its
/// first poll: no timer, no yield, so a task spawned before it does not run.
#[test]
fn sleep_zero_completes_on_its_first_poll() {
    real(async {
        let inserted = metrics().timers_inserted;
        assert_eq!(poll_noop(&mut sleep(Duration::ZERO)), Poll::Ready(()));
        assert_eq!(poll_noop(&mut sleep_until(now())), Poll::Ready(()));
        let past = now().checked_sub(MS).unwrap_or_else(now);
        assert_eq!(poll_noop(&mut sleep_until(past)), Poll::Ready(()));

        let ran = Rc::new(Cell::new(false));
        let other = spawn({
            let ran = ran.clone();
            async move { ran.set(true) }
        });
        for _ in 0..100 {
            sleep(Duration::ZERO).await;
        }
        assert!(!ran.get(), "sleep(Duration::ZERO) yielded to another task");
        assert_eq!(metrics().timers_inserted, inserted, "it registered a timer");
        other.await.unwrap();
        assert!(ran.get());
    });

    // The same under virtual time, where the clock stands still meanwhile.
    virtual_runtime().block_on(async {
        let start = now();
        assert_eq!(poll_noop(&mut sleep(Duration::ZERO)), Poll::Ready(()));
        sleep(Duration::ZERO).await;
        assert_eq!(now(), start);
    });
}

/// The first poll reads the clock only when the deadline might be due
/// (`runtime/src/time/clock.rs`). A task that runs for 20 ms without the
/// runtime reading its clock leaves the latest reading 20 ms stale; then:
/// a deadline 5 ms ahead of the real clock is armed, not early; one that
/// passed during those 20 ms (beyond a tick from the stale reading) is armed
/// and fires in the same turn; one within a tick of the stale reading is
/// checked afresh and completes on its first poll.
#[test]
fn a_sleep_made_late_in_a_long_poll_is_never_early() {
    fn busy(d: Duration) {
        let start = Instant::now();
        while start.elapsed() < d {}
    }
    real(async {
        let stale = now();
        busy(20 * MS);
        let ahead = Instant::now() + 5 * MS;
        let mut sleep = sleep_until(ahead);
        assert_eq!(poll_here(&mut sleep).await, Poll::Pending);
        sleep.await;
        assert!(Instant::now() >= ahead, "fired before its deadline");

        now();
        busy(20 * MS);
        let passed = Instant::now() - 10 * MS;
        let fired_before = metrics().timers_fired;
        let started = Instant::now();
        sleep_until(passed).await;
        assert_eq!(metrics().timers_fired, fired_before + 1, "it was armed");
        assert!(
            started.elapsed() < 5 * MS,
            "it waited for a later turn: {:?}",
            started.elapsed()
        );

        let stale = stale.max(now());
        busy(20 * MS);
        let near = stale + MS / 2;
        assert_eq!(poll_noop(&mut sleep_until(near)), Poll::Ready(()));
    });
}

/// `Duration::MAX` does not overflow `Instant` and sleeps forever: a timeout
/// around it expires, a task sleeping on it can be cancelled, and a far
/// `sleep_until` behaves the same.
#[test]
fn duration_max_sleeps_forever_without_panic() {
    real(async {
        let forever = sleep(Duration::MAX);
        assert_eq!(forever.deadline(), None, "Duration::MAX has no deadline");
        assert!(!forever.is_elapsed());

        let started = Instant::now();
        let result = timeout(20 * MS, forever).await;
        assert!(result.is_err(), "a Duration::MAX sleep completed");
        assert!(started.elapsed() >= 20 * MS, "the timeout expired early");

        let sleeper = spawn(async {
            sleep(Duration::MAX).await;
            "woke up"
        });
        sleep(5 * MS).await;
        assert!(!sleeper.is_finished(), "a Duration::MAX sleep completed");
        sleeper.cancel();
        let error = sleeper.await.unwrap_err();
        assert!(error.is_cancelled(), "expected cancelled, got {error}");

        // 100 years ahead: beyond the wheel's 2.2-year span.
        let far = now()
            .checked_add(100 * YEAR)
            .expect("Instant holds 100 years");
        let far_sleep = sleep_until(far);
        assert_eq!(far_sleep.deadline(), Some(far));
        assert!(timeout(20 * MS, far_sleep).await.is_err());
    });

    // A task left sleeping forever does not keep `run` from returning: it is
    // cancelled when the runtime shuts down.
    let output = real(async {
        let _detached = spawn(sleep(Duration::MAX));
        yield_now().await;
        "returned"
    });
    assert_eq!(output, "returned");

    // Under virtual time the clock jumps to the timeout, never to "forever".
    virtual_runtime().block_on(async {
        let start = now();
        let result = timeout(Duration::from_secs(3600), sleep(Duration::MAX)).await;
        assert!(result.is_err());
        assert_eq!(now() - start, Duration::from_secs(3600));
    });
}

/// Deadlines years ahead (past the wheel's 2.2-year span, on its overflow
/// list) fire exactly on time under virtual time.
#[test]
fn far_deadlines_fire_exactly_under_virtual_time() {
    virtual_runtime().block_on(async {
        let start = now();
        let near = spawn(async move {
            sleep(Duration::from_secs(90)).await;
            now()
        });
        sleep(3 * YEAR).await;
        assert_eq!(now() - start, 3 * YEAR);
        sleep_until(start + 30 * YEAR + Duration::from_nanos(1)).await;
        assert_eq!(now() - start, 30 * YEAR + Duration::from_nanos(1));
        assert_eq!(near.await.unwrap() - start, Duration::from_secs(90));
    });
}

/// A registered sleep reset to a later deadline wakes no earlier than that
/// deadline, after a timer due in between.
#[test]
fn reset_later_delays_the_wake_up() {
    let order = real(reset_while_a_marker_sleeps(10 * MS, 80 * MS, 40 * MS));
    assert_eq!(order, ["marker at 40 ms", "reset to 80 ms"]);
}

/// A registered sleep reset to an earlier deadline wakes at that deadline,
/// before a timer due in between, and long before its old deadline.
#[test]
fn reset_earlier_advances_the_wake_up() {
    let order = real(reset_while_a_marker_sleeps(
        Duration::from_secs(10),
        30 * MS,
        60 * MS,
    ));
    assert_eq!(order, ["reset to 30 ms", "marker at 60 ms"]);
}

/// Registers a sleep of `first`, resets it to `reset_to` after the start and
/// awaits it (never waking before the new deadline), while a marker task
/// sleeps `marker`. Returns the order in which the two woke.
async fn reset_while_a_marker_sleeps(
    first: Duration,
    reset_to: Duration,
    marker: Duration,
) -> Vec<String> {
    let start = now();
    let log = Rc::new(RefCell::new(Vec::new()));
    let marker = spawn({
        let log = log.clone();
        async move {
            sleep(marker).await;
            log.borrow_mut()
                .push(format!("marker at {} ms", marker.as_millis()));
        }
    });
    let mut sleep = pin!(sleep(first));
    assert!(poll_here(&mut sleep).await.is_pending(), "registered");
    sleep.as_mut().reset(start + reset_to);
    assert_eq!(sleep.deadline(), Some(start + reset_to));
    timeout(Duration::from_secs(5), sleep)
        .await
        .expect("a reset sleep never woke");
    log.borrow_mut()
        .push(format!("reset to {} ms", reset_to.as_millis()));
    assert!(
        now() - start >= reset_to,
        "woke {:?} after start",
        now() - start
    );
    marker.await.unwrap();
    log.take()
}

/// Under virtual time `reset` lands exactly on the new deadline: later,
/// earlier, before the first poll, after completion, and into the past.
#[test]
fn reset_moves_the_deadline_exactly_under_virtual_time() {
    virtual_runtime().block_on(async {
        let start = now();
        let secs = Duration::from_secs;

        let mut later = pin!(sleep(secs(100)));
        assert!(poll_here(&mut later).await.is_pending());
        later.as_mut().reset(start + secs(250));
        later.as_mut().await;
        assert_eq!(now() - start, secs(250), "reset later");

        let mut earlier = pin!(sleep(secs(1000)));
        assert!(poll_here(&mut earlier).await.is_pending());
        earlier.as_mut().reset(start + secs(257));
        earlier.as_mut().await;
        assert_eq!(now() - start, secs(257), "reset earlier");

        let mut unpolled = pin!(sleep(secs(1)));
        unpolled.as_mut().reset(start + secs(300));
        unpolled.as_mut().await;
        assert_eq!(now() - start, secs(300), "reset before the first poll");

        // A completed sleep, reset, sleeps again.
        later.as_mut().reset(start + secs(310));
        assert!(!later.is_elapsed());
        later.as_mut().await;
        assert_eq!(now() - start, secs(310), "reset after completion");

        // A registered sleep reset into the past completes without the clock moving.
        let mut past = pin!(sleep(secs(50)));
        assert!(poll_here(&mut past).await.is_pending());
        past.as_mut().reset(start + secs(1));
        past.as_mut().await;
        assert_eq!(now() - start, secs(310), "reset into the past");
    });
}

/// Dropping a registered `Sleep` cancels its timer (counted in the metrics)
/// and the timer never fires; a `Sleep` never polled, or already done,
/// cancels nothing.
#[test]
fn dropping_a_sleep_cancels_its_timer() {
    let runtime = Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let before = runtime.metrics();
        let mut doomed: Sleep = sleep(20 * MS);
        assert!(poll_noop(&mut doomed).is_pending());
        let registered = runtime.metrics();
        assert_eq!(registered.timers_inserted, before.timers_inserted + 1);
        drop(doomed);
        let dropped = runtime.metrics();
        assert_eq!(dropped.timers_cancelled, registered.timers_cancelled + 1);

        // Past the dropped deadline: only this sleep's own timer fires.
        sleep(50 * MS).await;
        let after = runtime.metrics();
        assert_eq!(
            after.timers_fired,
            dropped.timers_fired + 1,
            "the dropped sleep's timer fired"
        );

        drop(sleep(Duration::from_secs(1)));
        let mut done = sleep(MS);
        (&mut done).await;
        drop(done);
        let quiet = runtime.metrics();
        assert_eq!(
            quiet.timers_cancelled, after.timers_cancelled,
            "an unregistered or finished sleep cancelled a timer"
        );

        // A task cancelled while it sleeps drops its Sleep, and with it the timer.
        let sleeper = spawn(sleep(Duration::from_secs(3600)));
        yield_now().await;
        sleeper.cancel();
        assert!(sleeper.await.unwrap_err().is_cancelled());
        assert_eq!(
            runtime.metrics().timers_cancelled,
            quiet.timers_cancelled + 1
        );
    });
}

/// A `Sleep` that outlives its runtime names that runtime only: dropping it
/// inside a later runtime (which may sit at the very address the first one
/// freed) must not cancel one of the later runtime's timers. Before runtime
/// ids were numbers, it did, in 17 rounds of 20, and the later runtime's
/// 10 ms sleep then completed at once.
#[test]
fn a_sleep_from_a_dropped_runtime_does_not_touch_a_later_one() {
    use std::future::Future;
    use std::task::{Context, Waker};
    for _ in 0..20 {
        let mut stale = Box::pin(sleep(Duration::from_secs(60)));
        let first = virtual_runtime();
        first.block_on(async {
            let mut cx = Context::from_waker(Waker::noop());
            assert!(
                stale.as_mut().poll(&mut cx).is_pending(),
                "registered in the first runtime"
            );
        });
        drop(first);
        let elapsed = virtual_runtime().block_on(async move {
            let start = now();
            let mut fresh = std::pin::pin!(sleep(10 * MS));
            let _ = fresh.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            drop(stale);
            fresh.await;
            now() - start
        });
        assert_eq!(
            elapsed,
            10 * MS,
            "a stale Sleep cancelled the new runtime's timer"
        );
    }
}
