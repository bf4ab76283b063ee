//! Model checks of the permit word behind `Mutex` and `Semaphore`
//! (`permits.rs`) and of the condition's notify/cancel hand-off, with
//! [loom] (see `loom_tests.rs` for how these models work and how to run
//! them: `cargo test ... --lib loom` runs both files).
//!
//! The permit word is the crate's one lock-free protocol: a compare-exchange
//! to take a permit, a `fetch_add` to give it back, and a `QUEUED` bit that
//! sends both to the waiter list. What can go wrong lives between two
//! threads' steps — a permit given back between a failed fast path and the
//! park, a waiter parking while a release is on its way — and in the memory
//! orderings, which decide whether the next holder of a `Mutex` sees what
//! the last one wrote. Under loom the mutex's data sits in loom's checked
//! `UnsafeCell` (`sync.rs`), so an access not ordered after the previous
//! holder's is reported as a data race, and two holders at once as a
//! concurrent access; a waiter nobody wakes shows up as a deadlock.
//!
//! Each model below was seen to fail with the protocol broken on purpose,
//! and passes with it whole:
//!
//! | broken on purpose (`permits.rs`, `condition.rs`) | fails |
//! |---|---|
//! | fast-path compare-exchange `Acquire` → `Relaxed` | (d), (g): `Causality violation: Concurrent write accesses to UnsafeCell` |
//! | release `fetch_add` `Release` → `Relaxed` | (d), (g): the same |
//! | release ignores `QUEUED` (no hand-off) | (d): deadlock |
//! | park does not take a permit given back meanwhile | (d): deadlock |
//! | `try_acquire` ignores `QUEUED` (barging) | (f): "try_acquire took the waiter's permit"; (d): concurrent access |
//! | a notified wait, dropped, does not pass its notification on | (g): deadlock |
//!
//! The hand-off's `Acquire` read is the one ordering no model here
//! reaches: it takes four parties and a cancel (see "Memory ordering" in
//! `permits.rs`).
//!
//! [loom]: https://docs.rs/loom

use std::future::Future;
use std::pin::Pin;

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

use crate::loom_tests::{model, poll_once, recorder};
use crate::{Condition, Mutex, Semaphore};

/// A future that owns what it uses, polled once and parked: a waiter that
/// another thread can drop at any point of its life.
fn parked<O>(
    future: impl Future<Output = O> + Send + 'static,
) -> Pin<Box<dyn Future<Output = O> + Send>> {
    let mut future: Pin<Box<dyn Future<Output = O> + Send>> = Box::pin(future);
    let (waker, _) = recorder(false);
    assert!(poll_once(future.as_mut(), &waker).is_pending(), "must park");
    future
}

/// (d) Three tasks on three threads each lock, add one and unlock; one of
/// them tries `try_lock` first. Whatever the interleaving, nobody is left
/// waiting (a lost hand-off would be a deadlock), the data is only ever
/// touched by one holder at a time and each holder sees the last one's
/// write (loom's cell checks both), and the sum is 3.
#[test]
fn loom_mutex_holders_exclude_each_other_and_see_each_others_writes() {
    model(|| {
        let mutex = Arc::new(Mutex::new(0usize));
        let others: Vec<_> = (0..2)
            .map(|_| {
                let mutex = mutex.clone();
                thread::spawn(move || *block_on(mutex.lock()) += 1)
            })
            .collect();
        match mutex.try_lock() {
            Some(mut guard) => *guard += 1,
            None => *block_on(mutex.lock()) += 1,
        }
        for other in others {
            other.join().unwrap();
        }
        assert_eq!(*mutex.try_lock().expect("unlocked at the end"), 3);
        assert_eq!(mutex.waiter_count(), 0);
    });
}

/// (e) The lock is held; a `lock()` parks behind it and is dropped by
/// another thread at any point — while still waiting, or after the unlock
/// handed it the lock. A third thread locks too. The dropped lock never
/// runs its body, and whatever it held passes on: the third thread always
/// gets the lock, and at the end the mutex is free with nobody in line.
#[test]
fn loom_mutex_lock_dropped_after_the_hand_off_passes_the_lock_on() {
    model(|| {
        let mutex = Arc::new(Mutex::new(0usize));
        let guard = mutex.try_lock().unwrap();
        let cancelled = parked({
            let mutex = mutex.clone();
            async move { *mutex.lock().await += 100 }
        });
        let canceller = thread::spawn(move || drop(cancelled));
        let locker = {
            let mutex = mutex.clone();
            thread::spawn(move || *block_on(mutex.lock()) += 1)
        };
        drop(guard);
        canceller.join().unwrap();
        locker.join().unwrap();
        assert_eq!(*mutex.try_lock().expect("unlocked at the end"), 1);
        assert_eq!(mutex.waiter_count(), 0);
    });
}

/// (f) A semaphore with no permit; an `acquire` parks first. One thread
/// adds a permit while another tries to barge in with `try_acquire`. The
/// permit always goes to the waiter — `try_acquire` fails whatever the
/// interleaving, even in the instant after the permit was added — and
/// the waiter is woken exactly once and then holds it.
#[test]
fn loom_semaphore_permit_goes_to_the_waiter_never_to_a_barging_try_acquire() {
    model(|| {
        let semaphore = Arc::new(Semaphore::new(0));
        let (waker, wakes) = recorder(false);
        let mut waiter = Box::pin({
            let semaphore = semaphore.clone();
            async move {
                let _permit = semaphore.acquire().await;
            }
        });
        assert!(poll_once(waiter.as_mut(), &waker).is_pending());
        let adder = {
            let semaphore = semaphore.clone();
            thread::spawn(move || semaphore.add_permits(1))
        };
        let barger = {
            let semaphore = semaphore.clone();
            thread::spawn(move || semaphore.try_acquire().is_some())
        };
        adder.join().unwrap();
        assert!(
            !barger.join().unwrap(),
            "try_acquire took the waiter's permit"
        );
        assert_eq!(wakes.wakes(), 1, "the waiter is woken once");
        assert!(poll_once(waiter.as_mut(), &waker).is_ready());
        assert_eq!(semaphore.available_permits(), 1);
        assert_eq!(semaphore.waiter_count(), 0);
    });
}

/// (g) A wait parks on a condition first, and another thread drops it at
/// any point; a second waiter waits for a flag with `wait_for`; a notifier
/// sets the flag under the mutex and calls `notify_one`. The notification
/// may go to the first wait just before it is dropped: then it passes on,
/// so the second waiter always gets through (a notification lost to a wait
/// that gave up would be a deadlock), and nothing stays parked.
#[test]
fn loom_condition_notification_taken_by_a_dropped_wait_passes_on() {
    model(|| {
        let shared = Arc::new((Mutex::new(false), Condition::new()));
        let cancelled = parked({
            let shared = shared.clone();
            async move {
                let (flag, cond) = &*shared;
                let guard = flag.lock().await;
                drop(cond.wait(guard).await);
            }
        });
        let canceller = thread::spawn(move || drop(cancelled));
        let waiter = {
            let shared = shared.clone();
            thread::spawn(move || {
                block_on(async {
                    let (flag, cond) = &*shared;
                    let guard = cond.wait_for(flag.lock().await, |set| *set).await;
                    assert!(*guard);
                })
            })
        };
        block_on(async {
            let (flag, cond) = &*shared;
            *flag.lock().await = true;
            cond.notify_one();
        });
        canceller.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(shared.1.waiter_count(), 0);
        assert_eq!(shared.0.waiter_count(), 0);
    });
}
