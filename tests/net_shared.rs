//! Sockets shared between tasks: several acceptors on one listener, several
//! receivers and senders on one UDP socket, the read and write halves of
//! one stream in two tasks; waits cancelled in every state (before their
//! first poll, parked, woken but not yet run) with nothing lost; and the
//! peer's end of the connection seen by both halves.
//!
//! The reactor wakes every waiter of a direction on each event
//! (`reactor/source.rs`); a reactor that woke only one would hang
//! `a_woken_waiter_that_never_runs_again_does_not_hold_up_another`, and one
//! that lost a cancelled waiter's wake would hang the cancellation tests —
//! `within` turns a hang into a failure.

mod support;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use spindle::net::{TcpListener, TcpStream, UdpSocket};
use spindle::{spawn, Event};
use support::{within, LIMIT};

/// Long enough for the loop to go idle and block in the poller, so that an
/// event that is already there is handled before the sleep ends.
const SETTLE: Duration = Duration::from_millis(20);

/// Polls `future` once with the calling task's context.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *future).poll(cx))).await
}

#[test]
fn two_acceptors_on_one_listener_each_get_a_connection() {
    within(LIMIT, || {
        spindle::run(async {
            let listener = Rc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            let acceptors: Vec<_> = (0..2)
                .map(|_| {
                    let listener = listener.clone();
                    spawn(async move { listener.accept().await.unwrap().1 })
                })
                .collect();
            spindle::sleep(SETTLE).await; // both parked in accept
            let clients: Vec<_> = (0..2)
                .map(|_| std::net::TcpStream::connect(addr).unwrap())
                .collect();
            let mut accepted = BTreeSet::new();
            for acceptor in acceptors {
                accepted.insert(acceptor.await.unwrap());
            }
            let connected: BTreeSet<SocketAddr> =
                clients.iter().map(|c| c.local_addr().unwrap()).collect();
            assert_eq!(accepted, connected, "each connection accepted once");
        });
    });
}

#[test]
fn eight_acceptors_share_a_hundred_connections() {
    within(LIMIT, || {
        spindle::run(async {
            let listener = Rc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            let acceptors: Vec<_> = (0..8)
                .map(|_| {
                    let listener = listener.clone();
                    spawn(async move {
                        let mut peers = Vec::new();
                        // Each connection says whether it is the last one.
                        loop {
                            let (mut stream, peer) = listener.accept().await.unwrap();
                            let mut byte = [0];
                            stream.read_exact(&mut byte).await.unwrap();
                            peers.push(peer);
                            if byte[0] == 1 {
                                return peers;
                            }
                        }
                    })
                })
                .collect();
            let clients = spawn(async move {
                let mut locals = BTreeSet::new();
                for i in 0..100 {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    stream.write_all(&[0]).await.unwrap();
                    locals.insert(stream.local_addr().unwrap());
                    if i % 10 == 0 {
                        spindle::yield_now().await;
                    }
                }
                // One "last" connection per acceptor ends them all.
                for _ in 0..8 {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    stream.write_all(&[1]).await.unwrap();
                    locals.insert(stream.local_addr().unwrap());
                }
                locals
            });
            let mut accepted = Vec::new();
            for acceptor in acceptors {
                accepted.extend(acceptor.await.unwrap());
            }
            let connected = clients.await.unwrap();
            assert_eq!(accepted.len(), 108, "a connection accepted twice or lost");
            let accepted: BTreeSet<_> = accepted.into_iter().collect();
            assert_eq!(accepted, connected);
        });
    });
}

/// Task A parks in `accept`, then stops polling that future (it awaits an
/// event instead) without dropping it; task B parks after it. A connection
/// comes: B must get it, although A registered first and never runs its
/// accept again. Then A drops its future, and a second connection goes to B
/// too. Run in both registration orders.
#[test]
fn a_woken_waiter_that_never_runs_again_does_not_hold_up_another() {
    for idle_first in [true, false] {
        within(LIMIT, move || {
            spindle::run(async move {
                let listener = Rc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
                let addr = listener.local_addr().unwrap();
                let release = Event::new();
                let idle = {
                    let (listener, release) = (listener.clone(), release.clone());
                    async move {
                        let mut accept = Box::pin(listener.accept());
                        assert!(poll_once(&mut accept).await.is_pending());
                        release.wait().await; // woken by the connection, but not here
                        drop(accept);
                    }
                };
                let accepted = Rc::new(RefCell::new(Vec::new()));
                let busy = {
                    let (listener, accepted) = (listener.clone(), accepted.clone());
                    async move {
                        for _ in 0..2 {
                            let peer = listener.accept().await.unwrap().1;
                            accepted.borrow_mut().push(peer);
                        }
                    }
                };
                let (idle, busy) = if idle_first {
                    let idle = spawn(idle);
                    spindle::yield_now().await;
                    (idle, spawn(busy))
                } else {
                    let busy = spawn(busy);
                    spindle::yield_now().await;
                    (spawn(idle), busy)
                };
                spindle::sleep(SETTLE).await; // both parked
                let first = std::net::TcpStream::connect(addr).unwrap();
                spindle::sleep(SETTLE).await;
                assert_eq!(
                    *accepted.borrow(),
                    [first.local_addr().unwrap()],
                    "the connection waited for the task that sat on its woken accept"
                );
                release.set();
                idle.await.unwrap();
                let second = std::net::TcpStream::connect(addr).unwrap();
                busy.await.unwrap();
                assert_eq!(
                    *accepted.borrow(),
                    [first.local_addr().unwrap(), second.local_addr().unwrap()]
                );
            });
        });
    }
}

/// An `accept` future dropped before its first poll, while parked, or after
/// the connection's event woke it (but before it ran again) leaves the
/// connection to the next `accept`.
#[test]
fn a_cancelled_accept_loses_no_connection_at_any_await() {
    within(LIMIT, || {
        spindle::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // 0: dropped before its first poll; 1: dropped while parked;
            // 2: dropped after the connection's event woke it, before it ran again.
            for stage in 0..=2 {
                let mut accept = Box::pin(listener.accept());
                let mut client = None;
                if stage >= 1 {
                    assert!(poll_once(&mut accept).await.is_pending());
                }
                if stage == 2 {
                    client = Some(std::net::TcpStream::connect(addr).unwrap());
                    spindle::sleep(SETTLE).await; // the event wakes the parked accept
                }
                drop(accept);
                let client = client.unwrap_or_else(|| std::net::TcpStream::connect(addr).unwrap());
                let (_, peer) = listener.accept().await.unwrap();
                assert_eq!(peer, client.local_addr().unwrap(), "stage {stage}");
            }
        });
    });
}

/// Two tasks receive on one socket and two send from it: every datagram is
/// received exactly once, whichever receiver takes it.
#[test]
fn two_receivers_and_two_senders_on_one_udp_socket() {
    const EACH: u32 = 100;
    within(LIMIT, || {
        spindle::run(async {
            let shared = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let peer = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let peer_addr = peer.local_addr().unwrap();
            let shared_addr = shared.local_addr().unwrap();
            let receivers: Vec<_> = (0..2)
                .map(|_| {
                    let shared = shared.clone();
                    spawn(async move {
                        let mut got = Vec::new();
                        let mut buf = [0; 4];
                        loop {
                            let (n, from) = shared.recv_from(&mut buf).await.unwrap();
                            assert_eq!((n, from), (4, peer_addr));
                            let value = u32::from_be_bytes(buf);
                            if value == u32::MAX {
                                return got;
                            }
                            got.push(value);
                        }
                    })
                })
                .collect();
            spindle::sleep(SETTLE).await; // both receivers parked
                                          // The peer echoes everything the two senders send.
            let echo = {
                let peer = peer.clone();
                spawn(async move {
                    let mut buf = [0; 4];
                    for _ in 0..2 * EACH {
                        let (_, from) = peer.recv_from(&mut buf).await.unwrap();
                        peer.send_to(&buf, from).await.unwrap();
                        // Keep at most a few datagrams in flight: loopback drops
                        // datagrams only when a receive buffer is full.
                        spindle::yield_now().await;
                    }
                })
            };
            let senders: Vec<_> = (0..2)
                .map(|sender| {
                    let shared = shared.clone();
                    spawn(async move {
                        for i in 0..EACH {
                            let value = sender * EACH + i;
                            shared
                                .send_to(&value.to_be_bytes(), peer_addr)
                                .await
                                .unwrap();
                            spindle::yield_now().await;
                        }
                    })
                })
                .collect();
            for sender in senders {
                sender.await.unwrap();
            }
            echo.await.unwrap();
            spindle::sleep(SETTLE).await;
            for _ in 0..2 {
                peer.send_to(&u32::MAX.to_be_bytes(), shared_addr)
                    .await
                    .unwrap();
            }
            let mut received: Vec<u32> = Vec::new();
            for receiver in receivers {
                received.extend(receiver.await.unwrap());
            }
            received.sort_unstable();
            assert_eq!(received, (0..2 * EACH).collect::<Vec<_>>());
        });
    });
}

/// A `recv_from` dropped at each stage leaves its datagram to the next.
#[test]
fn a_cancelled_recv_from_loses_no_datagram_at_any_await() {
    within(LIMIT, || {
        spindle::run(async {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let addr = socket.local_addr().unwrap();
            let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut buf = [0; 8];
            // The stages of `a_cancelled_accept_loses_no_connection_at_any_await`.
            for stage in 0..=2u8 {
                {
                    let mut recv = Box::pin(socket.recv_from(&mut buf));
                    if stage >= 1 {
                        assert!(poll_once(&mut recv).await.is_pending());
                    }
                    if stage == 2 {
                        sender.send_to(&[stage], addr).unwrap();
                        spindle::sleep(SETTLE).await; // the event wakes the parked recv
                    }
                    drop(recv);
                }
                if stage < 2 {
                    sender.send_to(&[stage], addr).unwrap();
                }
                let (n, from) = socket.recv_from(&mut buf).await.unwrap();
                assert_eq!(
                    (&buf[..n], from),
                    (&[stage][..], sender.local_addr().unwrap())
                );
            }
        });
    });
}

#[test]
fn udp_connect_send_recv_and_peer_addr() {
    within(LIMIT, || {
        spindle::run(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let error = a.peer_addr().unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::NotConnected);
            assert!(a.send(b"nowhere").await.is_err(), "send before connect");
            a.connect(b.local_addr().unwrap()).await.unwrap();
            b.connect(a.local_addr().unwrap()).await.unwrap();
            assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
            // A stranger's datagram is filtered out by the connected socket.
            let stranger = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            stranger
                .send_to(b"stranger", b.local_addr().unwrap())
                .unwrap();
            a.send(b"friend").await.unwrap();
            let mut buf = [0; 16];
            let n = b.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"friend");
        });
    });
}

/// One echo server; the client's owned halves run in two tasks, the writer
/// sending 4 MiB while the reader reads the echo. With both directions
/// full at times, each half parks on its own direction; a mixed-up waker
/// would hang the test.
#[test]
fn owned_halves_in_two_tasks_stream_four_mebibytes_each_way() {
    const TOTAL: usize = 4 << 20;
    within(LIMIT, || {
        spindle::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let (mut reader, mut writer) = stream.into_split();
                // The server echoes with its own halves in one task, read then write.
                let mut buf = vec![0; 1000];
                loop {
                    let n = reader.read(&mut buf).await.unwrap();
                    if n == 0 {
                        writer.shutdown().unwrap();
                        return;
                    }
                    writer.write_all(&buf[..n]).await.unwrap();
                }
            });
            let (mut reader, mut writer) = TcpStream::connect(addr).await.unwrap().into_split();
            let data: Rc<Vec<u8>> = Rc::new((0..TOTAL).map(|i| (i * 31 + i / 977) as u8).collect());
            let sender = {
                let data = data.clone();
                spawn(async move {
                    for chunk in data.chunks(64 * 1024) {
                        writer.write_all(chunk).await.unwrap();
                    }
                    writer.shutdown().unwrap();
                })
            };
            let receiver = spawn(async move {
                let mut echoed = Vec::with_capacity(TOTAL);
                // Partial reads: a buffer of 7 bytes, far smaller than what arrives.
                let mut buf = [0; 7];
                loop {
                    let n = reader.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return echoed;
                    }
                    echoed.extend_from_slice(&buf[..n]);
                }
            });
            sender.await.unwrap();
            let echoed = receiver.await.unwrap();
            assert!(echoed == *data, "the echo differs");
        });
    });
}

/// The borrowed halves, in the two branches of one task's `join!`, through
/// the `futures-io` traits.
#[test]
fn borrowed_halves_in_a_join_through_futures_io() {
    within(LIMIT, || {
        spindle::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            let (mut reader, mut writer) = server.split();
            let client_side = async {
                client.write_all(b"hello").await.unwrap();
                client.close().await.unwrap(); // shutdown(Write): the server's read ends
                let mut words = Vec::new();
                client.read_to_end(&mut words).await.unwrap();
                words
            };
            let (heard, (), words) = spindle::join!(
                async {
                    let mut got = Vec::new();
                    reader.read_to_end(&mut got).await.unwrap();
                    got
                },
                async {
                    for word in ["one ", "two ", "three"] {
                        writer.write_all(word.as_bytes()).await.unwrap();
                    }
                    writer.close().await.unwrap();
                },
                client_side
            )
            .await;
            assert_eq!(heard, b"hello");
            assert_eq!(words, b"one two three");
        });
    });
}

/// The peer goes away while one half waits to read and the other waits to
/// write (the peer never reads, so the send buffer fills): both wake, the
/// reader with the end of stream or a reset, the writer with an error.
#[test]
fn the_peer_leaving_wakes_both_halves() {
    within(LIMIT, || {
        spindle::run(async {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let stream = TcpStream::connect(addr).await.unwrap();
            let (peer, _) = listener.accept().unwrap();
            let (mut reader, mut writer) = stream.into_split();
            let read = spawn(async move {
                let mut buf = [0; 16];
                match reader.read(&mut buf).await {
                    Ok(n) => assert_eq!(n, 0),
                    Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset),
                }
            });
            let write = spawn(async move {
                let chunk = vec![0; 64 * 1024];
                loop {
                    if let Err(error) = writer.write(&chunk).await {
                        return error;
                    }
                }
            });
            spindle::sleep(SETTLE).await; // the writer has filled the buffers
            assert!(!write.is_finished() && !read.is_finished());
            // Closing with unread data makes the kernel send a reset.
            thread::spawn(move || drop(peer)).join().unwrap();
            read.await.unwrap();
            let error = write.await.unwrap();
            assert!(
                matches!(
                    error.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                ),
                "{error}"
            );
        });
    });
}

/// `shutdown` of the write half: the peer reads the end of stream and
/// answers, and the read half still reads the answer.
#[test]
fn shutting_down_the_write_half_leaves_the_read_half_reading() {
    within(LIMIT, || {
        spindle::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut request = Vec::new();
                stream.read_to_end(&mut request).await.unwrap();
                stream
                    .write_all(&request.to_ascii_uppercase())
                    .await
                    .unwrap();
            });
            let (mut reader, mut writer) = TcpStream::connect(addr).await.unwrap().into_split();
            writer.write_all(b"quiet").await.unwrap();
            writer.shutdown().unwrap();
            let mut reply = Vec::new();
            reader.read_to_end(&mut reply).await.unwrap();
            assert_eq!(reply, b"QUIET");
            server.await.unwrap();
            // Writing after the shutdown is an error, not a panic.
            assert!(writer.write(b"more").await.is_err());
        });
    });
}
