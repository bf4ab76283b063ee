//! Counters of what a runtime has done: [`Runtime::metrics`] and
//! [`Handle::metrics`] return a [`MetricsSnapshot`].
//!
//! The counters are plain `Cell`s bumped on the runtime's own thread, so
//! keeping them costs an add each, never an atomic operation.
//!
//! [`Runtime::metrics`]: crate::Runtime::metrics
//! [`Handle::metrics`]: crate::Handle::metrics

use std::cell::Cell;
use std::time::Duration;

/// Where a wake came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WakeOrigin {
    /// A waker called on the runtime's own thread by a task or callback.
    Local,
    /// A waker called on another thread (through the mailbox).
    Remote,
    /// A timer that fired.
    Timer,
    /// The reactor, for I/O readiness.
    Io,
}

impl WakeOrigin {
    /// The name the trace records.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            WakeOrigin::Local => "local",
            WakeOrigin::Remote => "remote",
            WakeOrigin::Timer => "timer",
            WakeOrigin::Io => "io",
        }
    }
}

#[derive(Default)]
pub(crate) struct Metrics {
    pub(crate) spawned: Cell<u64>,
    pub(crate) finished: Cell<u64>,
    pub(crate) polls: Cell<u64>,
    pub(crate) wakes: [Cell<u64>; 4],
    pub(crate) timers_inserted: Cell<u64>,
    pub(crate) timers_fired: Cell<u64>,
    pub(crate) timers_cancelled: Cell<u64>,
    pub(crate) reactor_waits: Cell<u64>,
    pub(crate) parked: Cell<Duration>,
    pub(crate) longest_ready_queue: Cell<usize>,
    /// `Some` with `Builder::histograms(true)`.
    pub(crate) histograms: Option<Box<Histograms>>,
}

/// The two histograms' buckets, bumped on the runtime's thread.
pub(crate) struct Histograms {
    pub(crate) schedule_latency: [Cell<u64>; BUCKETS],
    pub(crate) poll_duration: [Cell<u64>; BUCKETS],
}

impl Histograms {
    pub(crate) fn new() -> Histograms {
        Histograms {
            schedule_latency: std::array::from_fn(|_| Cell::new(0)),
            poll_duration: std::array::from_fn(|_| Cell::new(0)),
        }
    }

    /// Counts one `value` in `buckets`.
    #[inline]
    pub(crate) fn record(buckets: &[Cell<u64>; BUCKETS], value: Duration) {
        let bucket = &buckets[bucket_of(value)];
        bucket.set(bucket.get() + 1);
    }
}

/// Buckets per histogram: one for 0 ns and one per power of two up to
/// 2⁶³ ns (292 years), so every `u64` of nanoseconds has one.
const BUCKETS: usize = 65;

/// The bucket of `value`: 0 for 0 ns, else `k + 1` for `2ᵏ ≤ ns < 2ᵏ⁺¹`.
fn bucket_of(value: Duration) -> usize {
    let ns = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX);
    (u64::BITS - ns.leading_zeros()) as usize
}

/// A histogram of durations in power-of-two buckets of nanoseconds, as
/// tokio's `RuntimeMetrics` keeps for poll times (`poll_time_histogram`,
/// log scale): bucket 0 counts 0 ns, bucket `k + 1` counts
/// `2ᵏ ≤ ns < 2ᵏ⁺¹`. Cheap to keep (an add per value), and the shape of a
/// latency distribution — its tail — shows at every scale.
///
/// # Examples
///
/// ```
/// let runtime = spindle::Runtime::builder().histograms(true).build()?;
/// runtime.block_on(async {
///     for _ in 0..10 {
///         spindle::yield_now().await;
///     }
/// });
/// let polls = runtime.metrics().poll_duration;
/// assert_eq!(polls.count(), 11); // the block_on future, polled 11 times
/// assert!(polls.quantile(0.5) > std::time::Duration::ZERO);
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Histogram {
    buckets: [u64; BUCKETS],
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            buckets: [0; BUCKETS],
        }
    }
}

impl Histogram {
    fn of(buckets: &[Cell<u64>; BUCKETS]) -> Histogram {
        Histogram {
            buckets: std::array::from_fn(|i| buckets[i].get()),
        }
    }

    /// How many values were counted.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// The non-empty buckets, as (lower bound, upper bound, count): a value
    /// `v` in a bucket has `lower <= v < upper` (0 ns: both 0).
    pub fn buckets(&self) -> impl Iterator<Item = (Duration, Duration, u64)> + '_ {
        self.buckets
            .iter()
            .enumerate()
            .filter(|(_, &count)| count > 0)
            .map(|(i, &count)| {
                let (low, high) = bounds(i);
                (Duration::from_nanos(low), Duration::from_nanos(high), count)
            })
    }

    /// An upper bound for the `q` quantile (`0.0..=1.0`): the upper end of
    /// the bucket that holds it, so the true value is below it and at least
    /// half of it. `Duration::ZERO` for an empty histogram.
    pub fn quantile(&self, q: f64) -> Duration {
        let count = self.count();
        if count == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Duration::from_nanos(bounds(i).1);
            }
        }
        Duration::from_nanos(u64::MAX)
    }
}

/// The bounds `[low, high)` of bucket `i`, in ns (bucket 0 is just 0).
fn bounds(i: usize) -> (u64, u64) {
    match i {
        0 => (0, 0),
        64 => (1 << 63, u64::MAX),
        i => (1 << (i - 1), 1 << i),
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.buckets().map(|(low, _, count)| (low, count)))
            .finish()
    }
}

/// One line per non-empty bucket: its range and a bar of `#`s, longest 40.
impl std::fmt::Display for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let most = self.buckets.iter().copied().max().unwrap_or(0).max(1);
        for (low, high, count) in self.buckets() {
            let bar = "#".repeat(((count * 40).div_ceil(most)) as usize);
            writeln!(f, "{:>10?} .. {:<10?} {count:>9} {bar}", low, high)?;
        }
        Ok(())
    }
}

impl Metrics {
    #[inline]
    pub(crate) fn count(cell: &Cell<u64>) {
        cell.set(cell.get() + 1);
    }

    #[inline]
    pub(crate) fn note_ready_len(&self, ready_len: usize) {
        if ready_len > self.longest_ready_queue.get() {
            self.longest_ready_queue.set(ready_len);
        }
    }

    /// The counters now; `tasks_alive` is the one figure the counters do
    /// not hold (the executor's task list does).
    pub(crate) fn snapshot(&self, tasks_alive: usize) -> MetricsSnapshot {
        MetricsSnapshot {
            tasks_spawned: self.spawned.get(),
            tasks_alive: tasks_alive as u64,
            tasks_finished: self.finished.get(),
            polls: self.polls.get(),
            wakes_local: self.wakes[WakeOrigin::Local as usize].get(),
            wakes_remote: self.wakes[WakeOrigin::Remote as usize].get(),
            wakes_timer: self.wakes[WakeOrigin::Timer as usize].get(),
            wakes_io: self.wakes[WakeOrigin::Io as usize].get(),
            timers_inserted: self.timers_inserted.get(),
            timers_fired: self.timers_fired.get(),
            timers_cancelled: self.timers_cancelled.get(),
            reactor_waits: self.reactor_waits.get(),
            time_parked: self.parked.get(),
            longest_ready_queue: self.longest_ready_queue.get(),
            schedule_latency: self
                .histograms
                .as_ref()
                .map_or_else(Histogram::default, |h| Histogram::of(&h.schedule_latency)),
            poll_duration: self
                .histograms
                .as_ref()
                .map_or_else(Histogram::default, |h| Histogram::of(&h.poll_duration)),
        }
    }
}

/// What a runtime has done since it was built.
///
/// Tasks count spawned tasks only (the `block_on` future is not one;
/// `call_soon` callbacks and `to_thread` jobs' waiting sides are). A wake is
/// counted when it actually queues a task: waking a task that is already
/// queued or finished is not counted, and neither is a spawn.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Tasks spawned (by `spawn`, `spawn_named`, `Handle::spawn`, `to_thread`).
    pub tasks_spawned: u64,
    /// Spawned tasks that have not finished (nor been cancelled) yet.
    pub tasks_alive: u64,
    /// Spawned tasks that returned or panicked (cancelled ones are not counted).
    pub tasks_finished: u64,
    /// Polls of tasks and of the `block_on` future.
    pub polls: u64,
    /// Wakes from a waker called on the runtime's thread.
    pub wakes_local: u64,
    /// Wakes that arrived from other threads through the mailbox.
    pub wakes_remote: u64,
    /// Wakes by a timer firing.
    pub wakes_timer: u64,
    /// Wakes by the reactor for I/O readiness.
    pub wakes_io: u64,
    /// Timers registered (sleeps, `call_later`, `call_at`, timeouts;
    /// `call_soon` joins the ready queue as a task instead).
    pub timers_inserted: u64,
    /// Timers that fired.
    pub timers_fired: u64,
    /// Timers cancelled before they fired.
    pub timers_cancelled: u64,
    /// Times the loop blocked in the reactor.
    pub reactor_waits: u64,
    /// Total real time spent blocked in the reactor.
    pub time_parked: Duration,
    /// The longest the ready queue has been.
    pub longest_ready_queue: usize,
    /// Schedule latency: from the wake (or spawn) that queued a task to
    /// the start of its poll, in real time. Kept only with
    /// [`Builder::histograms(true)`](crate::Builder::histograms); empty
    /// otherwise.
    pub schedule_latency: Histogram,
    /// How long each poll took, in real time (under virtual time too). Kept
    /// only with `Builder::histograms(true)`; empty otherwise.
    pub poll_duration: Histogram,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_lands_in_its_power_of_two_bucket() {
        let ns = Duration::from_nanos;
        assert_eq!(bucket_of(ns(0)), 0);
        assert_eq!(bucket_of(ns(1)), 1);
        assert_eq!(bucket_of(ns(2)), 2);
        assert_eq!(bucket_of(ns(3)), 2);
        assert_eq!(bucket_of(ns(1024)), 11);
        assert_eq!(bucket_of(Duration::MAX), 64);
        for i in 1..64 {
            let (low, high) = bounds(i);
            assert_eq!(bucket_of(ns(low)), i);
            assert_eq!(bucket_of(ns(high - 1)), i);
        }
    }

    #[test]
    fn quantiles_are_the_upper_ends_of_their_buckets() {
        let cells = Histograms::new();
        for ns in [0, 5, 5, 6, 100, 1_000_000] {
            Histograms::record(&cells.poll_duration, Duration::from_nanos(ns));
        }
        let h = Histogram::of(&cells.poll_duration);
        assert_eq!(h.count(), 6);
        assert_eq!(h.quantile(0.0), Duration::ZERO);
        assert_eq!(h.quantile(0.5), Duration::from_nanos(8)); // 5, 5, 6 in [4, 8)
        assert_eq!(h.quantile(0.8), Duration::from_nanos(128));
        assert_eq!(h.quantile(1.0), Duration::from_nanos(1 << 20));
        assert_eq!(Histogram::default().quantile(0.5), Duration::ZERO);
        assert_eq!(h.buckets().count(), 4);
    }
}
