//! `timeout` / `timeout_at`: asyncio's `wait_for`. The inner future is polled
//! first; its timer is registered only if it is pending; on expiry it is
//! dropped before `Err(Elapsed)` is returned.

mod support;

use std::cell::Cell;
use std::future::Future;
use std::future::{pending, poll_fn};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use spindle::time::{now, sleep};
use spindle::{timeout, timeout_at, Elapsed};
use support::{virtual_runtime, SetOnDrop};

/// A future that is ready at once wins even against a zero timeout, and no
/// timer is ever registered for it.
#[test]
fn ready_at_once_wins_without_a_timer() {
    let runtime = virtual_runtime();
    let before = runtime.metrics().timers_inserted;
    let result = runtime.block_on(async { timeout(Duration::ZERO, async { 5 }).await });
    assert_eq!(result, Ok(5));
    assert_eq!(
        runtime.metrics().timers_inserted,
        before,
        "a timer was registered"
    );
}

/// The inner future is polled before the deadline is looked at: one that
/// becomes ready on the very poll where the deadline has passed still wins.
#[test]
fn the_inner_future_is_polled_first() {
    virtual_runtime().block_on(async {
        let deadline = now() + Duration::from_secs(1);
        let inner = poll_fn(move |_| {
            if now() >= deadline {
                Poll::Ready("inner")
            } else {
                Poll::Pending
            }
        });
        // The timeout's own timer is what wakes it at the deadline; by then the
        // inner future is ready too, and it is asked first.
        assert_eq!(timeout_at(deadline, inner).await, Ok("inner"));
    });
}

/// On expiry the inner future is dropped *before* the error reaches the
/// caller: the flag is checked at the moment `poll` returns `Ready(Err)`,
/// while the `Timeout` itself still exists. The error comes exactly at the
/// deadline in virtual time.
#[test]
fn expiry_drops_the_inner_future_before_returning() {
    virtual_runtime().block_on(async {
        let dropped = Rc::new(Cell::new(false));
        let guard = SetOnDrop(dropped.clone());
        let start = now();
        let mut limited = pin!(timeout(Duration::from_secs(3), async move {
            let _guard = guard;
            pending::<()>().await
        }));
        let (result, dropped_by_then) = poll_fn(|cx| match limited.as_mut().poll(cx) {
            Poll::Ready(result) => Poll::Ready((result, dropped.get())),
            Poll::Pending => Poll::Pending,
        })
        .await;
        assert!(result.is_err());
        assert!(
            dropped_by_then,
            "the inner future was still alive when Err(Elapsed) was returned"
        );
        assert_eq!(now() - start, Duration::from_secs(3));
    });
}

/// A future that finishes before its deadline cancels its timer (one
/// insert, one cancel, no fire).
#[test]
fn finishing_early_cancels_the_timer() {
    let runtime = virtual_runtime();
    let before = runtime.metrics();
    let result = runtime
        .block_on(async { timeout(Duration::from_secs(10), sleep(Duration::from_secs(1))).await });
    assert_eq!(result, Ok(()));
    let after = runtime.metrics();
    assert_eq!(
        after.timers_inserted - before.timers_inserted,
        2,
        "the sleep's and the timeout's"
    );
    assert_eq!(
        after.timers_cancelled - before.timers_cancelled,
        1,
        "the timeout's"
    );
    assert_eq!(after.timers_fired - before.timers_fired, 1, "the sleep's");
}

/// `timeout_at` takes an absolute deadline; one in the past expires at once
/// for a pending future.
#[test]
fn timeout_at_uses_an_absolute_deadline() {
    virtual_runtime().block_on(async {
        let start = now();
        let late = timeout_at(start + Duration::from_millis(250), pending::<()>()).await;
        assert!(late.is_err());
        assert_eq!(now() - start, Duration::from_millis(250));
        let past = timeout_at(start, pending::<()>()).await;
        assert!(past.is_err());
    });
}

/// `Duration::MAX` never expires and does not overflow.
#[test]
fn duration_max_never_expires() {
    virtual_runtime().block_on(async {
        let result = timeout(Duration::MAX, sleep(Duration::from_secs(7))).await;
        assert_eq!(result, Ok(()));
    });
}

/// `Elapsed` is an error type with a message.
#[test]
fn elapsed_is_an_error() {
    fn is_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
    let error = elapsed();
    is_error(&error);
    assert_eq!(error.to_string(), "deadline has elapsed");
}

fn elapsed() -> Elapsed {
    virtual_runtime()
        .block_on(async { timeout(Duration::ZERO, pending::<()>()).await.unwrap_err() })
}

/// Dropped while pending, a `Timeout` drops its inner future and cancels
/// its timer: it never fires.
#[test]
fn a_dropped_timeout_drops_the_inner_future_and_cancels_its_timer() {
    let runtime = virtual_runtime();
    let before = runtime.metrics();
    let dropped = Rc::new(Cell::new(false));
    runtime.block_on(async {
        let guard = SetOnDrop(dropped.clone());
        let mut limited = Box::pin(timeout(Duration::from_secs(10), async move {
            let _guard = guard;
            pending::<()>().await
        }));
        let first = poll_fn(|cx| Poll::Ready(limited.as_mut().poll(cx))).await;
        assert!(first.is_pending());
        assert!(!dropped.get());
        drop(limited);
        assert!(dropped.get(), "the inner future is dropped with it");
        sleep(Duration::from_secs(20)).await; // past the old deadline
    });
    let after = runtime.metrics();
    assert_eq!(
        after.timers_inserted - before.timers_inserted,
        2,
        "the timeout's and the sleep's"
    );
    assert_eq!(after.timers_cancelled - before.timers_cancelled, 1);
    assert_eq!(
        after.timers_fired - before.timers_fired,
        1,
        "only the sleep's"
    );
}
