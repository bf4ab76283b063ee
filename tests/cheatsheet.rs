//! The six cheatsheet programs, checked against CPython's output.
//!
//! Each example binary runs with `SPINDLE_CLOCK=virtual`, so the whole set
//! takes a fraction of a second, and its stdout must equal CPython's output
//! kept in `tests/cheatsheet/NN_name.expected` (copied from the cheatsheet, so
//! the project tests without `../shared`). One real-time run of `04_event`
//! checks that the timing is real too.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const PROGRAMS: [&str; 6] = [
    "01_gather",
    "02_call_later",
    "03_queue",
    "04_event",
    "05_timeout",
    "06_stream",
];

/// The example binaries sit next to the test's own `deps/` folder; `cargo
/// test` builds them before running tests. If they are missing (a test run
/// with `--test cheatsheet` alone), build them.
fn example(name: &str) -> PathBuf {
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

fn run(name: &str, virtual_time: bool) -> Output {
    let mut command = Command::new(example(name));
    command.env_remove("SPINDLE_TRACE");
    if virtual_time {
        command.env("SPINDLE_CLOCK", "virtual");
    } else {
        command.env_remove("SPINDLE_CLOCK");
    }
    command.output().unwrap()
}

#[test]
fn every_program_prints_what_cpython_prints() {
    for name in PROGRAMS {
        let started = Instant::now();
        let output = run(name, true);
        let took = started.elapsed();
        assert!(
            output.status.success(),
            "{name} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let expected = std::fs::read_to_string(format!(
            "{}/tests/cheatsheet/{name}.expected",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            expected,
            "{name}'s output differs from CPython's"
        );
        // Virtual time: seconds of sleeping take no real time (generous bound).
        assert!(
            took < Duration::from_secs(2),
            "{name} took {took:?} in virtual time"
        );
    }
}

#[test]
fn event_triggers_after_two_real_seconds() {
    let started = Instant::now();
    let mut child = Command::new(example("04_event"))
        .env_remove("SPINDLE_CLOCK")
        .env_remove("SPINDLE_TRACE")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut triggered_at = None;
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
        if line.unwrap() == "Triggering the event..." {
            triggered_at = Some(started.elapsed());
        }
    }
    assert!(child.wait().unwrap().success());
    let at = triggered_at.expect("the program printed its Triggering line");
    assert!(
        at >= Duration::from_secs(2),
        "triggered early, after {at:?}"
    );
    assert!(
        at < Duration::from_secs(5),
        "triggered far too late, after {at:?}"
    );
}
