//! loom models of the mailbox's two protocols (module doc of `mailbox.rs`):
//! merging remote wakes with `remote_queued`, and the doorbell that lets the
//! loop block without missing a message, with the reactor's poller created
//! lazily.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p spindle-runtime --release
//! --lib loom` (README, "Reliability"). The models use the real
//! [`claim_remote_wake`], [`take_remote_wake`], [`Doorbell`] and
//! [`Reactor`], whose parker is on loom's mutex and condition variable and
//! whose poller, in loom builds, is a second such parker
//! (`reactor/parker.rs`), created on first need exactly as epoll is; both
//! notifications are sticky. The channel is a locked deque, and "polling
//! the task" is reading what the waker wrote before it woke. A lost wake
//! shows as the loop blocked forever, which loom reports as a deadlock.
//!
//! Reintroducing the old bug — `take_remote_wake` as a `store(false,
//! Release)` — makes `loom_a_merged_wake_is_seen_by_the_poll` fail: the poll
//! can read the value from before the merged wake, and the loop then sleeps
//! with no wake left to come. Dropping either `SeqCst` fence of the doorbell
//! makes `loom_a_message_sent_while_the_loop_goes_to_sleep_wakes_it` fail.
//! Creating the poller after the loop announces its sleep (moving
//! `reactor.poller()` in `Doorbell::sleep` below the fence) makes
//! `loom_a_message_reaches_a_loop_that_waits_with_a_deadline` fail: a
//! sender then notifies the parker while the loop waits in the poller; and
//! `Reactor::notify` always choosing the parker makes
//! `loom_a_loop_that_registered_a_socket_meanwhile_is_still_woken` fail.
//! Making the count's read in `nobody_else_can_send` `Relaxed` makes
//! `loom_a_message_sent_before_the_last_handle_drops_is_seen` fail: the
//! loop would report a deadlock with a wake in its mailbox.

use std::collections::VecDeque;
use std::time::Duration;

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

use super::{claim_remote_wake, drop_handle, nobody_else_can_send, take_remote_wake, Doorbell};
use crate::reactor::Reactor;

/// What both sides share: the task's flag, the channel, the doorbell, the
/// reactor (with no poller yet), and the value the task is waiting to see.
struct World {
    remote_queued: AtomicBool,
    channel: Mutex<VecDeque<()>>,
    doorbell: Doorbell,
    reactor: Reactor,
    /// Written by the waking thread before each wake, with `Relaxed`: only
    /// the wake protocol may make it visible to the poll.
    value: AtomicUsize,
}

impl World {
    fn new() -> Arc<World> {
        Arc::new(World {
            remote_queued: AtomicBool::new(false),
            channel: Mutex::new(VecDeque::new()),
            doorbell: Doorbell::default(),
            reactor: Reactor::new(),
            value: AtomicUsize::new(0),
        })
    }

    /// Another thread's `Waker::wake` (`Shared::wake_remote` and `send`).
    fn wake_remote(&self) {
        if claim_remote_wake(&self.remote_queued) {
            self.channel.lock().unwrap().push_back(());
            self.doorbell.ring(&self.reactor);
        }
    }

    /// The loop, until the task has seen `goal`: drain the mailbox
    /// (`Core::drain_mail`), poll the task, and block when there is nothing
    /// to do (`Core::park_blocking`) — with a deadline (a timer pending) if
    /// `deadline`. With `register`, the task registers a socket (which
    /// creates the poller) once it has seen its first value.
    fn run_loop(&self, goal: usize, deadline: bool, register: bool) {
        let mut seen = 0;
        while seen != goal {
            if self.doorbell.has_mail() {
                for _ in 0..self.doorbell.take_mail() {
                    self.channel
                        .lock()
                        .unwrap()
                        .pop_front()
                        .expect("counted mail");
                    take_remote_wake(&self.remote_queued);
                    // The poll: the task reads what its wakers wrote.
                    seen = self.value.load(Ordering::Relaxed);
                    if register && seen > 0 {
                        self.reactor
                            .poller()
                            .expect("the stand-in poller cannot fail");
                    }
                }
                continue;
            }
            // loom's condition variable never times out: a "deadline" wait ends
            // only by a notification, which is the case that matters here.
            let timeout = deadline.then_some(Duration::from_secs(1));
            self.doorbell
                .sleep(&self.reactor, deadline, || {
                    self.reactor.wait(timeout);
                })
                .expect("the stand-in poller cannot fail");
        }
    }
}

/// A thread writes a value and wakes the task, twice; the second wake may
/// merge into the first message. The poll after the last message drained
/// must see the second value, or the task parks for good.
#[test]
fn loom_a_merged_wake_is_seen_by_the_poll() {
    loom::model(|| {
        let world = World::new();
        let waker = {
            let world = world.clone();
            thread::spawn(move || {
                for value in 1..=2 {
                    world.value.store(value, Ordering::Relaxed);
                    world.wake_remote();
                }
            })
        };
        world.run_loop(2, false, false);
        waker.join().unwrap();
    });
}

/// A message sent while the loop decides to block must rouse it: the loop
/// starts idle, one thread sends one wake.
#[test]
fn loom_a_message_sent_while_the_loop_goes_to_sleep_wakes_it() {
    loom::model(|| {
        let world = World::new();
        let waker = {
            let world = world.clone();
            thread::spawn(move || {
                world.value.store(1, Ordering::Relaxed);
                world.wake_remote();
            })
        };
        world.run_loop(1, false, false);
        waker.join().unwrap();
    });
}

/// As above, but the loop waits with a deadline, so it creates the poller
/// for that wait: the sender must notify the poller, not the parker.
#[test]
fn loom_a_message_reaches_a_loop_that_waits_with_a_deadline() {
    loom::model(|| {
        let world = World::new();
        let waker = {
            let world = world.clone();
            thread::spawn(move || {
                world.value.store(1, Ordering::Relaxed);
                world.wake_remote();
            })
        };
        world.run_loop(1, true, false);
        waker.join().unwrap();
    });
}

/// The loop waits on the parker for a first wake, then registers a socket
/// (creating the poller) and waits for a second wake, which must reach it
/// in the poller.
#[test]
fn loom_a_loop_that_registered_a_socket_meanwhile_is_still_woken() {
    loom::model(|| {
        let world = World::new();
        let waker = {
            let world = world.clone();
            thread::spawn(move || {
                for value in 1..=2 {
                    world.value.store(value, Ordering::Relaxed);
                    world.wake_remote();
                }
            })
        };
        world.run_loop(2, false, true);
        waker.join().unwrap();
    });
}

/// A thread holding the last `Handle` sends a wake, then drops the handle;
/// the loop, checking for a deadlock, must not find "no handle and no mail"
/// while that wake sits in the channel.
#[test]
fn loom_a_message_sent_before_the_last_handle_drops_is_seen() {
    loom::model(|| {
        let world = World::new();
        let handles = Arc::new(AtomicUsize::new(1));
        let sender = {
            let (world, handles) = (world.clone(), handles.clone());
            thread::spawn(move || {
                world.wake_remote();
                drop_handle(&handles);
            })
        };
        if nobody_else_can_send(&handles, &world.doorbell) {
            assert!(
                world.channel.lock().unwrap().is_empty(),
                "deadlock declared with a wake in the mailbox"
            );
        }
        sender.join().unwrap();
    });
}
