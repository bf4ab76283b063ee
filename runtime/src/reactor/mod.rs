//! The reactor: the loop's one blocking point, on the `polling` crate.
//!
//! The loop calls [`Reactor::wait`] with a timeout: zero when tasks are ready
//! (just look), the time until the next timer deadline when none are, or
//! forever when there is nothing else to wait for. `polling` puts the thread
//! to sleep in `epoll_wait` (kqueue, IOCP, ... elsewhere) and arms a timerfd
//! on Linux for the exact deadline, so sub-millisecond waits work; until the
//! poller is needed, the loop sleeps on a condition variable instead
//! ("Created when needed", below). Two things end a wait early:
//!
//! - **I/O readiness** of a registered [`Source`]: its waiting tasks are woken;
//! - **a notification** from another thread ([`Reactor::notify`]): a wake or a
//!   spawn arrived in the mailbox. `polling` coalesces notifications, and the
//!   executor only sends one while the loop is asleep.
//!
//! # Edge-triggered registration
//!
//! Each descriptor is added once, edge-triggered, for both directions, and
//! the poller is not told anything more until the descriptor is deleted: no
//! `epoll_ctl` per wait. The price is bookkeeping, since an edge is reported
//! once: each source remembers per direction whether it may be ready, and
//! wakes every task waiting on a direction when its event comes.
//! `source.rs` has the protocol, and the race it must settle.
//!
//! # Created when needed
//!
//! On Linux a poller costs ten syscalls (an epoll, an eventfd for
//! notifications and a timerfd for deadlines, their registrations, and
//! their closing), far more than the rest of a `spindle::run(async {})`
//! put together, and a runtime that never touches a socket and never waits
//! for a deadline does not need one. So the poller is made on first need,
//! always on the loop's thread:
//!
//! - when the first socket registers ([`Registration::new`]);
//! - when the loop is about to wait with a deadline (a timer in real time):
//!   the timerfd is exact, where a condition variable's timeout would be
//!   late by up to Linux's default timer slack of 50 µs.
//!
//! Until then, a wait with no deadline — only another thread can end it: a
//! `to_thread` job, a wake or a spawn through a `Handle` — parks on a
//! condition variable ([`Parker`], `parker.rs`): a futex wait and a futex
//! wake, against the five syscalls of a `Poller::wait` plus the eventfd
//! write that notifies it. Once the poller exists, every wait is in the
//! poller.
//!
//! Other threads only ever *notify* ([`Reactor::notify`]): the poller if
//! there is one, the parker if not. That choice is right only because of
//! an order the sleep handshake keeps: the loop creates the poller
//! *before* it announces that it will sleep, so a thread that sees the
//! announcement also sees the poller the loop will wait in (`mailbox.rs`
//! has the argument, and its loom models fail if the order is swapped).
//!
//! # Keys and stale events
//!
//! Sources live in a generational slab (`slab.rs`), and `polling` carries
//! each one's slab key in its `usize` event key, packed by [`encode_key`]:
//! the index in the low half, the generation in the high half. An event
//! whose key no longer names a live source (the source was dropped and its
//! slot reused while the event was in flight) is ignored.
//!
//! On 64-bit targets the halves are 32 bits, the whole of a slab key (less
//! one index: see [`MAX_INDEX`]). On 32-bit targets they are 16 bits each, so
//! the reactor's slab is made with limits that fit: 65,535 sources at once
//! (registering one more is an error), and a slot retires after 65,536
//! registrations, so a 32-bit process can register about 2^32 sources in its
//! life before registration fails for good. That is the slab's one wrap
//! policy, retiring, at 16 bits. A runtime that must serve for ever on 32-bit
//! targets would key events by something that cannot run out, such as the
//! address of the source's record, as tokio's I/O driver does.
//!
//! # Under Miri and loom
//!
//! Miri cannot emulate the timerfd that `polling` creates, and loom cannot
//! see a thread asleep in `epoll_wait`, so in those builds the poller is a
//! condition variable instead (`parker.rs`): waits and notifications work,
//! registering I/O returns `Unsupported`. That is enough for Miri to check
//! all of the executor's `unsafe` code, and for loom to check the sleep
//! handshake with the real reactor.
//!
//! # Wakers are woken outside locks
//!
//! `wait` collects the wakers of every ready source while holding each
//! source's lock, releases the locks, and only then wakes them (as async-io's
//! `react()` does): a waker may run arbitrary code, including code that
//! locks the same source.

mod parker;
mod source;

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

use crate::report::wake_on_loop;
use crate::slab::{Key, Slab};
use crate::sync::OnceLock;

#[cfg(any(miri, all(test, loom)))]
use parker::stand_in::{Event, Events, PollMode, Poller};
#[cfg(not(any(miri, all(test, loom))))]
use polling::{Event, Events, PollMode, Poller};

use parker::Parker;
use source::Source;
pub(crate) use source::{Direction, Registration};

/// One runtime's reactor (shared with the I/O objects registered in it,
/// which may live on other threads).
pub(crate) struct Reactor {
    /// `polling`'s poller (a condition variable under Miri and loom) and
    /// the buffer its waits receive events in; made on first need (module
    /// doc, "Created when needed").
    driver: OnceLock<Driver>,
    /// Where the loop waits while it has no poller, for another thread to
    /// notify it (module doc).
    parker: Parker,
    /// Every registered source, by key; events name them by
    /// [`encode_key`]'s packing of that key.
    sources: Mutex<Slab<Arc<Source>>>,
    /// Wakers currently parked in sources, over all directions. The loop
    /// skips the non-blocking check of the reactor when this is zero.
    waiters: AtomicUsize,
}

/// What the reactor creates on first need.
struct Driver {
    /// epoll, kqueue, ...
    poller: Poller,
    /// What `wait` works in, kept to reuse the allocations.
    dispatch: Mutex<Dispatch>,
}

/// The buffers of one `wait`; only `wait` locks them.
struct Dispatch {
    /// The events the poller reports.
    events: Events,
    /// The wakers of the ready sources, woken once the sources' locks are
    /// released.
    wakers: Vec<Waker>,
}

/// Bits of an event key that hold the slab index: the low half. On 64-bit
/// targets 32 bits of index are more than the open-file limit of any process.
const INDEX_BITS: u32 = usize::BITS / 2;

/// All ones in the low `bits` bits (`bits` ≤ 32).
const fn low_ones(bits: u32) -> u32 {
    u32::MAX >> (u32::BITS - bits)
}

/// The highest index the reactor's slab hands out: all ones in the index
/// half but one. With every bit set, the key of the last generation would
/// pack into `usize::MAX`, which `polling` reserves for its notifications.
const MAX_INDEX: u32 = low_ones(INDEX_BITS) - 1;

/// The highest generation the reactor's slab hands out: all ones in the
/// high half, so the generation survives the packing whole.
const MAX_GENERATION: u32 = low_ones(usize::BITS - INDEX_BITS);

/// Packs a slab key into `polling`'s event key: `index | generation <<
/// INDEX_BITS`. The one place a key becomes a `usize`; [`decode_key`] is its
/// inverse. Nothing is lost, because the reactor's slab never hands out a
/// key beyond [`MAX_INDEX`] and [`MAX_GENERATION`].
fn encode_key(key: Key) -> usize {
    let event_key = key.index() as usize | (key.generation() as usize) << INDEX_BITS;
    debug_assert_eq!(
        decode_key(event_key),
        key,
        "{key:?} does not fit in an event key"
    );
    event_key
}

/// The slab key packed into an event key by [`encode_key`].
fn decode_key(event_key: usize) -> Key {
    // `as u32` keeps the low 32 bits; each half holds at most 32.
    Key::from_parts(
        (event_key & low_ones(INDEX_BITS) as usize) as u32,
        (event_key >> INDEX_BITS) as u32,
    )
}

impl Reactor {
    /// A reactor with no poller yet: creating it costs no syscall.
    pub(crate) fn new() -> Reactor {
        Reactor {
            driver: OnceLock::new(),
            parker: Parker::new(),
            sources: Mutex::new(Slab::with_limits(MAX_INDEX, MAX_GENERATION)),
            waiters: AtomicUsize::new(0),
        }
    }

    /// The poller, created now if this is its first use (module doc).
    /// Called on the loop's thread only: by a registering socket, and by the
    /// sleep handshake before it announces a sleep with a deadline. (That
    /// only the loop creates it is what lets a notifier trust what it sees:
    /// the poller cannot appear while the loop is asleep.)
    ///
    /// # Errors
    ///
    /// When the operating system refuses it, as when the process has no
    /// file descriptor left.
    pub(crate) fn poller(&self) -> io::Result<&Poller> {
        Ok(&self.driver()?.poller)
    }

    fn driver(&self) -> io::Result<&Driver> {
        if let Some(driver) = self.driver.get() {
            return Ok(driver);
        }
        let driver = Driver {
            poller: Poller::new()?,
            dispatch: Mutex::new(Dispatch {
                events: Events::new(),
                wakers: Vec::new(),
            }),
        };
        // Only the loop's thread creates, so `set` cannot lose a race; if it
        // ever did, the other driver is as good as ours, which drops here.
        let _ = self.driver.set(driver);
        Ok(self.driver.get().expect("the driver was just set"))
    }

    /// The poller if it was created, without creating it.
    pub(crate) fn created_poller(&self) -> Option<&Poller> {
        self.driver.get().map(|driver| &driver.poller)
    }

    /// Rouses a `wait` in progress (or makes the next one return at once):
    /// the poller's if there is one, the parker's if not. The loop waits in
    /// the poller whenever one exists, and creates it before it announces a
    /// sleep, which a caller only notifies after seeing (module doc,
    /// `mailbox.rs`): so both sides choose the same.
    pub(crate) fn notify(&self) {
        match self.created_poller() {
            // An error here means the eventfd is broken; the loop will still wake at
            // its next deadline, and there is nobody to report it to on this thread.
            Some(poller) => drop(poller.notify()),
            None => self.parker.unpark(),
        }
    }

    pub(crate) fn has_waiters(&self) -> bool {
        self.waiters.load(Ordering::Relaxed) > 0
    }

    /// Blocks until I/O readiness, a notification or the timeout, then wakes
    /// the tasks waiting on the ready sources. Returns the number of events.
    /// Without a poller it waits on the parker, for a notification only.
    ///
    /// # Panics
    ///
    /// If the poller fails: the loop cannot wait, and spinning instead would
    /// hide it.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> usize {
        let Some(driver) = self.driver.get() else {
            // No poller: no socket was ever registered, so there is no I/O to look
            // at, only a notification to wait for. (The handshake creates the
            // poller before a wait with a deadline, so `timeout` is `None` or zero
            // here; a deadline would still be kept, only less exactly.)
            self.parker.park(timeout);
            return 0;
        };
        let mut dispatch = driver.dispatch.lock().unwrap_or_else(|e| e.into_inner());
        let Dispatch { events, wakers } = &mut *dispatch;
        events.clear();
        if let Err(error) = driver.poller.wait(events, timeout) {
            // A failing epoll_wait is unrecoverable for the loop; say so plainly
            // instead of spinning.
            panic!("spindle: the reactor's poller failed: {error}");
        }
        let count = events.len();
        {
            let sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
            for event in events.iter() {
                if let Some(source) = sources.get(decode_key(event.key)) {
                    source.on_event(event.readable, event.writable, wakers);
                }
            }
        }
        self.waiters.fetch_sub(wakers.len(), Ordering::Relaxed);
        // The sources' locks are released; `dispatch` is still held, but only
        // `wait`, on this thread, ever takes it.
        for waker in wakers.drain(..) {
            wake_on_loop(waker, "an I/O wait whose source became ready");
        }
        count
    }

    /// Allocates a key and records the source that `make` builds with it,
    /// given as its event key.
    ///
    /// # Errors
    ///
    /// If the slab has no key left (module docs): only conceivable on 32-bit
    /// targets.
    fn insert(&self, make: impl FnOnce(usize) -> Arc<Source>) -> io::Result<Arc<Source>> {
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        let key = sources.vacant_key().ok_or_else(|| {
            io::Error::other("spindle's reactor has no key left for another I/O source")
        })?;
        let source = make(encode_key(key));
        let inserted = sources.insert(source.clone());
        debug_assert_eq!(inserted, key, "vacant_key did not predict the key");
        Ok(source)
    }

    /// Forgets the source under `event_key` (its registration was deleted).
    fn remove(&self, event_key: usize) {
        let removed = {
            let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
            sources.remove(decode_key(event_key))
        };
        if let Some(source) = removed {
            self.waiters
                .fetch_sub(source.waiter_count(), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Event keys round-trip at every corner of the reactor's key space, and
    /// the two halves tile the `usize` exactly.
    #[test]
    fn event_keys_round_trip_at_the_limits() {
        for index in [0, 1, MAX_INDEX - 1, MAX_INDEX] {
            for generation in [0, 1, MAX_GENERATION - 1, MAX_GENERATION] {
                let key = Key::from_parts(index, generation);
                assert_eq!(decode_key(encode_key(key)), key);
            }
        }
        let index_half = encode_key(Key::from_parts(MAX_INDEX, 0)) | 1;
        let generation_half = encode_key(Key::from_parts(0, MAX_GENERATION));
        assert_eq!(index_half & generation_half, 0, "the halves overlap");
        assert_eq!(index_half | generation_half, usize::MAX, "a bit is unused");
        assert_eq!(index_half.count_ones(), INDEX_BITS);
    }

    /// No key the slab can hand out packs into `usize::MAX`, which `polling`
    /// refuses.
    #[test]
    fn no_key_packs_into_pollings_reserved_key() {
        let last = Key::from_parts(MAX_INDEX, MAX_GENERATION);
        assert_ne!(encode_key(last), usize::MAX);
        assert_eq!(encode_key(last), usize::MAX - 1, "the largest event key");
    }

    /// The limits are what the module docs promise for this target.
    #[test]
    fn the_limits_match_the_pointer_width() {
        let (index, generation) = if cfg!(target_pointer_width = "64") {
            (u32::MAX - 1, u32::MAX)
        } else {
            (u16::MAX as u32 - 1, u16::MAX as u32)
        };
        assert_eq!((MAX_INDEX, MAX_GENERATION), (index, generation));
    }
}
