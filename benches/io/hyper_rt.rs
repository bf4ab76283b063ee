//! What hyper needs from a runtime, and how little that is: a byte stream
//! it can read and write ([`hyper::rt::Read`], [`hyper::rt::Write`]) and a
//! clock that can sleep ([`hyper::rt::Timer`]). hyper 1.x ships neither for
//! any runtime; `hyper-util` has tokio's. This module is spindle's (and
//! smol's: both speak `futures-io`), in safe code.
//!
//! # The stream: `futures-io` → `hyper::rt`
//!
//! `futures_io::AsyncRead::poll_read` fills an initialised `&mut [u8]`;
//! hyper hands out a cursor over *uninitialised* memory
//! ([`hyper::rt::ReadBufCursor`]), because zeroing its 8 KiB read buffer
//! before every read would cost more than the read of a small request.
//! Turning one into the other takes either `unsafe` (treat the cursor as
//! initialised after zeroing it, then `advance`) or a copy. [`FuturesIo`]
//! copies: it keeps an initialised scratch buffer per connection, reads
//! into it, and `put_slice`s the bytes read into hyper's cursor. The copy
//! is of the bytes received (a few dozen for a `GET`), not of the buffer.
//!
//! Writes need no translation: `poll_write`, `poll_write_vectored` (hyper
//! sends head and body in one `writev` when the stream says it can),
//! `poll_flush`, and `poll_close` for hyper's `poll_shutdown`.
//!
//! # The timer: `spindle::time::Sleep` → `hyper::rt::Sleep`
//!
//! With a header read timeout set (that is how hyper closes a client that
//! sends half a request and stalls), hyper 1.12 asks for a `sleep_until`
//! each time it starts reading a request head, polls it (which arms it on
//! spindle's wheel) whenever the head has not fully arrived, and drops it
//! once the head is parsed: one boxed timer per request, so a keep-alive
//! load exercises the timer too. Its `Sleep` must be
//! `Send + Sync + Future<Output = ()>`; spindle's [`spindle::time::Sleep`]
//! is all three, so it is wrapped as is. `reset`, for a timer hyper keeps,
//! moves the deadline of that same timer in place.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};

/// Bytes read per `poll_read`, at most: hyper's first read buffer is 8 KiB.
const SCRATCH: usize = 8 * 1024;

/// A `futures-io` stream (spindle's or async-io's `TcpStream`) as hyper's
/// `Read + Write`.
pub struct FuturesIo<T> {
    inner: T,
    /// Initialised once, so `poll_read` can lend it to `AsyncRead`.
    scratch: Box<[u8]>,
}

impl<T> FuturesIo<T> {
    /// Wraps `inner`; allocates its scratch buffer.
    pub fn new(inner: T) -> Self {
        FuturesIo {
            inner,
            scratch: vec![0; SCRATCH].into_boxed_slice(),
        }
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for FuturesIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Never read more than the cursor can take: what is read must be
        // handed over now, there is nowhere to keep a surplus.
        let room = buf.remaining().min(this.scratch.len());
        let scratch = &mut this.scratch[..room];
        match Pin::new(&mut this.inner).poll_read(cx, scratch) {
            Poll::Ready(Ok(n)) => {
                // n == 0 (end of stream) puts nothing: hyper reads that as EOF.
                buf.put_slice(&scratch[..n]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for FuturesIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    /// Both spindle's and async-io's `TcpStream` write with `writev`, so
    /// hyper may hand over head and body together.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

/// hyper's [`Timer`](hyper::rt::Timer) on spindle's timer wheel. Use it
/// inside a spindle runtime only (spindle's `Sleep` panics elsewhere).
#[derive(Clone, Copy, Debug, Default)]
pub struct SpindleTimer;

/// spindle's `Sleep` resolves to `()` already; hyper's `Sleep` is then a
/// marker trait, implemented here for the wrapper (the trait is foreign
/// and so is the type, so it cannot be implemented on `Sleep` itself).
struct SpindleSleep(spindle::time::Sleep);

impl Future for SpindleSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().0).poll(cx)
    }
}

impl hyper::rt::Sleep for SpindleSleep {}

impl hyper::rt::Timer for SpindleTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(SpindleSleep(spindle::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(SpindleSleep(spindle::time::sleep_until(deadline)))
    }

    /// Moves the deadline of the timer hyper already holds (no new box, no
    /// new wheel entry) when it is one of ours; otherwise replaces it.
    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<SpindleSleep>() {
            Some(ours) => Pin::new(&mut ours.get_mut().0).reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
