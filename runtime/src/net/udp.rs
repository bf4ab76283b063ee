//! UDP: [`UdpSocket`], datagrams on the reactor (asyncio's
//! `create_datagram_endpoint`, without the protocol callbacks).
//!
//! A datagram socket has no connection and no stream: each `send_to` is one
//! datagram to one address, each `recv_from` takes exactly one datagram
//! whole (the part that does not fit in the buffer is discarded by the
//! kernel). Readiness works as for TCP: readable when a datagram is queued,
//! writable when the send buffer has room — which, for UDP, is nearly
//! always, so `send_to` almost never waits.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use super::resolve;
use super::waits;
use crate::reactor::{Direction, Registration};

/// A UDP socket.
///
/// `send_to` and `recv_from` take `&mut self`: the reactor keeps one
/// waiting task per direction of a socket, and the borrow makes sure there
/// is only ever one.
///
/// # Examples
///
/// ```
/// # if cfg!(miri) { return Ok(()); } // no sockets under Miri
/// use spindle::net::UdpSocket;
///
/// spindle::run(async {
///     let mut a = UdpSocket::bind("127.0.0.1:0").await?;
///     let mut b = UdpSocket::bind("127.0.0.1:0").await?;
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
            reg: super::register(socket)?,
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
    pub async fn send_to(&mut self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = match resolve(target)?.first() {
            Some(&target) => target,
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "no addresses to send data to",
                ))
            }
        };
        poll_fn(|cx| {
            super::poll_io_on(&self.reg, &waits::SEND, Direction::Write, cx, |socket| {
                socket.send_to(buf, target)
            })
        })
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
    /// the future loses nothing.
    pub async fn recv_from(&mut self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| {
            super::poll_io_on(&self.reg, &waits::RECV, Direction::Read, cx, |socket| {
                socket.recv_from(buf)
            })
        })
        .await
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
