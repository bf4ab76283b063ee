//! `Permits`: the FIFO permit counter that [`Semaphore`] and [`Mutex`] are
//! built on — one atomic word for the common case, a waiter list for the
//! rest.
//!
//! A semaphore is a number of *permits*: `acquire` takes one, waiting while
//! there is none, and dropping what it returned gives the permit back. A
//! mutex is the same thing with exactly one permit. asyncio's promise, which
//! both keep, is **FIFO**: permits go to waiters in the order they started
//! waiting, and nobody *barges* — takes a permit that has just been given
//! back while someone waits for one — not even `try_acquire`.
//!
//! # Why an atomic word
//!
//! The rest of this crate keeps its state behind a `std::sync::Mutex`. An
//! uncontended lock and unlock of one costs two atomic read-modify-writes
//! plus the work done under it; so a `Mutex` built that way would cost at
//! least *four* atomic operations for one `lock().await` and unlock (lock
//! and unlock the inner mutex twice), where async-lock's costs two. So the
//! permit count lives in an `AtomicUsize` of its own, and the common case
//! — a permit is free and nobody waits — is one compare-exchange to take a
//! permit and one `fetch_add` to give it back. The waiter list, behind a
//! `std::sync::Mutex`, is touched only when someone has to wait.
//!
//! # The state word
//!
//! `state = permits << 1 | QUEUED`:
//!
//! - **`permits`** (the high bits): permits free in the word. While
//!   `QUEUED` is clear, any of them can be taken by the fast path.
//! - **`QUEUED`** (bit 0): the waiter list is not empty. Only changed with
//!   the list's lock held, so under that lock `QUEUED ⇔ !waiters.is_empty()`.
//!   While it is set the fast path takes nothing: the permits belong to the
//!   line.
//!
//! # The protocol
//!
//! - **acquire, fast path** (`try_acquire`): if `QUEUED` is clear and a
//!   permit is free, compare-exchange `state → state - ONE`. Otherwise fail:
//!   `try_acquire` returns `None`, a waiting `acquire` goes on to park.
//! - **acquire, park**: lock the list, then look at the word again, in a
//!   compare-exchange loop: if `QUEUED` is clear and a permit is free (one
//!   came back since the fast path looked), take it and return `Ready`. If
//!   `QUEUED` is clear and no permit is free, set `QUEUED`. Either way, once
//!   `QUEUED` is set, push our waker at the back of the list and return
//!   `Pending`.
//! - **release** (a permit's guard drops): `fetch_add(ONE)`. If the value
//!   it replaced had `QUEUED` clear, that is all: the permit is free. If
//!   `QUEUED` was set, the permit must go to the oldest waiter instead:
//!   **hand off**.
//! - **hand off**: lock the list, read the word; while permits are free in
//!   it and waiters are in the list, pop the oldest waiter and subtract one
//!   permit for it; if the list is now empty, clear `QUEUED` in the same
//!   subtraction. Unlock, then wake the waiters popped, oldest first. A
//!   popped waiter *owns* its permit from that moment: **the absence of its
//!   entry is its grant** (the rule of `waiters.rs`), so nothing can take
//!   the permit back between the wake and the waiter's next poll.
//! - **acquire, later polls**: lock the list. Entry still there: refresh
//!   the waker, `Pending`. Entry gone: the permit is ours, `Ready`.
//! - **cancel** (a parked acquire dropped): lock the list and remove our
//!   entry. If it was there, we just leave the line (clearing `QUEUED` if
//!   the line is now empty, which frees any permit in the word to the fast
//!   path). If it was gone, a permit had been handed to us: release it,
//!   which hands it to the next waiter. So a dropped `acquire` never keeps
//!   or loses a permit.
//!
//! # Races, and why they are harmless
//!
//! - *A permit comes back between a failed fast path and the park.* The
//!   releaser saw `QUEUED` clear (we had not set it yet), so it left the
//!   permit in the word and will not hand it to anyone. That is why the
//!   park re-reads the word under the lock and takes a free permit itself
//!   instead of parking; parking there would wait for a release that
//!   already happened.
//! - *A release between the park's setting `QUEUED` and its push.* The
//!   releaser's `fetch_add` comes after our compare-exchange in the word's
//!   order, so it sees `QUEUED` and goes to hand off; that needs the list
//!   lock, which we hold until our entry is in. It finds us.
//! - *A permit in the word while `QUEUED` is set.* A releaser has added it
//!   and is on its way to hand it off; the fast path leaves it alone (no
//!   barging), and whoever takes the lock first settles it: the hand-off
//!   gives it to the oldest waiter, or a cancel that empties the line clears
//!   `QUEUED` and frees it. Several releasers may race to hand off; each
//!   hands off whatever is in the word when it holds the lock, so the
//!   later ones may find nothing to do.
//!
//! Outside these moments, with the list lock free: `QUEUED ⇔` someone waits,
//! and `QUEUED ⇒` no permit in the word.
//!
//! # Memory ordering
//!
//! For a `Mutex`, a permit carries the right to touch the data, so whoever
//! takes a permit must see every write of whoever gave it back. The fast
//! path takes with `Acquire` and gives back with `Release`. A permit handed
//! off travels through the list lock (released by the hand-off, acquired by
//! the waiter's next poll); and since the hand-off may hand on a permit that
//! *another* thread released, it reads the word with `Acquire` first. The
//! read-modify-writes that only flip `QUEUED` or subtract granted permits
//! can stay `Relaxed`: every read-modify-write continues the release
//! sequence of the `Release` before it, so a later `Acquire` still
//! synchronises with that releaser. The loom models in `loom_locks.rs`
//! check this: weakening the fast path's `Acquire` or `Release` to
//! `Relaxed` makes them report a data race on the mutex's data. (The
//! hand-off's `Acquire` read matters when one thread hands on a permit
//! that another released: a releaser slow to get the list lock, while the
//! line empties and refills and a second release lands in the word, then
//! hands on that second permit. That takes four parties, a cancel and
//! three preemptions: a model of it ran for many minutes without an end,
//! and with two preemptions it passes with this read `Relaxed` as well,
//! so there is none.)
//!
//! [`Semaphore`]: crate::Semaphore
//! [`Mutex`]: crate::Mutex

use std::task::{Context, Poll, Waker};

use spindle_runtime::observe::{note, wait_on, Label, WaitOn};

use crate::sync::{
    AtomicUsize, Mutex,
    Ordering::{Acquire, Relaxed, Release},
};
use crate::waiters::{lock, refresh_waker, wake, wake_all, WaiterList};

/// Bit 0 of the state word: the waiter list is not empty.
const QUEUED: usize = 1;
/// One permit in the state word (the count sits above `QUEUED`).
const ONE: usize = 2;
/// The most free permits a semaphore can hold. Only the free ones are
/// checked against it (as tokio does): the two bits spare above it leave
/// room in the word for the permits out on loan to come back.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

/// A FIFO counter of permits (see the module docs).
pub(crate) struct Permits {
    /// `permits << 1 | QUEUED`.
    state: AtomicUsize,
    /// Parked acquirers, oldest first. Non-empty ⇔ `QUEUED` is set (with
    /// this lock held).
    waiters: Mutex<WaiterList<Waker>>,
    /// The name in traces: `Mutex#1` or `Semaphore#2`.
    label: Label,
    /// What a parked acquirer waits on, for task dumps: `Mutex#1.lock`.
    waits: &'static WaitOn,
}

/// Where one acquirer is in its life; kept in its future.
#[derive(Debug)]
pub(crate) enum Waiter {
    /// Not polled yet.
    Init,
    /// Parked under this id: waiting while its entry is in the list, the
    /// owner of a permit once the entry is gone.
    Parked(u64),
    /// Returned `Ready`: its permit now belongs to the guard it returned.
    Done,
}

impl Permits {
    /// `permits` free permits, named `kind` in traces; a parked acquirer
    /// waits on `waits` (task dumps).
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`MAX_PERMITS`].
    #[track_caller]
    pub(crate) fn new(permits: usize, kind: &'static str, waits: &'static WaitOn) -> Permits {
        assert!(
            permits <= MAX_PERMITS,
            "a {kind} holds at most {MAX_PERMITS} permits, not {permits}"
        );
        Permits {
            state: AtomicUsize::new(permits * ONE),
            waiters: Mutex::new(WaiterList::new()),
            label: Label::new(kind),
            waits,
        }
    }

    /// Takes a permit if one is free and nobody waits: the fast path.
    #[inline]
    pub(crate) fn try_acquire(&self) -> bool {
        let mut state = self.state.load(Relaxed);
        loop {
            if state & QUEUED != 0 || state < ONE {
                return false;
            }
            match self
                .state
                .compare_exchange_weak(state, state - ONE, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    /// [`try_acquire`](Permits::try_acquire), noted in the trace when it
    /// succeeds: what `try_lock` and `Semaphore::try_acquire` call.
    #[inline]
    pub(crate) fn try_acquire_noted(&self) -> bool {
        let taken = self.try_acquire();
        if taken {
            note(&self.label, "acquired");
        }
        taken
    }

    /// Gives one permit back: to the oldest waiter if anyone waits.
    ///
    /// # Panics
    ///
    /// Only if the waker of the waiter it hands the permit to panics, after
    /// the hand-off is complete.
    #[inline]
    pub(crate) fn release(&self) {
        let before = self.state.fetch_add(ONE, Release);
        if before & QUEUED != 0 {
            self.hand_off();
        }
    }

    /// Adds `n` new permits, handing them to waiters first.
    ///
    /// # Panics
    ///
    /// If the free permits would exceed [`MAX_PERMITS`] (nothing is added
    /// then); or, after the permits are added, if a woken waiter's waker
    /// panics (every other one is still woken).
    #[track_caller]
    pub(crate) fn add(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut state = self.state.load(Relaxed);
        loop {
            let free = state >> 1;
            assert!(
                n <= MAX_PERMITS.saturating_sub(free),
                "adding {n} permits to the {free} free ones would exceed {MAX_PERMITS}"
            );
            match self
                .state
                .compare_exchange_weak(state, state + n * ONE, Release, Relaxed)
            {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        if state & QUEUED != 0 {
            self.hand_off();
        }
    }

    /// Free permits a `try_acquire` could take now: none while anyone
    /// waits, even if a released permit is on its way to that waiter.
    pub(crate) fn available(&self) -> usize {
        let state = self.state.load(Relaxed);
        if state & QUEUED != 0 {
            0
        } else {
            state >> 1
        }
    }

    /// A release found `QUEUED` set: give the permits in the word to the
    /// oldest waiters (see "hand off" in the module docs). Out of line: the
    /// fast path only pays for the test that leads here.
    #[cold]
    #[inline(never)]
    fn hand_off(&self) {
        let mut first = None;
        let mut rest = Vec::new();
        {
            let mut waiters = lock(&self.waiters);
            // `Acquire`: a permit handed on here may have been released by
            // another thread, whose writes its new owner must see.
            let state = self.state.load(Acquire);
            if state & QUEUED == 0 {
                // A cancel emptied the line first; the permits are free.
                return;
            }
            debug_assert!(!waiters.is_empty(), "QUEUED set with nobody in line");
            let mut free = state >> 1;
            let mut granted = 0;
            while free > 0 {
                let Some((_, waker)) = waiters.pop_front() else {
                    break;
                };
                free -= 1;
                granted += 1;
                // Usually one waiter is released; only an `add` of several
                // permits (or several releases at once) fills `rest`.
                match first {
                    None => first = Some(waker),
                    Some(_) => rest.push(waker),
                }
            }
            let emptied = if waiters.is_empty() { QUEUED } else { 0 };
            if granted > 0 || emptied != 0 {
                self.state.fetch_sub(granted * ONE + emptied, Relaxed);
            }
        }
        if first.is_some() {
            note(&self.label, "handed over");
        }
        if rest.is_empty() {
            wake(first);
        } else {
            wake_all(first.into_iter().chain(rest));
        }
    }

    /// Polls an acquirer: `Ready` once it owns a permit.
    ///
    /// # Panics
    ///
    /// If polled again after it returned `Ready`.
    #[inline]
    pub(crate) fn poll_acquire(&self, waiter: &mut Waiter, cx: &mut Context<'_>) -> Poll<()> {
        match *waiter {
            Waiter::Init if self.try_acquire() => self.acquired(waiter),
            Waiter::Init => self.park(waiter, cx),
            Waiter::Parked(id) => self.poll_parked(id, waiter, cx),
            Waiter::Done => panic!("a lock or acquire future was polled after it completed"),
        }
    }

    /// The acquirer owns a permit: `Ready`, noted in the trace.
    #[inline]
    fn acquired(&self, waiter: &mut Waiter) -> Poll<()> {
        *waiter = Waiter::Done;
        note(&self.label, "acquired");
        Poll::Ready(())
    }

    /// The fast path failed: take a permit that came back meanwhile, or
    /// join the line (see "acquire, park" in the module docs).
    #[cold]
    #[inline(never)]
    fn park(&self, waiter: &mut Waiter, cx: &mut Context<'_>) -> Poll<()> {
        let mut waiters = lock(&self.waiters);
        let mut state = self.state.load(Relaxed);
        loop {
            if state & QUEUED != 0 {
                break;
            }
            let (new, ordering) = if state >= ONE {
                // A permit came back and nobody is in line: it is ours.
                (state - ONE, Acquire)
            } else {
                // None free: announce that someone waits, then wait.
                (state | QUEUED, Relaxed)
            };
            match self
                .state
                .compare_exchange_weak(state, new, ordering, Relaxed)
            {
                Ok(_) if new & QUEUED != 0 => break,
                Ok(_) => {
                    drop(waiters);
                    return self.acquired(waiter);
                }
                Err(now) => state = now,
            }
        }
        let id = waiters.push(cx.waker().clone());
        drop(waiters);
        *waiter = Waiter::Parked(id);
        wait_on(self.waits, &self.label);
        Poll::Pending
    }

    /// A parked acquirer polled again: still in line, or handed a permit.
    fn poll_parked(&self, id: u64, waiter: &mut Waiter, cx: &mut Context<'_>) -> Poll<()> {
        let mut waiters = lock(&self.waiters);
        if let Some(waker) = waiters.get_mut(id) {
            // Still in line: a spurious poll. Keep the newest waker.
            refresh_waker(waker, cx.waker());
            drop(waiters);
            wait_on(self.waits, &self.label);
            return Poll::Pending;
        }
        drop(waiters);
        self.acquired(waiter)
    }

    /// An acquirer dropped before it returned `Ready`: leaves the line, or
    /// passes on the permit it was handed. A no-op unless it was parked.
    ///
    /// # Panics
    ///
    /// Only if the waker of the waiter it passes a permit to panics, after
    /// the permit is passed on (and not at all while a panic unwinds: see
    /// `waiters.rs`).
    #[inline]
    pub(crate) fn cancel(&self, waiter: &Waiter) {
        if let Waiter::Parked(id) = *waiter {
            self.cancel_parked(id);
        }
    }

    #[cold]
    fn cancel_parked(&self, id: u64) {
        let mut waiters = lock(&self.waiters);
        match waiters.remove(id) {
            Some(waker) => {
                if waiters.is_empty() {
                    // The line is empty: any permit in the word (a release
                    // on its way to hand it off) is free for the fast path.
                    self.state.fetch_and(!QUEUED, Relaxed);
                }
                drop(waiters);
                drop(waker);
            }
            None => {
                // Handed a permit we will not use: give it back, to the
                // next in line.
                drop(waiters);
                self.release();
            }
        }
    }

    /// Acquirers parked. For tests of cancellation.
    pub(crate) fn waiter_count(&self) -> usize {
        lock(&self.waiters).len()
    }
}
