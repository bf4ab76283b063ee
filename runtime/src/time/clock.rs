//! The runtime's clock, and the one place where `Instant`s become ticks.
//!
//! The timer wheel counts in integer **ticks** of [`TICK`] since the
//! runtime's origin; everything else speaks `Instant`. The driver keeps a
//! deadline exact as nanoseconds since the origin ([`nanos_since`]), one
//! `u64`; converting that to the tick of its wheel slot rounds *down*
//! ([`tick_of`]; [`tick_floor`] does both steps): a slot comes
//! due at or before every deadline it holds, and the driver then compares
//! the exact `Instant` before firing. Rounding down is what lets spindle
//! fire on the exact deadline; tokio rounds up instead and so fires up to a
//! tick late (see `timers.rs`).
//!
//! Under **virtual time** the clock is `origin + offset`, and the offset only
//! moves when the loop has nothing to run ([`Clock::advance_to`]).
//!
//! # Reading the clock only when a deadline might be due
//!
//! A real reading (`Instant::now()`, a vDSO `clock_gettime`) costs about
//! 67 ns on the VM the benchmarks run on: as much as the rest of arming a
//! timer. The clock keeps its latest reading ([`Clock::last_reading`]): the
//! loop reads it every turn that has timers (step 3), and every `sleep`,
//! `now()` and `timeout` reads it when it computes its deadline. A deadline
//! is then checked by [`Clock::is_due`] in three bands:
//!
//! - **not after the latest reading**: due, no reading needed (that reading
//!   was taken before now, so the deadline has passed);
//! - **within [`FRESH_WINDOW`] (one tick) after it**: it might be due, so a
//!   fresh reading decides;
//! - **later than that**: not due, without a reading. It may in fact have
//!   passed, if the loop has not read its clock for over a millisecond (a
//!   long poll); the timer is then armed and fires in step 3 of this very
//!   turn, whose reading is fresh. Never early; at worst one turn late.
//!
//! So `sleep(Duration::ZERO)`, `sleep_until(now())` and any deadline up to a
//! tick past the latest reading complete on their first poll, exactly as
//! with a fresh reading, and a `sleep(d)` polled right after it was made —
//! the common case, whose deadline lies `d` after the reading it was made
//! from — arms its timer without touching the clock again.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// The width of one wheel tick. A millisecond is the resolution people
/// write timeouts in and the granularity tokio and asyncio schedule by; as
/// deadlines are kept exact beside the wheel, the tick only sets how coarse
/// the wheel's buckets are, not how precise timers are.
pub(crate) const TICK: Duration = Duration::from_millis(1);
// `tick_floor` and `tick_start` rely on a tick being exactly one millisecond.
const _: () = assert!(TICK.as_nanos() == 1_000_000);

/// A point about 30 years ahead, for deadlines that `Instant` cannot
/// represent (`now + Duration::MAX`): tokio uses the same horizon. Only
/// reported by `TimerHandle::when`; such timers are never registered.
pub(crate) fn far_future(now: Instant) -> Instant {
    now.checked_add(Duration::from_secs(86_400 * 365 * 30))
        .unwrap_or(now)
}

/// `instant` as nanoseconds since `origin`, the driver's exact and cheap
/// form of a deadline (one `u64` to compare instead of an `Instant`'s
/// seconds and nanoseconds). Saturating at both ends: before the origin is
/// 0, which only makes a deadline that has long passed due at once; beyond
/// `u64::MAX` ns (584 years) is `u64::MAX`, which never comes.
pub(crate) fn nanos_since(origin: Instant, instant: Instant) -> u64 {
    let since = instant.saturating_duration_since(origin);
    since
        .as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(since.subsec_nanos()))
}

/// The tick whose slot holds a deadline `nanos` after the origin: rounded
/// down.
pub(crate) fn tick_of(nanos: u64) -> u64 {
    nanos / TICK.as_nanos() as u64
}

/// The tick whose slot holds `deadline`: rounded down, saturating at both
/// ends (before the origin is tick 0; far beyond it, the tick of `u64::MAX`
/// ns). The driver converts in two steps, as it keeps the nanoseconds.
#[cfg_attr(not(test), allow(dead_code))] // the tests, and docs/TOUR.md's exercise (a)
pub(crate) fn tick_floor(origin: Instant, deadline: Instant) -> u64 {
    tick_of(nanos_since(origin, deadline))
}

/// The first instant of `tick`, or `None` if `Instant` cannot represent it.
pub(crate) fn tick_start(origin: Instant, tick: u64) -> Option<Instant> {
    // TICK is one millisecond, so a tick count is a millisecond count.
    origin.checked_add(Duration::from_millis(tick))
}

/// How far past the latest reading a deadline must lie for [`Clock::is_due`]
/// to call it not due without a fresh reading: one tick. The loop reads its
/// clock at least once per turn that has timers, and a turn of short polls
/// (at most 61, `executor.rs`) takes well under a millisecond, so a deadline
/// more than a tick past the latest reading has, in practice, not passed.
pub(crate) const FRESH_WINDOW: Duration = TICK;

/// The runtime's clock: real, or virtual.
pub(crate) struct Clock {
    origin: Instant,
    /// `Some(offset)` under virtual time: `now() == origin + offset`.
    virtual_offset: Option<Cell<Duration>>,
    /// Real time: the latest reading [`Clock::now`] returned. Never ahead of
    /// the real clock (`Instant` is monotonic); only ever moves forward.
    last: Cell<Instant>,
}

impl Clock {
    pub(crate) fn new(virtual_time: bool) -> Clock {
        let origin = Instant::now();
        Clock {
            origin,
            virtual_offset: virtual_time.then(|| Cell::new(Duration::ZERO)),
            last: Cell::new(origin),
        }
    }

    /// A fresh reading (virtual time: the virtual clock), remembered as the
    /// latest.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        match &self.virtual_offset {
            Some(offset) => self.origin + offset.get(),
            None => {
                let now = Instant::now();
                self.last.set(now);
                now
            }
        }
    }

    /// The latest reading, without reading the clock: never after the real
    /// time. Under virtual time it is the virtual clock itself, which only
    /// moves between turns.
    #[inline]
    pub(crate) fn last_reading(&self) -> Instant {
        match &self.virtual_offset {
            Some(offset) => self.origin + offset.get(),
            None => self.last.get(),
        }
    }

    /// Whether `deadline` is due, reading the clock only when it might be
    /// (the three bands of the module doc). `true` is always exact: the
    /// deadline has passed. `false` is exact too unless the clock went
    /// unread for over [`FRESH_WINDOW`]; then a deadline that passed
    /// meanwhile is called not due, and its timer fires at the loop's next
    /// step 3 instead — late by at most a turn, never early.
    #[inline]
    pub(crate) fn is_due(&self, deadline: Instant) -> bool {
        let last = self.last_reading();
        if deadline <= last {
            return true;
        }
        match last.checked_add(FRESH_WINDOW) {
            Some(window_end) if deadline > window_end => false,
            _ => deadline <= self.now(),
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
        // Seconds and nanoseconds both count.
        assert_eq!(
            tick_floor(origin, origin + Duration::new(3_600, 999_999_999)),
            3_600_999
        );
        assert_eq!(
            nanos_since(origin, origin + Duration::new(3, 7)),
            3_000_000_007
        );
        // Far beyond: saturates, no panic.
        let far = origin.checked_add(Duration::from_secs(1 << 40));
        if let Some(far) = far {
            assert_eq!(nanos_since(origin, far), u64::MAX);
        }
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
    fn is_due_reads_the_clock_only_near_the_latest_reading() {
        let clock = Clock::new(false);
        let last = clock.now();
        assert_eq!(clock.last_reading(), last);
        // Before or at the latest reading: due, no reading taken.
        assert!(clock.is_due(last));
        assert!(clock.is_due(last - Duration::from_micros(1)));
        assert_eq!(clock.last_reading(), last, "no fresh reading was needed");
        // Well beyond the window: not due, no reading taken.
        assert!(!clock.is_due(last + FRESH_WINDOW + Duration::from_micros(1)));
        assert_eq!(clock.last_reading(), last, "no fresh reading was needed");
        // Within the window: a fresh reading decides, and is remembered.
        std::thread::sleep(Duration::from_micros(200));
        assert!(clock.is_due(last + Duration::from_micros(100)));
        assert!(clock.last_reading() >= last + Duration::from_micros(200));
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
