//! `iter`: the simplest stream — an iterator that never has to wait.
//!
//! Every `poll_next` is ready at once with the iterator's next item. Useful
//! for feeding known data into stream code and in tests.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

/// A stream over the items of `iterable`, each ready at once.
///
/// # Examples
///
/// ```
/// use spindle::stream::{self, StreamExt};
///
/// let items: Vec<char> = futures_executor::block_on(stream::iter("abc".chars()).collect());
/// assert_eq!(items, ['a', 'b', 'c']);
/// ```
pub fn iter<I: IntoIterator>(iterable: I) -> Iter<I::IntoIter> {
    Iter {
        iter: iterable.into_iter(),
    }
}

/// The stream returned by [`iter`].
///
/// # Examples
///
/// ```
/// use spindle::stream::{self, Iter, Stream};
///
/// let s: Iter<std::ops::Range<u8>> = stream::iter(0..4);
/// assert_eq!(s.size_hint(), (4, Some(4)));
/// ```
#[derive(Debug, Clone)]
#[must_use = "streams do nothing unless polled"]
pub struct Iter<I> {
    iter: I,
}

// The iterator is never pinned (we only call `next` through `&mut`), so the
// stream is `Unpin` whatever `I` is. A safe impl: `Unpin` is a safe trait.
impl<I> Unpin for Iter<I> {}

impl<I: Iterator> Stream for Iter<I> {
    type Item = I::Item;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<I::Item>> {
        Poll::Ready(self.iter.next())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}
