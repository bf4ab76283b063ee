//! UDP: [`UdpSocket`], datagrams on the reactor (asyncio's
//! `create_datagram_endpoint`, without the protocol callbacks).
//!
//! A datagram socket has no connection and no stream: each `send_to` is one
//! datagram to one address, each `recv_from` takes exactly one datagram
//! whole (the part that does not fit in the buffer is discarded by the
//! kernel). Readiness works as for TCP: readable when a datagram is queued,
//! writable when the send buffer has room — which, for UDP, is nearly
//! always, so `send_to` almost never waits.
//!
//! Every operation takes `&self`, as in tokio: a datagram is delivered
//! whole to exactly one `recv_from`, so several tasks receiving on one
//! socket share the datagrams out between them, and several senders never
//! interleave. Each waiting task has its own entry in the reactor's list
//! for its direction (`reactor/source.rs`).

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use super::{each_addr, resolve};
use crate::reactor::{Direction, Registration};

/// A UDP socket.
///
/// Every method takes `&self`: share the socket (an `Rc`, a reference) and
/// any number of tasks may send and receive on it at once.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
/// use spindle::net::UdpSocket;
///
/// spindle::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"hello", b.local_addr()?).await?;
///     let mut buf = [0; 64];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"hello"[..], a.local_addr()?));
///     std::io::Result::Ok(())
/// })?;
/// # std::io::Result::Ok(())
/// ```
pub struct UdpSocket {
    reg: Registration<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Creates a socket bound to `addr` (each address tried in order, as in
    /// std; port 0 picks a free port).
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    ///
    /// # Errors
    ///
    /// `AddrInUse` when another socket is bound there, `AddrNotAvailable`
    /// for an address that is not this host's, `InvalidInput` when `addr`
    /// resolves to nothing.
    ///
    /// # Cancellation
    ///
    /// Binding never waits: the future completes on its first poll.
    ///
    /// # Panics
    ///
    /// When polled outside of a spindle runtime.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let socket = std::net::UdpSocket::bind(&resolve(addr)?[..])?;
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            reg: super::register(socket, super::waits::UDP_SOCKET)?,
        })
    }

    /// Sends `buf` as one datagram to `target`, waiting if the send buffer is
    /// full; returns the number of bytes sent (all of them, for UDP).
    /// `target` resolves before anything is sent, and only its first address
    /// is used, as in std.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `target` resolves to nothing; an error for a
    /// datagram larger than the protocol allows (about 64 KiB); whatever
    /// else `sendto(2)` reports.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: the datagram was either handed to the kernel whole in
    /// the poll that returned, or not at all.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = match resolve(target)?.first() {
            Some(&target) => target,
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "no addresses to send data to",
                ))
            }
        };
        self.reg
            .io(Direction::Write, |socket| socket.send_to(buf, target))
            .await
    }

    /// Waits for a datagram and copies it into `buf`; returns its length and
    /// its sender. A datagram longer than `buf` is cut to fit.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    ///
    /// # Errors
    ///
    /// Whatever `recvfrom(2)` reports.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe: a non-blocking `recvfrom` either took a datagram, and
    /// then this future returned it in the same poll, or took none; dropping
    /// the future loses nothing. A datagram that arrives while several tasks
    /// wait goes to one of them, even if another was dropped meanwhile (every
    /// waiter is woken by its arrival).
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.reg
            .io(Direction::Read, |socket| socket.recv_from(buf))
            .await
    }

    /// Sets the socket's default peer: [`send`](UdpSocket::send) goes there,
    /// and [`recv`](UdpSocket::recv) (like `recv_from`) only receives
    /// datagrams from it. Each address `addr` resolves to is tried in
    /// order, as in std. For UDP nothing is sent: connecting never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
    /// use spindle::net::UdpSocket;
    ///
    /// spindle::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     a.send(b"ping").await?;
    ///     let mut buf = [0; 16];
    ///     let n = b.recv(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"ping");
    ///     assert_eq!(a.peer_addr()?, b.local_addr()?);
    ///     std::io::Result::Ok(())
    /// })?;
    /// # std::io::Result::Ok(())
    /// ```
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `addr` resolves to nothing; whatever
    /// `connect(2)` reports, for the last address tried.
    ///
    /// # Cancellation
    ///
    /// Connecting never waits: the future completes on its first poll.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let socket = self.reg.get_ref();
        each_addr(addr, |addr| std::future::ready(socket.connect(addr))).await
    }

    /// Sends `buf` as one datagram to the peer set by
    /// [`connect`](UdpSocket::connect).
    ///
    /// # Examples
    ///
    /// See [`connect`](UdpSocket::connect).
    ///
    /// # Errors
    ///
    /// `NotConnected` before `connect`; `ConnectionRefused` when an earlier
    /// datagram to the peer was answered with "port unreachable"; whatever
    /// else `send(2)` reports.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe, as [`send_to`](UdpSocket::send_to).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.reg
            .io(Direction::Write, |socket| socket.send(buf))
            .await
    }

    /// Waits for a datagram from the peer set by
    /// [`connect`](UdpSocket::connect) and copies it into `buf`; returns its
    /// length.
    ///
    /// # Examples
    ///
    /// See [`connect`](UdpSocket::connect).
    ///
    /// # Errors
    ///
    /// `ConnectionRefused` when an earlier datagram to the peer was answered
    /// with "port unreachable"; whatever else `recv(2)` reports.
    ///
    /// # Cancellation
    ///
    /// Cancel-safe, as [`recv_from`](UdpSocket::recv_from).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.reg
            .io(Direction::Read, |socket| socket.recv(buf))
            .await
    }

    /// The peer set by [`connect`](UdpSocket::connect).
    ///
    /// # Examples
    ///
    /// See [`connect`](UdpSocket::connect).
    ///
    /// # Errors
    ///
    /// `NotConnected` before `connect`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.reg.get_ref().peer_addr()
    }

    /// The address this socket is bound to; with port 0, the port the
    /// operating system chose.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` reports (in practice, never).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.reg.get_ref().local_addr()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UdpSocket")
            .field(self.reg.get_ref())
            .finish()
    }
}
