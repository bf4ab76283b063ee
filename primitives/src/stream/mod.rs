//! Streams: asynchronous iterators — asyncio's `async for`.
//!
//! A [`Stream`] is to [`Iterator`] what a future is to a plain value: its
//! `poll_next` returns `Ready(Some(item))`, `Ready(None)` when it is over,
//! or `Pending` after arranging for the task's waker to fire once an item
//! may be available. [`Stream`] is re-exported from `futures-core`, so
//! streams from the wider ecosystem and combinators from other crates work
//! with these and vice versa.
//!
//! - [`StreamExt`] adds the everyday methods: `next`, `map`, `filter`,
//!   `take`, `collect`, `for_each`. With it,
//!   `while let Some(x) = s.next().await { ... }` is Rust's `async for`.
//! - [`iter`] turns any iterator into a stream that is always ready.
//! - [`generate`] is the async generator: an `async` closure that calls
//!   `y.emit(item).await` where Python would write `yield item`.
//!
//! # Examples
//!
//! ```
//! use spindle::stream::{self, StreamExt};
//!
//! futures_executor::block_on(async {
//!     let mut evens = stream::iter(1..=10).filter(|n| n % 2 == 0).map(|n| n * 10);
//!     while let Some(n) = evens.next().await {
//!         print!("{n} ");
//!     }
//! });
//! ```

mod ext;
mod generate;
mod iter;

pub use ext::{Collect, Filter, ForEach, Map, Next, StreamExt, Take};
pub use futures_core::Stream;
pub use generate::{generate, Emit, Generate, Yielder};
pub use iter::{iter, Iter};
