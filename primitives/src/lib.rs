//! spindle's primitives: the asyncio toolbox, built on nothing but
//! [`std::task::Waker`].
//!
//! | asyncio | here | file |
//! |---|---|---|
//! | `asyncio.gather(*coros)` | [`join_all`] (one type), [`join!`] (mixed types) | `join.rs` |
//! | `asyncio.Queue` | [`Queue`] | `queue/` (handle and protocol, futures, errors) |
//! | `asyncio.PriorityQueue`, `asyncio.LifoQueue` | [`PriorityQueue`], [`LifoQueue`] | `queue/order.rs` (the same queue, another buffer) |
//! | `asyncio.Event` | [`Event`] | `event.rs` |
//! | `async for`, async generators | [`stream::StreamExt`], [`stream::generate`] | `stream/` |
//! | `asyncio.wait_for` | [`timeout`], [`timeout_at`] | `timeout.rs` |
//! | `asyncio.Lock` | [`Mutex`] (the guard is `async with lock:`) | `mutex.rs`, on `permits.rs` |
//! | `asyncio.Semaphore` | [`Semaphore`] | `semaphore.rs`, on `permits.rs` |
//! | `asyncio.Condition` | [`Condition`] (with a [`Mutex`]'s guard) | `condition.rs` |
//! | `asyncio.Barrier` | [`Barrier`] | `barrier.rs` |
//! | `asyncio.gather` (no `return_exceptions`) | [`try_join_all`] | `join.rs` |
//! | `asyncio.TaskGroup` | [`task_group`], [`TaskGroup::spawn`], [`GroupError`] | `task_group/` (group, child handle, errors) |
//! | `asyncio.as_completed` | [`as_completed`] | `as_completed.rs` |
//! | `asyncio.wait(FIRST_COMPLETED)`, for two | [`race`] | `race.rs` |
//! | `asyncio.timeout` (a movable deadline) | [`timeout_scope`] | `timeout_scope.rs` |
//! | (what `join_all`, `as_completed` and `TaskGroup` share) | per-child wakers | `future_set.rs` |
//!
//! # The one idea
//!
//! None of these types knows which executor runs it. Each is some shared
//! state behind a lock plus a list of parked [`Waker`]s
//! (`waiters.rs`, the file to read first): a future that must wait stores
//! its task's waker and returns `Pending`; whoever makes progress possible
//! (a `put`, a `set`, a child future's wake) removes that entry and calls
//! `wake`. What happens next — when the task is polled again, on which
//! thread — is the executor's business. That is why all of this runs
//! unchanged on spindle, tokio, `futures-executor` or any other executor
//! (the `prim_any_executor` test proves it), and why the crate needs next
//! to no `unsafe`. The exceptions to "any executor" are [`timeout`] and
//! [`timeout_scope`], which need spindle's timer wheel.
//!
//! Two primitives put an atomic word in front of that lock, for speed:
//! [`Semaphore`] and [`Mutex`] keep their permit count in one (`permits.rs`),
//! so that taking a free permit and giving it back are one atomic operation
//! each, and only a task that must wait touches the lock. And the crate's
//! only `unsafe` code is in `mutex.rs`: a `MutexGuard` turns the pointer to
//! the data it guards into a reference. The crate is `deny(unsafe_code)`,
//! with that one module allowed; its docs say what the `unsafe` buys and
//! why it is sound, and Miri and loom check it.
//!
//! The doc examples say so too: they are written with `spindle::` paths,
//! as users read them through the facade, but most run on
//! `futures_executor::block_on`, a foreign executor, on purpose — each one
//! shows that its primitive needs no spindle runtime. In a spindle program,
//! write `spindle::run(async { ... })` where they write `block_on`.
//!
//! Three rules recur in every file: *collect wakers under the lock and
//! wake them after releasing it*; *wake every one of them even if one
//! panics*, and raise that panic only afterwards, in the caller that woke;
//! and *a released waiter finds its entry gone* — so a release can never
//! be lost or undone between the wake and the next poll.
//!
//! The protocols are checked at three levels: step by step with counting
//! wakers (`tests/prim_*.rs`), against a sequential model by a property
//! test (`Queue`, `Mutex`, `Semaphore`), and under every interleaving of a
//! few threads by loom (`loom_tests.rs`, `loom_locks.rs` — which is why the
//! crate takes its `Mutex`, atomics and `UnsafeCell` from `sync.rs`).
//!
//! # Examples
//!
//! A producer and a consumer, run concurrently by `join!`:
//!
//! ```
//! use spindle::{join, Queue};
//!
//! let queue = Queue::new();
//! let producer = async {
//!     for i in 1..=3 {
//!         queue.put(i).await;
//!     }
//! };
//! let consumer = async {
//!     let mut total = 0;
//!     for _ in 0..3 {
//!         total += queue.get().await;
//!         queue.task_done().unwrap();
//!     }
//!     total
//! };
//! let ((), total) = futures_executor::block_on(join!(producer, consumer));
//! assert_eq!(total, 6);
//! ```
//!
//! [`Waker`]: std::task::Waker
#![deny(unsafe_code)]

mod as_completed;
pub mod barrier;
pub mod condition;
pub mod event;
mod future_set;
pub mod join;
// The one module with `unsafe` code; its docs say why it is sound.
#[allow(unsafe_code)]
pub mod mutex;
mod permits;
pub mod queue;
mod race;
pub mod semaphore;
pub mod stream;
mod sync;
mod task_group;
mod timeout;
mod timeout_scope;
mod waiters;

#[cfg(all(test, loom))]
mod loom_locks;
#[cfg(all(test, loom))]
mod loom_tests;

pub use as_completed::{as_completed, AsCompleted};
pub use barrier::Barrier;
pub use condition::Condition;
pub use event::Event;
pub use join::{join_all, try_join_all, JoinAll, TryJoinAll};
pub use mutex::{Mutex, MutexGuard};
pub use queue::{LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull, TaskDoneError};
pub use race::{race, Race};
pub use semaphore::{Semaphore, SemaphorePermit};
pub use task_group::{
    task_group, ChildError, ChildHandle, Failure, GroupError, PanicPayload, TaskGroup,
    TaskGroupFuture,
};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
pub use timeout_scope::{timeout_scope, TimeoutScope, TimeoutScopeFuture};

/// Support for macros; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::join::poll_slot;
}
