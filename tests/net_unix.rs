//! Unix domain sockets: a spindle listener against blocking `std` clients
//! in threads, both ends in one runtime, split halves in two tasks, two
//! acceptors on one listener, shutdown, and the errors of paths (missing,
//! taken, stale). Every socket lives in a fresh directory under the system's
//! temporary directory, removed when the test ends.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use spindle::net::{UnixListener, UnixStream};
use spindle::spawn;
use support::{within, LIMIT};

/// A directory of its own for one test's socket files, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("spindle-{test}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Accepts forever on `listener`, echoing each connection in its own task.
async fn echo_server(listener: UnixListener) {
    loop {
        let (mut stream, _) = listener.accept().await.unwrap();
        spawn(async move {
            let mut buf = vec![0; 4096];
            loop {
                match stream.read(&mut buf).await.unwrap() {
                    0 => return,
                    n => stream.write_all(&buf[..n]).await.unwrap(),
                }
            }
        });
    }
}

#[test]
fn a_spindle_server_echoes_for_blocking_std_clients() {
    let dir = TempDir::new("std-clients");
    let path = dir.path("echo.sock");
    within(LIMIT, move || {
        spindle::run(async move {
            let listener = UnixListener::bind(&path).await.unwrap();
            assert_eq!(
                listener.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            let server = spawn(echo_server(listener));
            let clients: Vec<_> = (0..4u8)
                .map(|i| {
                    let path = path.clone();
                    spindle::to_thread(move || {
                        let mut stream = std::os::unix::net::UnixStream::connect(path).unwrap();
                        for round in 0..50u8 {
                            let message = [i, round, 7, 9];
                            stream.write_all(&message).unwrap();
                            let mut echoed = [0; 4];
                            stream.read_exact(&mut echoed).unwrap();
                            assert_eq!(echoed, message);
                        }
                    })
                })
                .collect();
            for client in clients {
                client.await.unwrap();
            }
            server.cancel();
        });
    });
}

#[test]
fn both_ends_in_one_runtime_many_round_trips() {
    let dir = TempDir::new("one-runtime");
    let path = dir.path("s.sock");
    within(LIMIT, move || {
        spindle::run(async move {
            let listener = UnixListener::bind(&path).await.unwrap();
            spawn(echo_server(listener));
            let mut stream = UnixStream::connect(&path).await.unwrap();
            assert_eq!(
                stream.peer_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            assert!(stream.local_addr().unwrap().is_unnamed());
            let mut buf = [0; 8];
            for i in 0..2000u64 {
                stream.write_all(&i.to_le_bytes()).await.unwrap();
                stream.read_exact(&mut buf).await.unwrap();
                assert_eq!(u64::from_le_bytes(buf), i);
            }
        });
    });
}

#[test]
fn owned_halves_in_two_tasks_and_shutdown() {
    const TOTAL: usize = 2 << 20;
    let dir = TempDir::new("halves");
    let path = dir.path("h.sock");
    within(LIMIT, move || {
        spindle::run(async move {
            let listener = UnixListener::bind(&path).await.unwrap();
            spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let (mut reader, mut writer) = stream.into_split();
                futures_lite::io::copy(&mut reader, &mut writer)
                    .await
                    .unwrap();
                writer.shutdown().unwrap();
            });
            let (mut reader, mut writer) = UnixStream::connect(&path).await.unwrap().into_split();
            let data: Rc<Vec<u8>> = Rc::new((0..TOTAL).map(|i| (i % 251) as u8).collect());
            let sender = {
                let data = data.clone();
                spawn(async move {
                    for chunk in data.chunks(10_000) {
                        writer.write_all(chunk).await.unwrap();
                    }
                    writer.close().await.unwrap(); // shutdown(Write)
                })
            };
            let receiver = spawn(async move {
                let mut echoed = Vec::new();
                reader.read_to_end(&mut echoed).await.unwrap();
                echoed
            });
            sender.await.unwrap();
            assert!(receiver.await.unwrap() == *data);
        });
    });
}

#[test]
fn borrowed_halves_and_shutdown_of_each_direction() {
    let dir = TempDir::new("borrowed");
    let path = dir.path("b.sock");
    within(LIMIT, move || {
        spindle::run(async move {
            let listener = UnixListener::bind(&path).await.unwrap();
            let mut client = UnixStream::connect(&path).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            client.write_all(b"question").await.unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            let (mut reader, mut writer) = server.split();
            let mut question = Vec::new();
            reader.read_to_end(&mut question).await.unwrap();
            writer.write_all(b"answer").await.unwrap();
            writer.shutdown().unwrap();
            let mut answer = Vec::new();
            client.read_to_end(&mut answer).await.unwrap();
            assert_eq!(
                (&question[..], &answer[..]),
                (&b"question"[..], &b"answer"[..])
            );
        });
    });
}

#[test]
fn two_acceptors_on_one_unix_listener_each_get_a_connection() {
    let dir = TempDir::new("acceptors");
    let path = dir.path("a.sock");
    within(LIMIT, move || {
        spindle::run(async move {
            let listener = Rc::new(UnixListener::bind(&path).await.unwrap());
            let acceptors: Vec<_> = (0..2u8)
                .map(|_| {
                    let listener = listener.clone();
                    spawn(async move {
                        let (mut stream, _) = listener.accept().await.unwrap();
                        let mut byte = [0];
                        stream.read_exact(&mut byte).await.unwrap();
                        byte[0]
                    })
                })
                .collect();
            spindle::sleep(Duration::from_millis(20)).await; // both parked
            let path = path.clone();
            let clients = thread::spawn(move || {
                (1..=2u8)
                    .map(|i| {
                        let mut stream = std::os::unix::net::UnixStream::connect(&path).unwrap();
                        stream.write_all(&[i]).unwrap();
                        stream
                    })
                    .collect::<Vec<_>>()
            });
            let mut got = Vec::new();
            for acceptor in acceptors {
                got.push(acceptor.await.unwrap());
            }
            got.sort_unstable();
            assert_eq!(got, [1, 2]);
            drop(clients.join().unwrap());
        });
    });
}

fn kind_of<T>(result: std::io::Result<T>) -> ErrorKind {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(error) => error.kind(),
    }
}

#[test]
fn path_errors_are_io_errors() {
    let dir = TempDir::new("errors");
    let (missing, taken, stale) = (
        dir.path("missing.sock"),
        dir.path("taken.sock"),
        dir.path("stale.sock"),
    );
    let no_dir = dir.path("no/such/dir.sock");
    within(LIMIT, move || {
        spindle::run(async move {
            assert_eq!(
                kind_of(UnixStream::connect(&missing).await),
                ErrorKind::NotFound
            );
            assert_eq!(
                kind_of(UnixListener::bind(&no_dir).await),
                ErrorKind::NotFound
            );
            let _listener = UnixListener::bind(&taken).await.unwrap();
            assert_eq!(
                kind_of(UnixListener::bind(&taken).await),
                ErrorKind::AddrInUse
            );
            // A listener that is gone leaves its file behind: connecting is refused,
            // and binding the path again fails until the file is removed.
            drop(UnixListener::bind(&stale).await.unwrap());
            assert!(Path::new(&stale).exists());
            assert_eq!(
                kind_of(UnixStream::connect(&stale).await),
                ErrorKind::ConnectionRefused
            );
            assert_eq!(
                kind_of(UnixListener::bind(&stale).await),
                ErrorKind::AddrInUse
            );
            std::fs::remove_file(&stale).unwrap();
            UnixListener::bind(&stale).await.unwrap();
            // A path longer than `sun_path` holds.
            let long = Path::new("/tmp").join("x".repeat(200));
            assert!(UnixListener::bind(&long).await.is_err());
            assert!(UnixStream::connect(&long).await.is_err());
        });
    });
}

#[test]
fn the_peer_leaving_ends_reads_and_fails_writes() {
    let dir = TempDir::new("peer-leaves");
    let path = dir.path("p.sock");
    within(LIMIT, move || {
        spindle::run(async move {
            let listener = UnixListener::bind(&path).await.unwrap();
            let client = UnixStream::connect(&path).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let (mut reader, mut writer) = client.into_split();
            let read = spawn(async move { reader.read(&mut [0; 8]).await });
            spindle::sleep(Duration::from_millis(20)).await;
            assert!(!read.is_finished(), "nothing was sent yet");
            drop(server);
            assert_eq!(read.await.unwrap().unwrap(), 0, "end of stream");
            let error = writer.write_all(&[0; 1024]).await.unwrap_err();
            assert!(
                matches!(
                    error.kind(),
                    ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
                ),
                "{error}"
            );
        });
    });
}
