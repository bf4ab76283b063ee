//! Helpers shared by the integration tests in `tests/`: the `within`
//! watchdog (and the network tests' `LIMIT`), runtimes on real or virtual
//! time, the current runtime's metrics, a drop flag, a small deterministic
//! random generator, and the locator of the example binaries.
//! `benches/timers.rs` includes this file too (`#[path]`), for the same
//! runtime and generator.
//!
//! A test file uses them with `mod support;` and then `use support::...;`
//! for what it needs, e.g. `use support::{within, LIMIT};`. The `prim_*`
//! tests' own instruments (counting wakers, gates, drop counters) live in
//! `prim_util`, which no other test needs.

// Cargo compiles this module into every test binary that declares it, and
// each binary uses a different subset of it: without this, each would warn
// about the helpers it does not use.
#![allow(dead_code)]

use std::cell::Cell;
use std::future::Future;
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
