//! Unix domain sockets: [`UnixListener`] and [`UnixStream`] (asyncio's
//! `start_unix_server` and `open_unix_connection`), the same shapes as TCP's
//! on the same machinery.
//!
//! A Unix stream socket is a byte stream between two processes of one
//! machine, addressed by a path in the file system instead of an IP address
//! and a port. To the reactor it is one more descriptor: readable,
//! writable, edge-triggered like any other. What differs is at the edges:
//!
//! - **Binding creates a file** (a socket inode) at the path, and it stays
//!   after the listener closes: binding the same path again fails with
//!   `AddrInUse` until someone removes it. As with std and tokio, spindle
//!   does not remove it for you; asyncio's `start_unix_server` removes a
//!   stale socket file before binding (its `cleanup_socket`).
//! - **Connecting completes at once** or fails at once on Linux: there is no
//!   handshake over a network. The one surprise: when the listener's queue
//!   of pending connections is full, a non-blocking connect fails with
//!   `WouldBlock` rather than waiting (a blocking one would wait for room);
//!   spindle returns that error as it is, as tokio does.
//! - **Addresses** are `std::os::unix::net::SocketAddr`: a path, or unnamed
//!   (the usual peer address of a connecting socket that never bound).

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use socket2::{Domain, SockAddr, Socket, Type};

use super::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::stream;
use crate::reactor::{Direction, Registration};

/// A Unix domain socket listening for connections at a path.
/// [`accept`](UnixListener::accept) takes `&self`, so several tasks may
/// accept on one listener at once.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
/// use spindle::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("spindle-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("listener.sock");
/// # let _ = std::fs::remove_file(&path);
/// spindle::run(async {
///     let listener = UnixListener::bind(&path).await?;
///     let mut client = UnixStream::connect(&path).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"hi").await?;
///     let mut buf = [0; 2];
///     server.read(&mut buf).await?;
///     assert_eq!(&buf, b"hi");
///     std::io::Result::Ok(())
/// })?;
/// std::fs::remove_dir_all(&dir)?;
/// # std::io::Result::Ok(())
/// ```
pub struct UnixListener {
    reg: Registration<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Creates a socket file at `path` and listens on it.
    ///
    /// # Examples
    ///
    /// See [`UnixListener`].
    ///
    /// # Errors
    ///
    /// `AddrInUse` when a file already exists at `path` (a socket left by
    /// an earlier listener included: remove it first), `NotFound` when its
    /// directory does not exist, `PermissionDenied`; an error for a path
    /// longer than the system allows (about 108 bytes on Linux).
    ///
    /// # Cancellation
    ///
    /// Binding never waits, so the future completes on its first poll; if
    /// it is dropped before, nothing was created.
    ///
    /// # Panics
    ///
    /// When polled outside of a spindle runtime.
    pub async fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let listener = std::os::unix::net::UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            reg: super::register(listener, super::waits::UNIX_LISTENER)?,
        })
    }

    /// Waits for the next connection and returns it with the peer's
    /// address (usually unnamed: a connecting socket rarely binds a path).
    ///
    /// Takes `&self`: any number of tasks may wait on one listener; each
    /// connection goes to one of them.
    ///
    /// # Examples
    ///
    /// See [`UnixListener`].
    ///
    /// # Errors
    ///
    /// Whatever `accept(2)` reports, returned at once: running out of file
    /// descriptors (`EMFILE`) included, as for
    /// [`TcpListener::accept`](super::TcpListener::accept).
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: dropping the future loses no connection; it waits in
    /// the kernel's queue for the next `accept`.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, peer) = self
            .reg
            .io(Direction::Read, |listener| listener.accept())
            .await?;
        stream.set_nonblocking(true)?;
        Ok((
            UnixStream {
                reg: super::register(stream, super::waits::UNIX_STREAM)?,
            },
            peer,
        ))
    }

    /// The address this listener is bound to: its path.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
    /// let dir = std::env::temp_dir().join(format!("spindle-doc-addr-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("l.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// spindle::run(async {
    ///     let listener = spindle::net::UnixListener::bind(&path).await?;
    ///     assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     std::io::Result::Ok(())
    /// })?;
    /// std::fs::remove_dir_all(&dir)?;
    /// # std::io::Result::Ok(())
    /// ```
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` reports (in practice, never).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.reg.get_ref().local_addr()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixListener")
            .field(self.reg.get_ref())
            .finish()
    }
}

/// A Unix domain stream connection: reads and writes as
/// [`TcpStream`](super::TcpStream)'s, `&mut self` per direction, with
/// [`split`](UnixStream::split) and [`into_split`](UnixStream::into_split)
/// to read and write from two tasks. Implements [`AsyncRead`] and
/// [`AsyncWrite`].
///
/// Dropping a `UnixStream` closes the connection.
///
/// # Examples
///
/// See [`UnixListener`].
pub struct UnixStream {
    reg: Registration<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the listener at `path`.
    ///
    /// # Examples
    ///
    /// See [`UnixListener`].
    ///
    /// # Errors
    ///
    /// `NotFound` when there is no socket file at `path`,
    /// `ConnectionRefused` when there is one but nobody listens on it (a
    /// stale file), `WouldBlock` when the listener's queue of pending
    /// connections is full (module doc).
    ///
    /// # Cancellation
    ///
    /// Dropping the future drops the socket, which abandons the attempt.
    ///
    /// # Panics
    ///
    /// When polled outside of a spindle runtime.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let address = SockAddr::unix(path)?;
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        match socket.connect(&address) {
            Ok(()) => {}
            // Not on Linux, but POSIX allows a connect that finishes later.
            Err(error) if error.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(error) => return Err(error),
        }
        let stream = UnixStream {
            reg: super::register(
                std::os::unix::net::UnixStream::from(std::os::fd::OwnedFd::from(socket)),
                super::waits::UNIX_STREAM,
            )?,
        };
        poll_fn(|cx| {
            stream
                .reg
                .poll_io(Direction::Write, cx, stream::connected, |_| false)
        })
        .await?;
        Ok(stream)
    }

    /// Reads what has arrived, up to `buf.len()` bytes, waiting until at
    /// least one byte has; `Ok(0)` is the end of the stream. As
    /// [`TcpStream::read`](super::TcpStream::read).
    ///
    /// # Examples
    ///
    /// See [`UnixListener`].
    ///
    /// # Errors
    ///
    /// `ConnectionReset` when the peer closed with unread data; whatever
    /// else `recv(2)` reports.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: dropping the future loses no data.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| stream::poll_read(&self.reg, cx, buf)).await
    }

    /// Writes some of `buf`, waiting until the send buffer has room;
    /// returns how many bytes it took.
    ///
    /// # Examples
    ///
    /// See [`UnixListener`].
    ///
    /// # Errors
    ///
    /// `BrokenPipe` once the peer has gone; whatever else `send(2)`
    /// reports.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: the bytes were either handed to the kernel, and the
    /// count returned in the same poll, or none were.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| stream::poll_write(&self.reg, cx, buf)).await
    }

    /// Writes all of `buf`, waiting for room as often as needed.
    ///
    /// # Examples
    ///
    /// See [`UnixListener`].
    ///
    /// # Errors
    ///
    /// As [`write`](UnixStream::write); `WriteZero` if the kernel takes no
    /// bytes without saying why.
    ///
    /// # Cancellation
    ///
    /// Not cancel-safe: when the future is dropped part of `buf` may have
    /// been sent already.
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        stream::write_all(&self.reg, buf).await
    }

    /// Shuts down the reading side, the writing side or both; with
    /// `Shutdown::Write` the peer reads the end of the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
    /// use std::net::Shutdown;
    /// use spindle::net::{UnixListener, UnixStream};
    ///
    /// let dir = std::env::temp_dir().join(format!("spindle-doc-shut-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("s.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// spindle::run(async {
    ///     let listener = UnixListener::bind(&path).await?;
    ///     let client = UnixStream::connect(&path).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.shutdown(Shutdown::Write)?;
    ///     assert_eq!(server.read(&mut [0; 8]).await?, 0);
    ///     std::io::Result::Ok(())
    /// })?;
    /// std::fs::remove_dir_all(&dir)?;
    /// # std::io::Result::Ok(())
    /// ```
    ///
    /// # Errors
    ///
    /// `NotConnected` when the connection is already gone.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.reg.get_ref().shutdown(how)
    }

    /// The address of the peer: the listener's path, seen from a client.
    ///
    /// # Examples
    ///
    /// See [`UnixListener`].
    ///
    /// # Errors
    ///
    /// `NotConnected` once the connection is gone.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.reg.get_ref().peer_addr()
    }

    /// The local address: usually unnamed for a client.
    ///
    /// # Examples
    ///
    /// See [`UnixListener`].
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` reports (in practice, never).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.reg.get_ref().local_addr()
    }

    /// Borrowed halves, as [`TcpStream::split`](super::TcpStream::split).
    ///
    /// # Examples
    ///
    /// See [`ReadHalf`].
    pub fn split(
        &mut self,
    ) -> (
        ReadHalf<'_, std::os::unix::net::UnixStream>,
        WriteHalf<'_, std::os::unix::net::UnixStream>,
    ) {
        split::split(&self.reg)
    }

    /// Owned halves, as
    /// [`TcpStream::into_split`](super::TcpStream::into_split).
    ///
    /// # Examples
    ///
    /// See [`OwnedReadHalf`].
    pub fn into_split(
        self,
    ) -> (
        OwnedReadHalf<std::os::unix::net::UnixStream>,
        OwnedWriteHalf<std::os::unix::net::UnixStream>,
    ) {
        split::into_split(self.reg)
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixStream")
            .field(self.reg.get_ref())
            .finish()
    }
}

/// The `futures-io` face of [`UnixStream::read`].
impl AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_read(&self.reg, cx, buf)
    }
}

/// The `futures-io` face of [`UnixStream::write`]; `poll_close` shuts down
/// the writing side.
impl AsyncWrite for UnixStream {
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
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write_vectored(&self.reg, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}
