//! Seeded schedules (`Builder::seed`, `SPINDLE_SEED`) and `explore`: a seed
//! picks the interleaving, the same seed picks the same one, FIFO stays the
//! default, the fairness bound holds under any seed, and a failure names
//! its seed.

mod support;

use std::cell::{Cell, RefCell};
use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use spindle::time::{call_later, sleep};
use spindle::{explore, spawn, spawn_named, yield_now, Event, Queue, Runtime};

fn seeded(seed: u64) -> Runtime {
    Runtime::builder()
        .virtual_time(true)
        .seed(seed)
        .build()
        .unwrap()
}

/// The order in which eight ready tasks first run, each yielding once and
/// logging again, on `runtime`.
fn first_polls(runtime: &Runtime) -> Vec<u32> {
    runtime.block_on(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let log = log.clone();
                spawn(async move {
                    log.borrow_mut().push(i);
                    yield_now().await;
                    log.borrow_mut().push(10 + i);
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        let order = log.borrow().clone();
        order
    })
}

#[test]
fn without_a_seed_the_ready_order_is_fifo() {
    let fifo: Vec<u32> = (0..8).chain(10..18).collect();
    assert_eq!(first_polls(&Runtime::new().unwrap()), fifo);
    let virtual_fifo = Runtime::builder().virtual_time(true).build().unwrap();
    assert_eq!(first_polls(&virtual_fifo), fifo);
}

#[test]
fn a_seed_always_picks_the_same_interleaving_and_seeds_differ() {
    let mut orders = BTreeSet::new();
    for seed in 0..40 {
        let order = first_polls(&seeded(seed));
        assert_eq!(
            order,
            first_polls(&seeded(seed)),
            "seed {seed} replayed differently"
        );
        // Every task ran both halves, and its second after its first.
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..8).chain(10..18).collect::<Vec<_>>());
        for i in 0..8 {
            let first = order.iter().position(|&x| x == i).unwrap();
            let second = order.iter().position(|&x| x == 10 + i).unwrap();
            assert!(first < second, "seed {seed}: {order:?}");
        }
        orders.insert(order);
    }
    assert!(
        orders.len() >= 35,
        "40 seeds gave only {} interleavings",
        orders.len()
    );
}

/// Under any seed a ready task is polled within the FIFO bound: a task
/// `k`-th in the ready queue when a turn begins waits for at most the
/// `k - 1` ahead of it and the other 60 of its own batch — never for tasks
/// woken later, however many keep waking themselves.
#[test]
fn the_fairness_bound_holds_under_every_seed() {
    const SPINNERS: usize = 200;
    for seed in 0..30 {
        let runtime = seeded(seed);
        let polls_before = runtime.block_on(async {
            let polls = Rc::new(Cell::new(0usize));
            let stop = Rc::new(Cell::new(false));
            for _ in 0..SPINNERS {
                let (polls, stop) = (polls.clone(), stop.clone());
                spawn(async move {
                    while !stop.get() {
                        polls.set(polls.get() + 1);
                        yield_now().await;
                    }
                });
            }
            // Spawned last: 201st in the queue, behind every spinner.
            let seen = polls.clone();
            let late = spawn(async move { seen.get() });
            let polls_before = late.await.unwrap();
            stop.set(true);
            polls_before
        });
        assert!(
            polls_before <= SPINNERS + 60,
            "seed {seed}: {polls_before} spinner polls ran before the late task"
        );
    }
}

/// Timers due at one instant fire in a seeded order (the driver's own test
/// checks the order; this checks that the runtime passes the seed on).
#[test]
fn timers_due_together_fire_in_a_seeded_order() {
    let order = |seed: Option<u64>| {
        let mut builder = Runtime::builder().virtual_time(true);
        if let Some(seed) = seed {
            builder = builder.seed(seed);
        }
        builder.build().unwrap().block_on(async {
            let log = Rc::new(RefCell::new(Vec::new()));
            for i in 0..6 {
                let log = log.clone();
                call_later(Duration::from_secs(1), move || log.borrow_mut().push(i));
            }
            sleep(Duration::from_secs(2)).await;
            let order = log.borrow().clone();
            order
        })
    };
    assert_eq!(order(None), vec![0, 1, 2, 3, 4, 5], "FIFO without a seed");
    let seeded: BTreeSet<_> = (0..20).map(|seed| order(Some(seed))).collect();
    assert!(seeded.len() > 10, "{seeded:?}");
    assert_eq!(order(Some(3)), order(Some(3)));
}

#[test]
fn a_panic_escaping_a_seeded_run_names_its_seed() {
    let payload = catch_unwind(AssertUnwindSafe(|| {
        seeded(42).block_on(async { panic!("the balance is off") })
    }))
    .unwrap_err();
    let message = payload.downcast_ref::<String>().expect("a String payload");
    assert!(message.contains("the balance is off"), "{message}");
    assert!(message.contains("seed 42"), "{message}");
    assert!(message.contains("SPINDLE_SEED=42"), "{message}");
    // Without a seed, the payload is left as it was.
    let payload =
        catch_unwind(|| Runtime::new().unwrap().block_on(async { panic!("plain") })).unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"plain"));
}

#[test]
fn explore_counts_its_runs_and_gives_each_a_fresh_seeded_virtual_runtime() {
    let started = Rc::new(RefCell::new(Vec::new()));
    let log = started.clone();
    let runs = explore(5..25, || {
        let log = log.clone();
        async move {
            // Virtual time: an hour passes at once.
            let before = spindle::time::now();
            sleep(Duration::from_secs(3600)).await;
            assert_eq!(spindle::time::now() - before, Duration::from_secs(3600));
            let one = spawn(async { 1 }).await.unwrap();
            log.borrow_mut().push(one);
        }
    });
    assert_eq!(runs, 20);
    assert_eq!(*started.borrow(), vec![1; 20]);
}

#[test]
fn explore_stops_at_the_first_failing_seed_and_says_how_to_replay_it() {
    let tried = Rc::new(RefCell::new(Vec::new()));
    let log = tried.clone();
    let seen = Rc::new(Cell::new(0u64));
    let seed_of_run = seen.clone();
    let payload = catch_unwind(AssertUnwindSafe(|| {
        explore(0..1000, || {
            let (log, seed_of_run) = (log.clone(), seed_of_run.clone());
            async move {
                let order = Rc::new(RefCell::new(String::new()));
                let (a, b) = (order.clone(), order.clone());
                let a = spawn(async move { a.borrow_mut().push('a') });
                let b = spawn(async move { b.borrow_mut().push('b') });
                let (_, _) = (a.await, b.await);
                let n = log.borrow().len() as u64;
                seed_of_run.set(n);
                log.borrow_mut().push(order.borrow().clone());
                assert_eq!(*order.borrow(), "ab", "b overtook a");
            }
        })
    }))
    .unwrap_err();
    let message = payload.downcast_ref::<String>().unwrap();
    let failed = seen.get();
    assert_eq!(tried.borrow().last().unwrap(), "ba");
    assert_eq!(
        tried.borrow().len() as u64,
        failed + 1,
        "no seed ran after the failure"
    );
    assert!(message.contains(&format!("seed {failed}")), "{message}");
    assert!(message.contains("b overtook a"), "{message}");
    assert!(
        message.contains(&format!("SPINDLE_SEED={failed}")),
        "{message}"
    );
}

/// The program of the determinism check: eight tasks passing work through a
/// bounded queue, an event, timers at equal and different instants, and a
/// log of what happened in which order.
async fn eight_tasks(log: Rc<RefCell<Vec<String>>>) {
    let queue = Queue::bounded(2);
    let go = Event::new();
    let mut handles = Vec::new();
    for worker in 0..4 {
        let (queue, go, log) = (queue.clone(), go.clone(), log.clone());
        handles.push(spawn_named("worker", async move {
            go.wait().await;
            while let Ok(job) = spindle::timeout(Duration::from_millis(300), queue.get()).await {
                sleep(Duration::from_millis(job % 3 * 100)).await;
                log.borrow_mut().push(format!("w{worker}:{job}"));
                queue.task_done().unwrap();
            }
        }));
    }
    for producer in 0..3u64 {
        let (queue, log) = (queue.clone(), log.clone());
        handles.push(spawn_named("producer", async move {
            for n in 0..5 {
                queue.put(producer * 10 + n).await;
                log.borrow_mut().push(format!("p{producer}:{n}"));
                yield_now().await;
            }
        }));
    }
    let (starter, log2) = (go.clone(), log.clone());
    handles.push(spawn_named("starter", async move {
        sleep(Duration::from_millis(50)).await;
        log2.borrow_mut().push("go".into());
        starter.set();
    }));
    queue.join().await;
    for handle in handles {
        handle.await.unwrap();
    }
}

/// What one seeded run produced: its log and its trace file's bytes.
fn digest(seed: u64, trace: &PathBuf) -> (u64, Vec<String>) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let runtime = Runtime::builder()
        .virtual_time(true)
        .seed(seed)
        .trace(trace)
        .build()
        .unwrap();
    runtime.block_on(eight_tasks(log.clone()));
    drop(runtime); // writes the trace
    let mut hasher = DefaultHasher::new();
    std::fs::read(trace).unwrap().hash(&mut hasher);
    let log = log.borrow().clone();
    (hasher.finish(), log)
}

#[test]
fn the_same_seed_gives_the_same_output_and_the_same_trace_for_100_seeds() {
    let trace = std::env::temp_dir().join(format!("spindle-rt_seed-{}.json", std::process::id()));
    let mut distinct = BTreeSet::new();
    for seed in 0..100 {
        let first = digest(seed, &trace);
        let second = digest(seed, &trace);
        assert_eq!(first, second, "seed {seed} ran differently the second time");
        assert_eq!(first.1.len(), 15 + 15 + 1, "seed {seed}: {:?}", first.1);
        distinct.insert(first.0);
    }
    std::fs::remove_file(&trace).unwrap();
    assert!(
        distinct.len() > 50,
        "100 seeds gave only {} different traces",
        distinct.len()
    );
}

/// `SPINDLE_SEED`, read by `run` (via `Builder::from_env`): a number seeds
/// the schedule, anything else is an error naming the variable.
#[test]
fn spindle_seed_in_the_environment() {
    const CHILD: &str = "SPINDLE_SEED_CHILD";
    if let Ok(case) = std::env::var(CHILD) {
        let built = Runtime::builder().from_env().build();
        match case.as_str() {
            "good" => {
                // Seeded: the panic names seed 17.
                let payload = catch_unwind(AssertUnwindSafe(|| {
                    built.unwrap().block_on(async { panic!("x") })
                }))
                .unwrap_err();
                let message = payload.downcast_ref::<String>().unwrap();
                assert!(message.contains("SPINDLE_SEED=17"), "{message}");
            }
            _ => {
                let message = built
                    .err()
                    .expect("SPINDLE_SEED=x7 must not build")
                    .to_string();
                assert!(message.contains("SPINDLE_SEED=x7"), "{message}");
                assert!(message.contains("whole numbers"), "{message}");
            }
        }
        return;
    }
    for (case, value) in [("good", "17"), ("bad", "x7")] {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "spindle_seed_in_the_environment", "--nocapture"])
            .env(CHILD, case)
            .env("SPINDLE_SEED", value)
            .status()
            .unwrap();
        assert!(status.success(), "the {case} child failed: {status}");
    }
}

/// `examples/15_lost_update.rs` does what its lesson says: FIFO balances
/// the books, `explore` finds a seed that loses an update within the first
/// few dozen and says how to replay it, the replay under that seed shows
/// the interleaving and fails the same way, and the `Mutex` version
/// balances under all 1 000 seeds.
#[test]
fn the_lost_update_lesson_finds_its_bug_replays_it_and_the_mutex_fixes_it() {
    let run = |seed: Option<&str>| {
        let mut command = std::process::Command::new(support::example("15_lost_update"));
        command
            .env_remove("SPINDLE_TRACE")
            .env_remove("SPINDLE_SEED");
        if let Some(seed) = seed {
            command
                .env("SPINDLE_SEED", seed)
                .env("SPINDLE_CLOCK", "virtual");
        }
        command.output().unwrap()
    };
    let output = run(None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("FIFO: the books balance"), "{stdout}");
    assert!(
        stdout.contains("with a Mutex: all 1000 seeds balance"),
        "{stdout}"
    );
    // "explore: the run with seed N failed (run K of the range): ..."
    let line = stdout
        .lines()
        .find(|line| line.starts_with("explore: the run with seed "))
        .unwrap_or_else(|| panic!("explore found no failing seed:\n{stdout}"));
    let seed: u64 = line["explore: the run with seed ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(seed < 50, "the bug took {seed} seeds to find");
    assert!(line.contains("the books do not balance"), "{line}");
    assert!(
        stdout.contains(&format!("SPINDLE_SEED={seed} SPINDLE_CLOCK=virtual")),
        "{stdout}"
    );

    // The replay: the same failure, step by step, naming the seed.
    let replay = run(Some(&seed.to_string()));
    assert!(
        !replay.status.success(),
        "the replay must fail as the search did"
    );
    let replay_out = String::from_utf8_lossy(&replay.stdout);
    let replay_err = String::from_utf8_lossy(&replay.stderr);
    let failure = line.split("of the range): ").nth(1).unwrap();
    assert!(
        replay_err.contains(failure.trim()),
        "{replay_err}\nvs {line}"
    );
    assert!(
        replay_err.contains(&format!("SPINDLE_SEED={seed}")),
        "{replay_err}"
    );
    // The interleaving shows a read that another teller's write made stale.
    assert!(replay_out.contains("teller 1 reads") && replay_out.contains("teller 2 reads"));
    // FIFO's order is read, write, read, write per teller: the replay's differs.
    let fifo_steps: Vec<&str> = stdout
        .lines()
        .take_while(|l| !l.starts_with("FIFO: the"))
        .collect();
    let replay_steps: Vec<&str> = replay_out.lines().skip(1).collect();
    assert_ne!(
        fifo_steps[1..],
        replay_steps[..],
        "the seed must reorder the steps"
    );
}
