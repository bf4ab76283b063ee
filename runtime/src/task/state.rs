//! The part of a task that any thread may touch: one atomic word holding the
//! reference count and the three join bits, and the cell holding the waker of
//! whoever awaits the [`JoinHandle`](crate::JoinHandle). This file is the
//! whole cross-thread protocol of a task; `mod.rs` calls it and supplies what
//! to do with the task's output, and the loom models at the bottom check it.
//!
//! # The word
//!
//! ```text
//!   bit 0      COMPLETE    the output is stored and published
//!   bit 1      HANDLE      the JoinHandle still exists
//!   bit 2      JOIN_WAKER  the join-waker cell holds a waker the completer may read
//!   bits 3..   the reference count (one per Waker, the handle, the owner, a message)
//! ```
//!
//! # Who may touch what
//!
//! Two parties share the output and the join-waker cell: the **completer**
//! (the owner thread, when the task finishes or is cancelled) and the
//! **handle** (on any thread if the output is `Send`). The bits decide which
//! of them may touch each thing at any moment:
//!
//! - **The output.** The completer writes it, then sets `COMPLETE` (Release).
//!   If `HANDLE` was set at that moment the output is the handle's, to read or
//!   drop once it has seen `COMPLETE` (Acquire); otherwise the completer drops
//!   it at once.
//! - **The cell, while `COMPLETE` is clear.** The handle owns it while
//!   `JOIN_WAKER` is clear: it writes its waker, then sets `JOIN_WAKER`. While
//!   `JOIN_WAKER` is set both sides only read it (the handle to ask
//!   `will_wake`); to write again the handle must clear the bit first.
//! - **The cell, once `COMPLETE` is set.** If `JOIN_WAKER` was set, the
//!   completer reads the waker, wakes it, and clears the bit; that clearing
//!   hands the cell back to the handle, or, if the handle is gone by then, to
//!   the completer, which drops the waker. If `JOIN_WAKER` was clear, the
//!   completer never touches the cell.
//!
//! From these follow two rules that every operation here keeps:
//!
//! 1. **`JOIN_WAKER` changes hands only while `COMPLETE` is clear**, except
//!    for the completer's one clearing after its wake. The handle sets and
//!    clears it with a compare-exchange that gives up once `COMPLETE`
//!    appears.
//! 2. **A failed compare-exchange is retried, not interpreted.** The word
//!    changes for two reasons: `COMPLETE` was set, or the reference count
//!    moved (a waker cloned or dropped, on any thread — including the very
//!    waker this code is replacing in the cell). Only the first is a
//!    decision; every loop here re-reads the word and retries on the
//!    second. (The earlier version of this protocol read any failure as
//!    "completed", and a handle then took the output of a task that was still
//!    running: a use-after-free reachable from safe code.)
//!
//! # Panicking wakers
//!
//! The waker in the cell is the user's: its `wake` and its `drop` may panic.
//! [`State::complete`] catches such a panic, finishes its half of the
//! protocol (the bit is cleared, the output dropped or left for the handle)
//! and returns the payload, so the caller can report it and the loop goes on.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::{Poll, Waker};

use crate::sync::{AtomicUsize, Ordering, UnsafeCell};

/// The output is stored and may be read by the handle. Set once, by the
/// completer, with `Release`.
const COMPLETE: usize = 1 << 0;
/// The `JoinHandle` still exists. Cleared once, by its drop.
const HANDLE: usize = 1 << 1;
/// The join-waker cell holds a waker that the completer may read (module
/// doc). Set only by the handle and only while `COMPLETE` is clear.
const JOIN_WAKER: usize = 1 << 2;
/// One reference in the upper bits of the word.
const REF_ONE: usize = 1 << 3;
/// The reference-count part of the word.
const REF_MASK: usize = !(REF_ONE - 1);
/// The reference count may not get near overflow; `std::sync::Arc` aborts at
/// the same point for the same reason.
const REF_MAX: usize = usize::MAX / 2;

/// A panic payload caught from a user's waker.
pub(crate) type Payload = Box<dyn Any + Send + 'static>;

/// The shared state of one task: the word and the join-waker cell.
pub(crate) struct State {
    word: AtomicUsize,
    /// The waker of the task awaiting the handle; access as the module doc
    /// says.
    join_waker: UnsafeCell<Option<Waker>>,
}

impl State {
    /// A new task's state: two references (the owner's and the handle's),
    /// `HANDLE` set, nothing complete.
    #[inline]
    pub(crate) fn new() -> State {
        State {
            word: AtomicUsize::new((2 * REF_ONE) | HANDLE),
            join_waker: UnsafeCell::new(None),
        }
    }

    // ----- references, any thread -------------------------------------------------------

    /// Adds a reference.
    #[inline]
    pub(crate) fn ref_inc(&self) {
        let prev = self.word.fetch_add(REF_ONE, Ordering::Relaxed);
        if prev > REF_MAX {
            // A leak of wakers on this scale is a bug in the program; as Arc does,
            // abort rather than risk a wrap-around and a use after free.
            std::process::abort();
        }
    }

    /// Drops a reference; `true` if it was the last, and the caller must free
    /// the task. `AcqRel` makes every other thread's use of the task happen
    /// before the free.
    #[inline]
    #[must_use]
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = self.word.fetch_sub(REF_ONE, Ordering::AcqRel);
        debug_assert!(prev >= REF_ONE, "task reference count underflow");
        prev & REF_MASK == REF_ONE
    }

    /// Whether the output has been published.
    #[inline]
    pub(crate) fn is_complete(&self) -> bool {
        self.word.load(Ordering::Acquire) & COMPLETE != 0
    }

    // ----- the completer, owner thread --------------------------------------------------

    /// The common end of a task, in one compare-exchange: if the handle
    /// exists and nobody awaits it yet ("spawn now, join later"), publish the
    /// output and drop the owner's reference together. Returns `false`, having
    /// done nothing, in every other case; the caller then calls
    /// [`complete`](State::complete) and drops the owner reference itself.
    /// The output must be stored before the call.
    #[inline]
    pub(crate) fn complete_and_release_if_unawaited(&self) -> bool {
        let mut current = self.word.load(Ordering::Acquire);
        // Retried while only the reference count moves (rule 2).
        while current & (HANDLE | JOIN_WAKER | COMPLETE) == HANDLE {
            let next = (current | COMPLETE) - REF_ONE;
            match self.word.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                // The handle's reference keeps the task alive; we touch it no more.
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
        false
    }

    /// Publishes the output (stored before the call): sets `COMPLETE`, wakes
    /// the handle's waker if one is registered, and calls `drop_output` if no
    /// handle exists to take it. Returns the payload of a panic from the
    /// user's waker, caught after the protocol was finished.
    #[inline]
    pub(crate) fn complete(&self, drop_output: impl FnOnce()) -> Option<Payload> {
        let prev = self.word.fetch_or(COMPLETE, Ordering::AcqRel);
        debug_assert!(prev & COMPLETE == 0, "task completed twice");
        let mut panic = None;
        if prev & JOIN_WAKER != 0 {
            let handle_gone = if prev & HANDLE != 0 {
                // The handle may be reading the cell too (`will_wake`): read only.
                panic = catch_unwind(AssertUnwindSafe(|| {
                    self.join_waker.with(|cell| {
                        // SAFETY: JOIN_WAKER is set, so nobody writes the cell (module doc).
                        if let Some(waker) = unsafe { &*cell } {
                            waker.wake_by_ref();
                        }
                    })
                }))
                .err();
                // Hand the cell back; if the handle went meanwhile, it left it to us.
                self.word.fetch_and(!JOIN_WAKER, Ordering::AcqRel) & HANDLE == 0
            } else {
                // The handle was dropped while its waker was registered, and left
                // the cell to us.
                true
            };
            if handle_gone {
                // SAFETY: the handle is gone and left the cell to the completer.
                let waker = unsafe { self.take_join_waker() };
                panic = panic.or_else(|| catch_unwind(AssertUnwindSafe(|| drop(waker))).err());
            }
        }
        if prev & HANDLE == 0 {
            drop_output();
        }
        panic
    }

    // ----- the handle, any thread -------------------------------------------------------

    /// The handle's poll: calls `read_output` and returns `Ready` once the
    /// output is published; otherwise registers `waker` to be woken at
    /// completion and returns `Pending`. A registered waker that would wake
    /// the same task is kept, which makes repeated polls cheap.
    ///
    /// # Safety
    ///
    /// Only the task's one handle calls this, and not concurrently with its
    /// own `drop_handle`.
    #[inline]
    pub(crate) unsafe fn poll_join(&self, waker: &Waker, read_output: impl FnOnce()) -> Poll<()> {
        let mut current = self.word.load(Ordering::Acquire);
        if current & COMPLETE == 0 {
            if current & JOIN_WAKER != 0 {
                let same = self.join_waker.with(|cell| {
                    // SAFETY: JOIN_WAKER is set: both sides only read the cell.
                    unsafe { &*cell }
                        .as_ref()
                        .is_some_and(|w| w.will_wake(waker))
                });
                if same {
                    return Poll::Pending;
                }
                // Take the cell back, unless COMPLETE comes first (rule 1).
                current = match self.update_while_incomplete(current, |s| s & !JOIN_WAKER) {
                    Ok(now) | Err(now) => now,
                };
            }
            if current & COMPLETE == 0 {
                // JOIN_WAKER is clear and COMPLETE is not set: the cell is ours.
                let old = self.join_waker.with_mut(|cell| {
                    // SAFETY: as just said; the completer will not read it before
                    // it sees JOIN_WAKER, which is set only below.
                    unsafe { (*cell).replace(waker.clone()) }
                });
                let set = self.update_while_incomplete(current, |s| s | JOIN_WAKER);
                // The old waker is dropped only now: its drop may move the reference
                // count (it may be this very task's waker), and may panic, and both
                // must happen with the protocol in a consistent state.
                drop(old);
                match set {
                    Ok(_) => return Poll::Pending,
                    // Completed first; JOIN_WAKER is still clear, the cell still ours.
                    Err(now) => current = now,
                }
            }
        }
        if current & JOIN_WAKER == 0 {
            // Complete, and the completer is done with the cell (or never read
            // it): clear it now, so the awaiting task's waker is not kept alive
            // by a finished task.
            // SAFETY: COMPLETE is set and JOIN_WAKER clear: the cell is the handle's.
            drop(unsafe { self.take_join_waker() });
        }
        read_output();
        Poll::Ready(())
    }

    /// The handle's drop: clears `HANDLE`, calls `drop_output` if the output
    /// was published (and so is the handle's), clears the cell if it is the
    /// handle's, and drops the handle's reference. Returns `true` if that was
    /// the last reference, and the caller must free the task.
    ///
    /// # Safety
    ///
    /// Called once, by the task's handle, which is not used afterwards.
    #[inline]
    #[must_use]
    pub(crate) unsafe fn drop_handle(&self, drop_output: impl FnOnce()) -> bool {
        let current = self.word.load(Ordering::Acquire);
        if current & (COMPLETE | JOIN_WAKER) == COMPLETE {
            // The usual case, a handle that was awaited or a finished task
            // detached: the completer is done with output and cell, and nobody
            // else will touch either, so one read-modify-write clears HANDLE and
            // releases the reference together.
            drop_output();
            // SAFETY: COMPLETE is set and JOIN_WAKER clear: the cell is the handle's.
            drop(unsafe { self.take_join_waker() });
            let prev = self.word.fetch_sub(HANDLE | REF_ONE, Ordering::AcqRel);
            debug_assert!(prev & HANDLE != 0, "JoinHandle dropped twice");
            return prev & REF_MASK == REF_ONE;
        }
        let prev = self.word.fetch_and(!HANDLE, Ordering::AcqRel);
        debug_assert!(prev & HANDLE != 0, "JoinHandle dropped twice");
        if prev & COMPLETE != 0 {
            // Completed with the handle alive: the output is ours.
            drop_output();
        }
        if prev & JOIN_WAKER == 0 {
            // Not registered, or handed back: ours. (If it is set, the completer
            // will find HANDLE gone and drop the waker itself.)
            // SAFETY: JOIN_WAKER is clear, so the completer does not touch the
            // cell now, and, with HANDLE gone, nobody will set it again.
            drop(unsafe { self.take_join_waker() });
        }
        self.ref_dec()
    }

    /// Applies `f` to the word with a compare-exchange, retried while only the
    /// reference count moves (rule 2); gives up once `COMPLETE` is set. Returns
    /// the word after the update, or, on giving up, the word that showed
    /// `COMPLETE`.
    #[inline]
    fn update_while_incomplete(
        &self,
        mut current: usize,
        f: impl Fn(usize) -> usize,
    ) -> Result<usize, usize> {
        loop {
            if current & COMPLETE != 0 {
                return Err(current);
            }
            let next = f(current);
            match self.word.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(next),
                Err(actual) => current = actual,
            }
        }
    }

    /// Takes the waker out of the cell.
    ///
    /// # Safety
    ///
    /// The caller may write the cell (module doc).
    #[inline]
    unsafe fn take_join_waker(&self) -> Option<Waker> {
        self.join_waker.with_mut(|cell| {
            // SAFETY: the caller's contract.
            let cell = unsafe { &mut *cell };
            // Look before writing: on the hot paths (a handle awaited after
            // its task finished) the cell is empty, and a load and a branch
            // cost less than `take` and the drop glue of its `None`.
            if cell.is_some() {
                cell.take()
            } else {
                None
            }
        })
    }
}

#[cfg(all(test, loom))]
mod loom_models;
