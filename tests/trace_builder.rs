//! `Builder::trace(path)` in-process: the file appears when the runtime
//! drops (not before), names each lane after its task, and puts the
//! `panicked` and `cancelled` instants on the lanes of the tasks they
//! happened to. (That no file appears with tracing off is checked in
//! `trace_queue.rs`, on a child process with its own working directory.)

use std::path::{Path, PathBuf};

use serde_json::Value;
use spindle::{spawn_named, yield_now, Runtime};

/// A fresh path in the temp dir, unique to this process and tag.
fn temp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "spindle-trace_builder-{}-{tag}.json",
        std::process::id()
    ))
}

/// `(lane, name)` pairs: a lane and its name, or a lane and an event on it.
type Named = Vec<(u64, String)>;

/// The lane names from the metadata, and `(lane, event name)` for every
/// instant and span, in file order.
fn parse(path: &Path) -> (Named, Named) {
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut lanes = Vec::new();
    let mut events = Vec::new();
    for event in json["traceEvents"].as_array().unwrap() {
        let lane = event["tid"].as_u64().unwrap();
        let name = event["name"].as_str().unwrap().to_string();
        match event["ph"].as_str().unwrap() {
            "M" if name == "thread_name" => {
                lanes.push((lane, event["args"]["name"].as_str().unwrap().to_string()));
            }
            "M" => {}
            _ => events.push((lane, name)),
        }
    }
    (lanes, events)
}

/// A task that panics and a task that is cancelled, each on its own lane.
async fn panic_and_cancel() {
    let doomed = spawn_named("doomed", async { panic!("on purpose, for the trace") });
    let victim = spawn_named("victim", std::future::pending::<()>());
    yield_now().await; // both run once: `doomed` panics, `victim` waits
    victim.cancel();
    assert!(doomed.await.unwrap_err().is_panic());
    assert!(victim.await.unwrap_err().is_cancelled());
}

#[test]
fn builder_trace_records_panicked_and_cancelled_on_their_lanes() {
    let path = temp_path("on");
    let _ = std::fs::remove_file(&path);
    let runtime = Runtime::builder()
        .virtual_time(true)
        .trace(&path)
        .build()
        .unwrap();
    runtime.block_on(panic_and_cancel());
    assert!(
        !path.exists(),
        "the trace is written when the runtime drops, not before"
    );
    drop(runtime);
    let (lanes, events) = parse(&path);
    std::fs::remove_file(&path).unwrap();

    assert_eq!(
        lanes,
        [
            (0, "loop".to_string()),
            (1, "main (task 0)".to_string()),
            (2, "doomed (task 1)".to_string()),
            (3, "victim (task 2)".to_string()),
        ]
    );
    let on = |name: &str| -> Vec<u64> {
        events
            .iter()
            .filter(|(_, n)| n == name)
            .map(|&(lane, _)| lane)
            .collect()
    };
    assert_eq!(on("panicked"), [2]);
    assert_eq!(on("cancelled"), [3]);
    assert_eq!(on("spawn"), [1, 2, 3]);
    // `finished` is for a task that returned: only `main` did.
    assert_eq!(on("finished"), [1]);
    // Each task was polled exactly once before it panicked or was cancelled.
    assert_eq!(on("poll").iter().filter(|&&l| l == 2).count(), 1);
    assert_eq!(on("poll").iter().filter(|&&l| l == 3).count(), 1);
}

/// The file says which clock the runtime ran on, so `spindle-trace` can
/// draw a virtual-time trace the same on every run even when the clock never
/// jumped.
#[test]
fn builder_trace_names_its_clock() {
    for virtual_time in [false, true] {
        let path = temp_path(&format!("clock-{virtual_time}"));
        let runtime = Runtime::builder()
            .virtual_time(virtual_time)
            .trace(&path)
            .build()
            .unwrap();
        runtime.block_on(async {});
        drop(runtime);
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let _ = std::fs::remove_file(&path);
        let expected = if virtual_time { "virtual" } else { "real" };
        assert_eq!(json["otherData"]["clock"], expected);
    }
}

/// `observe::note` puts `Kind#n what` on the lane of the task that noted it;
/// labels are numbered per runtime in the order they first appear, so a
/// second runtime numbers the same way; outside a runtime a label is `#?`.
#[test]
fn notes_from_primitives_land_on_the_noting_task_lane_numbered_per_runtime() {
    use spindle::observe::{note, Label};
    use std::sync::Arc;

    let path = temp_path("notes");
    let run_once = |path: &Path| {
        let runtime = Runtime::builder().trace(path).build().unwrap();
        let (gate, door) = (Arc::new(Label::new("Gate")), Arc::new(Label::new("Door")));
        assert_eq!(
            gate.to_string(),
            "Gate#?",
            "numbered before any runtime saw it"
        );
        runtime.block_on(async {
            let door2 = door.clone();
            note(&gate, "opened");
            spawn_named("worker", async move { note(&door2, "shut") })
                .await
                .unwrap();
        });
        assert_eq!(
            (gate.to_string(), door.to_string()),
            ("Gate#1".into(), "Door#2".into())
        );
        drop(runtime);
        parse(path)
    };
    let (lanes, events) = run_once(&path);
    let worker = lanes
        .iter()
        .find(|(_, name)| name == "worker (task 1)")
        .unwrap()
        .0;
    assert!(
        events.contains(&(1, "Gate#1 opened".to_string())),
        "{events:?}"
    );
    assert!(
        events.contains(&(worker, "Door#2 shut".to_string())),
        "{events:?}"
    );
    // A fresh runtime with fresh objects numbers them from 1 again.
    let (_, again) = run_once(&path);
    assert_eq!(events, again);
    std::fs::remove_file(&path).unwrap();
}

/// A flow arrow ends at the poll its wake caused. A task that wakes itself
/// does so *during* a poll (`yield_now`, or `Event::set` for an event it
/// also waits on, as in `examples/04_event`), so its arrow ends at the
/// poll after that one; and an arrow already waiting for that running poll
/// (here: the timer's) still ends there, not lost.
#[test]
fn a_self_wake_arrow_ends_at_the_next_poll_and_the_timer_arrow_is_kept() {
    let path = temp_path("self-wake");
    let runtime = Runtime::builder()
        .virtual_time(true)
        .trace(&path)
        .build()
        .unwrap();
    runtime.block_on(async {
        spindle::sleep(std::time::Duration::from_secs(1)).await; // timer → poll 2
        yield_now().await; // itself, during poll 2 → poll 3
        yield_now().await; // itself, during poll 3 → poll 4
    });
    drop(runtime);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let events = json["traceEvents"].as_array().unwrap();

    // Each poll of main, by its index in the file; each flow's two ends.
    let polls: Vec<usize> = (0..events.len())
        .filter(|&i| events[i]["name"] == "poll" && events[i]["tid"] == 1)
        .collect();
    assert_eq!(polls.len(), 4, "{events:#?}");
    let find = |phase: &str, id: u64| -> Vec<usize> {
        (0..events.len())
            .filter(|&i| events[i]["ph"] == phase && events[i]["id"] == id)
            .collect()
    };
    let flows: Vec<u64> = events
        .iter()
        .filter(|e| e["ph"] == "s")
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert_eq!(flows.len(), 3, "a timer wake and two self-wakes");
    let mut entered = Vec::new();
    for id in flows {
        let (starts, ends) = (find("s", id), find("f", id));
        assert_eq!((starts.len(), ends.len()), (1, 1), "flow {id}");
        let (start, end) = (starts[0], ends[0]);
        assert!(start < end, "flow {id} ends before it starts");
        // The end sits right before the poll it enters (`bp: e`).
        let poll = polls.iter().position(|&p| p == end + 1);
        entered.push(poll.unwrap_or_else(|| panic!("flow {id} enters no poll")));
    }
    // Timer → poll 2 (index 1); itself during poll 2 → poll 3; during 3 → 4.
    assert_eq!(entered, [1, 2, 3]);
    // A self-wake's start lies inside the poll it happened in: after the
    // poll before it returned, before that poll's own record.
    let starts: Vec<usize> = (0..events.len())
        .filter(|&i| events[i]["ph"] == "s")
        .collect();
    assert!(
        polls[0] < starts[1] && starts[1] < polls[1],
        "{starts:?} {polls:?}"
    );
}
