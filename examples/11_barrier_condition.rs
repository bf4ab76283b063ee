//! Beyond the cheatsheet §11 — `asyncio.Barrier` and `asyncio.Condition`.
//!
//! ```text
//! cargo run --release --example 11_barrier_condition
//! ```
//!
//! Three runners reach a barrier of 3 at 1, 2 and 3 s. The last one to
//! arrive completes the round without waiting, so "r3 through" prints
//! first; r1 and r2 follow in the order they arrived. Then three consumers
//! wait on a condition until the shared list has an item; a producer adds
//! one a second and notifies one consumer each time, oldest first.
//!
//! What differs from asyncio: the list lives inside a `Mutex`, and the
//! `Condition` is handed that mutex's guard at each wait, as with
//! `std::sync::Condvar`: `cond.wait_for(guard, predicate)` releases the
//! lock while it waits and returns the guard with the lock held again —
//! asyncio's `async with cond: await cond.wait_for(predicate)`.

use std::rc::Rc;
use std::time::Duration;

use spindle::{join, sleep, spawn, Barrier, Condition, Mutex};

async fn runner(barrier: &Barrier, name: &str, delay: u64) {
    sleep(Duration::from_secs(delay)).await; // await asyncio.sleep(delay)
    println!("{name} at the barrier");
    barrier.wait().await; // await barrier.wait()
    println!("{name} through");
}

async fn consumer(items: Rc<Mutex<Vec<u32>>>, cond: Rc<Condition>, name: String) {
    let guard = items.lock().await; // async with cond:
                                    // await cond.wait_for(lambda: len(items) > 0)
    let mut guard = cond.wait_for(guard, |items| !items.is_empty()).await;
    println!("{name} got {}", guard.remove(0)); // items.pop(0)
}

fn main() {
    // asyncio.run(main())
    spindle::run(async {
        let barrier = Barrier::new(3); // barrier = asyncio.Barrier(3)
                                       // await asyncio.gather(runner(barrier, "r1", 1), ...)
        join!(
            runner(&barrier, "r1", 1),
            runner(&barrier, "r2", 2),
            runner(&barrier, "r3", 3)
        )
        .await;

        // cond = asyncio.Condition(); items = []: the list goes inside the
        // lock the condition is used with. `Rc`: the consumers are tasks
        // of their own on this thread, and each needs a handle.
        let items = Rc::new(Mutex::new(Vec::new()));
        let cond = Rc::new(Condition::new());
        // consumers = [asyncio.create_task(consumer(cond, items, f"c{i}")) ...]
        let consumers: Vec<_> = (1..=3)
            .map(|i| spawn(consumer(items.clone(), cond.clone(), format!("c{i}"))))
            .collect();
        for n in 1..=3 {
            sleep(Duration::from_secs(1)).await; // await asyncio.sleep(1)
            let mut guard = items.lock().await; // async with cond:
            guard.push(n); //                          items.append(n)
            println!("produced {n}");
            cond.notify_one(); //                      cond.notify()
        } // the guard drops: the notified consumer can lock and take the item
        for consumer in consumers {
            // await asyncio.gather(*consumers)
            consumer.await.expect("a consumer does not fail");
        }
    });
}
