//! `generate`: async generators — Python's `yield` inside `async def`.
//!
//! Rust has no `yield` in async code (yet), but one is easy to build from
//! a future and a one-item mailbox. The generator body is an ordinary
//! `async` closure that receives a [`Yielder`]; where Python writes
//! `yield item`, it writes `y.emit(item).await`:
//!
//! ```
//! use spindle::stream::{self, StreamExt};
//!
//! let countdown = stream::generate(|y| async move {
//!     for n in (1..=3).rev() {
//!         y.emit(n).await;
//!     }
//! });
//! let v: Vec<u32> = futures_executor::block_on(countdown.collect());
//! assert_eq!(v, [3, 2, 1]);
//! ```
//!
//! # The protocol
//!
//! The stream ([`Generate`]) and the body's [`Yielder`] share a *slot*
//! holding at most one item. The body runs only inside the consumer's
//! `poll_next`, with the consumer's waker:
//!
//! 1. **first `poll_next`**: only now is the closure called and its future
//!    created — the generator is *lazy*, nothing at all runs before the
//!    consumer asks for the first item (as a Python async generator).
//! 2. **every `poll_next`**: poll the body once, then look in the slot.
//!    - Item there: return it. The body is suspended inside `emit`.
//!    - Empty, body `Pending`: the body waits for something else (a timer,
//!      a queue); it registered the consumer's waker, so return `Pending`.
//!    - Empty, body finished: the stream is over — return `None` for good.
//! 3. **`emit(item)`, first poll**: put the item in the slot and return
//!    `Pending` — *once*, with no waker registered. That is safe because
//!    no wake is needed: `Pending` unwinds straight back to the
//!    `poll_next` of step 2, which takes the item and hands it to the
//!    consumer. Asking for the next item polls the body again, and then
//!    `emit` returns `Ready(())` and the body runs on to its next `emit`.
//!    So the body runs exactly as far ahead as the consumer asks: **each
//!    `emit` suspends the generator until the consumer asks again.**
//!    (Should the slot still be full — two `emit`s polled concurrently
//!    inside one body, say with `join!` — the second keeps its item and
//!    stays `Pending` until a later poll finds the slot empty.)
//! 4. **drop the stream**: it owns the body's future, so the body is
//!    dropped wherever it was suspended, running its destructors — the
//!    async analogue of `generator.aclose()`.
//!
//! # `Send`, and why the slot is a `Mutex`
//!
//! Only the stream and the body's future ever touch the slot, always on
//! the thread that polls the stream, so a `Rc<RefCell<Option<T>>>` would
//! be enough — but it would make every generated stream `!Send`, and thus
//! unusable with `tokio::spawn` or spindle's `Handle::spawn`. The slot is
//! an `Arc<Mutex<Option<T>>>` instead: the lock is never contended, costs
//! two uncontended lock operations per item, and makes [`Generate`]
//! `Send` whenever the closure, its future and `T` are.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::sync::{Arc, Mutex};
use crate::waiters::lock;

/// Turns an async closure into a stream: an async generator.
///
/// `body` receives a [`Yielder`]; each `y.emit(item).await` produces one
/// item of the stream, and the stream ends when `body`'s future finishes.
///
/// - Lazy: `body` is not even called before the first `poll_next`.
/// - Each `emit` suspends the generator until the consumer asks for the
///   next item; the body never runs ahead of the consumer.
/// - Dropping the stream drops the generator wherever it is suspended.
///
/// # Examples
///
/// ```
/// use spindle::stream::{self, StreamExt};
///
/// futures_executor::block_on(async {
///     let mut events = stream::generate(|y| async move {
///         for i in 1..=2 {
///             y.emit(format!("Event {i}")).await;
///         }
///     });
///     while let Some(event) = events.next().await {
///         println!("Handling {event}");
///     }
/// });
/// ```
pub fn generate<T, F, Fut>(body: F) -> Generate<T, F, Fut>
where
    F: FnOnce(Yielder<T>) -> Fut,
    Fut: Future<Output = ()>,
{
    Generate {
        slot: Arc::new(Mutex::new(None)),
        state: GenState::Unstarted(body),
    }
}

/// The stream returned by [`generate`].
///
/// `Send` when the closure, its future and `T` are `Send`.
///
/// Dropping it drops the generator's body wherever it is suspended,
/// running its destructors — the async analogue of `aclose()`. No emitted
/// item is lost by that: each item an `emit` stores is handed out by the
/// very `poll_next` that ran the `emit`.
///
/// # Examples
///
/// ```
/// use spindle::stream::{self, StreamExt};
///
/// let squares = stream::generate(|y| async move {
///     for n in 1..=3u32 {
///         y.emit(n * n).await;
///     }
/// });
/// let v: Vec<u32> = futures_executor::block_on(squares.collect());
/// assert_eq!(v, [1, 4, 9]);
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Generate<T, F, Fut> {
    /// The one-item mailbox shared with the body's [`Yielder`].
    slot: Arc<Mutex<Option<T>>>,
    state: GenState<F, Fut>,
}

/// Where a generator is in its life.
enum GenState<F, Fut> {
    /// Not asked for anything yet: only the closure exists.
    Unstarted(F),
    /// The body's future, between `emit`s or waiting on something else.
    Running(Pin<Box<Fut>>),
    /// The body finished (or panicked): the stream only returns `None`.
    Done,
}

// The closure is never pinned (it is moved out and called) and the body is
// behind a box, so the stream is `Unpin`: a safe impl, no `unsafe` needed.
impl<T, F, Fut> Unpin for Generate<T, F, Fut> {}

impl<T, F, Fut> Stream for Generate<T, F, Fut>
where
    F: FnOnce(Yielder<T>) -> Fut,
    Fut: Future<Output = ()>,
{
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        if let GenState::Unstarted(_) = this.state {
            // Step 1: the first request starts the body.
            let GenState::Unstarted(body) = std::mem::replace(&mut this.state, GenState::Done)
            else {
                unreachable!("checked just above")
            };
            let yielder = Yielder {
                slot: Arc::clone(&this.slot),
            };
            this.state = GenState::Running(Box::pin(body(yielder)));
        }
        let GenState::Running(body) = &mut this.state else {
            return Poll::Ready(None);
        };
        // Step 2: run the body until it emits, waits or ends.
        let finished = body.as_mut().poll(cx).is_ready();
        if finished {
            // Drop the body now, before handing out anything: the end of
            // the generator is the end of its borrowed resources.
            this.state = GenState::Done;
        }
        let item = lock(&this.slot).take();
        match item {
            // A body that ends right after storing an item (its `emit` was
            // dropped unawaited) still gets that item delivered.
            Some(item) => Poll::Ready(Some(item)),
            None if finished => Poll::Ready(None),
            None => Poll::Pending,
        }
    }
}

impl<T, F, Fut> fmt::Debug for Generate<T, F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            GenState::Unstarted(_) => "unstarted",
            GenState::Running(_) => "running",
            GenState::Done => "done",
        };
        f.debug_struct("Generate")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

/// The generator body's handle for producing items: its `yield`.
///
/// It belongs to the body of the [`generate`] call that created it: await
/// [`emit`](Yielder::emit) only inside that body. (Awaited anywhere else,
/// nothing would ever poll it again.)
///
/// # Examples
///
/// ```
/// use spindle::stream::{self, StreamExt, Yielder};
///
/// async fn body(y: Yielder<&'static str>) {
///     y.emit("hello").await;
///     y.emit("world").await;
/// }
/// let v: Vec<&str> = futures_executor::block_on(stream::generate(body).collect());
/// assert_eq!(v, ["hello", "world"]);
/// ```
pub struct Yielder<T> {
    slot: Arc<Mutex<Option<T>>>,
}

impl<T> Yielder<T> {
    /// Produces `item` as the stream's next item and suspends the
    /// generator until the consumer asks for another.
    ///
    /// # Cancellation
    ///
    /// See [`Emit`]: dropped before its first poll, `item` is never
    /// produced; once polled, it is delivered even if the future is then
    /// dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::stream::{self, StreamExt};
    ///
    /// let mut s = stream::generate(|y| async move { y.emit("only").await });
    /// futures_executor::block_on(async {
    ///     assert_eq!(s.next().await, Some("only"));
    ///     assert_eq!(s.next().await, None);
    /// });
    /// ```
    pub fn emit(&self, item: T) -> Emit<'_, T> {
        Emit {
            slot: &self.slot,
            item: Some(item),
        }
    }
}

impl<T> fmt::Debug for Yielder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yielder").finish_non_exhaustive()
    }
}

/// The future returned by [`Yielder::emit`].
///
/// # Cancellation
///
/// The item is produced if and only if the `Emit` stored it in the slot,
/// which its first poll does (step 3 of the protocol in
/// `stream/generate.rs`):
///
/// - dropped before its first poll, it drops its item, which is never
///   produced;
/// - dropped after its first poll (the body gave up on it, say in a
///   `select` whose other branch won), the item is still delivered: it is
///   already in the slot, and the same `poll_next` hands it to the
///   consumer. Only the suspension is skipped — the body runs on without
///   waiting for the consumer to ask again;
/// - the exception is an `Emit` that found the slot full (two emits polled
///   concurrently in one body): it still holds its item, and dropped then,
///   the item is never produced.
///
/// # Examples
///
/// ```
/// use spindle::stream::{self, Emit, StreamExt};
///
/// let s = stream::generate(|y| async move {
///     let emit: Emit<'_, char> = y.emit('x');
///     emit.await;
/// });
/// assert_eq!(futures_executor::block_on(s.collect::<String>()), "x");
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Emit<'a, T> {
    slot: &'a Mutex<Option<T>>,
    /// `Some` until the item is stored in the slot.
    item: Option<T>,
}

// The item is only ever moved, never pinned: `Unpin` for any `T` (safe).
impl<T> Unpin for Emit<'_, T> {}

impl<T> Future for Emit<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let Some(item) = this.item.take() else {
            // Stored on an earlier poll, and `poll_next` took it: the
            // consumer asked again, so the generator resumes.
            return Poll::Ready(());
        };
        let mut slot = lock(this.slot);
        if slot.is_none() {
            *slot = Some(item);
        } else {
            // Another emit of this body filled the slot in this same poll;
            // try again on the next request.
            drop(slot);
            this.item = Some(item);
        }
        // No waker is registered on purpose: see step 3 in the module docs.
        Poll::Pending
    }
}

impl<T> fmt::Debug for Emit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emit")
            .field("stored", &self.item.is_none())
            .finish()
    }
}
