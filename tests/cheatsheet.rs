//! The asyncio programs the examples rebuild, checked against CPython's output.
//!
//! Two sets: the six cheatsheet programs (`tests/cheatsheet/`) and the six
//! that go beyond it (`tests/beyond/`, TaskGroup, locks, queues...). Each
//! folder keeps the asyncio program (`NN_name.py`) and CPython's output
//! (`NN_name.expected`), copied from `../shared` so the project tests without
//! it. Every example binary runs with `SPINDLE_CLOCK=virtual`, so the whole
//! set takes a fraction of a second, and its stdout must equal CPython's
//! output. One real-time run of `04_event` checks that the timing is real too.

mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::example;

/// The programs of one set: every `NN_name.py` in `tests/<set>/`.
fn programs(set: &str) -> Vec<String> {
    let folder = format!("{}/tests/{set}", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".py").map(str::to_string)
        })
        .collect();
    names.sort();
    names
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
fn every_cheatsheet_program_prints_what_cpython_prints() {
    prints_what_cpython_prints("cheatsheet", 6);
}

#[test]
fn every_program_beyond_the_cheatsheet_prints_what_cpython_prints() {
    prints_what_cpython_prints("beyond", 6);
}

fn prints_what_cpython_prints(set: &str, count: usize) {
    let names = programs(set);
    assert_eq!(names.len(), count, "tests/{set} holds {names:?}");
    for name in &names {
        let started = Instant::now();
        let output = run(name, true);
        let took = started.elapsed();
        assert!(
            output.status.success(),
            "{name} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let expected = std::fs::read_to_string(format!(
            "{}/tests/{set}/{name}.expected",
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
