//! The atomics and cells that the cross-thread protocols are built from,
//! behind one name so that a model checker can stand in for them.
//!
//! A normal build re-exports `std`'s types. A build with `--cfg loom`
//! (`RUSTFLAGS="--cfg loom" cargo test -p spindle-runtime --lib loom`, see
//! the README's "Reliability" section) swaps in [loom]'s, which explore every
//! interleaving and every weak-memory outcome that the C11 model allows of
//! the code that uses them, and report a data race on an [`UnsafeCell`] or a
//! wake that never comes. Only the protocols that other threads take part
//! in go through this module: the task's state word and join waker
//! (`task/state.rs`) and the mailbox handshake (`mailbox.rs`). Everything
//! owner-thread-only stays on plain `Cell`s.
//!
//! As in the `event-listener` and `tokio` crates, [`UnsafeCell`] follows
//! loom's shape: access goes through closures (`with`, `with_mut`) that
//! hand out a raw pointer, so loom can see each access begin and end.
//!
//! [loom]: https://docs.rs/loom

#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};

#[cfg(all(test, loom))]
pub(crate) use loom::cell::UnsafeCell;

#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};

/// `std::cell::UnsafeCell` with loom's access-by-closure interface.
#[cfg(not(all(test, loom)))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(all(test, loom)))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with a pointer for reading; the caller guarantees no write
    /// happens meanwhile.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Calls `f` with a pointer for writing; the caller guarantees no other
    /// access happens meanwhile.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
