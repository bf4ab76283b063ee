//! Networking on the reactor: [`TcpListener`], [`TcpStream`],
//! [`UdpSocket`], [`UnixListener`] and [`UnixStream`], and the halves a
//! stream splits into ([`ReadHalf`], [`WriteHalf`], [`OwnedReadHalf`],
//! [`OwnedWriteHalf`]).
//!
//! # An async socket is a non-blocking socket plus a registration
//!
//! There is no special kind of socket for async code. A spindle
//! `TcpStream` is a plain `std::net::TcpStream` switched to non-blocking
//! mode — so a syscall that cannot complete at once fails with `EAGAIN`
//! (`io::ErrorKind::WouldBlock`) instead of putting the thread to sleep —
//! wrapped in a `Registration`, which adds its descriptor to the reactor's
//! poller once, edge-triggered, for both directions. Every operation then
//! follows one pattern (`reactor/source.rs` has it in full, races
//! included):
//!
//! ```text
//!   poll ──▶ known not ready? ──▶ store the task's waker ──▶ Pending
//!                 │ (no syscall)
//!                 └─ may be ready: try the syscall
//!                      ├─ done or failed ──▶ Ready(result)
//!                      └─ WouldBlock ──▶ note "not ready", store the
//!                                        waker ──▶ Pending
//!
//!   ... the loop runs other tasks, then blocks in epoll_wait ...
//!
//!   an edge: the socket became readable/writable ──▶ the reactor notes
//!   "may be ready" and wakes every task waiting on that direction
//! ```
//!
//! The operation is *tried first* whenever the socket may be ready, before
//! asking the reactor anything: the data is often already there, and then
//! the read costs one syscall and no trip through the loop. asyncio does
//! the same in `sock_recv`: try `sock.recv`, and on `BlockingIOError`
//! `add_reader` and wait on a future. Only when an attempt has seen
//! `WouldBlock` does the socket count as not ready, and then nothing is
//! attempted until the next event says otherwise.
//!
//! The same pattern covers every call here: `accept` waits for *readable*,
//! `write` and `send_to` for *writable*, and a connect in progress for
//! *writable* too (`tcp.rs` shows how `connect` is made non-blocking).
//!
//! # Cancellation comes for free
//!
//! A non-blocking syscall either happened or did not; it is never half-way
//! when the future returns `Pending`. So dropping a `read`, `recv_from` or
//! `accept` future loses nothing: whatever the kernel had is still in the
//! kernel, and any other task waiting for it was woken by the same event.
//! `write_all`, a loop of writes, is the exception, and says so.
//!
//! # Sharing a socket
//!
//! A listener and a datagram socket are naturally shared: each `accept`
//! takes one whole connection, each `recv_from` one whole datagram. So
//! [`TcpListener::accept`], [`UnixListener::accept`] and every
//! [`UdpSocket`] method take `&self`, and any number of tasks may wait on
//! one socket at once: the reactor keeps a list of waiters per direction
//! and wakes them all when the direction becomes ready (why all, and not
//! one: `reactor/source.rs`).
//!
//! A byte stream is not shared that way: two tasks reading one stream
//! would each get some of the bytes, in no useful order. So a stream's
//! `read` and `write` take `&mut self`, and the way to read in one task
//! while another writes is to split it: [`TcpStream::split`] (borrowed
//! halves) or [`TcpStream::into_split`] (owned ones, to spawn). The halves
//! need no lock between them, unlike `futures::io::split`'s (`split.rs`).
//!
//! # Addresses, and the one call that blocks
//!
//! Addresses of TCP and UDP sockets are anything `std::net::ToSocketAddrs`:
//! `"127.0.0.1:7000"`, `("localhost", 7000)`, a `SocketAddr`, a slice of
//! them (Unix domain sockets take a path instead: `unix.rs`). They are resolved
//! by std's resolver (`getaddrinfo`), which **blocks the loop's thread** for
//! as long as DNS takes. An IP address never touches DNS, so that costs
//! nothing; for a host name asyncio runs `getaddrinfo` on its thread pool,
//! and you can do the same before connecting:
//!
//! ```
//! # if cfg!(miri) { return Ok(()); } // no sockets under Miri
//! use std::net::ToSocketAddrs;
//!
//! spindle::run(async {
//!     let addrs: Vec<_> = spindle::to_thread(|| {
//!         ("localhost", 7000).to_socket_addrs().map(Iterator::collect::<Vec<_>>)
//!     })
//!     .await
//!     .unwrap()?;
//!     // ... then `TcpStream::connect(&addrs[..]).await`.
//!     assert!(addrs.iter().all(|a| a.port() == 7000));
//!     std::io::Result::Ok(())
//! })?;
//! # std::io::Result::Ok(())
//! ```
//!
//! # An I/O object belongs to one runtime
//!
//! A socket is registered with the reactor of the runtime that created it,
//! and only that runtime's loop ever reports its readiness. The types are
//! `Send + Sync` (a task moved by `Handle::spawn` may carry one), but a
//! socket awaited under another runtime only makes progress while its own
//! runtime's loop runs. Creating one outside any runtime panics.
//!
//! # Errors
//!
//! Every failure is an `io::Error` with the operating system's error kind:
//! `ConnectionRefused`, `AddrInUse`, `ConnectionReset`, `BrokenPipe`, and
//! "Too many open files" (`EMFILE`) from `accept`, which is returned, not
//! retried — see [`TcpListener::accept`].
//!
//! # Syscalls per round trip
//!
//! One 64-byte echo round trip over loopback, client and server tasks in
//! one runtime (`TCP_NODELAY` on both ends), as counted by `strace -c -f`
//! (the count at 20 000 round trips minus the count at 0, divided by
//! 20 000: `benches/syscalls.sh spindle echo`, and `tokio echo`, `smol echo`
//! for the peers):
//!
//! ```text
//!  1  client write_all   sendto                               data
//!  2  client read        recvfrom -> EAGAIN                   try first
//!  3  loop idle: wait    timerfd_settime, epoll_ctl(timerfd)  polling
//!  4                     epoll_wait -> server readable        wait
//!  5                     read(eventfd) -> EAGAIN,
//!                        epoll_ctl(eventfd)                   polling
//!  6  server read        recvfrom -> 64 bytes                 data
//!  7  server write_all   sendto                               data
//!  8  server read        recvfrom -> EAGAIN                   try first
//!  9  loop idle: wait    the five syscalls of 3-5             polling, wait
//! 10  client read        recvfrom -> 64 bytes                 data
//! ```
//!
//! | per round trip | spindle | tokio (mio) | floor |
//! |---|---|---|---|
//! | `sendto` + `recvfrom` that move data | 4 | 4 | 4 |
//! | `epoll_wait` | 2 | 2 | 2 |
//! | `recvfrom` that fail with `EAGAIN` (try first) | 2 | 2 | 0 |
//! | `polling`'s per-wait timerfd and eventfd upkeep | 8 | 0 | 0 |
//! | **total** | **16** | **8** | **6** |
//!
//! (Before the reactor went edge-triggered it was 18: two more `epoll_ctl`
//! per round trip re-armed each socket's oneshot interest. smol, on the same
//! `polling` crate with oneshot interest, makes 24.)
//!
//! **The floor is 6.** The data needs 4: each side writes once and reads
//! once. That is all two blocking threads would pay, since each sleeps
//! inside its `recv`. An event loop replaces that sleep with a wait, and
//! with both ends on one loop it must wait twice: the client's socket only
//! becomes readable after the server has written, which the server can only
//! do after the first wait reported *its* socket — so one `epoll_wait`
//! cannot cover both.
//!
//! **Trying first costs 2** `EAGAIN`s here, because in request-reply the
//! reader always arrives before the reply, and a successful read leaves the
//! socket "may be ready". It pays off everywhere else — a reader that is
//! behind finds its data without a trip through the loop — and tokio makes
//! the same trade. (tokio saves the `EAGAIN` after a *short* read; on
//! `polling` that is not safe, `stream.rs` says why.)
//!
//! **The other 8 are `polling`'s**, and no call of its API avoids them:
//! on Linux, `Poller::wait` sets its timerfd and re-arms it, then drains and
//! re-arms its notification eventfd, on *every* call — even with no timeout
//! and no notification. Measured on the 2-core development machine, an
//! `epoll_ctl` costs about 0.33 µs and `Poller::wait` with nothing ready
//! 1.3 µs against 0.16 µs for a bare `epoll_wait`: about 2.3 µs per round
//! trip, which `cargo bench --bench compare -- tcp_echo` shows against
//! tokio's current-thread runtime. A production reactor calls `epoll_wait`
//! directly, with an edge-triggered eventfd that needs no upkeep per wait
//! (mio); the project's design keeps `polling`, which also runs on kqueue
//! and IOCP.
//!
//! # Teaching simplifications
//!
//! - **No cooperative budget.** A task whose socket is always ready never
//!   returns `Pending`, so it never yields to other tasks. tokio counts
//!   operations per poll and forces a yield after 128; here, add a
//!   `yield_now().await` in such a loop.
//! - **Unix only**, like the reactor: the types rest on `std::os::fd`.

mod split;
mod stream;
mod tcp;
mod udp;
mod unix;

use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};

use crate::context;
use crate::reactor::Registration;
use crate::wait::SocketWaits;

/// Registers `io` with the current runtime's reactor: every socket type
/// is built through here.
///
/// # Panics
///
/// Outside of a runtime (message contains `outside of a spindle runtime`).
#[track_caller]
fn register<T: std::os::fd::AsFd>(io: T, waits: SocketWaits) -> io::Result<Registration<T>> {
    let reactor = context::expect_core("creating a spindle I/O object", |core| {
        core.shared.reactor.clone()
    });
    Registration::new(io, reactor, waits)
}

/// What a task waiting on each kind of socket waits on, per direction, for
/// task dumps (`TcpStream fd 7 read`; `wait.rs`).
mod waits {
    use crate::wait::{Arg, SocketWaits, WaitOn};

    /// Records for the task being polled (the reactor's hook).
    fn record(on: &'static WaitOn, fd: u64) {
        crate::observe::record_here(on, fd);
    }

    macro_rules! socket {
        ($name:ident, $kind:literal, $read:literal, $write:literal) => {
            pub(crate) const $name: SocketWaits = {
                static READ: WaitOn = WaitOn::new($kind, $read, Arg::Fd);
                static WRITE: WaitOn = WaitOn::new($kind, $write, Arg::Fd);
                SocketWaits {
                    read: &READ,
                    write: &WRITE,
                    record,
                }
            };
        };
    }

    socket!(TCP_LISTENER, "TcpListener", "accept", "write");
    socket!(TCP_STREAM, "TcpStream", "read", "write");
    socket!(UDP_SOCKET, "UdpSocket", "recv", "send");
    socket!(UNIX_LISTENER, "UnixListener", "accept", "write");
    socket!(UNIX_STREAM, "UnixStream", "read", "write");
}

/// Resolves `addr` with std's blocking resolver (module doc).
fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    Ok(addr.to_socket_addrs()?.collect())
}

/// Tries `attempt` on each address `addr` resolves to, in order, and
/// returns the first success or the last error: what std's
/// `TcpStream::connect` does (and asyncio's `create_connection`, which also
/// keeps trying the next address after a failure).
async fn each_addr<T, F, Fut>(addr: impl ToSocketAddrs, mut attempt: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last_error = None;
    for addr in resolve(addr)? {
        match attempt(addr).await {
            Ok(value) => return Ok(value),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any addresses",
        )
    }))
}
