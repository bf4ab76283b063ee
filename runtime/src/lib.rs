//! spindle's runtime: the executor, the timer wheel and the reactor.
//!
//! Users write `use spindle::...`; this crate is re-exported by the facade.
//! The modules are declared below in reading order, bottom up: no file
//! imports one further down the list, except inside the knot of layer 3,
//! which must be read together (`tests/layering.rs` checks this).
//!
//! 1. **Leaves**, which import nothing of the runtime but each other:
//!    `sync.rs` (the atomics loom can stand in for), `report.rs` (panics no
//!    task receives), `error.rs` (`JoinError`), `metrics.rs`, `recycle.rs`
//!    (task memory), `slab.rs` (the generational slab that the timers and
//!    the reactor keep their records in), and in `time/` the wheel
//!    (`wheel/`, on the slab) and the clock (`clock.rs`).
//! 2. **Drivers**: `time/timers.rs` (the wheel plus exact deadlines),
//!    `reactor/` (readiness on `polling`), `blocking.rs` (the helper-thread
//!    pool), `trace.rs` (the Chrome trace writer).
//! 3. **The knot**: `task/` (one allocation per task, its lifecycle, and in
//!    `task/state.rs` the cross-thread join protocol), `waker.rs`,
//!    `context.rs` (this thread's runtime), `mailbox.rs` (other threads'
//!    messages and the sleep handshake) and `executor.rs` (one turn of the
//!    loop). A waker must reach its own runtime, so these refer to each
//!    other; read `task/` first.
//! 4. **The API**: `join.rs` (`JoinHandle`), `runtime.rs` (`run`, `spawn`,
//!    `Runtime`, `Handle`), `time/` (`sleep`, `call_later`, `interval`),
//!    `to_thread.rs`.
//! 5. **`net/`**: TCP, UDP and Unix domain sockets on the reactor.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

// 1. Leaves.
mod dump;
mod error;
mod metrics;
mod recycle;
mod report;
mod rng;
mod slab;
mod sync;
mod wait;
// 2. Drivers (the timer driver lives in `time/`, declared with the API).
mod blocking;
mod reactor;
mod trace;
// 3. The knot.
mod context;
mod executor;
mod mailbox;
mod task;
mod waker;
// 4. The API.
mod explore;
mod join;
pub mod observe;
mod runtime;
pub mod time;
mod to_thread;
// 5. Sockets.
pub mod net;

pub use dump::{TaskDump, TaskRow, TaskState, Tree};
pub use error::JoinError;
pub use executor::MAX_POLLS_PER_TURN;
pub use explore::explore;
pub use join::JoinHandle;
pub use metrics::{Histogram, MetricsSnapshot};
pub use runtime::{run, spawn, spawn_named, yield_now, Builder, Handle, Runtime, YieldNow};
pub use to_thread::to_thread;
