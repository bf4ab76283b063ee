//! Callbacks on the loop: [`call_soon`], [`call_later`] and [`call_at`],
//! asyncio's `loop.call_*`, and the [`TimerHandle`] they return.
//!
//! A callback is a plain `FnOnce()` run on the runtime's thread when its
//! deadline passes, in deadline order and FIFO among equal deadlines.
//! `call_soon` is different, as in asyncio: the callback joins the ready
//! queue (it runs as a tiny task named `call_soon`), so it runs after the
//! tasks that are ready now and in FIFO order with them. A
//! callback that panics does not take the runtime down: the panic is
//! reported on stderr with the place the callback was scheduled from, as
//! asyncio's default exception handler does, and the loop goes on.

use std::marker::PhantomData;
use std::panic::Location;
use std::time::{Duration, Instant};

use super::clock::far_future;
use super::timers::{Action, TimerKey};
use crate::context;
use crate::join::JoinHandle;
use crate::metrics::Metrics;
use crate::report::run_callback;
use crate::task::NotSend;

/// Runs `f` on the loop as soon as possible: after the tasks that are ready
/// now, in FIFO order with other `call_soon` callbacks.
///
/// # Examples
///
/// ```
/// use std::{cell::Cell, rc::Rc};
///
/// spindle::run(async {
///     let ran = Rc::new(Cell::new(false));
///     let flag = ran.clone();
///     spindle::time::call_soon(move || flag.set(true));
///     spindle::time::sleep(std::time::Duration::ZERO).await;
///     spindle::yield_now().await;
///     assert!(ran.get());
/// });
/// ```
///
/// # Panics
///
/// Outside of a runtime (message contains `outside of a spindle runtime`).
#[track_caller]
pub fn call_soon(f: impl FnOnce() + 'static) -> TimerHandle {
    let location = Location::caller();
    context::expect_core("call_soon", |core| {
        let when = core.clock.now();
        let callback: Box<dyn FnOnce()> = Box::new(f);
        let task = crate::spawn_named("call_soon", async move { run_callback(callback, location) });
        TimerHandle {
            entry: Entry::Soon(task),
            runtime: core.shared.id,
            when,
            _not_send: PhantomData,
        }
    })
}

/// Runs `f` on the loop after `delay`, like `loop.call_later`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// spindle::run(async {
///     spindle::time::call_later(Duration::from_millis(10), || println!("later"));
///     spindle::time::sleep(Duration::from_millis(20)).await;
/// });
/// ```
///
/// # Panics
///
/// Outside of a runtime (message contains `outside of a spindle runtime`).
#[track_caller]
pub fn call_later(delay: Duration, f: impl FnOnce() + 'static) -> TimerHandle {
    let location = Location::caller();
    context::expect_core("call_later", |core| {
        schedule(
            core,
            core.clock.now().checked_add(delay),
            Box::new(f),
            location,
        )
    })
}

/// Runs `f` on the loop at `when`, like `loop.call_at`. A `when` in the past
/// runs it as soon as possible.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle::time::{call_at, now};
///
/// spindle::run(async {
///     let handle = call_at(now() + Duration::from_secs(60), || unreachable!());
///     handle.cancel(); // it never runs
/// });
/// ```
///
/// # Panics
///
/// Outside of a runtime (message contains `outside of a spindle runtime`).
#[track_caller]
pub fn call_at(when: Instant, f: impl FnOnce() + 'static) -> TimerHandle {
    let location = Location::caller();
    context::expect_core("call_at", |core| {
        schedule(core, Some(when), Box::new(f), location)
    })
}

fn schedule(
    core: &crate::executor::Core,
    when: Option<Instant>,
    f: Box<dyn FnOnce()>,
    location: &'static Location<'static>,
) -> TimerHandle {
    let runtime = core.shared.id;
    let Some(when) = when else {
        // The delay overflowed `Instant`: it would never come, so nothing is registered.
        return TimerHandle {
            entry: Entry::Never,
            runtime,
            when: far_future(core.clock.now()),
            _not_send: PhantomData,
        };
    };
    let key = core
        .timers
        .borrow_mut()
        .insert(when, Action::Call(f, location));
    Metrics::count(&core.metrics.timers_inserted);
    TimerHandle {
        entry: Entry::Timer(key),
        runtime,
        when,
        _not_send: PhantomData,
    }
}

/// A scheduled callback. Dropping it does not cancel the callback (as in
/// asyncio); [`cancel`](TimerHandle::cancel) does.
#[derive(Debug)]
pub struct TimerHandle {
    entry: Entry,
    runtime: u64,
    when: Instant,
    _not_send: NotSend,
}

/// What a `TimerHandle` refers to.
#[derive(Debug)]
enum Entry {
    /// A timer in the driver (`call_later`, `call_at`).
    Timer(TimerKey),
    /// A `call_soon` callback waiting in the ready queue as a task.
    Soon(JoinHandle<()>),
    /// A delay too large for `Instant`: nothing was scheduled.
    Never,
}

impl TimerHandle {
    /// Cancels the callback if it has not run yet; afterwards (or outside
    /// its runtime, which cancelled everything when it shut down) a no-op.
    pub fn cancel(&self) {
        match &self.entry {
            Entry::Timer(key) => super::cancel_timer(*key, self.runtime),
            Entry::Soon(task) => task.cancel(),
            Entry::Never => {}
        }
    }

    /// When the callback is (or was) due. For a delay too large for
    /// `Instant`, a point about 30 years ahead.
    pub fn when(&self) -> Instant {
        self.when
    }
}
