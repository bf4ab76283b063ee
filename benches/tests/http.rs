//! `io/http_hello.rs` (hyper 1.x on spindle) driven by a real client: a
//! plain `std::net::TcpStream` speaking HTTP/1.1 by hand, so nothing of
//! the client is async and nothing of it shares code with the server.
//!
//! Each test starts the server on its own thread and port (a spindle
//! runtime in `spindle::run`), and leaves it running: the process ends it.
//! Timing: lower bounds only (the header timeout fires no earlier than
//! set), plus a generous read timeout on the client so that a server that
//! never answers fails the test instead of hanging it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "../io/http_hello.rs"]
#[allow(dead_code)] // its `main` and constants
mod http_hello;

/// No test waits this long unless the server is broken.
const PATIENCE: Duration = Duration::from_secs(20);

/// Starts `http_hello::serve` on an ephemeral port; returns its address.
fn start_server(header_timeout: Duration) -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        spindle::run(async move {
            let listener = spindle::net::TcpListener::bind("127.0.0.1:0").await?;
            tx.send(listener.local_addr()?).unwrap();
            http_hello::serve(listener, header_timeout).await
        })
        .unwrap();
    });
    rx.recv_timeout(PATIENCE).expect("server did not start")
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// A response as read off the wire.
struct Response {
    status: u16,
    /// Header names lower-cased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request and reads one response: the head line by line, then
/// exactly `content-length` bytes of body (so the connection stays usable).
fn exchange(
    reader: &mut BufReader<TcpStream>,
    method: &str,
    path: &str,
    body: &[u8],
    close: bool,
) -> Response {
    let connection = if close { "close" } else { "keep-alive" };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: {connection}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let stream = reader.get_mut();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();

    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line
        .strip_prefix("HTTP/1.1 ")
        .unwrap_or_else(|| panic!("not a status line: {line:?}"))[..3]
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("header without colon");
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let length: usize = response
        .header("content-length")
        .expect("hyper sets content-length for a Full body")
        .parse()
        .unwrap();
    response.body = vec![0; length];
    reader.read_exact(&mut response.body).unwrap();
    response
}

/// A body no two sizes share a prefix of by accident.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Many requests on one connection, bodies from empty to 1 MiB echoed
/// byte for byte: catches an adapter that drops or reorders bytes across
/// reads (a 1 MiB body takes many `poll_read`s), that loses a read's
/// surplus, or that ends a kept-alive connection.
#[test]
fn keep_alive_echoes_every_body_on_one_connection() {
    let addr = start_server(http_hello::HEADER_TIMEOUT);
    let mut reader = BufReader::new(connect(addr));
    let sizes = [0, 1, 13, 4096, 8191, 8192, 8193, 100_000, 1 << 20, 7];
    for (round, &size) in sizes.iter().enumerate() {
        let body = pattern(size, round as u8);
        let response = exchange(&mut reader, "POST", "/echo", &body, false);
        assert_eq!(response.status, 200, "round {round}");
        assert!(
            response.body == body,
            "round {round}: body of {size} bytes differs"
        );

        let hello = exchange(&mut reader, "GET", "/", b"", false);
        assert_eq!(hello.status, 200);
        assert_eq!(hello.body, b"Hello, World!");
        assert_ne!(hello.header("connection"), Some("close"));
    }
    let missing = exchange(&mut reader, "GET", "/nowhere", b"", false);
    assert_eq!(missing.status, 404);
}

/// 1 000 connections one after another, each `Connection: close`: every
/// one is answered and then closed by the server (read to end of stream),
/// so a server that leaks a task or a descriptor per connection, or never
/// closes, fails here.
#[test]
fn thousand_short_lived_connections() {
    let addr = start_server(http_hello::HEADER_TIMEOUT);
    for i in 0..1000 {
        let mut reader = BufReader::new(connect(addr));
        let response = exchange(&mut reader, "GET", "/", b"", true);
        assert_eq!(response.status, 200, "connection {i}");
        assert_eq!(response.body, b"Hello, World!", "connection {i}");
        assert_eq!(response.header("connection"), Some("close"));
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty(), "bytes after the response: {rest:?}");
    }
}

/// Opens a connection and sends half a request head.
fn stall(addr: SocketAddr) -> TcpStream {
    let mut stalled = connect(addr);
    stalled
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nX-Half: ")
        .unwrap();
    stalled
}

/// A client stalled mid-head does not hold up anyone else: with a header
/// timeout far away (an hour), 100 other requests are all answered while
/// the stalled connection is still open. A server that served connections
/// one at a time, or an accept loop blocked on one, would hang here.
#[test]
fn stalled_client_does_not_block_others() {
    let addr = start_server(Duration::from_secs(3600));
    let stalled = stall(addr);
    for i in 0..100 {
        let mut reader = BufReader::new(connect(addr));
        let response = exchange(&mut reader, "GET", "/", b"", i % 2 == 0);
        assert_eq!(response.body, b"Hello, World!");
    }
    // Still open, nothing sent to it: a read finds no data and no EOF.
    stalled.set_nonblocking(true).unwrap();
    let mut byte = [0; 1];
    let read = (&stalled).read(&mut byte);
    assert_eq!(
        read.map_err(|e| e.kind()),
        Err(std::io::ErrorKind::WouldBlock),
        "the stalled connection was answered or closed"
    );
}

/// The header read timeout, armed on spindle's timer through
/// `SpindleTimer`, closes a stalled client: not before the timeout
/// (lower bound), and at all (the client's read would otherwise run into
/// `PATIENCE` and fail). Meanwhile others are served.
#[test]
fn header_timeout_closes_a_stalled_client() {
    let timeout = Duration::from_millis(300);
    let addr = start_server(timeout);
    let start = Instant::now();
    let mut stalled = stall(addr);
    let mut reader = BufReader::new(connect(addr));
    let response = exchange(&mut reader, "GET", "/", b"", false);
    assert_eq!(response.body, b"Hello, World!");

    // hyper may answer 408 before closing; what matters is the close.
    let mut rest = Vec::new();
    match stalled.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("stalled connection not closed: {e}"),
    }
    assert!(start.elapsed() >= timeout, "closed before the timeout");
    assert!(
        rest.is_empty() || rest.starts_with(b"HTTP/1.1 408"),
        "unexpected answer: {:?}",
        String::from_utf8_lossy(&rest)
    );
}
