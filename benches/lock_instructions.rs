//! Instructions per uncontended lock and unlock on spindle, async-lock
//! (smol's) and tokio, for callgrind: wall time of a few-nanosecond
//! operation flips with the machine's load, instruction counts do not.
//!
//! ```text
//! cargo build --release -p spindle-benches --example lock_instructions
//! valgrind --tool=callgrind target/release/examples/lock_instructions spindle 100000 2
//! valgrind --tool=callgrind target/release/examples/lock_instructions spindle 100000 3
//! ```
//!
//! Per lock and unlock = (Ir of 3 runs − Ir of 2 runs) / 100 000, for each
//! of `spindle`, `async_lock`, `tokio`. Each run locks and unlocks one
//! mutex `ops` times in one task: spindle's `Mutex` on `Runtime::block_on`,
//! `async_lock::Mutex` on smol's `LocalExecutor`, `tokio::sync::Mutex` on a
//! `current_thread` runtime — the peers of the `mutex_uncontended` bench.

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_default();
    let ops: u64 = args.next().map_or(100_000, |n| n.parse().unwrap());
    let runs: u32 = args.next().map_or(1, |n| n.parse().unwrap());
    let tokio = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let spindle = spindle::Runtime::new().unwrap();
    let smol = async_executor::LocalExecutor::new();
    for _ in 0..runs {
        match which.as_str() {
            "spindle" => spindle.block_on(async {
                let mutex = spindle::Mutex::new(0u64);
                for _ in 0..ops {
                    *mutex.lock().await += 1;
                }
            }),
            "async_lock" => futures_lite::future::block_on(smol.run(async {
                let mutex = async_lock::Mutex::new(0u64);
                for _ in 0..ops {
                    *mutex.lock().await += 1;
                }
            })),
            "tokio" => tokio.block_on(async {
                let mutex = tokio::sync::Mutex::new(0u64);
                for _ in 0..ops {
                    *mutex.lock().await += 1;
                }
            }),
            _ => {
                eprintln!("usage: lock_instructions spindle|async_lock|tokio [ops] [runs]");
                std::process::exit(2);
            }
        }
    }
}
