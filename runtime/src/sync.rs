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
//! (`task/state.rs`), the mailbox handshake with the reactor's parker and
//! lazily created poller (`mailbox.rs`, `reactor/parker.rs`), and a
//! source's readiness and waiters (`reactor/source.rs`). Everything owner-thread-only stays on plain
//! `Cell`s.
//!
//! [`OnceLock`] is std's; loom has none, so under loom it is a small
//! stand-in here with std's documented semantics (one `set` wins, `get`
//! sees the value only after it was set, with acquire/release ordering), so
//! that the models check how spindle *uses* it, not std's implementation.
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

#[cfg(all(test, loom))]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};

#[cfg(all(test, loom))]
pub(crate) use loom_once::OnceLock;

#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};

#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

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

/// std's `OnceLock`, reduced to what the reactor uses (`new`, `get`, `set`),
/// on loom's primitives.
#[cfg(all(test, loom))]
mod loom_once {
    use super::{AtomicBool, Mutex, Ordering, UnsafeCell};

    pub(crate) struct OnceLock<T> {
        /// Set, with `Release`, once `value` holds its value for good.
        ready: AtomicBool,
        /// Held while a `set` writes `value`, so two `set`s cannot race.
        writing: Mutex<()>,
        value: UnsafeCell<Option<T>>,
    }

    // SAFETY: as for std's `OnceLock`: the value is written once, under
    // `writing`, and only shared by reference afterwards, so sharing the cell
    // shares a `&T` (needs `Sync`) and may hand the value to another thread
    // to drop (needs `Send`).
    unsafe impl<T: Send + Sync> Sync for OnceLock<T> {}
    // SAFETY: moving the cell moves the value it holds.
    unsafe impl<T: Send> Send for OnceLock<T> {}

    impl<T> OnceLock<T> {
        pub(crate) fn new() -> OnceLock<T> {
            OnceLock {
                ready: AtomicBool::new(false),
                writing: Mutex::new(()),
                value: UnsafeCell::new(None),
            }
        }

        pub(crate) fn get(&self) -> Option<&T> {
            if !self.ready.load(Ordering::Acquire) {
                return None;
            }
            // SAFETY: `value` was written once, before `ready` was set (Release,
            // read above with Acquire), and is never written again.
            self.value.with(|value| unsafe { (*value).as_ref() })
        }

        pub(crate) fn set(&self, value: T) -> Result<(), T> {
            let _writing = self.writing.lock().unwrap();
            if self.ready.load(Ordering::Relaxed) {
                return Err(value);
            }
            // SAFETY: `writing` is held and `ready` is false, so no `get` reads
            // `value` and no other `set` writes it.
            self.value.with_mut(|slot| unsafe { *slot = Some(value) });
            self.ready.store(true, Ordering::Release);
            Ok(())
        }
    }
}
