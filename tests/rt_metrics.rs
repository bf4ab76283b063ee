//! `Runtime::metrics()` and `Handle::metrics()`: the counters are exact for a
//! known program, readable from inside the runtime, and `None` from another
//! thread.
//!
//! The expected numbers are derived from the executor, turn by turn, in the
//! comments of each test.

use std::time::Duration;

use spindle::time::{call_later, sleep};
use spindle::{spawn, yield_now, Event, Handle, Runtime};

/// Three tasks: one yields twice, one sleeps 50 ms, one is cancelled while
/// it sleeps for an hour. In real time, so the loop blocks in the reactor
/// (50 ms is long enough for the loop to get there before the deadline even
/// on a loaded machine: otherwise it would find the timer due and not block).
///
/// Turn by turn (the ready queue in brackets):
///
/// 1. [main]: main spawns Y, S, V ([Y S V]) and yields (wake 1: [Y S V main]).
/// 2. Y yields (wake 2, [S V main Y]); S inserts the 50 ms timer; V inserts
///    the 1 h timer; main cancels V (its `Sleep` is dropped: one timer
///    cancelled) and waits for Y.
/// 3. Y yields again (wake 3). 4. Y finishes and wakes main (wake 4).
/// 5. main waits for S; nothing is ready: the loop blocks in the reactor
///    until the 50 ms timer fires and wakes S (a timer wake).
/// 6. S finishes and wakes main (wake 5). 7. main reads V's cancellation and
///    returns.
///
/// Polls: main 4, Y 3, S 2, V 1 = 10. The ready queue peaks at 4.
#[test]
fn counts_are_exact_for_a_known_program() {
    let runtime = Runtime::new().unwrap();
    let inside = runtime.block_on(async {
        let yielder = spawn(async {
            yield_now().await;
            yield_now().await;
        });
        let sleeper = spawn(sleep(Duration::from_millis(50)));
        let victim = spawn(sleep(Duration::from_secs(3600)));

        // Inside the runtime, the handle reads the counters: three spawned,
        // all alive, one poll so far (this one: a poll counts when it starts).
        let inside = Handle::current()
            .metrics()
            .expect("on the runtime's thread");
        // From another thread it cannot.
        let handle = Handle::current();
        let elsewhere = std::thread::spawn(move || handle.metrics()).join().unwrap();
        assert_eq!(elsewhere, None);

        yield_now().await;
        victim.cancel();
        yielder.await.unwrap();
        sleeper.await.unwrap();
        assert!(victim.await.unwrap_err().is_cancelled());
        inside
    });

    assert_eq!(
        (inside.tasks_spawned, inside.tasks_alive, inside.polls),
        (3, 3, 1)
    );
    assert_eq!(inside.tasks_finished, 0);

    let metrics = runtime.metrics();
    assert_eq!(metrics.tasks_spawned, 3);
    assert_eq!(metrics.tasks_alive, 0);
    assert_eq!(
        metrics.tasks_finished, 2,
        "a cancelled task is not finished"
    );
    assert_eq!(metrics.polls, 10);
    assert_eq!(
        metrics.wakes_local, 5,
        "a spawn is not a wake; waker calls are"
    );
    assert_eq!(metrics.wakes_timer, 1);
    assert_eq!(metrics.wakes_remote, 0);
    assert_eq!(metrics.wakes_io, 0);
    assert_eq!(metrics.timers_inserted, 2);
    assert_eq!(metrics.timers_fired, 1);
    assert_eq!(metrics.timers_cancelled, 1);
    assert_eq!(metrics.longest_ready_queue, 4);
    // How many waits the 50 ms take depends on the wheel (it may stop at a
    // slot boundary first); that the loop parked, and for real, does not.
    assert!(metrics.reactor_waits >= 1, "{metrics:?}");
    assert!(metrics.time_parked > Duration::ZERO, "{metrics:?}");
    assert!(metrics.time_parked < Duration::from_secs(5), "{metrics:?}");

    // The counters are totals since the runtime was built: a second
    // `block_on` adds to them (one more poll, of the new main future).
    runtime.block_on(async {});
    let again = runtime.metrics();
    assert_eq!(again.polls, 11);
    assert_eq!(again.tasks_spawned, 3);
}

/// A waker called on another thread is a remote wake, and the only wake of
/// this program besides the start of `block_on`: `main` waits on an `Event`
/// that a plain thread sets. Under virtual time with no timer pending, the
/// loop blocks for real until the thread's wake arrives.
#[test]
fn a_wake_from_another_thread_is_remote() {
    let runtime = Runtime::builder().virtual_time(true).build().unwrap();
    runtime.block_on(async {
        let event = Event::new();
        let setter = event.clone();
        // Under virtual time a thread that may wake a task holds a Handle,
        // or the runtime would find nothing left to wake `main`: a deadlock.
        let handle = spindle::Handle::current();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            setter.set();
            drop(handle);
        });
        event.wait().await;
        thread.join().unwrap();
    });
    let metrics = runtime.metrics();
    assert_eq!(metrics.wakes_remote, 1);
    assert_eq!(
        metrics.wakes_local, 0,
        "a spawn is not a wake; waker calls are"
    );
    assert_eq!((metrics.wakes_timer, metrics.wakes_io), (0, 0));
    assert_eq!(metrics.polls, 2);
    assert_eq!(
        metrics.tasks_spawned, 0,
        "the block_on future is not a task"
    );
    assert_eq!(metrics.longest_ready_queue, 1);
}

/// Callbacks: three `call_later`s, one cancelled before it fires. Timers
/// fired and cancelled count callbacks as they count sleeps; a callback
/// wakes no task, so the only wakes are `main`'s (its start, and its own
/// 50 ms sleep firing).
#[test]
fn callbacks_count_as_timers() {
    let runtime = Runtime::builder().virtual_time(true).build().unwrap();
    runtime.block_on(async {
        call_later(Duration::from_millis(10), || {});
        let cancelled = call_later(Duration::from_millis(20), || {});
        call_later(Duration::from_millis(30), || {});
        cancelled.cancel();
        cancelled.cancel(); // a second cancel is a no-op, not counted twice
        sleep(Duration::from_millis(50)).await;
    });
    let metrics = runtime.metrics();
    assert_eq!(metrics.timers_inserted, 4);
    assert_eq!(metrics.timers_fired, 3);
    assert_eq!(metrics.timers_cancelled, 1);
    assert_eq!(metrics.wakes_timer, 1);
    assert_eq!(
        metrics.wakes_local, 0,
        "a spawn is not a wake; waker calls are"
    );
    assert_eq!(metrics.polls, 2);
    // Virtual time: the loop jumped the clock instead of blocking.
    assert_eq!(metrics.reactor_waits, 0);
    assert_eq!(metrics.time_parked, Duration::ZERO);
}
