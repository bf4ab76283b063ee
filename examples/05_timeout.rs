//! Cheatsheet §5 — a time limit with `asyncio.wait_for`.
//!
//! ```text
//! cargo run --release --example 05_timeout
//! ```
//!
//! `long_task` needs 5 seconds; `timeout` gives it 3. When the limit passes,
//! the inner future is dropped — that is cancellation in Rust — and the
//! result is `Err(Elapsed)`, the `asyncio.TimeoutError` of spindle.

use std::time::Duration;

use spindle::{sleep, timeout};

async fn long_task() -> &'static str {
    sleep(Duration::from_secs(5)).await; // await asyncio.sleep(5)
    "Task complete!"
}

fn main() {
    // asyncio.run(main())
    spindle::run(async {
        // try: result = await asyncio.wait_for(long_task(), timeout=3)
        match timeout(Duration::from_secs(3), long_task()).await {
            Ok(result) => println!("{result}"),
            // except asyncio.TimeoutError:
            Err(_elapsed) => println!("Task took too long!"),
        }
    });
}
