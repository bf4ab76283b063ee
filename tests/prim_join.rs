//! `join_all` and `join!`: input-order outputs, who gets polled when, and
//! the O(n) cost of n children that each wake once.

mod prim_util;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use prim_util::{counting_waker, poll_once, yield_once, DropCounter, Gate};
use spindle::{join, join_all};

#[test]
fn join_all_outputs_come_in_input_order_whatever_the_finishing_order() {
    let gates: Vec<Gate> = (0..4).map(|_| Gate::new()).collect();
    let mut all = join_all(gates.iter().enumerate().map(|(i, g)| g.wait(i * 10)));
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    // Children 3, 2, 1 finish first, child 0 last.
    for g in gates.iter().skip(1).rev() {
        g.open();
        assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    }
    gates[0].open();
    assert_eq!(
        poll_once(Pin::new(&mut all), &waker),
        Poll::Ready(vec![0, 10, 20, 30])
    );
}

#[test]
fn join_all_of_nothing_is_ready_at_once() {
    let mut all = join_all(Vec::<std::future::Ready<u8>>::new());
    let (waker, wakes) = counting_waker();
    assert_eq!(poll_once(Pin::new(&mut all), &waker), Poll::Ready(vec![]));
    assert_eq!(wakes.count(), 0);
}

#[test]
fn join_all_first_poll_polls_every_child_once_in_input_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let children = (0..5).map(|i| {
        let log = Rc::clone(&log);
        async move {
            log.borrow_mut().push(i);
            std::future::pending::<()>().await;
        }
    });
    let mut all = join_all(children);
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    assert_eq!(*log.borrow(), [0, 1, 2, 3, 4]);
}

#[test]
fn join_all_polls_a_child_again_only_after_its_own_waker_fired() {
    let gates: Vec<Gate> = (0..5).map(|_| Gate::new()).collect();
    let mut all = join_all(gates.iter().map(|g| g.wait(())));
    let (waker, parent_wakes) = counting_waker();
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    let polls = |gates: &[Gate]| gates.iter().map(Gate::polls).collect::<Vec<_>>();
    assert_eq!(polls(&gates), [1, 1, 1, 1, 1]);

    // A spurious poll of the parent polls no child.
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    assert_eq!(polls(&gates), [1, 1, 1, 1, 1]);
    assert_eq!(parent_wakes.count(), 0);

    // Child 3's waker fires (without finishing): only child 3 is polled.
    gates[3].wake_only();
    assert_eq!(parent_wakes.count(), 1, "a child's wake wakes the parent");
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    assert_eq!(polls(&gates), [1, 1, 1, 2, 1]);

    // Children 4 then 0 wake: both polled, nothing else.
    gates[4].wake_only();
    gates[0].wake_only();
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    assert_eq!(polls(&gates), [2, 1, 1, 2, 2]);
}

#[test]
fn join_all_polls_a_child_once_however_often_it_woke_in_between() {
    let gates: Vec<Gate> = (0..3).map(|_| Gate::new()).collect();
    let mut all = join_all(gates.iter().map(|g| g.wait(())));
    let (waker, parent_wakes) = counting_waker();
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    for _ in 0..100 {
        gates[1].wake_only();
    }
    assert_eq!(
        parent_wakes.count(),
        1,
        "only the first wake of a batch wakes the parent"
    );
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    assert_eq!(gates[1].polls(), 2);
}

/// A child that parks on its first poll (handing its waker to the test) and
/// finishes on its second, counting every poll.
struct WakeOnce {
    index: usize,
    polled: bool,
    polls: Rc<std::cell::Cell<usize>>,
    wakers: Rc<RefCell<Vec<Waker>>>,
}

impl Future for WakeOnce {
    type Output = usize;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.polls.set(self.polls.get() + 1);
        if self.polled {
            return Poll::Ready(self.index);
        }
        self.polled = true;
        self.wakers.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn join_all_of_100_000_children_that_each_wake_once_costs_linear_polls() {
    const N: usize = 100_000;
    let polls = Rc::new(std::cell::Cell::new(0));
    let wakers = Rc::new(RefCell::new(Vec::with_capacity(N)));
    let mut all = join_all((0..N).map(|index| WakeOnce {
        index,
        polled: false,
        polls: Rc::clone(&polls),
        wakers: Rc::clone(&wakers),
    }));
    let (waker, parent_wakes) = counting_waker();
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    assert_eq!(polls.get(), N, "first poll: every child once");

    for w in wakers.borrow_mut().drain(..) {
        w.wake();
    }
    assert_eq!(
        parent_wakes.count(),
        1,
        "one parent wake for the whole batch"
    );

    let Poll::Ready(out) = poll_once(Pin::new(&mut all), &waker) else {
        panic!("all children were woken and finish on their second poll");
    };
    assert_eq!(
        polls.get(),
        2 * N,
        "second poll: only the woken children, once each"
    );
    assert!(out.iter().copied().eq(0..N));
}

#[test]
fn join_all_drops_a_finished_child_at_once_and_never_polls_it_again() {
    let drops = DropCounter::new();
    let gate = Gate::new();
    let early = {
        let guard = drops.guard();
        async move {
            let _guard = guard;
            1
        }
    };
    let late_gate = gate.clone();
    let late = async move { late_gate.wait(2).await };
    let mut all = join_all(vec![
        Box::pin(early) as Pin<Box<dyn Future<Output = i32>>>,
        Box::pin(late),
    ]);
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    assert_eq!(
        drops.count(),
        1,
        "the finished child is dropped before the join ends"
    );
    gate.open();
    assert_eq!(
        poll_once(Pin::new(&mut all), &waker),
        Poll::Ready(vec![1, 2])
    );
    assert_eq!(gate.polls(), 2);
}

#[test]
fn join_all_child_that_wakes_itself_waits_for_the_next_poll_of_the_parent() {
    let polls = Rc::new(std::cell::Cell::new(0));
    let p = Rc::clone(&polls);
    let child = async move {
        p.set(p.get() + 1);
        yield_once().await;
        p.set(p.get() + 1);
    };
    let mut all = join_all([child]);
    let (waker, parent_wakes) = counting_waker();
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    assert_eq!(
        polls.get(),
        1,
        "the parent does not loop on a self-waking child"
    );
    assert_eq!(parent_wakes.count(), 1);
    assert!(poll_once(Pin::new(&mut all), &waker).is_ready());
    assert_eq!(polls.get(), 2);
}

#[test]
fn dropping_join_all_drops_unfinished_children() {
    let drops = DropCounter::new();
    let children = (0..3).map(|_| {
        let guard = drops.guard();
        async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        }
    });
    let mut all = join_all(children);
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    assert_eq!(drops.count(), 0);
    drop(all);
    assert_eq!(drops.count(), 3);
}

#[test]
fn join_all_child_woken_from_another_thread_is_polled() {
    let gate = Gate::new();
    let all = join_all([gate.wait(7), Gate::new().wait(8)]);
    let other = gate.clone();
    let mut all = Box::pin(all);
    let (waker, parent_wakes) = counting_waker();
    assert!(poll_once(all.as_mut(), &waker).is_pending());
    std::thread::spawn(move || other.open()).join().unwrap();
    assert_eq!(parent_wakes.count(), 1);
    assert!(poll_once(all.as_mut(), &waker).is_pending());
    assert_eq!(gate.polls(), 2);
}

#[test]
#[should_panic(expected = "`JoinAll` polled after completion")]
fn join_all_polled_after_completion_panics() {
    let mut all = join_all([std::future::ready(1)]);
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut all), &waker).is_ready());
    let _ = poll_once(Pin::new(&mut all), &waker);
}

#[test]
fn join_all_runs_on_an_executor() {
    let out = futures_executor::block_on(join_all((0..10).map(|i| async move {
        for _ in 0..i {
            yield_once().await;
        }
        i
    })));
    assert_eq!(out, (0..10).collect::<Vec<_>>());
}

// ---- join! ----

#[test]
fn join_macro_joins_futures_of_different_types_into_a_tuple() {
    let out = futures_executor::block_on(join!(async { 1u8 }, async { "two" }, async {
        yield_once().await;
        vec![3.0]
    }));
    assert_eq!(out, (1u8, "two", vec![3.0]));
}

#[test]
fn join_macro_of_one_future_gives_a_one_tuple() {
    let out: (i32,) = futures_executor::block_on(join!(async { 5 }));
    assert_eq!(out, (5,));
}

#[test]
fn join_macro_takes_twelve_futures_and_a_trailing_comma() {
    let out = futures_executor::block_on(join!(
        async { 0 },
        async { 1u8 },
        async { 2u16 },
        async { 3u32 },
        async { 4u64 },
        async { 5i8 },
        async { 6i16 },
        async { 7i32 },
        async { 8i64 },
        async { '9' },
        async { "10" },
        async { 11usize },
    ));
    assert_eq!(out, (0, 1, 2, 3, 4, 5, 6, 7, 8, '9', "10", 11));
}

#[test]
fn join_macro_runs_its_futures_concurrently() {
    // Each side waits for the other: run one after the other, this deadlocks.
    let a_done = Gate::new();
    let b_done = Gate::new();
    let a = {
        let (mine, theirs) = (a_done.clone(), b_done.clone());
        async move {
            mine.open();
            theirs.wait("a").await
        }
    };
    let b = {
        let (mine, theirs) = (b_done.clone(), a_done.clone());
        async move {
            mine.open();
            theirs.wait("b").await
        }
    };
    assert_eq!(futures_executor::block_on(join!(a, b)), ("a", "b"));
}

#[test]
fn join_macro_first_poll_polls_each_in_order_and_never_repolls_a_finished_one() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let drops = DropCounter::new();
    let gate = Gate::new();
    let quick = {
        let (log, guard) = (Rc::clone(&log), drops.guard());
        async move {
            let _guard = guard;
            log.borrow_mut().push("quick");
            1
        }
    };
    let slow = {
        let (log, gate) = (Rc::clone(&log), gate.clone());
        async move {
            log.borrow_mut().push("slow");
            gate.wait(2).await
        }
    };
    let mut joined = Box::pin(join!(quick, slow));
    let (waker, _) = counting_waker();
    assert!(poll_once(joined.as_mut(), &waker).is_pending());
    assert_eq!(*log.borrow(), ["quick", "slow"]);
    assert_eq!(drops.count(), 1, "a finished future is dropped at once");
    for _ in 0..3 {
        assert!(poll_once(joined.as_mut(), &waker).is_pending());
    }
    gate.open();
    assert_eq!(poll_once(joined.as_mut(), &waker), Poll::Ready((1, 2)));
    assert_eq!(
        *log.borrow(),
        ["quick", "slow"],
        "quick was not polled again"
    );
    assert_eq!(gate.polls(), 5);
}

#[test]
fn join_macro_evaluates_its_arguments_at_once_but_polls_nothing_until_polled() {
    let evaluated = AtomicUsize::new(0);
    let polled = Arc::new(AtomicUsize::new(0));
    let make = |n: usize| {
        evaluated.fetch_add(1, Ordering::SeqCst);
        let polled = Arc::clone(&polled);
        async move {
            polled.fetch_add(1, Ordering::SeqCst);
            n
        }
    };
    let joined = join!(make(1), make(2));
    assert_eq!(evaluated.load(Ordering::SeqCst), 2);
    assert_eq!(polled.load(Ordering::SeqCst), 0);
    assert_eq!(futures_executor::block_on(joined), (1, 2));
    assert_eq!(polled.load(Ordering::SeqCst), 2);
}

#[test]
fn dropping_a_join_macro_future_drops_its_unfinished_futures() {
    let drops = DropCounter::new();
    let pending = |guard: prim_util::Guard| async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    };
    let mut joined = Box::pin(join!(pending(drops.guard()), pending(drops.guard())));
    let (waker, _) = counting_waker();
    assert!(poll_once(joined.as_mut(), &waker).is_pending());
    assert_eq!(drops.count(), 0);
    drop(joined);
    assert_eq!(drops.count(), 2);
}

#[test]
fn dropping_join_all_keeps_what_finished_children_did_and_drops_their_outputs() {
    let drops = DropCounter::new();
    let done = std::cell::Cell::new(0);
    let gate = Gate::new();
    let children = (0..3).map(|i| {
        let (done, gate, output) = (&done, gate.clone(), drops.guard());
        async move {
            if i == 1 {
                gate.wait(()).await; // the one child that never finishes
            }
            done.set(done.get() + 1); // the child's effect
            output
        }
    });
    let mut all = join_all(children);
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    assert_eq!((done.get(), drops.count()), (2, 0));
    drop(all);
    assert_eq!(drops.count(), 3, "two outputs and the unfinished child");
    assert_eq!(done.get(), 2, "the finished children's effects stay");
    assert_eq!(
        gate.polls(),
        1,
        "the unfinished child was never polled again"
    );
}

// ---- try_join_all, FromIterator ----

#[test]
fn try_join_all_gives_the_outputs_in_input_order_when_all_succeed() {
    let gates: Vec<Gate> = (0..3).map(|_| Gate::new()).collect();
    let mut all = spindle::try_join_all(gates.iter().enumerate().map(|(i, g)| {
        let wait = g.wait(i);
        async move { Ok::<_, String>(wait.await) }
    }));
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    gates[2].open();
    gates[0].open();
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    gates[1].open();
    assert_eq!(
        poll_once(Pin::new(&mut all), &waker),
        Poll::Ready(Ok(vec![0, 1, 2]))
    );
}

#[test]
fn try_join_all_drops_every_other_child_at_the_first_err_before_returning() {
    let drops = DropCounter::new();
    let fail = Gate::new();
    let done_early = DropCounter::new();
    type Child = Pin<Box<dyn Future<Output = Result<u8, &'static str>>>>;
    let children: Vec<Child> = vec![
        Box::pin({
            let guard = done_early.guard();
            async move {
                let _output_guard = guard; // finishes at once; its output is kept
                Ok(1)
            }
        }),
        Box::pin({
            let guard = drops.guard();
            async move {
                let _guard = guard;
                std::future::pending().await
            }
        }),
        Box::pin({
            let wait = fail.wait(());
            async move {
                wait.await;
                Err("third failed")
            }
        }),
        Box::pin({
            let guard = drops.guard();
            async move {
                let _guard = guard;
                std::future::pending().await
            }
        }),
    ];
    let mut all = spindle::try_join_all(children);
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    assert_eq!(drops.count(), 0);
    fail.open();
    // The `TryJoinAll` still exists: the drops were done by it, not by us.
    assert_eq!(
        poll_once(Pin::new(&mut all), &waker),
        Poll::Ready(Err("third failed"))
    );
    assert_eq!(
        drops.count(),
        2,
        "both pending children dropped before returning"
    );
    assert_eq!(done_early.count(), 1);
}

#[test]
fn try_join_all_of_nothing_is_ok_at_once() {
    let none: Vec<std::future::Ready<Result<u8, ()>>> = Vec::new();
    assert_eq!(
        futures_executor::block_on(spindle::try_join_all(none)),
        Ok(vec![])
    );
}

#[test]
fn join_all_and_try_join_all_can_be_collected_from_an_iterator() {
    let all: spindle::JoinAll<_> = (1..=3).map(|n| async move { n * 2 }).collect();
    assert_eq!(futures_executor::block_on(all), [2, 4, 6]);
    let tried: spindle::TryJoinAll<_> = ["1", "2"]
        .iter()
        .map(|s| async move { s.parse::<u8>() })
        .collect();
    assert_eq!(futures_executor::block_on(tried), Ok(vec![1, 2]));
}

#[test]
fn join_all_a_stale_wake_of_a_finished_child_polls_no_child() {
    // A child stores its waker, finishes, and the stored waker fires later.
    let stored = Rc::new(RefCell::new(None::<Waker>));
    let gate = Gate::new();
    let keeper = {
        let stored = Rc::clone(&stored);
        Box::pin(std::future::poll_fn(move |cx| {
            *stored.borrow_mut() = Some(cx.waker().clone());
            Poll::Ready(0)
        })) as Pin<Box<dyn Future<Output = i32>>>
    };
    let waiter = Box::pin(gate.wait(1)) as Pin<Box<dyn Future<Output = i32>>>;
    let mut all = join_all(vec![keeper, waiter]);
    let (waker, parent_wakes) = counting_waker();
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    assert_eq!(gate.polls(), 1);
    // The finished child's stale waker fires: the parent is woken, but no
    // child is polled for it.
    stored.borrow_mut().take().unwrap().wake();
    assert_eq!(parent_wakes.count(), 1);
    assert!(poll_once(Pin::new(&mut all), &waker).is_pending());
    assert_eq!(gate.polls(), 1, "a stale wake polls nobody");
    gate.open();
    assert_eq!(
        poll_once(Pin::new(&mut all), &waker),
        Poll::Ready(vec![0, 1])
    );
}
