//! [`interval`]: a stream of ticks at a fixed period, without drift.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;

use super::sleep::{sleep_until, Sleep};

/// A [`Stream`] of `Instant`s: the first tick at once, then one every
/// `period` after the start.
///
/// Tick `k` is scheduled at `start + k * period`, computed from the start and
/// not from the previous wake-up, so lateness never accumulates (no drift).
/// Each item is the tick's *scheduled* instant.
///
/// **Missed ticks** (the consumer was busy for longer than a period) are
/// delivered at once, one per poll, until the schedule is caught up — tokio's
/// default "burst" behaviour. The count of ticks thus always matches the
/// elapsed time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle::time::interval;
///
/// spindle::run(async {
///     let mut ticks = interval(Duration::from_millis(10));
///     let first = ticks.tick().await;
///     let second = ticks.tick().await;
///     assert_eq!(second - first, Duration::from_millis(10));
/// });
/// ```
///
/// # Panics
///
/// If `period` is zero (a stream that never waits would starve the loop's
/// timers).
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "interval: the period must be greater than zero"
    );
    let start = super::now();
    Interval {
        period,
        next: Some(start),
        sleep: sleep_until(start),
    }
}

/// The stream returned by [`interval`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Interval {
    period: Duration,
    /// The next tick's scheduled instant; `None` once it overflows `Instant`.
    next: Option<Instant>,
    sleep: Sleep,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: a tick is consumed only in the poll that returns it, so
    /// dropping a `tick()` future loses no tick; the next `tick()` returns
    /// it (or, if its time has passed, returns it at once).
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .expect("an interval never ends")
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }
}

impl Stream for Interval {
    type Item = Instant;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        let Some(tick) = self.next else {
            return Poll::Pending;
        };
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let next = tick.checked_add(self.period);
        self.next = next;
        if let Some(next) = next {
            Pin::new(&mut self.sleep).reset(next);
        }
        Poll::Ready(Some(tick))
    }
}
