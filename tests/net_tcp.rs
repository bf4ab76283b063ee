//! TCP behaviour: spindle servers against clients that are *not* spindle
//! (blocking `std::net` in threads, and the system's `nc` when installed),
//! spindle clients, the `futures-io` traits (through futures-lite's
//! `AsyncReadExt`/`AsyncWriteExt`), and the loop's wake-ups.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use spindle::net::{TcpListener, TcpStream};
use support::{within, LIMIT};

/// Accepts forever, echoing each connection in its own task.
async fn echo_server(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        spindle::spawn(async move {
            let mut buf = vec![0; 16 * 1024];
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return std::io::Result::Ok(());
                }
                stream.write_all(&buf[..n]).await?;
            }
        });
    }
}

/// Starts a spindle echo server on a thread of its own; returns its address.
/// The runtime lives until the process ends.
fn spawn_echo_server() -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        spindle::run(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            echo_server(listener).await
        })
    });
    rx.recv().unwrap()
}

#[test]
fn echoes_one_mebibyte_byte_exact() {
    within(LIMIT, || {
        let addr = spawn_echo_server();
        let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 + i / 251) as u8).collect();
        let client = std::net::TcpStream::connect(addr).unwrap();
        // Write from one thread and read from another: with 1 MiB in flight, a
        // client that wrote everything before reading would deadlock against
        // full socket buffers.
        let mut writer = client.try_clone().unwrap();
        let sent = data.clone();
        let writer = thread::spawn(move || {
            writer.write_all(&sent).unwrap();
            writer.shutdown(Shutdown::Write).unwrap();
        });
        let mut echoed = Vec::new();
        (&client).read_to_end(&mut echoed).unwrap();
        writer.join().unwrap();
        assert_eq!(echoed.len(), data.len());
        assert!(echoed == data, "the echo differs from what was sent");
    });
}

#[test]
fn hundred_connections_hundred_round_trips_each() {
    within(LIMIT, || {
        let addr = spawn_echo_server();
        const CONNECTIONS: usize = 100;
        const ROUND_TRIPS: usize = 100;
        // Every client connects before any sends, so all 100 are open at once.
        let barrier = Arc::new(Barrier::new(CONNECTIONS));
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|c| {
                let barrier = barrier.clone();
                thread::spawn(move || {
                    let mut stream = std::net::TcpStream::connect(addr).unwrap();
                    stream.set_nodelay(true).unwrap();
                    barrier.wait();
                    for r in 0..ROUND_TRIPS {
                        let message = format!("client {c:3} round {r:3}\n");
                        stream.write_all(message.as_bytes()).unwrap();
                        let mut reply = vec![0; message.len()];
                        stream.read_exact(&mut reply).unwrap();
                        assert_eq!(reply, message.as_bytes());
                    }
                    stream.shutdown(Shutdown::Write).unwrap();
                    assert_eq!(stream.read(&mut [0; 8]).unwrap(), 0, "bytes left over");
                })
            })
            .collect();
        for client in clients {
            client.join().unwrap();
        }
    });
}

#[test]
fn peer_closing_during_a_read_gives_end_of_stream() {
    within(LIMIT, || {
        spindle::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = thread::spawn(move || {
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                stream.write_all(b"partial").unwrap();
                // Give the server time to read the bytes and block in the next read.
                thread::sleep(Duration::from_millis(50));
                drop(stream);
            });
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0; 64];
            let mut got = Vec::new();
            loop {
                let n = stream.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, b"partial");
            // End of stream is sticky.
            assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
            client.join().unwrap();
        });
    });
}

#[test]
fn spindle_client_against_std_server_with_addresses_and_half_close() {
    within(LIMIT, || {
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server_addr = server.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (mut stream, peer) = server.accept().unwrap();
            let mut request = Vec::new();
            // The client's shutdown(Write) ends this read.
            stream.read_to_end(&mut request).unwrap();
            stream.write_all(&request.to_ascii_uppercase()).unwrap();
            peer
        });
        spindle::run(async move {
            // A host name and port pair, resolved by std; each address is tried in turn.
            let mut stream = match TcpStream::connect(("localhost", server_addr.port())).await {
                Ok(stream) => stream,
                // A host whose "localhost" is only ::1: use the address itself.
                Err(_) => TcpStream::connect(server_addr).await.unwrap(),
            };
            assert_eq!(stream.peer_addr().unwrap(), server_addr);
            stream.set_nodelay(true).unwrap();
            stream.write_all(b"shout this").await.unwrap();
            stream.shutdown(Shutdown::Write).unwrap();
            let mut reply = Vec::new();
            let mut buf = [0; 4];
            loop {
                match stream.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => reply.extend_from_slice(&buf[..n]),
                }
            }
            assert_eq!(reply, b"SHOUT THIS");
            let local = stream.local_addr().unwrap();
            assert_eq!(server.join().unwrap(), local);
        });
    });
}

#[test]
fn both_ends_in_one_runtime() {
    within(LIMIT, || {
        spindle::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            spindle::spawn(echo_server(listener));
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut buf = [0; 64];
            for i in 0..1000u32 {
                let message = i.to_le_bytes();
                stream.write_all(&message).await.unwrap();
                let mut got = 0;
                while got < 4 {
                    got += stream.read(&mut buf[got..4]).await.unwrap();
                }
                assert_eq!(buf[..4], message);
            }
        });
    });
}

#[test]
fn futures_io_traits_work_with_the_ecosystem_adapters() {
    within(LIMIT, || {
        spindle::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            spindle::spawn(echo_server(listener));
            let stream = TcpStream::connect(addr).await.unwrap();
            // split: reader and writer in two tasks, one per direction.
            let (mut reader, mut writer) = futures_lite::io::split(stream);
            let writing = spindle::spawn(async move {
                for chunk in [&b"futures "[..], b"io ", b"traits"] {
                    writer.write_all(chunk).await.unwrap();
                }
                writer.flush().await.unwrap();
                // poll_close = shutdown(Write): the echo server sees end of stream
                // and closes, which ends our read_to_end.
                writer.close().await.unwrap();
            });
            let mut first = [0; 8];
            reader.read_exact(&mut first).await.unwrap();
            assert_eq!(&first, b"futures ");
            let mut rest = Vec::new();
            reader.read_to_end(&mut rest).await.unwrap();
            assert_eq!(rest, b"io traits");
            writing.await.unwrap();
        });
    });
}

#[test]
fn echoes_for_the_system_nc() {
    // `nc` comes in several dialects (OpenBSD, GNU, busybox, ncat) whose flags
    // differ; this uses none. It writes, reads the echo back, then kills nc.
    let found = Command::new("nc")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        eprintln!("skipped: no `nc` on this system");
        return;
    }
    within(LIMIT, || {
        let addr = spawn_echo_server();
        let mut nc = Command::new("nc")
            .arg(addr.ip().to_string())
            .arg(addr.port().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut input = nc.stdin.take().unwrap();
        let mut output = BufReader::new(nc.stdout.take().unwrap());
        let lines = ["hello from nc\n", "second line\n"];
        for line in lines {
            input.write_all(line.as_bytes()).unwrap();
            input.flush().unwrap();
            let mut echoed = String::new();
            output.read_line(&mut echoed).unwrap();
            assert_eq!(echoed, line);
        }
        nc.kill().unwrap();
        nc.wait().unwrap();
    });
}

#[test]
fn cancelling_a_task_blocked_in_accept_releases_the_port() {
    within(LIMIT, || {
        spindle::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = spindle::spawn(async move {
                let _ = listener.accept().await;
                unreachable!("nobody connects");
            });
            // Let the server reach accept and park in the reactor.
            spindle::sleep(Duration::from_millis(20)).await;
            assert!(!server.is_finished());
            server.cancel();
            assert!(server.await.unwrap_err().is_cancelled());
            // The listener and its registration are gone: the same port binds again,
            // and the new listener works.
            let again = TcpListener::bind(addr).await.unwrap();
            assert_eq!(again.local_addr().unwrap(), addr);
            let client = thread::spawn(move || std::net::TcpStream::connect(addr).map(drop));
            again.accept().await.unwrap();
            client.join().unwrap().unwrap();
        });
    });
}

#[test]
fn handle_spawn_from_another_thread_wakes_a_loop_blocked_in_the_poller() {
    within(LIMIT, || {
        spindle::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let handle = spindle::Handle::current();
            let spawned_at = Arc::new(Mutex::new(None));
            let stamp = spawned_at.clone();
            let other = thread::spawn(move || {
                // By now the loop has nothing to do but wait in epoll_wait, with no
                // timer to bound the wait: only the notification can rouse it.
                thread::sleep(Duration::from_millis(100));
                *stamp.lock().unwrap() = Some(Instant::now());
                handle.spawn(async move { TcpStream::connect(addr).await.map(drop) })
            });
            // The only way out of this accept is the task the other thread spawns.
            listener.accept().await.unwrap();
            let latency = spawned_at
                .lock()
                .unwrap()
                .expect("accepted before the spawn")
                .elapsed();
            assert!(
                latency < Duration::from_secs(1),
                "the loop woke after {latency:?}"
            );
            other.join().unwrap().await.unwrap().unwrap();
        });
    });
}

#[test]
fn the_net_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<TcpListener>();
    send_sync::<TcpStream>();
    send_sync::<spindle::net::UdpSocket>();
    send_sync::<spindle::net::UnixListener>();
    send_sync::<spindle::net::UnixStream>();
    send_sync::<spindle::net::ReadHalf<'static, std::net::TcpStream>>();
    send_sync::<spindle::net::WriteHalf<'static, std::net::TcpStream>>();
    send_sync::<spindle::net::OwnedReadHalf<std::net::TcpStream>>();
    send_sync::<spindle::net::OwnedWriteHalf<std::os::unix::net::UnixStream>>();
}

/// The reactor learns of the peer's FIN by an edge that looks like data
/// (`polling` reports no `EPOLLRDHUP`): when data and FIN are both queued
/// before the read, a short read takes the data and must not mark the
/// socket "not ready", or the end of stream behind it is never seen.
#[test]
fn end_of_stream_right_behind_the_data_is_seen() {
    within(LIMIT, || {
        spindle::run(async {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let (mut peer, _) = listener.accept().unwrap();
            peer.write_all(b"last words").unwrap();
            drop(peer); // FIN right behind the data
                        // Let both arrive and their events be handled before the first read.
            spindle::sleep(Duration::from_millis(20)).await;
            let mut buf = [0; 64];
            let n = stream.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"last words", "a short read");
            let eof = spindle::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
            assert_eq!(eof.expect("the end of stream was lost").unwrap(), 0);
        });
    });
}
