//! `as_completed`: outputs in completion order, each future polled only
//! after its own waker fired (a thousand futures, every poll counted), the
//! unfinished ones dropped with the stream or taken out of it.

mod prim_util;
mod support;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use prim_util::{counting_waker, DropCounter, Gate};
use spindle::stream::{Stream, StreamExt};
use spindle::time::sleep;
use spindle::{as_completed, spawn};
use support::virtual_time;

/// One `poll_next` of `s` with `waker`.
fn step<S: Stream + Unpin>(s: &mut S, waker: &Waker) -> Poll<Option<S::Item>> {
    Pin::new(s).poll_next(&mut Context::from_waker(waker))
}

#[test]
fn outputs_come_in_completion_order() {
    let gates: Vec<Gate> = (0..3).map(|_| Gate::new()).collect();
    let mut done = as_completed(gates.iter().enumerate().map(|(i, g)| g.wait(i)));
    let (waker, _) = counting_waker();
    assert_eq!(step(&mut done, &waker), Poll::Pending);
    gates[2].open();
    gates[0].open();
    assert_eq!(step(&mut done, &waker), Poll::Ready(Some(2)));
    assert_eq!(step(&mut done, &waker), Poll::Ready(Some(0)));
    assert_eq!(step(&mut done, &waker), Poll::Pending);
    gates[1].open();
    assert_eq!(step(&mut done, &waker), Poll::Ready(Some(1)));
    assert_eq!(step(&mut done, &waker), Poll::Ready(None));
    assert_eq!(step(&mut done, &waker), Poll::Ready(None), "stays over");
}

#[test]
fn the_first_poll_polls_in_input_order_until_one_finishes() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let futures = (0..4).map(|i| {
        let log = Rc::clone(&log);
        std::future::poll_fn(move |_| {
            log.borrow_mut().push(i);
            if i == 2 {
                Poll::Ready(i)
            } else {
                Poll::Pending
            }
        })
    });
    let mut done = as_completed(futures);
    let (waker, _) = counting_waker();
    assert_eq!(step(&mut done, &waker), Poll::Ready(Some(2)));
    assert_eq!(*log.borrow(), [0, 1, 2], "stopped at the first output");
    // The next poll carries on with the one not reached yet, and no other.
    assert_eq!(step(&mut done, &waker), Poll::Pending);
    assert_eq!(*log.borrow(), [0, 1, 2, 3]);
    assert_eq!(step(&mut done, &waker), Poll::Pending);
    assert_eq!(log.borrow().len(), 4, "nobody was woken: nobody is polled");
}

/// A future that needs `wakes_needed` wakes to finish; it counts its polls
/// and hands its waker to the test, which wakes it.
struct Probe {
    id: usize,
    wakes_needed: usize,
    polls: Rc<Cell<usize>>,
    parked: Rc<RefCell<Vec<(usize, Waker)>>>,
}

impl Future for Probe {
    type Output = usize;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.polls.set(self.polls.get() + 1);
        if self.polls.get() > self.wakes_needed {
            return Poll::Ready(self.id);
        }
        self.parked.borrow_mut().push((self.id, cx.waker().clone()));
        Poll::Pending
    }
}

#[test]
fn a_thousand_futures_each_polled_exactly_once_per_wake_plus_once() {
    const N: usize = 1_000;
    let polls: Vec<Rc<Cell<usize>>> = (0..N).map(|_| Rc::new(Cell::new(0))).collect();
    let wakes: Vec<Cell<usize>> = (0..N).map(|_| Cell::new(0)).collect();
    let parked = Rc::new(RefCell::new(Vec::new()));
    let mut done = as_completed((0..N).map(|id| Probe {
        id,
        wakes_needed: id % 4,
        polls: Rc::clone(&polls[id]),
        parked: Rc::clone(&parked),
    }));
    let (waker, _) = counting_waker();
    let mut order = Vec::new();
    // A deterministic scramble of who is woken when.
    let mut seed = 0x2545_f491_u64;
    loop {
        match step(&mut done, &waker) {
            Poll::Ready(Some(id)) => order.push(id),
            Poll::Ready(None) => break,
            Poll::Pending => {
                let mut parked = parked.borrow_mut();
                assert!(
                    !parked.is_empty(),
                    "pending with nobody to wake: a lost wake"
                );
                // Wake a few parked futures, in a scrambled order.
                for _ in 0..parked.len().min(7) {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let pick = seed as usize % parked.len();
                    let (id, w) = parked.swap_remove(pick);
                    wakes[id].set(wakes[id].get() + 1);
                    w.wake();
                }
            }
        }
    }
    assert_eq!(order.len(), N);
    for id in 0..N {
        assert_eq!(
            polls[id].get(),
            wakes[id].get() + 1,
            "future {id}: polled once, then once per wake"
        );
    }
    let total_polls: usize = polls.iter().map(|p| p.get()).sum();
    let total_wakes: usize = wakes.iter().map(Cell::get).sum();
    assert_eq!(total_polls, total_wakes + N, "O(woken), not O(n) per wake");
}

#[test]
fn a_future_woken_many_times_before_the_next_poll_is_polled_once() {
    let gates: Vec<Gate> = (0..3).map(|_| Gate::new()).collect();
    let mut done = as_completed(gates.iter().map(|g| g.wait(())));
    let (waker, parent_wakes) = counting_waker();
    assert_eq!(step(&mut done, &waker), Poll::Pending);
    for _ in 0..100 {
        gates[1].wake_only();
    }
    assert_eq!(parent_wakes.count(), 1, "one wake of the stream's task");
    assert_eq!(step(&mut done, &waker), Poll::Pending);
    assert_eq!(gates.iter().map(Gate::polls).collect::<Vec<_>>(), [1, 2, 1]);
}

#[test]
fn len_size_hint_and_an_empty_input() {
    let mut empty = as_completed(Vec::<std::future::Ready<u8>>::new());
    assert!(empty.is_empty());
    let (waker, _) = counting_waker();
    assert_eq!(step(&mut empty, &waker), Poll::Ready(None));

    let gate = Gate::new();
    let mut two = as_completed([gate.wait(1), gate.wait(2)]);
    assert_eq!((two.len(), two.size_hint()), (2, (2, Some(2))));
    assert_eq!(step(&mut two, &waker), Poll::Pending);
    gate.open();
    assert_eq!(
        step(&mut two, &waker),
        Poll::Ready(Some(2)),
        "the gate woke the last poller"
    );
    assert_eq!((two.len(), two.size_hint()), (1, (1, Some(1))));
}

#[test]
fn dropping_the_stream_drops_the_unfinished_futures() {
    let drops = DropCounter::new();
    let mut done = as_completed((0..3).map(|i| {
        let guard = drops.guard();
        async move {
            let _guard = guard;
            if i > 0 {
                std::future::pending::<()>().await;
            }
            i
        }
    }));
    let (waker, _) = counting_waker();
    assert_eq!(step(&mut done, &waker), Poll::Ready(Some(0)));
    assert_eq!(drops.count(), 1, "a finished future is dropped at once");
    drop(done);
    assert_eq!(drops.count(), 3);
}

#[test]
fn into_pending_gives_the_unfinished_futures_back_in_input_order() {
    let gates: Vec<Gate> = (0..4).map(|_| Gate::new()).collect();
    let mut done = as_completed(gates.iter().enumerate().map(|(i, g)| g.wait(i)));
    let (waker, _) = counting_waker();
    assert_eq!(step(&mut done, &waker), Poll::Pending);
    gates[1].open();
    assert_eq!(step(&mut done, &waker), Poll::Ready(Some(1)));
    let pending = done.into_pending();
    assert_eq!(pending.len(), 3);
    for gate in &gates {
        gate.open();
    }
    let outputs: Vec<usize> = pending
        .into_iter()
        .map(futures_executor::block_on)
        .collect();
    assert_eq!(outputs, [0, 2, 3]);
}

#[test]
fn as_completed_over_spawned_tasks_on_spindle() {
    virtual_time(async {
        let tasks = [("slow", 3), ("fast", 1), ("mid", 2)].map(|(name, secs)| {
            spawn(async move {
                sleep(Duration::from_secs(secs)).await;
                name
            })
        });
        let names: Vec<&str> = as_completed(tasks).map(|r| r.unwrap()).collect().await;
        assert_eq!(names, ["fast", "mid", "slow"]);
    });
}
