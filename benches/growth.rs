//! The growth series: what a sleeping task costs as the number of live tasks
//! grows from 10⁴ to 10⁶, on spindle, tokio and smol.
//!
//! ```text
//! cargo bench -p spindle-benches --bench growth                    # the series, ~1 minute
//! cargo bench -p spindle-benches --bench growth -- spindle 1000000  # one run, for perf stat
//! perf stat -e instructions,cache-misses \
//!     $CARGO_TARGET_DIR/release/deps/growth-<hash> spindle 1000000
//! ```
//!
//! One run spawns N tasks at once, each sleeping a duration drawn in
//! 200–300 ms (a fixed seed: the same durations for every runtime), and
//! waits until the last one has woken. Nobody holds the tasks' handles
//! (`Peer::spawn_detached`): a counter and the runtime's event tell the main
//! future when all are done, so every byte counted is the runtime's own.
//! Two figures per task:
//!
//! - **overhead** = (wall − 300 ms) / N: spawning, first poll, arming the
//!   timer, firing it and finishing the task, spread over the tasks (the
//!   300 ms are the longest sleep, which nobody can beat);
//! - **peak bytes** = (the highest number of heap bytes live during the run
//!   − those live before it) / N, counted by this binary's global allocator
//!   (`Counting`, below): task blocks, timer entries, queues, whatever grows
//!   with N.
//!
//! Runs alternate spindle, tokio, smol, three times per N, and the medians
//! are printed with the ratio spindle ÷ best peer, and written to
//! `benches/growth.md`, which `cargo bench --bench compare` copies into
//! BENCHMARKS.md. This is a binary of its
//! own, not a group of `compare`, because the counting allocator would slow
//! every other workload too. It is criterion-free for the same reason
//! `timeout_reads` times only part of an iteration: the figure wanted is not
//! an iteration's wall time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

// The runtimes behind `compare`'s `Peer` trait, and its fixed-seed
// generator; this binary uses a few of their items.
#[allow(dead_code)]
#[path = "compare/peers.rs"]
mod peers;
#[allow(dead_code)]
#[path = "compare/workloads.rs"]
mod workloads;
// And the report's date and paths, so this section is dated and placed as
// the rest of BENCHMARKS.md is.
#[allow(dead_code)]
#[path = "compare/report.rs"]
mod report;

use peers::{Peer, Smol, Spindle, Tokio};
use workloads::SplitMix64;

/// Heap bytes live now, and the most live since the last reset.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes and their peak. Relaxed
/// atomics: the counts are read on the thread that allocates, after the run.
struct Counting;

impl Counting {
    fn grew(by: usize) {
        let live = LIVE.fetch_add(by, Relaxed) + by;
        PEAK.fetch_max(live, Relaxed);
    }
    fn shrank(by: usize) {
        LIVE.fetch_sub(by, Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's own arguments,
// so `System`'s guarantees are ours; the counting touches no memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            Counting::grew(layout.size());
        }
        ptr
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            Counting::grew(layout.size());
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from `System`, with
        // `layout` (the caller's contract).
        unsafe { System.dealloc(ptr, layout) };
        Counting::shrank(layout.size());
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as `dealloc` for `ptr` and `layout`; `new_size` is the
        // caller's, under `realloc`'s contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            Counting::shrank(layout.size());
            Counting::grew(new_size);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The task counts of the series.
const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
/// Runs per runtime and size; the median is reported.
const RUNS: usize = 3;
/// The shortest and longest sleep.
const SHORTEST: Duration = Duration::from_millis(200);
const LONGEST: Duration = Duration::from_millis(300);

/// One run's figures per task: overhead in ns, peak bytes.
#[derive(Clone, Copy)]
struct PerTask {
    overhead_ns: f64,
    bytes: f64,
}

/// N sleep durations in 200–300 ms, from a fixed seed.
fn durations(n: usize) -> Vec<Duration> {
    let mut rng = SplitMix64::new(6);
    let span = (LONGEST - SHORTEST).as_nanos() as u64;
    (0..n)
        .map(|_| SHORTEST + Duration::from_nanos(rng.below(span + 1)))
        .collect()
}

/// One run of N sleeping tasks on a fresh `P` (see the module doc).
fn run<P: Peer>(durations: &[Duration]) -> PerTask {
    let n = durations.len();
    let peer = P::new();
    let baseline = LIVE.load(Relaxed);
    PEAK.store(baseline, Relaxed);
    let started = Instant::now();
    peer.block_on(async {
        let left = Rc::new(Cell::new(n));
        let event = P::event();
        let all_woke = P::wait(&event);
        for &duration in durations {
            let (left, event) = (left.clone(), event.clone());
            P::spawn_detached(async move {
                P::sleep(duration).await;
                left.set(left.get() - 1);
                if left.get() == 0 {
                    P::set(&event);
                }
            });
        }
        all_woke.await;
    });
    let wall = started.elapsed();
    let peak = PEAK.load(Relaxed) - baseline;
    drop(peer);
    PerTask {
        overhead_ns: wall.saturating_sub(LONGEST).as_nanos() as f64 / n as f64,
        bytes: peak as f64 / n as f64,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; the rest are ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    if let [runtime, n] = &args[..] {
        let n: usize = n.parse().expect("usage: growth [spindle|tokio|smol N]");
        let durations = durations(n);
        let figures = match runtime.as_str() {
            "spindle" => run::<Spindle>(&durations),
            "tokio" => run::<Tokio>(&durations),
            "smol" => run::<Smol>(&durations),
            _ => panic!("usage: growth [spindle|tokio|smol N]"),
        };
        println!(
            "{runtime} N={n}: {:.1} ns overhead, {:.1} peak bytes per task",
            figures.overhead_ns, figures.bytes
        );
        return;
    }
    let mut table = String::from(
        "| N | runtime | overhead ns/task | peak bytes/task |\n|---:|---|---:|---:|\n",
    );
    print!("{table}");
    for n in SIZES {
        let durations = durations(n);
        let mut figures: [Vec<PerTask>; 3] = Default::default();
        for _ in 0..RUNS {
            figures[0].push(run::<Spindle>(&durations));
            figures[1].push(run::<Tokio>(&durations));
            figures[2].push(run::<Smol>(&durations));
        }
        let medians: Vec<(f64, f64)> = figures
            .iter()
            .map(|runs| {
                (
                    median(runs.iter().map(|f| f.overhead_ns).collect()),
                    median(runs.iter().map(|f| f.bytes).collect()),
                )
            })
            .collect();
        let mut rows = String::new();
        for (name, (ns, bytes)) in ["spindle", "tokio", "smol"].iter().zip(&medians) {
            rows += &format!("| {n} | {name} | {ns:.1} | {bytes:.1} |\n");
        }
        let ratio = |pick: fn(&(f64, f64)) -> f64| {
            let r = pick(&medians[0]) / pick(&medians[1]).min(pick(&medians[2]));
            if r <= TARGET {
                format!("**{r:.2}**")
            } else {
                format!("{r:.2} (missed)")
            }
        };
        rows += &format!(
            "| {n} | spindle ÷ best peer (target ≤ {TARGET}) | {} | {} |\n",
            ratio(|m| m.0),
            ratio(|m| m.1)
        );
        print!("{rows}");
        table += &rows;
    }
    write_section(&table);
}

/// The target of issue 17 for every figure of the series: spindle ≤ 0.7 ×
/// the best peer.
const TARGET: f64 = 0.7;

/// Writes the table, with what produced it, to `benches/growth.md`, which
/// `cargo bench --bench compare` copies into BENCHMARKS.md as the section
/// "Tasks at scale".
fn write_section(table: &str) {
    let section = format!(
        "## Tasks at scale\n\n\
         Written by `cargo bench -p spindle-benches --bench growth` on {}. \
         N tasks alive at once, each sleeping 200–300 ms; overhead = (wall − 300 ms) / N, \
         peak bytes = the heap's highest live bytes during the run, less those before it, / N; \
         medians of {RUNS} alternating runs.\n\n{table}",
        report::today()
    );
    let path = report::root().join(report::GROWTH_SECTION);
    match std::fs::write(&path, section) {
        Ok(()) => println!("wrote {}", path.display()),
        Err(error) => eprintln!("could not write {}: {error}", path.display()),
    }
}
