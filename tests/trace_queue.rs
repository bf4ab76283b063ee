//! The trace of `examples/03_queue`, run in virtual time: the lanes, the
//! exact sequence of events on each, the five timers on the loop's lane, and
//! the hand-off that makes "Produced" print before "Consumed" — the
//! producer's `put` wakes the consumer *during* the producer's poll, and the
//! consumer runs only after that poll returns. Also: with `SPINDLE_TRACE`
//! unset or empty, no file is written.
//!
//! The example runs as a child process (`SPINDLE_CLOCK=virtual`,
//! `SPINDLE_TRACE=<temp file>`), and the assertions are on the parsed JSON,
//! never on its bytes.
//!
//! One thing to know when reading a trace file: records are written in the
//! order they *completed*. A poll's span is recorded when the poll returns,
//! so a wake that happened during a poll precedes that poll in the file.
//! Under virtual time every event of one second has the same timestamp, so
//! the file order is what shows the order of events within it.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use support::example;

/// A fresh path (or directory) in the temp dir, unique to this process and tag.
fn temp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("spindle-trace_queue-{}-{tag}", std::process::id()))
}

/// One record of the trace: an instant (`dur` is `None`) or a span.
#[derive(Debug)]
struct Record {
    name: String,
    lane: u64,
    /// Microseconds on the runtime's clock since it started.
    ts: f64,
    dur: Option<f64>,
    args: Value,
}

impl Record {
    /// `name` or `name(origin)` for a wake: what the sequences below compare.
    /// `waits(Queue#1.get)` for what a task waits on after a poll.
    fn label(&self) -> String {
        let arg = ["origin", "on"]
            .iter()
            .find_map(|key| self.args.get(*key).and_then(Value::as_str));
        match arg {
            Some(arg) => format!("{}({arg})", self.name),
            None => self.name.clone(),
        }
    }
}

/// A point of a lane: (lane, microseconds).
type At = (u64, f64);

/// A parsed trace: lane names (from the `thread_name` metadata) and the
/// records in file order.
struct Trace {
    lanes: BTreeMap<u64, String>,
    records: Vec<Record>,
    /// Flow arrows by id: where each starts and, once parsed, ends.
    flows: BTreeMap<u64, (At, Option<At>)>,
}

impl Trace {
    fn parse(path: &Path) -> Trace {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("no trace at {}: {e}", path.display()));
        let json: Value = serde_json::from_str(&text).expect("the trace is valid JSON");
        let mut lanes = BTreeMap::new();
        let mut records = Vec::new();
        let mut flows = BTreeMap::new();
        for event in json["traceEvents"].as_array().expect("a traceEvents array") {
            let name = event["name"].as_str().expect("every event has a name");
            let lane = event["tid"].as_u64().expect("every event has a lane");
            match event["ph"].as_str().expect("every event has a phase") {
                "M" => {
                    if name == "thread_name" {
                        let label = event["args"]["name"].as_str().unwrap().to_string();
                        lanes.insert(lane, label);
                    }
                }
                "X" | "i" => records.push(Record {
                    name: name.to_string(),
                    lane,
                    ts: event["ts"].as_f64().expect("a timestamp"),
                    dur: event.get("dur").and_then(Value::as_f64),
                    args: event["args"].clone(),
                }),
                "s" => {
                    let id = event["id"].as_u64().expect("a flow id");
                    let at = (lane, event["ts"].as_f64().unwrap());
                    assert!(flows.insert(id, (at, None)).is_none(), "flow {id} twice");
                }
                "f" => {
                    let id = event["id"].as_u64().expect("a flow id");
                    assert_eq!(event["bp"], "e", "a flow ends at the poll it enters");
                    let flow: &mut (_, Option<_>) =
                        flows.get_mut(&id).expect("ends a started flow");
                    assert!(flow.1.is_none(), "flow {id} ends twice");
                    flow.1 = Some((lane, event["ts"].as_f64().unwrap()));
                }
                other => panic!("unexpected phase {other:?} in {event}"),
            }
        }
        Trace {
            lanes,
            records,
            flows,
        }
    }

    /// The lane whose name starts with `name` (names read `producer (task 1)`).
    fn lane(&self, name: &str) -> u64 {
        let prefix = format!("{name} ");
        let mut found = self.lanes.iter().filter(|(_, n)| n.starts_with(&prefix));
        let (&lane, _) = found.next().unwrap_or_else(|| panic!("no lane {name}"));
        assert!(found.next().is_none(), "two lanes named {name}");
        lane
    }

    /// The task events of one lane in file order, as labels. (A spawn is
    /// traced as `spawn` only, never as a wake.)
    fn task_sequence(&self, lane: u64) -> Vec<String> {
        self.records
            .iter()
            .filter(|r| r.lane == lane)
            .map(|r| r.label())
            .collect()
    }

    /// The file index of every record on `lane` labelled `label`.
    fn indices(&self, lane: u64, label: &str) -> Vec<usize> {
        (0..self.records.len())
            .filter(|&i| self.records[i].lane == lane && self.records[i].label() == label)
            .collect()
    }
}

/// Runs `03_queue` in virtual time with a trace and parses it. Each call
/// gets its own file: the tests run in parallel.
fn traced_queue_run() -> Trace {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let path = temp_path(&format!("{}.json", RUNS.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_file(&path);
    let output = Command::new(example("03_queue"))
        .env("SPINDLE_CLOCK", "virtual")
        .env("SPINDLE_TRACE", &path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "03_queue failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let trace = Trace::parse(&path);
    std::fs::remove_file(&path).unwrap();
    trace
}

const SECOND_US: f64 = 1e6;

/// Lanes: the loop, then one per task in spawn order (`id + 1`), each named
/// after its task; `main` is the `block_on` future.
#[test]
fn lanes_are_the_loop_main_producer_and_consumer() {
    let trace = traced_queue_run();
    let lanes: Vec<(u64, &str)> = trace.lanes.iter().map(|(&l, n)| (l, n.as_str())).collect();
    assert_eq!(
        lanes,
        [
            (0, "loop"),
            (1, "main (task 0)"),
            (2, "producer (task 1)"),
            (3, "consumer (task 2)"),
        ]
    );
    // Every record is on one of those lanes.
    for record in &trace.records {
        assert!(trace.lanes.contains_key(&record.lane), "{record:?}");
    }
}

/// Per task, in order: the spawn and first poll at 0 s; then one round per
/// second: the producer is woken by its timer, the consumer by the
/// producer's `put`; the producer finishes after its fifth round, the
/// consumer is cancelled by `main`, which was woken by the producer's end.
#[test]
fn each_lane_has_the_exact_sequence_of_task_events() {
    let trace = traced_queue_run();
    let round = |wake: &str| [wake.to_string(), "poll".to_string()];
    let start = ["spawn".to_string(), "poll".to_string()];

    // After each poll that returned Pending: what the task now waits on.
    let waits = |on: &str| format!("waits({on})");
    let mut producer: Vec<String> = start.to_vec();
    let mut consumer: Vec<String> = start.to_vec();
    consumer.push(waits("Queue#1.get"));
    for second in 1..=5 {
        producer.push(waits(&format!("sleep until {second}.000s")));
        producer.extend(round("wake(timer)"));
        consumer.extend(round("wake(local)"));
        consumer.push(waits("Queue#1.get"));
    }
    producer.push("finished".into());
    consumer.push("cancelled".into());
    let mut main: Vec<String> = start.to_vec();
    main.push(waits("task 1 (producer)"));
    main.extend(round("wake(local)"));
    main.push("finished".into());

    assert_eq!(trace.task_sequence(trace.lane("producer")), producer);
    assert_eq!(trace.task_sequence(trace.lane("consumer")), consumer);
    assert_eq!(trace.task_sequence(trace.lane("main")), main);
    // Nothing panicked, no wake crossed threads or came from I/O.
    for record in &trace.records {
        assert_ne!(record.name, "panicked");
        let origin = record.args.get("origin").and_then(Value::as_str);
        assert!(
            matches!(origin, None | Some("local" | "timer")),
            "{record:?}"
        );
    }
}

/// The loop's lane: the five sleeps fire at exactly 1 s … 5 s (virtual time
/// is exact: not a microsecond late), none is cancelled, the loop never
/// blocks in the reactor, and the clock gets there only by jumping: the
/// jumps tile the five seconds without gap or overlap, one landing on each
/// deadline. (How many jumps a second takes is the wheel's business: it
/// stops at each level's slot boundary on the way down.)
#[test]
fn the_loop_fires_five_timers_and_jumps_the_clock() {
    let trace = traced_queue_run();
    let on_loop = |name: &str| -> Vec<&Record> {
        trace
            .records
            .iter()
            .filter(|r| r.lane == 0 && r.name == name)
            .collect()
    };

    let fired: Vec<(f64, f64)> = on_loop("timer fired")
        .iter()
        .map(|r| (r.ts, r.args["late_us"].as_f64().unwrap()))
        .collect();
    let seconds: Vec<(f64, f64)> = (1..=5).map(|s| (s as f64 * SECOND_US, 0.0)).collect();
    assert_eq!(fired, seconds);
    assert!(on_loop("timer cancelled").is_empty());
    assert!(on_loop("reactor wait").is_empty());

    let jumps = on_loop("clock jump");
    assert!(jumps.len() >= 5, "{jumps:?}");
    let mut clock = 0.0;
    for jump in &jumps {
        let by = jump.dur.expect("a clock jump is a span");
        assert_eq!(jump.ts, clock, "jumps must follow each other: {jump:?}");
        assert_eq!(jump.args["by_us"].as_f64(), Some(by));
        assert!(by > 0.0, "{jump:?}");
        clock += by;
    }
    assert_eq!(clock, 5.0 * SECOND_US);
    for second in 1..=5 {
        let at = second as f64 * SECOND_US;
        assert!(
            jumps.iter().any(|j| j.ts + j.dur.unwrap() == at),
            "no jump lands on {second} s"
        );
    }
}

/// The hand-off, second by second: the timer fires, the producer is woken
/// by it, the producer is polled and during that poll its `put` wakes the
/// consumer (a local wake at the same instant), and only after the
/// producer's poll has returned is the consumer polled. In file order:
/// timer fired < producer wake(timer) < consumer wake(local) < producer
/// poll (recorded when it returns) < consumer poll.
#[test]
fn each_second_the_producer_hands_off_to_the_consumer() {
    let trace = traced_queue_run();
    let (producer, consumer) = (trace.lane("producer"), trace.lane("consumer"));
    let fired = trace.indices(0, "timer fired");
    let producer_wakes = trace.indices(producer, "wake(timer)");
    let consumer_wakes = trace.indices(consumer, "wake(local)");
    // The first poll of each task is at 0 s; the rounds follow.
    let producer_polls = &trace.indices(producer, "poll")[1..];
    let consumer_polls = &trace.indices(consumer, "poll")[1..];
    // The spawn's own local wake, if recorded, is at 0 s: keep the rounds.
    let consumer_wakes: Vec<usize> = consumer_wakes
        .into_iter()
        .filter(|&i| trace.records[i].ts > 0.0)
        .collect();
    for counted in [
        fired.len(),
        producer_wakes.len(),
        consumer_wakes.len(),
        producer_polls.len(),
        consumer_polls.len(),
    ] {
        assert_eq!(counted, 5);
    }

    for k in 0..5 {
        let at = (k + 1) as f64 * SECOND_US;
        let order = [
            fired[k],
            producer_wakes[k],
            consumer_wakes[k],
            producer_polls[k],
            consumer_polls[k],
        ];
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "second {}: out of order: {:?}",
            k + 1,
            order.map(|i| trace.records[i].label())
        );
        for i in order {
            assert_eq!(trace.records[i].ts, at, "{:?}", trace.records[i]);
        }
        // The consumer's wake lies inside the producer's poll.
        let poll = &trace.records[producer_polls[k]];
        let wake = &trace.records[consumer_wakes[k]];
        assert!(poll.ts <= wake.ts && wake.ts <= poll.ts + poll.dur.unwrap());
    }
}

/// The end: the producer finishes at 5 s and wakes `main`; the consumer
/// takes the last item; then `main` — in its last poll — finds the queue
/// joined and cancels the consumer, which is waiting in `get` again.
#[test]
fn main_cancels_the_consumer_after_its_last_item() {
    let trace = traced_queue_run();
    let (main, producer, consumer) = (
        trace.lane("main"),
        trace.lane("producer"),
        trace.lane("consumer"),
    );
    let last = |lane, label| *trace.indices(lane, label).last().unwrap();
    let producer_finished = last(producer, "finished");
    let main_woken = last(main, "wake(local)");
    let consumer_last_poll = last(consumer, "poll");
    let cancelled = last(consumer, "cancelled");
    let main_last_poll = last(main, "poll");
    let main_finished = last(main, "finished");
    let order = [
        producer_finished,
        main_woken,
        consumer_last_poll,
        cancelled,
        main_last_poll,
        main_finished,
    ];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "{:?}",
        order.map(|i| trace.records[i].label())
    );
    for i in order {
        assert_eq!(trace.records[i].ts, 5.0 * SECOND_US);
    }
    assert_eq!(
        main_finished,
        trace.records.len() - 1,
        "main ends the trace"
    );
}

/// With tracing off — `SPINDLE_TRACE` unset, or set but empty — the program
/// writes no file (here: its empty working directory stays empty).
#[test]
fn no_trace_file_without_spindle_trace() {
    for (tag, value) in [("unset", None), ("empty", Some(""))] {
        let dir = temp_path(&format!("off-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let mut command = Command::new(example("03_queue"));
        command.current_dir(&dir).env("SPINDLE_CLOCK", "virtual");
        match value {
            Some(value) => command.env("SPINDLE_TRACE", value),
            None => command.env_remove("SPINDLE_TRACE"),
        };
        let output = command.output().unwrap();
        assert!(output.status.success());
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(left.is_empty(), "SPINDLE_TRACE {tag}: wrote {left:?}");
    }
}

/// Who woke whom: every wake has a flow arrow from the waker's lane to the
/// woken task's next poll. The consumer's arrows start on the producer's
/// lane (its `put`), the producer's on the loop's (its timer), main's on
/// the producer's (its end); each arrow ends where that poll starts. And
/// each spawn names its parent and the source line.
#[test]
fn arrows_run_from_each_waker_to_the_poll_it_caused() {
    let trace = traced_queue_run();
    let (producer, consumer, main) = (
        trace.lane("producer"),
        trace.lane("consumer"),
        trace.lane("main"),
    );
    let mut from_to: Vec<(u64, u64)> = Vec::new();
    for (id, (start, end)) in &trace.flows {
        let (end_lane, end_ts) = end.unwrap_or_else(|| panic!("flow {id} never ends"));
        assert!(end_ts >= start.1, "flow {id} goes back in time");
        // The arrow ends exactly where a poll of that lane starts.
        assert!(
            trace
                .records
                .iter()
                .any(|r| r.lane == end_lane && r.name == "poll" && r.ts == end_ts),
            "flow {id} ends at no poll"
        );
        from_to.push((start.0, end_lane));
    }
    let count = |pair| from_to.iter().filter(|&&p| p == pair).count();
    assert_eq!(count((producer, consumer)), 5, "{from_to:?}");
    assert_eq!(count((0, producer)), 5, "{from_to:?}");
    assert_eq!(count((producer, main)), 1, "{from_to:?}");
    assert_eq!(from_to.len(), 11, "one arrow per wake: {from_to:?}");

    let spawns: Vec<&Record> = trace.records.iter().filter(|r| r.name == "spawn").collect();
    for spawn in &spawns {
        let at = spawn.args["at"].as_str().unwrap();
        assert!(at.starts_with("examples/03_queue.rs:"), "{spawn:?}");
        let expected_parent = if spawn.lane == main {
            Value::Null
        } else {
            Value::from(0)
        };
        assert_eq!(spawn.args["parent"], expected_parent, "{spawn:?}");
    }
    assert_eq!(spawns.len(), 3);
}
