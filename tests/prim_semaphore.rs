//! `Semaphore`: permits taken at once while free, waiters served strictly
//! in arrival order (no `try_acquire` overtakes them), permits that come
//! back with their guards, cancellation that never keeps or loses a permit,
//! wakers that panic, and real threads. (Its property test against a
//! sequential model shares `prim_mutex.rs`'s: both primitives are the same
//! permit protocol.)

mod prim_util;
mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use prim_util::{counting_waker, live_wakers, panic_message, panicking_waker, poll_once};
use spindle::{join_all, sleep, Semaphore};
use support::{virtual_time, within};

#[test]
fn acquire_takes_free_permits_at_once_and_they_come_back_on_drop() {
    let sem = Semaphore::new(2);
    let (waker, wakes) = counting_waker();
    let Poll::Ready(a) = poll_once(pin!(sem.acquire()), &waker) else {
        panic!("a free permit is taken at once");
    };
    let b = sem.try_acquire().expect("a second free permit");
    assert_eq!(sem.available_permits(), 0);
    assert!(sem.try_acquire().is_none());
    drop(a);
    assert_eq!(sem.available_permits(), 1);
    drop(b);
    assert_eq!(sem.available_permits(), 2);
    assert_eq!(wakes.count(), 0, "acquire never yields by waking itself");
}

#[test]
fn waiters_are_served_in_arrival_order_whatever_order_they_are_polled_in() {
    let sem = Semaphore::new(1);
    let (waker, _) = counting_waker();
    let first = sem.try_acquire().unwrap();
    let mut waiters: Vec<_> = (0..4).map(|_| Box::pin(sem.acquire())).collect();
    for waiter in &mut waiters {
        assert!(poll_once(waiter.as_mut(), &waker).is_pending());
    }
    drop(first);
    // Every poll from the youngest down: only the oldest has a permit.
    let mut served = Vec::new();
    for _ in 0..4 {
        let mut permit = None;
        for (i, waiter) in waiters.iter_mut().enumerate().rev() {
            if served.contains(&i) {
                continue;
            }
            if let Poll::Ready(p) = poll_once(waiter.as_mut(), &waker) {
                assert!(permit.is_none(), "two waiters served by one permit");
                permit = Some(p);
                served.push(i);
            }
        }
        drop(permit.expect("someone is served by each permit"));
    }
    assert_eq!(served, [0, 1, 2, 3]);
}

#[test]
fn try_acquire_fails_while_anyone_waits_even_with_a_permit_on_its_way() {
    let sem = Semaphore::new(1);
    let (waker, wakes) = counting_waker();
    let held = sem.try_acquire().unwrap();
    let mut waiter = pin!(sem.acquire());
    assert!(poll_once(waiter.as_mut(), &waker).is_pending());
    drop(held); // handed to the waiter, which has not run yet
    assert_eq!(wakes.count(), 1);
    assert_eq!(sem.available_permits(), 0, "the permit is the waiter's");
    assert!(sem.try_acquire().is_none(), "try_acquire barged in");
    let mut late = pin!(sem.acquire());
    assert!(
        poll_once(late.as_mut(), &waker).is_pending(),
        "acquire barged in"
    );
    let permit = poll_once(waiter.as_mut(), &waker);
    assert!(permit.is_ready());
    drop(permit);
    assert!(poll_once(late.as_mut(), &waker).is_ready());
}

#[test]
fn add_permits_serves_waiters_oldest_first_then_frees_the_rest() {
    let sem = Semaphore::new(0);
    let counters: Vec<_> = (0..3).map(|_| counting_waker()).collect();
    let mut waiters: Vec<_> = (0..3).map(|_| Box::pin(sem.acquire())).collect();
    for (waiter, (waker, _)) in waiters.iter_mut().zip(&counters) {
        assert!(poll_once(waiter.as_mut(), waker).is_pending());
    }
    sem.add_permits(2);
    let woken: Vec<_> = counters.iter().map(|(_, c)| c.count()).collect();
    assert_eq!(woken, [1, 1, 0], "the two oldest get the two permits");
    assert_eq!((sem.available_permits(), sem.waiter_count()), (0, 1));
    sem.add_permits(3);
    assert_eq!(counters[2].1.count(), 1);
    assert_eq!(sem.available_permits(), 2, "what nobody waits for is free");
    let permits: Vec<_> = waiters
        .iter_mut()
        .zip(&counters)
        .map(|(waiter, (waker, _))| poll_once(waiter.as_mut(), waker))
        .collect();
    assert!(permits.iter().all(Poll::is_ready));
    drop(permits);
    assert_eq!(sem.available_permits(), 5);
    sem.add_permits(0);
    assert_eq!(sem.available_permits(), 5);
}

#[test]
fn an_acquire_dropped_after_a_permit_was_handed_to_it_returns_the_permit() {
    let sem = Semaphore::new(1);
    let (w1, wakes1) = counting_waker();
    let (w2, wakes2) = counting_waker();
    let held = sem.try_acquire().unwrap();
    let mut first = Box::pin(sem.acquire());
    let mut second = Box::pin(sem.acquire());
    assert!(poll_once(first.as_mut(), &w1).is_pending());
    assert!(poll_once(second.as_mut(), &w2).is_pending());
    drop(held);
    assert_eq!((wakes1.count(), wakes2.count()), (1, 0));
    drop(first); // handed the permit, never polled
    assert_eq!(wakes2.count(), 1, "the permit goes to the next waiter");
    let permit = poll_once(second.as_mut(), &w2);
    assert!(permit.is_ready());
    drop(permit);
    assert_eq!((sem.available_permits(), sem.waiter_count()), (1, 0));

    // With nobody else waiting, the permit goes back to the semaphore.
    let held = sem.try_acquire().unwrap();
    let mut lone = Box::pin(sem.acquire());
    assert!(poll_once(lone.as_mut(), &w1).is_pending());
    drop(held);
    assert_eq!(sem.available_permits(), 0);
    drop(lone);
    assert_eq!(
        sem.available_permits(),
        1,
        "the dropped acquire gave it back"
    );
}

#[test]
fn a_dropped_waiting_acquire_leaves_nothing_behind() {
    let sem = Semaphore::new(0);
    let (waker, wakes) = counting_waker();
    let mut waiter = Box::pin(sem.acquire());
    assert!(poll_once(waiter.as_mut(), &waker).is_pending());
    assert_eq!(sem.waiter_count(), 1);
    drop(waiter);
    assert_eq!((sem.waiter_count(), live_wakers(&wakes)), (0, 1));
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), 1, "nobody claims the permit");
    assert_eq!(wakes.count(), 0);
}

#[test]
fn new_and_add_permits_refuse_more_than_max_permits() {
    let max = Semaphore::MAX_PERMITS;
    assert!(catch_unwind(|| Semaphore::new(max + 1)).is_err());
    let sem = Semaphore::new(max - 1);
    assert!(catch_unwind(AssertUnwindSafe(|| sem.add_permits(2))).is_err());
    assert_eq!(
        sem.available_permits(),
        max - 1,
        "a refused add adds nothing"
    );
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), max);
}

#[test]
fn debug_shows_permits_and_waiters() {
    let sem = Semaphore::new(1);
    assert_eq!(
        format!("{sem:?}"),
        "Semaphore { available_permits: 1, waiters: 0 }"
    );
}

// ---- a waker that panics ----

#[test]
fn add_permits_wakes_every_waiter_it_serves_even_if_a_waker_panics() {
    let sem = Semaphore::new(0);
    let (bad, bad_source) = panicking_waker("waiter 0's waker panicked");
    let (good, good_source) = counting_waker();
    let wakers = [&bad, &good, &good];
    let mut waiters: Vec<_> = wakers.iter().map(|_| Box::pin(sem.acquire())).collect();
    for (waiter, waker) in waiters.iter_mut().zip(wakers) {
        assert!(poll_once(waiter.as_mut(), waker).is_pending());
    }
    let payload = catch_unwind(AssertUnwindSafe(|| sem.add_permits(3)))
        .expect_err("the panic surfaces from add_permits");
    assert_eq!(panic_message(&*payload), Some("waiter 0's waker panicked"));
    assert_eq!(good_source.count(), 2, "the waiters behind it were woken");
    for (waiter, waker) in waiters.iter_mut().zip(wakers) {
        assert!(poll_once(waiter.as_mut(), waker).is_ready());
    }
    drop(waiters);
    assert_eq!(
        (live_wakers(&bad_source), live_wakers(&good_source)),
        (1, 1)
    );
    assert_eq!((sem.available_permits(), sem.waiter_count()), (3, 0));
}

// ---- tasks, threads ----

#[test]
fn at_most_n_tasks_run_at_once_and_they_start_in_arrival_order() {
    // 10_lock_semaphore's second half: Semaphore(2), five one-second
    // downloads; they go two by two, in order.
    virtual_time(async {
        let sem = Semaphore::new(2);
        let log = std::cell::RefCell::new(Vec::new());
        let started = spindle::time::now();
        let download = |n| {
            let (sem, log) = (&sem, &log);
            async move {
                let _permit = sem.acquire().await;
                let at = (spindle::time::now() - started).as_secs();
                log.borrow_mut().push(format!("start {n} at {at}"));
                sleep(Duration::from_secs(1)).await;
            }
        };
        join_all((1..=5).map(download)).await;
        assert_eq!(
            log.into_inner(),
            [
                "start 1 at 0",
                "start 2 at 0",
                "start 3 at 1",
                "start 4 at 1",
                "start 5 at 2"
            ]
        );
    });
}

#[test]
fn threads_never_hold_more_permits_than_there_are() {
    within(Duration::from_secs(60), || {
        let sem = Arc::new(Semaphore::new(2));
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (sem, inside, most) = (sem.clone(), inside.clone(), most.clone());
                std::thread::spawn(move || {
                    for _ in 0..2_000 {
                        futures_executor::block_on(async {
                            let _permit = sem.acquire().await;
                            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::yield_now();
                            inside.fetch_sub(1, Ordering::SeqCst);
                        });
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert!(
            most.load(Ordering::SeqCst) <= 2,
            "more holders than permits"
        );
        assert_eq!((sem.available_permits(), sem.waiter_count()), (2, 0));
    });
}
