//! `Barrier`: `parties` tasks wait for each other, then all go on —
//! asyncio's `Barrier` (Python 3.11).
//!
//! Each task calls `barrier.wait().await`. The first `parties - 1` callers
//! of a *round* park; the last one to arrive *completes* the round: it
//! does not wait at all, and it releases the others, oldest first. Each
//! `wait` returns the caller's *arrival index*, `0..parties` in the order
//! the parties arrived, so exactly one party gets each number (asyncio's
//! idiom: the party with index 0, or the last, does the round's one-off
//! work). Then the barrier is empty again, ready for the next round.
//!
//! # The protocol
//!
//! The state, behind one lock, is the list of parties parked in the
//! current round plus the indices of released parties that have not been
//! polled since.
//!
//! - **wait, first poll**: if this arrival makes `parties`, complete the
//!   round: take every parked party out of the list, give each its index
//!   (arrival order: the list is in id order), unlock, wake them oldest
//!   first, and return `parties - 1`. Otherwise park and return `Pending`.
//! - **wait, later polls**: entry still parked: `Pending`. Entry gone: the
//!   round completed; take our index and return it. As elsewhere in this
//!   crate, the absence of the entry is the release, so nothing can undo
//!   it between the wake and the poll.
//! - **cancel**: a wait dropped while parked **un-arrives**: it leaves the
//!   list, so the round needs one more party, and the parties that arrive
//!   later take the indices after the ones still parked. A dropped wait
//!   had no effect. A wait dropped after its round completed (woken, not
//!   yet polled) cannot undo the round — the other parties are through —
//!   so it only drops its index.
//!
//! # What differs from asyncio
//!
//! asyncio's barrier *drains*: a task that arrives for the next round
//! while parties of the last one have not yet run waits until they have.
//! Here a completed round is over at once (the released parties already
//! own their indices), so the next round fills right away; the order and
//! indices are the same. And asyncio counts a cancelled waiter out by
//! lowering its arrival counter, while the indices it already gave out
//! stay: the next arrival gets an index a waiting party already has. Here
//! indices are given when the round completes, so they stay a permutation
//! of `0..parties`. There is no `abort`/`reset`
//! and no broken state: a party that gives up just leaves (which is what
//! makes `wait` cancel-safe), so nothing can break.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use spindle_runtime::observe::{note, wait_on, Arg, Label, WaitOn};

/// What a party waiting for the round to complete waits on: `Barrier#1.wait`.
static WAIT: WaitOn = WaitOn::new("Barrier", "wait", Arg::Object);

use crate::sync::Mutex;
use crate::waiters::{lock, refresh_waker, wake_all, IdQueue, WaiterList};

/// A meeting point for a fixed number of tasks, like asyncio's `Barrier`.
///
/// `Barrier` is `Send + Sync`. Share it by reference, or in an `Arc` (an
/// `Rc` on one thread) with tasks that must own it.
///
/// # Examples
///
/// ```
/// use spindle::{join, Barrier};
///
/// let barrier = Barrier::new(3);
/// let indices = futures_executor::block_on(async {
///     join!(barrier.wait(), barrier.wait(), barrier.wait()).await
/// });
/// // join! polls in order: the third completes the round.
/// assert_eq!(indices, (0, 1, 2));
/// ```
pub struct Barrier {
    state: Mutex<State>,
    parties: usize,
    /// The name in traces: `Barrier#1`.
    label: Label,
}

/// What the barrier's lock guards.
struct State {
    /// Parties parked in the current round, in arrival order. Always fewer
    /// than `parties`: the arrival that would make `parties` completes the
    /// round instead of parking.
    arrived: WaiterList<Waker>,
    /// The indices of parties released by a completed round that have not
    /// been polled (nor dropped) since, keyed by their ids.
    released: IdQueue<usize>,
}

impl Barrier {
    /// A barrier for `parties` tasks per round.
    ///
    /// # Panics
    ///
    /// If `parties` is 0 (asyncio raises `ValueError`): no round could
    /// ever complete. A barrier of 1 never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = spindle::Barrier::new(2);
    /// assert_eq!(barrier.parties(), 2);
    /// ```
    #[track_caller]
    pub fn new(parties: usize) -> Barrier {
        assert!(parties > 0, "a Barrier needs at least one party");
        Barrier {
            state: Mutex::new(State {
                arrived: WaiterList::new(),
                released: IdQueue::new(),
            }),
            parties,
            label: Label::new("Barrier"),
        }
    }

    /// Arrives at the barrier and waits for the round to complete; returns
    /// this party's arrival index in `0..parties`.
    ///
    /// The party that completes the round returns at once with
    /// `parties - 1`; the others are released oldest first.
    ///
    /// # Panics
    ///
    /// In the party that completes the round, only if the waker of a party
    /// it releases panics: every party is released and woken, and then the
    /// first such panic is raised again from its poll.
    ///
    /// # Cancellation
    ///
    /// Dropped while waiting, the party leaves: the round waits for one
    /// more arrival, as if this one had never come. Dropped after its round
    /// completed (woken, not yet polled), the round stays completed — the
    /// other parties are through — and only this party's index is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = spindle::Barrier::new(1);
    /// assert_eq!(futures_executor::block_on(barrier.wait()), 0);
    /// assert_eq!(futures_executor::block_on(barrier.wait()), 0); // next round
    /// ```
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            barrier: self,
            state: WaitState::Init,
        }
    }

    /// The number of tasks each round needs.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle::Barrier::new(4).parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// Parties parked in the current round: `0..parties`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle::Barrier::new(4).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        lock(&self.state).arrived.len()
    }

    /// Parked parties and released ones not yet polled. For tests of
    /// cancellation.
    #[doc(hidden)]
    pub fn waiter_count(&self) -> usize {
        let state = lock(&self.state);
        state.arrived.len() + state.released.len()
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &self.n_waiting())
            .finish()
    }
}

/// The future returned by [`Barrier::wait`]; its output is the arrival
/// index.
///
/// # Panics
///
/// As [`Barrier::wait`]; and polling it again after it returned panics.
///
/// # Cancellation
///
/// As [`Barrier::wait`]: dropped while waiting, the party leaves the round.
///
/// # Examples
///
/// ```
/// use spindle::barrier::{Barrier, Wait};
///
/// let barrier = Barrier::new(1);
/// let wait: Wait<'_> = barrier.wait();
/// assert_eq!(futures_executor::block_on(wait), 0);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Wait<'a> {
    barrier: &'a Barrier,
    state: WaitState,
}

/// Where a [`Wait`] is in its life.
enum WaitState {
    /// Not polled yet: has not arrived.
    Init,
    /// Parked under this id: waiting while the entry is in `arrived`,
    /// released (index in `released`) once it is gone.
    Parked(u64),
    /// Returned its index.
    Done,
}

impl Future for Wait<'_> {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let barrier = self.barrier;
        let mut state = lock(&barrier.state);
        match self.state {
            WaitState::Init if state.arrived.len() + 1 < barrier.parties => {
                let id = state.arrived.push(cx.waker().clone());
                drop(state);
                self.state = WaitState::Parked(id);
                note(&barrier.label, "arrived");
                wait_on(&WAIT, &barrier.label);
                Poll::Pending
            }
            WaitState::Init => {
                // The last arrival: release the round, oldest first, each
                // with its arrival index.
                let mut released = Vec::with_capacity(barrier.parties - 1);
                let mut index = 0;
                while let Some((id, waker)) = state.arrived.pop_front() {
                    state.released.push(id, index);
                    released.push(waker);
                    index += 1;
                }
                drop(state);
                self.state = WaitState::Done;
                note(&barrier.label, "round complete");
                wake_all(released);
                Poll::Ready(index)
            }
            WaitState::Parked(id) => {
                if let Some(waker) = state.arrived.get_mut(id) {
                    refresh_waker(waker, cx.waker());
                    drop(state);
                    wait_on(&WAIT, &barrier.label);
                    return Poll::Pending;
                }
                let index = state.released.remove(id);
                drop(state);
                let index = index.expect("a released party has an index");
                self.state = WaitState::Done;
                note(&barrier.label, "released");
                Poll::Ready(index)
            }
            WaitState::Done => panic!("`Wait` polled after it returned its index"),
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let WaitState::Parked(id) = self.state {
            let mut state = lock(&self.barrier.state);
            // Still parked: un-arrive. Released: forget the index.
            let waker = state.arrived.remove(id);
            state.released.remove(id);
            drop(state);
            drop(waker);
        }
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait").finish_non_exhaustive()
    }
}
