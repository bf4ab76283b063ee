//! A stand-in for `polling::Poller` where epoll cannot be used: a
//! mutex-and-condvar parker with the same `wait`/`notify` shape and no I/O
//! at all (registering a source fails with `Unsupported`).
//!
//! Two builds use it. **Miri** cannot emulate the timerfd that `polling`
//! creates; with this parker, waits and notifications work, which is all
//! the executor's `unsafe` code needs. **loom** must see every way a thread
//! can block, and a thread asleep in `epoll_wait` is invisible to it; on
//! loom's mutex and condition variable (`sync.rs`), a notification that
//! never comes shows up as a deadlock, which is how the models of
//! `mailbox/loom_models.rs` catch a lost wake. Its notification is sticky,
//! like `polling`'s: a `notify` before `wait` makes that `wait` return at
//! once.

use std::io;
use std::time::Duration;

use crate::sync::{Condvar, Mutex};

pub(crate) use polling::{Event, PollMode};

/// The events buffer: always empty, there is no I/O here.
#[derive(Default)]
pub(crate) struct Events;

impl Events {
    pub(crate) fn new() -> Events {
        Events
    }
    pub(crate) fn clear(&mut self) {}
    pub(crate) fn len(&self) -> usize {
        0
    }
    pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        std::iter::empty()
    }
}

pub(crate) struct Poller {
    notified: Mutex<bool>,
    condvar: Condvar,
}

impl Poller {
    pub(crate) fn new() -> io::Result<Poller> {
        Ok(Poller {
            notified: Mutex::new(false),
            condvar: Condvar::new(),
        })
    }

    pub(crate) fn notify(&self) -> io::Result<()> {
        *self.notified.lock().unwrap() = true;
        self.condvar.notify_one();
        Ok(())
    }

    pub(crate) fn wait(
        &self,
        _events: &mut Events,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let mut notified = self.notified.lock().unwrap();
        if !*notified {
            notified = match timeout {
                Some(Duration::ZERO) => notified,
                Some(timeout) => self.condvar.wait_timeout(notified, timeout).unwrap().0,
                None => self.condvar.wait(notified).unwrap(),
            };
        }
        *notified = false;
        Ok(0)
    }

    /// # Safety
    ///
    /// None needed: nothing is registered. `unsafe` only to match `polling`.
    pub(crate) unsafe fn add_with_mode(
        &self,
        _fd: std::os::fd::RawFd,
        _event: Event,
        _mode: PollMode,
    ) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "sockets are not available under Miri",
        ))
    }

    pub(crate) fn delete(&self, _fd: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
        Ok(())
    }
}
