//! Virtual time: an hour of nested sleeps, timeouts, callbacks and an
//! interval runs in well under a second, at exact virtual instants, and in
//! the same order as the same program scaled down and run in real time;
//! `SPINDLE_CLOCK=virtual` switches `spindle::run` to virtual time; the clock
//! stands still while tasks run; and `to_thread` jobs are waited for in real
//! time, the clock not jumping past them.

mod support;

use std::cell::RefCell;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use spindle::time::{call_later, interval, now, sleep, sleep_until};
use spindle::{spawn, timeout, to_thread, yield_now, JoinHandle, Runtime};
use support::virtual_runtime;

type Events = Vec<(&'static str, Duration)>;

/// The event log of a simulation: labels with the runtime clock's time since
/// the start.
#[derive(Clone)]
struct Sim {
    start: Instant,
    events: Rc<RefCell<Events>>,
}

impl Sim {
    fn record(&self, label: &'static str) {
        self.events.borrow_mut().push((label, now() - self.start));
    }
}

/// A small simulation lasting 3 600 `unit`s: a ticker (an interval), a tree of
/// tasks that spawn tasks that sleep, two timeouts (one expires, one does
/// not), a callback that schedules another, a callback cancelled before it is
/// due, a long sleep and a `sleep_until`.
///
/// Events that do not follow one from another are at least 150 units apart,
/// so that scheduling noise in real time cannot swap them; events at the same
/// instant are ordered by cause (the second waits for the first).
async fn simulation(unit: Duration) -> Events {
    let u = move |n: u32| unit * n;
    let sim = Sim {
        start: now(),
        events: Rc::default(),
    };
    sim.record("start");
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();

    tasks.push(spawn({
        let sim = sim.clone();
        async move {
            let mut ticks = interval(u(600));
            for label in ["tick 0", "tick 1", "tick 2", "tick 3", "tick 4", "tick 5"] {
                ticks.tick().await;
                sim.record(label);
            }
            ticks.tick().await;
            sim.record("tick 6");
        }
    }));

    tasks.push(spawn({
        let sim = sim.clone();
        async move {
            sleep(u(300)).await;
            sim.record("worker wakes");
            let first = spawn({
                let sim = sim.clone();
                async move {
                    sleep(u(150)).await;
                    sim.record("child 1 wakes");
                    let grandchild = spawn({
                        let sim = sim.clone();
                        async move {
                            sleep(u(450)).await;
                            sim.record("grandchild wakes");
                        }
                    });
                    grandchild.await.unwrap();
                    sim.record("child 1 joined grandchild");
                }
            });
            let second = spawn({
                let sim = sim.clone();
                async move {
                    sleep(u(750)).await;
                    sim.record("child 2 wakes");
                }
            });
            first.await.unwrap();
            second.await.unwrap();
            sim.record("worker joined children");
        }
    }));

    tasks.push(spawn({
        let sim = sim.clone();
        async move {
            let expired = timeout(u(750), sleep(u(3000))).await;
            assert!(expired.is_err(), "the 750-unit timeout did not expire");
            sim.record("timeout expired");
            let inner = async {
                sleep(u(600)).await;
                7
            };
            assert_eq!(timeout(u(2000), inner).await, Ok(7));
            sim.record("timeout beaten");
        }
    }));

    call_later(u(1650), {
        let sim = sim.clone();
        move || {
            sim.record("callback");
            let sim = sim.clone();
            call_later(u(600), move || sim.record("nested callback"));
        }
    });
    let doomed = call_later(u(2100), {
        let sim = sim.clone();
        move || sim.record("cancelled callback ran")
    });
    tasks.push(spawn({
        let sim = sim.clone();
        async move {
            sleep(u(1950)).await;
            doomed.cancel();
            sim.record("callback cancelled");
        }
    }));

    tasks.push(spawn({
        let sim = sim.clone();
        async move {
            sleep(u(2700)).await;
            sim.record("long sleep");
        }
    }));
    tasks.push(spawn({
        let sim = sim.clone();
        async move {
            sleep_until(sim.start + u(3300)).await;
            sim.record("sleep_until");
        }
    }));

    for task in tasks {
        task.await.unwrap();
    }
    sim.record("end");
    let events = sim.events.borrow().clone();
    events
}

/// What `simulation(unit)` must record, in units.
const EXPECTED: [(&str, u32); 22] = [
    ("start", 0),
    ("tick 0", 0),
    ("worker wakes", 300),
    ("child 1 wakes", 450),
    ("tick 1", 600),
    ("timeout expired", 750),
    ("grandchild wakes", 900),
    ("child 1 joined grandchild", 900),
    ("child 2 wakes", 1050),
    ("worker joined children", 1050),
    ("tick 2", 1200),
    ("timeout beaten", 1350),
    ("callback", 1650),
    ("tick 3", 1800),
    ("callback cancelled", 1950),
    ("nested callback", 2250),
    ("tick 4", 2400),
    ("long sleep", 2700),
    ("tick 5", 3000),
    ("sleep_until", 3300),
    ("tick 6", 3600),
    ("end", 3600),
];

fn expected(unit: Duration) -> Events {
    EXPECTED
        .iter()
        .map(|&(label, units)| (label, unit * units))
        .collect()
}

/// An hour of simulated time takes under a second of wall time, and every
/// event lands at its exact virtual instant.
#[test]
fn an_hour_of_nested_sleeps_runs_in_under_a_second() {
    let wall = Instant::now();
    let events = virtual_runtime().block_on(simulation(Duration::from_secs(1)));
    let took = wall.elapsed();
    assert_eq!(events, expected(Duration::from_secs(1)));
    assert!(
        took < Duration::from_secs(1),
        "3 600 virtual seconds took {took:?}"
    );
}

/// The same simulation scaled down to 300 µs a unit (about a second in all)
/// and run in real time records the same events in the same order, none
/// before its virtual instant.
#[test]
fn virtual_time_keeps_the_order_of_real_time() {
    let unit = Duration::from_micros(300);
    let real = Runtime::new()
        .expect("a runtime")
        .block_on(simulation(unit));
    let simulated = virtual_runtime().block_on(simulation(unit));
    assert_eq!(simulated, expected(unit), "virtual instants");
    let order = |events: &Events| events.iter().map(|&(label, _)| label).collect::<Vec<_>>();
    assert_eq!(order(&real), order(&simulated), "real time: {real:?}");
    for (&(label, at), &(_, due)) in real.iter().zip(&simulated) {
        assert!(
            at >= due,
            "{label:?} came early in real time: {at:?} < {due:?}"
        );
    }
}

/// Set in the child process that `spindle_clock_virtual_makes_run_virtual`
/// starts; the child runs the test body proper.
const CHILD: &str = "SPINDLE_TEST_TIME_VIRTUAL_CHILD";

/// `SPINDLE_CLOCK=virtual` in the environment makes `spindle::run` use
/// virtual time. The variable is set in a child process (this test binary,
/// run again with a filter): changing the environment of a process that runs
/// threads is unsound.
#[test]
fn spindle_clock_virtual_makes_run_virtual() {
    const NAME: &str = "spindle_clock_virtual_makes_run_virtual";
    if std::env::var_os(CHILD).is_some() {
        let wall = Instant::now();
        let events = spindle::run(simulation(Duration::from_secs(1)));
        let took = wall.elapsed();
        assert_eq!(events, expected(Duration::from_secs(1)));
        assert!(took < Duration::from_secs(1), "took {took:?}");
        println!("child: an hour of virtual time in {took:?}");
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args([NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env("SPINDLE_CLOCK", "virtual")
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child test process");
    // In real time the child would wait an hour: give up long before.
    let limit = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait for the child").is_none() {
        if Instant::now() > limit {
            let _ = child.kill();
            panic!("SPINDLE_CLOCK=virtual: the child still runs after 60 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().expect("the child's output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the child failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(
        stdout.contains("child: an hour of virtual time") && stdout.contains("1 passed"),
        "the child did not run the test\n--- stdout\n{stdout}"
    );
}

/// The virtual clock moves only when no task is ready: busy tasks and yields
/// leave it where it is.
#[test]
fn the_virtual_clock_stands_still_while_tasks_run() {
    virtual_runtime().block_on(async {
        let start = now();
        let busy = spawn(async {
            for _ in 0..5 {
                let spin = Instant::now();
                while spin.elapsed() < Duration::from_millis(2) {}
                yield_now().await;
            }
        });
        while !busy.is_finished() {
            yield_now().await;
            assert_eq!(now(), start, "the clock moved while a task was ready");
        }
        sleep(Duration::from_secs(1)).await;
        assert_eq!(now() - start, Duration::from_secs(1));
    });
}

/// A `to_thread` job is waited for in real time: under virtual time a 50 ms
/// blocking job still returns its value, the clock does not jump past it to
/// the timers due later (which would run them before the job's result
/// arrives), and the timers then fire at their exact instants.
#[test]
fn virtual_time_waits_for_to_thread_jobs_in_real_time() {
    let wall = Instant::now();
    let events = virtual_runtime().block_on(async {
        let sim = Sim {
            start: now(),
            events: Rc::default(),
        };
        let hour = spawn({
            let sim = sim.clone();
            async move {
                sleep(Duration::from_secs(3600)).await;
                sim.record("hour");
            }
        });
        let short = spawn({
            let sim = sim.clone();
            async move {
                sleep(Duration::from_millis(10)).await;
                sim.record("10 ms");
            }
        });
        let job = to_thread(|| {
            std::thread::sleep(Duration::from_millis(50));
            42
        });
        assert_eq!(job.await.unwrap(), 42);
        sim.record("job");
        hour.await.unwrap();
        short.await.unwrap();
        let events = sim.events.borrow().clone();
        events
    });
    let took = wall.elapsed();
    // While the job runs the clock stands still, so the job's result arrives
    // at virtual 0 and the 10 ms timer (due during the job in real terms)
    // fires after it, at exactly 10 ms: "waits for it in real time first".
    assert_eq!(
        events,
        [
            ("job", Duration::ZERO),
            ("10 ms", Duration::from_millis(10)),
            ("hour", Duration::from_secs(3600)),
        ]
    );
    assert!(
        took >= Duration::from_millis(50),
        "did not wait for the job: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}
