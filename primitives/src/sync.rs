//! The synchronisation types the crate is built on, taken from one place.
//!
//! Normally they are `std::sync`'s. Built for the model tests
//! (`loom_tests.rs`, `RUSTFLAGS="--cfg loom"`), they are [loom]'s: drop-in
//! copies of `Arc`, `Mutex` and the atomics through which loom sees every
//! lock, unlock and atomic access, so that it can run a small program
//! under every interleaving of its threads (up to a bound) and check each
//! one. The same technique as tokio's and event-listener's; without
//! `--cfg loom` nothing here changes the code at all.
//!
//! Only the crate's own unit tests see loom's types (`cfg(all(test,
//! loom))`): loom is a dev-dependency, so a plain build with `--cfg loom`
//! (or a downstream crate's) gets `std` as usual.
//!
//! `future_set.rs` keeps `std`'s `Arc`: its per-child `Waker`s are made
//! from one, and [`std::task::Wake`] is implemented for `std::sync::Arc`
//! only. Its mutex and atomics come from here like everyone else's.
//!
//! [loom]: https://docs.rs/loom

#[cfg(all(test, loom))]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    Arc, Mutex, MutexGuard,
};

#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    Arc, Mutex, MutexGuard,
};
