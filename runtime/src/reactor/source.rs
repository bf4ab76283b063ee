//! A registered I/O source: the owner of one `Poller::add`, and the wakers
//! of the tasks waiting for it to become readable or writable.
//!
//! `Poller::add` is `unsafe`: the file descriptor must be deleted from the
//! poller before it is closed, or the poller could report events for a
//! different file that reuses the number. [`Registration`] fences that: it
//! owns the I/O object, adds it on creation, and its `Drop` deletes it from
//! the poller *before* the object (and so the descriptor) is dropped.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use polling::Event;

use super::Poller;

use super::Reactor;

/// Which readiness a task waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read = 0,
    Write = 1,
}

/// The reactor's record of one registered descriptor.
pub(crate) struct Source {
    /// Its key in the reactor's slab, packed as `polling` carries it in
    /// events (`encode_key`).
    key: usize,
    /// # Invariant
    ///
    /// Open for as long as this `Source` is in the reactor's slab: the owning
    /// [`Registration`] removes it from the slab before closing the descriptor.
    fd: RawFd,
    /// The waiting task per direction. At most one per direction: the I/O
    /// types take `&mut self` for reads and writes.
    wakers: Mutex<[Option<Waker>; 2]>,
}

impl Source {
    fn interest(&self, wakers: &[Option<Waker>; 2]) -> Event {
        let mut event = Event::none(self.key);
        event.readable = wakers[Direction::Read as usize].is_some();
        event.writable = wakers[Direction::Write as usize].is_some();
        event
    }

    fn fd(&self) -> BorrowedFd<'_> {
        // Two callers. The reactor's `wait` reaches a Source only through the
        // slab while it holds the `Reactor::sources` lock; `Registration::drop`
        // takes that same lock to remove the Source before `io` closes the
        // descriptor, so it is open for the whole time the lock is held.
        // `register` is called through a live `Registration`, whose `io` owns
        // the open descriptor.
        // SAFETY: the field's invariant, kept by that lock (see above).
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }

    pub(crate) fn waiter_count(&self) -> usize {
        self.wakers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .flatten()
            .count()
    }

    /// Called by the reactor for an event on this source: takes the wakers of
    /// the ready directions, and re-arms interest for any direction still
    /// waiting (the oneshot event disarmed them all).
    pub(super) fn take_ready_wakers(&self, poller: &Poller, event: Event, out: &mut Vec<Waker>) {
        let mut wakers = self.wakers.lock().unwrap_or_else(|e| e.into_inner());
        if event.readable {
            out.extend(wakers[Direction::Read as usize].take());
        }
        if event.writable {
            out.extend(wakers[Direction::Write as usize].take());
        }
        let rest = self.interest(&wakers);
        if rest.readable || rest.writable {
            // If this fails the descriptor is broken; the waiting task finds out on its
            // next attempt, so wake it now rather than leaving it parked forever.
            if poller.modify(self.fd(), rest).is_err() {
                out.extend(wakers.iter_mut().filter_map(Option::take));
            }
        }
    }
}

/// An I/O object registered with the current runtime's reactor.
///
/// # Invariant
///
/// `io`'s descriptor stays registered in `reactor`'s poller exactly as long
/// as this value lives: `new` adds it, `drop` deletes it before `io` closes.
pub(crate) struct Registration<T: AsFd> {
    io: T,
    source: Arc<Source>,
    reactor: Arc<Reactor>,
}

impl<T: AsFd> Registration<T> {
    /// Registers `io` (which must already be in non-blocking mode) with
    /// `reactor`, with no interest yet.
    ///
    /// # Errors
    ///
    /// If the reactor has no key left for it, or the poller refuses the
    /// descriptor.
    pub(crate) fn new(io: T, reactor: Arc<Reactor>) -> io::Result<Registration<T>> {
        let fd = io.as_fd().as_raw_fd();
        let source = reactor.insert(|key| {
            Arc::new(Source {
                key,
                fd,
                wakers: Mutex::new([None, None]),
            })
        })?;
        // SAFETY: `io` is owned by the Registration built below, whose Drop deletes the
        // descriptor from the poller before `io` is dropped (the type's invariant); on
        // error nothing was added.
        if let Err(error) = unsafe { reactor.poller.add(fd, Event::none(source.key)) } {
            reactor.remove(source.key);
            return Err(error);
        }
        Ok(Registration {
            io,
            source,
            reactor,
        })
    }

    pub(crate) fn get_ref(&self) -> &T {
        &self.io
    }

    /// Runs a non-blocking operation; on `WouldBlock` it stores the task's
    /// waker for `direction`, re-arms interest and returns `Pending`. Every
    /// other result, including errors, is returned as it is.
    pub(crate) fn poll_io<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            match op(&self.io) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                result => return Poll::Ready(result),
            }
            return match self.register(direction, cx.waker()) {
                Ok(()) => Poll::Pending,
                Err(error) => Poll::Ready(Err(error)),
            };
        }
    }

    /// Stores `waker` for `direction` and re-arms the oneshot interest. The
    /// re-arm reports readiness that arrived since the failed attempt, so no
    /// wake is lost (module doc of `reactor`).
    fn register(&self, direction: Direction, waker: &Waker) -> io::Result<()> {
        let source = &self.source;
        let mut wakers = source.wakers.lock().unwrap_or_else(|e| e.into_inner());
        let slot = &mut wakers[direction as usize];
        match slot {
            Some(current) if current.will_wake(waker) => {}
            Some(current) => current.clone_from(waker),
            None => {
                *slot = Some(waker.clone());
                self.reactor.waiters.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.reactor
            .poller
            .modify(source.fd(), source.interest(&wakers))
    }
}

impl<T: AsFd> Drop for Registration<T> {
    fn drop(&mut self) {
        // First out of the slab, so the reactor stops looking at it; then out of the
        // poller, so no event can name the descriptor; `io` closes it afterwards.
        self.reactor.remove(self.source.key);
        let _ = self.reactor.poller.delete(self.io.as_fd());
    }
}
