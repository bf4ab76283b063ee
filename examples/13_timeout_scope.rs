//! Beyond the cheatsheet §13 — a time limit the code inside can move:
//! `async with asyncio.timeout(d) as scope:` and `scope.reschedule(...)`.
//!
//! ```text
//! cargo run --release --example 13_timeout_scope
//! ```
//!
//! `timeout_scope(d, |scope| async move { ... })` runs the body with a
//! deadline `d` from now, and hands it `scope` to move that deadline. Half
//! way, the body asks for two more seconds from now (`reschedule`), which
//! lets the next sleep finish; the last sleep runs past the new deadline,
//! so the body is dropped at that `.await` — "never printed" never is —
//! and the scope returns `Err(Elapsed)`, asyncio's `TimeoutError`.
//!
//! What differs: the block is a closure's future, not an `async with`
//! block; the error is a value to match, not an exception; and the scope
//! handle is asked for before awaiting (`scoped.scope()`) to read
//! `expired()` afterwards, where Python keeps the `as scope` name.

use std::time::Duration;

use spindle::time::now;
use spindle::{sleep, timeout_scope};

fn main() {
    // asyncio.run(main())
    spindle::run(async {
        // loop = asyncio.get_running_loop(): `now()` is `loop.time()`
        // try: async with asyncio.timeout(1) as scope:
        let scoped = timeout_scope(Duration::from_secs(1), |scope| async move {
            sleep(Duration::from_millis(500)).await; // await asyncio.sleep(0.5)
            println!("half way, more time please");
            scope.reschedule(Some(now() + Duration::from_secs(2))); // scope.reschedule(loop.time() + 2)
            sleep(Duration::from_secs(1)).await; // await asyncio.sleep(1)
            println!("finished in the extended time");
            sleep(Duration::from_secs(5)).await; // await asyncio.sleep(5)
            println!("never printed");
        });
        let scope = scoped.scope();
        // except TimeoutError:
        if scoped.await.is_err() {
            // print(f"timed out; expired: {scope.expired()}"), with Python's `True`
            let expired = if scope.expired() { "True" } else { "False" };
            println!("timed out; expired: {expired}");
        }
    });
}
