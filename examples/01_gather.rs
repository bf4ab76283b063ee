//! Cheatsheet §1 — multiple coroutines running concurrently with `asyncio.gather`.
//!
//! ```text
//! cargo run --release --example 01_gather
//! ```
//!
//! Three `async fn`s sleep for 1, 2 and 3 seconds. `join!` runs them at the
//! same time, so the whole program takes 3 seconds, not 6. Rust futures do
//! nothing until polled: calling `event_1()` only builds the future; `join!`
//! polls all three, and `.await` waits for the lot.

use std::time::Duration;

use spindle::{join, sleep};

async fn event_1() {
    sleep(Duration::from_secs(1)).await; // await asyncio.sleep(1)
    println!("Event 1 occurred");
}

async fn event_2() {
    sleep(Duration::from_secs(2)).await;
    println!("Event 2 occurred");
}

async fn event_3() {
    sleep(Duration::from_secs(3)).await;
    println!("Event 3 occurred");
}

fn main() {
    // asyncio.run(main())
    spindle::run(async {
        // await asyncio.gather(event_1(), event_2(), event_3())
        join!(event_1(), event_2(), event_3()).await;
    });
}
