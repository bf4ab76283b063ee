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
//! `UnsafeCell` is the one type here that is not a re-export on both
//! sides: loom's checks every access to the cell against the accesses of
//! other threads (a read that is not ordered after the last write, by a
//! lock or an atomic, is a data race it reports), through a closure API
//! (`with`, `with_mut`) that `std`'s cell lacks, so for normal builds a
//! thin wrapper gives `std`'s cell the same API at no cost. `mutex.rs`, the
//! only user, keeps its data in one, so the loom models check that the
//! permit protocol really orders one holder's writes before the next
//! holder's reads.
//!
//! `future_set.rs` keeps `std`'s `Arc`: its per-child `Waker`s are made
//! from one, and [`std::task::Wake`] is implemented for `std::sync::Arc`
//! only. Its mutex and atomics come from here like everyone else's.
//!
//! [loom]: https://docs.rs/loom

#[cfg(all(test, loom))]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex, MutexGuard,
    },
};

#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    Arc, Mutex, MutexGuard,
};

/// `std::cell::UnsafeCell` with loom's closure API: each access names its
/// kind (`with` reads, `with_mut` writes) and gets a raw pointer. Nothing
/// here is `unsafe`: handing out a raw pointer is safe, dereferencing it is
/// what needs a reason, and that happens at the call site.
#[cfg(not(all(test, loom)))]
#[derive(Debug, Default)]
pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

#[cfg(not(all(test, loom)))]
impl<T> UnsafeCell<T> {
    /// A cell holding `value`.
    #[inline]
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// The value, out of the cell.
    #[inline]
    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

#[cfg(not(all(test, loom)))]
impl<T: ?Sized> UnsafeCell<T> {
    /// Calls `f` with a pointer through which it may read the value.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Calls `f` with a pointer through which it may write the value.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
