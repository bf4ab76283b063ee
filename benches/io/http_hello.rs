//! An HTTP/1.1 server on spindle, written with hyper 1.x: code nobody here
//! wrote, running on spindle through the adapter in `hyper_rt.rs` (a
//! `futures-io` stream as hyper's `Read + Write`, and hyper's `Timer` on
//! spindle's `sleep`). One task per connection, all on one thread, as in
//! `07_echo_server`.
//!
//! ```text
//! cargo run --release -p spindle-benches --example http_hello          # 127.0.0.1:3000
//! cargo run --release -p spindle-benches --example http_hello -- 3001  # or another port
//! curl -i http://127.0.0.1:3000/                # Hello, World!
//! curl -i --data-binary 'abc' http://127.0.0.1:3000/echo   # abc
//! ```
//!
//! It lives in the benches package (`benches/Cargo.toml`), not in
//! `examples/`: hyper, http-body-util and bytes are a dozen crates, and an
//! example of `spindle-examples` must build spindle and nothing else
//! (`.ci/run` counts its crates). The benches package already pays for
//! tokio and smol's crates, and `benches/io/run.sh` loads this server with
//! `wrk` next to the same server on tokio and on smol. hyper is never a
//! dependency of `spindle-runtime` or `spindle-primitives`.
//!
//! A client that sends part of a request head and stalls is closed after
//! the header read timeout (hyper's, armed on [`hyper_rt::SpindleTimer`]);
//! it never blocks the other connections, since each has its own task.
//! `tests/http.rs` (in this package) checks both.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use spindle::net::TcpListener;

#[path = "hyper_rt.rs"]
pub mod hyper_rt;

use hyper_rt::{FuturesIo, SpindleTimer};

/// How long a client may take to send a request head; hyper's default.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

#[allow(dead_code)] // `tests/http.rs` includes this file for `serve` alone.
fn main() -> io::Result<()> {
    let port: u16 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().expect("usage: http_hello [PORT]"),
        None => 3000,
    };
    spindle::run(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!("http_hello listening on http://{}", listener.local_addr()?);
        serve(listener, HEADER_TIMEOUT).await
    })
}

/// Accepts forever; each connection is served by hyper in a task of its
/// own, and closed if a request head takes longer than `header_timeout`.
pub async fn serve(listener: TcpListener, header_timeout: Duration) -> io::Result<()> {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            // Out of file descriptors, most likely: the connection stays
            // queued, so accepting again at once would fail again at once.
            Err(error) => {
                eprintln!("accept failed: {error}");
                spindle::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Small responses go out at once rather than wait for an ACK.
        stream.set_nodelay(true)?;
        spindle::spawn(async move {
            let served = http1::Builder::new()
                .timer(SpindleTimer)
                .header_read_timeout(header_timeout)
                .serve_connection(FuturesIo::new(stream), service_fn(respond))
                .await;
            // A client that resets or times out ends only its own task.
            if let Err(error) = served {
                if !error.is_timeout() && !error.is_incomplete_message() {
                    eprintln!("connection: {error}");
                }
            }
        });
    }
}

/// `GET /` is the load test's hello world; `POST /echo` sends the request
/// body back, so a test can check bodies byte for byte.
async fn respond(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    match (request.method(), request.uri().path()) {
        (&Method::POST, "/echo") => {
            let body = request.into_body().collect().await?.to_bytes();
            Ok(Response::new(Full::new(body)))
        }
        (_, "/") => Ok(Response::new(Full::new(Bytes::from_static(
            b"Hello, World!",
        )))),
        _ => {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::NOT_FOUND;
            Ok(response)
        }
    }
}
