//! `Mutex<T>`: a lock whose guard lives across `.await` — asyncio's `Lock`,
//! holding the data it protects as Rust's mutexes do.
//!
//! `lock().await` waits until no one else holds the lock and returns a
//! [`MutexGuard`], through which the data is read and written; dropping the
//! guard unlocks. That is asyncio's `async with lock:` with the protected
//! state moved *inside* the lock, where the compiler can check that nobody
//! touches it without holding the lock.
//!
//! # A mutex is a semaphore of one permit
//!
//! All the waiting is `permits.rs`'s: holding the lock is holding the one
//! permit, unlocking is giving it back. So the mutex inherits its rules:
//! unlock hands the lock straight to the task that waited longest (nobody
//! barges in while anyone waits, not even `try_lock`), and a `lock()`
//! dropped after the lock was handed to it passes it on to the next one.
//! What this file adds is the data, and the one `unsafe` thing in the crate.
//!
//! # Why `unsafe` here, and why it is sound
//!
//! A guard hands out `&mut T` while other tasks, on other threads, hold
//! `&Mutex<T>`: the data must sit in an [`UnsafeCell`], and turning the
//! cell's pointer into a reference is `unsafe`. The rest of the crate is
//! `deny(unsafe_code)`; this module alone allows it, for these blocks:
//!
//! - `Deref`/`DerefMut` on [`MutexGuard`], and [`Mutex::get_mut`];
//! - `unsafe impl Sync for Mutex<T>` (for `T: Send`).
//!
//! What it buys, measured. The safe way to build this is a [`Semaphore`]
//! of one permit in front of a `std::sync::Mutex<T>` (locked only while
//! the permit is held, so never contended): that puts a second lock and
//! unlock, two more atomic read-modify-writes, on every `lock().await`.
//! Counted by callgrind on `examples/hot_paths.rs` (`lock`, and that
//! safe version in its place), an uncontended `lock().await`, `+= 1` and
//! unlock costs 35 instructions here and 58 that way, and runs in
//! 6.6 ns against 15.7 ns (best of five runs of 10⁶, on the shared 2-core
//! machine): the safe version is more than twice as slow, and would have
//! used up most of the margin over async-lock that the comparison bench
//! shows (`cargo bench --bench compare -- mutex`).
//!
//! [`Semaphore`]: crate::Semaphore
//!
//! The argument for soundness is the permit protocol's:
//!
//! 1. **Exclusive.** A `MutexGuard` exists only while its holder owns the
//!    mutex's one permit: it is made by `lock` or `try_lock` right after
//!    they took the permit, and gives it back only in its `Drop`. The
//!    permit count starts at 1 and nothing here adds permits, so at most one
//!    guard exists at a time, and a `&T` or `&mut T` from it lives no longer
//!    than a borrow of that guard.
//! 2. **Ordered.** A permit is taken with `Acquire` (or through the waiter
//!    list's lock) after it was given back with `Release` (or through that
//!    lock): everything the last holder wrote happens before the next
//!    holder reads (`permits.rs`, "Memory ordering").
//! 3. **`Sync` only for `T: Send`**: a `&Mutex<T>` shared between threads
//!    lets each thread in turn get `&mut T`, which moves `T`'s use between
//!    threads, exactly what `Send` allows. The guard is `Sync` only when
//!    `T: Sync` (a `&MutexGuard` hands out `&T`).
//!
//! Miri runs this module's accesses (`primitives/tests/miri_mutex.rs`,
//! from `scripts/miri.sh`), and the loom models (`loom_locks.rs`) keep the
//! data in loom's checked cell, which reports any access not ordered after
//! the previous holder's.
//!
//! [`UnsafeCell`]: std::cell::UnsafeCell

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use spindle_runtime::observe::{Arg, WaitOn};

use crate::permits::{Permits, Waiter};
use crate::sync::UnsafeCell;

/// A lock for data shared between tasks, like asyncio's `Lock`: one holder
/// at a time, waiters served in arrival order.
///
/// `Mutex<T>` is `Send + Sync` when `T: Send`. It is not a handle: share it
/// by reference, or in an `Arc` (an `Rc` on one thread) with tasks that
/// must own it.
///
/// # Examples
///
/// ```
/// use spindle::{join, Mutex};
///
/// let balance = Mutex::new(0);
/// let deposit = |amount| {
///     let balance = &balance;
///     async move {
///         let mut guard = balance.lock().await; // async with lock:
///         *guard += amount;
///     } // the guard drops: unlocked
/// };
/// futures_executor::block_on(join!(deposit(10), deposit(20)));
/// assert_eq!(balance.into_inner(), 30);
/// ```
pub struct Mutex<T: ?Sized> {
    permits: Permits,
    /// # Invariant
    ///
    /// Accessed only through a [`MutexGuard`] (which owns the one permit)
    /// or through `&mut Mutex` (no guard can exist then).
    data: UnsafeCell<T>,
}

// SAFETY: sharing `&Mutex<T>` lets one thread at a time reach the `T`
// (invariant of `data`, and point 1 of the module docs), each access
// ordered after the previous holder's (point 2): that moves `T` between
// threads, which `T: Send` allows. `T: Sync` is not needed: no two threads
// ever see the `T` at once.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// What a task waiting for the lock waits on: `Mutex#1.lock`.
static LOCK: WaitOn = WaitOn::new("Mutex", "lock", Arg::Object);

impl<T> Mutex<T> {
    /// A new, unlocked mutex holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = spindle::Mutex::new(Vec::<u8>::new());
    /// assert!(lock.try_lock().is_some());
    /// ```
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            permits: Permits::new(1, "Mutex", &LOCK),
            data: UnsafeCell::new(value),
        }
    }

    /// The data, out of the mutex. Owning the mutex means no one can hold
    /// its lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = spindle::Mutex::new(7);
    /// assert_eq!(lock.into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits until the lock is free and nobody waited longer, then takes
    /// it. Waiters are served in the order they started waiting.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: dropped before it returned `Ready`, it holds nothing
    /// and leaves nothing behind. Dropped while waiting, it leaves the
    /// line. Dropped after an unlock handed it the lock (woken, not yet
    /// polled), it passes the lock on to the next waiter, or unlocks.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = spindle::Mutex::new(1);
    /// futures_executor::block_on(async {
    ///     *lock.lock().await += 1;
    /// });
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            waiter: Waiter::Init,
        }
    }

    /// Takes the lock if it is free and nobody waits for it.
    ///
    /// `None` while anyone waits, even in the instant after an unlock: the
    /// lock is theirs, not up for grabs.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = spindle::Mutex::new(());
    /// let guard = lock.try_lock().unwrap();
    /// assert!(lock.try_lock().is_none());
    /// drop(guard);
    /// assert!(lock.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.permits
            .try_acquire_noted()
            .then(|| MutexGuard::new(self))
    }

    /// The data, through `&mut self`: no lock needed, since nobody else
    /// can reach the mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = spindle::Mutex::new(1);
    /// *lock.get_mut() += 1;
    /// assert_eq!(*lock.try_lock().unwrap(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` is the only way to reach the mutex now, so no
        // `MutexGuard` (which borrows it) exists: invariant of `data`. The
        // reference lives as long as that `&mut self` borrow.
        self.data.with_mut(|data| unsafe { &mut *data })
    }

    /// Acquirers parked. For tests of cancellation.
    #[doc(hidden)]
    pub fn waiter_count(&self) -> usize {
        self.permits.waiter_count()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        // Not `try_lock`: formatting is not an acquisition for the trace.
        if self.permits.try_acquire() {
            let guard = MutexGuard::new(self);
            d.field("data", &&*guard);
        } else {
            d.field("data", &format_args!("<locked>"));
        }
        d.finish_non_exhaustive()
    }
}

/// Access to the data of a locked [`Mutex`]; unlocks when dropped.
///
/// Dropping it hands the lock to the task that waited longest, if any.
/// It is `Send` when `T: Send` (an async lock belongs to no thread, so a
/// task may move between threads holding it) and `Sync` when `T: Send +
/// Sync`.
///
/// # Panics
///
/// Dropping it panics only if the waker of the task it hands the lock to
/// panics; the lock has been handed over by then.
///
/// # Examples
///
/// ```
/// use spindle::{Mutex, MutexGuard};
///
/// let lock = Mutex::new(String::from("a"));
/// let mut guard: MutexGuard<'_, String> = lock.try_lock().unwrap();
/// guard.push('b');
/// assert_eq!(*guard, "ab");
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    /// The guard hands out `&mut T`: it is `Sync` only when `T: Sync`,
    /// which `&Mutex<T>` alone would not require.
    _data: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// A guard for `mutex`, whose one permit the caller has just taken.
    #[inline]
    fn new(mutex: &'a Mutex<T>) -> Self {
        MutexGuard {
            mutex,
            _data: PhantomData,
        }
    }

    /// The mutex this guard locks (for `Condition`, which unlocks and locks
    /// it again).
    pub(crate) fn mutex(guard: &Self) -> &'a Mutex<T> {
        guard.mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard owns the mutex's one permit, so no other guard
        // exists and `get_mut` cannot be called (it needs `&mut Mutex`, and
        // we borrow it): invariant of `data`. The permit was taken after the
        // last holder's writes (module docs, point 2), and is only given
        // back when the guard drops, which the borrow of `self` outlasts.
        self.mutex.data.with(|data| unsafe { &*data })
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; and `&mut self` makes this the only
        // reference handed out by the guard while it lives.
        self.mutex.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.permits.release();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// The future returned by [`Mutex::lock`].
///
/// # Panics
///
/// Polling it again after it returned the guard panics.
///
/// # Cancellation
///
/// Cancel-safe, as [`Mutex::lock`] explains: dropped before it returned
/// `Ready`, it holds nothing, and a lock already handed to it goes to the
/// next waiter.
///
/// # Examples
///
/// ```
/// use spindle::{mutex::Lock, Mutex};
///
/// let lock = Mutex::new(5);
/// let locking: Lock<'_, i32> = lock.lock();
/// assert_eq!(*futures_executor::block_on(locking), 5);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Lock<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    waiter: Waiter,
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let mutex = self.mutex;
        mutex
            .permits
            .poll_acquire(&mut self.waiter, cx)
            .map(|()| MutexGuard::new(mutex))
    }
}

impl<T: ?Sized> Drop for Lock<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.permits.cancel(&self.waiter);
    }
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("waiter", &self.waiter)
            .finish_non_exhaustive()
    }
}
