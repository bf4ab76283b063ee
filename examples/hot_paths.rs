//! The benchmarks' hot paths as a plain program, for counting instructions.
//!
//! Wall time on a shared machine moves by tens of percent between runs;
//! the number of instructions a program executes does not. This runs one
//! workload of `benches/compare` on spindle alone, so `valgrind` can count
//! them exactly (the figures in BENCHMARKS.md come from here):
//!
//! ```text
//! cargo build --release --example hot_paths
//! valgrind --tool=callgrind target/release/examples/hot_paths spawn 100000 3
//! callgrind_annotate callgrind.out.<pid> | head -40
//! ```
//!
//! Arguments: the workload (`spawn`, `yield`, `pingpong`, `queue`, `lock`,
//! `handoff`, `group`, `echo` or `run`), how many operations per run
//! (default 100 000), and how many runs (default 1). Steady-state
//! instructions per operation are (total of 3 runs − total of 2 runs) /
//! operations. It also prints the fastest run's ns per operation.
//!
//! Two workloads are there for `strace -c -f`, which counts syscalls as
//! exactly as callgrind counts instructions: `echo` is `tcp_echo` (one 64-byte
//! round trip over loopback, both ends on one loop) and `run` is one whole
//! `spindle::run(async {})`, runtime created and dropped, per operation:
//!
//! ```text
//! strace -c -f target/release/examples/hot_paths echo 30000
//! strace -c -f target/release/examples/hot_paths run 10000
//! ```

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let workload = args.next().unwrap_or_else(|| usage());
    let ops: u64 = args
        .next()
        .map_or(100_000, |n| n.parse().unwrap_or_else(|_| usage()));
    let runs: u32 = args
        .next()
        .map_or(1, |n| n.parse().unwrap_or_else(|_| usage()));
    let mut best = f64::INFINITY;
    if workload == "run" {
        // No runtime of our own here: each operation builds and drops one.
        for _ in 0..runs {
            let started = Instant::now();
            for _ in 0..ops {
                spindle::run(async {});
            }
            best = best.min(started.elapsed().as_nanos() as f64 / ops as f64);
        }
        println!("{workload}: {best:.1} ns per operation (fastest of {runs})");
        return;
    }
    let runtime = spindle::Runtime::new().expect("a runtime");
    for _ in 0..runs {
        let started = Instant::now();
        match workload.as_str() {
            "spawn" => runtime.block_on(spawn_many(ops)),
            "yield" => runtime.block_on(yield_many(ops)),
            "pingpong" => runtime.block_on(ping_pong(ops)),
            "queue" => runtime.block_on(queue(ops)),
            "lock" => runtime.block_on(lock(ops)),
            "handoff" => runtime.block_on(handoff(ops)),
            "group" => runtime.block_on(task_groups(ops)),
            "echo" => runtime.block_on(echo(ops)),
            _ => usage(),
        }
        best = best.min(started.elapsed().as_nanos() as f64 / ops as f64);
    }
    println!("{workload}: {best:.1} ns per operation (fastest of {runs})");
}

fn usage() -> ! {
    eprintln!(
        "usage: hot_paths spawn|yield|pingpong|queue|lock|handoff|group|echo|run [operations] [runs]"
    );
    std::process::exit(2)
}

/// `spawn_many`: spawn empty tasks, then await every handle.
async fn spawn_many(ops: u64) {
    let handles: Vec<_> = (0..ops).map(|_| spindle::spawn(async {})).collect();
    for handle in handles {
        handle.await.unwrap();
    }
}

/// `yield_many`: 100 tasks take turns, each yielding `ops / 100` times, so
/// that every yield is a wake of the yielding task and a trip through the
/// ready queue (`docs/TOUR.md`, exercise (b), measures it).
async fn yield_many(ops: u64) {
    const TASKS: u64 = 100;
    let handles: Vec<_> = (0..TASKS)
        .map(|_| {
            spindle::spawn(async move {
                for _ in 0..ops / TASKS {
                    spindle::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
}

/// `ping_pong`: two tasks bounce a number through two queues.
async fn ping_pong(ops: u64) {
    let (to_pong, to_ping) = (spindle::Queue::new(), spindle::Queue::new());
    let (pong_inbox, ping_inbox) = (to_pong.clone(), to_ping.clone());
    let pong = spindle::spawn(async move {
        for _ in 0..ops {
            let value: u64 = pong_inbox.get().await;
            to_ping.put(value + 1).await;
        }
    });
    let ping = spindle::spawn(async move {
        let mut value = 0;
        for _ in 0..ops {
            to_pong.put(value).await;
            value = ping_inbox.get().await;
        }
        assert_eq!(value, ops);
    });
    ping.await.unwrap();
    pong.await.unwrap();
}

/// `queue_throughput`: one producer task, one consumer task.
async fn queue(ops: u64) {
    let queue = spindle::Queue::new();
    let inbox = queue.clone();
    let consumer = spindle::spawn(async move {
        let mut sum = 0;
        for _ in 0..ops {
            sum += inbox.get().await;
        }
        sum
    });
    let producer = spindle::spawn(async move {
        for item in 0..ops {
            queue.put(item).await;
        }
    });
    producer.await.unwrap();
    assert_eq!(consumer.await.unwrap(), ops * (ops - 1) / 2);
}

/// `mutex_uncontended`: lock, add one, unlock, in one task.
async fn lock(ops: u64) {
    let mutex = spindle::Mutex::new(0);
    for _ in 0..ops {
        *mutex.lock().await += 1;
    }
    assert_eq!(*mutex.lock().await, ops);
}

/// `mutex_contended`: 10 tasks lock one mutex in turn, each holding it
/// across a `yield_now`, so every unlock hands the lock to a waiter.
async fn handoff(ops: u64) {
    const TASKS: u64 = 10;
    let mutex = std::rc::Rc::new(spindle::Mutex::new(0));
    let handles: Vec<_> = (0..TASKS)
        .map(|_| {
            let mutex = mutex.clone();
            spindle::spawn(async move {
                for _ in 0..ops / TASKS {
                    let mut guard = mutex.lock().await;
                    *guard += 1;
                    spindle::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(*mutex.lock().await, ops / TASKS * TASKS);
}

/// `task_group`: task groups of 1 000 empty children each, `ops / 1 000`
/// of them one after the other; an operation is one child.
async fn task_groups(ops: u64) {
    for _ in 0..ops / 1_000 {
        spindle::task_group(|group| async move {
            for _ in 0..1_000 {
                group.spawn(async { Ok::<(), ()>(()) });
            }
            Ok(())
        })
        .await
        .unwrap();
    }
}

/// `tcp_echo`: a client and a server task in this runtime, one loopback
/// connection, 64 bytes there and back per operation.
async fn echo(ops: u64) {
    use spindle::net::{TcpListener, TcpStream};
    async fn read_exact(stream: &mut TcpStream, mut buf: &mut [u8]) {
        while !buf.is_empty() {
            let n = stream.read(buf).await.expect("read");
            assert!(n > 0, "peer closed early");
            buf = &mut buf[n..];
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("local_addr");
    let server = spindle::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        stream.set_nodelay(true).expect("nodelay");
        let mut buf = [0u8; 64];
        for _ in 0..ops {
            read_exact(&mut stream, &mut buf).await;
            stream.write_all(&buf).await.expect("write");
        }
    });
    let mut client = TcpStream::connect(address).await.expect("connect");
    client.set_nodelay(true).expect("nodelay");
    let mut buf = [7u8; 64];
    for _ in 0..ops {
        client.write_all(&buf).await.expect("write");
        read_exact(&mut client, &mut buf).await;
    }
    server.await.unwrap();
}
