//! Scheduling overhead of spindle against tokio and smol, side by side.
//!
//! ```text
//! cargo bench --bench compare            # every workload, then writes BENCHMARKS.md
//! cargo bench --bench compare -- ping    # a subset (BENCHMARKS.md keeps the rest)
//! ```
//!
//! Each workload is one criterion group holding the three runtimes, so every
//! ratio in the report comes from one run on one machine in one state. After
//! the groups, the binary measures sleep lateness (criterion measures time,
//! not lateness) and writes BENCHMARKS.md from criterion's own estimates.
//! The workloads are in `workloads.rs`, the runtimes in `peers.rs`, the
//! report in `report.rs`.

mod peers;
mod report;
mod workloads;

use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, Throughput};
use peers::{Peer, Smol, Spindle, Tokio};

/// One criterion group: the same workload on each runtime, each closure
/// returning the time one iteration took (most time the whole iteration;
/// `timers_fire` and `timers_random` subtract the 50 ms the timers must wait,
/// `event_broadcast` times only from `set` on, `timeout_reads` only once the
/// connections are made). Inside `$body`, `P` names the runtime.
macro_rules! compare {
    ($c:expr, $name:literal, $ops:expr, |$p:ident| $body:expr) => {{
        let mut group = $c.benchmark_group($name);
        configure(&mut group, $ops);
        bench::<Spindle>(&mut group, |$p: &Spindle| {
            type P = Spindle;
            $body
        });
        bench::<Tokio>(&mut group, |$p: &Tokio| {
            type P = Tokio;
            $body
        });
        bench::<Smol>(&mut group, |$p: &Smol| {
            type P = Smol;
            $body
        });
        group.finish();
    }};
}

fn configure(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, ops: u64) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(ops));
}

fn bench<P: Peer>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    run: impl Fn(&P) -> Duration,
) {
    let peer = P::new();
    group.bench_function(P::NAME, |b| {
        b.iter_custom(|iterations| (0..iterations).map(|_| run(&peer)).sum());
    });
}

fn timed(f: impl FnOnce()) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed()
}

fn main() {
    use workloads::*;
    let mut c = Criterion::default().configure_from_args();
    compare!(c, "spawn_many", SPAWN_MANY, |p| timed(
        || p.block_on(spawn_many::<P>())
    ));
    compare!(c, "yield_many", YIELD_TASKS * YIELDS, |p| timed(
        || p.block_on(yield_many::<P>())
    ));
    compare!(c, "ping_pong", PING_PONGS, |p| timed(
        || p.block_on(ping_pong::<P>())
    ));
    compare!(c, "chained_spawn", CHAIN_DEPTH, |p| timed(
        || p.block_on(chained_spawn::<P>())
    ));
    compare!(c, "timers_fire", TIMERS, |p| timed(
        || p.block_on(timers_fire::<P>())
    )
    .saturating_sub(TIMER_SPREAD));
    compare!(c, "timers_random", TIMERS, |p| timed(
        || p.block_on(timers_random::<P>())
    )
    .saturating_sub(TIMER_SPREAD));
    compare!(c, "timeout_pending", TIMEOUTS, |p| timed(
        || p.block_on(timeout_pending::<P>())
    ));
    if timeout_reads_fits() {
        compare!(c, "timeout_reads", CONNECTIONS * READS_EACH, |p| p
            .block_on(timeout_reads::<P>()));
    } else {
        eprintln!(
            "timeout_reads skipped: it needs {} open files (`ulimit -n 20000`)",
            2 * CONNECTIONS + 1_000
        );
    }
    compare!(c, "queue_throughput", QUEUE_ITEMS, |p| timed(
        || p.block_on(queue_throughput::<P>())
    ));
    compare!(c, "event_broadcast", WAITERS, |p| p
        .block_on(event_broadcast::<P>()));
    compare!(c, "mutex_uncontended", LOCKS, |p| timed(
        || p.block_on(mutex_uncontended::<P>())
    ));
    compare!(c, "mutex_contended", LOCKERS * LOCKS_EACH, |p| timed(
        || p.block_on(mutex_contended::<P>())
    ));
    compare!(c, "semaphore_acquire", ACQUIRES, |p| timed(
        || p.block_on(semaphore_acquire::<P>())
    ));
    compare!(c, "tcp_echo", ECHOES, |p| timed(
        || p.block_on(tcp_echo::<P>())
    ));
    compare!(c, "task_group", GROUP_CHILDREN, |p| timed(
        || p.block_on(task_group::<P>())
    ));
    compare!(c, "run_per_message", MESSAGES, |p| timed(|| {
        thread_ping_pong::<P>(p, true)
    }));
    compare!(c, "block_on_per_message", MESSAGES, |p| timed(|| {
        thread_ping_pong::<P>(p, false)
    }));
    c.final_summary();

    let lateness = report::measure_lateness();
    report::write(&lateness);
}
