//! `StreamExt`: the everyday stream methods, for every [`Stream`].
//!
//! Each adapter (`map`, `filter`, `filter_map`, `then`, `enumerate`,
//! `take`, `chain`) is itself a stream that wraps the one before it (their
//! types are in `adapters.rs`); each consumer (`next`, `collect`,
//! `for_each`, here) is a future that polls the stream until it has what it
//! needs. Nothing runs until the outermost stream or future is polled:
//! adapters are lazy, like iterators.
//!
//! # Pinning: the inner stream stays inline
//!
//! `poll_next` takes `Pin<&mut Self>`: a stream may hold self-references
//! (an `async` block can), so it must not move once polled. An adapter that
//! owns such a stream must keep it pinned and still reach it from its own
//! `Pin<&mut Self>` — *pin projection*: from `Pin<&mut Map>` get
//! `Pin<&mut S>` for the stream and a plain `&mut F` for the closure.
//! Written by hand that needs `unsafe`; this crate keeps `unsafe` out of
//! everything but `mutex.rs`, and uses `pin-project-lite`'s `pin_project!`
//! macro instead (as `timeout` does), which generates the projection and proves it sound: a field
//! marked `#[pin]` is only ever reached pinned, and the adapter is `Unpin`
//! exactly when that field is. So the inner stream lives inside the
//! adapter, with no allocation: `iter(..).map(f).filter(p)` is one value.
//! Only [`next`](StreamExt::next) asks for `Unpin`, because it borrows the
//! stream instead of owning it — pin a stream that is not with
//! `std::pin::pin!(s)` (or `Box::pin(s)`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use pin_project_lite::pin_project;

use super::adapters::{Chain, Enumerate, Filter, FilterMap, Map, Take, Then};

/// The everyday stream methods, implemented for every [`Stream`].
///
/// # Examples
///
/// ```
/// use spindle::stream::{self, StreamExt};
///
/// let total = futures_executor::block_on(async {
///     let mut total = 0;
///     let mut s = stream::iter(1..=4).map(|n| n * n);
///     while let Some(square) = s.next().await {
///         total += square;
///     }
///     total
/// });
/// assert_eq!(total, 30);
/// ```
pub trait StreamExt: Stream {
    /// The next item, or `None` once the stream is over: `s.next().await`
    /// is one step of `async for`.
    ///
    /// Needs `Self: Unpin` because it borrows the stream; pin any other
    /// stream first with `Box::pin(s)` or `std::pin::pin!(s)`.
    ///
    /// # Cancellation
    ///
    /// Dropping the future loses nothing (see [`Next`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, StreamExt};
    ///
    /// let mut s = stream::iter([1, 2]);
    /// futures_executor::block_on(async {
    ///     assert_eq!(s.next().await, Some(1));
    ///     assert_eq!(s.next().await, Some(2));
    ///     assert_eq!(s.next().await, None);
    /// });
    /// ```
    fn next(&mut self) -> Next<'_, Self>
    where
        Self: Unpin,
    {
        Next { stream: self }
    }

    /// Transforms each item with `f`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, StreamExt};
    ///
    /// let v: Vec<String> = futures_executor::block_on(
    ///     stream::iter(1..=2).map(|n| format!("#{n}")).collect(),
    /// );
    /// assert_eq!(v, ["#1", "#2"]);
    /// ```
    fn map<U, F>(self, f: F) -> Map<Self, F>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> U,
    {
        Map::new(self, f)
    }

    /// Keeps only the items for which `predicate` returns `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, StreamExt};
    ///
    /// let odd: Vec<u32> = futures_executor::block_on(
    ///     stream::iter(1..=5).filter(|n| n % 2 == 1).collect(),
    /// );
    /// assert_eq!(odd, [1, 3, 5]);
    /// ```
    fn filter<F>(self, predicate: F) -> Filter<Self, F>
    where
        Self: Sized,
        F: FnMut(&Self::Item) -> bool,
    {
        Filter::new(self, predicate)
    }

    /// Yields at most the first `n` items, then ends without polling the
    /// inner stream again.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, StreamExt};
    ///
    /// let first: Vec<u64> = futures_executor::block_on(stream::iter(0..).take(3).collect());
    /// assert_eq!(first, [0, 1, 2]);
    /// ```
    fn take(self, n: usize) -> Take<Self>
    where
        Self: Sized,
    {
        Take::new(self, n)
    }

    /// Transforms each item with `f` and keeps the `Some`s: `filter` and
    /// `map` in one step.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, StreamExt};
    ///
    /// let numbers: Vec<u8> = futures_executor::block_on(
    ///     stream::iter(["1", "x", "3"]).filter_map(|s| s.parse::<u8>().ok()).collect(),
    /// );
    /// assert_eq!(numbers, [1, 3]);
    /// ```
    fn filter_map<U, F>(self, f: F) -> FilterMap<Self, F>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> Option<U>,
    {
        FilterMap::new(self, f)
    }

    /// Transforms each item with an asynchronous step: `f(item)` gives a
    /// future, and its output is the next item — `async for x in s: y =
    /// await f(x)`.
    ///
    /// One item at a time: the future of an item is polled to completion
    /// before the next item is pulled from the stream (for several at once,
    /// collect the futures into [`as_completed`](crate::as_completed) or
    /// [`join_all`](crate::join_all)).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, StreamExt};
    ///
    /// let doubled: Vec<u32> = futures_executor::block_on(
    ///     stream::iter(1..=3).then(|n| async move { n * 2 }).collect(),
    /// );
    /// assert_eq!(doubled, [2, 4, 6]);
    /// ```
    fn then<Fut, F>(self, f: F) -> Then<Self, F, Fut>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> Fut,
        Fut: Future,
    {
        Then::new(self, f)
    }

    /// Pairs each item with its position, from 0: Python's `enumerate`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, StreamExt};
    ///
    /// let v: Vec<(usize, char)> = futures_executor::block_on(stream::iter(['a', 'b']).enumerate().collect());
    /// assert_eq!(v, [(0, 'a'), (1, 'b')]);
    /// ```
    fn enumerate(self) -> Enumerate<Self>
    where
        Self: Sized,
    {
        Enumerate::new(self)
    }

    /// Every item of this stream, then every item of `other`: `other` is
    /// first polled once this stream has ended, and this one is dropped
    /// then.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, StreamExt};
    ///
    /// let v: Vec<u8> = futures_executor::block_on(stream::iter([1, 2]).chain(stream::iter([3])).collect());
    /// assert_eq!(v, [1, 2, 3]);
    /// ```
    fn chain<S>(self, other: S) -> Chain<Self, S>
    where
        Self: Sized,
        S: Stream<Item = Self::Item>,
    {
        Chain::new(self, other)
    }

    /// Runs the stream to its end and gathers the items into a `C` (a
    /// `Vec`, a `String`, a `HashMap`, ...).
    ///
    /// # Cancellation
    ///
    /// See [`Collect`]: the items gathered so far are lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, StreamExt};
    ///
    /// let word: String = futures_executor::block_on(stream::iter(['h', 'i']).collect());
    /// assert_eq!(word, "hi");
    /// ```
    fn collect<C>(self) -> Collect<Self, C>
    where
        Self: Sized,
        C: Default + Extend<Self::Item>,
    {
        Collect {
            stream: self,
            collection: C::default(),
        }
    }

    /// Runs the stream to its end, calling `f` on each item.
    ///
    /// # Cancellation
    ///
    /// See [`ForEach`]: `f` has run on the items pulled so far, and no
    /// others.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, StreamExt};
    ///
    /// let mut seen = Vec::new();
    /// futures_executor::block_on(stream::iter(1..=3).for_each(|n| seen.push(n)));
    /// assert_eq!(seen, [1, 2, 3]);
    /// ```
    fn for_each<F>(self, f: F) -> ForEach<Self, F>
    where
        Self: Sized,
        F: FnMut(Self::Item),
    {
        ForEach { stream: self, f }
    }
}

impl<S: Stream + ?Sized> StreamExt for S {}

/// The future returned by [`StreamExt::next`].
///
/// # Cancellation
///
/// Cancel-safe: it holds nothing but the borrow of the stream, and an item
/// is taken from the stream only in the poll that returns it. Dropped
/// before `Ready`, it leaves the stream exactly where that last poll left
/// it — a generator waiting on a timer keeps waiting — so a later `next()`
/// carries on and no item is skipped. (Provided the stream itself keeps
/// nothing it would lose between polls, as every stream here does.)
///
/// # Examples
///
/// ```
/// use spindle::stream::{self, Next, StreamExt};
///
/// let mut s = stream::iter([1]);
/// let next: Next<'_, _> = s.next();
/// assert_eq!(futures_executor::block_on(next), Some(1));
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Next<'a, S: ?Sized> {
    stream: &'a mut S,
}

impl<S: Stream + Unpin + ?Sized> Future for Next<'_, S> {
    type Output = Option<S::Item>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.stream).poll_next(cx)
    }
}

pin_project! {
    /// The future returned by [`StreamExt::collect`].
    ///
    /// # Cancellation
    ///
    /// Not cancel-safe: it owns the stream and the collection. Dropped before
    /// `Ready`, it drops both — the items already pulled are lost, and the
    /// stream is dropped wherever it was suspended (a generator's body is
    /// dropped at its `.await`). Items not yet pulled are never produced.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, Collect, StreamExt};
    ///
    /// let all: Collect<_, Vec<u8>> = stream::iter(1..=3).collect();
    /// assert_eq!(futures_executor::block_on(all), [1, 2, 3]);
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Collect<S, C> {
        #[pin]
        stream: S,
        collection: C,
    }
}

impl<S: Stream, C: Default + Extend<S::Item>> Future for Collect<S, C> {
    type Output = C;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<C> {
        let mut this = self.project();
        loop {
            match this.stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => this.collection.extend(Some(item)),
                Poll::Ready(None) => return Poll::Ready(std::mem::take(this.collection)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

pin_project! {
    /// The future returned by [`StreamExt::for_each`].
    ///
    /// # Cancellation
    ///
    /// Dropped before `Ready`, it drops the stream wherever it was suspended
    /// and `f` with it. What stays is what `f` did: it has run on every item
    /// pulled so far, in order, and on no other — an item is handed to `f` in
    /// the poll that pulls it, so none is pulled and then lost. Items not yet
    /// pulled are never produced.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, ForEach, StreamExt};
    ///
    /// let mut sum = 0;
    /// let run: ForEach<_, _> = stream::iter(1..=3).for_each(|n| sum += n);
    /// futures_executor::block_on(run);
    /// assert_eq!(sum, 6);
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ForEach<S, F> {
        #[pin]
        stream: S,
        f: F,
    }
}

impl<S: Stream, F: FnMut(S::Item)> Future for ForEach<S, F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        loop {
            match this.stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => (this.f)(item),
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

// Not derived: neither closures nor most streams are `Debug`.
opaque_debug!(Collect<S, C>, ForEach<S, F>);

impl<S: ?Sized> fmt::Debug for Next<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").finish_non_exhaustive()
    }
}
