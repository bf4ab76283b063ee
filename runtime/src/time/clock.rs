//! The runtime's clock, and the one place where `Instant`s become ticks.
//!
//! The timer wheel counts in integer **ticks** of [`TICK`] since the
//! runtime's origin; everything else speaks `Instant`. Converting a deadline
//! to the tick of its wheel slot rounds *down* ([`tick_floor`]): a slot comes
//! due at or before every deadline it holds, and the driver then compares
//! the exact `Instant` before firing. Rounding down is what lets spindle
//! fire on the exact deadline; tokio rounds up instead and so fires up to a
//! tick late (see `timers.rs`).
//!
//! Under **virtual time** the clock is `origin + offset`, and the offset only
//! moves when the loop has nothing to run ([`Clock::advance_to`]).

use std::cell::Cell;
use std::time::{Duration, Instant};

/// The width of one wheel tick. A millisecond is the resolution people
/// write timeouts in and the granularity tokio and asyncio schedule by; as
/// deadlines are kept exact beside the wheel, the tick only sets how coarse
/// the wheel's buckets are, not how precise timers are.
pub(crate) const TICK: Duration = Duration::from_millis(1);
const TICK_NANOS: u128 = TICK.as_nanos();
// `tick_start` relies on a tick being exactly one millisecond.
const _: () = assert!(TICK_NANOS == 1_000_000);

/// A point about 30 years ahead, for deadlines that `Instant` cannot
/// represent (`now + Duration::MAX`): tokio uses the same horizon. Only
/// reported by `TimerHandle::when`; such timers are never registered.
pub(crate) fn far_future(now: Instant) -> Instant {
    now.checked_add(Duration::from_secs(86_400 * 365 * 30))
        .unwrap_or(now)
}

/// The tick whose slot holds `deadline`: rounded down, saturating at both
/// ends (before the origin is tick 0; beyond `u64::MAX` ticks is `u64::MAX`).
pub(crate) fn tick_floor(origin: Instant, deadline: Instant) -> u64 {
    let nanos = deadline.saturating_duration_since(origin).as_nanos();
    u64::try_from(nanos / TICK_NANOS).unwrap_or(u64::MAX)
}

/// The first instant of `tick`, or `None` if `Instant` cannot represent it.
pub(crate) fn tick_start(origin: Instant, tick: u64) -> Option<Instant> {
    // TICK is one millisecond, so a tick count is a millisecond count.
    origin.checked_add(Duration::from_millis(tick))
}

/// The runtime's clock: real, or virtual.
pub(crate) struct Clock {
    origin: Instant,
    /// `Some(offset)` under virtual time: `now() == origin + offset`.
    virtual_offset: Option<Cell<Duration>>,
}

impl Clock {
    pub(crate) fn new(virtual_time: bool) -> Clock {
        Clock {
            origin: Instant::now(),
            virtual_offset: virtual_time.then(|| Cell::new(Duration::ZERO)),
        }
    }

    #[inline]
    pub(crate) fn now(&self) -> Instant {
        match &self.virtual_offset {
            Some(offset) => self.origin + offset.get(),
            None => Instant::now(),
        }
    }

    pub(crate) fn is_virtual(&self) -> bool {
        self.virtual_offset.is_some()
    }

    /// Virtual time only: moves the clock forward to `deadline` (never back).
    pub(crate) fn advance_to(&self, deadline: Instant) {
        if let Some(offset) = &self.virtual_offset {
            let target = deadline.saturating_duration_since(self.origin);
            if target > offset.get() {
                offset.set(target);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_floor_rounds_down_and_saturates() {
        let origin = Instant::now();
        assert_eq!(tick_floor(origin, origin), 0);
        assert_eq!(
            tick_floor(origin, origin + Duration::from_nanos(999_999)),
            0
        );
        assert_eq!(tick_floor(origin, origin + Duration::from_millis(1)), 1);
        assert_eq!(tick_floor(origin, origin + Duration::from_micros(2_500)), 2);
        // Before the origin: tick 0, not a panic.
        assert_eq!(tick_floor(origin + Duration::from_secs(1), origin), 0);
    }

    #[test]
    fn tick_start_is_never_after_a_deadline_in_that_tick() {
        let origin = Instant::now();
        for micros in [0u64, 1, 999, 1_000, 1_001, 65_432, 4_096_000, 3_600_000_000] {
            let deadline = origin + Duration::from_micros(micros);
            let start = tick_start(origin, tick_floor(origin, deadline)).unwrap();
            assert!(
                start <= deadline,
                "slot start {start:?} after deadline {deadline:?}"
            );
            assert!(deadline - start < TICK);
        }
        assert!(
            tick_start(origin, u64::MAX).is_none()
                || tick_start(origin, u64::MAX).unwrap() > origin
        );
    }

    #[test]
    fn virtual_clock_moves_only_forward() {
        let clock = Clock::new(true);
        let t0 = clock.now();
        assert_eq!(clock.now(), t0, "virtual time does not pass by itself");
        clock.advance_to(t0 + Duration::from_secs(5));
        assert_eq!(clock.now(), t0 + Duration::from_secs(5));
        clock.advance_to(t0 + Duration::from_secs(1));
        assert_eq!(clock.now(), t0 + Duration::from_secs(5));
    }
}
