//! Stress and soak: the runtime under load, long enough that a lost wake,
//! a leaked task, timer or descriptor, or a race in the join protocol
//! shows up as a failed test instead of a hang once a month.
//!
//! # Sizes: `SPINDLE_STRESS=full`
//!
//! By default each test runs scaled down, so that the whole file takes
//! well under a minute in release on two cores, and a debug build (as in
//! `cargo test --workspace`) scales further. With `SPINDLE_STRESS=full` in
//! the environment every test runs at full size:
//!
//! | test | full size |
//! |---|---|
//! | `cross_thread_wakes_lose_nothing` | 4 OS threads × 250 000 items put into queues that tasks wait on |
//! | `resources_come_back_after_load` | 10^6 tasks spawned and joined in waves, 10^6 timers inserted and cancelled, 10^4 loopback TCP echo connections |
//! | `join_race_*` (three tests) | 10^6 iterations each |
//!
//! ```text
//! SPINDLE_STRESS=full cargo test --release --test stress_soak -- --nocapture
//! ```
//!
//! Each test prints the size it ran (shown with `--nocapture`).
//!
//! Every test runs in a process of its own (`support::isolated`): resident
//! memory and open descriptors are per process, and a use-after-free then
//! fails one test with its output instead of the whole binary. Each ends
//! by checking that dropping its runtime closed every descriptor the test
//! opened: a task that is never freed keeps its runtime's poller open, so
//! this also catches leaked tasks. Linux only for those checks (`/proc`).

// The resource test and its helpers are Linux-only; elsewhere they would
// only warn.
#![cfg_attr(not(target_os = "linux"), allow(dead_code, unused_imports))]

mod support;

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::net::{Shutdown, SocketAddr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use spindle::net::{TcpListener, TcpStream};
use spindle::time::{call_later, sleep, Sleep, TimerHandle};
use spindle::{run, spawn, timeout, yield_now, JoinHandle, Queue, Runtime};
use support::{isolated, metrics, within, XorShift, MS};

/// Whether `SPINDLE_STRESS=full` asks for the full sizes. Any other value
/// is a mistake worth stopping for, not a silent scaled-down run.
fn full() -> bool {
    match std::env::var_os("SPINDLE_STRESS") {
        None => false,
        Some(value) if value.is_empty() => false,
        Some(value) if value == "full" => true,
        Some(value) => panic!(
            "SPINDLE_STRESS={}: the accepted value is `full` (or leave it unset)",
            value.to_string_lossy()
        ),
    }
}

/// The size to run: `full` with `SPINDLE_STRESS=full`, else `release` in an
/// optimized build and `debug` in a debug one (two to four times slower
/// here).
fn size(full_size: u64, release: u64, debug: u64) -> u64 {
    if full() {
        full_size
    } else if cfg!(debug_assertions) {
        debug
    } else {
        release
    }
}

/// How long `within` lets a test run before calling it hung: generous,
/// since two cores are shared with other work.
fn watchdog() -> Duration {
    Duration::from_secs(if full() { 1800 } else { 120 })
}

/// Descriptors this process has open (Linux; elsewhere 0, so the checks
/// pass vacuously). Reading the folder opens one more, the same every time.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// Resident memory in KiB, `VmRSS` of `/proc/self/status` (Linux; 0 elsewhere).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

/// Runs `body` and asserts that it left no descriptor open.
fn closes_every_descriptor(what: &str, body: impl FnOnce()) {
    let before = open_fds();
    body();
    let after = open_fds();
    assert_eq!(
        after, before,
        "{what}: {before} descriptors open before, {after} after the runtime was dropped"
    );
}

// ----- 1. cross-thread wakes ---------------------------------------------------------------

/// A lower bound on the parked `get`s of `queue`: its waiters minus the
/// items handed to a getter not yet polled (no `put` or `join` ever waits
/// on these queues). Read in this order, a getter taking its handed item
/// between the two reads can only make the bound lower; and since only the
/// caller releases getters, as many as this stay parked until it puts.
fn parked_getters(queue: &Queue<u64>) -> usize {
    let items = queue.len();
    queue.waiter_count().saturating_sub(items)
}

/// Four OS threads each feed a queue that four tasks of one runtime wait
/// on (tasks the thread itself spawned through a `Handle`). A thread puts
/// an item only while a getter is parked, so every `put_nowait` hands the
/// item to a parked task and wakes it from that thread: one cross-thread
/// wake per item. Counted on both sides: every item is received exactly
/// once, every getter ends, and the loop saw at least one remote wake per
/// item, and at most two more per getter (its stop sentinel, and its
/// handle sent to the main future).
/// A lost wake would leave an item in transit and the watchdog would fire.
#[test]
fn cross_thread_wakes_lose_nothing() {
    isolated("cross_thread_wakes_lose_nothing", || {
        const THREADS: usize = 4;
        const GETTERS: usize = 4;
        const STOP: u64 = u64::MAX;
        let items = size(250_000, 100_000, 25_000);
        eprintln!("cross-thread wakes: {THREADS} threads × {items} wakes, {GETTERS} getters each");
        within(watchdog(), move || {
            closes_every_descriptor("cross-thread wakes", || {
                let runtime = Runtime::new().unwrap();
                let joins: Queue<JoinHandle<u64>> = Queue::new();
                let seen: Arc<Vec<AtomicU8>> = Arc::new(
                    (0..THREADS as u64 * items)
                        .map(|_| AtomicU8::new(0))
                        .collect(),
                );
                let producers: Vec<thread::JoinHandle<u64>> = (0..THREADS)
                    .map(|t| {
                        let (handle, joins, seen) = (runtime.handle(), joins.clone(), seen.clone());
                        thread::spawn(move || {
                            let queue = Queue::new();
                            for _ in 0..GETTERS {
                                let (queue, seen) = (queue.clone(), seen.clone());
                                let producer = thread::current();
                                let getter = handle.spawn(async move {
                                    let mut got = 0;
                                    loop {
                                        let item = queue.get().await;
                                        if item == STOP {
                                            return got;
                                        }
                                        seen[(t as u64 * items + item) as usize]
                                            .fetch_add(1, Ordering::Relaxed);
                                        got += 1;
                                        // About to park again: the producer may go on.
                                        producer.unpark();
                                    }
                                });
                                joins.put_nowait(getter).unwrap();
                            }
                            let mut wakes = 0;
                            for item in 0..items {
                                // The unpark can come just before the getter
                                // parks: the timeout looks again.
                                while parked_getters(&queue) == 0 {
                                    thread::park_timeout(MS);
                                }
                                queue.put_nowait(item).unwrap();
                                wakes += 1;
                            }
                            for _ in 0..GETTERS {
                                queue.put_nowait(STOP).unwrap();
                            }
                            wakes
                        })
                    })
                    .collect();
                let (received, remote_wakes) = runtime.block_on(async {
                    let mut received = 0;
                    for _ in 0..THREADS * GETTERS {
                        received += joins.get().await.await.unwrap();
                    }
                    (received, metrics().wakes_remote)
                });
                let sent: u64 = producers.into_iter().map(|p| p.join().unwrap()).sum();
                drop(runtime);
                eprintln!(
                    "cross-thread wakes: {sent} sent, {received} received, \
                     {remote_wakes} remote wakes reached the loop"
                );
                assert_eq!(sent, THREADS as u64 * items);
                assert_eq!(received, sent);
                let wrong: Vec<usize> = (0..seen.len())
                    .filter(|&i| seen[i].load(Ordering::Relaxed) != 1)
                    .take(10)
                    .collect();
                assert!(
                    wrong.is_empty(),
                    "items not received exactly once (thread × {items} + item): {wrong:?}"
                );
                let most = sent + 2 * (THREADS * GETTERS) as u64;
                assert!(
                    (sent..=most).contains(&remote_wakes),
                    "{remote_wakes} remote wakes for {sent} items put to parked getters"
                );
            });
        });
    });
}

// ----- 2. resources come back --------------------------------------------------------------

/// Tasks polled at once, joined before the next wave starts.
const WAVE: u64 = 10_000;
/// Loopback connections open at the same time.
const CONCURRENT_CONNECTIONS: u64 = 50;
/// Load rounds on one runtime; the first is the warm-up that sets the
/// plateau.
const ROUNDS: u64 = 5;
/// Resident memory may exceed its plateau by 10 % plus this much. The
/// absolute part covers what is not a leak: RSS counts whole pages, and
/// the allocator grows its heap in steps of 128 KiB and more (growth after
/// the warm-up measured at about 90 KiB). A leak of one small block (64
/// bytes) per task or timer adds 50 MiB at full size, per connection
/// 0.5 MiB; the plateau itself is about 6 MiB.
const RSS_SLACK_KIB: u64 = 1024;

/// `total` tasks in waves of `WAVE`, each yielding once, all joined.
async fn tasks_in_waves(total: u64) {
    let mut done = 0;
    while done < total {
        let n = WAVE.min(total - done);
        let handles: Vec<JoinHandle<u64>> = (0..n)
            .map(|i| {
                spawn(async move {
                    yield_now().await;
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        assert_eq!(sum, n * (n - 1) / 2);
        done += n;
    }
}

/// `total` timers, half `Sleep`s registered by a poll and then dropped,
/// half `call_later` callbacks then cancelled, with deadlines from 1 ms to
/// an hour (every level of the wheel). Nothing awaits between inserting
/// and cancelling, so none can fire.
async fn timers_inserted_and_cancelled(total: u64, random: &mut XorShift) {
    let before = metrics();
    let fired = Rc::new(Cell::new(0u64));
    let mut done = 0;
    while done < total {
        let n = WAVE.min(total - done);
        let mut delay = || MS * (1 + random.up_to(3_600_000) as u32);
        let mut sleeps: Vec<Sleep> = (0..n / 2).map(|_| sleep(delay())).collect();
        poll_fn(|cx| {
            for sleep in &mut sleeps {
                assert!(Pin::new(sleep).poll(cx).is_pending());
            }
            Poll::Ready(())
        })
        .await;
        let callbacks: Vec<TimerHandle> = (n / 2..n)
            .map(|_| {
                let fired = fired.clone();
                call_later(delay(), move || fired.set(fired.get() + 1))
            })
            .collect();
        drop(sleeps);
        for callback in &callbacks {
            callback.cancel();
        }
        done += n;
    }
    let after = metrics();
    assert_eq!(fired.get(), 0, "a cancelled callback ran");
    assert_eq!(after.timers_inserted - before.timers_inserted, total);
    assert_eq!(after.timers_cancelled - before.timers_cancelled, total);
    assert_eq!(after.timers_fired, before.timers_fired);
}

/// Echoes one connection until the client shuts its side down, then
/// closes it.
async fn echo(mut stream: TcpStream) {
    let mut buf = [0; 256];
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        if n == 0 {
            return;
        }
        stream.write_all(&buf[..n]).await.unwrap();
    }
}

/// Accepts forever, each connection echoed by a task of its own.
async fn echo_server(listener: TcpListener) {
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        drop(spawn(echo(stream)));
    }
}

/// Connects, writes a message, shuts down writing, and reads the echo up
/// to the end of the stream, which comes only once the server's side is
/// closed: so when this returns, both descriptors are.
async fn echo_round_trip(addr: SocketAddr, i: u64) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let message = format!("connection {i} says hello");
    stream.write_all(message.as_bytes()).await.unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let (mut echoed, mut buf) = (Vec::new(), [0; 256]);
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        echoed.extend_from_slice(&buf[..n]);
    }
    assert_eq!(echoed, message.as_bytes());
}

/// `total` echo connections, `CONCURRENT_CONNECTIONS` at a time.
async fn echo_connections(addr: SocketAddr, total: u64) {
    let mut done = 0;
    while done < total {
        let n = CONCURRENT_CONNECTIONS.min(total - done);
        let clients: Vec<_> = (done..done + n)
            .map(|i| spawn(echo_round_trip(addr, i)))
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        done += n;
    }
}

/// A few idle turns of the loop: it gives cached task memory back when it
/// is about to block (`recycle.rs`, at most 1024 blocks per turn), so the
/// measurements are taken at the same point of that cycle every round.
async fn settle() {
    for _ in 0..20 {
        sleep(MS).await;
    }
}

/// Tasks, timers and TCP connections, in rounds on one runtime: after a
/// warm-up round sets the plateau, resident memory after every later round
/// stays within 10 % of it (plus `RSS_SLACK_KIB`), the number of open
/// descriptors is exactly the plateau's, and once the runtime is dropped,
/// exactly what it was before the runtime existed.
#[cfg(target_os = "linux")]
#[test]
fn resources_come_back_after_load() {
    isolated("resources_come_back_after_load", || {
        let tasks = size(1_000_000, 250_000, 100_000);
        let timers = size(1_000_000, 250_000, 100_000);
        let connections = size(10_000, 2_500, 1_000);
        eprintln!(
            "resources: {tasks} tasks, {timers} timers, {connections} connections, \
             in {ROUNDS} rounds (the first a warm-up)"
        );
        within(watchdog(), move || {
            closes_every_descriptor("resources", || {
                run(async move {
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let addr = listener.local_addr().unwrap();
                    let server = spawn(echo_server(listener));
                    let mut random = XorShift(0x5EED);
                    let mut plateau = None;
                    for round in 0..ROUNDS {
                        tasks_in_waves(tasks / ROUNDS).await;
                        timers_inserted_and_cancelled(timers / ROUNDS, &mut random).await;
                        echo_connections(addr, connections / ROUNDS).await;
                        settle().await;
                        let (rss, fds) = (rss_kib(), open_fds());
                        eprintln!("resources: round {round}: VmRSS {rss} KiB, {fds} descriptors");
                        let Some((plateau_rss, plateau_fds)) = plateau else {
                            plateau = Some((rss, fds));
                            continue;
                        };
                        assert_eq!(fds, plateau_fds, "round {round} left descriptors open");
                        assert!(
                            rss <= plateau_rss + plateau_rss / 10 + RSS_SLACK_KIB,
                            "round {round}: VmRSS {rss} KiB, plateau {plateau_rss} KiB"
                        );
                    }
                    server.cancel();
                    assert!(server.await.unwrap_err().is_cancelled());
                });
            });
        });
    });
}

// ----- 3. the join race --------------------------------------------------------------------

/// A thread that calls `put_nowait(i)` on the `i`-th queue it is sent. It
/// spins for the next queue rather than sleeping, so that its put lands
/// within a few hundred nanoseconds of the send — while the main future is
/// registering with the task's `JoinHandle` — and, after a spin of varied
/// length, at varied points around it.
fn putter_thread() -> (mpsc::Sender<Queue<u64>>, thread::JoinHandle<()>) {
    let (queues, received) = mpsc::channel::<Queue<u64>>();
    let thread = thread::spawn(move || {
        let mut i = 0;
        let mut idle = 0u32;
        loop {
            let queue = match received.try_recv() {
                Ok(queue) => queue,
                Err(mpsc::TryRecvError::Empty) => {
                    // Spin, but give the core away now and then: two cores
                    // are shared with the runtime's thread.
                    idle += 1;
                    if idle % 1024 == 0 {
                        thread::yield_now();
                    }
                    std::hint::spin_loop();
                    continue;
                }
                Err(mpsc::TryRecvError::Disconnected) => return,
            };
            for _ in 0..(i % 7) * 20 {
                std::hint::spin_loop();
            }
            queue.put_nowait(i as u64).unwrap();
            i += 1;
        }
    });
    (queues, thread)
}

/// Sends `queue` to the putter thread: one iteration in three before the
/// task got to park in `get` (the put may then find no getter), the others
/// after it parked (the put wakes it from the thread).
async fn hand_to_putter(i: u64, queue: Queue<u64>, putter: &mpsc::Sender<Queue<u64>>) {
    if i % 3 != 0 {
        yield_now().await;
    }
    putter.send(queue).unwrap();
}

/// The join race: a task parks in `Queue::get`, an OS thread's
/// `put_nowait` wakes it, it finishes, while the main future awaits its
/// `JoinHandle`. Every handle yields exactly its task's item.
#[test]
fn join_race_task_woken_from_a_thread() {
    isolated("join_race_task_woken_from_a_thread", || {
        let iterations = size(1_000_000, 200_000, 50_000);
        eprintln!("join race, woken from a thread: {iterations} iterations");
        within(watchdog(), move || {
            closes_every_descriptor("join race", || {
                let (putter, thread) = putter_thread();
                run(async move {
                    for i in 0..iterations {
                        let queue = Queue::new();
                        let from = queue.clone();
                        let task = spawn(async move { from.get().await });
                        hand_to_putter(i, queue, &putter).await;
                        assert_eq!(task.await.unwrap(), i);
                    }
                });
                thread.join().unwrap();
            });
        });
    });
}

/// How long the main future waits for a task or thread to hand something
/// back before it calls the iteration lost: when a task panics with the
/// handle in its hands, the handle never comes back.
const HAND_BACK: Duration = Duration::from_secs(10);

/// The join race where the task polls its own `JoinHandle` once before it
/// finishes (its own waker becomes the join waker), then hands the handle
/// back for the main future to await. Every handle yields its item, and
/// the runtime's descriptors all close (a task kept alive by its own join
/// waker would keep them open).
#[test]
fn join_race_task_polls_its_own_handle() {
    isolated("join_race_task_polls_its_own_handle", || {
        let iterations = size(1_000_000, 200_000, 50_000);
        eprintln!("join race, own handle: {iterations} iterations");
        within(watchdog(), move || {
            closes_every_descriptor("join race, own handle", || {
                let (putter, thread) = putter_thread();
                run(async move {
                    for i in 0..iterations {
                        let queue = Queue::new();
                        let inbox: Queue<JoinHandle<u64>> = Queue::new();
                        let outbox: Queue<JoinHandle<u64>> = Queue::new();
                        let (from, own_inbox, own_outbox) =
                            (queue.clone(), inbox.clone(), outbox.clone());
                        let task = spawn(async move {
                            let item = from.get().await;
                            let mut own = own_inbox.get().await;
                            let pending =
                                poll_fn(|cx| Poll::Ready(Pin::new(&mut own).poll(cx).is_pending()))
                                    .await;
                            assert!(pending, "a task's own handle was ready while it ran");
                            own_outbox.put_nowait(own).unwrap();
                            item
                        });
                        inbox.put_nowait(task).unwrap();
                        hand_to_putter(i, queue, &putter).await;
                        let task = timeout(HAND_BACK, outbox.get()).await.unwrap_or_else(|_| {
                            panic!("iteration {i}: the task never handed its handle back")
                        });
                        assert_eq!(task.await.unwrap(), i);
                    }
                });
                thread.join().unwrap();
            });
        });
    });
}

/// A waker that does nothing; two of them never `will_wake` each other, so
/// a handle polled with each in turn re-registers on every poll.
struct Nothing;

impl Wake for Nothing {
    fn wake(self: Arc<Self>) {}
}

/// Polls `handle` on this thread until it is ready: with
/// `futures_executor::block_on`, or, on odd iterations, by hand with two
/// different wakers in turn, as a `select!` may, which takes the join
/// protocol's register path on every poll.
fn join_on_this_thread(i: usize, mut handle: JoinHandle<u64>) -> Result<u64, String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        if i % 2 == 0 {
            return futures_executor::block_on(handle);
        }
        let wakers = [
            Waker::from(Arc::new(Nothing)),
            Waker::from(Arc::new(Nothing)),
        ];
        for poll in 0.. {
            let mut cx = Context::from_waker(&wakers[poll % 2]);
            if let Poll::Ready(output) = Pin::new(&mut handle).poll(&mut cx) {
                return output;
            }
            thread::yield_now();
        }
        unreachable!()
    }));
    match outcome {
        Ok(output) => output.map_err(|error| error.to_string()),
        Err(payload) => Err(format!(
            "polling the handle panicked: {}",
            message(payload.as_ref())
        )),
    }
}

/// The message of a panic payload made by `panic!`.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a non-string payload)".into())
}

/// The join race across threads: each task's `JoinHandle` is awaited on
/// another OS thread (`futures_executor::block_on`, or polled by hand with
/// changing wakers) while the task clones, keeps, wakes and drops its own
/// waker between yields; the thread sends the output back through a queue.
/// Every handle yields its task's value.
#[test]
fn join_race_handle_awaited_on_another_thread() {
    isolated("join_race_handle_awaited_on_another_thread", || {
        let iterations = size(1_000_000, 200_000, 50_000);
        eprintln!("join race, handle on another thread: {iterations} iterations");
        within(watchdog(), move || {
            closes_every_descriptor("join race, handle on another thread", || {
                type Job = (JoinHandle<u64>, Queue<Result<u64, String>>);
                let (jobs, received) = mpsc::channel::<Job>();
                let joiner = thread::spawn(move || {
                    for (i, (handle, back)) in received.into_iter().enumerate() {
                        back.put_nowait(join_on_this_thread(i, handle)).unwrap();
                    }
                });
                run(async move {
                    for i in 0..iterations {
                        let task = spawn(async move {
                            let mut kept: Vec<Waker> = Vec::new();
                            for round in 0..=i % 4 {
                                poll_fn(|cx| {
                                    for _ in 0..256 {
                                        drop(cx.waker().clone());
                                    }
                                    let clone = cx.waker().clone();
                                    if round % 2 == 1 {
                                        clone.wake_by_ref();
                                    }
                                    kept.push(clone);
                                    Poll::Ready(())
                                })
                                .await;
                                yield_now().await;
                            }
                            // `kept` is dropped as the task completes.
                            i
                        });
                        if i % 2 == 0 {
                            yield_now().await;
                        }
                        let back = Queue::new();
                        jobs.send((task, back.clone())).unwrap();
                        let output = timeout(HAND_BACK, back.get()).await.unwrap_or_else(|_| {
                            panic!("iteration {i}: the thread never sent the output back")
                        });
                        assert_eq!(output, Ok(i), "iteration {i}");
                    }
                });
                joiner.join().unwrap();
            });
        });
    });
}
