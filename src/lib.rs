//! # spindle
//!
//! A from-scratch, minimal async runtime, small enough to read in an
//! afternoon: a hand-written executor, a hierarchical timer wheel with exact
//! deadlines, and a reactor on the `polling` crate. It rebuilds every program
//! of a Python asyncio cheatsheet with the same output and the same timing.
//!
//! This crate is the facade; the code lives in `spindle-runtime` (executor,
//! time, reactor, net) and `spindle-primitives` (`join_all`, `Queue`,
//! `Event`, `timeout`, streams, `Mutex`, `Semaphore`, `Condition`,
//! `Barrier`).
//!
//! ```
//! use std::time::Duration;
//!
//! spindle::run(async {
//!     let a = spindle::spawn(async {
//!         spindle::sleep(Duration::from_millis(20)).await;
//!         "a"
//!     });
//!     assert_eq!(a.await.unwrap(), "a");
//! });
//! ```

pub use spindle_runtime::{
    explore, run, spawn, spawn_named, to_thread, yield_now, Builder, Handle, Histogram, JoinError,
    JoinHandle, MetricsSnapshot, Runtime, TaskDump, TaskRow, TaskState, YieldNow,
    MAX_POLLS_PER_TURN,
};

pub use spindle_runtime::time::sleep;

pub use spindle_primitives::{
    event, join, join_all, queue, timeout, timeout_at, Elapsed, Event, JoinAll, Queue, QueueEmpty,
    QueueFull, TaskDoneError, Timeout,
};
pub use spindle_primitives::{LifoQueue, PriorityQueue};

pub use spindle_primitives::{
    barrier, condition, mutex, semaphore, Barrier, Condition, Mutex, MutexGuard, Semaphore,
    SemaphorePermit,
};

// Beyond the cheatsheet: structured concurrency and waiting on several.
pub use spindle_primitives::{
    as_completed, race, task_group, timeout_scope, try_join_all, AsCompleted, ChildError,
    ChildHandle, Failure, GroupError, PanicPayload, Race, TaskGroup, TaskGroupFuture, TimeoutScope,
    TimeoutScopeFuture, TryJoinAll,
};

/// Streams: `Stream`, `StreamExt`, `iter`, `generate` (async generators).
pub mod stream {
    pub use spindle_primitives::stream::*;
}

/// Time: `sleep`, `call_soon`/`call_later`/`call_at`, `interval`, `now`.
pub mod time {
    pub use spindle_runtime::time::*;
}

/// Names in the trace for primitives: `Label`, `note` (see
/// `spindle_runtime::observe`).
pub mod observe {
    pub use spindle_runtime::observe::*;
}

/// TCP, UDP and Unix domain sockets on the reactor.
pub mod net {
    pub use spindle_runtime::net::*;
}
