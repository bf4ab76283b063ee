//! The adapters of [`StreamExt`](super::StreamExt): each one a stream
//! that owns the stream before it and transforms what comes out of it.
//!
//! All follow one pattern. The inner stream is a `#[pin]` field, kept
//! inline (see `ext.rs` on pinning); `poll_next` projects `self`, polls
//! the inner stream, and turns its answer into this stream's answer. None
//! of them registers a waker of its own: when the inner stream returns
//! `Pending` it has arranged the wake-up, so passing `Pending` on is all
//! an adapter needs to do. An adapter that skips items (`filter`,
//! `filter_map`) loops instead of returning `Pending`, because nobody
//! would wake it. Each gives a `size_hint` derived from the inner one's.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use pin_project_lite::pin_project;

pin_project! {
    /// The stream returned by [`StreamExt::map`](super::StreamExt::map).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, Map, StreamExt};
    ///
    /// let doubled: Map<_, _> = stream::iter([1, 2]).map(|n| n * 2);
    /// let v: Vec<i32> = futures_executor::block_on(doubled.collect());
    /// assert_eq!(v, [2, 4]);
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct Map<S, F> {
        #[pin]
        stream: S,
        f: F,
    }
}

impl<S: Stream, U, F: FnMut(S::Item) -> U> Stream for Map<S, F> {
    type Item = U;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<U>> {
        let this = self.project();
        this.stream.poll_next(cx).map(|item| item.map(this.f))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

pin_project! {
    /// The stream returned by [`StreamExt::filter`](super::StreamExt::filter).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, Filter, StreamExt};
    ///
    /// let big: Filter<_, _> = stream::iter([1, 20, 3, 40]).filter(|n| *n > 10);
    /// let v: Vec<i32> = futures_executor::block_on(big.collect());
    /// assert_eq!(v, [20, 40]);
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct Filter<S, F> {
        #[pin]
        stream: S,
        predicate: F,
    }
}

impl<S: Stream, F: FnMut(&S::Item) -> bool> Stream for Filter<S, F> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let mut this = self.project();
        // Skip rejected items without returning: `Pending` here would need
        // a wake-up we have no reason to arrange. (An always-ready inner
        // stream that rejects forever therefore never yields — as with
        // `Iterator::filter`.)
        loop {
            match this.stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) if !(this.predicate)(&item) => continue,
                other => return other,
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, self.stream.size_hint().1)
    }
}

pin_project! {
    /// The stream returned by [`StreamExt::take`](super::StreamExt::take).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, StreamExt, Take};
    ///
    /// let two: Take<_> = stream::iter(['a', 'b', 'c']).take(2);
    /// let v: Vec<char> = futures_executor::block_on(two.collect());
    /// assert_eq!(v, ['a', 'b']);
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct Take<S> {
        #[pin]
        stream: S,
        remaining: usize,
    }
}

impl<S: Stream> Stream for Take<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        if *this.remaining == 0 {
            return Poll::Ready(None);
        }
        let next = this.stream.poll_next(cx);
        match next {
            Poll::Ready(Some(_)) => *this.remaining -= 1,
            // The inner stream ended early: end too, for good.
            Poll::Ready(None) => *this.remaining = 0,
            Poll::Pending => {}
        }
        next
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining;
        if n == 0 {
            return (0, Some(0));
        }
        let (lower, upper) = self.stream.size_hint();
        (lower.min(n), Some(upper.map_or(n, |u| u.min(n))))
    }
}

impl<S, F> Map<S, F> {
    pub(super) fn new(stream: S, f: F) -> Self {
        Map { stream, f }
    }
}

impl<S, F> Filter<S, F> {
    pub(super) fn new(stream: S, predicate: F) -> Self {
        Filter { stream, predicate }
    }
}

impl<S> Take<S> {
    pub(super) fn new(stream: S, n: usize) -> Self {
        Take {
            stream,
            remaining: n,
        }
    }
}

pin_project! {
    /// The stream returned by [`StreamExt::filter_map`](super::StreamExt::filter_map).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, FilterMap, StreamExt};
    ///
    /// let halves: FilterMap<_, _> = stream::iter(1..=4).filter_map(|n| (n % 2 == 0).then_some(n / 2));
    /// let v: Vec<i32> = futures_executor::block_on(halves.collect());
    /// assert_eq!(v, [1, 2]);
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct FilterMap<S, F> {
        #[pin]
        stream: S,
        f: F,
    }
}

impl<S, F> FilterMap<S, F> {
    pub(super) fn new(stream: S, f: F) -> Self {
        FilterMap { stream, f }
    }
}

impl<S: Stream, U, F: FnMut(S::Item) -> Option<U>> Stream for FilterMap<S, F> {
    type Item = U;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<U>> {
        let mut this = self.project();
        // As `Filter`: skip the `None`s without returning `Pending`.
        loop {
            match ready!(this.stream.as_mut().poll_next(cx)) {
                Some(item) => {
                    if let Some(mapped) = (this.f)(item) {
                        return Poll::Ready(Some(mapped));
                    }
                }
                None => return Poll::Ready(None),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, self.stream.size_hint().1)
    }
}

pin_project! {
    /// The stream returned by [`StreamExt::then`](super::StreamExt::then).
    ///
    /// # Cancellation
    ///
    /// Dropping it (or a `next()` on it) while an item's future is
    /// pending drops that future where it is suspended: the item it was
    /// made from has been pulled from the inner stream and is gone. A
    /// `next()` dropped while the *inner stream* is pending loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, StreamExt, Then};
    ///
    /// let lengths: Then<_, _, _> = stream::iter(["ab", "c"]).then(|s| async move { s.len() });
    /// let v: Vec<usize> = futures_executor::block_on(lengths.collect());
    /// assert_eq!(v, [2, 1]);
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct Then<S, F, Fut> {
        #[pin]
        stream: S,
        f: F,
        // The future of the item being worked on; `None` between items.
        #[pin]
        pending: Option<Fut>,
    }
}

impl<S, F, Fut> Then<S, F, Fut> {
    pub(super) fn new(stream: S, f: F) -> Self {
        Then {
            stream,
            f,
            pending: None,
        }
    }
}

impl<S: Stream, F: FnMut(S::Item) -> Fut, Fut: Future> Stream for Then<S, F, Fut> {
    type Item = Fut::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Fut::Output>> {
        let mut this = self.project();
        loop {
            // Finish the current item's future before pulling another item.
            if let Some(future) = this.pending.as_mut().as_pin_mut() {
                let output = ready!(future.poll(cx));
                this.pending.set(None);
                return Poll::Ready(Some(output));
            }
            match ready!(this.stream.as_mut().poll_next(cx)) {
                Some(item) => this.pending.set(Some((this.f)(item))),
                None => return Poll::Ready(None),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // The item being worked on counts: it is pulled, not yet yielded.
        let extra = usize::from(self.pending.is_some());
        let (lower, upper) = self.stream.size_hint();
        (
            lower.saturating_add(extra),
            upper.and_then(|u| u.checked_add(extra)),
        )
    }
}

pin_project! {
    /// The stream returned by [`StreamExt::enumerate`](super::StreamExt::enumerate).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, Enumerate, StreamExt};
    ///
    /// let numbered: Enumerate<_> = stream::iter(["x"]).enumerate();
    /// let v: Vec<(usize, &str)> = futures_executor::block_on(numbered.collect());
    /// assert_eq!(v, [(0, "x")]);
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct Enumerate<S> {
        #[pin]
        stream: S,
        // The position of the next item.
        count: usize,
    }
}

impl<S> Enumerate<S> {
    pub(super) fn new(stream: S) -> Self {
        Enumerate { stream, count: 0 }
    }
}

impl<S: Stream> Stream for Enumerate<S> {
    type Item = (usize, S::Item);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<(usize, S::Item)>> {
        let this = self.project();
        let item = ready!(this.stream.poll_next(cx));
        Poll::Ready(item.map(|item| {
            let position = *this.count;
            *this.count += 1;
            (position, item)
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

pin_project! {
    /// The stream returned by [`StreamExt::chain`](super::StreamExt::chain).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, Chain, StreamExt};
    ///
    /// let both: Chain<_, _> = stream::iter(['a']).chain(stream::iter(['b']));
    /// let s: String = futures_executor::block_on(both.collect());
    /// assert_eq!(s, "ab");
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct Chain<A, B> {
        // `None` once it has ended: dropped then, and never polled again.
        #[pin]
        first: Option<A>,
        #[pin]
        second: B,
    }
}

impl<A, B> Chain<A, B> {
    pub(super) fn new(first: A, second: B) -> Self {
        Chain {
            first: Some(first),
            second,
        }
    }
}

impl<A: Stream, B: Stream<Item = A::Item>> Stream for Chain<A, B> {
    type Item = A::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<A::Item>> {
        let mut this = self.project();
        if let Some(first) = this.first.as_mut().as_pin_mut() {
            match ready!(first.poll_next(cx)) {
                Some(item) => return Poll::Ready(Some(item)),
                None => this.first.set(None),
            }
        }
        this.second.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (lower, upper) = self.second.size_hint();
        match &self.first {
            Some(first) => {
                let (first_lower, first_upper) = first.size_hint();
                (
                    first_lower.saturating_add(lower),
                    first_upper.zip(upper).and_then(|(a, b)| a.checked_add(b)),
                )
            }
            None => (lower, upper),
        }
    }
}

// Not derived: neither closures nor most streams are `Debug`.
opaque_debug!(Map<S, F>, Filter<S, F>, Take<S>, FilterMap<S, F>, Then<S, F, Fut>, Enumerate<S>, Chain<A, B>);
