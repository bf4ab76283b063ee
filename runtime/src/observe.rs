//! How a primitive tells the runtime what it is doing, so that the trace
//! and the task dump can say it: `Mutex#1 handed over` on the lane of the
//! task that unlocked, `Mutex#1 acquired` on the lane of the one that got
//! it, and `Mutex#1.lock` as what a task waits on.
//!
//! The primitives (`Mutex`, `Semaphore`, `TaskGroup`, ...) live in another
//! crate and run on any executor; they know nothing of spindle's `Core`.
//! This file is the narrow door they use:
//!
//! - a [`Label`] is a primitive's name tag, a kind (`"Mutex"`) and a number.
//!   The number is given lazily, the first time the object is noted inside
//!   a spindle runtime, from that runtime's own counter: objects are numbered
//!   in the order they first appear, so the same program gives the same
//!   trace every run, whatever else the process did before.
//! - [`note`] records an instant event on the current task's lane. Outside
//!   a spindle runtime, or with tracing off, it does nothing but read one
//!   thread-local and test one `Option`: a primitive may call it on every
//!   hand-off without a measurable cost (the comparison bench's lock rows
//!   run with these calls in).
//! - [`wait_on`] records what the task being polled now waits on, just
//!   before a future returns `Pending` (`wait.rs` explains the record). It
//!   costs a thread-local read and a store; outside a spindle runtime it
//!   does nothing.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::context;
pub use crate::wait::{Arg, WaitOn};

/// A primitive's name in traces: a kind and a number, shown as `Mutex#1`.
///
/// Embed one in the primitive's shared state and pass it to [`note`].
///
/// # Examples
///
/// ```
/// use spindle::observe::{note, Label};
///
/// static GATE: Label = Label::new("Gate");
/// spindle::run(async {
///     note(&GATE, "opened"); // with tracing on: `Gate#1 opened` on main's lane
///     assert_eq!(GATE.to_string(), "Gate#1");
/// });
/// ```
pub struct Label {
    kind: &'static str,
    /// 0 until the object is first noted inside a runtime. Only ever goes
    /// from 0 to a number, once, so a relaxed compare-exchange suffices:
    /// nothing else is published through it.
    number: AtomicU64,
}

impl Label {
    /// A label of `kind`, not numbered yet.
    pub const fn new(kind: &'static str) -> Label {
        Label {
            kind,
            number: AtomicU64::new(0),
        }
    }

    /// The kind given to [`Label::new`].
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The number, given now from the current runtime's counter if the
    /// object has none yet; `None` outside a runtime before it has one.
    pub fn number(&self) -> Option<u64> {
        match self.number.load(Ordering::Relaxed) {
            0 => context::with_core(|core| {
                let core = core?;
                let next = core.labels.get() + 1;
                match self
                    .number
                    .compare_exchange(0, next, Ordering::Relaxed, Ordering::Relaxed)
                {
                    Ok(_) => {
                        core.labels.set(next);
                        Some(next)
                    }
                    // Numbered meanwhile by another thread's runtime.
                    Err(number) => Some(number),
                }
            }),
            number => Some(number),
        }
    }
}

impl fmt::Display for Label {
    /// `Mutex#1`, or `Mutex#?` outside a runtime before the object has a number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.number() {
            Some(number) => write!(f, "{}#{number}", self.kind),
            None => write!(f, "{}#?", self.kind),
        }
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Records `what` happened to `object` as an instant event on the lane of
/// the task being polled (`Mutex#1 acquired`), if this thread runs a
/// spindle runtime that traces. Otherwise it does nothing.
///
/// Called outside any task's poll (from a timer callback, say), the event
/// goes to the `main` lane.
#[inline]
pub fn note(object: &Label, what: &str) {
    context::with_core(|core| {
        let Some(core) = core else { return };
        if core.tracer.is_some() {
            record_note(core, object, what);
        }
    });
}

/// Records that the task being polled waits on `object` for `on` (declared
/// with [`Arg::Object`]): the task dump shows `Mutex#2.lock`. Call it when
/// a future is about to return `Pending`. The first record of a poll wins
/// (`join!` of several waits shows the first); the executor clears it
/// before the next poll. Outside a spindle runtime it does nothing.
///
/// # Examples
///
/// ```
/// use spindle::observe::{wait_on, Arg, Label, WaitOn};
///
/// static TURNSTILE: Label = Label::new("Turnstile");
/// static PASS: WaitOn = WaitOn::new("Turnstile", "pass", Arg::Object);
///
/// // Inside some future's `poll`, before `return Poll::Pending`:
/// wait_on(&PASS, &TURNSTILE); // the dump shows `Turnstile#1.pass`
/// ```
#[inline(always)]
pub fn wait_on(on: &'static WaitOn, object: &Label) {
    context::with_core(|core| {
        let Some(task) = core.and_then(|core| core.running.get()) else {
            return;
        };
        let header = task.header();
        if !header.has_wait() {
            let number = match object.number.load(Ordering::Relaxed) {
                0 => object.number().unwrap_or(0),
                number => number,
            };
            header.record_wait(on, number);
        }
    });
}

/// [`wait_on`] for the runtime's own futures, whose number is not an
/// object's: a deadline, a task id, a descriptor (see [`Arg`]).
#[inline]
pub(crate) fn record(core: &crate::executor::Core, on: &'static WaitOn, number: u64) {
    if let Some(task) = core.running.get() {
        task.header().record_wait(on, number);
    }
}

/// [`record`] on this thread's runtime, if it runs one (a no-op
/// otherwise): for futures that do not already hold the `Core`.
pub(crate) fn record_here(on: &'static WaitOn, number: u64) {
    context::with_core(|core| {
        if let Some(core) = core {
            record(core, on, number);
        }
    });
}

/// [`note`] with tracing on. Out of line so that the check above is all a
/// lock's fast path carries: inlined, the formatting made the compiler stop
/// inlining the lock's own code around it (callgrind: 28 → 60 instructions
/// per uncontended `lock().await` and unlock).
#[cold]
#[inline(never)]
fn record_note(core: &crate::executor::Core, object: &Label, what: &str) {
    let Some(tracer) = &core.tracer else { return };
    let task = core.running.get().unwrap_or(core.main_task());
    tracer.note(
        task.trace_name(),
        &object.to_string(),
        what,
        core.clock.now(),
    );
}
