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
//!   `filter_map`, `then`, `enumerate`, `take`, `chain`, `collect`,
//!   `for_each`. With it,
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

/// `fmt::Debug` that names the type and nothing else, for adapters and
/// futures that hold closures (which are not `Debug`).
macro_rules! opaque_debug {
    ($($name:ident<$($p:ident),*>),* $(,)?) => {$(
        impl<$($p),*> std::fmt::Debug for $name<$($p),*> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    )*};
}

mod adapters;
mod ext;
mod generate;
mod iter;

pub use adapters::{Chain, Enumerate, Filter, FilterMap, Map, Take, Then};
pub use ext::{Collect, ForEach, Next, StreamExt};
pub use futures_core::Stream;
pub use generate::{generate, Emit, Generate, Yielder};
pub use iter::{iter, Iter};
