//! `Condition`: wait, with a lock released, until another task says the
//! state changed — asyncio's `Condition`, used as `std::sync::Condvar` is.
//!
//! The state lives in a [`Mutex`]. A task that needs the state to change
//! calls `cond.wait(guard).await`: the lock is released while it waits and
//! held again when `wait` returns the guard. A task that changes the state
//! calls `cond.notify_one()` (or `notify(n)`, `notify_all()`), which wakes
//! waiters in the order they started waiting. The usual shape, which
//! [`Condition::wait_for`] spells out, re-checks the state in a loop:
//!
//! ```text
//! let mut guard = mutex.lock().await;
//! while !ready(&guard) { guard = cond.wait(guard).await; }
//! ```
//!
//! asyncio's `Condition` owns its lock (`async with cond:`); this one, like
//! `Condvar`, is given the lock's guard at each `wait`, so the data the
//! condition is about sits inside the mutex, where the compiler checks that
//! it is only touched under the lock.
//!
//! # The protocol
//!
//! A condition is a waiter list behind a small lock of its own.
//!
//! - **wait, first poll**: park (push our waker) *first*, then release the
//!   mutex by dropping the guard. In that order, a notification cannot fall
//!   between "I released the lock" and "I am in the list": a notifier that
//!   changed the state under the mutex did so before we locked it (we saw
//!   the change) or after we were parked (we are in the list it notifies).
//! - **notify(n)**: pop up to `n` of the oldest parked waiters, then wake
//!   them after unlocking. Exactly `min(n, parked)` waiters are notified;
//!   a notification with nobody parked is lost, as in asyncio and `Condvar`.
//! - **wait, later polls**: entry still there: `Pending`. Entry gone: we
//!   were notified; lock the mutex again (an ordinary `lock()`, in line
//!   behind everyone already waiting for it) and return its guard.
//! - **cancel**: a wait dropped while parked leaves the list. A wait
//!   dropped after it was notified — parked with its entry gone, or
//!   re-locking — **passes its notification on** to the next parked waiter,
//!   as asyncio does when a notified waiter is cancelled: a notification is
//!   consumed only by a `wait` that returns, so a `notify_one` whose waiter
//!   gives up still wakes someone. One difference: asyncio's `wait`,
//!   cancelled while re-acquiring the lock, goes on re-acquiring it (its
//!   caller's `async with` will release it) and raises the cancellation
//!   only once it holds the lock. A dropped future has no caller left to
//!   hand the lock to, so it stops trying at once; a lock already handed to
//!   it goes to the next task in line.
//!
//! # One mutex at a time
//!
//! Every `wait` parked on a condition at the same time must use the same
//! mutex: a notifier holding one mutex cannot be changing the state behind
//! another, so mixing them is a bug in the caller, one that loses
//! notifications. `std::sync::Condvar` may panic for this; here it always
//! does, in the `wait` that brings the second mutex. Once nobody is parked,
//! the condition can be used with any mutex.

use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use spindle_runtime::observe::{note, wait_on, Arg, Label, WaitOn};

/// What a task in `wait` waits on until notified: `Condition#1.wait`
/// (then, while it takes the lock back, the mutex's `Mutex#2.lock`).
static WAIT: WaitOn = WaitOn::new("Condition", "wait", Arg::Object);

use crate::mutex::{Lock, Mutex, MutexGuard};
use crate::sync::Mutex as StateLock;
use crate::waiters::{lock, raise_again, refresh_waker, wake, wake_all, WaiterList};

/// A place for tasks to wait until notified, releasing a [`Mutex`] while
/// they wait — asyncio's `Condition`, used like `std::sync::Condvar`.
///
/// `Condition` is `Send + Sync`. Share it by reference, or in an `Arc`
/// next to the mutex it is used with.
///
/// # Examples
///
/// ```
/// use spindle::{join, Condition, Mutex};
///
/// let items = Mutex::new(Vec::new());
/// let cond = Condition::new();
/// let consumer = async {
///     let guard = items.lock().await;
///     let mut guard = cond.wait_for(guard, |items| !items.is_empty()).await;
///     guard.pop()
/// };
/// let producer = async {
///     items.lock().await.push("job");
///     cond.notify_one();
/// };
/// let (got, ()) = futures_executor::block_on(join!(consumer, producer));
/// assert_eq!(got, Some("job"));
/// ```
pub struct Condition {
    state: StateLock<State>,
    /// The name in traces: `Condition#1`.
    label: Label,
}

/// What the condition's own lock guards.
struct State {
    /// Parked waits, oldest first.
    waiters: WaiterList<Waker>,
    /// The address of the mutex every parked wait uses; meaningful only
    /// while `waiters` is not empty.
    mutex: usize,
}

impl Condition {
    /// A new condition with nobody waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = spindle::Condition::new();
    /// cond.notify_all(); // nobody waits: nothing happens
    /// ```
    pub fn new() -> Condition {
        Condition {
            state: StateLock::new(State {
                waiters: WaiterList::new(),
                mutex: 0,
            }),
            label: Label::new("Condition"),
        }
    }

    /// Releases the lock `guard` holds, waits until notified, locks again
    /// and returns the new guard.
    ///
    /// The wait always parks: it returns only after a `notify_*` picked it
    /// (asyncio's `wait` too), never spuriously. Still, re-check the state
    /// when it returns — another task may have changed it between the
    /// notification and the re-lock — or use
    /// [`wait_for`](Condition::wait_for), which does.
    ///
    /// # Panics
    ///
    /// On its first poll, if other waits are parked on this condition with
    /// the guard of a different mutex ([one mutex at a
    /// time](crate::condition#one-mutex-at-a-time)); the guard is dropped,
    /// so the lock is released.
    ///
    /// # Cancellation
    ///
    /// Dropped, the future gives up the lock for good: it drops the guard
    /// it was given (never polled), or does not take the lock again
    /// (waiting, or re-locking — a lock already handed to it goes to the
    /// next task in line). If it had been notified, the notification passes
    /// to the next parked wait, as in asyncio; so no notification is lost
    /// to a wait that gave up.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::{join, Condition, Mutex};
    ///
    /// let ready = Mutex::new(false);
    /// let cond = Condition::new();
    /// let waiter = async {
    ///     let mut guard = ready.lock().await;
    ///     while !*guard {
    ///         guard = cond.wait(guard).await; // the lock is free meanwhile
    ///     }
    /// };
    /// let setter = async {
    ///     *ready.lock().await = true;
    ///     cond.notify_all();
    /// };
    /// futures_executor::block_on(join!(waiter, setter));
    /// ```
    pub fn wait<'a, T: ?Sized>(&'a self, guard: MutexGuard<'a, T>) -> Wait<'a, T> {
        Wait {
            condition: self,
            state: WaitState::Init(guard),
        }
    }

    /// Waits until `predicate` returns `true` for the data, checking it
    /// with the lock held: first at once, then after every notification.
    /// Returns the guard, with the lock held and the predicate true.
    ///
    /// asyncio's `wait_for(predicate)`; `std::sync::Condvar::wait_while`
    /// with the predicate turned around.
    ///
    /// # Panics
    ///
    /// As [`wait`](Condition::wait), and if `predicate` panics (with the
    /// lock held: the unwinding drops the guard and so unlocks).
    ///
    /// # Cancellation
    ///
    /// As [`wait`](Condition::wait): dropped, it gives up the lock for good
    /// and passes on a notification it had received.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::{Condition, Mutex};
    ///
    /// let count = Mutex::new(3);
    /// let cond = Condition::new();
    /// let guard = futures_executor::block_on(async {
    ///     cond.wait_for(count.lock().await, |n| *n > 2).await // true at once
    /// });
    /// assert_eq!(*guard, 3);
    /// ```
    pub async fn wait_for<'a, T: ?Sized>(
        &'a self,
        mut guard: MutexGuard<'a, T>,
        mut predicate: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, T> {
        while !predicate(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes the `n` waits that have waited longest (all of them if fewer
    /// are parked). Holding the mutex is not required, as with `Condvar`;
    /// change the state under the mutex before notifying, so that a waiter
    /// cannot miss the change.
    ///
    /// # Panics
    ///
    /// Only if the waker of a wait it wakes panics: every wait picked is
    /// still woken, then the first such panic is raised again here.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = spindle::Condition::new();
    /// cond.notify(2); // nobody waits: a notification is not stored
    /// ```
    pub fn notify(&self, n: usize) {
        let mut notified = Vec::new();
        {
            let mut state = lock(&self.state);
            for _ in 0..n {
                match state.waiters.pop_front() {
                    Some((_, waker)) => notified.push(waker),
                    None => break,
                }
            }
        }
        if !notified.is_empty() {
            note(&self.label, "notify");
        }
        wake_all(notified);
    }

    /// Wakes the wait that has waited longest, if any: `notify(1)`.
    ///
    /// # Panics
    ///
    /// As [`notify`](Condition::notify).
    ///
    /// # Examples
    ///
    /// ```
    /// spindle::Condition::new().notify_one();
    /// ```
    pub fn notify_one(&self) {
        let notified = lock(&self.state).waiters.pop_front().map(|(_, w)| w);
        if notified.is_some() {
            note(&self.label, "notify");
        }
        wake(notified);
    }

    /// Wakes every parked wait, oldest first.
    ///
    /// # Panics
    ///
    /// As [`notify`](Condition::notify).
    ///
    /// # Examples
    ///
    /// ```
    /// spindle::Condition::new().notify_all();
    /// ```
    pub fn notify_all(&self) {
        let notified = lock(&self.state).waiters.take_all();
        let mut notified = notified.peekable();
        if notified.peek().is_some() {
            note(&self.label, "notify");
        }
        wake_all(notified);
    }

    /// Waits parked. For tests of cancellation.
    #[doc(hidden)]
    pub fn waiter_count(&self) -> usize {
        lock(&self.state).waiters.len()
    }
}

impl Default for Condition {
    fn default() -> Condition {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiter_count())
            .finish()
    }
}

/// The mutex's address, which identifies it while it is borrowed: a
/// borrowed mutex cannot move or be dropped, so no other can take its
/// place.
fn address<T: ?Sized>(mutex: &Mutex<T>) -> usize {
    (mutex as *const Mutex<T>).cast::<()>() as usize
}

/// The future returned by [`Condition::wait`].
///
/// # Panics
///
/// As [`Condition::wait`]; and polling it again after it returned the
/// guard panics.
///
/// # Cancellation
///
/// As [`Condition::wait`]: dropped, it gives up the lock for good and
/// passes on a notification it had received.
///
/// # Examples
///
/// ```
/// use spindle::{condition::Wait, Condition, Mutex};
///
/// let data = Mutex::new(0);
/// let cond = Condition::new();
/// let wait: Wait<'_, i32> = cond.wait(data.try_lock().unwrap());
/// drop(wait); // never polled: drops the guard
/// assert!(data.try_lock().is_some());
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Wait<'a, T: ?Sized> {
    condition: &'a Condition,
    state: WaitState<'a, T>,
}

/// Where a [`Wait`] is in its life.
enum WaitState<'a, T: ?Sized> {
    /// Not polled yet: holds the lock.
    Init(MutexGuard<'a, T>),
    /// Parked under this id, the lock released: waiting while the entry is
    /// in the list, notified once it is gone.
    Parked { id: u64, mutex: &'a Mutex<T> },
    /// Notified, and locking the mutex again.
    Relocking(Lock<'a, T>),
    /// Returned the guard.
    Done,
}

impl<'a, T: ?Sized> Future for Wait<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let condition = self.condition;
        loop {
            match std::mem::replace(&mut self.state, WaitState::Done) {
                WaitState::Init(guard) => {
                    let mutex = MutexGuard::mutex(&guard);
                    let mut state = lock(&condition.state);
                    if !state.waiters.is_empty() && state.mutex != address(mutex) {
                        drop(state);
                        drop(guard);
                        panic!(
                            "Condition::wait with a different Mutex than the waits already \
                             parked on this condition: use one mutex per condition"
                        );
                    }
                    state.mutex = address(mutex);
                    // Park first, then unlock: no notification can fall
                    // between the two (see the module docs).
                    let id = state.waiters.push(cx.waker().clone());
                    drop(state);
                    self.state = WaitState::Parked { id, mutex };
                    note(&condition.label, "wait");
                    wait_on(&WAIT, &condition.label);
                    // Unlocking may hand the lock over and wake its next
                    // holder; if that waker panics, the panic leaves here
                    // with this wait parked, and dropping it cleans up.
                    drop(guard);
                    return Poll::Pending;
                }
                WaitState::Parked { id, mutex } => {
                    if let Some(waker) = lock(&condition.state).waiters.get_mut(id) {
                        // Not notified yet: a spurious poll.
                        refresh_waker(waker, cx.waker());
                        self.state = WaitState::Parked { id, mutex };
                        wait_on(&WAIT, &condition.label);
                        return Poll::Pending;
                    }
                    note(&condition.label, "notified");
                    self.state = WaitState::Relocking(mutex.lock());
                }
                WaitState::Relocking(mut relock) => match Pin::new(&mut relock).poll(cx) {
                    Poll::Ready(guard) => return Poll::Ready(guard),
                    Poll::Pending => {
                        self.state = WaitState::Relocking(relock);
                        return Poll::Pending;
                    }
                },
                WaitState::Done => panic!("`Wait` polled after it returned the guard"),
            }
        }
    }
}

impl<T: ?Sized> Drop for Wait<'_, T> {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.state, WaitState::Done) {
            // Never parked: dropping the guard unlocks, and that is all.
            WaitState::Init(_) | WaitState::Done => {}
            WaitState::Parked { id, .. } => {
                let left = lock(&self.condition.state).waiters.remove(id);
                match left {
                    // Not notified: we just left the line.
                    Some(waker) => drop(waker),
                    // Notified, and we will not consume it: to the next.
                    None => self.condition.notify_one(),
                }
            }
            WaitState::Relocking(relock) => {
                // Dropping the `Lock` passes on a lock already handed to
                // it, which wakes its next holder. If that waker panics,
                // our notification must still pass on: catch, pass it,
                // and only then raise the panic again.
                let passed = panic::catch_unwind(AssertUnwindSafe(|| drop(relock)));
                self.condition.notify_one();
                if let Err(payload) = passed {
                    raise_again(payload);
                }
            }
        }
    }
}

impl<T: ?Sized> fmt::Debug for Wait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            WaitState::Init(_) => "init",
            WaitState::Parked { .. } => "parked",
            WaitState::Relocking(_) => "relocking",
            WaitState::Done => "done",
        };
        f.debug_struct("Wait")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}
