//! A registered I/O source: what the reactor knows about one descriptor's
//! readiness, per direction, and the tasks waiting for it.
//!
//! # Edge-triggered readiness
//!
//! A descriptor is added to the poller once, **edge-triggered**, with
//! interest in both directions, and never touched again until it is
//! deleted. The poller then reports a *change*: new data arrived, room
//! appeared in the send buffer, the peer hung up. It does not report a
//! state, and it reports each change once. So the source must remember what
//! the events said, per direction ([`Direction`]):
//!
//! - **`ready`**: the kernel may have something for this direction. Every
//!   event of the direction sets it. Only an attempt that *saw* the kernel
//!   with nothing left clears it: one that failed with `WouldBlock`, or one
//!   whose result proves the same (the caller's `drained` test: a stream
//!   write that took fewer bytes than it was given found the send buffer
//!   full, `net/stream.rs`). A fresh source starts ready in both
//!   directions: nothing is known yet, so the first attempt is made.
//! - **`tick`**: the number of events of the direction so far, so an
//!   attempt can tell whether one came while it ran.
//! - **the waiters**: the tasks to wake at the next event.
//!
//! An operation ([`Source::poll_io`]) goes:
//!
//! ```text
//!   1. lock; not ready?  store the waker ──▶ Pending   (no syscall at all)
//!      ready: note the tick; unlock
//!   2. try the syscall (no lock held)
//!      done or failed ──▶ Ready(result)      (drained? clear `ready` as in 3)
//!   3. WouldBlock: lock; the tick moved? an event came during the attempt:
//!                                      go back to 1 and try again
//!      the tick did not move: clear `ready`, store the waker ──▶ Pending
//! ```
//!
//! and an event ([`Source::on_event`]): lock, set `ready`, add one to the
//! tick, take every waker of the direction; the reactor wakes them after
//! the lock is released.
//!
//! **The race, and why the tick settles it.** With edge-triggered events the
//! classic lost wakeup is this: the attempt fails with `WouldBlock`, data
//! arrives, the event is handled (`ready` set, nobody to wake yet), and only
//! then does the failed attempt clear `ready` and store its waker. The event
//! has been spent, no other will come for data already there, and the task
//! sleeps on a readable socket for ever. Step 3 compares the tick: the event
//! moved it, so the attempt does not clear what it did not see, and tries
//! again. The other orders are safe by the lock: an event handled before
//! step 1's look sets `ready`, so the attempt is made; one handled after
//! step 3 finds the waker stored and wakes it. The same comparison guards
//! the `drained` clear in step 2, so a short write never hides room that
//! appeared after it. (tokio's `ScheduledIo` carries the same tick in its
//! readiness word.)
//!
//! An attempt that *succeeds* leaves `ready` set, although the next one may
//! well find nothing: not knowing, it tries, and a `WouldBlock` then is the
//! price of not asking the kernel. What edge-triggered registration saves
//! is everything else: no `epoll_ctl` to re-arm interest after each event,
//! and no attempt at all while a direction is known not ready.
//!
//! The protocol runs across threads — a socket is `Send + Sync`, and a task
//! on another thread may attempt while the loop handles events — so the
//! state is behind the source's mutex, and the models in `loom_models.rs`
//! check it: they fail if step 3 or the drained clear skips the tick
//! comparison.
//!
//! # Many waiters per direction, all woken
//!
//! Several tasks may wait on one direction of one socket: two tasks
//! accepting on one listener, two receiving on one UDP socket. Each wait
//! started through [`Registration::io`] owns an entry in its direction's
//! list for as long as it lives, and gives it back when it ends or is
//! dropped. The operations of the `futures-io` traits (`poll_read`, ...),
//! which have no future to own an entry, share one slot per direction,
//! `polled`, that holds the waker of the last task to poll; the types that
//! use it take `&mut self` (or are one half of a split), so there is only
//! ever one such task per direction.
//!
//! An event wakes **every** waiter of its direction, as async-io does, not
//! one at a time. Waking one would be cheaper for a crowd of acceptors, but
//! a woken waiter that is dropped before it runs would take the wake with
//! it, unless its drop passed the wake on; waking all needs no such hand-off,
//! so a cancelled waiter can never strand the others. The herd is cheap
//! here: the first woken task takes the connection, the second finds
//! `WouldBlock` and clears `ready`, and every later one sees a direction
//! known not ready and waits again without a syscall.
//!
//! # Registration fences `Poller::add`
//!
//! `Poller::add` is `unsafe`: the descriptor must be deleted from the
//! poller before it is closed, or the poller could report events for a
//! different file that reuses the number. [`Registration`] owns the I/O
//! object, adds it on creation, and its `Drop` deletes it from the poller
//! *before* the object (and so the descriptor) is dropped.

use std::future::poll_fn;
use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::{Event, PollMode, Reactor};
use crate::sync::{Mutex, MutexGuard};
use crate::wait::SocketWaits;

/// Which readiness a task waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read = 0,
    Write = 1,
}

/// Where a waiting task keeps its waker (module doc, "Many waiters").
pub(crate) enum Waiter<'a> {
    /// The direction's one slot for the `poll_*` interface.
    Polled,
    /// An entry of the direction's list, owned by one wait: its index, once
    /// the wait has one.
    Entry(&'a mut Option<usize>),
}

/// One entry of a direction's list of waiters.
enum Entry {
    /// Free, on the free list.
    Vacant,
    /// Owned by a wait that has not stored a waker since the last event
    /// woke it (or since it took the entry).
    Idle,
    /// Owned by a wait that is parked: this waker is woken at the next event.
    Parked(Waker),
}

/// The state of one direction of a source (module doc), under the source's
/// lock.
///
/// # Invariant
///
/// While `ready` is set, nothing is parked: `polled` is `None` and no entry
/// is `Parked`. (Waiters park only when `ready` is clear, and the event that
/// sets it takes every waker.)
struct Side {
    /// The kernel may have something for this direction: set by each event,
    /// cleared only by an attempt that saw nothing left and began after the
    /// last event (`tick`).
    ready: bool,
    /// This direction's events so far. 64 bits never wrap, so an attempt
    /// that compares ticks cannot mistake many events for none.
    tick: u64,
    /// The waker of the last task that polled through the `poll_*`
    /// interface and parked, until an event takes it.
    polled: Option<Waker>,
    /// The entries of the waits in progress through `Registration::io`,
    /// each at the index its wait holds. It grows to the most waits ever in
    /// progress at once and is scanned whole at each event: a listener
    /// with a hundred acceptor tasks pays a hundred-entry scan per
    /// connection, and a stream (which waits through `polled`) none.
    entries: Vec<Entry>,
    /// Indices of `Vacant` entries, to reuse before growing `entries`.
    vacant: Vec<usize>,
}

impl Side {
    fn new() -> Side {
        Side {
            ready: true, // unknown yet: try first (module doc)
            tick: 0,
            polled: None,
            entries: Vec::new(),
            vacant: Vec::new(),
        }
    }

    /// Stores `waker` for `waiter`. Returns the waker it replaces (to be
    /// dropped after the lock is released: a waker's drop is user code).
    /// `parked` counts the reactor's waiters: one more when a waiter goes
    /// from not parked to parked.
    fn park(&mut self, waiter: Waiter<'_>, waker: &Waker, parked: &AtomicUsize) -> Option<Waker> {
        // Parking happens only on a direction not ready, and an event takes every
        // waker as it sets `ready`: so nothing is ever parked on a ready direction.
        debug_assert!(!self.ready, "a waiter parked on a direction that is ready");
        let slot = match waiter {
            Waiter::Polled => {
                return match &mut self.polled {
                    Some(current) if current.will_wake(waker) => None,
                    Some(current) => Some(mem::replace(current, waker.clone())),
                    None => {
                        parked.fetch_add(1, Ordering::Relaxed);
                        self.polled = Some(waker.clone());
                        None
                    }
                };
            }
            Waiter::Entry(index) => match *index {
                Some(index) => &mut self.entries[index],
                None => {
                    let taken = match self.vacant.pop() {
                        Some(vacant) => vacant,
                        None => {
                            self.entries.push(Entry::Vacant);
                            self.entries.len() - 1
                        }
                    };
                    *index = Some(taken);
                    &mut self.entries[taken]
                }
            },
        };
        match slot {
            Entry::Parked(current) if current.will_wake(waker) => None,
            Entry::Parked(current) => Some(mem::replace(current, waker.clone())),
            Entry::Idle | Entry::Vacant => {
                parked.fetch_add(1, Ordering::Relaxed);
                *slot = Entry::Parked(waker.clone());
                None
            }
        }
    }

    /// Sets `ready`, moves the tick, and takes every parked waker into
    /// `out` (the entries stay with their waits, now `Idle`).
    fn fire(&mut self, out: &mut Vec<Waker>) {
        self.ready = true;
        self.tick += 1;
        out.extend(self.polled.take());
        for entry in &mut self.entries {
            if let Entry::Parked(_) = entry {
                if let Entry::Parked(waker) = mem::replace(entry, Entry::Idle) {
                    out.push(waker);
                }
            }
        }
    }
}

/// The reactor's record of one registered descriptor.
pub(crate) struct Source {
    /// Its key in the reactor's slab, packed as `polling` carries it in
    /// events (`encode_key`).
    key: usize,
    /// Both directions, indexed by `Direction as usize`, under one lock: an
    /// event often concerns both (a hang-up), and the lock is uncontended
    /// unless another thread uses the socket.
    sides: Mutex<[Side; 2]>,
}

impl Source {
    pub(crate) fn new(key: usize) -> Source {
        Source {
            key,
            sides: Mutex::new([Side::new(), Side::new()]),
        }
    }

    pub(crate) fn key(&self) -> usize {
        self.key
    }

    fn lock(&self) -> MutexGuard<'_, [Side; 2]> {
        // No code that can panic runs under this lock but the Vec growth of
        // `park`; the state stays consistent either way.
        self.sides.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The number of parked waiters, over both directions (what the
    /// reactor's count loses when the source goes).
    pub(crate) fn waiter_count(&self) -> usize {
        let sides = self.lock();
        sides
            .iter()
            .map(|side| {
                usize::from(side.polled.is_some())
                    + side
                        .entries
                        .iter()
                        .filter(|e| matches!(e, Entry::Parked(_)))
                        .count()
            })
            .sum()
    }

    /// An event for this source (module doc): the ready directions are
    /// marked ready and their wakers move to `out`, for the reactor to wake
    /// once no lock is held.
    pub(crate) fn on_event(&self, readable: bool, writable: bool, out: &mut Vec<Waker>) {
        let mut sides = self.lock();
        if readable {
            sides[Direction::Read as usize].fire(out);
        }
        if writable {
            sides[Direction::Write as usize].fire(out);
        }
    }

    /// The protocol of the module doc: attempt `op` if `direction` may be
    /// ready, and park `waiter` with `waker` if it is not. `drained(&output)`
    /// says that a successful attempt saw the kernel run dry (a short
    /// stream read or write), which clears `ready` as `WouldBlock` does.
    /// `parked` is the reactor's count of parked waiters.
    pub(crate) fn poll_io<R>(
        &self,
        parked: &AtomicUsize,
        direction: Direction,
        mut waiter: Waiter<'_>,
        waker: &Waker,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        let side = direction as usize;
        let mut replaced = None;
        let poll = loop {
            // 1. Look: a direction known not ready is not attempted.
            let tick = {
                let mut sides = self.lock();
                if !sides[side].ready {
                    replaced = sides[side].park(reborrow(&mut waiter), waker, parked);
                    break Poll::Pending;
                }
                sides[side].tick
            };
            // 2. Attempt, without the lock.
            match op() {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                result => {
                    if matches!(&result, Ok(output) if drained(output)) {
                        let mut sides = self.lock();
                        if sides[side].tick == tick {
                            sides[side].ready = false;
                        }
                    }
                    break Poll::Ready(result);
                }
            }
            // 3. Not ready: clear what this attempt saw, unless an event came
            //    while it ran; then the attempt is stale, and we try again.
            let mut sides = self.lock();
            if sides[side].tick == tick {
                sides[side].ready = false;
                replaced = sides[side].park(reborrow(&mut waiter), waker, parked);
                break Poll::Pending;
            }
        };
        drop(replaced); // outside the lock: a waker's drop is user code
        poll
    }

    /// A wait through `Registration::io` ended or was dropped: its entry is
    /// free again, and its waker, if parked, is no longer counted.
    fn release(&self, parked: &AtomicUsize, direction: Direction, index: usize) {
        let entry = {
            let mut sides = self.lock();
            let side = &mut sides[direction as usize];
            side.vacant.push(index);
            mem::replace(&mut side.entries[index], Entry::Vacant)
        };
        if let Entry::Parked(waker) = entry {
            parked.fetch_sub(1, Ordering::Relaxed);
            drop(waker); // outside the lock
        }
    }
}

/// A shorter-lived copy of `waiter`, to use it again on the next pass of
/// `poll_io`'s loop.
fn reborrow<'a>(waiter: &'a mut Waiter<'_>) -> Waiter<'a> {
    match waiter {
        Waiter::Polled => Waiter::Polled,
        Waiter::Entry(index) => Waiter::Entry(index),
    }
}

/// An I/O object registered with a runtime's reactor.
///
/// # Invariant
///
/// `io`'s descriptor stays registered in `reactor`'s poller exactly as long
/// as this value lives: `new` adds it, `drop` deletes it before `io` closes.
pub(crate) struct Registration<T: AsFd> {
    io: T,
    source: Arc<Source>,
    reactor: Arc<Reactor>,
    /// What a task that must wait on this socket waits on (`wait.rs`).
    waits: SocketWaits,
}

impl<T: AsFd> Registration<T> {
    /// Registers `io` (which must already be in non-blocking mode) with
    /// `reactor`: edge-triggered, both directions, once and for all. The
    /// first registration creates the reactor's poller.
    ///
    /// # Errors
    ///
    /// If the poller cannot be created (too many open files), the reactor
    /// has no key left for it, or the poller refuses the descriptor.
    pub(crate) fn new(
        io: T,
        reactor: Arc<Reactor>,
        waits: SocketWaits,
    ) -> io::Result<Registration<T>> {
        let poller = reactor.poller()?;
        let source = reactor.insert(|key| Arc::new(Source::new(key)))?;
        let interest = Event::all(source.key());
        // SAFETY: `io` is owned by the Registration built below, whose Drop deletes the
        // descriptor from the poller before `io` is dropped (the type's invariant); on
        // error nothing was added.
        let added =
            unsafe { poller.add_with_mode(io.as_fd().as_raw_fd(), interest, PollMode::Edge) };
        if let Err(error) = added {
            reactor.remove(source.key());
            return Err(error);
        }
        Ok(Registration {
            io,
            source,
            reactor,
            waits,
        })
    }

    /// An operation in `direction` returned `Pending`: record what the task
    /// now waits on.
    fn waiting(&self, direction: Direction) {
        let on = match direction {
            Direction::Read => self.waits.read,
            Direction::Write => self.waits.write,
        };
        (self.waits.record)(on, self.io.as_fd().as_raw_fd() as u64);
    }

    pub(crate) fn get_ref(&self) -> &T {
        &self.io
    }

    /// The `poll_*` interface: runs the readiness protocol once for `op`
    /// (module doc), parking the task in `direction`'s `polled` slot.
    /// Errors other than `WouldBlock` are returned as they are.
    pub(crate) fn poll_io<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        let poll = self.source.poll_io(
            &self.reactor.waiters,
            direction,
            Waiter::Polled,
            cx.waker(),
            || op(&self.io),
            drained,
        );
        if poll.is_pending() {
            self.waiting(direction);
        }
        poll
    }

    /// A wait of its own: runs `op` until it does not fail with
    /// `WouldBlock`, waiting in an entry of `direction`'s list in between, so
    /// any number of tasks can wait on one direction at once.
    ///
    /// # Cancellation
    ///
    /// Dropping the future gives the entry back; the others were woken by
    /// the same events, so nothing is owed to anyone (module doc).
    pub(crate) async fn io<R>(
        &self,
        direction: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut wait = Wait {
            source: &self.source,
            parked: &self.reactor.waiters,
            direction,
            index: None,
        };
        poll_fn(|cx| {
            let poll = self.source.poll_io(
                wait.parked,
                direction,
                Waiter::Entry(&mut wait.index),
                cx.waker(),
                || op(&self.io),
                |_| false,
            );
            if poll.is_pending() {
                self.waiting(direction);
            }
            poll
        })
        .await
    }
}

/// The entry a wait through `Registration::io` holds, given back on drop.
struct Wait<'a> {
    source: &'a Source,
    parked: &'a AtomicUsize,
    direction: Direction,
    index: Option<usize>,
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(index) = self.index {
            self.source.release(self.parked, self.direction, index);
        }
    }
}

impl<T: AsFd> Drop for Registration<T> {
    fn drop(&mut self) {
        // First out of the slab, so the reactor stops looking at it; then out of the
        // poller, so no event can name the descriptor; `io` closes it afterwards.
        self.reactor.remove(self.source.key());
        if let Some(poller) = self.reactor.created_poller() {
            let _ = poller.delete(self.io.as_fd());
        }
    }
}

#[cfg(all(test, loom))]
mod loom_models;
