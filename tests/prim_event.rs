//! `Event`: set/clear/wait with CPython's semantics — a `set()` releases
//! every current waiter for good, even if `clear()` runs before they are
//! polled — and waiters that leave nothing behind.

mod prim_util;

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Wake, Waker};

use futures_util::task::LocalSpawnExt;
use prim_util::{
    counting_waker, live_wakers, panic_message, panicking_waker, poll_once, WakeCounter,
};
use spindle::Event;

#[test]
fn a_new_event_is_clear_and_set_and_clear_flip_it() {
    let e = Event::new();
    assert!(!e.is_set());
    e.set();
    assert!(e.is_set());
    e.set();
    assert!(e.is_set(), "setting twice is harmless");
    e.clear();
    assert!(!e.is_set());
}

#[test]
fn wait_on_a_set_event_is_ready_on_its_first_poll() {
    let e = Event::new();
    e.set();
    let (waker, wakes) = counting_waker();
    assert_eq!(poll_once(pin!(e.wait()), &waker), Poll::Ready(()));
    assert_eq!(wakes.count(), 0);
    assert_eq!(e.waiter_count(), 0);
}

#[test]
fn set_wakes_every_current_waiter_once_and_they_return() {
    let e = Event::new();
    let mut waiters: Vec<_> = (0..3)
        .map(|_| (Box::pin(e.wait()), counting_waker()))
        .collect();
    for (w, (waker, _)) in &mut waiters {
        assert!(poll_once(w.as_mut(), waker).is_pending());
    }
    assert!(waiters.iter().all(|(_, (_, wakes))| wakes.count() == 0));
    e.set();
    for (w, (waker, wakes)) in &mut waiters {
        assert_eq!(wakes.count(), 1);
        assert_eq!(poll_once(w.as_mut(), waker), Poll::Ready(()));
    }
    e.set(); // already set: nobody to wake
    assert!(waiters.iter().all(|(_, (_, wakes))| wakes.count() == 1));
}

#[test]
fn a_waiter_released_by_set_returns_even_if_clear_runs_before_its_poll() {
    let e = Event::new();
    let (waker, _) = counting_waker();
    let mut wait = pin!(e.wait());
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    e.set();
    e.clear();
    assert!(!e.is_set());
    assert_eq!(poll_once(wait.as_mut(), &waker), Poll::Ready(()));
}

#[test]
fn a_wait_after_clear_waits_for_the_next_set() {
    let e = Event::new();
    e.set();
    e.clear();
    let (waker, wakes) = counting_waker();
    let mut wait = pin!(e.wait());
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    assert!(
        poll_once(wait.as_mut(), &waker).is_pending(),
        "a spurious poll changes nothing"
    );
    e.set();
    assert_eq!(wakes.count(), 1);
    assert_eq!(poll_once(wait.as_mut(), &waker), Poll::Ready(()));
}

#[test]
fn a_waiter_polled_again_with_a_new_waker_is_woken_through_the_new_one() {
    let e = Event::new();
    let (old, old_wakes) = counting_waker();
    let (new, new_wakes) = counting_waker();
    let mut wait = pin!(e.wait());
    assert!(poll_once(wait.as_mut(), &old).is_pending());
    assert!(poll_once(wait.as_mut(), &new).is_pending());
    e.set();
    assert_eq!((old_wakes.count(), new_wakes.count()), (0, 1));
}

#[test]
fn a_dropped_wait_leaves_nothing_behind() {
    let e = Event::new();
    let (waker, _) = counting_waker();
    let mut waits: Vec<_> = (0..5).map(|_| Box::pin(e.wait())).collect();
    for w in &mut waits {
        assert!(poll_once(w.as_mut(), &waker).is_pending());
    }
    assert_eq!(e.waiter_count(), 5);
    waits.truncate(2); // drop three parked waiters
    assert_eq!(e.waiter_count(), 2);
    e.set();
    assert_eq!(e.waiter_count(), 0);
    drop(waits); // released but never polled: nothing to undo
    assert_eq!(e.waiter_count(), 0);
}

/// A waker that records its id in a shared log when woken.
struct Recorder(usize, Arc<Mutex<Vec<usize>>>);

impl Wake for Recorder {
    fn wake(self: Arc<Self>) {
        self.1.lock().unwrap().push(self.0);
    }
}

#[test]
fn set_wakes_waiters_oldest_first() {
    let e = Event::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut waits = Vec::new();
    for id in 0..5 {
        let waker = Waker::from(Arc::new(Recorder(id, Arc::clone(&log))));
        let mut w = Box::pin(e.wait());
        assert!(poll_once(w.as_mut(), &waker).is_pending());
        waits.push(w);
    }
    drop(waits.remove(2)); // a cancelled waiter does not disturb the order
    e.set();
    assert_eq!(*log.lock().unwrap(), [0, 1, 3, 4]);
}

/// A waker that reads the event when woken: it deadlocks if `set` wakes
/// while holding the event's lock.
struct Reentrant(Event);

impl Wake for Reentrant {
    fn wake(self: Arc<Self>) {
        let _ = self.0.is_set();
    }
}

#[test]
fn set_wakes_after_releasing_its_lock() {
    let e = Event::new();
    let waker = Waker::from(Arc::new(Reentrant(e.clone())));
    let mut wait = pin!(e.wait());
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    e.set(); // must not deadlock
    assert!(poll_once(wait.as_mut(), &waker).is_ready());
}

#[test]
fn ten_thousand_waiters_are_all_released_by_one_set() {
    const N: usize = 10_000;
    let e = Event::new();
    let released = Rc::new(Cell::new(0));
    let mut pool = futures_executor::LocalPool::new();
    for _ in 0..N {
        let (e, released) = (e.clone(), Rc::clone(&released));
        pool.spawner()
            .spawn_local(async move {
                e.wait().await;
                released.set(released.get() + 1);
            })
            .unwrap();
    }
    pool.run_until_stalled();
    assert_eq!(e.waiter_count(), N);
    assert_eq!(released.get(), 0);
    e.set();
    e.clear(); // a pulse: everyone parked at the set still goes through
    pool.run_until_stalled();
    assert_eq!(released.get(), N);
    assert_eq!(e.waiter_count(), 0);
}

#[test]
fn ten_thousand_waiters_are_each_woken_exactly_once() {
    const N: usize = 10_000;
    let e = Event::new();
    let mut waiters: Vec<_> = (0..N)
        .map(|_| (Box::pin(e.wait()), counting_waker()))
        .collect();
    for (w, (waker, _)) in &mut waiters {
        assert!(poll_once(w.as_mut(), waker).is_pending());
    }
    e.set();
    for (w, (waker, wakes)) in &mut waiters {
        assert_eq!(wakes.count(), 1);
        assert!(poll_once(w.as_mut(), waker).is_ready());
    }
}

#[test]
fn clones_share_one_flag_and_set_from_another_thread_releases() {
    let e = Event::new();
    let log = Rc::new(RefCell::new(Vec::new()));
    let mut pool = futures_executor::LocalPool::new();
    let (we, wl) = (e.clone(), Rc::clone(&log));
    pool.spawner()
        .spawn_local(async move {
            wl.borrow_mut().push("waiting");
            we.wait().await;
            wl.borrow_mut().push("released");
        })
        .unwrap();
    pool.run_until_stalled();
    let other = e.clone();
    std::thread::spawn(move || other.set()).join().unwrap();
    assert!(e.is_set());
    pool.run_until_stalled();
    assert_eq!(*log.borrow(), ["waiting", "released"]);
}

#[test]
fn polling_a_finished_wait_again_stays_ready() {
    let e = Event::new();
    e.set();
    let (waker, _) = counting_waker();
    let mut wait = pin!(e.wait());
    assert!(poll_once(wait.as_mut(), &waker).is_ready());
    e.clear();
    assert!(poll_once(wait.as_mut(), &waker).is_ready());
}

// ---- a waker that panics ----
//
// `set` wakes every parked waiter even if one waker panics, and only then
// re-raises the (first) panic, in the task that called `set`: the flag is
// set, nobody else misses the wake, and no waker clone is left behind.

#[test]
fn a_waker_that_panics_does_not_keep_set_from_waking_the_other_waiters() {
    let e = Event::new();
    let (bad, bad_source) = panicking_waker("the waker of waiter 1 panicked");
    let good: Vec<(Waker, Arc<WakeCounter>)> = (0..3).map(|_| counting_waker()).collect();
    // Waiters 0, 2 and 3 have good wakers; waiter 1, parked second, does not.
    let wakers = [&good[0].0, &bad, &good[1].0, &good[2].0];
    let mut waits: Vec<_> = wakers.iter().map(|_| Box::pin(e.wait())).collect();
    for (wait, waker) in waits.iter_mut().zip(wakers) {
        assert!(poll_once(wait.as_mut(), waker).is_pending());
    }
    assert_eq!(live_wakers(&bad_source), 2, "the test's and the parked one");

    let payload = catch_unwind(AssertUnwindSafe(|| e.set()))
        .expect_err("the waker's panic surfaces from set()");
    assert_eq!(
        panic_message(&*payload),
        Some("the waker of waiter 1 panicked")
    );
    assert!(e.is_set());
    assert_eq!(bad_source.count(), 1);
    for (_, wakes) in &good {
        assert_eq!(wakes.count(), 1, "a waiter behind the panic was not woken");
    }
    // Every parked clone was consumed by its wake: none leaked.
    assert_eq!(live_wakers(&bad_source), 1);
    assert!(good.iter().all(|(_, source)| live_wakers(source) == 1));
    for (wait, waker) in waits.iter_mut().zip(wakers) {
        assert_eq!(poll_once(wait.as_mut(), waker), Poll::Ready(()));
    }
    assert_eq!(e.waiter_count(), 0);

    // The event is not broken: a second round parks and releases as usual.
    e.clear();
    let mut again = pin!(e.wait());
    assert!(poll_once(again.as_mut(), &good[0].0).is_pending());
    e.set();
    assert_eq!(good[0].1.count(), 2);
    assert_eq!(poll_once(again.as_mut(), &good[0].0), Poll::Ready(()));
}

#[test]
fn when_several_wakers_panic_set_wakes_them_all_and_reports_the_first() {
    let e = Event::new();
    let (first, first_source) = panicking_waker("first");
    let (second, second_source) = panicking_waker("second");
    let (good, good_wakes) = counting_waker();
    let wakers = [&first, &good, &second];
    let mut waits: Vec<_> = wakers.iter().map(|_| Box::pin(e.wait())).collect();
    for (wait, waker) in waits.iter_mut().zip(wakers) {
        assert!(poll_once(wait.as_mut(), waker).is_pending());
    }
    let payload = catch_unwind(AssertUnwindSafe(|| e.set())).unwrap_err();
    assert_eq!(panic_message(&*payload), Some("first"));
    assert_eq!(
        (
            first_source.count(),
            good_wakes.count(),
            second_source.count()
        ),
        (1, 1, 1)
    );
    assert_eq!(
        (live_wakers(&first_source), live_wakers(&second_source)),
        (1, 1)
    );
}
