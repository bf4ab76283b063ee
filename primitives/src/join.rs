//! `join_all`, `try_join_all` and `join!`: run several futures
//! concurrently, wait for all — asyncio's `gather`.
//!
//! Joining is the simplest form of concurrency: one future that owns its
//! children and, when polled, polls them. No task is spawned; the children
//! make progress whenever the joining future is polled, and their outputs
//! come back in input order.
//!
//! `join_all` and `try_join_all` hold their children in a `FutureSet`
//! (`future_set.rs`, the file to read next): each child has a waker of its
//! own, so a wake polls only the child it names, and `n` children that
//! each wake once cost O(n) polls, not O(n²). `join!`, for a handful of
//! futures of different types, re-polls the unfinished ones on every wake
//! instead (see its docs).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::future_set::FutureSet;

/// Runs all the futures of `iter` concurrently and returns their outputs,
/// in input order, once all have finished.
///
/// The first poll polls every child once, in input order; after that, a
/// child is polled again only after its own waker fired. An empty input is
/// ready at once with an empty `Vec`. `iter.collect::<JoinAll<_>>()` builds
/// the same future.
///
/// # Cancellation
///
/// See [`JoinAll`]: dropping it drops every child where it is suspended;
/// what children already did stays done.
///
/// # Examples
///
/// ```
/// use spindle::join_all;
///
/// let squares = join_all((1..=3).map(|n| async move { n * n }));
/// assert_eq!(futures_executor::block_on(squares), vec![1, 4, 9]);
/// ```
pub fn join_all<I>(iter: I) -> JoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let iter = iter.into_iter();
    let mut children = FutureSet::with_capacity(iter.size_hint().0);
    for future in iter {
        children.insert(Box::pin(future));
    }
    JoinAll {
        outputs: (0..children.len()).map(|_| None).collect(),
        children,
        finished: false,
    }
}

/// The future returned by [`join_all`].
///
/// # Panics
///
/// Polling it again after it returned its outputs panics.
///
/// # Cancellation
///
/// Dropped before `Ready`, it drops every child that has not finished, at
/// the `.await` where it is suspended — so what each child leaves behind is
/// what *its* `# Cancellation` says — and the outputs of those that have.
/// `join_all` itself leaves nothing behind, but it does not undo what the
/// children did: a finished child's effects (an item put, a message sent)
/// stay, only its output is lost. Like asyncio's `gather` when cancelled.
///
/// # Examples
///
/// ```
/// use spindle::JoinAll;
///
/// let all: JoinAll<_> = spindle::join_all(['a', 'b'].map(std::future::ready));
/// assert_eq!(futures_executor::block_on(all), ['a', 'b']);
///
/// // Or collected from an iterator of futures:
/// let all: JoinAll<_> = (1..=2).map(|n| async move { n * 10 }).collect();
/// assert_eq!(futures_executor::block_on(all), [10, 20]);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct JoinAll<F: Future> {
    /// The unfinished children. Inserted in input order into a fresh set,
    /// so a child's index in the set is its position in the input.
    children: FutureSet<Pin<Box<F>>>,
    /// Outputs of finished children, by input position.
    outputs: Vec<Option<F::Output>>,
    /// Outputs were returned; polling again is a bug.
    finished: bool,
}

// Children are boxed and outputs are never pinned, so `JoinAll` is `Unpin`
// whatever `F` is. A safe impl: `Unpin` promises nothing to unsafe code.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let this = &mut *self;
        assert!(!this.finished, "`JoinAll` polled after completion");
        this.children.begin(cx.waker());
        while let Some((index, output)) = this.children.poll_next() {
            this.outputs[index] = Some(output);
        }
        if !this.children.is_empty() {
            return Poll::Pending;
        }
        this.finished = true;
        let outputs = std::mem::take(&mut this.outputs);
        Poll::Ready(
            outputs
                .into_iter()
                .map(|o| o.expect("every child finished, so every output is set"))
                .collect(),
        )
    }
}

impl<F: Future> FromIterator<F> for JoinAll<F> {
    /// `iter.collect::<JoinAll<_>>()` is [`join_all(iter)`](join_all).
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> Self {
        join_all(iter)
    }
}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll")
            .field("children", &self.outputs.len())
            .field("pending", &self.children.len())
            .finish_non_exhaustive()
    }
}

/// Runs all the futures of `iter` concurrently until one of them fails:
/// the outputs in input order if every one returns `Ok`, or the first
/// `Err` — futures-util's `try_join_all`, asyncio's `gather` without
/// `return_exceptions`.
///
/// Polled as [`join_all`] (each child only after its own waker fired).
/// The first `Err` a child returns ends it: every other child is dropped
/// where it is suspended before `try_join_all` returns that error. An
/// empty input is ready at once with `Ok` of an empty `Vec`.
///
/// # Cancellation
///
/// See [`TryJoinAll`]: as [`JoinAll`].
///
/// # Examples
///
/// ```
/// use spindle::try_join_all;
///
/// let parsed = try_join_all(["1", "2"].map(|s| async move { s.parse::<u8>() }));
/// assert_eq!(futures_executor::block_on(parsed), Ok(vec![1, 2]));
///
/// let broken = try_join_all(["1", "x"].map(|s| async move { s.parse::<u8>() }));
/// assert!(futures_executor::block_on(broken).is_err());
/// ```
pub fn try_join_all<I, T, E>(iter: I) -> TryJoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    TryJoinAll {
        all: join_all(iter),
    }
}

/// The future returned by [`try_join_all`].
///
/// # Panics
///
/// Polling it again after it returned panics.
///
/// # Cancellation
///
/// As [`JoinAll`]: dropped before `Ready`, it drops every unfinished child
/// where it is suspended, and the outputs of the finished ones. An `Err`
/// is the same drop, done by `try_join_all` itself before it returns.
///
/// # Examples
///
/// ```
/// use spindle::TryJoinAll;
///
/// let all: TryJoinAll<_> = [Ok::<u8, ()>(1), Ok(2)].map(std::future::ready).into_iter().collect();
/// assert_eq!(futures_executor::block_on(all), Ok(vec![1, 2]));
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TryJoinAll<F: Future> {
    /// The same state as `join_all`'s; only the handling of outputs differs.
    all: JoinAll<F>,
}

impl<F: Future> Unpin for TryJoinAll<F> {}

impl<F, T, E> Future for TryJoinAll<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Vec<T>, E>> {
        let this = &mut self.all;
        assert!(!this.finished, "`TryJoinAll` polled after completion");
        this.children.begin(cx.waker());
        while let Some((index, output)) = this.children.poll_next() {
            match output {
                Ok(value) => this.outputs[index] = Some(Ok(value)),
                Err(error) => {
                    this.finished = true;
                    // Drop the others before returning, as documented; the
                    // set is already consistent, so a panicking `Drop`
                    // leaves nothing half-done.
                    drop(this.children.drain());
                    this.outputs.clear();
                    return Poll::Ready(Err(error));
                }
            }
        }
        if !this.children.is_empty() {
            return Poll::Pending;
        }
        this.finished = true;
        Poll::Ready(Ok(std::mem::take(&mut this.outputs)
            .into_iter()
            .map(|o| match o {
                Some(Ok(value)) => value,
                _ => unreachable!("every child finished with `Ok`, so every output is set"),
            })
            .collect()))
    }
}

impl<F, T, E> FromIterator<F> for TryJoinAll<F>
where
    F: Future<Output = Result<T, E>>,
{
    /// `iter.collect::<TryJoinAll<_>>()` is [`try_join_all(iter)`](try_join_all).
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> Self {
        try_join_all(iter)
    }
}

impl<F: Future> fmt::Debug for TryJoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryJoinAll")
            .field("children", &self.all.outputs.len())
            .field("pending", &self.all.children.len())
            .finish_non_exhaustive()
    }
}

/// Runs several futures, possibly of different types, concurrently, and
/// returns a future of the tuple of their outputs — asyncio's `gather` of
/// different coroutines.
///
/// `join!(a, b, c).await` gives `(A, B, C)`; any number of futures from 1
/// up works (it is tested with 12). The future expressions are evaluated
/// at once, left to right, where the macro is written; the futures
/// themselves run only when the returned future is polled.
///
/// Each poll polls every child that has not finished yet, first to last
/// (the first poll polls all of them, in order); a finished child is
/// dropped at once and never polled again. Unlike [`join_all`], the
/// children share the parent's waker: with a handful of children,
/// re-polling the unfinished ones on every wake is cheaper than a waker
/// per child.
///
/// # Cancellation
///
/// As [`JoinAll`]: dropping the returned future drops every child that has
/// not finished, where it is suspended, and the outputs of those that have;
/// what finished children did stays done.
///
/// # Examples
///
/// ```
/// use spindle::join;
///
/// let (n, s) = futures_executor::block_on(join!(async { 1 + 1 }, async { "two" }));
/// assert_eq!((n, s), (2, "two"));
/// ```
#[macro_export]
macro_rules! join {
    ($($fut:expr),+ $(,)?) => {
        $crate::__join_internal!(@name [] $($fut,)+)
    };
}

/// The machinery of [`join!`](crate::join!), not part of the API.
///
/// `@name` munches the futures one at a time, pairing each with two fresh
/// identifiers: each recursive expansion has its own hygiene context, so
/// the `fut` and `out` it writes are distinct from every other step's even
/// though they are spelled the same. `@build` then declares a pinned
/// `Option<Future>` and an output slot per future.
#[doc(hidden)]
#[macro_export]
macro_rules! __join_internal {
    (@name [$($named:tt)*] $head:expr, $($rest:expr,)*) => {
        $crate::__join_internal!(@name [$($named)* (fut out $head)] $($rest,)*)
    };
    (@name [$($named:tt)*]) => {
        $crate::__join_internal!(@build $($named)*)
    };
    (@build $(($fut:ident $out:ident $e:expr))*) => {{
        // Evaluate the expressions now, in order, outside the async block,
        // so that it captures only the futures, not the caller's variables.
        $( let $fut = $e; )*
        async move {
            // `Some(future)`, pinned in place; `set(None)` drops it when done.
            $( let mut $fut = ::core::pin::pin!(::core::option::Option::Some($fut));
               let mut $out = ::core::option::Option::None; )*
            ::core::future::poll_fn(|cx| {
                let mut all_done = true;
                $( all_done &= $crate::__private::poll_slot($fut.as_mut(), &mut $out, cx); )*
                if all_done {
                    ::core::task::Poll::Ready(($(
                        $out.take().expect("join!: output taken twice"),
                    )*))
                } else {
                    ::core::task::Poll::Pending
                }
            })
            .await
        }
    }};
}

/// Polls the future in `slot` unless it already finished; stores its output
/// in `out` and drops it in place once it is ready. Returns whether it has
/// finished. Used by [`join!`](crate::join!).
#[doc(hidden)]
pub fn poll_slot<F: Future>(
    mut slot: Pin<&mut Option<F>>,
    out: &mut Option<F::Output>,
    cx: &mut Context<'_>,
) -> bool {
    if let Some(fut) = slot.as_mut().as_pin_mut() {
        match fut.poll(cx) {
            Poll::Ready(output) => {
                *out = Some(output);
                slot.set(None);
            }
            Poll::Pending => return false,
        }
    }
    true
}
