//! Beyond the cheatsheet §12 — the first of several (`asyncio.wait` with
//! `FIRST_COMPLETED`), then every one as it completes (`asyncio.as_completed`).
//!
//! ```text
//! cargo run --release --example 12_wait_as_completed
//! ```
//!
//! `as_completed(futures)` is a stream of outputs in the order they finish.
//! The first half gives it the `JoinHandle`s of three spawned tasks and
//! takes one item: the first task to finish. `into_pending()` hands back
//! the handles of the others — Python's `pending` set — to cancel them.
//! The second half gives it three plain futures and walks the stream with
//! `while let`, Rust's `async for`.
//!
//! What differs: `asyncio.wait` returns every task done at that moment (a
//! set); `next()` returns one output, and a tie goes to the first in input
//! order. For exactly two futures, `race(a, b)` says it shorter. The
//! futures of the second half are not wrapped in tasks as asyncio does:
//! the stream polls them itself, so they run while it is being awaited.

use std::time::Duration;

use spindle::stream::StreamExt;
use spindle::{as_completed, sleep, spawn};

// async def job(name, delay):
async fn job(name: &'static str, delay: u64) -> &'static str {
    sleep(Duration::from_secs(delay)).await; // await asyncio.sleep(delay)
    name // return name
}

fn main() {
    // asyncio.run(main())
    spindle::run(async {
        // tasks = [asyncio.create_task(job(n, d)) for n, d in [...]]
        let tasks = [("slow", 3), ("fast", 1), ("mid", 2)].map(|(n, d)| spawn(job(n, d)));
        // done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        let mut completed = as_completed(tasks);
        let first = completed.next().await.unwrap().unwrap();
        let pending = completed.into_pending();
        // print(f"first: {[t.result() for t in done]}, still pending: {len(pending)}")
        println!("first: ['{first}'], still pending: {}", pending.len());
        // for t in pending: t.cancel()
        for task in &pending {
            task.cancel();
        }

        // for next_done in asyncio.as_completed([job("x", 3), job("y", 1), job("z", 2)]):
        let mut next_done = as_completed([job("x", 3), job("y", 1), job("z", 2)]);
        while let Some(name) = next_done.next().await {
            println!("completed: {name}"); // print(f"completed: {await next_done}")
        }
    });
}
