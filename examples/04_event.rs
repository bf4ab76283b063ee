//! Cheatsheet §4 — triggering waiters with an `asyncio.Event`.
//!
//! ```text
//! cargo run --release --example 04_event
//! ```
//!
//! The waiter blocks in `event.wait()` until the setter calls `event.set()`
//! two seconds later. Both run concurrently under `join!`, borrowing the one
//! `Event` (an `Event` is also a cheap `Clone` handle, for spawned tasks).

use std::time::Duration;

use spindle::{join, sleep, Event};

async fn waiter(event: &Event) {
    println!("Waiting for event...");
    event.wait().await; // await event.wait()
    println!("Event triggered!");
}

async fn setter(event: &Event) {
    sleep(Duration::from_secs(2)).await; // await asyncio.sleep(2)
    println!("Triggering the event...");
    event.set(); // event.set()
}

fn main() {
    // asyncio.run(main())
    spindle::run(async {
        let event = Event::new(); // asyncio.Event()
        join!(waiter(&event), setter(&event)).await; // await asyncio.gather(waiter(event), setter(event))
    });
}
