//! spindle's primitives: `timeout` for now; `join_all`/`join!`, `Queue`,
//! `Event` and streams are being merged in.
#![forbid(unsafe_code)]

mod timeout;

pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
