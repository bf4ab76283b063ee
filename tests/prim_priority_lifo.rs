//! `PriorityQueue` and `LifoQueue`: `Queue`'s protocol with another order.
//!
//! The order: smallest first, stable among equals; newest first. The
//! protocol, checked again for these orders because the buffer is where
//! they differ: `put` waits on a full queue and its slot is reserved;
//! waiting getters are handed items in arrival order; an item handed to a
//! getter that is dropped comes back as the oldest item (first among its
//! equals; beneath the items put after it); `task_done`/`join`; a cancelled
//! put put nothing. The sequential model in `prim_queue.rs` checks all
//! three orders against one model on random sequences.

mod prim_util;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::task::Poll;

use prim_util::{counting_waker, live_wakers, panic_message, panicking_waker, poll_once};
use spindle::queue::{GenericQueue, Order};
use spindle::{LifoQueue, PriorityQueue, Queue, QueueEmpty, TaskDoneError};

/// Takes every available item, in the order they come out.
fn drain<T, O: Order<T>>(queue: &GenericQueue<T, O>) -> Vec<T> {
    std::iter::from_fn(|| queue.get_nowait().ok()).collect()
}

/// A job ordered by its priority alone: jobs of equal priority compare
/// equal, so the order they come out in shows how ties are broken.
#[derive(Debug, Clone, Copy)]
struct Job {
    priority: u8,
    name: &'static str,
}

fn job(priority: u8, name: &'static str) -> Job {
    Job { priority, name }
}

impl PartialEq for Job {
    fn eq(&self, other: &Job) -> bool {
        self.priority == other.priority
    }
}
impl Eq for Job {}
impl PartialOrd for Job {
    fn partial_cmp(&self, other: &Job) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Job {
    fn cmp(&self, other: &Job) -> std::cmp::Ordering {
        self.priority.cmp(&other.priority)
    }
}

fn names(jobs: Vec<Job>) -> Vec<&'static str> {
    jobs.into_iter().map(|job| job.name).collect()
}

// ---- the orders ----

#[test]
fn a_priority_queue_serves_the_smallest_item_first() {
    let q = PriorityQueue::new();
    for item in [
        (3, "low"),
        (1, "urgent"),
        (2, "normal"),
        (0, "now"),
        (2, "also normal"),
    ] {
        q.put_nowait(item).unwrap();
    }
    let (waker, _) = counting_waker();
    assert_eq!(poll_once(pin!(q.get()), &waker), Poll::Ready((0, "now")));
    assert_eq!(
        drain(&q),
        [(1, "urgent"), (2, "also normal"), (2, "normal"), (3, "low")],
        "tuples compare field by field, as in Python"
    );
}

#[test]
fn equal_priorities_come_out_in_the_order_they_were_put() {
    let q = PriorityQueue::new();
    let put: Vec<Job> = (0..30)
        .map(|i| job((i * 7 % 4) as u8, ["a", "b", "c", "d", "e", "f"][i % 6]))
        .collect();
    for &j in &put {
        q.put_nowait(j).unwrap();
    }
    let mut expected = put.clone();
    expected.sort_by_key(|j| j.priority); // a stable sort: ties keep their order
    let got = drain(&q);
    let pairs =
        |jobs: &[Job]| -> Vec<(u8, &str)> { jobs.iter().map(|j| (j.priority, j.name)).collect() };
    assert_eq!(pairs(&got), pairs(&expected));
}

#[test]
fn puts_and_gets_interleaved_keep_the_priority_order() {
    let q = PriorityQueue::new();
    q.put_nowait(5).unwrap();
    q.put_nowait(3).unwrap();
    assert_eq!(q.get_nowait(), Ok(3));
    q.put_nowait(4).unwrap();
    q.put_nowait(1).unwrap();
    assert_eq!(drain(&q), [1, 4, 5]);
    assert_eq!(q.get_nowait(), Err(QueueEmpty));
}

#[test]
fn a_lifo_queue_serves_the_newest_item_first() {
    let q = LifoQueue::new();
    for n in 1..=5 {
        q.put_nowait(n).unwrap();
    }
    assert_eq!(drain(&q), [5, 4, 3, 2, 1]);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    assert_eq!(q.get_nowait(), Ok(2));
    q.put_nowait(3).unwrap();
    assert_eq!(drain(&q), [3, 1]);
}

// ---- bounded: put waits, and the freed slot is reserved ----

#[test]
fn a_bounded_priority_queue_makes_put_wait_and_its_item_enters_when_it_runs() {
    let q = PriorityQueue::bounded(2);
    q.put_nowait(5).unwrap();
    q.put_nowait(4).unwrap();
    let (waker, wakes) = counting_waker();
    let mut put = pin!(q.put(1));
    assert!(poll_once(put.as_mut(), &waker).is_pending());
    assert_eq!(q.get_nowait(), Ok(4), "the smallest item in the queue");
    assert_eq!(wakes.count(), 1, "the freed slot is reserved for the put");
    assert!(q.is_full());
    assert!(q.put_nowait(0).is_err(), "nobody else can take the slot");
    // 1 is smaller, but it is not in the queue until its put runs.
    assert_eq!(q.get_nowait(), Ok(5));
    assert_eq!(poll_once(put.as_mut(), &waker), Poll::Ready(()));
    assert_eq!(drain(&q), [1]);
    assert_eq!(q.waiter_count(), 0);
}

#[test]
fn a_bounded_lifo_queue_makes_put_wait_and_its_item_goes_on_top_when_it_runs() {
    let q = LifoQueue::bounded(2);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    let (waker, wakes) = counting_waker();
    let mut put = pin!(q.put(3));
    assert!(poll_once(put.as_mut(), &waker).is_pending());
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(wakes.count(), 1);
    assert_eq!(q.put_nowait(9).unwrap_err().into_inner(), 9);
    assert_eq!(poll_once(put.as_mut(), &waker), Poll::Ready(()));
    assert_eq!(drain(&q), [3, 1]);
}

#[test]
fn waiting_putters_are_served_in_arrival_order_whatever_their_priority() {
    // Each item enters only when its put is given a slot, and slots go to
    // the puts in the order they started waiting: a small item waiting
    // behind a large one does not overtake it.
    let q = PriorityQueue::bounded(1);
    q.put_nowait(9).unwrap();
    let (waker, _) = counting_waker();
    let mut puts: Vec<_> = [3, 1, 2].into_iter().map(|v| Box::pin(q.put(v))).collect();
    for p in &mut puts {
        assert!(poll_once(p.as_mut(), &waker).is_pending());
    }
    let mut out = Vec::new();
    for _ in 0..4 {
        out.push(q.get_nowait().unwrap());
        for p in puts.iter_mut().rev() {
            let _ = poll_once(p.as_mut(), &waker);
        }
    }
    assert_eq!(out, [9, 3, 1, 2]);
}

// ---- the hand-off to waiting getters ----

/// Three getters wait on an empty queue; three items are put. Each getter,
/// in the order they started waiting, is handed the item put at its turn
/// (the queue was empty, so that item was the next in any order), however
/// the getters are polled afterwards.
fn getters_are_handed_items_in_arrival_order<O: Order<u32>>(q: GenericQueue<u32, O>) {
    let (waker, wakes) = counting_waker();
    let mut getters: Vec<_> = (0..3).map(|_| Box::pin(q.get())).collect();
    for g in &mut getters {
        assert!(poll_once(g.as_mut(), &waker).is_pending());
    }
    for v in [3, 1, 2] {
        q.put_nowait(v).unwrap();
    }
    assert_eq!(wakes.count(), 3);
    assert_eq!(q.len(), 3, "in transit, still counted");
    assert_eq!(q.get_nowait(), Err(QueueEmpty), "nothing to steal");
    let mut got = [None; 3];
    for i in (0..3).rev() {
        if let Poll::Ready(v) = poll_once(getters[i].as_mut(), &waker) {
            got[i] = Some(v);
        }
    }
    assert_eq!(got, [Some(3), Some(1), Some(2)]);
    assert_eq!(q.waiter_count(), 0);
}

#[test]
fn waiting_getters_of_a_priority_queue_are_handed_items_in_arrival_order() {
    getters_are_handed_items_in_arrival_order(PriorityQueue::new());
}

#[test]
fn waiting_getters_of_a_lifo_queue_are_handed_items_in_arrival_order() {
    getters_are_handed_items_in_arrival_order(LifoQueue::new());
}

#[test]
fn a_smaller_item_put_before_the_woken_getter_runs_goes_to_the_next_get() {
    // The getter is handed 5, the smallest (only) item when it was put.
    // asyncio's getter would pop at its next run and take the 1; here the
    // 1 waits for the next get, and the getter that waited gets 5.
    let q = PriorityQueue::new();
    let (waker, _) = counting_waker();
    let mut get = pin!(q.get());
    assert!(poll_once(get.as_mut(), &waker).is_pending());
    q.put_nowait(5).unwrap();
    q.put_nowait(1).unwrap();
    assert_eq!(poll_once(get.as_mut(), &waker), Poll::Ready(5));
    assert_eq!(q.get_nowait(), Ok(1));
}

// ---- a getter dropped after it was handed an item ----

#[test]
fn a_priority_item_returned_by_a_dropped_getter_is_got_in_priority_order() {
    let q = PriorityQueue::new();
    let (waker, _) = counting_waker();
    let mut get = Box::pin(q.get());
    assert!(poll_once(get.as_mut(), &waker).is_pending());
    q.put_nowait(job(2, "handed")).unwrap();
    q.put_nowait(job(3, "low")).unwrap();
    q.put_nowait(job(2, "put later")).unwrap();
    q.put_nowait(job(1, "urgent")).unwrap();
    drop(get); // woken, never polled: it lost a select, say
    assert_eq!(q.len(), 4, "nothing lost");
    assert_eq!(
        names(drain(&q)),
        ["urgent", "handed", "put later", "low"],
        "smallest first; the returned job keeps its place before its equals put after it"
    );
}

#[test]
fn a_lifo_item_returned_by_a_dropped_getter_goes_beneath_the_items_put_after_it() {
    let q = LifoQueue::new();
    let (waker, _) = counting_waker();
    let mut get = Box::pin(q.get());
    assert!(poll_once(get.as_mut(), &waker).is_pending());
    q.put_nowait(1).unwrap(); // handed to `get`
    q.put_nowait(2).unwrap();
    q.put_nowait(3).unwrap();
    drop(get);
    assert_eq!(q.len(), 3);
    assert_eq!(drain(&q), [3, 2, 1], "as if 1 had never left: newest first");

    // With nothing put after it, a retried get finds it at once.
    let mut get = Box::pin(q.get());
    assert!(poll_once(get.as_mut(), &waker).is_pending());
    q.put_nowait(4).unwrap();
    drop(get);
    assert_eq!(poll_once(pin!(q.get()), &waker), Poll::Ready(4));
}

/// The item of a dropped getter goes to the next waiting getter, which is
/// woken for it; nothing is left in the buffer.
fn a_returned_item_goes_to_the_next_waiting_getter<O: Order<&'static str>>(
    q: GenericQueue<&'static str, O>,
) {
    let (w1, wakes1) = counting_waker();
    let (w2, wakes2) = counting_waker();
    let mut first = Box::pin(q.get());
    let mut second = Box::pin(q.get());
    assert!(poll_once(first.as_mut(), &w1).is_pending());
    assert!(poll_once(second.as_mut(), &w2).is_pending());
    q.put_nowait("x").unwrap();
    assert_eq!((wakes1.count(), wakes2.count()), (1, 0));
    drop(first);
    assert_eq!(wakes2.count(), 1, "the next getter is woken for the item");
    assert_eq!(
        q.get_nowait(),
        Err(QueueEmpty),
        "it is promised to `second`"
    );
    assert_eq!(poll_once(second.as_mut(), &w2), Poll::Ready("x"));
    assert_eq!(q.waiter_count(), 0);
}

#[test]
fn a_returned_priority_item_goes_to_the_next_waiting_getter() {
    a_returned_item_goes_to_the_next_waiting_getter(PriorityQueue::new());
}

#[test]
fn a_returned_lifo_item_goes_to_the_next_waiting_getter() {
    a_returned_item_goes_to_the_next_waiting_getter(LifoQueue::new());
}

#[test]
fn a_returned_item_keeps_its_slot_so_the_bound_holds() {
    let q = PriorityQueue::bounded(1);
    let (waker, _) = counting_waker();
    let mut get = Box::pin(q.get());
    assert!(poll_once(get.as_mut(), &waker).is_pending());
    q.put_nowait('b').unwrap();
    assert!(q.is_full());
    assert_eq!(q.put_nowait('a').unwrap_err().into_inner(), 'a');
    drop(get);
    assert_eq!((q.len(), q.is_full()), (1, true));
    assert_eq!(q.get_nowait(), Ok('b'));
}

/// Two getters are handed `x` then `y` (equal jobs, put in that order),
/// and both are dropped with their items in hand. Each returned item goes
/// back as the oldest, so dropped in reverse hand-off order they come back
/// exactly where they were; dropped in hand-off order, the later one goes
/// ahead of (FIFO), beneath (LIFO) or before the equal of (priority) the
/// earlier one: the two swap places, as the `order.rs` docs say.
fn returned_items<O: Order<Job>>(
    q: GenericQueue<Job, O>,
    drop_in_hand_off_order: bool,
) -> Vec<&'static str> {
    let (waker, _) = counting_waker();
    let mut first = Some(Box::pin(q.get()));
    let mut second = Some(Box::pin(q.get()));
    assert!(poll_once(first.as_mut().unwrap().as_mut(), &waker).is_pending());
    assert!(poll_once(second.as_mut().unwrap().as_mut(), &waker).is_pending());
    q.put_nowait(job(1, "x")).unwrap();
    q.put_nowait(job(1, "y")).unwrap();
    if drop_in_hand_off_order {
        drop(first.take());
    }
    drop(second.take());
    drop(first.take());
    names(drain(&q))
}

#[test]
fn returned_items_come_back_in_place_unless_their_getters_drop_in_hand_off_order() {
    assert_eq!(returned_items(Queue::new(), false), ["x", "y"]);
    assert_eq!(returned_items(LifoQueue::new(), false), ["y", "x"]);
    assert_eq!(returned_items(PriorityQueue::new(), false), ["x", "y"]);
    // The documented imperfection: the two swap.
    assert_eq!(returned_items(Queue::new(), true), ["y", "x"]);
    assert_eq!(returned_items(LifoQueue::new(), true), ["x", "y"]);
    assert_eq!(returned_items(PriorityQueue::new(), true), ["y", "x"]);
}

// ---- cancel-safe put ----

#[test]
fn a_woken_put_dropped_before_it_ran_put_nothing_and_passes_its_slot_on() {
    let q = PriorityQueue::bounded(1);
    q.put_nowait(5).unwrap();
    let (w1, wakes1) = counting_waker();
    let (w0, wakes0) = counting_waker();
    let mut put1 = Box::pin(q.put(1));
    let mut put0 = Box::pin(q.put(0));
    assert!(poll_once(put1.as_mut(), &w1).is_pending());
    assert!(poll_once(put0.as_mut(), &w0).is_pending());
    assert_eq!(q.get_nowait(), Ok(5)); // the slot is reserved for `put1`
    assert_eq!((wakes1.count(), wakes0.count()), (1, 0));
    drop(put1);
    assert_eq!(wakes0.count(), 1, "the reserved slot went to the next put");
    assert!(q.is_full(), "still reserved");
    assert!(q.put_nowait(7).is_err());
    assert_eq!(q.get_nowait(), Err(QueueEmpty), "1 was never put");
    assert_eq!(poll_once(put0.as_mut(), &w0), Poll::Ready(()));
    assert_eq!(drain(&q), [0]);
    assert_eq!(q.waiter_count(), 0);
    // Two items were put, 5 and 0; the dropped put is not counted.
    assert_eq!(q.task_done(), Ok(()));
    assert_eq!(q.task_done(), Ok(()));
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

// (A put that lost a `select`, retried, puts once: `prim_queue.rs`, for
// all three orders.)

// ---- task_done and join ----

fn join_waits_for_every_item_put<O: Order<u8>>(q: GenericQueue<u8, O>) {
    for v in [2, 1, 3] {
        q.put_nowait(v).unwrap();
    }
    let (waker, wakes) = counting_waker();
    let mut join = pin!(q.join());
    assert!(poll_once(join.as_mut(), &waker).is_pending());
    assert_eq!(drain(&q).len(), 3);
    assert!(
        poll_once(join.as_mut(), &waker).is_pending(),
        "taken is not done"
    );
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert_eq!(wakes.count(), 0);
    q.task_done().unwrap();
    assert_eq!(wakes.count(), 1);
    assert_eq!(poll_once(join.as_mut(), &waker), Poll::Ready(()));
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

#[test]
fn join_on_a_priority_queue_waits_for_task_done_on_every_item() {
    join_waits_for_every_item_put(PriorityQueue::new());
}

#[test]
fn join_on_a_lifo_queue_waits_for_task_done_on_every_item() {
    join_waits_for_every_item_put(LifoQueue::new());
}

#[test]
fn a_returned_item_is_counted_once() {
    let q = PriorityQueue::new();
    let (waker, _) = counting_waker();
    let mut get = Box::pin(q.get());
    assert!(poll_once(get.as_mut(), &waker).is_pending());
    q.put_nowait(1).unwrap();
    drop(get); // 1 comes back: the same item, not a second one
    assert_eq!(q.get_nowait(), Ok(1));
    let mut join = pin!(q.join());
    assert!(poll_once(join.as_mut(), &waker).is_pending());
    assert_eq!(q.task_done(), Ok(()));
    assert_eq!(poll_once(join.as_mut(), &waker), Poll::Ready(()));
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

// ---- panics: a waker's, and an `Ord`'s ----

#[test]
fn a_getter_waker_that_panics_surfaces_from_the_put_and_the_item_still_arrives() {
    let q = PriorityQueue::new();
    let (bad, bad_source) = panicking_waker("the getter's waker panicked");
    let mut get = Box::pin(q.get());
    assert!(poll_once(get.as_mut(), &bad).is_pending());
    let payload = catch_unwind(AssertUnwindSafe(|| q.put_nowait(7)))
        .expect_err("the waker's panic surfaces from put_nowait()");
    assert_eq!(
        panic_message(&*payload),
        Some("the getter's waker panicked")
    );
    assert_eq!(poll_once(get.as_mut(), &bad), Poll::Ready(7));
    assert_eq!(live_wakers(&bad_source), 1, "no waker clone left behind");
    q.put_nowait(2).unwrap();
    q.put_nowait(1).unwrap();
    assert_eq!(drain(&q), [1, 2]);
}

thread_local! {
    /// While set, `Touchy::cmp` panics.
    static TOUCHY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A value whose `Ord` panics while `TOUCHY` is set.
#[derive(Debug, PartialEq, Eq)]
struct Touchy(u32);

impl PartialOrd for Touchy {
    fn partial_cmp(&self, other: &Touchy) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Touchy {
    fn cmp(&self, other: &Touchy) -> std::cmp::Ordering {
        assert!(!TOUCHY.get(), "Touchy::cmp panicked on purpose");
        self.0.cmp(&other.0)
    }
}

fn touchy<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    TOUCHY.set(true);
    let result = catch_unwind(AssertUnwindSafe(f));
    TOUCHY.set(false);
    result
}

#[test]
fn an_ord_that_panics_surfaces_from_the_call_and_loses_nothing() {
    let q = PriorityQueue::bounded(4);
    q.put_nowait(Touchy(2)).unwrap();
    q.put_nowait(Touchy(3)).unwrap();
    // A put whose comparison panics has happened.
    assert!(touchy(|| q.put_nowait(Touchy(1))).is_err());
    assert_eq!((q.len(), q.waiter_count()), (3, 0));
    // A get whose comparison panics has taken nothing.
    assert!(touchy(|| q.get_nowait()).is_err());
    assert_eq!(q.len(), 3);
    let (waker, _) = counting_waker();
    let mut get = Box::pin(q.get());
    assert!(touchy(|| poll_once(get.as_mut(), &waker)).is_err());
    drop(get);
    assert_eq!(q.len(), 3);
    // The queue is not poisoned, and every item is there once.
    let mut left: Vec<u32> = drain(&q).into_iter().map(|t| t.0).collect();
    left.sort_unstable();
    assert_eq!(left, [1, 2, 3]);
    for _ in 0..3 {
        q.task_done().unwrap();
    }
    assert_eq!(q.task_done(), Err(TaskDoneError), "three items were put");
}

#[test]
fn a_getter_dropped_by_a_panic_gives_its_item_back_even_if_ord_panics_too() {
    // The task holding a getter that was handed an item panics; dropping
    // the getter gives the item back into the heap, comparing, and that
    // comparison panics too. A second panic in a destructor during
    // unwinding would abort the process: it is dropped, the first one
    // surfaces, and the item is back in the queue.
    let q = PriorityQueue::new();
    let (waker, _) = counting_waker();
    let mut get = Box::pin(q.get());
    assert!(poll_once(get.as_mut(), &waker).is_pending());
    q.put_nowait(Touchy(5)).unwrap(); // handed to `get`
    q.put_nowait(Touchy(1)).unwrap(); // in the heap: giving back compares
    let payload = touchy(move || {
        let _get = get;
        panic!("the task holding the getter panicked");
    })
    .unwrap_err();
    assert_eq!(
        panic_message(&*payload),
        Some("the task holding the getter panicked")
    );
    assert_eq!(q.len(), 2);
    let mut left: Vec<u32> = drain(&q).into_iter().map(|t| t.0).collect();
    left.sort_unstable();
    assert_eq!(left, [1, 5]);
}

#[test]
fn a_getter_dropped_normally_raises_the_panic_of_ord_after_giving_its_item_back() {
    let q = PriorityQueue::new();
    let (waker, _) = counting_waker();
    let mut get = Box::pin(q.get());
    assert!(poll_once(get.as_mut(), &waker).is_pending());
    q.put_nowait(Touchy(5)).unwrap();
    q.put_nowait(Touchy(1)).unwrap();
    let payload = touchy(move || drop(get)).unwrap_err();
    assert_eq!(
        panic_message(&*payload),
        Some("Touchy::cmp panicked on purpose")
    );
    assert_eq!((q.len(), q.waiter_count()), (2, 0));
    // The lock was released before the panic: the queue works.
    let mut left: Vec<u32> = drain(&q).into_iter().map(|t| t.0).collect();
    left.sort_unstable();
    assert_eq!(left, [1, 5]);
}

// ---- threads, handles, names ----

/// Producers and consumers on their own threads, each driving its futures
/// with `block_on`, through a small bounded queue: every item arrives once.
fn across_threads<O: Order<u64> + 'static>(q: GenericQueue<u64, O>)
where
    GenericQueue<u64, O>: Send,
{
    const PRODUCERS: u64 = 3;
    const PER_PRODUCER: u64 = 400;
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                futures_executor::block_on(async {
                    for i in 0..PER_PRODUCER {
                        q.put(p * PER_PRODUCER + i).await;
                    }
                })
            })
        })
        .collect();
    let consumers: Vec<_> = (0..PRODUCERS)
        .map(|_| {
            let q = q.clone();
            std::thread::spawn(move || {
                futures_executor::block_on(async {
                    let mut got = Vec::new();
                    for _ in 0..PER_PRODUCER {
                        got.push(q.get().await);
                        q.task_done().unwrap();
                    }
                    got
                })
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let mut all: Vec<u64> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    futures_executor::block_on(q.join());
    all.sort_unstable();
    assert_eq!(all, (0..PRODUCERS * PER_PRODUCER).collect::<Vec<_>>());
    assert_eq!((q.len(), q.waiter_count()), (0, 0));
}

#[test]
fn priority_queue_producers_and_consumers_on_threads_lose_and_duplicate_nothing() {
    across_threads(PriorityQueue::bounded(2));
}

#[test]
fn lifo_queue_producers_and_consumers_on_threads_lose_and_duplicate_nothing() {
    across_threads(LifoQueue::bounded(2));
}

#[test]
fn clones_are_handles_to_one_queue() {
    let a = LifoQueue::new();
    let b = a.clone();
    a.put_nowait(1).unwrap();
    b.put_nowait(2).unwrap();
    assert_eq!(a.get_nowait(), Ok(2));
    assert_eq!(b.get_nowait(), Ok(1));
    let c: PriorityQueue<u8> = PriorityQueue::default();
    assert_eq!(c.maxsize(), None);
}

#[test]
fn debug_names_the_queue_it_was_made_as() {
    let lifo = LifoQueue::bounded(2);
    lifo.put_nowait(()).unwrap();
    assert_eq!(
        format!("{lifo:?}"),
        "LifoQueue { len: 1, maxsize: Some(2), unfinished: 1, .. }"
    );
    assert_eq!(
        format!("{:?}", PriorityQueue::<u8>::new()),
        "PriorityQueue { len: 0, maxsize: None, unfinished: 0, .. }"
    );
    assert_eq!(
        format!("{:?}", Queue::<u8>::new()),
        "Queue { len: 0, maxsize: None, unfinished: 0, .. }"
    );
    let q = PriorityQueue::<u8>::new();
    assert_eq!(format!("{:?}", q.get()), "Get { .. }");
}

#[test]
#[should_panic(
    expected = "PriorityQueue::bounded(0) could never hold an item; use PriorityQueue::new()"
)]
fn bounded_zero_panics_naming_the_queue() {
    let _ = PriorityQueue::<u8>::bounded(0);
}

#[test]
#[should_panic(expected = "LifoQueue::bounded(0) could never hold an item; use LifoQueue::new()")]
fn bounded_zero_panics_naming_the_lifo_queue() {
    let _ = LifoQueue::<u8>::bounded(0);
}
