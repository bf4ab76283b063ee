//! The three runtimes behind one small trait, so each workload is written
//! once and measured on all three in the same criterion group.
//!
//! - **spindle**: `Runtime::block_on`, `spawn`, its own `Queue`/`Event`/`timeout`,
//!   `Mutex`/`Semaphore`, `task_group`.
//! - **tokio**: a `current_thread` runtime with a `LocalSet` and `spawn_local`
//!   (the single-threaded, `!Send`-friendly setup comparable to spindle's);
//!   `mpsc::unbounded_channel`, `Notify`, `time::sleep`, `time::timeout`,
//!   `sync::Mutex`, `sync::Semaphore`, `JoinSet`.
//! - **smol**: `async-executor`'s `LocalExecutor` driven by
//!   `async_io::block_on`; `async-channel`, `event-listener`, `async_io::Timer`,
//!   a timeout built as smol users write it (`future.or(timer)`), and
//!   `async-lock`'s `Mutex` and `Semaphore` (smol's `smol::lock`).
//!
//! Every `spawn` returns a future of the task's output so that each workload
//! awaits every task it spawns (tokio#3904: a task left running would be
//! measured in the next iteration).

use std::future::Future;
use std::time::Duration;

use futures_lite::FutureExt as _;

pub trait Peer {
    const NAME: &'static str;
    fn new() -> Self;
    fn block_on<F: Future>(&self, future: F) -> F::Output;
    /// A fresh runtime for this one future, dropped afterwards: what a test
    /// suite that calls `spindle::run` (or `smol::block_on`) per test pays.
    fn run<F: Future>(future: F) -> F::Output;
    fn spawn<F: Future + 'static>(future: F) -> impl Future<Output = F::Output> + 'static
    where
        F::Output: 'static;
    fn yield_now() -> impl Future<Output = ()>;
    fn sleep(duration: Duration) -> impl Future<Output = ()> + 'static;
    /// `Some(output)` if `future` finished within `duration`.
    fn timeout<F: Future>(duration: Duration, future: F)
        -> impl Future<Output = Option<F::Output>>;

    type Sender: Clone + Send + 'static;
    type Receiver: Send + 'static;
    fn channel() -> (Self::Sender, Self::Receiver);
    fn send(sender: &Self::Sender, value: u64) -> impl Future<Output = ()>;
    fn recv(receiver: &mut Self::Receiver) -> impl Future<Output = u64>;

    type Event: Clone + 'static;
    fn event() -> Self::Event;
    /// Returns a future that completes once `set` is called after it was
    /// created (it is registered at creation).
    fn wait(event: &Self::Event) -> impl Future<Output = ()> + 'static;
    fn set(event: &Self::Event);

    /// One loopback TCP connection with both ends in this runtime: the
    /// client sends 64 bytes, the server echoes them, `round_trips` times.
    fn tcp_echo(round_trips: u64) -> impl Future<Output = ()>;

    /// Spawns a task nobody awaits (smol's `Task::detach`, a dropped
    /// tokio or spindle `JoinHandle`): the growth series keeps no handle, so
    /// that its bytes per task are the runtime's alone.
    #[allow(dead_code)] // `compare` awaits all its tasks; `growth.rs` uses it
    fn spawn_detached<F: Future<Output = ()> + 'static>(future: F);

    /// A connected Unix stream socket on this runtime's reactor.
    type Conn: 'static;
    /// `n` connected pairs (reader end, writer end): `UnixStream::pair` on
    /// tokio and smol; spindle has no `pair`, so a listener on a temporary
    /// path accepts `n` connections (outside the timed part).
    fn connection_pairs(n: usize) -> impl Future<Output = Vec<(Self::Conn, Self::Conn)>>;
    /// Reads exactly one byte, waiting for it.
    fn read_byte(conn: &mut Self::Conn) -> impl Future<Output = ()>;
    /// Writes one byte (the socket buffer always has room here).
    fn write_byte(conn: &mut Self::Conn) -> impl Future<Output = ()>;

    /// The runtime's own async mutex around a counter (smol's is
    /// async-lock's, the crate smol re-exports as `smol::lock`).
    type Mutex: 'static;
    fn mutex() -> Self::Mutex;
    /// Locks, adds one, unlocks.
    fn add_one(mutex: &Self::Mutex) -> impl Future<Output = ()>;
    /// Locks, adds one, yields to the other tasks with the lock held (so
    /// they find it locked and queue up), unlocks.
    fn add_one_yielding(mutex: &Self::Mutex) -> impl Future<Output = ()>;
    /// The counter (locks to read it).
    fn count(mutex: &Self::Mutex) -> impl Future<Output = u64>;

    /// The runtime's own async semaphore.
    type Semaphore: 'static;
    fn semaphore(permits: usize) -> Self::Semaphore;
    /// Acquires a permit and gives it back at once.
    fn acquire_release(semaphore: &Self::Semaphore) -> impl Future<Output = ()>;

    /// `children` empty children started and all awaited, the way a user of
    /// this runtime writes "a group of tasks": spindle's `task_group`,
    /// tokio's `JoinSet` (`spawn_local` each, then `join_next` until
    /// empty), smol's tasks collected in a `Vec` and awaited in turn.
    fn task_group(children: u64) -> impl Future<Output = ()>;
}

/// The size of one echo message.
pub const ECHO_BYTES: usize = 64;

pub struct Spindle(spindle::Runtime);

impl Peer for Spindle {
    const NAME: &'static str = "spindle";
    fn new() -> Self {
        Spindle(spindle::Runtime::new().unwrap())
    }
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
    fn run<F: Future>(future: F) -> F::Output {
        spindle::run(future)
    }
    fn spawn<F: Future + 'static>(future: F) -> impl Future<Output = F::Output> + 'static
    where
        F::Output: 'static,
    {
        let handle = spindle::spawn(future);
        async move { handle.await.unwrap() }
    }
    fn yield_now() -> impl Future<Output = ()> {
        spindle::yield_now()
    }
    fn sleep(duration: Duration) -> impl Future<Output = ()> + 'static {
        spindle::sleep(duration)
    }
    async fn timeout<F: Future>(duration: Duration, future: F) -> Option<F::Output> {
        spindle::timeout(duration, future).await.ok()
    }

    type Sender = spindle::Queue<u64>;
    type Receiver = spindle::Queue<u64>;
    fn channel() -> (Self::Sender, Self::Receiver) {
        let queue = spindle::Queue::new();
        (queue.clone(), queue)
    }
    async fn send(sender: &Self::Sender, value: u64) {
        sender.put(value).await
    }
    async fn recv(receiver: &mut Self::Receiver) -> u64 {
        receiver.get().await
    }

    type Event = spindle::Event;
    fn event() -> Self::Event {
        spindle::Event::new()
    }
    fn wait(event: &Self::Event) -> impl Future<Output = ()> + 'static {
        let event = event.clone();
        async move { event.wait().await }
    }
    fn set(event: &Self::Event) {
        event.set()
    }

    async fn tcp_echo(round_trips: u64) {
        use spindle::net::{TcpListener, TcpStream};
        async fn read_exact(stream: &mut TcpStream, mut buf: &mut [u8]) {
            while !buf.is_empty() {
                let n = stream.read(buf).await.unwrap();
                assert!(n > 0, "peer closed early");
                buf = &mut buf[n..];
            }
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = Self::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut buf = [0u8; ECHO_BYTES];
            for _ in 0..round_trips {
                read_exact(&mut stream, &mut buf).await;
                stream.write_all(&buf).await.unwrap();
            }
        });
        let mut client = TcpStream::connect(address).await.unwrap();
        client.set_nodelay(true).unwrap();
        let mut buf = [7u8; ECHO_BYTES];
        for _ in 0..round_trips {
            client.write_all(&buf).await.unwrap();
            read_exact(&mut client, &mut buf).await;
        }
        server.await;
    }

    fn spawn_detached<F: Future<Output = ()> + 'static>(future: F) {
        drop(spindle::spawn(future));
    }

    type Conn = spindle::net::UnixStream;
    async fn connection_pairs(n: usize) -> Vec<(Self::Conn, Self::Conn)> {
        use spindle::net::{UnixListener, UnixStream};
        static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let made = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("spindle-bench-{}-{made}.sock", std::process::id()));
        let listener = UnixListener::bind(&path).await.unwrap();
        let mut pairs = Vec::with_capacity(n);
        for _ in 0..n {
            // A Unix connect completes into the listener's backlog, so one
            // task can connect and then accept.
            let client = UnixStream::connect(&path).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            pairs.push((server, client));
        }
        std::fs::remove_file(&path).unwrap();
        pairs
    }
    async fn read_byte(conn: &mut Self::Conn) {
        let mut byte = [0u8; 1];
        assert_eq!(conn.read(&mut byte).await.unwrap(), 1);
    }
    async fn write_byte(conn: &mut Self::Conn) {
        assert_eq!(conn.write(&[1]).await.unwrap(), 1);
    }

    type Mutex = spindle::Mutex<u64>;
    fn mutex() -> Self::Mutex {
        spindle::Mutex::new(0)
    }
    async fn add_one(mutex: &Self::Mutex) {
        *mutex.lock().await += 1;
    }
    async fn add_one_yielding(mutex: &Self::Mutex) {
        let mut guard = mutex.lock().await;
        *guard += 1;
        spindle::yield_now().await;
    }
    async fn count(mutex: &Self::Mutex) -> u64 {
        *mutex.lock().await
    }

    type Semaphore = spindle::Semaphore;
    fn semaphore(permits: usize) -> Self::Semaphore {
        spindle::Semaphore::new(permits)
    }
    async fn acquire_release(semaphore: &Self::Semaphore) {
        drop(semaphore.acquire().await);
    }

    async fn task_group(children: u64) {
        spindle::task_group(|group| async move {
            for _ in 0..children {
                group.spawn(async { Ok::<(), ()>(()) });
            }
            Ok(())
        })
        .await
        .unwrap();
    }
}

pub struct Tokio(tokio::runtime::Runtime);

impl Peer for Tokio {
    const NAME: &'static str = "tokio";
    fn new() -> Self {
        Tokio(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        )
    }
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        let local = tokio::task::LocalSet::new();
        self.0.block_on(local.run_until(future))
    }
    fn run<F: Future>(future: F) -> F::Output {
        Tokio::new().block_on(future)
    }
    fn spawn<F: Future + 'static>(future: F) -> impl Future<Output = F::Output> + 'static
    where
        F::Output: 'static,
    {
        let handle = tokio::task::spawn_local(future);
        async move { handle.await.unwrap() }
    }
    fn yield_now() -> impl Future<Output = ()> {
        tokio::task::yield_now()
    }
    fn sleep(duration: Duration) -> impl Future<Output = ()> + 'static {
        tokio::time::sleep(duration)
    }
    async fn timeout<F: Future>(duration: Duration, future: F) -> Option<F::Output> {
        tokio::time::timeout(duration, future).await.ok()
    }

    type Sender = tokio::sync::mpsc::UnboundedSender<u64>;
    type Receiver = tokio::sync::mpsc::UnboundedReceiver<u64>;
    fn channel() -> (Self::Sender, Self::Receiver) {
        tokio::sync::mpsc::unbounded_channel()
    }
    async fn send(sender: &Self::Sender, value: u64) {
        sender.send(value).unwrap()
    }
    async fn recv(receiver: &mut Self::Receiver) -> u64 {
        receiver.recv().await.unwrap()
    }

    type Event = std::rc::Rc<tokio::sync::Notify>;
    fn event() -> Self::Event {
        std::rc::Rc::new(tokio::sync::Notify::new())
    }
    fn wait(event: &Self::Event) -> impl Future<Output = ()> + 'static {
        let event = event.clone();
        async move {
            // `notified()` created before `notify_waiters` is woken by it.
            event.notified().await
        }
    }
    fn set(event: &Self::Event) {
        event.notify_waiters()
    }

    async fn tcp_echo(round_trips: u64) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = Self::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut buf = [0u8; ECHO_BYTES];
            for _ in 0..round_trips {
                stream.read_exact(&mut buf).await.unwrap();
                stream.write_all(&buf).await.unwrap();
            }
        });
        let mut client = tokio::net::TcpStream::connect(address).await.unwrap();
        client.set_nodelay(true).unwrap();
        let mut buf = [7u8; ECHO_BYTES];
        for _ in 0..round_trips {
            client.write_all(&buf).await.unwrap();
            client.read_exact(&mut buf).await.unwrap();
        }
        server.await;
    }

    fn spawn_detached<F: Future<Output = ()> + 'static>(future: F) {
        drop(tokio::task::spawn_local(future));
    }

    type Conn = tokio::net::UnixStream;
    async fn connection_pairs(n: usize) -> Vec<(Self::Conn, Self::Conn)> {
        (0..n)
            .map(|_| tokio::net::UnixStream::pair().unwrap())
            .collect()
    }
    async fn read_byte(conn: &mut Self::Conn) {
        use tokio::io::AsyncReadExt;
        let mut byte = [0u8; 1];
        assert_eq!(conn.read(&mut byte).await.unwrap(), 1);
    }
    async fn write_byte(conn: &mut Self::Conn) {
        use tokio::io::AsyncWriteExt;
        assert_eq!(conn.write(&[1]).await.unwrap(), 1);
    }

    type Mutex = tokio::sync::Mutex<u64>;
    fn mutex() -> Self::Mutex {
        tokio::sync::Mutex::new(0)
    }
    async fn add_one(mutex: &Self::Mutex) {
        *mutex.lock().await += 1;
    }
    async fn add_one_yielding(mutex: &Self::Mutex) {
        let mut guard = mutex.lock().await;
        *guard += 1;
        tokio::task::yield_now().await;
    }
    async fn count(mutex: &Self::Mutex) -> u64 {
        *mutex.lock().await
    }

    type Semaphore = tokio::sync::Semaphore;
    fn semaphore(permits: usize) -> Self::Semaphore {
        tokio::sync::Semaphore::new(permits)
    }
    async fn acquire_release(semaphore: &Self::Semaphore) {
        drop(semaphore.acquire().await.unwrap());
    }

    async fn task_group(children: u64) {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..children {
            set.spawn_local(async {});
        }
        while let Some(joined) = set.join_next().await {
            joined.unwrap();
        }
    }
}

thread_local! {
    static SMOL: async_executor::LocalExecutor<'static> = const { async_executor::LocalExecutor::new() };
}

pub struct Smol;

impl Peer for Smol {
    const NAME: &'static str = "smol";
    fn new() -> Self {
        Smol
    }
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        SMOL.with(|executor| async_io::block_on(executor.run(future)))
    }
    fn run<F: Future>(future: F) -> F::Output {
        // smol's reactor is global and lives for the process; what a fresh
        // "runtime" costs there is an executor and `block_on`'s parker.
        async_io::block_on(async_executor::LocalExecutor::new().run(future))
    }
    fn spawn<F: Future + 'static>(future: F) -> impl Future<Output = F::Output> + 'static
    where
        F::Output: 'static,
    {
        SMOL.with(|executor| executor.spawn(future))
    }
    fn yield_now() -> impl Future<Output = ()> {
        futures_lite::future::yield_now()
    }
    async fn sleep(duration: Duration) {
        async_io::Timer::after(duration).await;
    }
    async fn timeout<F: Future>(duration: Duration, future: F) -> Option<F::Output> {
        async { Some(future.await) }
            .or(async {
                async_io::Timer::after(duration).await;
                None
            })
            .await
    }

    type Sender = async_channel::Sender<u64>;
    type Receiver = async_channel::Receiver<u64>;
    fn channel() -> (Self::Sender, Self::Receiver) {
        async_channel::unbounded()
    }
    async fn send(sender: &Self::Sender, value: u64) {
        sender.send(value).await.unwrap()
    }
    async fn recv(receiver: &mut Self::Receiver) -> u64 {
        receiver.recv().await.unwrap()
    }

    type Event = std::rc::Rc<event_listener::Event>;
    fn event() -> Self::Event {
        std::rc::Rc::new(event_listener::Event::new())
    }
    fn wait(event: &Self::Event) -> impl Future<Output = ()> + 'static {
        event.listen()
    }
    fn set(event: &Self::Event) {
        event.notify(usize::MAX);
    }

    async fn tcp_echo(round_trips: u64) {
        use futures_lite::{AsyncReadExt, AsyncWriteExt};
        use std::net::{TcpListener, TcpStream};
        let listener = async_io::Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
        let address = listener.get_ref().local_addr().unwrap();
        let server = Self::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.get_ref().set_nodelay(true).unwrap();
            let mut buf = [0u8; ECHO_BYTES];
            for _ in 0..round_trips {
                stream.read_exact(&mut buf).await.unwrap();
                stream.write_all(&buf).await.unwrap();
            }
        });
        let mut client = async_io::Async::<TcpStream>::connect(address)
            .await
            .unwrap();
        client.get_ref().set_nodelay(true).unwrap();
        let mut buf = [7u8; ECHO_BYTES];
        for _ in 0..round_trips {
            client.write_all(&buf).await.unwrap();
            client.read_exact(&mut buf).await.unwrap();
        }
        server.await;
    }

    fn spawn_detached<F: Future<Output = ()> + 'static>(future: F) {
        SMOL.with(|executor| executor.spawn(future).detach());
    }

    type Conn = async_io::Async<std::os::unix::net::UnixStream>;
    async fn connection_pairs(n: usize) -> Vec<(Self::Conn, Self::Conn)> {
        (0..n)
            .map(|_| async_io::Async::<std::os::unix::net::UnixStream>::pair().unwrap())
            .collect()
    }
    async fn read_byte(conn: &mut Self::Conn) {
        use futures_lite::AsyncReadExt;
        let mut byte = [0u8; 1];
        assert_eq!(conn.read(&mut byte).await.unwrap(), 1);
    }
    async fn write_byte(conn: &mut Self::Conn) {
        use futures_lite::AsyncWriteExt;
        assert_eq!(conn.write(&[1]).await.unwrap(), 1);
    }

    type Mutex = async_lock::Mutex<u64>;
    fn mutex() -> Self::Mutex {
        async_lock::Mutex::new(0)
    }
    async fn add_one(mutex: &Self::Mutex) {
        *mutex.lock().await += 1;
    }
    async fn add_one_yielding(mutex: &Self::Mutex) {
        let mut guard = mutex.lock().await;
        *guard += 1;
        futures_lite::future::yield_now().await;
    }
    async fn count(mutex: &Self::Mutex) -> u64 {
        *mutex.lock().await
    }

    type Semaphore = async_lock::Semaphore;
    fn semaphore(permits: usize) -> Self::Semaphore {
        async_lock::Semaphore::new(permits)
    }
    async fn acquire_release(semaphore: &Self::Semaphore) {
        drop(semaphore.acquire().await);
    }

    async fn task_group(children: u64) {
        // smol has no task group: a smol user collects the `Task`s (dropping
        // one would cancel it) and awaits each.
        let tasks: Vec<_> = (0..children).map(|_| Self::spawn(async {})).collect();
        for task in tasks {
            task.await;
        }
    }
}
