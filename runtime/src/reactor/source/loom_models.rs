//! loom models of a source's readiness protocol (module doc of
//! `source.rs`): the real [`Source`] with its lock on loom's mutex, one
//! thread standing for the task that reads or writes, another for the
//! kernel and the reactor's dispatch of an edge.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p spindle-runtime --release
//! --lib loom` (README, "Reliability"). The "kernel" is a loom atomic
//! counting bytes (or bytes of room); an attempt takes what is there or
//! fails with `WouldBlock`. The "edge" is `Source::on_event` right after the
//! kernel changed, and its wakers are woken the way the reactor does, after
//! the lock. A task parks by waiting on a loom `Notify` that its waker
//! notifies, so a wake that never comes shows up as a deadlock.
//!
//! Each model fails when the protocol is broken the way it names:
//! `an_edge_during_a_failed_attempt_is_not_lost` if step 3 clears `ready`
//! without comparing the tick; `a_short_write_never_hides_room_that_came_after_it`
//! if the `drained` clear skips the comparison;
//! `a_dropped_waiter_does_not_strand_another` if an event woke one waiter
//! instead of all.

use std::io;
use std::sync::atomic::AtomicUsize as Counter;
use std::sync::Arc;
use std::task::{Poll, Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Notify;
use loom::thread;

use super::{Direction, Source, Waiter};

/// A task's waker: notifying the `Notify` its thread parks on.
struct Rouse(Notify);

impl Wake for Rouse {
    fn wake(self: Arc<Self>) {
        self.0.notify();
    }
}

fn task_waker() -> (Arc<Rouse>, Waker) {
    let rouse = Arc::new(Rouse(Notify::new()));
    (rouse.clone(), Waker::from(rouse))
}

/// An attempt on the "kernel": take everything there is, or `WouldBlock`.
fn take_all(kernel: &AtomicUsize) -> io::Result<usize> {
    match kernel.swap(0, Ordering::AcqRel) {
        0 => Err(io::ErrorKind::WouldBlock.into()),
        n => Ok(n),
    }
}

/// The kernel gains `n`, then the reactor handles the edge as
/// `Reactor::wait` does: `on_event` for `direction`, the taken wakers
/// counted off `parked`, and woken after the source's lock is released.
fn edge(source: &Source, parked: &Counter, kernel: &AtomicUsize, n: usize, direction: Direction) {
    kernel.fetch_add(n, Ordering::AcqRel);
    let mut wakers = Vec::new();
    source.on_event(
        direction == Direction::Read,
        direction == Direction::Write,
        &mut wakers,
    );
    parked.fetch_sub(wakers.len(), std::sync::atomic::Ordering::Relaxed);
    for waker in wakers {
        waker.wake();
    }
}

/// A byte arrives while the task's attempt fails: whatever the order, the
/// task gets the byte.
#[test]
fn loom_an_edge_during_a_failed_attempt_is_not_lost() {
    loom::model(|| {
        let source = Arc::new(Source::new(0));
        let kernel = Arc::new(AtomicUsize::new(0));
        let parked = Arc::new(Counter::new(0));
        let peer = {
            let (source, parked, kernel) = (source.clone(), parked.clone(), kernel.clone());
            thread::spawn(move || edge(&source, &parked, &kernel, 1, Direction::Read))
        };
        let (rouse, waker) = task_waker();
        loop {
            let poll = source.poll_io(
                &parked,
                Direction::Read,
                Waiter::Polled,
                &waker,
                || take_all(&kernel),
                |_| false,
            );
            match poll {
                Poll::Ready(read) => {
                    assert_eq!(read.unwrap(), 1);
                    break;
                }
                Poll::Pending => rouse.0.wait(),
            }
        }
        peer.join().unwrap();
    });
}

/// A writer with room for one byte of its two: the short write clears
/// `ready`, unless room appeared meanwhile. Room for the second byte comes
/// from the peer at any moment; the writer must get it written.
#[test]
fn loom_a_short_write_never_hides_room_that_came_after_it() {
    loom::model(|| {
        let source = Arc::new(Source::new(0));
        let room = Arc::new(AtomicUsize::new(1));
        let parked = Arc::new(Counter::new(0));
        let peer = {
            let (source, parked, room) = (source.clone(), parked.clone(), room.clone());
            thread::spawn(move || edge(&source, &parked, &room, 1, Direction::Write))
        };
        let (rouse, waker) = task_waker();
        let mut left = 2;
        while left > 0 {
            let asked = left;
            let poll = source.poll_io(
                &parked,
                Direction::Write,
                Waiter::Polled,
                &waker,
                // Write what fits of `asked`; what does not stays in the kernel.
                || {
                    let n = take_all(&room)?;
                    let written = n.min(asked);
                    room.fetch_add(n - written, Ordering::AcqRel);
                    Ok(written)
                },
                |&written| written > 0 && written < asked,
            );
            match poll {
                Poll::Ready(written) => left -= written.unwrap(),
                Poll::Pending => rouse.0.wait(),
            }
        }
        peer.join().unwrap();
    });
}

/// Two waits park on one direction; an edge comes while one of them is
/// dropped without running again. The other must still be woken and get
/// the byte, and nothing stays counted as parked.
#[test]
fn loom_a_dropped_waiter_does_not_strand_another() {
    loom::model(|| {
        let source = Arc::new(Source::new(0));
        let kernel = Arc::new(AtomicUsize::new(0));
        let parked = Arc::new(Counter::new(0));
        let (dropped_rouse, dropped_waker) = task_waker();
        let (rouse, waker) = task_waker();
        let (mut dropped, mut kept) = (None, None);
        // Both park: the first attempt sees `WouldBlock` and clears `ready`.
        for (index, waker) in [(&mut dropped, &dropped_waker), (&mut kept, &waker)] {
            let poll = source.poll_io(
                &parked,
                Direction::Read,
                Waiter::Entry(index),
                waker,
                || take_all(&kernel),
                |_| false,
            );
            assert!(poll.is_pending());
        }
        let peer = {
            let (source, parked, kernel) = (source.clone(), parked.clone(), kernel.clone());
            thread::spawn(move || edge(&source, &parked, &kernel, 1, Direction::Read))
        };
        // The first wait is dropped, before or after the edge.
        source.release(&parked, Direction::Read, dropped.take().unwrap());
        drop(dropped_rouse);
        // The other is parked: it runs again only when its waker is woken.
        loop {
            rouse.0.wait();
            let poll = source.poll_io(
                &parked,
                Direction::Read,
                Waiter::Entry(&mut kept),
                &waker,
                || take_all(&kernel),
                |_| false,
            );
            if let Poll::Ready(read) = poll {
                assert_eq!(read.unwrap(), 1);
                break;
            }
        }
        source.release(&parked, Direction::Read, kept.take().unwrap());
        peer.join().unwrap();
        assert_eq!(
            parked.load(std::sync::atomic::Ordering::Relaxed),
            0,
            "a waker is still counted as parked"
        );
        assert_eq!(source.waiter_count(), 0);
    });
}
