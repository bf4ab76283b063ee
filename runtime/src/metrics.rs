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
}
