//! `join_all` and `join!`: run several futures concurrently, wait for all —
//! asyncio's `gather`.
//!
//! Joining is the simplest form of concurrency: one future that owns its
//! children and, when polled, polls them. No task is spawned; the children
//! make progress whenever the joining future is polled, and their outputs
//! come back in input order.
//!
//! # Why every child gets its own waker
//!
//! The naive join polls *every* unfinished child each time it is woken. A
//! wake carries no information about *who* woke it, so it has no choice.
//! With `n` children that each wake once, that is `n` wakes × `n` polls =
//! O(n²) polls: 100 000 children cost 10¹⁰ polls (futures-rs issue #1603;
//! futures-rs now hands large joins to `FuturesOrdered`, whose per-task
//! wakers follow the same idea as here).
//!
//! `JoinAll` instead hands each child a waker of its own, a `ChildWaker`
//! that knows the child's index. Waking it pushes the index onto a shared
//! *ready list* and wakes the parent; the parent, when polled, takes the
//! list and polls only those children. `n` children that each wake once
//! now cost `n` first polls plus `n` second polls.
//!
//! # The ready-list protocol, races included
//!
//! Shared state (`ReadyList`, one mutex): `ready: Vec<usize>` of indices to
//! poll, and `parent`, the waker of whoever polls the `JoinAll`. Per child,
//! an atomic flag in `queued`: "my index is in `ready`, or about to be
//! polled".
//!
//! - **child wake**: `queued.swap(true)`. If it was already `true`, stop:
//!   one entry is enough, so a child that wakes 1 000 times before the
//!   parent runs costs one poll, and `ready` never holds duplicates. Else
//!   lock, push the index, and if `ready` was empty, take a clone of
//!   `parent`; unlock; wake the parent. Only the wake that makes the list
//!   non-empty wakes the parent: the ones after it know a wake is already
//!   on its way, and the parent drains the whole list when it runs.
//! - **parent poll**: lock, store the current waker in `parent`, swap
//!   `ready` with an empty buffer; unlock. For each index: clear `queued`
//!   *before* polling the child (with `swap(false)`, which reads the last
//!   `true` written and so sees everything that waker's caller did before
//!   waking), then poll it. A wake that races with the poll either found
//!   `queued` still `true` — fine, the child is about to be polled and will
//!   see its cause — or pushes the index anew and wakes the parent, so the
//!   child is polled again next time. A wake is never lost; at worst a
//!   child is polled once more than needed.
//! - A child that wakes itself *during* its poll just lands in the next
//!   batch: the parent does not loop, it returns `Pending` and lets the
//!   executor decide when to poll it again. This keeps one greedy child
//!   from monopolising the thread.
//! - **first poll**: the list starts as `0, 1, …, n-1` with every `queued`
//!   set, so the first poll polls every child once, in input order.
//!
//! A finished child's future is dropped at once, and its index is skipped
//! if a stale wake ever brings it back.
//!
//! *Teaching simplification*: each child is boxed separately (`Pin<Box<F>>`),
//! because pinning into one shared slice needs `unsafe` pin projection
//! (what futures-rs does); the cost is one allocation per child.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
// `std`'s `Arc`, not `crate::sync`'s: each child's `Waker` is made from
// one, and `Waker::from` takes no other. What it points to uses the shim.
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::sync::{AtomicBool, Mutex, Ordering};
use crate::waiters::{lock, refresh_waker, wake};

/// Runs all the futures of `iter` concurrently and returns their outputs,
/// in input order, once all have finished.
///
/// The first poll polls every child once, in input order; after that, a
/// child is polled again only after its own waker fired. An empty input is
/// ready at once with an empty `Vec`.
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
    let children: Vec<Option<Pin<Box<I::Item>>>> =
        iter.into_iter().map(|f| Some(Box::pin(f))).collect();
    let n = children.len();
    // Every child starts out ready: the first poll polls all, in order.
    let shared = Arc::new(ReadyList {
        inner: Mutex::new(ReadyInner {
            ready: (0..n).collect(),
            parent: None,
        }),
        queued: (0..n).map(|_| AtomicBool::new(true)).collect(),
    });
    let wakers = (0..n)
        .map(|index| {
            Waker::from(Arc::new(ChildWaker {
                index,
                shared: Arc::clone(&shared),
            }))
        })
        .collect();
    JoinAll {
        children,
        outputs: (0..n).map(|_| None).collect(),
        wakers,
        shared,
        batch: Vec::with_capacity(n),
        pending: n,
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
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct JoinAll<F: Future> {
    /// The children, in input order; `None` once finished (and dropped).
    children: Vec<Option<Pin<Box<F>>>>,
    /// Outputs of finished children, by index.
    outputs: Vec<Option<F::Output>>,
    /// Each child's own waker (a `ChildWaker`), built once.
    wakers: Vec<Waker>,
    /// The ready list the child wakers push to.
    shared: Arc<ReadyList>,
    /// The batch being polled; kept to reuse its allocation.
    batch: Vec<usize>,
    /// How many children have not finished.
    pending: usize,
    /// Outputs were returned; polling again is a bug.
    finished: bool,
}

/// The state shared between a `JoinAll` and its children's wakers.
struct ReadyList {
    inner: Mutex<ReadyInner>,
    /// Per child: `true` while its index is in `ready` or about to be
    /// polled. Atomic, so that a repeated wake costs no lock.
    queued: Box<[AtomicBool]>,
}

/// What the ready list's mutex guards.
struct ReadyInner {
    /// Indices of children to poll, in wake order; no duplicates (a child's
    /// `queued` flag keeps it from being pushed twice).
    ready: Vec<usize>,
    /// The waker of the task polling the `JoinAll`; `None` before its first
    /// poll and after it finished.
    parent: Option<Waker>,
}

/// The waker given to one child: waking it marks that child ready.
struct ChildWaker {
    /// The child's position in the input.
    index: usize,
    shared: Arc<ReadyList>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // AcqRel: pairs with the parent's `swap(false)` (see module docs).
        if self.shared.queued[self.index].swap(true, Ordering::AcqRel) {
            return; // already queued: the coming poll covers this wake too
        }
        let parent = {
            let mut inner = lock(&self.shared.inner);
            let was_empty = inner.ready.is_empty();
            inner.ready.push(self.index);
            if was_empty {
                inner.parent.clone()
            } else {
                None // a wake of the parent is already on its way
            }
        };
        wake(parent);
    }
}

// Children are boxed and outputs are never pinned, so `JoinAll` is `Unpin`
// whatever `F` is. A safe impl: `Unpin` promises nothing to unsafe code.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let this = &mut *self;
        assert!(!this.finished, "`JoinAll` polled after completion");
        {
            let mut inner = lock(&this.shared.inner);
            match &mut inner.parent {
                Some(parent) => refresh_waker(parent, cx.waker()),
                None => inner.parent = Some(cx.waker().clone()),
            }
            std::mem::swap(&mut inner.ready, &mut this.batch);
        }
        for &index in &this.batch {
            let Some(child) = this.children[index].as_mut() else {
                continue; // stale wake of a finished child
            };
            // Clear before polling, so a wake during the poll re-queues.
            this.shared.queued[index].swap(false, Ordering::AcqRel);
            let waker = &this.wakers[index];
            if let Poll::Ready(output) = child.as_mut().poll(&mut Context::from_waker(waker)) {
                this.outputs[index] = Some(output);
                this.children[index] = None; // drop the finished future now
                this.pending -= 1;
            }
        }
        this.batch.clear();
        if this.pending > 0 {
            return Poll::Pending;
        }
        this.finished = true;
        lock(&this.shared.inner).parent = None;
        let outputs = std::mem::take(&mut this.outputs);
        Poll::Ready(
            outputs
                .into_iter()
                .map(|o| o.expect("every child finished, so every output is set"))
                .collect(),
        )
    }
}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll")
            .field("children", &self.children.len())
            .field("pending", &self.pending)
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
