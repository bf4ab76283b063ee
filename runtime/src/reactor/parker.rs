//! The [`Parker`]: how the loop sleeps when it has no poller, and the
//! stand-in for `polling::Poller` where epoll cannot be used.
//!
//! A parker is a flag under a mutex and a condition variable: `park` waits
//! until the flag is set and clears it, `unpark` sets it and signals. The
//! flag makes the notification sticky, as `polling`'s is: an `unpark`
//! before `park` makes that `park` return at once.
//!
//! **In every build** the reactor keeps one, for the loop to wait on while it
//! has no poller: a runtime that has registered no socket and waits for
//! another thread (a `to_thread` job, a wake from a `Handle`) parks here,
//! for a futex wait and a futex wake, instead of creating an epoll
//! instance, an eventfd and a timerfd for one wait (module doc of
//! `reactor`, "Created when needed").
//!
//! **Under Miri and loom** it also stands in for the poller itself. Miri
//! cannot emulate the timerfd that `polling` creates; with this parker,
//! waits and notifications work, which is all the executor's `unsafe` code
//! needs, and registering a source fails with `Unsupported`. loom must see
//! every way a thread can block, and a thread asleep in `epoll_wait` is
//! invisible to it; on loom's mutex and condition variable (`sync.rs`), a
//! notification that never comes shows up as a deadlock, which is how the
//! models of `mailbox/loom_models.rs` catch a lost wake.

use std::time::Duration;

use crate::sync::{Condvar, Mutex};

pub(crate) struct Parker {
    /// Set by `unpark`, cleared by the `park` it ends.
    notified: Mutex<bool>,
    condvar: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            notified: Mutex::new(false),
            condvar: Condvar::new(),
        }
    }

    /// Ends the current `park`, or the next one.
    pub(crate) fn unpark(&self) {
        *self.notified.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.condvar.notify_one();
    }

    /// Waits for `unpark`, for at most `timeout` (`None`: for ever; zero:
    /// not at all), and consumes the notification. May return early, as the
    /// loop's waits may: the loop looks around and waits again.
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        let mut notified = self.notified.lock().unwrap_or_else(|e| e.into_inner());
        match timeout {
            None => {
                while !*notified {
                    notified = self
                        .condvar
                        .wait(notified)
                        .unwrap_or_else(|e| e.into_inner());
                }
            }
            Some(timeout) if !*notified && !timeout.is_zero() => {
                notified = self
                    .condvar
                    .wait_timeout(notified, timeout)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            Some(_) => {}
        }
        *notified = false;
    }
}

/// `polling`'s types, stood in for where epoll cannot be used (module doc).
#[cfg(any(miri, all(test, loom)))]
pub(crate) mod stand_in {
    use std::io;
    use std::time::Duration;

    pub(crate) use polling::{Event, PollMode};

    use super::Parker;

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

    /// A poller that can wait and be notified, and nothing else.
    pub(crate) struct Poller(Parker);

    impl Poller {
        pub(crate) fn new() -> io::Result<Poller> {
            Ok(Poller(Parker::new()))
        }

        pub(crate) fn notify(&self) -> io::Result<()> {
            self.0.unpark();
            Ok(())
        }

        pub(crate) fn wait(
            &self,
            _events: &mut Events,
            timeout: Option<Duration>,
        ) -> io::Result<usize> {
            self.0.park(timeout);
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
}
