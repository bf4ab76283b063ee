//! Timer benchmarks: what a timer costs to insert and cancel, to insert and
//! fire, and how late a 1 ms sleep wakes up.
//!
//! ```text
//! cargo bench --bench timers
//! ```
//!
//! Throughputs are per timer (`Throughput::Elements`). The first two benches
//! run under virtual time, so they measure the timer wheel and the loop, not
//! the operating system's clock; the 1 ms sleep runs in real time, because
//! its lateness is the clock's and the reactor's business.

use std::future::Future;
use std::pin::Pin;
use std::task::Context;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use spindle::time::{now, sleep, sleep_until, Sleep};
use spindle::{join_all, Runtime};

// The tests' helpers: `virtual_runtime` and the `XorShift` generator.
#[path = "../tests/support/mod.rs"]
mod support;
use support::{virtual_runtime, XorShift};

/// Timers per iteration of the insert-and-cancel bench.
const CANCELLED: usize = 1_000_000;
/// Timers per iteration of the insert-and-fire bench.
const FIRED: usize = 100_000;
/// Sequential 1 ms sleeps behind the printed lateness percentiles.
const LATENESS_SAMPLES: usize = 200;

/// `n` random offsets in `0..=max`, at nanosecond resolution, drawn before
/// the measurement so the generator is not part of it.
fn offsets(n: usize, max: Duration, seed: u64) -> Vec<Duration> {
    let mut rng = XorShift(seed);
    let max = max.as_nanos() as u64;
    (0..n)
        .map(|_| Duration::from_nanos(rng.up_to(max)))
        .collect()
}

/// Polls once with a waker that does nothing: enough to register a timer.
fn register<F: Future + ?Sized>(future: Pin<&mut F>, cx: &mut Context<'_>) {
    let poll = future.poll(cx);
    debug_assert!(poll.is_pending(), "a timer in the future completed at once");
}

/// 10⁶ timers inserted and cancelled: each `Sleep` gets a random deadline
/// between now and an hour ahead (spread over the wheel's levels), is polled
/// once to register its timer, and is dropped, which cancels it. Per timer:
/// one insert plus one O(1) cancel. `tokio` does the same with its own
/// `sleep_until`; its `Sleep` is `!Unpin`, so the honest peer is
/// `spindle_boxed`, which pays the same allocation per timer.
fn insert_and_cancel(c: &mut Criterion) {
    let mut group = c.benchmark_group("timers_insert_cancel_1e6");
    group
        .throughput(Throughput::Elements(CANCELLED as u64))
        .sampling_mode(SamplingMode::Flat);
    let offsets = offsets(CANCELLED, Duration::from_secs(3600), 0x2545_F491_4F6C_DD1D);
    let waker = futures_util::task::noop_waker();

    let runtime = virtual_runtime();
    group.bench_function("spindle", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut cx = Context::from_waker(&waker);
                let mut sleeps: Vec<Sleep> = Vec::with_capacity(CANCELLED);
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let base = now();
                    let started = Instant::now();
                    sleeps.extend(offsets.iter().map(|&d| sleep_until(base + d)));
                    for sleep in &mut sleeps {
                        register(Pin::new(sleep), &mut cx);
                    }
                    sleeps.clear(); // drops every Sleep: cancels every timer
                    total += started.elapsed();
                }
                total
            })
        })
    });
    group.bench_function("spindle_boxed", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut cx = Context::from_waker(&waker);
                let mut sleeps: Vec<Pin<Box<Sleep>>> = Vec::with_capacity(CANCELLED);
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let base = now();
                    let started = Instant::now();
                    sleeps.extend(offsets.iter().map(|&d| Box::pin(sleep_until(base + d))));
                    for sleep in &mut sleeps {
                        register(sleep.as_mut(), &mut cx);
                    }
                    sleeps.clear();
                    total += started.elapsed();
                }
                total
            })
        })
    });

    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    group.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            tokio.block_on(async {
                let mut cx = Context::from_waker(&waker);
                let mut sleeps: Vec<Pin<Box<tokio::time::Sleep>>> = Vec::with_capacity(CANCELLED);
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let base = tokio::time::Instant::now();
                    let started = Instant::now();
                    sleeps.extend(
                        offsets
                            .iter()
                            .map(|&d| Box::pin(tokio::time::sleep_until(base + d))),
                    );
                    for sleep in &mut sleeps {
                        register(sleep.as_mut(), &mut cx);
                    }
                    sleeps.clear();
                    total += started.elapsed();
                }
                total
            })
        })
    });
    group.finish();
}

/// 10⁵ timers inserted and fired: 10⁵ sleeps with random deadlines spread
/// over 0–10 ms, all awaited through one `join_all`, under virtual time.
/// Per timer: insert, fire, wake, one re-poll by `join_all`, and the loop's
/// share of the turns (under virtual time, a zero-timeout reactor check and
/// a clock jump per distinct deadline).
fn insert_and_fire(c: &mut Criterion) {
    let mut group = c.benchmark_group("timers_insert_fire_1e5");
    group
        .throughput(Throughput::Elements(FIRED as u64))
        .sampling_mode(SamplingMode::Flat);
    let offsets = offsets(FIRED, Duration::from_millis(10), 0x9E37_79B9_7F4A_7C15);
    let runtime = virtual_runtime();
    group.bench_function("spindle_virtual", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += runtime.block_on(async {
                    let base = now();
                    let started = Instant::now();
                    join_all(offsets.iter().map(|&d| sleep_until(base + d))).await;
                    started.elapsed()
                });
            }
            total
        })
    });
    group.finish();
}

/// One `sleep(1 ms)` in real time, start to wake-up: 1 ms plus the
/// lateness. Criterion reports the mean; the distribution of the lateness is
/// printed by `print_lateness`.
fn sleep_1ms(c: &mut Criterion) {
    let mut group = c.benchmark_group("sleep_1ms_real_time");
    let runtime = Runtime::new().expect("a runtime");
    group.bench_function("spindle", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    sleep(Duration::from_millis(1)).await;
                }
                started.elapsed()
            })
        })
    });
    group.finish();
}

/// Runs the criterion benches (what `criterion_group!` would generate),
/// with few samples so the whole run stays under a minute: each sample of the
/// first two benches already covers 10⁵–10⁶ timers.
fn benches() {
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    insert_and_cancel(&mut criterion);
    insert_and_fire(&mut criterion);
    sleep_1ms(&mut criterion);
}

/// The p50/p90/p99/max of `lateness`, sorted in place.
fn percentiles(lateness: &mut [Duration]) -> String {
    lateness.sort_unstable();
    let at = |p: usize| lateness[(lateness.len() - 1) * p / 100];
    format!(
        "p50 {:>9.1?}  p90 {:>9.1?}  p99 {:>9.1?}  max {:>9.1?}",
        at(50),
        at(90),
        at(99),
        at(100)
    )
}

/// Lateness of 1 ms sleeps in real time: wake-up minus deadline over
/// `LATENESS_SAMPLES` sequential sleeps, for spindle, tokio (which rounds
/// deadlines up to its next 1 ms tick) and `std::thread::sleep` (the
/// operating system's own timer slack, the floor for everyone).
fn print_lateness() {
    let runtime = Runtime::new().expect("a runtime");
    let mut spindle_lateness: Vec<Duration> = runtime.block_on(async {
        let mut lateness = Vec::with_capacity(LATENESS_SAMPLES);
        for _ in 0..LATENESS_SAMPLES {
            let sleep = sleep(Duration::from_millis(1));
            let deadline = sleep.deadline().expect("1 ms has a deadline");
            sleep.await;
            lateness.push(Instant::now() - deadline);
        }
        lateness
    });

    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let mut tokio_lateness: Vec<Duration> = tokio.block_on(async {
        let mut lateness = Vec::with_capacity(LATENESS_SAMPLES);
        for _ in 0..LATENESS_SAMPLES {
            let deadline = Instant::now() + Duration::from_millis(1);
            tokio::time::sleep_until(deadline.into()).await;
            lateness.push(Instant::now() - deadline);
        }
        lateness
    });

    let mut os_lateness: Vec<Duration> = (0..LATENESS_SAMPLES)
        .map(|_| {
            let deadline = Instant::now() + Duration::from_millis(1);
            std::thread::sleep(Duration::from_millis(1));
            Instant::now() - deadline
        })
        .collect();

    println!("lateness of 1 ms sleeps (wake-up - deadline), {LATENESS_SAMPLES} sequential sleeps:");
    println!(
        "  spindle             {}",
        percentiles(&mut spindle_lateness)
    );
    println!("  tokio               {}", percentiles(&mut tokio_lateness));
    println!("  std::thread::sleep  {}", percentiles(&mut os_lateness));
}

/// `criterion_main!` with one step added in front. Criterion measures how
/// long something takes; lateness is a distribution of a different quantity,
/// so it is measured once here and printed. Only under `cargo bench` (which
/// passes `--bench`), not when `cargo test --benches` runs each bench once.
fn main() {
    if std::env::args().any(|arg| arg == "--bench") {
        print_lateness();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
