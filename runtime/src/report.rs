//! Panics that no task can receive, reported the way asyncio's default
//! exception handler reports them: a line on stderr, and the loop goes on.
//!
//! Two kinds of user code run on the loop outside any task's poll: loop
//! callbacks (`call_later`), and wakers the loop calls on someone's behalf —
//! the waker that polled a `Sleep` when its timer fires, the waker that polled
//! a socket when it becomes ready, the waker that awaits a `JoinHandle` when
//! its task ends. A panic there belongs to no task that is running, so it is
//! caught, reported with what was being done, and the loop carries on with
//! the next timer, event or task. (A panic in a waker that a *task* calls —
//! an `Event::set` waking a user's waker — is the calling task's, and
//! reaches it.)
//!
//! One panic does escape: the `block_on` future's own. Under a seeded
//! schedule it leaves with the seed added to its message
//! (`name_the_seed`), so that the crash report says how to replay it.

use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::task::Waker;

/// The panic message, if the payload is a string (as `panic!` makes it).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// Reports a caught panic from `what` on stderr:
/// `spindle: <what> panicked: <message>`.
pub(crate) fn report_panic(what: fmt::Arguments<'_>, payload: Box<dyn Any + Send>) {
    let message = panic_message(payload.as_ref()).unwrap_or("(a non-string panic payload)");
    eprintln!("spindle: {what} panicked: {message}");
    drop_payload(payload);
}

/// Drops a panic payload; dropping one can itself panic, and that must never
/// escape into the loop.
pub(crate) fn drop_payload(payload: Box<dyn Any + Send>) {
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
}

/// Runs a loop callback (`call_soon`, `call_later`, `call_at`); a panic is
/// reported with where the callback was scheduled, and the loop goes on.
pub(crate) fn run_callback(callback: Box<dyn FnOnce()>, location: &'static Location<'static>) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(callback)) {
        report_panic(
            format_args!("the callback scheduled at {location}"),
            payload,
        );
    }
}

/// Wakes `waker` on the loop's behalf; if the waker panics, the panic is
/// reported as coming from "the waker of `whose`" and the loop goes on.
pub(crate) fn wake_on_loop(waker: Waker, whose: &str) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake())) {
        report_panic(format_args!("the waker of {whose}"), payload);
    }
}

/// The payload of a panic that escaped a run seeded with `seed`, its
/// message extended with the seed (a payload that is not a string is kept
/// as it is). Also says so on stderr, right under the panic hook's report,
/// where a person reading a crash looks first.
pub(crate) fn name_the_seed(payload: Box<dyn Any + Send>, seed: u64) -> Box<dyn Any + Send> {
    let note = format!("(seed {seed}: replay with SPINDLE_SEED={seed})");
    eprintln!("spindle: the panic above escaped a run with a seeded schedule {note}");
    match panic_message(payload.as_ref()) {
        Some(message) if message.contains(&note) => payload,
        Some(message) => Box::new(format!("{message} {note}")),
        None => payload,
    }
}
