//! Helpers shared by the integration tests in `tests/`: the `within`
//! watchdog (and the network tests' `LIMIT`), runtimes on real or virtual
//! time, the current runtime's metrics, a drop flag, a small deterministic
//! random generator, the locator of the example binaries, a test run in a
//! process of its own (`isolated`), and filling the descriptor table.
//! `benches/timers.rs` includes this file too (`#[path]`), for the same
//! runtime and generator.
//!
//! A test file uses them with `mod support;` and then `use support::...;`
//! for what it needs, e.g. `use support::{within, LIMIT};`. The `prim_*`
//! tests' own instruments (counting wakers, gates, drop counters) live in
//! `prim_util`; `rt_faults` borrows them too.

// Cargo compiles this module into every test binary that declares it, and
// each binary uses a different subset of it: without this, each would warn
// about the helpers it does not use.
#![allow(dead_code)]

use std::cell::Cell;
use std::fs::File;
use std::future::Future;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::Command;
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use spindle::{Builder, Handle, MetricsSnapshot, Runtime};

/// One millisecond, the unit of the timer tests' delays.
pub const MS: Duration = Duration::from_millis(1);

/// How long the network tests give `within`: generous, as they move real bytes.
pub const LIMIT: Duration = Duration::from_secs(60);

/// Runs `body` on its own thread and fails the test if it takes longer than
/// `limit`, so a lost wake-up shows as a failure instead of a hung suite.
///
/// Returns what `body` returns, re-raises its panic, and on success waits for
/// its thread to exit (thread-locals dropped) before returning.
pub fn within<T: Send + 'static>(limit: Duration, body: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let result = panic::catch_unwind(AssertUnwindSafe(body));
        let _ = tx.send(result);
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => {
            thread.join().unwrap();
            value
        }
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(_) => panic!("the test did not finish within {limit:?}"),
    }
}

/// Runs `future` on a runtime on real time, whatever `SPINDLE_CLOCK` says.
pub fn real<F: Future>(future: F) -> F::Output {
    Runtime::new().expect("a runtime").block_on(future)
}

/// A runtime on virtual time, whatever `SPINDLE_CLOCK` says.
pub fn virtual_runtime() -> Runtime {
    Builder::default()
        .virtual_time(true)
        .build()
        .expect("a virtual-time runtime")
}

/// Runs `future` on a fresh runtime on virtual time.
pub fn virtual_time<F: Future>(future: F) -> F::Output {
    virtual_runtime().block_on(future)
}

/// The current runtime's metrics; only on the runtime's own thread.
pub fn metrics() -> MetricsSnapshot {
    Handle::current()
        .metrics()
        .expect("metrics on the runtime's own thread")
}

/// Sets its flag when dropped. Owner thread only.
pub struct SetOnDrop(pub Rc<Cell<bool>>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// The path of example binary `name`, built first if `cargo test` has not.
///
/// The example binaries sit next to the test's own `deps/` folder; `cargo
/// test` builds them before running tests. If they are missing (a test run
/// with `--test <name>` alone), this builds them.
pub fn example(name: &str) -> PathBuf {
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let profile_is_release = dir.parent().is_some_and(|p| p.ends_with("release"));
        let mut build = Command::new(cargo);
        build.args(["build", "--quiet", "--example", name]);
        if profile_is_release {
            build.arg("--release");
        }
        assert!(
            build.status().unwrap().success(),
            "could not build example {name}"
        );
    }
    path
}

/// xorshift64 (Marsaglia 2003): enough randomness for spreading deadlines,
/// and the same sequence on every run, without a `rand` dependency.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform enough in `0..=max` for a test.
    pub fn up_to(&mut self, max: u64) -> u64 {
        self.next() % (max + 1)
    }
}

/// Set in the environment of a child started by [`isolated`], to the name
/// of the test it is there to run.
const ISOLATED: &str = "SPINDLE_ISOLATED_TEST";

/// Runs the test `test` — the caller, which passes its own name — in a
/// process of its own, for tests that measure or disturb the whole process:
/// resident memory, the descriptor table, stderr.
///
/// In the test binary `cargo test` started, this re-runs the same binary
/// with only `test` selected (ignored or not) and `ISOLATED` set, asserts
/// that the child ran that one test and passed, echoes its output through
/// the harness (seen with `--nocapture` or on failure), and returns
/// `Some(stderr)` for the caller to check what the child reported. In that
/// child, it runs `body` and returns `None`. A crash in the child (a
/// use-after-free, an abort) fails the parent's test with the child's
/// output instead of taking the whole test binary down.
pub fn isolated(test: &str, body: impl FnOnce()) -> Option<String> {
    if std::env::var_os(ISOLATED).is_some_and(|name| name == test) {
        body();
        return None;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--include-ignored", "--test-threads=1"])
        .arg("--nocapture")
        .env(ISOLATED, test)
        .output()
        .expect("could not re-run the test binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprint!("{stderr}");
    assert!(
        output.status.success(),
        "{test}, run in a process of its own, failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("1 passed"),
        "the child process did not run {test}:\n{stdout}"
    );
    Some(stderr)
}

/// Above this many descriptors, filling the table takes too long to be worth
/// it in a test.
pub const MAX_FILL: u64 = 1 << 16;

/// The soft limit on open files, from `/proc/self/limits` (Linux).
pub fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Lowers this process's soft limit on open files with util-linux's
/// `prlimit` (std has no `setrlimit`); best effort.
pub fn lower_open_file_limit(to: u64) {
    let _ = Command::new("prlimit")
        .arg("--pid")
        .arg(std::process::id().to_string())
        .arg(format!("--nofile={to}:"))
        .status();
}

/// Whether this process's descriptor table can be filled in a test: lowers
/// the soft limit to 4096 if it is above [`MAX_FILL`], and says `false`
/// (the caller skips) if it is unknown or still too high.
///
/// Filling the table breaks every other test running in the same process:
/// call it from a binary of its own, or inside [`isolated`].
pub fn descriptor_table_fillable() -> bool {
    if open_file_limit().is_some_and(|limit| limit > MAX_FILL) {
        lower_open_file_limit(4096);
    }
    match open_file_limit() {
        Some(limit) if limit <= MAX_FILL => true,
        other => {
            eprintln!("skipped: open-file limit {other:?} unknown or above {MAX_FILL}");
            false
        }
    }
}

/// Whether `error` is EMFILE, "too many open files": 24 on Linux and the
/// BSDs; std has no `ErrorKind` for it.
pub fn is_emfile(error: &io::Error) -> bool {
    error.raw_os_error() == Some(24)
}

/// Opens `/dev/null` until the descriptor table is full; dropping the
/// result frees every descriptor it took.
pub fn fill_descriptor_table() -> Vec<File> {
    let mut filler = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(file) => filler.push(file),
            Err(error) if is_emfile(&error) => return filler,
            Err(error) => panic!("unexpected error while filling: {error}"),
        }
    }
}
