//! Time: [`sleep`], [`call_later`] and friends, [`interval`], and the clock
//! they all read, [`now`].
//!
//! The pieces, bottom up:
//!
//! - `wheel/` — a hierarchical timing wheel on integer ticks, a pure data
//!   structure that never sees an `Instant` or a `Waker` (its tests are in
//!   `wheel/tests.rs`);
//! - `clock.rs` — the runtime's clock (real or virtual) and the only
//!   `Instant` ↔ tick conversion;
//! - `timers.rs` — the driver: the wheel plus exact deadlines, run by the
//!   loop's "fire expired timers" step;
//! - `sleep.rs`, `callback.rs`, `interval.rs` — the public API on top.

mod callback;
pub(crate) mod clock;
mod interval;
mod sleep;
pub(crate) mod timers;
pub(crate) mod wheel;

use std::time::Instant;

pub use callback::{call_at, call_later, call_soon, TimerHandle};
pub use interval::{interval, Interval};
pub use sleep::{sleep, sleep_until, Sleep};

use crate::context;
use crate::metrics::Metrics;

/// The runtime's clock, like asyncio's `loop.time()`: virtual under virtual
/// time, real otherwise. Outside a runtime it is `Instant::now()`.
///
/// # Examples
///
/// ```
/// let (a, b) = spindle::run(async { (spindle::time::now(), spindle::time::now()) });
/// assert!(b >= a);
/// ```
pub fn now() -> Instant {
    context::with_core(|core| core.map_or_else(Instant::now, |core| core.clock.now()))
}

/// Cancels a timer if this thread runs its runtime; the action is dropped
/// after the driver's borrow ends.
fn cancel_timer(key: timers::TimerKey, runtime: u64) {
    context::with_runtime(runtime, |core| {
        let cancelled = core.timers.borrow_mut().cancel(key);
        if let Some((action, deadline)) = cancelled {
            Metrics::count(&core.metrics.timers_cancelled);
            if let Some(tracer) = &core.tracer {
                tracer.timer_cancelled(core.clock.now(), deadline);
            }
            drop(action);
        }
    });
}
