//! `Event`: a flag that tasks can wait for — asyncio's `Event`.
//!
//! An event is *set* or *clear*. `wait()` returns at once while it is set,
//! and otherwise parks until some `set()`. `clear()` only affects *future*
//! waits: a waiter that a `set()` released returns even if `clear()` runs
//! before that waiter is polled again. That last rule is what makes an
//! event usable as a "go" signal: a `set(); clear();` pulse still lets
//! every waiter through, exactly as in CPython.
//!
//! # The protocol
//!
//! The state is `is_set` plus a waiter list (`waiters.rs`) of parked
//! wakers, both behind one mutex.
//!
//! - **wait, first poll**: lock. If `is_set`, return `Ready`. Otherwise park
//!   (push our waker, keep the id) and return `Pending`. Checking and
//!   parking under the *same* lock closes the classic lost-wakeup race: a
//!   `set()` cannot slip in between "it is not set" and "I am parked".
//! - **set**: lock; if already set, nothing to do (no one can be parked
//!   while the event is set, because wait checks `is_set` first). Otherwise
//!   set `is_set` and move the *whole* waiter list out (O(1)). Unlock, then
//!   wake each released waker, oldest first — every one, even if a waker
//!   panics: the panic is raised again from `set()` after the last wake
//!   (`waiters.rs`, rule 3). Whoever set the flag hears about the broken
//!   waker; nobody else misses the wake.
//! - **wait, later polls**: lock. If our entry is still in the list, we were
//!   not released: refresh the waker and stay `Pending` (a spurious poll).
//!   If the entry is gone, only a `set()` can have removed it, so return
//!   `Ready` — whatever `is_set` says now. This is the per-waiter "fired"
//!   flag: it needs no extra field, and `clear()` cannot touch it.
//! - **clear**: lock, `is_set = false`. Parked waiters are unaffected.
//! - **cancel** (a parked `Wait` dropped): lock and remove our entry if it
//!   is still there. If `set()` already took it, there is nothing to undo:
//!   a released-but-dropped waiter costs nothing.
//!
//! Releasing 10 000 waiters is one `take_all` under the lock, then 10 000
//! `wake`s outside it; each waiter afterwards pays one uncontended lock and
//! a failed lookup, and completed waiters skip the lock in `Drop`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use spindle_runtime::observe::{Arg, WaitOn};

use crate::sync::Arc;
use crate::waiters::{lock, refresh_waker, wake_all, Named, WaiterList};

/// A flag that tasks can wait for, like asyncio's `Event`.
///
/// `Event` is a cheap handle: clones share one flag. It is `Send + Sync`,
/// so it can signal across threads and executors.
///
/// # Examples
///
/// ```
/// use spindle::Event;
///
/// let ready = Event::new();
/// let waiter = {
///     let ready = ready.clone();
///     async move {
///         ready.wait().await;
///         "released"
///     }
/// };
/// ready.set();
/// assert!(ready.is_set());
/// assert_eq!(futures_executor::block_on(waiter), "released");
/// ```
#[derive(Clone)]
pub struct Event {
    shared: Arc<Named<State>>,
}

/// What a task waiting on an event waits on: `Event#1.wait`.
static WAIT: WaitOn = WaitOn::new("Event", "wait", Arg::Object);

impl Default for Event {
    fn default() -> Event {
        Event {
            shared: Arc::new(Named::new("Event", State::default())),
        }
    }
}

/// What the mutex guards.
#[derive(Default)]
struct State {
    /// The flag. While it is `true`, `waiters` is empty: `wait` never parks
    /// on a set event, and `set` releases everyone it finds.
    is_set: bool,
    /// Waiters parked since the last `set`, oldest first.
    waiters: WaiterList<Waker>,
}

impl Event {
    /// A new event, initially clear.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = spindle::Event::new();
    /// assert!(!event.is_set());
    /// ```
    pub fn new() -> Event {
        Event::default()
    }

    /// Sets the flag and releases every task currently waiting.
    ///
    /// Waiters are woken oldest first, so a FIFO executor resumes them in
    /// the order they started waiting. Setting an event that is already set
    /// does nothing.
    ///
    /// # Panics
    ///
    /// Only if a waiter's [`Waker`] panics when woken. Every other waiter is
    /// still woken, and then the first such panic is raised again here; the
    /// event is set and every waiter released by then.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = spindle::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn set(&self) {
        let released = {
            let mut state = lock(&self.shared);
            if state.is_set {
                return;
            }
            state.is_set = true;
            state.waiters.take_all()
        };
        // The guard is gone: now run executor code, every waker even if
        // one panics (the first panic is raised again after the last wake).
        wake_all(released);
    }

    /// Clears the flag, so that later calls to [`wait`](Event::wait) park.
    ///
    /// Waiters already released by a [`set`](Event::set) still return.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = spindle::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        lock(&self.shared).is_set = false;
    }

    /// Whether the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = spindle::Event::new();
    /// assert!(!event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        lock(&self.shared).is_set
    }

    /// Waits until the flag is set; returns at once if it already is.
    ///
    /// # Cancellation
    ///
    /// Nothing is left behind (see [`Wait`]): a dropped wait had no effect,
    /// and no other waiter is affected.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = spindle::Event::new();
    /// event.set();
    /// futures_executor::block_on(event.wait()); // already set: returns at once
    /// ```
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            event: self,
            state: WaitState::Init,
        }
    }

    /// How many `wait()` futures are parked. For tests of cancellation.
    #[doc(hidden)]
    pub fn waiter_count(&self) -> usize {
        lock(&self.shared).waiters.len()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.shared);
        f.debug_struct("Event")
            .field("is_set", &state.is_set)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

/// The future returned by [`Event::wait`].
///
/// # Cancellation
///
/// Dropping it leaves nothing behind, whenever it happens: a parked `Wait`
/// removes its entry from the waiter list, and one that a `set()` already
/// released (woken, not yet polled) has nothing to undo — the release took
/// its entry and gave nothing else to it, so no other waiter loses
/// anything either. A wait has no effect on the event, so there is no
/// effect to undo.
///
/// # Examples
///
/// ```
/// use spindle::{event::Wait, Event};
///
/// let event = Event::new();
/// let wait: Wait<'_> = event.wait();
/// event.set(); // before the first poll: `wait` sees the flag set
/// futures_executor::block_on(wait);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Wait<'a> {
    event: &'a Event,
    state: WaitState,
}

/// Where a [`Wait`] is in its life.
enum WaitState {
    /// Not polled yet: has not looked at the flag.
    Init,
    /// Parked under this id in the event's waiter list.
    Parked(u64),
    /// Returned `Ready`; owns no entry.
    Done,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let event = self.event;
        let mut state = lock(&event.shared);
        match self.state {
            WaitState::Init => {
                // Check and park under one lock: no set() can fall between.
                if state.is_set {
                    drop(state);
                    self.state = WaitState::Done;
                    return Poll::Ready(());
                }
                let id = state.waiters.push(cx.waker().clone());
                drop(state);
                self.state = WaitState::Parked(id);
                event.shared.waiting(&WAIT);
                Poll::Pending
            }
            WaitState::Parked(id) => match state.waiters.get_mut(id) {
                Some(waker) => {
                    // Still parked: a spurious poll. Keep the newest waker.
                    refresh_waker(waker, cx.waker());
                    drop(state);
                    event.shared.waiting(&WAIT);
                    Poll::Pending
                }
                None => {
                    // Only set() removes entries of live waiters: released.
                    drop(state);
                    self.state = WaitState::Done;
                    Poll::Ready(())
                }
            },
            WaitState::Done => Poll::Ready(()),
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let WaitState::Parked(id) = self.state {
            // Bind the removed waker so that it is dropped after the guard.
            let removed = lock(&self.event.shared).waiters.remove(id);
            drop(removed);
        }
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait").finish_non_exhaustive()
    }
}
