//! The reactor: the loop's one blocking point, on the `polling` crate.
//!
//! The loop calls [`Reactor::wait`] with a timeout: zero when tasks are ready
//! (just look), the time until the next timer deadline when none are, or
//! forever when there is nothing else to wait for. `polling` puts the thread
//! to sleep in `epoll_wait` (kqueue, IOCP, ... elsewhere) and arms a timerfd
//! on Linux for the exact deadline, so sub-millisecond waits work. Two things
//! end a wait early:
//!
//! - **I/O readiness** of a registered [`Source`]: its waiting tasks are woken;
//! - **a notification** from another thread ([`Reactor::notify`]): a wake or a
//!   spawn arrived in the mailbox. `polling` coalesces notifications, and the
//!   executor only sends one while the loop is asleep.
//!
//! # Oneshot interest
//!
//! Sources are registered in `polling`'s default *oneshot* mode: an event
//! disarms the source until interest is set again. A task that finds a
//! socket not ready (`WouldBlock`) goes through [`Registration::poll_io`], which stores
//! its waker and re-arms the interest with one `epoll_ctl`. Re-arming checks
//! the current readiness (epoll is level-triggered at that moment), so a
//! readiness change between the `WouldBlock` and the re-arm is not lost.
//! Oneshot keeps the reactor simple to reason about: an event always belongs
//! to a waker someone registered after their last failed attempt, so there
//! is no stale readiness to filter on the task side. The cost is one
//! `epoll_ctl` per wait; edge-triggered mode saves it but needs per-source
//! readiness bookkeeping (tokio's `ScheduledIo` ticks). See `net/mod.rs` for
//! the syscall count per round trip.
//!
//! # Keys and stale events
//!
//! Each registration gets a key: its slab index plus a generation in the
//! upper bits. An event whose key no longer names a live source (the source
//! was dropped and its slot reused while the event was in flight) is
//! ignored.
//!
//! # Under Miri
//!
//! Miri cannot emulate the timerfd that `polling` creates, so under
//! `cfg(miri)` the reactor is a condition variable instead (`miri_parker.rs`):
//! waits and notifications work, registering I/O returns `Unsupported`.
//! That is enough for Miri to check all of the executor's `unsafe` code.
//!
//! # Wakers are woken outside locks
//!
//! `wait` collects the wakers of every ready source while holding each
//! source's lock, releases the locks, and only then wakes them (as async-io's
//! `react()` does): a waker may run arbitrary code, including code that
//! locks the same source.

#[cfg(miri)]
mod miri_parker;
mod source;

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

use crate::report::wake_on_loop;

#[cfg(miri)]
use miri_parker::{Events, Poller};
#[cfg(not(miri))]
use polling::{Events, Poller};

pub(crate) use source::{Direction, Registration, Source};

/// Registered sources, by slab index.
#[derive(Default)]
struct Sources {
    slots: Vec<(u32, Option<Arc<Source>>)>,
    free: Vec<usize>,
}

/// One runtime's reactor (shared with the I/O objects registered in it,
/// which may live on other threads).
pub(crate) struct Reactor {
    poller: Poller,
    sources: Mutex<Sources>,
    events: Mutex<Events>,
    /// Wakers currently stored in sources, over all directions. The loop
    /// skips the non-blocking check of the reactor when this is zero.
    waiters: AtomicUsize,
}

/// Keys are `index | generation << INDEX_BITS`, half the bits each: on 64-bit
/// targets 32 bits of index are more than the open-file limit of any process.
const INDEX_BITS: u32 = usize::BITS / 2;
/// Generations wrap within the bits the key has for them (all 32 of a
/// `u32` on 64-bit targets, 16 on 32-bit ones), so a decoded generation
/// always compares equal to the stored one.
const GENERATION_MASK: u32 = u32::MAX >> (32 - (usize::BITS - INDEX_BITS));

/// A key's slab index and generation (the inverse of `Reactor::insert`'s
/// `index | generation << INDEX_BITS`).
fn split_key(key: usize) -> (usize, u32) {
    // `as` keeps the low bits, which is all the key stores.
    (key & ((1 << INDEX_BITS) - 1), (key >> INDEX_BITS) as u32)
}

impl Reactor {
    pub(crate) fn new() -> io::Result<Reactor> {
        Ok(Reactor {
            poller: Poller::new()?,
            sources: Mutex::new(Sources::default()),
            events: Mutex::new(Events::new()),
            waiters: AtomicUsize::new(0),
        })
    }

    /// Rouses a `wait` in progress (or makes the next one return at once).
    pub(crate) fn notify(&self) {
        // An error here means the eventfd is broken; the loop will still wake at
        // its next deadline, and there is nobody to report it to on this thread.
        let _ = self.poller.notify();
    }

    pub(crate) fn has_waiters(&self) -> bool {
        self.waiters.load(Ordering::Relaxed) > 0
    }

    /// Blocks until I/O readiness, a notification or the timeout, then wakes
    /// the tasks waiting on the ready sources. Returns the number of events.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> usize {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        events.clear();
        if let Err(error) = self.poller.wait(&mut events, timeout) {
            // A failing epoll_wait is unrecoverable for the loop; say so plainly
            // instead of spinning.
            panic!("spindle: the reactor's poller failed: {error}");
        }
        let count = events.len();
        let mut wakers: Vec<Waker> = Vec::new();
        {
            let sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
            for event in events.iter() {
                let (index, generation) = split_key(event.key);
                if let Some((slot_generation, Some(source))) = sources.slots.get(index) {
                    if *slot_generation == generation {
                        source.take_ready_wakers(&self.poller, event, &mut wakers);
                    }
                }
            }
        }
        drop(events);
        self.waiters.fetch_sub(wakers.len(), Ordering::Relaxed);
        for waker in wakers {
            wake_on_loop(waker, "an I/O wait whose source became ready");
        }
        count
    }

    /// Allocates a key and records the source under it.
    fn insert(&self, make: impl FnOnce(usize) -> Arc<Source>) -> Arc<Source> {
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        let index = match sources.free.pop() {
            Some(index) => index,
            None => {
                sources.slots.push((0, None));
                sources.slots.len() - 1
            }
        };
        let generation = sources.slots[index].0;
        let source = make(index | (generation as usize) << INDEX_BITS);
        sources.slots[index].1 = Some(source.clone());
        source
    }

    /// Forgets the source under `key` (its registration was deleted).
    fn remove(&self, key: usize) {
        let (index, _) = split_key(key);
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        let (generation, slot) = &mut sources.slots[index];
        if let Some(source) = slot.take() {
            self.waiters
                .fetch_sub(source.waiter_count(), Ordering::Relaxed);
        }
        *generation = generation.wrapping_add(1) & GENERATION_MASK;
        sources.free.push(index);
    }
}
