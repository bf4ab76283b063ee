//! Scheduling overhead, as histograms: how long a woken task waits in the
//! ready queue before its poll starts (schedule latency), and how long
//! polls take.
//!
//! ```text
//! cargo run --release --example sched_latency
//! ```
//!
//! A loaded program: 200 tasks each run 50 rounds of a little CPU work
//! (a few microseconds of hashing), then yield or sleep 1 ms, so the ready
//! queue is long and every task waits behind the others. With
//! `Builder::histograms(true)` the runtime keeps both histograms in
//! `MetricsSnapshot`, in power-of-two buckets of nanoseconds; this prints
//! them with their median and 99th percentile, and what keeping them costs
//! per poll (three clock readings).
//!
//! tokio's counterpart is `RuntimeMetrics` (behind `--cfg tokio_unstable`):
//! `poll_time_histogram` (enabled with `enable_metrics_poll_time_histogram`,
//! linear or log buckets), per-worker counts, and for scheduling delay only
//! totals and means (`worker_mean_poll_time`, `*_schedule_count`), no
//! distribution. asyncio has none: `loop.slow_callback_duration` warns about
//! single slow callbacks in debug mode.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use spindle::{sleep, spawn, yield_now, Runtime};

/// The loaded program; returns how long it took.
fn workload(runtime: &Runtime) -> Duration {
    let started = Instant::now();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..200u64)
            .map(|task| {
                spawn(async move {
                    let mut hasher = DefaultHasher::new();
                    for round in 0..50u64 {
                        // A few microseconds of work...
                        for i in 0..200u64 {
                            (task, round, i).hash(&mut hasher);
                        }
                        // ...then let the others run: most yield, some sleep.
                        if (task + round) % 10 == 0 {
                            sleep(Duration::from_millis(1)).await;
                        } else {
                            yield_now().await;
                        }
                    }
                    hasher.finish()
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    started.elapsed()
}

fn main() {
    let runtime = Runtime::builder().histograms(true).build().unwrap();
    let took = workload(&runtime);
    let metrics = runtime.metrics();
    println!("{} polls in {took:.2?}\n", metrics.polls);
    for (title, histogram) in [
        (
            "schedule latency (wake -> poll starts)",
            &metrics.schedule_latency,
        ),
        ("poll duration", &metrics.poll_duration),
    ] {
        println!(
            "{title}: {} values, median < {:?}, p99 < {:?}",
            histogram.count(),
            histogram.quantile(0.5),
            histogram.quantile(0.99)
        );
        println!("{histogram}");
    }

    // What keeping them costs: three clock readings per poll.
    let reads = 1_000_000;
    let started = Instant::now();
    for _ in 0..reads {
        std::hint::black_box(Instant::now());
    }
    let read = started.elapsed() / reads;
    println!(
        "one Instant::now() takes {read:?} here: the histograms add {:?} per poll",
        read * 3
    );
}
