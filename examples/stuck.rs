//! Four programs that can never finish, and what spindle says about each.
//!
//! ```text
//! SPINDLE_CLOCK=virtual cargo run --release --example stuck -- task_done
//! SPINDLE_CLOCK=virtual cargo run --release --example stuck -- handles
//! SPINDLE_CLOCK=virtual cargo run --release --example stuck -- mutexes
//! SPINDLE_CLOCK=virtual cargo run --release --example stuck -- event
//! ```
//!
//! Under virtual time the runtime sees that nothing can ever run again and
//! panics with a `deadlock` report: every live task, what it waits on, who
//! awaits it, where it was spawned, and the awaited-by tree. In real time
//! the same program just waits; `SPINDLE_STALL_MS=1000` prints the same
//! dump once it has waited a second (stop it with Ctrl-C):
//!
//! ```text
//! SPINDLE_STALL_MS=1000 cargo run --release --example stuck -- event
//! ```
//!
//! `docs/STUCK.md` shows each report and how to read it.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use spindle::{sleep, spawn_named, yield_now, Event, JoinHandle, Mutex, Queue};

/// asyncio's classic hang: the consumer forgets `task_done()`, so
/// `queue.join()` waits for ever.
async fn forgotten_task_done() {
    let queue = Queue::new();
    let consumer = queue.clone();
    spawn_named("consumer", async move {
        loop {
            let job: u32 = consumer.get().await;
            println!("consumed job {job}"); // ... and no consumer.task_done()
        }
    });
    for job in 1..=3 {
        queue.put(job).await;
    }
    queue.join().await; // waits until every job is marked done
    println!("never printed");
}

/// Two tasks, each awaiting the other's handle.
async fn awaiting_each_other() {
    let slot_a: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
    let slot_b: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
    let (b_for_a, a_for_b) = (slot_b.clone(), slot_a.clone());
    let a = spawn_named("a", async move {
        yield_now().await; // let both handles reach their slots
        let b = b_for_a.borrow_mut().take().unwrap();
        b.await.unwrap();
    });
    let b = spawn_named("b", async move {
        yield_now().await;
        let a = a_for_b.borrow_mut().take().unwrap();
        a.await.unwrap();
    });
    *slot_a.borrow_mut() = Some(a);
    *slot_b.borrow_mut() = Some(b);
    // main has given both handles away: it waits on nothing that could
    // ever end (a future that records no reason).
    std::future::pending::<()>().await;
}

/// Two tasks take two mutexes in opposite order.
async fn mutexes_in_opposite_order() {
    let accounts = Rc::new(Mutex::new("accounts"));
    let audit = Rc::new(Mutex::new("audit log"));
    let (acc, aud) = (accounts.clone(), audit.clone());
    let transfer = spawn_named("transfer", async move {
        let _accounts = acc.lock().await;
        sleep(Duration::from_millis(10)).await; // some work while holding it
        let _audit = aud.lock().await;
    });
    let report = spawn_named("report", async move {
        let _audit = audit.lock().await;
        sleep(Duration::from_millis(10)).await;
        let _accounts = accounts.lock().await;
    });
    transfer.await.unwrap();
    report.await.unwrap();
}

/// A task waits for an event that nobody ever sets.
async fn event_nobody_sets() {
    let ready = Event::new();
    let waiter = ready.clone();
    let worker = spawn_named("worker", async move {
        waiter.wait().await; // the setter was never written
        println!("never printed");
    });
    sleep(Duration::from_secs(1)).await;
    worker.await.unwrap();
}

fn main() {
    let program = std::env::args().nth(1).unwrap_or_default();
    match program.as_str() {
        "task_done" => spindle::run(forgotten_task_done()),
        "handles" => spindle::run(awaiting_each_other()),
        "mutexes" => spindle::run(mutexes_in_opposite_order()),
        "event" => spindle::run(event_nobody_sets()),
        _ => eprintln!("usage: stuck task_done|handles|mutexes|event"),
    }
}
