//! spindle's runtime: the executor, the timer wheel and the reactor.
//!
//! Users write `use spindle::...`; this crate is re-exported by the facade.
//! Reading order, from the bottom up:
//!
//! 1. `task.rs` — one allocation per task, its state machine, the join protocol;
//! 2. `waker.rs` — local wakes go straight to the ready queue, remote ones
//!    through the mailbox;
//! 3. `executor.rs` — the ready queue and one turn of the loop;
//! 4. `runtime.rs` — `run`, `spawn`, `Runtime`, `Handle`, `yield_now`;
//! 5. `time/` — the wheel, exact deadlines, `sleep`, `call_later`, `interval`;
//! 6. `reactor/` and `net/` — readiness on `polling`, TCP and UDP;
//! 7. `blocking.rs` (`to_thread`), `metrics.rs`, `trace.rs`.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod blocking;
mod context;
mod executor;
mod join;
mod mailbox;
mod metrics;
pub mod net;
mod reactor;
mod recycle;
mod report;
mod runtime;
mod sync;
mod task;
pub mod time;
mod trace;
mod waker;

pub use blocking::to_thread;
pub use executor::MAX_POLLS_PER_TURN;
pub use join::{JoinError, JoinHandle};
pub use metrics::MetricsSnapshot;
pub use runtime::{run, spawn, spawn_named, yield_now, Builder, Handle, Runtime, YieldNow};
