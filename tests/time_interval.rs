//! `interval`: the first tick at once, tick `k` at exactly `start + k·period`
//! (no drift over 1 000 ticks), missed ticks delivered in a burst with their
//! scheduled instants, `Interval` as a `Stream`, and a zero period refused.

mod support;

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use spindle::stream::{Stream, StreamExt};
use spindle::time::{interval, now, sleep, Interval};
use support::{real, virtual_time, MS};

/// Asks the interval for its next tick once, with a waker that does nothing.
fn poll_tick(ticks: &mut Interval) -> Poll<Option<Instant>> {
    let waker = futures_util::task::noop_waker();
    Pin::new(ticks).poll_next(&mut Context::from_waker(&waker))
}

/// 1 000 ticks under virtual time: tick `k` is `start + k·period` exactly,
/// whatever the consumer does between ticks. It sometimes works for a third
/// of a period, and now and then for 2.5 periods, so some ticks are late:
/// an interval that scheduled from its last wake-up would drift there. A
/// tick is delivered exactly at its instant, or at once if that has passed.
/// The period is not a whole number of wheel ticks on purpose.
#[test]
fn no_drift_over_1000_ticks_under_virtual_time() {
    virtual_time(async {
        let period = Duration::from_micros(1_337);
        let start = now();
        let mut ticks = interval(period);
        assert_eq!(ticks.period(), period);
        for k in 0..1000u32 {
            let asked = now();
            let tick = if k % 2 == 0 {
                ticks.tick().await
            } else {
                ticks.next().await.expect("an interval never ends")
            };
            assert_eq!(tick, start + period * k, "tick {k} drifted");
            assert_eq!(now(), tick.max(asked), "tick {k} delivered at another time");
            if k % 100 == 50 {
                sleep(period * 5 / 2).await;
            } else if k % 3 == 0 {
                sleep(period / 3).await;
            }
        }
    });
}

/// In real time the scheduled instants do not drift either, whatever the
/// lateness of each wake-up, and no tick is delivered before its instant.
#[test]
fn no_drift_and_never_early_in_real_time() {
    real(async {
        let period = 5 * MS;
        let mut ticks = interval(period);
        let first = ticks.tick().await;
        for k in 1..20u32 {
            let tick = ticks.tick().await;
            assert_eq!(tick, first + period * k, "tick {k} drifted");
            let delivered = Instant::now();
            assert!(delivered >= tick, "tick {k} was delivered early");
        }
    });
}

/// The first tick is ready on the first poll, at the instant the interval
/// was created; the second is not.
#[test]
fn the_first_tick_comes_at_once() {
    real(async {
        let before = now();
        let mut ticks = interval(Duration::from_secs(3600));
        let after = now();
        let Poll::Ready(Some(first)) = poll_tick(&mut ticks) else {
            panic!("the first tick was not ready at once");
        };
        assert!(before <= first && first <= after);
        assert_eq!(poll_tick(&mut ticks), Poll::Pending);
    });
    virtual_time(async {
        let start = now();
        let mut ticks = interval(Duration::from_secs(60));
        assert_eq!(poll_tick(&mut ticks), Poll::Ready(Some(start)));
        assert_eq!(now(), start);
    });
}

/// A consumer busy for 3.5 periods gets the three missed ticks at once, one
/// per poll, each with its scheduled instant; then the schedule goes on as if
/// nothing had happened.
#[test]
fn missed_ticks_arrive_in_a_burst() {
    virtual_time(async {
        let period = 10 * MS;
        let start = now();
        let mut ticks = interval(period);
        assert_eq!(ticks.tick().await, start);

        sleep(35 * MS).await; // busy for 3.5 periods
        let busy_until = now();
        for k in 1..=3u32 {
            assert_eq!(
                poll_tick(&mut ticks),
                Poll::Ready(Some(start + period * k)),
                "missed tick {k} was not delivered at once"
            );
            assert_eq!(now(), busy_until, "the clock moved during the burst");
        }
        assert_eq!(poll_tick(&mut ticks), Poll::Pending, "the burst overran");
        assert_eq!(ticks.tick().await, start + 40 * MS);
        assert_eq!(now(), start + 40 * MS);
        assert_eq!(ticks.tick().await, start + 50 * MS);
    });
}

/// `Interval` is a `Stream`: the stream combinators see the same schedule.
#[test]
fn interval_works_with_stream_combinators() {
    virtual_time(async {
        let start = now();
        let period = Duration::from_secs(7);
        let ticks: Vec<Instant> = interval(period).take(4).collect().await;
        assert_eq!(
            ticks,
            [
                start,
                start + period,
                start + 2 * period,
                start + 3 * period
            ]
        );
        assert_eq!(now(), start + 3 * period);
    });
}

/// A zero period would make a stream that never waits: refused.
#[test]
#[should_panic(expected = "the period must be greater than zero")]
fn zero_period_panics() {
    real(async {
        let _ = interval(Duration::ZERO);
    });
}
