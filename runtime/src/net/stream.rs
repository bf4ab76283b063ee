//! What the two stream sockets, TCP and Unix, share: reading and writing
//! through the reactor's `poll_*` interface, the rule that a short write
//! means the send buffer is full (and why reads have no such rule), and how
//! a non-blocking connect ends.
//!
//! Every function here takes the [`Registration`] of a std stream socket
//! `S` (`std::net::TcpStream` or `std::os::unix::net::UnixStream`), on which
//! `&S` implements `Read` and `Write`: a socket needs no exclusive access
//! to be read or written, which is what lets the two halves of a split
//! stream (`split.rs`) work at once without a lock.
//!
//! # A short write means the buffer is full
//!
//! On a stream socket, a non-blocking `send` stops early only when the send
//! buffer is full, and the kernel then owes an event when room appears. So a
//! write that took fewer bytes than it was given (but more than zero) has
//! seen the kernel with no room left, just as a `WouldBlock` would have.
//! Telling the reactor so (the `drained` test of `reactor/source.rs`) lets
//! the next write wait for that event instead of paying a syscall to learn
//! it; tokio's `PollEvented` makes the same deduction.
//!
//! **Reads cannot use the rule, on `polling`.** A short read usually means
//! the receive queue ran dry too, and tokio clears readiness after one. But
//! it can also mean the read stopped at the peer's end of stream: data and
//! FIN arrived together, the read took the data, and the next read returns
//! `Ok(0)` at once — with no new event to come, since the FIN's event has
//! been spent. tokio tells the two apart because mio registers
//! `EPOLLRDHUP` and keeps a sticky "read closed" bit; `polling` registers no
//! `EPOLLRDHUP` and reports none, so here a FIN looks like data. Clearing
//! after a short read would then leave a reader waiting for ever on a
//! stream that has ended (the test
//! `net_tcp::end_of_stream_right_behind_the_data_is_seen` catches exactly
//! that). So after a successful read the next read is attempted, and it
//! costs a `WouldBlock` when nothing came — one syscall that tokio saves.
//! Datagram sockets make no promise at all (a short datagram is just a
//! short datagram), so UDP uses neither rule.

use std::io::{self, IoSlice, Read, Write};
use std::os::fd::AsFd;
use std::task::{Context, Poll};

use socket2::SockRef;

use crate::reactor::{Direction, Registration};

/// A write of `moved` bytes out of `asked` saw the send buffer full (module
/// doc). Zero bytes (an empty buffer) proves nothing.
fn full(moved: usize, asked: usize) -> bool {
    moved > 0 && moved < asked
}

/// Reads into `buf`: `Pending` until the socket is readable. No short-read
/// rule (module doc).
pub(super) fn poll_read<S>(
    reg: &Registration<S>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>>
where
    S: AsFd,
    for<'a> &'a S: Read,
{
    reg.poll_io(
        Direction::Read,
        cx,
        |mut socket| socket.read(buf),
        |_| false,
    )
}

/// Writes from `buf`: `Pending` until the socket has room.
pub(super) fn poll_write<S>(
    reg: &Registration<S>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>>
where
    S: AsFd,
    for<'a> &'a S: Write,
{
    reg.poll_io(
        Direction::Write,
        cx,
        |mut socket| socket.write(buf),
        |&moved| full(moved, buf.len()),
    )
}

/// Writes from several buffers at once (one `writev`).
pub(super) fn poll_write_vectored<S>(
    reg: &Registration<S>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>>
where
    S: AsFd,
    for<'a> &'a S: Write,
{
    let asked: usize = bufs.iter().map(|buf| buf.len()).sum();
    reg.poll_io(
        Direction::Write,
        cx,
        |mut socket| socket.write_vectored(bufs),
        |&moved| full(moved, asked),
    )
}

/// Writes all of `buf`, one `write` after another (`write_all` of the
/// stream types and their write halves).
pub(super) async fn write_all<S>(reg: &Registration<S>, mut buf: &[u8]) -> io::Result<()>
where
    S: AsFd,
    for<'a> &'a S: Write,
{
    while !buf.is_empty() {
        match std::future::poll_fn(|cx| poll_write(reg, cx, buf)).await? {
            0 => return Err(io::ErrorKind::WriteZero.into()),
            n => buf = &buf[n..],
        }
    }
    Ok(())
}

/// Shuts down one or both directions of any stream socket.
pub(super) fn shutdown(socket: &impl AsFd, how: std::net::Shutdown) -> io::Result<()> {
    SockRef::from(socket).shutdown(how)
}

/// The end of a non-blocking connect, checked each time the socket is
/// writable: `SO_ERROR` holds the failure if there was one; if not, the
/// socket has a peer once the handshake is done (`getpeername` answers
/// `ENOTCONN` until then, which we turn into "not yet").
pub(super) fn connected(socket: &impl AsFd) -> io::Result<()> {
    let socket = SockRef::from(socket);
    if let Some(error) = socket.take_error()? {
        return Err(error);
    }
    match socket.peer_addr() {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotConnected => {
            Err(io::ErrorKind::WouldBlock.into())
        }
        Err(error) => Err(error),
    }
}
