//! Seeing why: the task dump, the awaited-by tree, the deadlock report under
//! virtual time, and the stall report in real time.
//!
//! Four programs that can never finish are each reported, with the reason
//! every task waits; three that wait on something outside the loop (a
//! socket, a `to_thread` job, a `Handle` held by another thread) are not.

mod support;

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;

use spindle::{
    sleep, spawn_named, to_thread, yield_now, Event, Handle, JoinHandle, Mutex, Queue, Runtime,
    TaskDump, TaskState,
};
use support::isolated;

fn virtual_runtime() -> Runtime {
    Runtime::builder().virtual_time(true).build().unwrap()
}

/// Runs `program` under virtual time; it must panic with a deadlock
/// report. Returns the report.
fn deadlock_report(program: impl std::future::Future<Output = ()>) -> String {
    let runtime = virtual_runtime();
    let payload = catch_unwind(AssertUnwindSafe(|| runtime.block_on(program)))
        .expect_err("the program can never finish: it must be reported");
    let message = payload
        .downcast_ref::<String>()
        .expect("a formatted message")
        .clone();
    assert!(message.contains("deadlock"), "{message}");
    assert!(
        message.contains("rt_dump.rs"),
        "names the caller's block_on: {message}"
    );
    message
}

/// The row of the dump text for the task named `name`.
fn row<'a>(report: &'a str, name: &str) -> &'a str {
    report
        .lines()
        .find(|line| line.split_whitespace().nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no row for {name} in:\n{report}"))
}

/// asyncio's classic hang: a consumer that forgets `task_done()`, and a
/// `queue.join()` that therefore never returns.
#[test]
fn a_forgotten_task_done_before_join_is_reported_with_both_waits() {
    let report = deadlock_report(async {
        let queue = Queue::new();
        let consumer = queue.clone();
        spawn_named("consumer", async move {
            loop {
                let _item: u32 = consumer.get().await; // no task_done()
            }
        });
        for item in 0..3 {
            queue.put(item).await;
        }
        queue.join().await;
    });
    assert!(row(&report, "main").contains("Queue#1.join"), "{report}");
    assert!(row(&report, "consumer").contains("Queue#1.get"), "{report}");
    assert!(row(&report, "consumer").contains("waiting"), "{report}");
}

#[test]
fn an_event_nobody_sets_is_reported() {
    let report = deadlock_report(async {
        let event = Event::new();
        let waiter = event.clone();
        let waiting = spawn_named("waiter", async move { waiter.wait().await });
        sleep(Duration::from_secs(1)).await; // time passes first: then nothing
        waiting.await.unwrap();
    });
    assert!(
        report.contains("spindle tasks at 1.000s (virtual time)"),
        "{report}"
    );
    assert!(row(&report, "waiter").contains("Event#1.wait"), "{report}");
    assert!(row(&report, "main").contains("task 1 (waiter)"), "{report}");
    // The tree: main hangs under the waiter it awaits.
    assert!(
        report.contains("task 1 (waiter) waits on Event#1.wait\n└── awaited by task 0 (main)"),
        "{report}"
    );
}

/// Two tasks each awaiting the other's handle: the tree names the loop.
#[test]
fn two_tasks_awaiting_each_other_are_a_loop_in_the_tree() {
    let report = deadlock_report(async {
        let slot_a: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
        let slot_b: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
        let (for_a, for_b) = (slot_b.clone(), slot_a.clone());
        let a = spawn_named("a", async move {
            yield_now().await; // both handles are in their slots by now
            let b = for_a.borrow_mut().take().unwrap();
            b.await.unwrap();
        });
        let b = spawn_named("b", async move {
            yield_now().await;
            let a = for_b.borrow_mut().take().unwrap();
            a.await.unwrap();
        });
        *slot_a.borrow_mut() = Some(a);
        *slot_b.borrow_mut() = Some(b);
        std::future::pending::<()>().await;
    });
    assert!(row(&report, "a").contains("task 2 (b)"), "{report}");
    assert!(row(&report, "b").contains("task 1 (a)"), "{report}");
    assert!(
        report.contains("deadlock: task 1 (a) → task 2 (b) → task 1 (a)"),
        "{report}"
    );
}

/// The dump as data: rows, states, reasons, awaited-by edges, spawn lines,
/// and the loops.
#[test]
fn the_dump_names_states_reasons_edges_and_spawn_lines() {
    let runtime = virtual_runtime();
    let dump: TaskDump = runtime.block_on(async {
        let sleeper = spawn_named("sleeper", sleep(Duration::from_secs(5)));
        let line = line!() - 1;
        let waiter = spawn_named("waiter", async move { sleeper.await.unwrap() });
        let done = spawn_named("done", async {});
        yield_now().await; // sleeper and waiter park, `done` finishes
        let dump = Handle::current().dump();
        assert_eq!(
            dump.task(1).unwrap().spawned_at(),
            format!("{}:{line}", file!()),
            "{dump}"
        );
        assert!(done.is_finished());
        waiter.await.unwrap();
        dump
    });
    let main = dump.task(0).unwrap();
    assert_eq!(
        (main.name(), main.state()),
        (Some("main"), TaskState::Running)
    );
    let sleeper = dump.task(1).unwrap();
    assert_eq!(sleeper.state(), TaskState::Waiting);
    assert_eq!(sleeper.waits_on(), Some("sleep until 5.000s"));
    let waiter = dump.task(2).unwrap();
    assert_eq!(waiter.waits_on(), Some("task 1 (sleeper)"));
    assert_eq!(waiter.awaits(), Some(1));
    assert_eq!(dump.awaited_by(1), vec![2]);
    assert!(dump.task(3).is_none(), "a finished task is not in the dump");
    assert!(dump.deadlocks().is_empty());
    assert_eq!(dump.tasks().len(), 3);
}

/// From another thread, the loop answers at its next turn, and the dump
/// shows the runtime's own tasks (none running: the loop was between
/// polls).
#[test]
fn a_dump_asked_from_another_thread_is_answered_by_the_loop() {
    let runtime = Runtime::new().unwrap();
    let handle = runtime.handle();
    let dump = runtime.block_on(async move {
        let sleeper = spawn_named("sleeper", sleep(Duration::from_secs(3600)));
        yield_now().await;
        let asker = std::thread::spawn(move || handle.dump());
        while !asker.is_finished() {
            sleep(Duration::from_millis(1)).await;
        }
        sleeper.cancel();
        asker.join().unwrap()
    });
    let sleeper = dump
        .tasks()
        .iter()
        .find(|t| t.name() == Some("sleeper"))
        .unwrap();
    assert_eq!(sleeper.state(), TaskState::Waiting);
    assert!(sleeper.waits_on().unwrap().starts_with("sleep until 3600."));
    assert_ne!(dump.task(0).unwrap().state(), TaskState::Running);
    // A runtime that is gone answers with an empty dump.
    let handle = runtime.handle();
    drop(runtime);
    assert!(handle.dump().tasks().is_empty());
}

/// Waiting on something outside the loop is not a deadlock: a socket, a
/// `to_thread` job, a `Handle` another thread holds.
#[test]
fn waits_on_the_outside_world_are_not_reported() {
    // A socket: the peer writes after a real delay.
    let got = virtual_runtime().block_on(async {
        let listener = spindle::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            std::thread::sleep(Duration::from_millis(50));
            std::io::Write::write_all(&mut stream, b"late").unwrap();
        });
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0; 4];
        let mut read = 0;
        while read < 4 {
            read += stream.read(&mut buf[read..]).await.unwrap();
        }
        peer.join().unwrap();
        buf
    });
    assert_eq!(&got, b"late");

    // A to_thread job.
    let answer = virtual_runtime().block_on(async {
        to_thread(|| {
            std::thread::sleep(Duration::from_millis(50));
            42
        })
        .await
        .unwrap()
    });
    assert_eq!(answer, 42);

    // A Handle held by another thread, which spawns after a real delay a
    // task that sets the event main waits on. No timer, no I/O: only the
    // live Handle says that something may still come.
    let woke = virtual_runtime().block_on(async {
        let handle = Handle::current();
        let event = Event::new();
        let setter = event.clone();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(handle.spawn(async move { setter.set() }));
            // `handle` drops here, after the spawn reached the mailbox.
        });
        event.wait().await;
        thread.join().unwrap();
        event.is_set()
    });
    assert!(woke);
}

/// In real time, a stall is reported once, on stderr, with the dump.
#[test]
fn a_stall_in_real_time_prints_the_dump_once() {
    let test = "a_stall_in_real_time_prints_the_dump_once";
    let Some(stderr) = isolated(test, || {
        let runtime = Runtime::builder()
            .stall_report(Duration::from_millis(50))
            .build()
            .unwrap();
        runtime.block_on(async {
            let event = Event::new();
            let waiter = event.clone();
            let stuck = spawn_named("stuck", async move { waiter.wait().await });
            // Nothing is polled for 300 ms: one stall, reported once.
            std::thread::sleep(Duration::from_millis(1)); // (inside a poll: not a stall)
            sleep(Duration::from_millis(300)).await;
            event.set();
            stuck.await.unwrap();
        });
    }) else {
        return;
    };
    assert_eq!(stderr.matches("spindle: stall").count(), 1, "{stderr}");
    assert!(
        stderr.contains("no task has been polled for 50ms"),
        "{stderr}"
    );
    assert!(row(&stderr, "stuck").contains("Event#1.wait"), "{stderr}");
    assert!(
        row(&stderr, "main").contains("sleep until 0.30"),
        "{stderr}"
    );
}

/// `SPINDLE_STALL_MS` must be a number of milliseconds.
#[test]
fn a_misspelled_stall_variable_is_an_error() {
    const CHILD: &str = "SPINDLE_DUMP_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let error = Runtime::builder().from_env().build().err().unwrap();
        assert!(
            error.to_string().contains("SPINDLE_STALL_MS=soon"),
            "{error}"
        );
        return;
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_misspelled_stall_variable_is_an_error"])
        .env(CHILD, "1")
        .env("SPINDLE_STALL_MS", "soon")
        .status()
        .unwrap();
    assert!(status.success());
}
/// Two tasks taking two mutexes in opposite order.
#[test]
fn two_mutexes_taken_in_opposite_order_are_reported() {
    let report = deadlock_report(async {
        let (first, second) = (Rc::new(Mutex::new(())), Rc::new(Mutex::new(())));
        let (a1, a2) = (first.clone(), second.clone());
        let a = spawn_named("a", async move {
            let _one = a1.lock().await;
            sleep(Duration::from_millis(10)).await;
            let _two = a2.lock().await;
        });
        let (b1, b2) = (first.clone(), second.clone());
        let b = spawn_named("b", async move {
            let _two = b2.lock().await;
            sleep(Duration::from_millis(10)).await;
            let _one = b1.lock().await;
        });
        a.await.unwrap();
        b.await.unwrap();
    });
    // Objects are numbered as they first show up in a record: `a` waits
    // first, on `second`, which becomes Mutex#1.
    assert!(row(&report, "a").contains("Mutex#1.lock"), "{report}");
    assert!(row(&report, "b").contains("Mutex#2.lock"), "{report}");
    assert!(row(&report, "main").contains("task 1 (a)"), "{report}");
}

/// Sockets say what they wait on, with their descriptor: an accept, and a
/// read on the accepted stream.
#[test]
fn a_task_waiting_on_a_socket_names_it_and_its_descriptor() {
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        let listener = spindle::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn_named("server", async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0; 1];
            stream.read(&mut buf).await.unwrap()
        });
        yield_now().await; // the server parks in accept
        let dump = Handle::current().dump();
        let waits = dump.task(1).unwrap().waits_on().unwrap().to_string();
        assert!(
            waits.starts_with("TcpListener fd ") && waits.ends_with(" accept"),
            "{dump}"
        );
        let mut client = spindle::net::TcpStream::connect(addr).await.unwrap();
        // Let the server accept and park in its read.
        while !Handle::current()
            .dump()
            .task(1)
            .unwrap()
            .waits_on()
            .unwrap()
            .ends_with(" read")
        {
            sleep(Duration::from_millis(1)).await;
        }
        let dump = Handle::current().dump();
        assert!(
            dump.task(1)
                .unwrap()
                .waits_on()
                .unwrap()
                .starts_with("TcpStream fd "),
            "{dump}"
        );
        client.write_all(b"x").await.unwrap();
        assert_eq!(server.await.unwrap(), 1);
    });
}
