//! Cheatsheet §6 — an event stream: an async generator and `async for`.
//!
//! ```text
//! cargo run --release --example 06_stream
//! ```
//!
//! `stream::generate` is the async generator of Rust: the closure receives a
//! `Yielder`, and each `y.emit(value).await` hands one value to the consumer
//! and suspends until it asks for the next — Python's `yield` inside an
//! `async def`. `while let Some(x) = stream.next().await` is `async for`.

use std::time::Duration;

use spindle::sleep;
use spindle::stream::{self, Stream, StreamExt};

fn event_stream() -> impl Stream<Item = String> {
    // async def event_stream():
    stream::generate(|y| async move {
        for i in 0..5 {
            sleep(Duration::from_secs(1)).await; // await asyncio.sleep(1)
            y.emit(format!("Event {}", i + 1)).await; // yield f"Event {i+1}"
        }
    })
}

async fn event_handler() {
    let mut events = event_stream();
    // async for event in event_stream():
    while let Some(event) = events.next().await {
        println!("Handling {event}");
    }
}

fn main() {
    spindle::run(event_handler()); // asyncio.run(event_handler())
}
