//! Beyond the cheatsheet §9 — structured concurrency with `asyncio.TaskGroup`.
//!
//! ```text
//! cargo run --release --example 09_taskgroup
//! ```
//!
//! `task_group(|tg| async move { ... })` is `async with asyncio.TaskGroup()
//! as tg:`; `tg.spawn(fut)` is `tg.create_task(coro)`. The group returns only
//! once every child has ended. In the first group both workers finish; in
//! the second, `c` fails after 1 second, and the group cancels `d` at once
//! — cancelling is dropping its future, so `d`'s `OnCancel` guard prints
//! "d cancelled" where Python's `except asyncio.CancelledError` does — and
//! returns the failures together in a `GroupError`, Python's
//! `ExceptionGroup`.
//!
//! What differs: the children are not tasks of their own but futures the
//! group polls inside the task that awaits it; a worker's failure is an
//! `Err` it returns, not an exception it raises; and the results come from
//! the handles `spawn` returned, which the body hands out of the group.

use std::time::Duration;

use spindle::{sleep, task_group};

/// Prints "{name} cancelled" if dropped before `finish` — a task group
/// cancels a child by dropping it, so this is where Python's
/// `except asyncio.CancelledError:` goes.
struct OnCancel(&'static str);

impl OnCancel {
    fn finish(self) {
        std::mem::forget(self); // ended on its own: nothing to print
    }
}

impl Drop for OnCancel {
    fn drop(&mut self) {
        println!("{} cancelled", self.0);
    }
}

// async def worker(name, delay, fail=False):
async fn worker(name: &'static str, delay: u64, fail: bool) -> Result<&'static str, String> {
    let cancelled = OnCancel(name); // try: ... except asyncio.CancelledError:
    sleep(Duration::from_secs(delay)).await; // await asyncio.sleep(delay)
    cancelled.finish();
    if fail {
        return Err(format!("{name} failed")); // raise ValueError(f"{name} failed")
    }
    println!("{name} done");
    Ok(name) // return name
}

fn main() {
    // asyncio.run(main())
    spindle::run(async {
        // Every child finishes: the group waits for all of them.
        // async with asyncio.TaskGroup() as tg:
        let (a, b) = task_group(|tg| async move {
            let a = tg.spawn(worker("a", 1, false)); // a = tg.create_task(worker("a", 1))
            let b = tg.spawn(worker("b", 2, false)); // b = tg.create_task(worker("b", 2))
            Ok((a, b))
        })
        .await
        .expect("no worker fails");
        // print(f"results: {a.result()}, {b.result()}")
        println!("results: {}, {}", a.result().unwrap(), b.result().unwrap());

        // One child fails: its siblings are cancelled, the errors come out together.
        // try: async with asyncio.TaskGroup() as tg:
        let outcome = task_group(|tg| async move {
            tg.spawn(worker("c", 1, true)); // tg.create_task(worker("c", 1, fail=True))
            tg.spawn(worker("d", 3, false)); // tg.create_task(worker("d", 3))
            Ok(())
        })
        .await;
        // except* ValueError as group:
        if let Err(group) = outcome {
            for error in group.failures() {
                println!("caught: {error}"); // print(f"caught: {error}")
            }
        }
    });
}
