//! [`race`]: two futures, the first to finish wins — asyncio's
//! `wait({a, b}, return_when=FIRST_COMPLETED)` for two.
//!
//! A `Race` owns both futures and polls them inside its own poll, `a`
//! first, then `b`. The first one that is ready gives the output; the
//! other, the loser, is dropped where it is suspended *before* `race`
//! returns, so whatever it held (a timer, a queue slot, a connection) is
//! released by the time the caller sees the winner's output.
//!
//! Both share the task's waker: with two children, polling both on every
//! wake is cheaper than a waker each (the same trade as `join!`).
//!
//! Polling `a` first is a bias, and a documented one: when both are ready
//! in the same poll, `a` wins, every time. That makes a race reproducible
//! (tokio's `select!` with `biased;` makes the same choice); put the
//! future that should win ties first. asyncio's `wait` would report both
//! as done.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

/// Runs `a` and `b` concurrently and returns the output of the first to
/// finish; the other is dropped before `race` returns.
///
/// Each poll polls `a`, then `b` (so `a` wins a tie). Both give the same
/// type: for futures of different output types, wrap each in an `async`
/// block that turns its output into one type (an `enum` of your own).
///
/// # Cancellation
///
/// See [`Race`]: dropping it drops both futures where they are suspended.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle::race;
/// use spindle::time::sleep;
///
/// spindle::run(async {
///     let slow = async { sleep(Duration::from_secs(5)).await; "slow" };
///     let fast = async { sleep(Duration::from_secs(1)).await; "fast" };
///     assert_eq!(race(slow, fast).await, "fast"); // and `slow` is dropped
/// });
/// ```
pub fn race<A, B>(a: A, b: B) -> Race<A, B>
where
    A: Future,
    B: Future<Output = A::Output>,
{
    Race {
        a: Some(a),
        b: Some(b),
    }
}

pin_project! {
    /// The future returned by [`race`].
    ///
    /// # Panics
    ///
    /// Polling it again after it returned panics.
    ///
    /// # Cancellation
    ///
    /// Dropped before `Ready`, it drops both futures where they are
    /// suspended: what each leaves behind is *its* own `# Cancellation`.
    /// Returning is the same drop for the loser, done before the output is
    /// handed back.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::{race, Race};
    ///
    /// let first: Race<_, _> = race(std::future::ready(1), std::future::pending());
    /// assert_eq!(futures_executor::block_on(first), 1);
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Race<A, B> {
        // Each `None` once the race is over (the winner finished, the
        // loser dropped).
        #[pin]
        a: Option<A>,
        #[pin]
        b: Option<B>,
    }
}

impl<A, B> Future for Race<A, B>
where
    A: Future,
    B: Future<Output = A::Output>,
{
    type Output = A::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<A::Output> {
        let mut this = self.project();
        let a = this
            .a
            .as_mut()
            .as_pin_mut()
            .expect("`Race` polled after completion");
        let output = match a.poll(cx) {
            Poll::Ready(output) => output,
            Poll::Pending => {
                let b = this
                    .b
                    .as_mut()
                    .as_pin_mut()
                    .expect("`b` lives while `a` does");
                match b.poll(cx) {
                    Poll::Ready(output) => output,
                    Poll::Pending => return Poll::Pending,
                }
            }
        };
        // Both go now: the winner has finished, the loser is cancelled,
        // and neither holds anything once the caller sees the output.
        this.a.set(None);
        this.b.set(None);
        Poll::Ready(output)
    }
}

impl<A, B> fmt::Debug for Race<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Race")
            .field("finished", &self.a.is_none())
            .finish_non_exhaustive()
    }
}
