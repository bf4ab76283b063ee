//! TCP: [`TcpListener`] (asyncio's `start_server`) and [`TcpStream`]
//! (asyncio's `open_connection`, its reader and writer in one value).
//!
//! Both are a `std::net` socket in non-blocking mode inside a
//! [`Registration`]; every operation is the pattern of the module doc of
//! `net`: try the syscall, and on `WouldBlock` park until the reactor says
//! the socket is ready.
//!
//! # Connecting without blocking
//!
//! `std::net::TcpStream::connect` blocks the thread until the three-way
//! handshake is over, which would freeze the whole loop for a round trip (or
//! for a minute, against a host that drops SYNs). The non-blocking way is
//! the one every event loop uses: create the socket with `socket2`, switch it
//! to non-blocking mode, and call `connect`, which answers `EINPROGRESS` at
//! once. The socket becomes *writable* when the handshake ends, either way;
//! then `SO_ERROR` (`take_error`) says whether it succeeded. asyncio's
//! `sock_connect` does exactly this (`_sock_connect_cb` reads `SO_ERROR`).

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use socket2::{Domain, Protocol, Socket, Type};

use super::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::{each_addr, resolve, stream};
use crate::reactor::{Direction, Registration};

/// A TCP socket listening for connections, like the server that asyncio's
/// `start_server` creates (without the callback: you `accept` in a loop and
/// spawn a task per connection). [`accept`](TcpListener::accept) takes
/// `&self`, so several tasks may accept on one listener at once.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
/// use spindle::net::{TcpListener, TcpStream};
///
/// spindle::run(async {
///     // Port 0: the operating system picks a free port.
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let client = spindle::spawn(async move { TcpStream::connect(addr).await });
///     let (_stream, peer) = listener.accept().await?;
///     assert_eq!(peer, client.await.unwrap()?.local_addr()?);
///     std::io::Result::Ok(())
/// })?;
/// # std::io::Result::Ok(())
/// ```
pub struct TcpListener {
    reg: Registration<std::net::TcpListener>,
}

impl TcpListener {
    /// Creates a socket bound to `addr` and listening on it.
    ///
    /// `addr` is anything [`ToSocketAddrs`]: `"127.0.0.1:7000"`,
    /// `("localhost", 7000)`, a `SocketAddr`, a slice of them. Each address
    /// is tried in order and the first that binds wins, as in std. Port 0
    /// asks the operating system for a free port; [`local_addr`] tells which.
    /// As with std on Unix, `SO_REUSEADDR` is set, so a port whose previous
    /// listener has just closed can be bound again at once.
    ///
    /// A host name is resolved with std's blocking resolver, on the loop's
    /// thread (see the module doc of `net`).
    ///
    /// [`local_addr`]: TcpListener::local_addr
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
    /// spindle::run(async {
    ///     let listener = spindle::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     assert_ne!(listener.local_addr()?.port(), 0);
    ///     std::io::Result::Ok(())
    /// })?;
    /// # std::io::Result::Ok(())
    /// ```
    ///
    /// # Errors
    ///
    /// `AddrInUse` when another socket already listens there,
    /// `AddrNotAvailable` for an address that is not this host's,
    /// `PermissionDenied` for a privileged port, `InvalidInput` when `addr`
    /// resolves to nothing; the error of the last address tried.
    ///
    /// # Cancellation
    ///
    /// Binding never waits, so the future completes on its first poll; if it
    /// is dropped before, nothing was created.
    ///
    /// # Panics
    ///
    /// When polled outside of a spindle runtime: the socket must be
    /// registered with the current runtime's reactor.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        // bind + listen never block, so std's own `bind` (which also tries each
        // address in turn) is all we need; only accept has to wait.
        let listener = std::net::TcpListener::bind(&resolve(addr)?[..])?;
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            reg: super::register(listener, super::waits::TCP_LISTENER)?,
        })
    }

    /// Waits for the next connection and returns it with the peer's address.
    ///
    /// Takes `&self`: any number of tasks may wait on one listener (share
    /// it with an `Rc` or a reference). Each connection goes to one of
    /// them; which one is not specified (every waiter is woken when a
    /// connection arrives, and the first to run takes it).
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
    /// use spindle::net::{TcpListener, TcpStream};
    ///
    /// spindle::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = listener.local_addr()?;
    ///     spindle::spawn(async move { TcpStream::connect(addr).await });
    ///     let (mut stream, _peer) = listener.accept().await?;
    ///     // The client task hung up without a word: end of stream.
    ///     assert_eq!(stream.read(&mut [0; 16]).await?, 0);
    ///     std::io::Result::Ok(())
    /// })?;
    /// # std::io::Result::Ok(())
    /// ```
    ///
    /// # Errors
    ///
    /// Whatever `accept(2)` reports, returned at once and never retried
    /// behind your back. The one to plan for is running out of file
    /// descriptors (`EMFILE`, "Too many open files"): the connection stays in
    /// the kernel's queue, so the listener is still ready and calling
    /// `accept` again at once would fail again at once — a busy loop. Wait a
    /// little (`sleep`) or close something first, as `07_echo_server` does.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: dropping the future loses no connection. `accept(2)`
    /// either took a connection, and then this future returned it in the
    /// same poll, or it did not, and the connection waits in the kernel's
    /// queue for the next `accept` — or for another task already waiting:
    /// the same event woke it too.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self
            .reg
            .io(Direction::Read, |listener| listener.accept())
            .await?;
        // std's accept leaves the new socket blocking; one ioctl makes it
        // non-blocking. (Linux's accept4(SOCK_NONBLOCK) would save that call; std
        // does not expose the flag.)
        Ok((TcpStream::from_connected(stream)?, peer))
    }

    /// The address this listener is bound to; with port 0, the port the
    /// operating system chose.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
    /// spindle::run(async {
    ///     let listener = spindle::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     assert!(listener.local_addr()?.ip().is_loopback());
    ///     std::io::Result::Ok(())
    /// })?;
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

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TcpListener")
            .field(self.reg.get_ref())
            .finish()
    }
}

/// A TCP connection: asyncio's `(reader, writer)` pair in one value.
///
/// Reading and writing take `&mut self`: one reading task and one writing
/// task at a time is all a byte stream can serve (two readers would each
/// get some of the bytes, in no useful order). To read in one task while
/// another writes, [`split`](TcpStream::split) it into borrowed halves or
/// [`into_split`](TcpStream::into_split) it into owned ones; the halves
/// need no lock between them. `TcpStream` and its halves implement
/// [`AsyncRead`] and [`AsyncWrite`].
///
/// Dropping a `TcpStream` closes the connection.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
/// use spindle::net::{TcpListener, TcpStream};
///
/// spindle::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     // An echo server for one connection, in its own task.
///     spindle::spawn(async move {
///         let (mut stream, _) = listener.accept().await?;
///         let mut buf = [0; 1024];
///         loop {
///             let n = stream.read(&mut buf).await?;
///             if n == 0 {
///                 return std::io::Result::Ok(());
///             }
///             stream.write_all(&buf[..n]).await?;
///         }
///     });
///     let mut stream = TcpStream::connect(addr).await?;
///     stream.write_all(b"ping").await?;
///     let mut reply = [0; 4];
///     let n = stream.read(&mut reply).await?;
///     assert_eq!(&reply[..n], &b"ping"[..n]);
///     std::io::Result::Ok(())
/// })?;
/// # std::io::Result::Ok(())
/// ```
pub struct TcpStream {
    reg: Registration<std::net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`, like asyncio's `open_connection`.
    ///
    /// Each address `addr` resolves to is tried in order, and the first
    /// connection that succeeds is returned, as std does. The connect itself
    /// never blocks the loop (module doc); resolving a host name does.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
    /// use spindle::net::{TcpListener, TcpStream};
    ///
    /// spindle::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     std::io::Result::Ok(())
    /// })?;
    /// # std::io::Result::Ok(())
    /// ```
    ///
    /// # Errors
    ///
    /// `ConnectionRefused` when nothing listens there, `TimedOut` when the
    /// peer never answers (after the kernel's own SYN retries, about two
    /// minutes on Linux — wrap the call in a `timeout` to give up sooner),
    /// `InvalidInput` when `addr` resolves to nothing; the error of the
    /// last address tried.
    ///
    /// # Cancellation
    ///
    /// Dropping the future drops the half-open socket, which abandons the
    /// attempt (the kernel answers the peer's reply with a reset).
    ///
    /// # Panics
    ///
    /// When polled outside of a spindle runtime.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(addr, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        match socket.connect(&addr.into()) {
            // Loopback can finish the handshake inside the call.
            Ok(()) => {}
            Err(error) if error.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(error) => return Err(error),
        }
        let stream = TcpStream {
            reg: super::register(std::net::TcpStream::from(socket), super::waits::TCP_STREAM)?,
        };
        // Writable means the handshake is over; `connected` tells how it went.
        poll_fn(|cx| {
            stream
                .reg
                .poll_io(Direction::Write, cx, stream::connected, |_| false)
        })
        .await?;
        Ok(stream)
    }

    /// Wraps a connected std stream: non-blocking mode, then registration.
    fn from_connected(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            reg: super::register(stream, super::waits::TCP_STREAM)?,
        })
    }

    /// Reads what has arrived, up to `buf.len()` bytes, waiting until at least
    /// one byte has (asyncio's `reader.read(n)`). `Ok(0)` means the peer
    /// closed its side: the end of the stream.
    ///
    /// # Examples
    ///
    /// See [`TcpStream`].
    ///
    /// # Errors
    ///
    /// `ConnectionReset` when the peer aborted the connection; whatever else
    /// `recv(2)` reports.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: a non-blocking `recv` either took bytes, and then this
    /// future returned them in the same poll, or took none; dropping the
    /// future loses no data.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| stream::poll_read(&self.reg, cx, buf)).await
    }

    /// Writes some of `buf`, waiting until the kernel's send buffer has
    /// room, and returns how many bytes it took (maybe fewer than
    /// `buf.len()`; [`write_all`](TcpStream::write_all) loops).
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
    /// use spindle::net::{TcpListener, TcpStream};
    ///
    /// spindle::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     // An empty send buffer takes a small write whole.
    ///     assert_eq!(stream.write(b"hello").await?, 5);
    ///     std::io::Result::Ok(())
    /// })?;
    /// # std::io::Result::Ok(())
    /// ```
    ///
    /// # Errors
    ///
    /// `BrokenPipe` or `ConnectionReset` once the peer has gone; whatever
    /// else `send(2)` reports. (std sends with `MSG_NOSIGNAL`, so a closed
    /// peer is an error here, never a `SIGPIPE`.)
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: the bytes were either all handed to the kernel, and the
    /// count returned in the same poll, or none were.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| stream::poll_write(&self.reg, cx, buf)).await
    }

    /// Writes all of `buf`, waiting for room as often as needed: asyncio's
    /// `writer.write(data)` followed by `await writer.drain()`, except that
    /// nothing is buffered in user space.
    ///
    /// # Examples
    ///
    /// See [`TcpStream`].
    ///
    /// # Errors
    ///
    /// As [`write`](TcpStream::write); `WriteZero` if the kernel takes no
    /// bytes without saying why.
    ///
    /// # Cancellation
    ///
    /// Not cancel-safe: when the future is dropped part of `buf` may have
    /// been sent already, and there is no way to know how much. Use
    /// [`write`](TcpStream::write) in a loop when that matters.
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        stream::write_all(&self.reg, buf).await
    }

    /// Shuts down the reading side, the writing side or both.
    /// `shutdown(Shutdown::Write)` is asyncio's `writer.write_eof()`: the
    /// peer reads `Ok(0)`, while this side can still read its reply.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
    /// use std::net::Shutdown;
    /// use spindle::net::{TcpListener, TcpStream};
    ///
    /// spindle::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server_side, _) = listener.accept().await?;
    ///     client.shutdown(Shutdown::Write)?;
    ///     assert_eq!(server_side.read(&mut [0; 8]).await?, 0);
    ///     std::io::Result::Ok(())
    /// })?;
    /// # std::io::Result::Ok(())
    /// ```
    ///
    /// # Errors
    ///
    /// `NotConnected` when the connection is already gone; whatever else
    /// `shutdown(2)` reports.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.reg.get_ref().shutdown(how)
    }

    /// The address of the peer.
    ///
    /// # Examples
    ///
    /// See [`TcpStream::connect`].
    ///
    /// # Errors
    ///
    /// `NotConnected` once the connection is gone.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.reg.get_ref().peer_addr()
    }

    /// The local address of this end of the connection.
    ///
    /// # Examples
    ///
    /// See [`TcpListener`].
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` reports (in practice, never).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.reg.get_ref().local_addr()
    }

    /// Turns Nagle's algorithm off (`true`) or on (`false`). With it on (the
    /// default), a small write that follows another whose bytes are not yet
    /// acknowledged is held back until they are, to save packets; a
    /// request-reply protocol that sends in several small writes then waits
    /// for a delayed ACK, up to 40 ms on Linux. asyncio turns it off for
    /// every TCP connection (`_set_nodelay`); spindle leaves the choice to
    /// you, as std and tokio do.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
    /// use spindle::net::{TcpListener, TcpStream};
    ///
    /// spindle::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     stream.set_nodelay(true)?;
    ///     std::io::Result::Ok(())
    /// })?;
    /// # std::io::Result::Ok(())
    /// ```
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports (in practice, never on a TCP socket).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.reg.get_ref().set_nodelay(nodelay)
    }

    /// Splits the stream into a read half and a write half that borrow it,
    /// so one task can read while another writes. The halves borrow the
    /// stream, so they live in concurrent branches of one task (a `join!`)
    /// or in tasks that end before the stream; use
    /// [`into_split`](TcpStream::into_split) to spawn them. No lock is
    /// involved; see [`ReadHalf`].
    ///
    /// # Examples
    ///
    /// See [`ReadHalf`].
    pub fn split(
        &mut self,
    ) -> (
        ReadHalf<'_, std::net::TcpStream>,
        WriteHalf<'_, std::net::TcpStream>,
    ) {
        split::split(&self.reg)
    }

    /// Splits the stream into owned halves, each of which can move into a
    /// task of its own. The connection closes when both are dropped.
    ///
    /// # Examples
    ///
    /// See [`OwnedReadHalf`].
    pub fn into_split(
        self,
    ) -> (
        OwnedReadHalf<std::net::TcpStream>,
        OwnedWriteHalf<std::net::TcpStream>,
    ) {
        split::into_split(self.reg)
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TcpStream")
            .field(self.reg.get_ref())
            .finish()
    }
}

/// The `futures-io` face of [`TcpStream::read`], so the ecosystem's
/// adapters (`AsyncReadExt::read_exact`, `BufReader`, `split`, ...) work.
impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_read(&self.reg, cx, buf)
    }
}

/// The `futures-io` face of [`TcpStream::write`]. Nothing is buffered in
/// user space, so `poll_flush` has nothing to do; `poll_close` shuts down
/// the writing side (the peer reads end of stream), as tokio's
/// `poll_shutdown` does. The socket itself closes when the stream drops.
impl AsyncWrite for TcpStream {
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
