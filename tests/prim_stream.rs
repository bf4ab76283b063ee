//! Streams: the `StreamExt` methods, `iter`, and the async generator —
//! lazy, suspended at every `emit`, dropped with its stream.

mod prim_util;

use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_executor::block_on;
use prim_util::{counting_waker, poll_once, yield_once, DropCounter, Gate};
use spindle::stream::{self, Stream, StreamExt};
use spindle::{join, Event};

#[test]
fn next_walks_a_stream_then_returns_none() {
    let mut s = stream::iter(vec!["a", "b"]);
    block_on(async {
        assert_eq!(s.next().await, Some("a"));
        assert_eq!(s.next().await, Some("b"));
        assert_eq!(s.next().await, None);
        assert_eq!(s.next().await, None);
    });
}

#[test]
fn iter_is_always_ready_and_reports_its_size() {
    let mut s = stream::iter(0..3);
    assert_eq!(s.size_hint(), (3, Some(3)));
    let (waker, wakes) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(Pin::new(&mut s).poll_next(&mut cx), Poll::Ready(Some(0)));
    assert_eq!(wakes.count(), 0);
}

#[test]
fn map_filter_take_collect_compose_lazily() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = Rc::clone(&seen);
    let s = stream::iter(1..)
        .map(move |n| {
            log.borrow_mut().push(n);
            n * 10
        })
        .filter(|n| n % 20 == 0)
        .take(3);
    assert!(seen.borrow().is_empty(), "adapters do nothing until polled");
    let out: Vec<u64> = block_on(s.collect());
    assert_eq!(out, [20, 40, 60]);
    assert_eq!(
        *seen.borrow(),
        [1, 2, 3, 4, 5, 6],
        "take stops pulling after 3"
    );
}

#[test]
fn filter_takes_a_plain_predicate_on_a_reference() {
    let words: Vec<String> = block_on(
        stream::iter(["apple", "kiwi", "banana"].map(String::from))
            .filter(|w: &String| w.len() > 4)
            .collect(),
    );
    assert_eq!(words, ["apple", "banana"]);
}

/// A stream that counts how often it is polled and never ends.
struct Counting(Rc<Cell<usize>>);

impl Stream for Counting {
    type Item = usize;
    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<usize>> {
        self.0.set(self.0.get() + 1);
        Poll::Ready(Some(self.0.get()))
    }
}

#[test]
fn take_never_polls_the_inner_stream_past_n() {
    let polls = Rc::new(Cell::new(0));
    let mut s = Counting(Rc::clone(&polls)).take(2);
    block_on(async {
        assert_eq!(s.next().await, Some(1));
        assert_eq!(s.next().await, Some(2));
        assert_eq!(s.next().await, None);
        assert_eq!(s.next().await, None);
    });
    assert_eq!(polls.get(), 2);
    assert_eq!(stream::iter(0..10).take(4).size_hint(), (4, Some(4)));
}

#[test]
fn collect_into_any_default_extend_collection() {
    let s: String = block_on(stream::iter("spindle".chars()).collect());
    assert_eq!(s, "spindle");
    let set: std::collections::BTreeSet<i32> = block_on(stream::iter([3, 1, 3, 2]).collect());
    assert_eq!(set.into_iter().collect::<Vec<_>>(), [1, 2, 3]);
}

#[test]
fn for_each_calls_the_closure_on_every_item_in_order() {
    let mut seen = Vec::new();
    block_on(
        stream::iter(1..=4)
            .map(|n| n * n)
            .for_each(|n| seen.push(n)),
    );
    assert_eq!(seen, [1, 4, 9, 16]);
}

/// A stream that is not `Unpin`: counts down from 3 through a `Cell`.
struct Pinned {
    left: Cell<u32>,
    _pinned: std::marker::PhantomPinned,
}

impl Stream for Pinned {
    type Item = u32;
    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<u32>> {
        let left = self.left.get();
        self.left.set(left.saturating_sub(1));
        Poll::Ready((left > 0).then_some(left))
    }
}

#[test]
fn adapters_work_on_streams_that_are_not_unpin() {
    let pinned = || Pinned {
        left: Cell::new(3),
        _pinned: std::marker::PhantomPinned,
    };
    let out: Vec<u32> = block_on(pinned().map(|n| n * 2).filter(|_| true).take(5).collect());
    assert_eq!(out, [6, 4, 2]);
    let mut sum = 0;
    block_on(pinned().for_each(|n| sum += n));
    assert_eq!(sum, 6);
    // `next` borrows, so a stream that is not `Unpin` is pinned first.
    let mut boxed = Box::pin(pinned());
    assert_eq!(block_on(boxed.next()), Some(3));
}

// ---- generate ----

#[test]
fn generate_is_lazy_nothing_runs_before_the_first_next() {
    let calls = Rc::new(Cell::new(0));
    let body_runs = Rc::new(Cell::new(0));
    let (c, b) = (Rc::clone(&calls), Rc::clone(&body_runs));
    let mut s = stream::generate(move |y| {
        c.set(c.get() + 1); // the closure itself is not called yet either
        async move {
            b.set(b.get() + 1);
            y.emit(1).await;
        }
    });
    assert_eq!((calls.get(), body_runs.get()), (0, 0));
    block_on(async {
        assert_eq!(s.next().await, Some(1));
    });
    assert_eq!((calls.get(), body_runs.get()), (1, 1));
}

#[test]
fn each_emit_suspends_the_generator_until_the_consumer_asks_again() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let gen_log = Rc::clone(&log);
    let mut s = stream::generate(move |y| async move {
        for i in 1..=3 {
            gen_log.borrow_mut().push(format!("emit {i}"));
            y.emit(i).await;
            gen_log.borrow_mut().push(format!("resumed after {i}"));
        }
    });
    block_on(async {
        while let Some(i) = s.next().await {
            log.borrow_mut().push(format!("got {i}"));
        }
    });
    assert_eq!(
        *log.borrow(),
        [
            "emit 1",
            "got 1",
            "resumed after 1",
            "emit 2",
            "got 2",
            "resumed after 2",
            "emit 3",
            "got 3",
            "resumed after 3",
        ]
    );
}

#[test]
fn emit_returns_pending_once_and_the_same_poll_next_returns_the_item() {
    let mut s = stream::generate(|y| async move {
        y.emit('a').await;
        y.emit('b').await;
    });
    let (waker, wakes) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(Pin::new(&mut s).poll_next(&mut cx), Poll::Ready(Some('a')));
    assert_eq!(Pin::new(&mut s).poll_next(&mut cx), Poll::Ready(Some('b')));
    assert_eq!(Pin::new(&mut s).poll_next(&mut cx), Poll::Ready(None));
    assert_eq!(Pin::new(&mut s).poll_next(&mut cx), Poll::Ready(None));
    assert_eq!(wakes.count(), 0, "no self-wake is involved");
}

#[test]
fn dropping_the_stream_drops_the_suspended_generator() {
    let drops = DropCounter::new();
    let after_drop = Rc::new(Cell::new(false));
    let (guard, flag) = (drops.guard(), Rc::clone(&after_drop));
    let mut s = stream::generate(move |y| async move {
        let _guard = guard;
        for i in 0.. {
            y.emit(i).await;
        }
        flag.set(true);
    });
    block_on(async {
        assert_eq!(s.next().await, Some(0));
        assert_eq!(s.next().await, Some(1));
    });
    assert_eq!(drops.count(), 0);
    drop(s);
    assert_eq!(drops.count(), 1, "the body's locals were dropped");
    assert!(!after_drop.get(), "the body did not run on");
}

#[test]
fn dropping_an_unstarted_generator_drops_its_closure() {
    let drops = DropCounter::new();
    let guard = drops.guard();
    let s = stream::generate(move |y: stream::Yielder<()>| {
        let _guard = guard;
        async move { drop(y) }
    });
    drop(s);
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_generator_that_awaits_something_else_wakes_its_consumer() {
    let event = Event::new();
    let gate = event.clone();
    let mut s = stream::generate(move |y| async move {
        y.emit("before").await;
        gate.wait().await;
        y.emit("after").await;
    });
    let (waker, wakes) = counting_waker();
    let next = |s: &mut _| poll_once(Pin::new(&mut stream_next(s)), &waker);
    assert_eq!(next(&mut s), Poll::Ready(Some("before")));
    assert_eq!(next(&mut s), Poll::Pending);
    assert_eq!(wakes.count(), 0);
    event.set();
    assert_eq!(wakes.count(), 1, "the body registered the consumer's waker");
    assert_eq!(next(&mut s), Poll::Ready(Some("after")));
    assert_eq!(next(&mut s), Poll::Ready(None));
}

fn stream_next<S: Stream + Unpin>(s: &mut S) -> stream::Next<'_, S> {
    s.next()
}

#[test]
fn concurrent_emits_in_one_body_each_deliver_their_item() {
    let s = stream::generate(|y| async move {
        join!(y.emit(1), y.emit(2)).await;
        y.emit(3).await;
    });
    let out: Vec<i32> = block_on(s.collect());
    assert_eq!(out, [1, 2, 3]);
}

#[test]
fn a_generator_on_an_executor_interleaves_with_other_work() {
    let s = stream::generate(|y| async move {
        for i in 1..=3 {
            yield_once().await; // like `await asyncio.sleep(1)`
            y.emit(format!("Event {i}")).await;
        }
    });
    let handled: Vec<String> = block_on(s.map(|e| format!("Handling {e}")).collect());
    assert_eq!(
        handled,
        ["Handling Event 1", "Handling Event 2", "Handling Event 3"]
    );
}

// ---- cancellation ----

#[test]
fn an_emit_delivers_its_item_if_and_only_if_it_was_polled_into_the_slot() {
    use std::future::{poll_fn, Future};
    use std::pin::pin;
    let s = stream::generate(|y| async move {
        drop(y.emit(0)); // never polled: 0 is never produced
        {
            // Polled once, then given up on, as by a `select` whose other
            // branch won: 1 is already in the slot, so it is delivered.
            let mut emit = pin!(y.emit(1));
            let first = poll_fn(|cx| Poll::Ready(emit.as_mut().poll(cx))).await;
            assert!(first.is_pending());
        }
        // The body ran on without waiting for the consumer. This emit
        // finds the slot still full and keeps 2: dropped so, 2 is never
        // produced.
        {
            let mut emit = pin!(y.emit(2));
            let first = poll_fn(|cx| Poll::Ready(emit.as_mut().poll(cx))).await;
            assert!(first.is_pending());
        }
        y.emit(3).await;
    });
    let out: Vec<i32> = block_on(s.collect());
    assert_eq!(out, [1, 3]);
}

/// A generator that emits guards, then waits on `gate` forever.
fn guards_then_wait(
    drops: &DropCounter,
    gate: Event,
) -> impl Stream<Item = prim_util::Guard> + Unpin {
    let (a, b, local) = (drops.guard(), drops.guard(), drops.guard());
    stream::generate(move |y| async move {
        let _local = local;
        y.emit(a).await;
        y.emit(b).await;
        gate.wait().await;
    })
}

#[test]
fn a_dropped_collect_drops_the_items_gathered_and_the_suspended_stream() {
    let drops = DropCounter::new();
    let mut collect = Box::pin(guards_then_wait(&drops, Event::new()).collect::<Vec<_>>());
    let (waker, _) = counting_waker();
    assert!(poll_once(collect.as_mut(), &waker).is_pending());
    assert_eq!(drops.count(), 0, "two items gathered, the body suspended");
    drop(collect);
    assert_eq!(drops.count(), 3, "both items and the body's local");
}

#[test]
fn a_dropped_for_each_has_run_f_on_exactly_the_items_pulled() {
    let drops = DropCounter::new();
    let seen = Cell::new(0);
    let gate = Event::new();
    let mut run = Box::pin(guards_then_wait(&drops, gate.clone()).for_each(|guard| {
        seen.set(seen.get() + 1);
        drop(guard);
    }));
    let (waker, _) = counting_waker();
    assert!(poll_once(run.as_mut(), &waker).is_pending());
    assert_eq!((seen.get(), drops.count()), (2, 2));
    drop(run);
    assert_eq!(drops.count(), 3, "the suspended body was dropped");
    gate.set(); // nobody waits any more
    assert_eq!((seen.get(), gate.waiter_count()), (2, 0));
}

/// Adapters keep their inner stream inline (pin projection), not behind a
/// box: a chain of adapters is one value the size of its parts, and an
/// adapter is `Unpin` exactly when its stream is.
#[test]
fn adapters_hold_their_stream_inline() {
    use std::mem::size_of;
    type Inner = stream::Iter<std::array::IntoIter<u64, 8>>;
    let chain = stream::iter([0u64; 8]).map(|n| n + 1).take(3);
    let inner = size_of::<Inner>();
    assert!(
        inner >= size_of::<[u64; 8]>(),
        "the inner stream holds the array"
    );
    assert!(
        size_of_val(&chain) >= inner,
        "{} bytes cannot hold a {inner}-byte stream inline",
        size_of_val(&chain)
    );
    fn is_unpin<T: Unpin>(_: &T) {}
    is_unpin(&chain);
    let out: Vec<u64> = block_on(chain.collect());
    assert_eq!(out, [1, 1, 1]);
}

// ---- then, filter_map, enumerate, chain ----

/// One `poll_next` of `s` with `waker`.
fn step<S: Stream + ?Sized>(s: Pin<&mut S>, waker: &std::task::Waker) -> Poll<Option<S::Item>> {
    s.poll_next(&mut Context::from_waker(waker))
}

/// A stream over `items` that logs each item as it is pulled.
fn logged<T: Copy + std::fmt::Debug + 'static>(
    items: Vec<T>,
    log: &Rc<RefCell<Vec<String>>>,
) -> impl Stream<Item = T> + Unpin {
    let log = Rc::clone(log);
    stream::iter(items).map(move |item| {
        log.borrow_mut().push(format!("pulled {item:?}"));
        item
    })
}

#[test]
fn then_runs_each_items_future_to_completion_before_pulling_the_next() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let gates: Vec<Gate> = (0..3).map(|_| Gate::new()).collect();
    let mut s = Box::pin({
        let (gates, log) = (gates.clone(), Rc::clone(&log));
        logged(vec![0usize, 1, 2], &log.clone()).then(move |n| {
            log.borrow_mut().push(format!("future {n}"));
            gates[n].wait(n * 10)
        })
    });
    assert!(log.borrow().is_empty(), "then is lazy");
    assert_eq!(s.size_hint(), (3, Some(3)));
    let (waker, _) = counting_waker();
    assert!(step(s.as_mut(), &waker).is_pending());
    assert_eq!(*log.borrow(), ["pulled 0", "future 0"]);
    assert_eq!(s.size_hint(), (3, Some(3)), "the pending item counts");
    // Polled again while item 0's future waits: nothing more is pulled.
    assert!(step(s.as_mut(), &waker).is_pending());
    assert_eq!(log.borrow().len(), 2);
    assert_eq!(gates[0].polls(), 2);
    gates[0].open();
    assert_eq!(step(s.as_mut(), &waker), Poll::Ready(Some(0)));
    assert_eq!(
        log.borrow().len(),
        2,
        "the next item waits for the next poll"
    );
    gates[1].open();
    gates[2].open();
    assert_eq!(step(s.as_mut(), &waker), Poll::Ready(Some(10)));
    assert_eq!(step(s.as_mut(), &waker), Poll::Ready(Some(20)));
    assert_eq!(step(s.as_mut(), &waker), Poll::Ready(None));
    assert_eq!(
        *log.borrow(),
        ["pulled 0", "future 0", "pulled 1", "future 1", "pulled 2", "future 2"]
    );
}

#[test]
fn dropping_then_mid_item_drops_that_items_future() {
    let drops = DropCounter::new();
    let mut s = Box::pin({
        let drops = drops.clone();
        stream::iter([1, 2]).then(move |n| {
            let guard = drops.guard();
            async move {
                let _guard = guard;
                yield_once().await;
                n
            }
        })
    });
    let (waker, _) = counting_waker();
    assert!(step(s.as_mut(), &waker).is_pending());
    assert_eq!(drops.count(), 0);
    drop(s);
    assert_eq!(
        drops.count(),
        1,
        "item 1's future was dropped where it waited"
    );
}

#[test]
fn filter_map_keeps_the_somes_in_order_without_ever_returning_pending() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let mut s =
        Box::pin(logged(vec![1, 2, 3, 4, 5], &log).filter_map(|n| (n % 2 == 1).then(|| n * 100)));
    assert!(log.borrow().is_empty(), "filter_map is lazy");
    assert_eq!(s.size_hint(), (0, Some(5)));
    let (waker, wakes) = counting_waker();
    assert_eq!(step(s.as_mut(), &waker), Poll::Ready(Some(100)));
    assert_eq!(step(s.as_mut(), &waker), Poll::Ready(Some(300)));
    assert_eq!(*log.borrow(), ["pulled 1", "pulled 2", "pulled 3"]);
    assert_eq!(step(s.as_mut(), &waker), Poll::Ready(Some(500)));
    assert_eq!(step(s.as_mut(), &waker), Poll::Ready(None));
    assert_eq!(wakes.count(), 0, "skipping an item needs no wake-up");
}

#[test]
fn enumerate_numbers_the_items_from_zero_and_keeps_the_size_hint() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let s = logged(vec!['a', 'b', 'c'], &log).enumerate();
    assert!(log.borrow().is_empty(), "enumerate is lazy");
    assert_eq!(s.size_hint(), (3, Some(3)));
    let out: Vec<(usize, char)> = block_on(s.collect());
    assert_eq!(out, [(0, 'a'), (1, 'b'), (2, 'c')]);
    // The count survives a `Pending` in between.
    let numbered: Vec<(usize, u32)> = block_on(
        stream::generate(|y| async move {
            for n in [7, 8] {
                yield_once().await;
                y.emit(n).await;
            }
        })
        .enumerate()
        .collect(),
    );
    assert_eq!(numbered, [(0, 7), (1, 8)]);
}

#[test]
fn chain_starts_the_second_only_after_the_first_ended_and_drops_the_first_then() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let first_dropped = DropCounter::new();
    let first = {
        let (log, guard) = (Rc::clone(&log), first_dropped.guard());
        stream::generate(move |y| async move {
            let _guard = guard;
            log.borrow_mut().push("first starts");
            y.emit(1).await;
            y.emit(2).await;
        })
    };
    let second = {
        let log = Rc::clone(&log);
        stream::generate(move |y| async move {
            log.borrow_mut().push("second starts");
            y.emit(3).await;
        })
    };
    let mut s = Box::pin(first.chain(second));
    assert!(log.borrow().is_empty(), "chain is lazy");
    let out = block_on(async {
        let mut out = Vec::new();
        while let Some(n) = s.next().await {
            out.push(n);
            if n == 2 {
                assert_eq!(first_dropped.count(), 0, "first has not ended yet");
            }
            if n == 3 {
                assert_eq!(first_dropped.count(), 1, "first was dropped once it ended");
            }
        }
        out
    });
    assert_eq!(out, [1, 2, 3]);
    assert_eq!(*log.borrow(), ["first starts", "second starts"]);
}

#[test]
fn chain_adds_the_size_hints() {
    let s = stream::iter([1, 2]).chain(stream::iter([3]));
    assert_eq!(s.size_hint(), (3, Some(3)));
    let unbounded = stream::iter([1]).chain(stream::iter(0..));
    assert_eq!(unbounded.size_hint(), (usize::MAX, None));
    let out: Vec<i32> = block_on(stream::iter([1, 2]).chain(stream::iter([3])).collect());
    assert_eq!(out, [1, 2, 3]);
}
