//! The servers `run.sh` loads, one binary for the three runtimes so that
//! they differ in the runtime alone: the same hyper service and adapter
//! strategy for HTTP, the same 4 KiB read-then-write loop for echo.
//!
//! ```text
//! cargo run --release -p spindle-benches --example io_server -- RUNTIME KIND PORT
//!   RUNTIME: spindle | tokio | smol      KIND: http | echo
//! ```
//!
//! - spindle: `http` is `http_hello.rs`'s `serve` itself (the example is
//!   what is measured); `echo` is `07_echo_server`'s loop.
//! - tokio: a `current_thread` runtime with a `LocalSet`, tasks by
//!   `spawn_local`; for hyper, [`TokioIo`] below and a `Timer` on
//!   `tokio::time::sleep`.
//! - smol: `async-executor`'s `LocalExecutor` driven by `async_io::block_on`,
//!   sockets `Async<TcpStream>`; for hyper, the same [`FuturesIo`] adapter
//!   as spindle (async-io speaks `futures-io` too) and a `Timer` on
//!   `async_io::Timer`.
//!
//! Every HTTP server sets the same 30 s header read timeout, so each makes
//! one timer per request (and arms it when a head has not fully arrived),
//! as a real server does. `TokioIo`
//! reads through a scratch buffer and copies, as `FuturesIo` does
//! (hyper-util's `TokioIo` reads into hyper's buffer directly with
//! `unsafe`): the comparison is of runtimes, not of adapters.

use std::future::Future;
use std::io;
use std::net::TcpListener as StdListener;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

#[path = "http_hello.rs"]
#[allow(dead_code)] // its `main`
mod http_hello;

use http_hello::hyper_rt::FuturesIo;

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [runtime, kind, port] = &args[..] else {
        panic!("usage: io_server spindle|tokio|smol http|echo PORT");
    };
    let port: u16 = port.parse().expect("PORT");
    let addr = ("127.0.0.1", port);
    match (runtime.as_str(), kind.as_str()) {
        ("spindle", "http") => spindle::run(async move {
            let listener = spindle::net::TcpListener::bind(addr).await?;
            http_hello::serve(listener, http_hello::HEADER_TIMEOUT).await
        }),
        ("spindle", "echo") => {
            spindle::run(
                async move { spindle_echo(spindle::net::TcpListener::bind(addr).await?).await },
            )
        }
        ("tokio", kind) => {
            let listener = StdListener::bind(addr)?;
            listener.set_nonblocking(true)?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, tokio_serve(listener, kind == "http"))
        }
        ("smol", kind) => {
            let listener = async_io::Async::new(StdListener::bind(addr)?)?;
            let ex = Rc::new(async_executor::LocalExecutor::new());
            async_io::block_on(ex.run(smol_serve(ex.clone(), listener, kind == "http")))
        }
        _ => panic!("usage: io_server spindle|tokio|smol http|echo PORT"),
    }
}

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

// ---- spindle ----

async fn spindle_echo(listener: spindle::net::TcpListener) -> io::Result<()> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        spindle::spawn(async move {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = stream.read(&mut buf).await {
                if stream.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
    }
}

// ---- tokio ----

async fn tokio_serve(listener: StdListener, http: bool) -> io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::from_std(listener)?;
    loop {
        let (mut stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        if http {
            tokio::task::spawn_local(async move {
                let _ = http1::Builder::new()
                    .timer(TokioTimer)
                    .header_read_timeout(http_hello::HEADER_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service_fn(hello))
                    .await;
            });
        } else {
            tokio::task::spawn_local(async move {
                let mut buf = [0; 4096];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    }
}

/// A tokio stream as hyper's `Read + Write`, by the same scratch-and-copy
/// strategy as `FuturesIo`.
struct TokioIo {
    inner: tokio::net::TcpStream,
    scratch: Box<[u8]>,
}

impl TokioIo {
    fn new(inner: tokio::net::TcpStream) -> Self {
        TokioIo {
            inner,
            scratch: vec![0; 8 * 1024].into_boxed_slice(),
        }
    }
}

impl hyper::rt::Read for TokioIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let room = buf.remaining().min(this.scratch.len());
        let mut read_buf = tokio::io::ReadBuf::new(&mut this.scratch[..room]);
        match tokio::io::AsyncRead::poll_read(Pin::new(&mut this.inner), cx, &mut read_buf) {
            Poll::Ready(Ok(())) => {
                buf.put_slice(read_buf.filled());
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl hyper::rt::Write for TokioIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write(Pin::new(&mut self.get_mut().inner), cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write_vectored(Pin::new(&mut self.get_mut().inner), cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_flush(Pin::new(&mut self.get_mut().inner), cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut self.get_mut().inner), cx)
    }
}

#[derive(Clone, Copy)]
struct TokioTimer;

/// `tokio::time::Sleep` is `!Unpin`; boxed and pinned once by hyper.
struct TokioSleep(Pin<Box<tokio::time::Sleep>>);

impl Future for TokioSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().0.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for TokioSleep {}

impl hyper::rt::Timer for TokioTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(TokioSleep(Box::pin(tokio::time::sleep(duration))))
    }
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(TokioSleep(Box::pin(tokio::time::sleep_until(
            deadline.into(),
        ))))
    }
    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<TokioSleep>() {
            Some(ours) => ours.get_mut().0.as_mut().reset(new_deadline.into()),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

// ---- smol ----

async fn smol_serve(
    ex: Rc<async_executor::LocalExecutor<'static>>,
    listener: async_io::Async<StdListener>,
    http: bool,
) -> io::Result<()> {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    loop {
        let (mut stream, _) = listener.accept().await?;
        stream.get_ref().set_nodelay(true)?;
        if http {
            ex.spawn(async move {
                let _ = http1::Builder::new()
                    .timer(SmolTimer)
                    .header_read_timeout(http_hello::HEADER_TIMEOUT)
                    .serve_connection(FuturesIo::new(stream), service_fn(hello))
                    .await;
            })
            .detach();
        } else {
            ex.spawn(async move {
                let mut buf = [0; 4096];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            })
            .detach();
        }
    }
}

#[derive(Clone, Copy)]
struct SmolTimer;

struct SmolSleep(async_io::Timer);

impl Future for SmolSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().0).poll(cx).map(|_| ())
    }
}

impl hyper::rt::Sleep for SmolSleep {}

impl hyper::rt::Timer for SmolTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(SmolSleep(async_io::Timer::after(duration)))
    }
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(SmolSleep(async_io::Timer::at(deadline)))
    }
    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<SmolSleep>() {
            Some(ours) => ours.get_mut().0.set_at(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
