//! [`timeout`] and [`timeout_at`]: asyncio's `wait_for`.
//!
//! A `Timeout` polls its inner future first, and only if that is pending
//! does it look at (and, the first time, register) its timer. So a future
//! that is ready at once wins even against a zero timeout, and a future that
//! finishes before its deadline never costs more than one timer insert and
//! one O(1) cancel — the common case, since most timeouts do not fire.
//!
//! On expiry the inner future is dropped *before* `Err(Elapsed)` is
//! returned, so whatever it holds (a socket, a queue slot) is released by the
//! time the caller sees the error, as asyncio cancels the inner task before
//! `wait_for` raises `TimeoutError`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;
use spindle_runtime::time::{now, sleep_until, Sleep};

/// Runs `future` with a time limit of `duration`, like
/// `asyncio.wait_for(future, timeout)`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle::timeout;
/// use spindle::time::sleep;
///
/// spindle::run(async {
///     let slow = timeout(Duration::from_millis(10), sleep(Duration::from_secs(5))).await;
///     assert!(slow.is_err());
///     let fast = timeout(Duration::ZERO, async { 42 }).await;
///     assert_eq!(fast, Ok(42)); // ready at once wins, even with a zero limit
/// });
/// ```
///
/// # Cancellation
///
/// See [`Timeout`]: dropping it drops the inner future and cancels the
/// timer, and leaves nothing else behind.
///
/// # Panics
///
/// Polled outside of a runtime, once the inner future is pending (the timer
/// needs the runtime).
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout::new(now().checked_add(duration), future)
}

/// Runs `future` until `deadline`, like [`timeout`] with an absolute limit.
///
/// # Cancellation
///
/// As [`timeout`]: see [`Timeout`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle::timeout_at;
/// use spindle::time::{now, sleep};
///
/// spindle::run(async {
///     let deadline = now() + Duration::from_millis(10);
///     assert!(timeout_at(deadline, sleep(Duration::from_secs(5))).await.is_err());
/// });
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout::new(Some(deadline), future)
}

pin_project! {
    /// The future of [`timeout`] and [`timeout_at`].
    ///
    /// # Cancellation
    ///
    /// Dropped before `Ready`, it drops the inner future where it is
    /// suspended (what that leaves behind is the inner future's own
    /// `# Cancellation`) and cancels its timer, if one was registered: the
    /// timer wheel forgets it and it never fires. Nothing else is left.
    /// Expiry is such a drop too: `Err(Elapsed)` means exactly what
    /// dropping the inner future means.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle::{timeout, Timeout};
    ///
    /// spindle::run(async {
    ///     let limited: Timeout<_> = timeout(Duration::from_secs(1), async { "done" });
    ///     assert_eq!(limited.await, Ok("done"));
    /// });
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        // The inner future, pinned in place; `None` once it is done or
        // dropped on expiry. `pin-project-lite` writes the pin projection,
        // so this file needs no `unsafe`.
        #[pin]
        future: Option<F>,
        // `None`: no deadline (it overflowed `Instant`), so it never expires.
        deadline: Option<Instant>,
        // Registered lazily, only once the inner future is pending.
        sleep: Option<Sleep>,
    }
}

impl<F: Future> Timeout<F> {
    fn new(deadline: Option<Instant>, future: F) -> Timeout<F> {
        Timeout {
            future: Some(future),
            deadline,
            sleep: None,
        }
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let future = this
            .future
            .as_mut()
            .as_pin_mut()
            .expect("Timeout polled after it completed");
        if let Poll::Ready(output) = future.poll(cx) {
            this.future.set(None);
            *this.sleep = None;
            return Poll::Ready(Ok(output));
        }
        let Some(deadline) = *this.deadline else {
            return Poll::Pending;
        };
        let sleep = this.sleep.get_or_insert_with(|| sleep_until(deadline));
        match Pin::new(sleep).poll(cx) {
            Poll::Ready(()) => {
                // Drop the inner future first: the caller sees the error only
                // after what it held is released.
                this.future.set(None);
                *this.sleep = None;
                Poll::Ready(Err(Elapsed::new()))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// The error of a [`timeout`] that expired: asyncio's `TimeoutError`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    /// The error value; only this crate's timeouts make one.
    pub(crate) fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}
