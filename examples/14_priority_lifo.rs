//! Beyond the cheatsheet §14 — `asyncio.PriorityQueue` and `asyncio.LifoQueue`.
//!
//! ```text
//! cargo run --release --example 14_priority_lifo
//! ```
//!
//! Three jobs go into a `PriorityQueue` out of order and come out smallest
//! first; three numbers go into a `LifoQueue` and come out newest first.
//! Both are the `Queue` of `03_queue` with another order: the same `put`,
//! `get`, `task_done` and `join`. The items are tuples, as in Python: a
//! Rust tuple is `Ord` when its fields are, comparing the first field, then
//! the next, so `(1, "urgent")` comes before `(2, "normal")`. Nothing here
//! waits (the queues are unbounded and never empty when read), so it runs
//! in an instant.

use spindle::{LifoQueue, PriorityQueue};

fn main() {
    // asyncio.run(main())
    spindle::run(async {
        let pq = PriorityQueue::new(); // pq = asyncio.PriorityQueue()
        for item in [(3, "low"), (1, "urgent"), (2, "normal")] {
            pq.put(item).await; // await pq.put(item)
        }
        // while not pq.empty(): asyncio's `empty()` is `is_empty()`.
        while !pq.is_empty() {
            let (priority, name) = pq.get().await; // priority, name = await pq.get()
            println!("priority {priority}: {name}");
        }

        let lifo = LifoQueue::new(); // lifo = asyncio.LifoQueue()
        for n in 1..=3 {
            lifo.put(n).await; // await lifo.put(n)
        }
        // [await lifo.get() for _ in range(3)]: awaited one after another,
        // as the comprehension does.
        let mut order = Vec::new();
        for _ in 0..3 {
            order.push(lifo.get().await);
        }
        println!("lifo order: {order:?}"); // a Vec prints as a Python list does
    });
}
