//! `Condition`: `wait` releases the mutex while it waits and holds it again
//! before it returns; `notify(n)` wakes exactly `n` waiters, oldest first;
//! a notification taken by a wait that is then cancelled passes on; one
//! mutex per condition at a time; wakers that panic; real threads.

mod prim_util;
mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use prim_util::{counting_waker, live_wakers, panic_message, panicking_waker, poll_once};
use spindle::{join, sleep, spawn, Condition, Mutex};
use support::{virtual_time, within};

#[test]
fn wait_releases_the_lock_while_it_waits() {
    let mutex = Mutex::new(0);
    let cond = Condition::new();
    let (waker, wakes) = counting_waker();
    let mut wait = pin!(cond.wait(mutex.try_lock().unwrap()));
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    assert_eq!(cond.waiter_count(), 1);
    *mutex.try_lock().expect("released while waiting") += 1;
    assert!(
        poll_once(wait.as_mut(), &waker).is_pending(),
        "no notification yet"
    );
    assert_eq!(wakes.count(), 0, "a wait never returns spuriously");
    cond.notify_one();
    assert_eq!(wakes.count(), 1);
    let Poll::Ready(guard) = poll_once(wait.as_mut(), &waker) else {
        panic!("notified, and the lock is free");
    };
    assert_eq!(*guard, 1, "the guard sees what was written meanwhile");
    assert!(mutex.try_lock().is_none(), "wait returned holding the lock");
}

#[test]
fn wait_holds_the_lock_again_before_it_returns() {
    // The notifier still holds the lock when it notifies: the waiter stays
    // pending until the lock is handed to it.
    let mutex = Mutex::new("before");
    let cond = Condition::new();
    let (waker, wakes) = counting_waker();
    let mut wait = pin!(cond.wait(mutex.try_lock().unwrap()));
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    let mut notifier = mutex.try_lock().unwrap();
    *notifier = "after";
    cond.notify_one();
    assert_eq!(wakes.count(), 1, "woken by the notification");
    assert!(
        poll_once(wait.as_mut(), &waker).is_pending(),
        "returned without the lock"
    );
    drop(notifier); // hands the lock to the waiter and wakes it
    assert_eq!(wakes.count(), 2);
    let Poll::Ready(guard) = poll_once(wait.as_mut(), &waker) else {
        panic!("the lock was handed to the waiter");
    };
    assert_eq!(*guard, "after");
}

/// A parked wait, the waker it was polled with, and that waker's counter.
type Parked<'a> = (
    Pin<Box<spindle::condition::Wait<'a, ()>>>,
    std::task::Waker,
    Arc<prim_util::WakeCounter>,
);

/// Five waits parked, each with its own counting waker.
fn five_waiting<'a>(mutex: &'a Mutex<()>, cond: &'a Condition) -> Vec<Parked<'a>> {
    (0..5)
        .map(|_| {
            let (waker, wakes) = counting_waker();
            let mut wait = Box::pin(cond.wait(mutex.try_lock().unwrap()));
            assert!(poll_once(wait.as_mut(), &waker).is_pending());
            (wait, waker, wakes)
        })
        .collect()
}

fn wake_counts(waits: &[(impl Sized, impl Sized, Arc<prim_util::WakeCounter>)]) -> Vec<usize> {
    waits.iter().map(|(_, _, wakes)| wakes.count()).collect()
}

#[test]
fn notify_n_wakes_exactly_n_waiters_oldest_first() {
    let mutex = Mutex::new(());
    let cond = Condition::new();
    let mut waits = five_waiting(&mutex, &cond);
    cond.notify(2);
    assert_eq!(wake_counts(&waits), [1, 1, 0, 0, 0]);
    assert_eq!(cond.waiter_count(), 3);
    cond.notify_one();
    assert_eq!(wake_counts(&waits), [1, 1, 1, 0, 0]);
    cond.notify(0);
    assert_eq!(wake_counts(&waits), [1, 1, 1, 0, 0]);
    cond.notify(10); // more than are waiting: all of them, no more
    assert_eq!(wake_counts(&waits), [1, 1, 1, 1, 1]);
    // They re-lock one after another, in order.
    for (i, (wait, waker, _)) in waits.iter_mut().enumerate() {
        let Poll::Ready(guard) = poll_once(wait.as_mut(), waker) else {
            panic!("wait {i} was notified and the lock is free");
        };
        drop(guard);
    }
}

#[test]
fn notify_all_wakes_every_waiter_and_a_notification_is_not_stored() {
    let mutex = Mutex::new(());
    let cond = Condition::new();
    cond.notify_all(); // nobody waits: lost, as in asyncio
    cond.notify(3);
    let waits = five_waiting(&mutex, &cond);
    assert_eq!(wake_counts(&waits), [0; 5], "no stored notification");
    cond.notify_all();
    assert_eq!(wake_counts(&waits), [1; 5]);
    assert_eq!(cond.waiter_count(), 0);
}

#[test]
fn a_wait_cancelled_after_it_was_notified_passes_the_notification_on() {
    let mutex = Mutex::new(());
    let cond = Condition::new();
    let mut waits = five_waiting(&mutex, &cond);
    cond.notify_one();
    assert_eq!(wake_counts(&waits), [1, 0, 0, 0, 0]);
    drop(waits.remove(0)); // notified, never polled: cancelled
    assert_eq!(
        wake_counts(&waits),
        [1, 0, 0, 0],
        "the next wait is notified"
    );
    assert_eq!(cond.waiter_count(), 3);
    assert!(
        mutex.try_lock().is_some(),
        "the cancelled wait took no lock"
    );
}

#[test]
fn a_wait_cancelled_while_it_relocks_passes_the_notification_and_the_lock_on() {
    let mutex = Mutex::new(0);
    let cond = Condition::new();
    let (w1, wakes1) = counting_waker();
    let (w2, wakes2) = counting_waker();
    let mut first = Box::pin(cond.wait(mutex.try_lock().unwrap()));
    assert!(poll_once(first.as_mut(), &w1).is_pending());
    let mut second = Box::pin(cond.wait(mutex.try_lock().unwrap()));
    assert!(poll_once(second.as_mut(), &w2).is_pending());
    let held = mutex.try_lock().unwrap();
    cond.notify_one();
    assert!(
        poll_once(first.as_mut(), &w1).is_pending(),
        "notified, waiting for the lock"
    );
    drop(held); // hands the lock to `first`
    assert_eq!(wakes1.count(), 2);
    drop(first); // with the notification and the lock in hand
    assert_eq!(wakes2.count(), 1, "the notification passed on");
    let Poll::Ready(mut guard) = poll_once(second.as_mut(), &w2) else {
        panic!("and the lock is free for it");
    };
    *guard += 1;
    drop(guard);
    assert_eq!((cond.waiter_count(), mutex.waiter_count()), (0, 0));
}

#[test]
fn a_wait_cancelled_before_it_was_notified_takes_no_notification() {
    let mutex = Mutex::new(());
    let cond = Condition::new();
    let mut waits = five_waiting(&mutex, &cond);
    drop(waits.remove(0));
    assert_eq!(cond.waiter_count(), 4);
    cond.notify_one();
    assert_eq!(
        wake_counts(&waits),
        [1, 0, 0, 0],
        "the notification went on"
    );
}

#[test]
fn a_wait_dropped_before_its_first_poll_only_unlocks() {
    let mutex = Mutex::new(());
    let cond = Condition::new();
    let wait = cond.wait(mutex.try_lock().unwrap());
    assert!(mutex.try_lock().is_none());
    drop(wait);
    assert!(mutex.try_lock().is_some());
    assert_eq!(cond.waiter_count(), 0);
}

#[test]
fn a_second_mutex_panics_while_waits_on_the_first_are_parked_and_its_lock_is_released() {
    let a = Mutex::new(());
    let b = Mutex::new(());
    let cond = Condition::new();
    let (waker, _) = counting_waker();
    let mut on_a = Box::pin(cond.wait(a.try_lock().unwrap()));
    assert!(poll_once(on_a.as_mut(), &waker).is_pending());
    let mut on_b = Box::pin(cond.wait(b.try_lock().unwrap()));
    let payload = catch_unwind(AssertUnwindSafe(|| poll_once(on_b.as_mut(), &waker)))
        .expect_err("mixing mutexes panics");
    assert!(panic_message(&*payload)
        .unwrap()
        .contains("different Mutex"));
    drop(on_b);
    assert!(b.try_lock().is_some(), "the guard of `b` was released");
    assert_eq!(cond.waiter_count(), 1, "the wait on `a` is still parked");
    // Once nobody waits, any mutex will do.
    cond.notify_all();
    assert!(poll_once(on_a.as_mut(), &waker).is_ready());
    let mut on_b = Box::pin(cond.wait(b.try_lock().unwrap()));
    assert!(poll_once(on_b.as_mut(), &waker).is_pending());
    // Two waits on the same mutex are fine.
    let mut also_b = Box::pin(cond.wait(b.try_lock().unwrap()));
    assert!(poll_once(also_b.as_mut(), &waker).is_pending());
    assert_eq!(cond.waiter_count(), 2);
}

#[test]
fn wait_for_checks_first_and_returns_with_the_lock_and_the_predicate_true() {
    virtual_time(async {
        let count = Mutex::new(0);
        let cond = Condition::new();
        // True at once: no wait.
        let guard = cond.wait_for(count.lock().await, |n| *n == 0).await;
        drop(guard);
        let checks = std::cell::Cell::new(0);
        let waiter = async {
            let guard = cond
                .wait_for(count.lock().await, |n| {
                    checks.set(checks.get() + 1);
                    *n >= 3
                })
                .await;
            *guard
        };
        let bumper = async {
            for _ in 0..3 {
                sleep(Duration::from_secs(1)).await;
                *count.lock().await += 1;
                cond.notify_all();
            }
        };
        let (seen, ()) = join!(waiter, bumper).await;
        assert_eq!(seen, 3);
        assert_eq!(checks.get(), 4, "once at first, then once per notification");
    });
}

// ---- a waker that panics ----

#[test]
fn notify_all_wakes_every_waiter_even_if_a_waker_panics() {
    let mutex = Mutex::new(());
    let cond = Condition::new();
    let (bad, bad_source) = panicking_waker("waiter 0's waker panicked");
    let (good, good_source) = counting_waker();
    let wakers = [&bad, &good, &good];
    let mut waits: Vec<_> = wakers
        .iter()
        .map(|waker| {
            let mut wait = Box::pin(cond.wait(mutex.try_lock().unwrap()));
            assert!(poll_once(wait.as_mut(), waker).is_pending());
            wait
        })
        .collect();
    let payload = catch_unwind(AssertUnwindSafe(|| cond.notify_all()))
        .expect_err("the panic surfaces from notify_all");
    assert_eq!(panic_message(&*payload), Some("waiter 0's waker panicked"));
    assert_eq!(good_source.count(), 2, "the waiters behind it were woken");
    for (wait, waker) in waits.iter_mut().zip(wakers) {
        let guard = poll_once(wait.as_mut(), waker);
        assert!(guard.is_ready(), "every wait was notified");
    }
    drop(waits);
    assert_eq!(
        (live_wakers(&bad_source), live_wakers(&good_source)),
        (1, 1)
    );
}

#[test]
fn a_wait_cancelled_while_relocking_passes_its_notification_on_even_if_the_lock_hand_off_panics() {
    let mutex = Mutex::new(());
    let cond = Condition::new();
    let (good, _) = counting_waker();
    let (next, next_wakes) = counting_waker();
    let (bad, bad_source) = panicking_waker("the lock's next holder panicked");
    let mut relocking = Box::pin(cond.wait(mutex.try_lock().unwrap()));
    assert!(poll_once(relocking.as_mut(), &good).is_pending());
    let mut parked = Box::pin(cond.wait(mutex.try_lock().unwrap()));
    assert!(poll_once(parked.as_mut(), &next).is_pending());
    let held = mutex.try_lock().unwrap();
    cond.notify_one();
    assert!(poll_once(relocking.as_mut(), &good).is_pending());
    let mut locker = Box::pin(mutex.lock()); // in line behind `relocking`
    assert!(poll_once(locker.as_mut(), &bad).is_pending());
    drop(held); // the lock goes to `relocking`
    let payload = catch_unwind(AssertUnwindSafe(move || drop(relocking)))
        .expect_err("passing the lock on to `locker` panics");
    assert_eq!(
        panic_message(&*payload),
        Some("the lock's next holder panicked")
    );
    assert_eq!(bad_source.count(), 1, "the lock was passed on");
    assert_eq!(next_wakes.count(), 1, "and so was the notification");
    assert!(poll_once(locker.as_mut(), &bad).is_ready());
}

// ---- tasks, threads ----

#[test]
fn consumers_on_a_spindle_runtime_each_get_one_item_in_order() {
    // 11_barrier_condition's second half.
    virtual_time(async {
        let items = Arc::new(Mutex::new(Vec::new()));
        let cond = Arc::new(Condition::new());
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let consumers: Vec<_> = (1..=3)
            .map(|c| {
                let (items, cond, log) = (items.clone(), cond.clone(), log.clone());
                spawn(async move {
                    let guard = items.lock().await;
                    let mut guard = cond.wait_for(guard, |items| !items.is_empty()).await;
                    let item = guard.remove(0);
                    log.lock().unwrap().push(format!("c{c} got {item}"));
                })
            })
            .collect();
        for n in 1..=3 {
            sleep(Duration::from_secs(1)).await;
            let mut guard = items.lock().await;
            guard.push(n);
            log.lock().unwrap().push(format!("produced {n}"));
            cond.notify_one();
        }
        for consumer in consumers {
            consumer.await.unwrap();
        }
        assert_eq!(
            *log.lock().unwrap(),
            [
                "produced 1",
                "c1 got 1",
                "produced 2",
                "c2 got 2",
                "produced 3",
                "c3 got 3"
            ]
        );
    });
}

#[test]
fn a_producer_thread_and_consumer_threads_lose_no_notification() {
    within(Duration::from_secs(60), || {
        const ITEMS: usize = 3_000;
        let shared = Arc::new((Mutex::new(Vec::new()), Condition::new()));
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let (items, cond) = &*shared;
                    let mut got = 0;
                    futures_executor::block_on(async {
                        loop {
                            let guard = items.lock().await;
                            let mut guard = cond.wait_for(guard, |q| !q.is_empty()).await;
                            match guard.pop() {
                                Some(None) => return got, // the end marker
                                Some(Some(_)) => got += 1,
                                None => unreachable!("the predicate said non-empty"),
                            }
                        }
                    })
                })
            })
            .collect();
        let (items, cond) = &*shared;
        futures_executor::block_on(async {
            for i in 0..ITEMS {
                items.lock().await.insert(0, Some(i));
                cond.notify_one();
            }
            for _ in 0..2 {
                items.lock().await.insert(0, None);
                cond.notify_one();
            }
        });
        let got: usize = consumers.into_iter().map(|c| c.join().unwrap()).sum();
        assert_eq!(got, ITEMS);
    });
}
