//! Misuse is reported at the user's line: every panic a spindle function
//! raises for a bad call or a call from the wrong place names the file and
//! line of the call, not a spindle-internal file (`#[track_caller]` all the
//! way down to the `panic!`).

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use spindle::{Handle, Queue};

thread_local! {
    /// Where the last panic on this thread was raised.
    static PANICKED_AT: Cell<Option<(&'static str, u32)>> = const { Cell::new(None) };
}

/// Runs `f`, which must panic, and returns the file and line the panic
/// names.
fn panic_location(f: impl FnOnce()) -> (&'static str, u32) {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        let location = info.location().expect("a location");
        // Locations of panics raised in this file (or in spindle) have
        // 'static file names.
        let file: &'static str = Box::leak(location.file().to_string().into_boxed_str());
        PANICKED_AT.with(|at| at.set(Some((file, location.line()))));
    }));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(previous);
    assert!(result.is_err(), "expected a panic");
    PANICKED_AT
        .with(|at| at.take())
        .expect("the hook saw the panic")
}

#[test]
fn misuse_panics_point_at_the_callers_line() {
    type Case = (&'static str, Box<dyn FnOnce()>);
    let cases: Vec<Case> = vec![
        ("spawn", Box::new(|| drop(spindle::spawn(async {})))),
        (
            "spawn_named",
            Box::new(|| drop(spindle::spawn_named("x", async {}))),
        ),
        (
            "call_later",
            Box::new(|| drop(spindle::time::call_later(Duration::ZERO, || {}))),
        ),
        (
            "call_soon",
            Box::new(|| drop(spindle::time::call_soon(|| {}))),
        ),
        ("to_thread", Box::new(|| drop(spindle::to_thread(|| ())))),
        ("Handle::current", Box::new(|| drop(Handle::current()))),
        (
            "Queue::bounded(0)",
            Box::new(|| drop(Queue::<u8>::bounded(0))),
        ),
        (
            "interval(ZERO)",
            Box::new(|| drop(spindle::time::interval(Duration::ZERO))),
        ),
    ];
    for (what, case) in cases {
        let (file, line) = panic_location(case);
        assert_eq!(
            file,
            file!(),
            "{what}: the panic names {file}:{line}, not the caller"
        );
    }
}

#[test]
fn a_misspelled_spindle_clock_is_an_error_naming_the_accepted_values() {
    // The variable is read by `from_env`; set it for a child process only,
    // so no other test in this binary sees it.
    if std::env::var_os("SPINDLE_MISUSE_CHILD").is_some() {
        let error = spindle::Runtime::builder()
            .from_env()
            .build()
            .err()
            .expect("SPINDLE_CLOCK=virtal must not build");
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        let message = error.to_string();
        assert!(message.contains("SPINDLE_CLOCK=virtal"), "{message}");
        assert!(
            message.contains("`virtual`") && message.contains("`real`"),
            "{message}"
        );
        // `run` turns it into a panic at the caller's line.
        let at = panic_location(|| {
            spindle::run(async {});
        });
        assert_eq!(at.0, file!());
        return;
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_misspelled_spindle_clock_is_an_error_naming_the_accepted_values",
            "--nocapture",
        ])
        .env("SPINDLE_MISUSE_CHILD", "1")
        .env("SPINDLE_CLOCK", "virtal")
        .status()
        .unwrap();
    assert!(status.success(), "the child test failed: {status}");
}
