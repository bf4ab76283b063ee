//! The locks name themselves in the Chrome trace (`spindle::observe`): a
//! lock handed from one task to another shows as `Mutex#1 handed over` on
//! the lane of the task that unlocked and `Mutex#1 acquired` on the lane of
//! the one that got it; likewise for `Semaphore`, `Condition` (`wait`,
//! `notify`, `notified`) and `Barrier` (`arrived`, `round complete`,
//! `released`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use spindle::{spawn_named, yield_now, Barrier, Condition, Mutex, Runtime, Semaphore};

/// A fresh path in the temp dir, unique to this process and tag.
fn temp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "spindle-trace_locks-{}-{tag}.json",
        std::process::id()
    ))
}

/// The lane names, and the `(lane name, event name)` of every instant that
/// names one of the primitives, in file order.
fn notes(path: &Path) -> Vec<(String, String)> {
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let events = json["traceEvents"].as_array().unwrap();
    let lane_name = |tid: u64| -> String {
        events
            .iter()
            .find(|e| e["ph"] == "M" && e["name"] == "thread_name" && e["tid"] == tid)
            .map(|e| e["args"]["name"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    events
        .iter()
        .filter(|e| e["ph"] != "M")
        .filter_map(|e| {
            let name = e["name"].as_str()?;
            ["Mutex#", "Semaphore#", "Condition#", "Barrier#"]
                .iter()
                .any(|kind| name.starts_with(kind))
                .then(|| (lane_name(e["tid"].as_u64().unwrap()), name.to_string()))
        })
        .collect()
}

fn pair(lane: &str, event: &str) -> (String, String) {
    (lane.to_string(), event.to_string())
}

#[test]
fn a_hand_off_shows_on_the_lanes_of_both_tasks() {
    let path = temp_path("handoff");
    let runtime = Runtime::builder()
        .virtual_time(true)
        .trace(&path)
        .build()
        .unwrap();
    runtime.block_on(async {
        // Mutex#1: main holds it, `locker` waits, main unlocks.
        let mutex = Arc::new(Mutex::new(0));
        let guard = mutex.lock().await;
        let locker = spawn_named("locker", {
            let mutex = mutex.clone();
            async move { *mutex.lock().await += 1 }
        });
        yield_now().await; // `locker` parks
        drop(guard);
        locker.await.unwrap();

        // Semaphore#2: the same with a permit.
        let sem = Arc::new(Semaphore::new(1));
        let permit = sem.acquire().await;
        let acquirer = spawn_named("acquirer", {
            let sem = sem.clone();
            async move { drop(sem.acquire().await) }
        });
        yield_now().await;
        drop(permit);
        acquirer.await.unwrap();

        // Condition#3 (on Mutex#1): `waiter` waits, main notifies.
        let cond = Arc::new(Condition::new());
        let waiter = spawn_named("waiter", {
            let (mutex, cond) = (mutex.clone(), cond.clone());
            async move { drop(cond.wait(mutex.lock().await).await) }
        });
        yield_now().await;
        cond.notify_one();
        waiter.await.unwrap();

        // Barrier#4: `party` arrives, main completes the round.
        let barrier = Arc::new(Barrier::new(2));
        let party = spawn_named("party", {
            let barrier = barrier.clone();
            async move { barrier.wait().await }
        });
        yield_now().await;
        assert_eq!(barrier.wait().await, 1);
        assert_eq!(party.await.unwrap(), 0);
    });
    drop(runtime);
    let notes = notes(&path);
    std::fs::remove_file(&path).unwrap();

    let main = "main (task 0)";
    let expected = [
        pair(main, "Mutex#1 acquired"),
        pair(main, "Mutex#1 handed over"),
        pair("locker (task 1)", "Mutex#1 acquired"),
        pair(main, "Semaphore#2 acquired"),
        pair(main, "Semaphore#2 handed over"),
        pair("acquirer (task 2)", "Semaphore#2 acquired"),
        pair("waiter (task 3)", "Mutex#1 acquired"),
        pair("waiter (task 3)", "Condition#3 wait"),
        pair(main, "Condition#3 notify"),
        pair("waiter (task 3)", "Condition#3 notified"),
        pair("waiter (task 3)", "Mutex#1 acquired"),
        pair("party (task 4)", "Barrier#4 arrived"),
        pair(main, "Barrier#4 round complete"),
        pair("party (task 4)", "Barrier#4 released"),
    ];
    assert_eq!(notes, expected);
}
