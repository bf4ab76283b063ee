//! `race(a, b)`: `a` is polled before `b` (and wins a tie), the first
//! output is returned, and the loser is dropped before `race` returns.

mod prim_util;
mod support;

use std::cell::RefCell;
use std::future::{pending, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use prim_util::{counting_waker, poll_once, DropCounter, Gate};
use spindle::race;
use spindle::time::{now, sleep};
use support::virtual_time;

#[test]
fn a_is_polled_before_b_and_wins_a_tie() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let side = |name: &'static str| {
        let log = Rc::clone(&log);
        async move {
            log.borrow_mut().push(name);
            name
        }
    };
    assert_eq!(futures_executor::block_on(race(side("a"), side("b"))), "a");
    assert_eq!(
        *log.borrow(),
        ["a"],
        "b was never polled: a was ready first"
    );

    let gates = [Gate::new(), Gate::new()];
    let mut both = race(gates[0].wait("a"), gates[1].wait("b"));
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut both), &waker).is_pending());
    assert_eq!((gates[0].polls(), gates[1].polls()), (1, 1));
    gates[1].open();
    gates[0].open();
    assert_eq!(poll_once(Pin::new(&mut both), &waker), Poll::Ready("a"));
}

#[test]
fn the_loser_is_dropped_before_race_returns() {
    let drops = DropCounter::new();
    let gate = Gate::new();
    let loser = {
        let guard = drops.guard();
        async move {
            let _guard = guard;
            pending::<&str>().await
        }
    };
    let mut raced = Box::pin(race(loser, gate.wait("winner")));
    let (waker, _) = counting_waker();
    assert!(poll_once(raced.as_mut(), &waker).is_pending());
    assert_eq!(drops.count(), 0);
    gate.open();
    assert_eq!(poll_once(raced.as_mut(), &waker), Poll::Ready("winner"));
    // `raced` still exists: the loser was dropped by `race` itself.
    assert_eq!(drops.count(), 1);
}

#[test]
fn the_winner_is_dropped_as_soon_as_it_finished() {
    let drops = DropCounter::new();
    let winner = {
        let guard = drops.guard();
        async move {
            let _guard = guard;
            1
        }
    };
    let mut raced = Box::pin(race(winner, ready(2)));
    let (waker, _) = counting_waker();
    assert_eq!(poll_once(raced.as_mut(), &waker), Poll::Ready(1));
    assert_eq!(drops.count(), 1);
}

#[test]
fn dropping_a_race_drops_both_futures() {
    let drops = DropCounter::new();
    let side = |guard: prim_util::Guard| async move {
        let _guard = guard;
        pending::<()>().await
    };
    let mut raced = Box::pin(race(side(drops.guard()), side(drops.guard())));
    let (waker, _) = counting_waker();
    assert!(poll_once(raced.as_mut(), &waker).is_pending());
    drop(raced);
    assert_eq!(drops.count(), 2);
}

#[test]
#[should_panic(expected = "`Race` polled after completion")]
fn polling_a_race_after_it_returned_panics() {
    let mut raced = race(ready(1), ready(2));
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut raced), &waker).is_ready());
    let _ = poll_once(Pin::new(&mut raced), &waker);
}

#[test]
fn a_race_against_a_sleep_is_a_timeout_on_spindle() {
    virtual_time(async {
        let start = now();
        let slow = async {
            sleep(Duration::from_secs(5)).await;
            "work"
        };
        let limit = async {
            sleep(Duration::from_secs(1)).await;
            "gave up"
        };
        assert_eq!(race(slow, limit).await, "gave up");
        assert_eq!(now() - start, Duration::from_secs(1));
    });
}
