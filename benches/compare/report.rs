//! Writes BENCHMARKS.md: per workload the median ns/op of each runtime and
//! the ratio spindle / best peer, read from criterion's estimates
//! (`target/criterion/<group>/<runtime>/new/estimates.json`), plus the sleep
//! lateness table, the machine and the date.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::peers::{Peer, Smol, Spindle, Tokio};
use crate::workloads;

const RUNTIMES: [&str; 3] = ["spindle", "tokio", "smol"];

/// (group, operations per iteration, what one operation is, target ratio).
const GROUPS: &[(&str, u64, &str, f64)] = &[
    (
        "spawn_many",
        workloads::SPAWN_MANY,
        "spawn + run + join of an empty task",
        0.7,
    ),
    (
        "yield_many",
        workloads::YIELD_TASKS * workloads::YIELDS,
        "one `yield_now` round trip",
        0.7,
    ),
    (
        "ping_pong",
        workloads::PING_PONGS,
        "one round trip through the runtime's queue",
        0.7,
    ),
    (
        "chained_spawn",
        workloads::CHAIN_DEPTH,
        "one spawn in a chain of tasks",
        0.7,
    ),
    (
        "timers_fire",
        workloads::TIMERS,
        "one sleep (wall − 50 ms) / N",
        0.7,
    ),
    (
        "timers_random",
        workloads::TIMERS,
        "one sleep, spawned in random deadline order (wall − 50 ms) / N",
        0.7,
    ),
    (
        "timeout_pending",
        workloads::TIMEOUTS,
        "one `timeout` whose future is pending once",
        0.7,
    ),
    (
        "timeout_reads",
        workloads::CONNECTIONS * workloads::READS_EACH,
        "one socket read under a `timeout` that never fires, 9 000 connections",
        0.7,
    ),
    (
        "queue_throughput",
        workloads::QUEUE_ITEMS,
        "one item, producer → consumer",
        0.7,
    ),
    (
        "event_broadcast",
        workloads::WAITERS,
        "one waiter released by one `set`",
        0.7,
    ),
    (
        "mutex_uncontended",
        workloads::LOCKS,
        "`lock().await` + unlock, nobody else wants the lock",
        0.7,
    ),
    (
        "mutex_contended",
        workloads::LOCKERS * workloads::LOCKS_EACH,
        "a lock held across `yield_now` by one of 10 tasks; unlock hands it on",
        0.7,
    ),
    (
        "semaphore_acquire",
        workloads::ACQUIRES,
        "`acquire().await` + release of a free permit",
        0.7,
    ),
    (
        "tcp_echo",
        workloads::ECHOES,
        "one 64-byte echo round trip over loopback",
        1.0,
    ),
    (
        "task_group",
        workloads::GROUP_CHILDREN,
        "one empty child of a group of 1 000 (start + run + join)",
        0.7,
    ),
    (
        "run_per_message",
        workloads::MESSAGES,
        "one round trip to another thread, a fresh runtime per message on each side",
        1.0,
    ),
    (
        "block_on_per_message",
        workloads::MESSAGES,
        "the same, one reused runtime per thread",
        1.0,
    ),
];

const SLEEPS: [Duration; 3] = [
    Duration::from_micros(100),
    Duration::from_millis(1),
    Duration::from_millis(5),
];
const SLEEP_COUNT: usize = 200;

/// p50 and p99 lateness per (runtime, sleep duration).
pub struct Lateness(Vec<(&'static str, Duration, Duration, Duration)>);

pub fn measure_lateness() -> Lateness {
    fn one<P: Peer>(rows: &mut Vec<(&'static str, Duration, Duration, Duration)>) {
        let peer = P::new();
        for duration in SLEEPS {
            let mut late = peer.block_on(workloads::lateness::<P>(duration, SLEEP_COUNT));
            late.sort();
            let pick = |q: f64| late[((late.len() - 1) as f64 * q).round() as usize];
            rows.push((P::NAME, duration, pick(0.5), pick(0.99)));
            println!(
                "sleep_lateness/{}/{duration:?}: p50 {:?} p99 {:?}",
                P::NAME,
                pick(0.5),
                pick(0.99)
            );
        }
    }
    let mut rows = Vec::new();
    one::<Spindle>(&mut rows);
    one::<Tokio>(&mut rows);
    one::<Smol>(&mut rows);
    Lateness(rows)
}

/// The repository root. A bench runs in its package's folder, `benches/`,
/// one below the root, so paths are built from here rather than relative.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the benches package sits inside the repository")
}

/// Where criterion keeps its estimates: as criterion itself decides it,
/// `$CARGO_TARGET_DIR` or else the workspace's `target/`.
fn criterion_dir() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    target.join("criterion")
}

/// The median time of one iteration, in ns, if criterion has measured it.
fn median_ns(group: &str, runtime: &str) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(runtime)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{cpu}, {cores} cores, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Now, as the reports date their runs: `2026-12-02 06:01 UTC`.
pub fn today() -> String {
    std::process::Command::new("date")
        .arg("+%Y-%m-%d %H:%M UTC")
        .env("TZ", "UTC")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown date".into(), |s| s.trim().to_string())
}

/// The sections other runs write and this report copies in, from the
/// repository root: `benches/io/run.sh`'s tables and `benches/growth.rs`'s.
const IO_SECTION: &str = "benches/io/RESULTS.md";
pub const GROWTH_SECTION: &str = "benches/growth.md";

pub fn write(lateness: &Lateness) {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Written by `cargo bench --bench compare` on {} ({}). Every figure is the \
         median of criterion's samples, in ns per operation; peers were measured in \
         the same run, so the ratios are the figures to compare. The machine is \
         shared and noisy: absolute numbers move between runs, ratios much less.\n",
        today(),
        machine()
    );
    let _ = writeln!(
        out,
        "| workload | one operation | spindle | tokio | smol | spindle / best peer | target |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|");
    for &(group, ops, what, target) in GROUPS {
        let per_op: Vec<Option<f64>> = RUNTIMES
            .iter()
            .map(|r| median_ns(group, r).map(|ns| ns / ops as f64))
            .collect();
        let cell = |v: Option<f64>| v.map_or("–".to_string(), |ns| format!("{ns:.1}"));
        let best_peer = per_op[1..]
            .iter()
            .flatten()
            .cloned()
            .fold(f64::INFINITY, f64::min);
        let ratio = per_op[0]
            .filter(|_| best_peer.is_finite())
            .map(|ns| ns / best_peer);
        let verdict = match ratio {
            Some(r) if r <= target => format!("**{r:.2}**"),
            Some(r) => format!("{r:.2} (missed)"),
            None => "–".into(),
        };
        let _ = writeln!(
            out,
            "| `{group}` | {what} | {} | {} | {} | {verdict} | ≤ {target} |",
            cell(per_op[0]),
            cell(per_op[1]),
            cell(per_op[2])
        );
    }
    let fresh = median_ns("run_per_message", "spindle");
    let reused = median_ns("block_on_per_message", "spindle");
    if let (Some(fresh), Some(reused)) = (fresh, reused) {
        let _ = writeln!(
            out,
            "\nA fresh spindle runtime per message costs {:.2} × a reused one \
             (`run_per_message` / `block_on_per_message`; target ≤ 2).",
            fresh / reused
        );
    }
    // The I/O load tables come from `benches/io/run.sh`, a separate run
    // (real servers and load generators, not criterion), kept in a file of
    // their own so that this report carries the latest of them.
    // Likewise the growth series (`benches/growth.rs`, a binary with a
    // counting allocator of its own).
    for section in [IO_SECTION, GROWTH_SECTION] {
        let text = std::fs::read_to_string(root().join(section)).unwrap_or_default();
        if !text.is_empty() {
            let _ = writeln!(out, "\n{}", text.trim_end());
        }
    }
    let _ = writeln!(out, "\n## Sleep lateness\n");
    let _ = writeln!(
        out,
        "{SLEEP_COUNT} sequential sleeps of each duration; lateness = wake − deadline, in µs. \
         Target: spindle's p99 ≤ 100 µs at 1 ms.\n"
    );
    let _ = writeln!(out, "| runtime | sleep | p50 | p99 |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for (runtime, duration, p50, p99) in &lateness.0 {
        let us = |d: &Duration| format!("{:.1}", d.as_secs_f64() * 1e6);
        let _ = writeln!(
            out,
            "| {runtime} | {duration:?} | {} | {} |",
            us(p50),
            us(p99)
        );
    }
    let notes =
        std::fs::read_to_string(root().join("benches/compare/NOTES.md")).unwrap_or_default();
    if !notes.is_empty() {
        let _ = writeln!(out, "\n{notes}");
    }
    match std::fs::write(root().join("BENCHMARKS.md"), out) {
        Ok(()) => println!("wrote BENCHMARKS.md"),
        Err(error) => eprintln!("could not write BENCHMARKS.md: {error}"),
    }
}
