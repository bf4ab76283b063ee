//! Cheatsheet §2 — an event loop with timers: `loop.call_later`.
//!
//! ```text
//! cargo run --release --example 02_call_later
//! ```
//!
//! `call_later` schedules a plain function (not a future) to run on the loop
//! after a delay. Like asyncio's, the callbacks only run while the loop does,
//! so `main` sleeps for 4 seconds to let all three fire.

use std::time::Duration;

use spindle::sleep;
use spindle::time::call_later;

fn event_trigger(message: &str) {
    println!("Event triggered: {message}");
}

fn main() {
    // asyncio.run(main())
    spindle::run(async {
        // loop = asyncio.get_event_loop(): not needed, `call_later` finds the running loop.

        // Schedule event triggers with delays: loop.call_later(1, event_trigger, "...")
        call_later(Duration::from_secs(1), || {
            event_trigger("Event 1 after 1 second")
        });
        call_later(Duration::from_secs(2), || {
            event_trigger("Event 2 after 2 seconds")
        });
        call_later(Duration::from_secs(3), || {
            event_trigger("Event 3 after 3 seconds")
        });

        sleep(Duration::from_secs(4)).await; // await asyncio.sleep(4)
    });
}
