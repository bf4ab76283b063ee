//! [`as_completed`]: the outputs of several futures, in the order they
//! finish — asyncio's `as_completed`.
//!
//! `join_all` waits for every child and hands back the outputs in input
//! order; `as_completed` hands each output over the moment its future
//! finishes, as a [`Stream`]. Both hold their children in a `FutureSet`
//! (`future_set.rs`), polled inside the stream's own `poll_next`: a wake
//! polls only the future whose waker fired, so a stream of a thousand
//! futures costs what the woken ones cost, not a thousand polls per wake.
//!
//! One `poll_next` polls the futures that are due (each new one once, in
//! input order, then each woken one once, in wake order) until one of
//! them finishes, and returns its output. The ones it did not reach stay
//! due for the next `poll_next`, so an output is never held back behind
//! another, and a future is never polled twice for one wake.
//!
//! asyncio's `as_completed` wraps each coroutine in a task, so they run
//! whether the loop is iterated or not. Here nothing runs between two
//! `next()` calls, as with every future that is not spawned: give it
//! `JoinHandle`s (from `spawn`) for work that must go on meanwhile.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::future_set::FutureSet;

/// A stream of the outputs of `futures`, each as soon as its future
/// finishes.
///
/// The first `next()` polls every future once, in input order; after
/// that, a future is polled again only after its own waker fired. Outputs
/// of futures that finish in the same poll come in the order they were
/// polled. An empty input gives an empty stream.
///
/// # Cancellation
///
/// See [`AsCompleted`]: dropping the stream drops every future that has
/// not finished, where it is suspended.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle::as_completed;
/// use spindle::stream::StreamExt;
/// use spindle::time::sleep;
///
/// spindle::run(async {
///     let job = |name, secs| async move {
///         sleep(Duration::from_secs(secs)).await;
///         name
///     };
///     let mut done = as_completed([job("slow", 3), job("fast", 1)]);
///     assert_eq!(done.next().await, Some("fast"));
///     assert_eq!(done.next().await, Some("slow"));
///     assert_eq!(done.next().await, None);
/// });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let futures = futures.into_iter();
    let mut set = FutureSet::with_capacity(futures.size_hint().0);
    for future in futures {
        set.insert(Box::pin(future));
    }
    AsCompleted { set }
}

/// The stream returned by [`as_completed`].
///
/// # Cancellation
///
/// `next()` on it is cancel-safe: an output is taken out of the set only
/// in the poll that returns it, so a `next()` dropped before `Ready` loses
/// none. Dropping the stream drops every unfinished future where it is
/// suspended (what that leaves behind is *its* `# Cancellation`); to keep
/// them instead, take them out with [`into_pending`](Self::into_pending).
///
/// # Examples
///
/// ```
/// use spindle::{as_completed, AsCompleted};
/// use spindle::stream::StreamExt;
///
/// let mut ready: AsCompleted<_> = as_completed([1, 2].map(std::future::ready));
/// assert_eq!(ready.len(), 2);
/// let all: Vec<i32> = futures_executor::block_on(ready.collect());
/// assert_eq!(all, [1, 2]);
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F> {
    set: FutureSet<Pin<Box<F>>>,
}

// The futures are boxed: `AsCompleted` moves freely whatever `F` is.
impl<F> Unpin for AsCompleted<F> {}

impl<F: Future> AsCompleted<F> {
    /// How many futures have not finished yet: what `asyncio.wait` calls
    /// `pending`.
    ///
    /// # Examples
    ///
    /// ```
    /// let done = spindle::as_completed([std::future::ready(1)]);
    /// assert_eq!(done.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether every future has finished (and its output was yielded).
    ///
    /// # Examples
    ///
    /// ```
    /// let done = spindle::as_completed(Vec::<std::future::Ready<u8>>::new());
    /// assert!(done.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// The futures that have not finished, in input order, taken out of
    /// the stream — asyncio's `pending` set after `wait(FIRST_COMPLETED)`,
    /// to cancel them or to await them later.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::as_completed;
    /// use spindle::stream::StreamExt;
    ///
    /// spindle::run(async {
    ///     let tasks = [3, 1, 2].map(|n| spindle::spawn(async move { n }));
    ///     let mut done = as_completed(tasks);
    ///     let first = done.next().await.unwrap().unwrap();
    ///     for task in done.into_pending() {
    ///         task.cancel(); // the ones that lost
    ///     }
    ///     assert_eq!(first, 3); // tasks run in spawn order: the first ends first
    /// });
    /// ```
    pub fn into_pending(mut self) -> Vec<Pin<Box<F>>> {
        // Index order is input order: the set was filled in input order
        // and never had a slot reused (nothing is inserted after).
        self.set.drain()
    }
}

impl<F: Future> Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        let set = &mut self.set;
        if set.is_empty() {
            return Poll::Ready(None);
        }
        set.begin(cx.waker());
        match set.poll_next() {
            Some((_, output)) => Poll::Ready(Some(output)),
            None => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.set.len(), Some(self.set.len()))
    }
}

impl<F> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("set", &self.set)
            .finish()
    }
}
