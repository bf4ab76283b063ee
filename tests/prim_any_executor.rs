//! The primitives use nothing but `std::task::Waker`, so they run unchanged
//! on any executor: the same programs on `futures-executor` (`block_on`,
//! `LocalPool`), tokio's current-thread runtime (`block_on`, `LocalSet`),
//! `async-executor`, and across OS threads; plus the `Send`/`Sync` promises
//! that make that last one possible.

mod prim_util;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use prim_util::yield_once;
use spindle::stream::{self, StreamExt};
use spindle::{join, join_all, Event, Queue};

type Log = Rc<RefCell<Vec<String>>>;

/// One program using every primitive, with no spawning: `join!` is the
/// only concurrency. Returns what it observed, in order.
async fn joined_program() -> Vec<String> {
    let log: Log = Rc::default();
    let queue = Queue::bounded(2);
    let start = Event::new();
    let producer = async {
        start.wait().await;
        for i in 1..=4 {
            queue.put(i).await;
            log.borrow_mut().push(format!("put {i}"));
        }
    };
    let consumer = async {
        start.set();
        let mut got = Vec::new();
        for _ in 0..4 {
            let i = queue.get().await;
            log.borrow_mut().push(format!("got {i}"));
            got.push(i);
            queue.task_done().unwrap();
        }
        got
    };
    let squares = join_all((1..=3).map(|n| async move {
        for _ in 0..n {
            yield_once().await;
        }
        n * n
    }));
    let events = stream::generate(|y| async move {
        for i in 1..=3 {
            yield_once().await;
            y.emit(format!("Event {i}")).await;
        }
    })
    .map(|e| format!("Handling {e}"))
    .collect::<Vec<_>>();
    let ((), got, squares, handled) = join!(producer, consumer, squares, events).await;
    queue.join().await;
    assert_eq!(got, [1, 2, 3, 4]);
    assert_eq!(squares, [1, 4, 9]);
    assert_eq!(
        handled,
        ["Handling Event 1", "Handling Event 2", "Handling Event 3"]
    );
    let log = log.borrow().clone();
    log
}

/// The same program shape with real tasks: `spawn` starts a task and
/// returns a future of its completion.
async fn tasks_program<S>(spawn: S) -> Vec<String>
where
    S: Fn(Pin<Box<dyn Future<Output = ()>>>) -> Pin<Box<dyn Future<Output = ()>>>,
{
    let log: Log = Rc::default();
    let queue = Queue::bounded(2);
    let start = Event::new();
    let producer = spawn(Box::pin({
        let (log, queue, start) = (log.clone(), queue.clone(), start.clone());
        async move {
            start.wait().await;
            for i in 1..=5 {
                yield_once().await;
                queue.put(i).await;
                log.borrow_mut().push(format!("Produced: {i}"));
            }
        }
    }));
    let _consumer = spawn(Box::pin({
        let (log, queue) = (log.clone(), queue.clone());
        async move {
            loop {
                let i = queue.get().await;
                log.borrow_mut().push(format!("Consumed: {i}"));
                queue.task_done().unwrap();
            }
        }
    }));
    start.set();
    producer.await;
    queue.join().await;
    let log = log.borrow().clone();
    log
}

fn expected_tasks_log() -> Vec<String> {
    (1..=5)
        .flat_map(|i| [format!("Produced: {i}"), format!("Consumed: {i}")])
        .collect()
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[test]
fn the_joined_program_behaves_the_same_on_every_executor() {
    let reference = futures_executor::block_on(joined_program());
    assert!(!reference.is_empty());
    assert_eq!(tokio_runtime().block_on(joined_program()), reference);
    assert_eq!(futures_lite::future::block_on(joined_program()), reference);
    let mut pool = futures_executor::LocalPool::new();
    assert_eq!(pool.run_until(joined_program()), reference);
}

/// The structured ones, with no spawning either: a task group whose
/// children finish out of order and spawn a sibling, `as_completed`, `race`
/// and `try_join_all`. Returns what it observed, in order.
async fn structured_program() -> Vec<String> {
    let log: Log = Rc::default();
    let steps = |n: usize| async move {
        for _ in 0..n {
            yield_once().await;
        }
        n
    };
    let grouped = spindle::task_group(|group| {
        let log = Rc::clone(&log);
        async move {
            let sibling = group.clone();
            for n in [3, 1, 2] {
                let log = Rc::clone(&log);
                group.spawn(async move {
                    let n = steps(n).await;
                    log.borrow_mut().push(format!("child {n}"));
                    Ok::<_, String>(n)
                });
            }
            let late = group.spawn(async move {
                // A child spawns a sibling and waits for it.
                let sibling = sibling.spawn(async move { Ok(steps(4).await) });
                Ok(sibling.await.expect("the sibling ends well"))
            });
            Ok(late.await.unwrap())
        }
    })
    .await;
    log.borrow_mut().push(format!("group {}", grouped.unwrap()));
    let completed: Vec<usize> = spindle::as_completed([steps(3), steps(1), steps(2)])
        .collect()
        .await;
    log.borrow_mut().push(format!("as_completed {completed:?}"));
    let first = spindle::race(steps(5), steps(2)).await;
    log.borrow_mut().push(format!("race {first}"));
    let all =
        spindle::try_join_all([steps(1), steps(2)].map(|s| async move { Ok::<_, ()>(s.await) }))
            .await;
    log.borrow_mut().push(format!("try_join_all {all:?}"));
    let log = log.borrow().clone();
    log
}

#[test]
fn the_structured_program_behaves_the_same_on_every_executor() {
    let reference = futures_executor::block_on(structured_program());
    assert_eq!(
        reference,
        [
            "child 1",
            "child 2",
            "child 3",
            "group 4",
            "as_completed [1, 2, 3]",
            "race 2",
            "try_join_all Ok([1, 2])"
        ]
    );
    assert_eq!(tokio_runtime().block_on(structured_program()), reference);
    assert_eq!(
        futures_lite::future::block_on(structured_program()),
        reference
    );
    let ex = async_executor::LocalExecutor::new();
    assert_eq!(
        futures_lite::future::block_on(ex.run(structured_program())),
        reference
    );
}

#[test]
fn producer_and_consumer_tasks_on_a_futures_local_pool() {
    use futures_util::task::LocalSpawnExt;
    let mut pool = futures_executor::LocalPool::new();
    let spawner = pool.spawner();
    let log = pool.run_until(tasks_program(|fut| {
        // LocalPool has no join handles; our own Event serves as one.
        let done = Event::new();
        let finished = done.clone();
        spawner
            .spawn_local(async move {
                fut.await;
                finished.set();
            })
            .unwrap();
        Box::pin(async move { done.wait().await })
    }));
    assert_eq!(log, expected_tasks_log());
}

#[test]
fn producer_and_consumer_tasks_on_a_tokio_local_set() {
    let rt = tokio_runtime();
    let local = tokio::task::LocalSet::new();
    let log = local.block_on(
        &rt,
        tasks_program(|fut| {
            let handle = tokio::task::spawn_local(fut);
            Box::pin(async move { handle.await.unwrap() })
        }),
    );
    assert_eq!(log, expected_tasks_log());
}

#[test]
fn producer_and_consumer_tasks_on_async_executor() {
    let ex = Rc::new(async_executor::LocalExecutor::new());
    let spawner = Rc::clone(&ex);
    let log = futures_lite::future::block_on(
        ex.run(tasks_program(move |fut| Box::pin(spawner.spawn(fut)))),
    );
    assert_eq!(log, expected_tasks_log());
}

#[test]
fn a_queue_and_an_event_shared_by_threads_each_with_its_own_executor() {
    const PER_PRODUCER: u32 = 2_000;
    let queue = Queue::bounded(4);
    let go = Event::new();
    let producers: Vec<_> = (0..2u32)
        .map(|p| {
            let (queue, go) = (queue.clone(), go.clone());
            std::thread::spawn(move || {
                futures_executor::block_on(async {
                    go.wait().await;
                    for i in 0..PER_PRODUCER {
                        queue.put((p, i)).await;
                    }
                })
            })
        })
        .collect();
    go.set();
    let got = tokio_runtime().block_on(async {
        let mut got = Vec::new();
        for _ in 0..2 * PER_PRODUCER {
            got.push(queue.get().await);
            queue.task_done().unwrap();
        }
        queue.join().await;
        got
    });
    for p in producers {
        p.join().unwrap();
    }
    // Every item once, and each producer's items in the order it put them.
    for p in 0..2 {
        let mine: Vec<u32> = got
            .iter()
            .filter(|(q, _)| *q == p)
            .map(|&(_, i)| i)
            .collect();
        assert_eq!(mine, (0..PER_PRODUCER).collect::<Vec<_>>());
    }
    assert!(queue.is_empty());
    assert_eq!(queue.waiter_count(), 0);
}

fn assert_send_sync<T: Send + Sync>() {}
fn is_send<T: Send>(_: &T) {}

#[test]
fn handles_futures_and_errors_are_send_and_sync_where_promised() {
    assert_send_sync::<Queue<String>>();
    assert_send_sync::<Event>();
    assert_send_sync::<spindle::QueueFull<String>>();
    assert_send_sync::<spindle::QueueEmpty>();
    assert_send_sync::<spindle::TaskDoneError>();

    let queue = Queue::<String>::new();
    let event = Event::new();
    is_send(&queue.put(String::new()));
    is_send(&queue.get());
    is_send(&queue.join());
    is_send(&event.wait());
    is_send(&join_all(vec![async { 1 }]));
    is_send(&join!(async { 1 }, event.wait()));
    // The generator's slot is an `Arc<Mutex<..>>`, so its stream is `Send`
    // whenever its body is.
    let generated = stream::generate(|y| async move {
        y.emit(String::from("x")).await;
    });
    is_send(&generated);
    is_send(&stream::iter(0..3).map(|n| n + 1).filter(|_| true).take(2));
}

/// The locks, joined: three tasks take turns with a `Mutex` held across a
/// yield, two at a time pass a `Semaphore(2)`, a `Barrier(3)` lets them
/// through together, and a `Condition` hands the last word to a waiter.
/// Returns what it observed, in order.
async fn locks_program() -> Vec<String> {
    use spindle::{Barrier, Condition, Mutex, Semaphore};
    let log: Log = Rc::default();
    let turns = Mutex::new(Vec::new());
    let gate = Semaphore::new(2);
    let barrier = Barrier::new(3);
    let cond = Condition::new();
    let worker = |name: &'static str| {
        let (log, turns, gate, barrier) = (&log, &turns, &gate, &barrier);
        async move {
            {
                let mut held = turns.lock().await;
                yield_once().await; // the others queue up behind
                held.push(name);
            }
            {
                let _permit = gate.acquire().await;
                log.borrow_mut().push(format!("{name} in"));
                yield_once().await;
            }
            let index = barrier.wait().await;
            log.borrow_mut().push(format!("{name} through ({index})"));
        }
    };
    let waiter = async {
        let guard = turns.lock().await;
        let guard = cond.wait_for(guard, |t| t.len() == 4).await;
        log.borrow_mut().push(format!("waiter saw {:?}", *guard));
    };
    let last_word = async {
        join!(worker("a"), worker("b"), worker("c")).await;
        turns.lock().await.push("done");
        cond.notify_all();
    };
    join!(waiter, last_word).await;
    let log = log.borrow().clone();
    log
}

#[test]
fn the_locks_behave_the_same_on_every_executor() {
    let reference = futures_executor::block_on(locks_program());
    assert_eq!(
        reference,
        [
            "a in",
            "b in",
            "c in",
            "c through (2)",
            "a through (0)",
            "b through (1)",
            r#"waiter saw ["a", "b", "c", "done"]"#
        ]
    );
    assert_eq!(tokio_runtime().block_on(locks_program()), reference);
    assert_eq!(futures_lite::future::block_on(locks_program()), reference);
    let mut pool = futures_executor::LocalPool::new();
    assert_eq!(pool.run_until(locks_program()), reference);
}
