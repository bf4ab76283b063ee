//! Panics: inside tasks (caught, reported through `JoinError`), in the
//! `block_on` future (propagated), and the runtime's own panics for misuse
//! (`spawn` outside a runtime, a runtime started inside another).

mod support;

use std::any::Any;
use std::cell::Cell;
use std::error::Error;
use std::fmt::{Debug, Display};
use std::future::pending;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use spindle::{run, spawn, spawn_named, to_thread, yield_now, Handle, JoinError, Runtime};
use support::SetOnDrop;

/// The message of a panic payload made by `panic!` (a `&str` or a `String`).
fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .expect("a panic payload with a message")
}

/// Runs `f`, expects it to panic, and returns the panic message.
fn panic_message_of<R>(f: impl FnOnce() -> R) -> String {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => message(payload.as_ref()).to_owned(),
    }
}

const OUTSIDE: &str = "outside of a spindle runtime";
const NESTED: &str = "cannot start a runtime from within a runtime";

/// A panic inside a task is caught: the handle yields `Err(e)` with
/// `e.is_panic()`, `into_panic` gives the payload, and other tasks run on.
#[test]
fn a_panicking_task_is_caught_and_others_run_on() {
    run(async {
        let before = spawn(async {
            yield_now().await;
            yield_now().await;
            "before"
        });
        let bad = spawn(async {
            yield_now().await;
            panic!("boom")
        });
        let error = bad.await.unwrap_err();
        assert!(error.is_panic());
        assert!(!error.is_cancelled());
        let payload = error.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));

        // A task spawned before the panic finishes; one spawned after runs.
        assert_eq!(before.await.unwrap(), "before");
        assert_eq!(spawn(async { "after" }).await.unwrap(), "after");
    });
}

/// A formatted panic message arrives as a `String` payload.
#[test]
fn a_formatted_panic_payload_is_a_string() {
    let payload = run(async {
        let code = 7;
        spawn(async move { panic!("code {code}") })
            .await
            .unwrap_err()
            .into_panic()
    });
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("code 7")
    );
}

/// A detached task that panics takes nothing down, and its locals are
/// dropped while it unwinds.
#[test]
fn a_detached_panicking_task_takes_nothing_down() {
    let dropped = run(async {
        let dropped = Rc::new(Cell::new(false));
        let guard = SetOnDrop(dropped.clone());
        drop(spawn(async move {
            let _guard = guard;
            yield_now().await;
            panic!("detached")
        }));
        for _ in 0..3 {
            yield_now().await;
        }
        assert_eq!(spawn(async { 1 }).await.unwrap(), 1);
        dropped.get()
    });
    assert!(dropped);
}

/// A future whose `Drop` panics, cancelled: the runtime survives, and the
/// handle still yields `Err(cancelled)` (documented in `task/mod.rs`).
#[test]
fn a_panicking_drop_on_cancel_is_contained() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop panicked");
        }
    }
    run(async {
        let handle = spawn(async {
            let _bomb = PanicOnDrop;
            pending::<()>().await;
        });
        yield_now().await;
        handle.cancel();
        assert!(handle.await.unwrap_err().is_cancelled());
        assert_eq!(spawn(async { 2 }).await.unwrap(), 2);
    });
}

/// A panic in the `block_on` future propagates out of `block_on`; the runtime
/// stays usable for another `block_on`, and the tasks it held live on.
#[test]
fn a_panic_in_block_on_propagates_and_the_runtime_survives() {
    let runtime = Runtime::new().unwrap();
    let mut survivor = None;
    let caught = catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(async {
            survivor = Some(spawn(async {
                yield_now().await;
                yield_now().await;
                "survived"
            }));
            yield_now().await;
            panic!("main boom")
        })
    }));
    assert_eq!(message(caught.unwrap_err().as_ref()), "main boom");

    // The thread is no longer inside the runtime.
    assert!(panic_message_of(|| spawn(async {})).contains(OUTSIDE));

    // The runtime is still usable, and the task spawned before the panic finishes.
    let survivor = survivor.take().unwrap();
    assert_eq!(
        runtime.block_on(async { (spawn(async { 3 }).await.unwrap(), survivor.await.unwrap()) }),
        (3, "survived")
    );

    // So is a fresh runtime on the same thread.
    assert_eq!(Runtime::new().unwrap().block_on(async { 4 }), 4);
}

/// A panic in the future given to `run` propagates out of `run`.
#[test]
fn a_panic_in_run_propagates() {
    let message = panic_message_of(|| run(async { panic!("from run") }));
    assert_eq!(message, "from run");
    assert_eq!(run(async { 5 }), 5);
}

/// `spawn` (and friends) outside a runtime panics with a message containing
/// `outside of a spindle runtime`.
#[test]
fn spawn_outside_a_runtime_panics() {
    assert!(panic_message_of(|| spawn(async {})).contains(OUTSIDE));
    assert!(panic_message_of(|| spawn_named("x", async {})).contains(OUTSIDE));
    assert!(panic_message_of(Handle::current).contains(OUTSIDE));
    assert!(panic_message_of(|| to_thread(|| ())).contains(OUTSIDE));
}

/// Between two `block_on` calls the thread is not inside the runtime:
/// `spawn` panics there too.
#[test]
fn spawn_between_block_ons_panics() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {});
    assert!(panic_message_of(|| spawn(async {})).contains(OUTSIDE));
    assert_eq!(
        runtime.block_on(async { spawn(async { 6 }).await.unwrap() }),
        6
    );
}

/// The uncaught form: `spawn` outside a runtime panics with this message.
#[test]
#[should_panic(expected = "outside of a spindle runtime")]
fn spawn_outside_a_runtime_panics_uncaught() {
    drop(spawn(async {}));
}

/// `run` or `block_on` inside a runtime panics with a message containing
/// `cannot start a runtime from within a runtime`; the outer runtime goes on.
#[test]
fn starting_a_runtime_inside_a_runtime_panics() {
    run(async {
        assert!(panic_message_of(|| run(async { 1 })).contains(NESTED));

        let other = Runtime::new().unwrap();
        assert!(panic_message_of(|| other.block_on(async { 1 })).contains(NESTED));

        // From a spawned task as well.
        let from_task = spawn(async { panic_message_of(|| run(async { 1 })) });
        assert!(from_task.await.unwrap().contains(NESTED));

        // The outer runtime is unharmed.
        assert_eq!(spawn(async { 2 }).await.unwrap(), 2);
    });
}

/// `block_on` of a runtime inside its own `block_on` panics the same way.
#[test]
fn block_on_inside_its_own_block_on_panics() {
    let runtime = Runtime::new().unwrap();
    let message = runtime.block_on(async { panic_message_of(|| runtime.block_on(async { 1 })) });
    assert!(message.contains(NESTED), "{message}");
    assert_eq!(runtime.block_on(async { 2 }), 2);
}

/// The uncaught form: `run` inside `run` panics with this message.
#[test]
#[should_panic(expected = "cannot start a runtime from within a runtime")]
fn run_inside_run_panics_uncaught() {
    run(async { run(async {}) });
}

/// `JoinError` implements `Debug`, `Display` and `std::error::Error`, and
/// boxes into `Box<dyn Error + Send>` for `?`.
#[test]
fn join_error_is_an_error() {
    fn assert_error<E: Error + Debug + Display + Send + 'static>() {}
    assert_error::<JoinError>();

    let (cancelled, panicked) = run(async {
        let cancelled = spawn(pending::<()>());
        cancelled.cancel();
        let panicked = spawn(async { panic!("boom") });
        (cancelled.await.unwrap_err(), panicked.await.unwrap_err())
    });

    for error in [&cancelled, &panicked] {
        assert!(!error.to_string().is_empty());
        assert!(!format!("{error:?}").is_empty());
        assert!(error.source().is_none());
    }
    assert_ne!(cancelled.to_string(), panicked.to_string());
    assert!(panicked.to_string().contains("boom"), "{panicked}");

    let boxed: Box<dyn Error + Send> = Box::new(cancelled);
    assert!(boxed
        .downcast_ref::<JoinError>()
        .is_some_and(JoinError::is_cancelled));
}
