//! Network failures come back as `io::Error`s with the right kind, never as
//! panics or hangs.

mod support;

use std::io::{ErrorKind, Read};
use std::net::Shutdown;
use std::thread;

use spindle::net::{TcpListener, TcpStream, UdpSocket};
use support::{within, LIMIT};

/// A local address that was free a moment ago and that nobody listens on
/// now: the listener that found it is dropped at once.
fn closed_port() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    within(LIMIT, || {
        let closed = closed_port();
        spindle::run(async move {
            let error = TcpStream::connect(closed).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}");
        });
    });
}

#[test]
fn binding_a_port_in_use_is_addr_in_use() {
    within(LIMIT, || {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let udp_taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let udp_addr = udp_taken.local_addr().unwrap();
        spindle::run(async move {
            let error = TcpListener::bind(addr).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::AddrInUse, "{error}");
            let error = UdpSocket::bind(udp_addr).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::AddrInUse, "{error}");
        });
        drop((taken, udp_taken));
    });
}

#[test]
fn addresses_that_resolve_to_nothing_are_errors() {
    within(LIMIT, || {
        spindle::run(async {
            // No port: rejected by the parser, before any DNS.
            let error = TcpStream::connect("127.0.0.1").await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
            let error = TcpListener::bind("no port here").await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
            // An empty list of addresses.
            let none: &[std::net::SocketAddr] = &[];
            let error = TcpStream::connect(none).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let error = socket.send_to(b"x", none).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        });
    });
}

#[test]
fn connect_tries_each_address_in_order() {
    within(LIMIT, || {
        let closed = closed_port();
        spindle::run(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let open = listener.local_addr().unwrap();
            // The first address refuses; the second is taken.
            let stream = TcpStream::connect(&[closed, open][..]).await.unwrap();
            assert_eq!(stream.peer_addr().unwrap(), open);
            listener.accept().await.unwrap();
        });
    });
}

#[test]
fn a_peer_reset_is_connection_reset() {
    within(LIMIT, || {
        spindle::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = thread::spawn(move || {
                let stream = std::net::TcpStream::connect(addr).unwrap();
                // Wait until the server's bytes have arrived, and leave them unread:
                // closing a socket with unread data makes the kernel send a reset
                // (RST) instead of an orderly end of stream (FIN).
                stream.peek(&mut [0; 1]).unwrap();
                drop(stream);
            });
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.write_all(b"you will not read this").await.unwrap();
            client.join().unwrap();
            // The read waits for the reset if it has not arrived yet, then fails.
            let error = stream.read(&mut [0; 16]).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error}");
            // Writing to the dead connection is an error too, not a SIGPIPE.
            let error = stream.write_all(b"anyone?").await.unwrap_err();
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

#[test]
fn writing_after_the_peer_left_is_an_error_not_a_signal() {
    within(LIMIT, || {
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let peer = thread::spawn(move || {
            let (mut stream, _) = server.accept().unwrap();
            let mut buf = [0; 8];
            let n = stream.read(&mut buf).unwrap();
            stream.shutdown(Shutdown::Both).unwrap();
            n
        });
        spindle::run(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(b"hi").await.unwrap();
            assert_eq!(stream.read(&mut [0; 8]).await.unwrap(), 0);
            // The peer has closed; keep writing until the kernel says so.
            let chunk = [0u8; 64 * 1024];
            let error = loop {
                if let Err(error) = stream.write(&chunk).await {
                    break error;
                }
            };
            assert!(
                matches!(
                    error.kind(),
                    ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
                ),
                "{error}"
            );
        });
        assert_eq!(peer.join().unwrap(), 2);
    });
}

#[test]
fn bind_outside_a_runtime_panics_with_the_usual_message() {
    let result = std::panic::catch_unwind(|| {
        futures_executor::block_on(TcpListener::bind("127.0.0.1:0")).map(drop)
    });
    let payload = result.unwrap_err();
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(
        message.contains("outside of a spindle runtime"),
        "{message}"
    );
}
