//! A stand-in for `polling::Poller` under Miri, which cannot emulate the
//! timerfd `polling` creates: a mutex-and-condvar parker with the same
//! `wait`/`notify` shape and no I/O at all (registering a source fails with
//! `Unsupported`). Only compiled under `cfg(miri)`.

use std::io;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

pub(crate) use polling::Event;

/// The events buffer: always empty, there is no I/O under Miri.
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
    pub(crate) unsafe fn add(&self, _fd: std::os::fd::RawFd, _event: Event) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "sockets are not available under Miri",
        ))
    }

    pub(crate) fn modify(&self, _fd: std::os::fd::BorrowedFd<'_>, _event: Event) -> io::Result<()> {
        Ok(())
    }

    pub(crate) fn delete(&self, _fd: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
        Ok(())
    }
}
