//! A workout of every `unsafe` path in `mutex.rs` — the guard's `Deref` and
//! `DerefMut`, `get_mut`, and `Sync` for `Mutex<T>` across real threads —
//! small enough for Miri, which checks each access to the data against
//! Rust's aliasing rules and the threads' accesses for data races:
//!
//! ```text
//! cargo +nightly miri test -p spindle-primitives --test miri_mutex
//! ```
//!
//! (`scripts/miri.sh` runs it.) The behaviour tests proper live in the
//! workspace's `tests/prim_mutex.rs`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use futures_executor::block_on;
use spindle_primitives::{Condition, Mutex};

/// A waker that does nothing: the tests poll by hand.
struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// Polls `fut` once with a no-op waker.
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(&Waker::from(Arc::new(Noop))))
}

#[test]
fn guards_read_and_write_and_references_end_with_them() {
    let mut mutex = Mutex::new(vec![1, 2]);
    {
        let mut guard = mutex.try_lock().unwrap();
        let first = &mut guard[0]; // a `&mut` through `DerefMut`
        *first += 10;
        guard.push(3);
        let len = guard.len(); // `&` through `Deref`
        assert_eq!(len, 3);
    }
    mutex.get_mut().push(4);
    let seen = block_on(async {
        let guard = mutex.lock().await;
        guard.iter().sum::<i32>()
    });
    assert_eq!(seen, 11 + 2 + 3 + 4);
    assert_eq!(mutex.into_inner(), [11, 2, 3, 4]);
}

#[test]
fn a_lock_handed_over_gives_the_next_holder_the_data() {
    let mutex = Mutex::new(String::from("a"));
    let mut guard = mutex.try_lock().unwrap();
    let mut waiter = pin!(mutex.lock());
    assert!(poll_once(waiter.as_mut()).is_pending());
    guard.push('b');
    drop(guard); // handed over
    let Poll::Ready(mut guard) = poll_once(waiter.as_mut()) else {
        panic!("the lock was handed over");
    };
    guard.push('c');
    assert_eq!(*guard, "abc");
}

#[test]
fn threads_take_turns_with_the_data() {
    let mutex = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let mutex = mutex.clone();
            thread::spawn(move || {
                for i in 0..5 {
                    block_on(async {
                        let mut guard = mutex.lock().await;
                        guard.push((t, i));
                        thread::yield_now(); // hold it while others try
                    });
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let mut all = mutex.try_lock().unwrap().clone();
    all.sort_unstable();
    let expected: Vec<_> = (0..3).flat_map(|t| (0..5).map(move |i| (t, i))).collect();
    assert_eq!(all, expected);
}

#[test]
fn a_condition_hands_the_data_between_threads() {
    let shared = Arc::new((Mutex::new(None), Condition::new()));
    let consumer = {
        let shared = shared.clone();
        thread::spawn(move || {
            let (slot, cond) = &*shared;
            block_on(async {
                let guard = slot.lock().await;
                let mut guard = cond.wait_for(guard, |s| s.is_some()).await;
                guard.take().unwrap()
            })
        })
    };
    let (slot, cond) = &*shared;
    block_on(async {
        *slot.lock().await = Some(Box::new(42));
    });
    cond.notify_all();
    assert_eq!(*consumer.join().unwrap(), 42);
}
