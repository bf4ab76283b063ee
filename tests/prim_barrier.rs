//! `Barrier`: the party that completes a round returns at once and first,
//! the others are released in arrival order, indices are arrival order,
//! the next round works; a cancelled wait un-arrives; wakers that panic;
//! real threads.

mod prim_util;
mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Wake, Waker};
use std::time::Duration;

use prim_util::{counting_waker, live_wakers, panic_message, panicking_waker, poll_once};
use spindle::{join_all, sleep, Barrier};
use support::{virtual_time, within};

/// A waker that writes its name into a shared log when woken: the order
/// of wakes across several wakers.
struct Named(&'static str, Arc<Mutex<Vec<&'static str>>>);

impl Wake for Named {
    fn wake(self: Arc<Self>) {
        self.1.lock().unwrap().push(self.0);
    }
}

#[test]
fn the_completing_party_returns_at_once_and_the_others_are_released_in_arrival_order() {
    let barrier = Barrier::new(3);
    let log = Arc::new(Mutex::new(Vec::new()));
    let waker = |name| Waker::from(Arc::new(Named(name, log.clone())));
    let (a_waker, b_waker, c_waker) = (waker("a"), waker("b"), waker("c"));
    let mut a = pin!(barrier.wait());
    let mut b = pin!(barrier.wait());
    assert!(poll_once(a.as_mut(), &a_waker).is_pending());
    assert!(poll_once(b.as_mut(), &b_waker).is_pending());
    assert_eq!(barrier.n_waiting(), 2);
    assert_eq!(
        poll_once(pin!(barrier.wait()), &c_waker),
        Poll::Ready(2),
        "the last arrival does not wait, and returns parties - 1"
    );
    assert_eq!(*log.lock().unwrap(), ["a", "b"], "released oldest first");
    assert_eq!(barrier.n_waiting(), 0, "the round is over");
    // Polled in any order, each gets its own arrival index.
    assert_eq!(poll_once(b.as_mut(), &b_waker), Poll::Ready(1));
    assert_eq!(poll_once(a.as_mut(), &a_waker), Poll::Ready(0));
}

#[test]
fn the_barrier_resets_for_the_next_round_even_before_the_last_one_is_polled() {
    let barrier = Barrier::new(2);
    let (waker, _) = counting_waker();
    let mut first = pin!(barrier.wait());
    assert!(poll_once(first.as_mut(), &waker).is_pending());
    assert_eq!(poll_once(pin!(barrier.wait()), &waker), Poll::Ready(1));
    // Round two starts while round one's first party has not run yet.
    let mut next = pin!(barrier.wait());
    assert!(poll_once(next.as_mut(), &waker).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
    assert_eq!(poll_once(first.as_mut(), &waker), Poll::Ready(0));
    assert_eq!(poll_once(pin!(barrier.wait()), &waker), Poll::Ready(1));
    assert_eq!(poll_once(next.as_mut(), &waker), Poll::Ready(0));
    assert_eq!(barrier.waiter_count(), 0);
}

#[test]
fn a_wait_dropped_while_waiting_un_arrives_and_indices_stay_arrival_order() {
    let barrier = Barrier::new(3);
    let (waker, _) = counting_waker();
    let mut quitter = Box::pin(barrier.wait());
    let mut b = pin!(barrier.wait());
    assert!(poll_once(quitter.as_mut(), &waker).is_pending());
    assert!(poll_once(b.as_mut(), &waker).is_pending());
    drop(quitter);
    assert_eq!(barrier.n_waiting(), 1, "the dropped wait left");
    let mut c = pin!(barrier.wait());
    assert!(
        poll_once(c.as_mut(), &waker).is_pending(),
        "two parties are not three"
    );
    assert_eq!(poll_once(pin!(barrier.wait()), &waker), Poll::Ready(2));
    assert_eq!(poll_once(b.as_mut(), &waker), Poll::Ready(0));
    assert_eq!(poll_once(c.as_mut(), &waker), Poll::Ready(1));
}

#[test]
fn a_wait_dropped_after_its_round_completed_leaves_the_round_completed() {
    let barrier = Barrier::new(2);
    let (waker, wakes) = counting_waker();
    let mut first = Box::pin(barrier.wait());
    assert!(poll_once(first.as_mut(), &waker).is_pending());
    assert_eq!(poll_once(pin!(barrier.wait()), &waker), Poll::Ready(1));
    assert_eq!(wakes.count(), 1);
    drop(first); // released, never polled
    assert_eq!(barrier.waiter_count(), 0, "nothing left behind");
    // The next round is a fresh one.
    let mut next = pin!(barrier.wait());
    assert!(poll_once(next.as_mut(), &waker).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
}

#[test]
fn a_barrier_of_one_never_waits_and_of_zero_cannot_be_made() {
    let barrier = Barrier::new(1);
    let (waker, wakes) = counting_waker();
    for _ in 0..3 {
        assert_eq!(poll_once(pin!(barrier.wait()), &waker), Poll::Ready(0));
    }
    assert_eq!(wakes.count(), 0);
    assert_eq!((barrier.parties(), barrier.n_waiting()), (1, 0));
    assert!(catch_unwind(|| Barrier::new(0)).is_err());
    assert_eq!(
        format!("{:?}", Barrier::new(2)),
        "Barrier { parties: 2, n_waiting: 0 }"
    );
}

#[test]
fn a_wait_polled_after_it_returned_panics() {
    let barrier = Barrier::new(1);
    let (waker, _) = counting_waker();
    let mut wait = pin!(barrier.wait());
    assert_eq!(poll_once(wait.as_mut(), &waker), Poll::Ready(0));
    assert!(catch_unwind(AssertUnwindSafe(|| poll_once(wait.as_mut(), &waker))).is_err());
}

// ---- a waker that panics ----

#[test]
fn the_completing_party_releases_everyone_even_if_a_waker_panics() {
    let barrier = Barrier::new(4);
    let (bad, bad_source) = panicking_waker("party 0's waker panicked");
    let (good, good_source) = counting_waker();
    let wakers = [&bad, &good, &good];
    let mut parties: Vec<_> = wakers.iter().map(|_| Box::pin(barrier.wait())).collect();
    for (party, waker) in parties.iter_mut().zip(wakers) {
        assert!(poll_once(party.as_mut(), waker).is_pending());
    }
    let mut last = pin!(barrier.wait());
    let payload = catch_unwind(AssertUnwindSafe(|| poll_once(last.as_mut(), &good)))
        .expect_err("the panic surfaces from the completing poll");
    assert_eq!(panic_message(&*payload), Some("party 0's waker panicked"));
    assert_eq!(good_source.count(), 2, "the parties behind it were woken");
    let indices: Vec<_> = parties
        .iter_mut()
        .zip(wakers)
        .map(|(party, waker)| poll_once(party.as_mut(), waker))
        .collect();
    assert_eq!(indices, [Poll::Ready(0), Poll::Ready(1), Poll::Ready(2)]);
    drop(parties);
    assert_eq!(
        (live_wakers(&bad_source), live_wakers(&good_source)),
        (1, 1)
    );
    assert_eq!(barrier.waiter_count(), 0);
}

// ---- tasks, threads ----

#[test]
fn runners_on_a_spindle_runtime_go_through_last_arrival_first() {
    // 11_barrier_condition's first half: r1, r2, r3 arrive at 1, 2, 3 s;
    // r3 completes the round and is through first, then r1, then r2.
    virtual_time(async {
        let barrier = Barrier::new(3);
        let log = std::cell::RefCell::new(Vec::new());
        let runner = |name, delay| {
            let (barrier, log) = (&barrier, &log);
            async move {
                sleep(Duration::from_secs(delay)).await;
                log.borrow_mut().push(format!("{name} at the barrier"));
                let index = barrier.wait().await;
                log.borrow_mut().push(format!("{name} through ({index})"));
            }
        };
        join_all([runner("r1", 1), runner("r2", 2), runner("r3", 3)]).await;
        assert_eq!(
            log.into_inner(),
            [
                "r1 at the barrier",
                "r2 at the barrier",
                "r3 at the barrier",
                "r3 through (2)",
                "r1 through (0)",
                "r2 through (1)"
            ]
        );
    });
}

#[test]
fn threads_meet_round_after_round_with_each_index_once_per_round() {
    within(Duration::from_secs(60), || {
        const PARTIES: usize = 4;
        const ROUNDS: usize = 200;
        let barrier = Arc::new(Barrier::new(PARTIES));
        let threads: Vec<_> = (0..PARTIES)
            .map(|_| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    (0..ROUNDS)
                        .map(|_| futures_executor::block_on(barrier.wait()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let per_thread: Vec<Vec<usize>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        for round in 0..ROUNDS {
            let mut indices: Vec<_> = per_thread.iter().map(|r| r[round]).collect();
            indices.sort_unstable();
            assert_eq!(indices, [0, 1, 2, 3], "round {round}");
        }
        assert_eq!(barrier.waiter_count(), 0);
    });
}
