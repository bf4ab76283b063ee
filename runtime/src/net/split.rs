//! A stream split in two: a read half and a write half that two tasks can
//! use at once, borrowed ([`ReadHalf`], [`WriteHalf`], from
//! `TcpStream::split`) or owned ([`OwnedReadHalf`], [`OwnedWriteHalf`], from
//! `into_split`, to move into two spawned tasks).
//!
//! # Why no lock is needed
//!
//! A generic splitter such as `futures::io::split` must assume that reading
//! and writing need the whole stream, so it puts the stream behind a lock
//! (a `BiLock`) that the halves take turns holding. A socket needs no such
//! thing: the kernel accepts a `recv` and a `send` on one descriptor at the
//! same time, and the reactor keeps each direction's readiness and waiter
//! apart (`reactor/source.rs`). So a half is just a reference to the
//! stream's registration, limited to one direction: the read half only
//! reads and only ever waits on `Read`, the write half only on `Write`.
//! Each direction's `poll_*` slot holds one waker, and there is one half per
//! direction, so neither half can displace the other's.
//!
//! The halves are generic over `S`, the std socket inside the stream:
//! `std::net::TcpStream` for a [`TcpStream`](super::TcpStream)'s halves,
//! `std::os::unix::net::UnixStream` for a
//! [`UnixStream`](super::UnixStream)'s.
//!
//! # Closing
//!
//! The socket closes when the stream is gone: for borrowed halves, when
//! the stream is dropped; for owned halves, when both halves are.
//! Dropping the write half alone does not tell the peer anything; call
//! [`OwnedWriteHalf::shutdown`] (or `AsyncWriteExt::close`) to send the end
//! of stream while the read half goes on reading.

use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::stream;
use crate::reactor::Registration;

/// The read half of a stream borrowed by `split`: reads while the
/// [`WriteHalf`] writes, from another task of the same runtime.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
/// use spindle::net::{TcpListener, TcpStream};
///
/// spindle::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     // The server echoes: it reads with one half and writes with the other.
///     let (mut reader, mut writer) = server.split();
///     client.write_all(b"hello").await?;
///     let mut buf = [0; 5];
///     let n = reader.read(&mut buf).await?;
///     writer.write_all(&buf[..n]).await?;
///     let n = client.read(&mut buf).await?;
///     assert_eq!(&buf[..n], b"hello");
///     std::io::Result::Ok(())
/// })?;
/// # std::io::Result::Ok(())
/// ```
pub struct ReadHalf<'a, S: AsFd> {
    reg: &'a Registration<S>,
}

/// The write half of a stream borrowed by `split` (see [`ReadHalf`]).
pub struct WriteHalf<'a, S: AsFd> {
    reg: &'a Registration<S>,
}

/// The read half of a stream taken apart by `into_split`: it owns its
/// share of the socket, so it can move into a task of its own.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
/// use spindle::net::{TcpListener, TcpStream};
///
/// spindle::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     let (mut reader, mut writer) = client.into_split();
///     // One task writes and then sends the end of stream...
///     let sender = spindle::spawn(async move {
///         writer.write_all(b"one, two").await?;
///         writer.shutdown()
///     });
///     // ...the server echoes everything back and closes...
///     let mut buf = [0; 64];
///     loop {
///         let n = server.read(&mut buf).await?;
///         if n == 0 { break; }
///         server.write_all(&buf[..n]).await?;
///     }
///     drop(server);
///     // ...and another task reads the echo to its end.
///     let receiver = spindle::spawn(async move {
///         let mut echoed = Vec::new();
///         let mut buf = [0; 64];
///         loop {
///             let n = reader.read(&mut buf).await?;
///             if n == 0 { return std::io::Result::Ok(echoed); }
///             echoed.extend_from_slice(&buf[..n]);
///         }
///     });
///     sender.await.unwrap()?;
///     assert_eq!(receiver.await.unwrap()?, b"one, two");
///     std::io::Result::Ok(())
/// })?;
/// # std::io::Result::Ok(())
/// ```
pub struct OwnedReadHalf<S: AsFd> {
    reg: Arc<Registration<S>>,
}

/// The write half of a stream taken apart by `into_split` (see
/// [`OwnedReadHalf`]).
pub struct OwnedWriteHalf<S: AsFd> {
    reg: Arc<Registration<S>>,
}

pub(super) fn split<S: AsFd>(reg: &Registration<S>) -> (ReadHalf<'_, S>, WriteHalf<'_, S>) {
    (ReadHalf { reg }, WriteHalf { reg })
}

pub(super) fn into_split<S: AsFd>(reg: Registration<S>) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let reg = Arc::new(reg);
    (OwnedReadHalf { reg: reg.clone() }, OwnedWriteHalf { reg })
}

impl<S> ReadHalf<'_, S>
where
    S: AsFd,
    for<'b> &'b S: Read,
{
    /// Reads what has arrived, up to `buf.len()` bytes, waiting until at
    /// least one byte has; `Ok(0)` is the end of the stream. As the stream's
    /// own `read`.
    ///
    /// # Examples
    ///
    /// See [`ReadHalf`].
    ///
    /// # Errors
    ///
    /// `ConnectionReset` when the peer aborted the connection; whatever else
    /// `recv(2)` reports.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: dropping the future loses no data.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| stream::poll_read(self.reg, cx, buf)).await
    }
}

impl<S> WriteHalf<'_, S>
where
    S: AsFd,
    for<'b> &'b S: Write,
{
    /// Writes some of `buf`, waiting until the send buffer has room; returns
    /// how many bytes it took. As the stream's own `write`.
    ///
    /// # Examples
    ///
    /// See [`ReadHalf`].
    ///
    /// # Errors
    ///
    /// `BrokenPipe` or `ConnectionReset` once the peer has gone; whatever
    /// else `send(2)` reports.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: the bytes were either handed to the kernel, and the count
    /// returned in the same poll, or none were.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| stream::poll_write(self.reg, cx, buf)).await
    }

    /// Writes all of `buf`, waiting for room as often as needed.
    ///
    /// # Examples
    ///
    /// See [`ReadHalf`].
    ///
    /// # Errors
    ///
    /// As [`write`](WriteHalf::write); `WriteZero` if the kernel takes no
    /// bytes without saying why.
    ///
    /// # Cancellation
    ///
    /// Not cancel-safe: when the future is dropped part of `buf` may have
    /// been sent already.
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        stream::write_all(self.reg, buf).await
    }

    /// Shuts down the writing direction: the peer reads the end of the
    /// stream, while the read half can still read.
    ///
    /// # Examples
    ///
    /// See [`OwnedReadHalf`].
    ///
    /// # Errors
    ///
    /// `NotConnected` when the connection is already gone.
    pub fn shutdown(&self) -> io::Result<()> {
        stream::shutdown(self.reg.get_ref(), Shutdown::Write)
    }
}

impl<S: AsFd> OwnedReadHalf<S> {
    fn half(&self) -> ReadHalf<'_, S> {
        ReadHalf { reg: &self.reg }
    }
}

impl<S> OwnedReadHalf<S>
where
    S: AsFd,
    for<'b> &'b S: Read,
{
    /// As [`ReadHalf::read`].
    ///
    /// # Examples
    ///
    /// See [`OwnedReadHalf`].
    ///
    /// # Errors
    ///
    /// As [`ReadHalf::read`].
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: dropping the future loses no data.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.half().read(buf).await
    }
}

impl<S: AsFd> OwnedWriteHalf<S> {
    fn half(&self) -> WriteHalf<'_, S> {
        WriteHalf { reg: &self.reg }
    }
}

impl<S> OwnedWriteHalf<S>
where
    S: AsFd,
    for<'b> &'b S: Write,
{
    /// As [`WriteHalf::write`].
    ///
    /// # Examples
    ///
    /// See [`OwnedReadHalf`].
    ///
    /// # Errors
    ///
    /// As [`WriteHalf::write`].
    ///
    /// # Cancellation
    ///
    /// Cancel-safe, as [`WriteHalf::write`].
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.half().write(buf).await
    }

    /// As [`WriteHalf::write_all`].
    ///
    /// # Examples
    ///
    /// See [`OwnedReadHalf`].
    ///
    /// # Errors
    ///
    /// As [`WriteHalf::write_all`].
    ///
    /// # Cancellation
    ///
    /// Not cancel-safe, as [`WriteHalf::write_all`].
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.half().write_all(buf).await
    }

    /// As [`WriteHalf::shutdown`]: the peer reads the end of the stream.
    ///
    /// # Examples
    ///
    /// See [`OwnedReadHalf`].
    ///
    /// # Errors
    ///
    /// `NotConnected` when the connection is already gone.
    pub fn shutdown(&self) -> io::Result<()> {
        self.half().shutdown()
    }
}

/// The `futures-io` face of [`ReadHalf::read`].
impl<S> AsyncRead for ReadHalf<'_, S>
where
    S: AsFd,
    for<'b> &'b S: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_read(self.reg, cx, buf)
    }
}

/// The `futures-io` face of [`OwnedReadHalf::read`].
impl<S> AsyncRead for OwnedReadHalf<S>
where
    S: AsFd,
    for<'b> &'b S: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_read(&self.reg, cx, buf)
    }
}

/// The `futures-io` face of [`WriteHalf::write`]; `poll_close` is
/// [`WriteHalf::shutdown`].
impl<S> AsyncWrite for WriteHalf<'_, S>
where
    S: AsFd,
    for<'b> &'b S: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write(self.reg, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write_vectored(self.reg, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown())
    }
}

/// The `futures-io` face of [`OwnedWriteHalf::write`]; `poll_close` is
/// [`OwnedWriteHalf::shutdown`].
impl<S> AsyncWrite for OwnedWriteHalf<S>
where
    S: AsFd,
    for<'b> &'b S: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write(&self.reg, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write_vectored(&self.reg, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown())
    }
}

impl<S: AsFd + fmt::Debug> fmt::Debug for ReadHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadHalf").field(self.reg.get_ref()).finish()
    }
}

impl<S: AsFd + fmt::Debug> fmt::Debug for WriteHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WriteHalf")
            .field(self.reg.get_ref())
            .finish()
    }
}

impl<S: AsFd + fmt::Debug> fmt::Debug for OwnedReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf")
            .field(self.reg.get_ref())
            .finish()
    }
}

impl<S: AsFd + fmt::Debug> fmt::Debug for OwnedWriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf")
            .field(self.reg.get_ref())
            .finish()
    }
}
