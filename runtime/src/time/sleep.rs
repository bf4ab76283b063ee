//! [`Sleep`]: the future behind `sleep`, `sleep_until` and `timeout`.
//!
//! A `Sleep` is lazy: it registers a timer on its first poll (if its deadline
//! has not passed already), remembers the key, and on drop cancels the entry
//! in O(1). A poll after the timer fired finds the key stale and completes.
//!
//! `sleep(d)` reads the clock once, to compute its deadline; the first poll
//! compares that deadline with the loop's latest reading and reads the clock
//! again only if the deadline is within a tick of it (`Clock::is_due` in
//! `clock.rs`): a deadline that passed is never missed when the loop's
//! reading is under a tick old, and a timer never fires early either way.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::timers::{Action, TimerKey};
use crate::context;
use crate::executor::Core;
use crate::metrics::Metrics;
use crate::observe::{self, Arg, WaitOn};

/// What a task waiting on a `Sleep` waits on: `sleep until 2.000s`.
static UNTIL: WaitOn = WaitOn::new("sleep", "sleep", Arg::Deadline);
/// ... or, for `Duration::MAX`: `sleep forever`.
static FOREVER: WaitOn = WaitOn::new("sleep", "forever", Arg::None);

/// Waits until `duration` has passed, like `asyncio.sleep`.
///
/// `sleep(Duration::ZERO)` completes on its first poll without yielding (use
/// [`yield_now`](crate::yield_now) to let other tasks run). A duration too
/// large for `Instant` — `Duration::MAX` — sleeps forever, without overflow
/// and without registering a timer.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle::time::{now, sleep};
///
/// spindle::run(async {
///     let start = now();
///     sleep(Duration::from_millis(20)).await;
///     assert!(now() - start >= Duration::from_millis(20)); // never early
/// });
/// ```
///
/// # Panics
///
/// Polling the `Sleep` outside of a runtime (message contains `outside of a
/// spindle runtime`).
pub fn sleep(duration: Duration) -> Sleep {
    let now = super::now();
    Sleep {
        deadline: now.checked_add(duration),
        timer: None,
    }
}

/// Waits until `deadline`. A deadline in the past completes on the first
/// poll, with one exception: if the task has run for over a millisecond
/// since the runtime last read its clock (`now()` is a reading), a
/// deadline that passed in that time, more than a millisecond after the
/// reading, is armed as a timer instead. The timer fires in the same turn
/// of the loop and the task completes when it is next polled: a turn late,
/// never early.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle::time::{now, sleep_until};
///
/// spindle::run(async {
///     let deadline = now() + Duration::from_millis(5);
///     sleep_until(deadline).await;
///     assert!(now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline: Some(deadline),
        timer: None,
    }
}

/// The future of [`sleep`] and [`sleep_until`]. `Unpin`, `Send` and `Sync`.
///
/// # Cancellation
///
/// Dropping a `Sleep` cancels its timer in O(1). (If it is dropped on a
/// thread other than its runtime's, the entry stays until its deadline and
/// then wakes nobody who cares.)
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    /// `None`: never (the deadline overflowed `Instant`).
    deadline: Option<Instant>,
    /// The timer this `Sleep` armed; `None` before the first poll, once a
    /// poll has seen it fire, or when the deadline is never.
    timer: Option<ArmedTimer>,
}

/// A timer a `Sleep` has armed: its key, and the runtime whose driver holds
/// it. (Named apart from the reactor's `Registration`, an I/O object's.)
#[derive(Debug, Clone, Copy)]
struct ArmedTimer {
    /// The timer's key in that runtime's driver.
    key: TimerKey,
    /// The runtime's id (`Shared::id`), never reused by another runtime.
    runtime: u64,
}

impl Sleep {
    /// The instant this sleep completes at (`None`: never).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        self.deadline
            .is_some_and(|deadline| super::now() >= deadline)
    }

    /// Moves the deadline, earlier or later. A task waiting on this `Sleep`
    /// is woken at the new deadline.
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = Some(deadline);
        if let Some(armed) = this.timer.take() {
            // Not pending any more (it fired), or another runtime's: the next
            // poll registers anew.
            let moved = context::with_runtime(armed.runtime, |core| {
                core.timers.borrow_mut().reset(armed.key, deadline)
            });
            this.timer = moved.flatten().map(|key| ArmedTimer { key, ..armed });
        }
    }

    fn poll_at(&mut self, core: &Core, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.deadline else {
            return Poll::Pending;
        };
        let id = core.shared.id;
        match self.timer {
            Some(armed) if armed.runtime == id => {
                let mut timers = core.timers.borrow_mut();
                if timers.is_pending(armed.key) {
                    timers.set_waker(armed.key, cx.waker());
                    return Poll::Pending;
                }
                self.timer = None;
                Poll::Ready(())
            }
            _ => {
                // The clock is read afresh only if the deadline might be
                // due (`clock.rs`): a `sleep(d)` polled as soon as it was
                // made arms its timer without a second reading.
                if core.clock.is_due(deadline) {
                    return Poll::Ready(());
                }
                let key = core
                    .timers
                    .borrow_mut()
                    .insert(deadline, Action::Wake(cx.waker().clone()));
                Metrics::count(&core.metrics.timers_inserted);
                self.timer = Some(ArmedTimer { key, runtime: id });
                Poll::Pending
            }
        }
    }
}

impl Future for Sleep {
    type Output = ();

    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        context::expect_core("Sleep::poll", |core| {
            let poll = self.poll_at(core, cx);
            if poll.is_pending() {
                match self.deadline {
                    Some(deadline) => {
                        let since = deadline.saturating_duration_since(core.started);
                        observe::record(core, &UNTIL, since.as_millis() as u64);
                    }
                    None => observe::record(core, &FOREVER, 0),
                }
            }
            poll
        })
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(armed) = self.timer.take() {
            super::cancel_timer(armed.key, armed.runtime);
        }
    }
}
