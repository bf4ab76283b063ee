//! `Semaphore`: at most `n` tasks at a time — asyncio's `Semaphore`.
//!
//! A semaphore holds a number of *permits*. `acquire().await` takes one,
//! waiting while none is free, and returns a [`SemaphorePermit`]; dropping
//! that gives the permit back. `async with sem:` in asyncio is
//! `let _permit = sem.acquire().await;` here: the permit is held until the
//! end of the block.
//!
//! Because a permit comes back only when its guard drops, it cannot be
//! given back twice; so asyncio's `BoundedSemaphore`, which exists to catch
//! a `release()` too many, has nothing to catch here. New permits come from
//! [`Semaphore::add_permits`] only.
//!
//! The waiting is `permits.rs`'s (the file to read for the protocol):
//! waiters are served strictly in arrival order, a permit given back while
//! anyone waits goes straight to the one that waited longest, and
//! `try_acquire` fails while anyone waits. A free permit is one atomic
//! compare-exchange away; the waiter list is touched only when someone has
//! to wait.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use spindle_runtime::observe::{Arg, WaitOn};

use crate::permits::{Permits, Waiter, MAX_PERMITS};

/// A count of permits that tasks wait for in arrival order, like asyncio's
/// `Semaphore`.
///
/// `Semaphore` is `Send + Sync`. It is not a handle: share it by reference,
/// or in an `Arc` (an `Rc` on one thread) with tasks that must own it.
///
/// # Examples
///
/// At most two downloads at a time:
///
/// ```
/// use spindle::{join_all, Semaphore};
///
/// let slots = Semaphore::new(2);
/// let download = |n| {
///     let slots = &slots;
///     async move {
///         let _permit = slots.acquire().await; // async with sem:
///         n * 10
///     } // the permit drops: the next download may start
/// };
/// let sizes = futures_executor::block_on(join_all((1..=5).map(download)));
/// assert_eq!(sizes, [10, 20, 30, 40, 50]);
/// assert_eq!(slots.available_permits(), 2);
/// ```
pub struct Semaphore {
    permits: Permits,
}

/// What a task waiting for a permit waits on: `Semaphore#1.acquire`.
static ACQUIRE: WaitOn = WaitOn::new("Semaphore", "acquire", Arg::Object);

impl Semaphore {
    /// The most permits a semaphore can hold free: `usize::MAX >> 3`.
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    /// A semaphore with `permits` free permits. (asyncio's default of 1 is
    /// `Semaphore::new(1)`; for a lock around data, see [`Mutex`].)
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = spindle::Semaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    ///
    /// [`Mutex`]: crate::Mutex
    #[track_caller]
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            permits: Permits::new(permits, "Semaphore", &ACQUIRE),
        }
    }

    /// Waits for a permit and takes it. Waiters are served in the order
    /// they started waiting.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: dropped before it returned `Ready`, it holds no permit
    /// and leaves nothing behind. Dropped after a permit was handed to it
    /// (woken, not yet polled), it gives that permit to the next waiter, or
    /// back to the semaphore.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = spindle::Semaphore::new(1);
    /// let permit = futures_executor::block_on(sem.acquire());
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            waiter: Waiter::Init,
        }
    }

    /// Takes a permit if one is free and nobody waits for one.
    ///
    /// `None` while anyone waits, even if a permit was just given back: it
    /// is on its way to the waiter that waited longest.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = spindle::Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_none());
    /// drop(permit);
    /// assert!(sem.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.permits
            .try_acquire_noted()
            .then(|| SemaphorePermit { semaphore: self })
    }

    /// Permits that [`try_acquire`](Semaphore::try_acquire) could take now:
    /// 0 while anyone waits.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = spindle::Semaphore::new(2);
    /// let _one = sem.try_acquire();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.permits.available()
    }

    /// Adds `n` permits, handing them to waiters first (oldest first).
    ///
    /// # Panics
    ///
    /// If the free permits would exceed [`Semaphore::MAX_PERMITS`]; nothing
    /// is added then. Otherwise only if the waker of a waiter it hands a
    /// permit to panics: every waiter released is still woken, and the
    /// first such panic is raised here afterwards.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = spindle::Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        self.permits.add(n);
    }

    /// Acquirers parked. For tests of cancellation.
    #[doc(hidden)]
    pub fn waiter_count(&self) -> usize {
        self.permits.waiter_count()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available_permits", &self.available_permits())
            .field("waiters", &self.waiter_count())
            .finish()
    }
}

/// One permit of a [`Semaphore`]; given back when dropped.
///
/// Dropping it hands the permit to the task that waited longest, if any.
///
/// # Panics
///
/// Dropping it panics only if the waker of the task it hands the permit to
/// panics; the permit has been handed over by then.
///
/// # Examples
///
/// ```
/// use spindle::{Semaphore, SemaphorePermit};
///
/// let sem = Semaphore::new(1);
/// let permit: SemaphorePermit<'_> = sem.try_acquire().unwrap();
/// drop(permit);
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
}

impl Drop for SemaphorePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.semaphore.permits.release();
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}

/// The future returned by [`Semaphore::acquire`].
///
/// # Panics
///
/// Polling it again after it returned its permit panics.
///
/// # Cancellation
///
/// Cancel-safe, as [`Semaphore::acquire`] explains: dropped before it
/// returned `Ready`, it holds nothing, and a permit already handed to it
/// goes to the next waiter.
///
/// # Examples
///
/// ```
/// use spindle::{semaphore::Acquire, Semaphore};
///
/// let sem = Semaphore::new(1);
/// let acquire: Acquire<'_> = sem.acquire();
/// let _permit = futures_executor::block_on(acquire);
/// assert_eq!(sem.available_permits(), 0);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    waiter: Waiter,
}

impl<'a> Future for Acquire<'a> {
    type Output = SemaphorePermit<'a>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let semaphore = self.semaphore;
        semaphore
            .permits
            .poll_acquire(&mut self.waiter, cx)
            .map(|()| SemaphorePermit { semaphore })
    }
}

impl Drop for Acquire<'_> {
    #[inline]
    fn drop(&mut self) {
        self.semaphore.permits.cancel(&self.waiter);
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("waiter", &self.waiter)
            .finish_non_exhaustive()
    }
}
