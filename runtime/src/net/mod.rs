//! Networking on the reactor: [`TcpListener`], [`TcpStream`] and
//! [`UdpSocket`].
//!
//! # An async socket is a non-blocking socket plus a registration
//!
//! There is no special kind of socket for async code. A spindle
//! `TcpStream` is a plain `std::net::TcpStream` switched to non-blocking
//! mode — so a syscall that cannot complete at once fails with `EAGAIN`
//! (`io::ErrorKind::WouldBlock`) instead of putting the thread to sleep —
//! wrapped in a `Registration`, which adds its descriptor to the reactor's
//! poller. Every operation then follows one pattern (`Registration::poll_io`):
//!
//! ```text
//!   poll ──▶ try the syscall ──▶ done or failed? ──▶ Ready(result)
//!                 │
//!                 └─ WouldBlock ──▶ store the task's waker for Read/Write,
//!                                   re-arm interest (epoll_ctl) ──▶ Pending
//!
//!   ... the loop runs other tasks, then blocks in epoll_wait ...
//!
//!   socket ready ──▶ reactor takes the waker, wakes the task ──▶ poll again
//! ```
//!
//! The operation is *tried first*, before asking the reactor anything: the
//! data is often already there, and then the read costs one syscall and no
//! trip through the loop. Only a failed attempt registers interest, and the
//! re-arm reports readiness that arrived in between, so no wake is lost
//! (module doc of `reactor`). asyncio does the same in `sock_recv`: try
//! `sock.recv`, and on `BlockingIOError` `add_reader` and wait on a future.
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
//! kernel. (A waker left in the source by a dropped future only causes, at
//! worst, one spurious wake.) `write_all`, a loop of writes, is the
//! exception, and says so.
//!
//! # One waiting task per direction, so `&mut self`
//!
//! The reactor stores one waker per direction of a socket. If two tasks
//! read the same socket, the second one's waker would replace the first's,
//! and the first would never be woken. Rather than keeping a list of
//! waiters, spindle makes the situation impossible to write: `read`,
//! `write`, `accept`, `send_to` and `recv_from` take `&mut self`. A read
//! task and a write task can still share a stream after `split`ting it
//! (`futures_lite::io::split`): the two directions have separate
//! wakers.
//!
//! # Addresses, and the one call that blocks
//!
//! Addresses are anything `std::net::ToSocketAddrs`: `"127.0.0.1:7000"`,
//! `("localhost", 7000)`, a `SocketAddr`, a slice of them. They are resolved
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
//! over 30 000 round trips of a release build:
//!
//! ```text
//!  1  client write_all   sendto                               data
//!  2  client read        recvfrom -> EAGAIN                   try first
//!  3                     epoll_ctl (re-arm read interest)     oneshot
//!  4  loop idle: wait    timerfd_settime, epoll_ctl(timerfd)  polling
//!  5                     epoll_wait -> server readable        wait
//!  6                     read(eventfd) -> EAGAIN,
//!                        epoll_ctl(eventfd)                   polling
//!  7  server read        recvfrom -> 64 bytes                 data
//!  8  server write_all   sendto                               data
//!  9  server read        recvfrom -> EAGAIN                   try first
//! 10                     epoll_ctl (re-arm read interest)     oneshot
//! 11  loop idle: wait    the five syscalls of 4-6             polling, wait
//! 12  client read        recvfrom -> 64 bytes                 data
//! ```
//!
//! | per round trip | spindle | tokio (mio) | floor |
//! |---|---|---|---|
//! | `sendto` + `recvfrom` that move data | 4 | 4 | 4 |
//! | `epoll_wait` | 2 | 2 | 2 |
//! | `recvfrom` that fail with `EAGAIN` (try first) | 2 | 2 | 0 |
//! | `epoll_ctl` re-arming oneshot interest | 2 | 0 | 0 |
//! | `polling`'s per-wait timerfd and eventfd upkeep | 8 | 0 | 0 |
//! | **total** | **18** | **8** | **6** |
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
//! reader always arrives before the reply. It pays off everywhere else — a
//! reader that is behind finds its data without a trip through the loop —
//! and tokio makes the same trade.
//!
//! **The other 10 are the reactor's**, not this module's: 2 `epoll_ctl`s
//! because oneshot interest is re-armed on every wait (see `reactor`), and
//! 4 per wait inside `polling`'s `Poller::wait`, which on Linux sets its
//! timerfd and re-arms it, then drains and re-arms its notification eventfd,
//! on *every* call — even with no timeout and no notification. Measured on
//! the 2-core development machine: an `epoll_ctl` costs about 0.33 µs, and
//! `Poller::wait` with nothing ready 1.3 µs against 0.16 µs for a bare
//! `epoll_wait`; together about 3 µs per round trip, most of the gap between
//! spindle (15–17 µs per round trip, release build) and tokio's
//! current-thread runtime (12–13 µs) on the same workload, which
//! `cargo bench --bench compare -- tcp_echo` times side by side. A
//! production reactor registers each socket once, edge-triggered, and
//! calls `epoll_wait` with a millisecond timeout and an edge-triggered
//! eventfd that needs no upkeep per wait (mio).
//!
//! # Teaching simplifications
//!
//! - **No cooperative budget.** A task whose socket is always ready never
//!   returns `Pending`, so it never yields to other tasks. tokio counts
//!   operations per poll and forces a yield after 128; here, add a
//!   `yield_now().await` in such a loop.
//! - **Oneshot interest, no readiness cache.** Each wait costs an
//!   `epoll_ctl`; tokio registers a socket once, edge-triggered, and
//!   remembers readiness in the socket's record (see `reactor`).
//! - **Unix only**, like the reactor: the types rest on `std::os::fd`.

mod tcp;
mod udp;

use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

pub use tcp::{TcpListener, TcpStream};

use crate::context;
use crate::reactor::{Direction, Registration};
use crate::wait::WaitOn;
pub use udp::UdpSocket;

/// Resolves `addr` with std's blocking resolver (module doc).
/// Registers `io` with the current runtime's reactor: every socket type
/// is built through here.
///
/// # Panics
///
/// Outside of a runtime (message contains `outside of a spindle runtime`).
#[track_caller]
/// [`Registration::poll_io`], and when it returns `Pending`, a wait reason
/// for the task (`TcpStream fd 7 read`: `wait.rs`).
fn poll_io_on<T: std::os::fd::AsFd, R>(
    reg: &Registration<T>,
    on: &'static WaitOn,
    direction: Direction,
    cx: &mut std::task::Context<'_>,
    op: impl FnMut(&T) -> io::Result<R>,
) -> std::task::Poll<io::Result<R>> {
    let poll = reg.poll_io(direction, cx, op);
    if poll.is_pending() {
        use std::os::fd::AsRawFd;
        let fd = reg.get_ref().as_fd().as_raw_fd();
        context::with_core(|core| {
            if let Some(core) = core {
                crate::observe::record(core, on, fd as u64);
            }
        });
    }
    poll
}

/// What a task waiting on a socket waits on.
mod waits {
    use crate::wait::{Arg, WaitOn};

    pub(super) static ACCEPT: WaitOn = WaitOn::new("TcpListener", "accept", Arg::Fd);
    pub(super) static CONNECT: WaitOn = WaitOn::new("TcpStream", "connect", Arg::Fd);
    pub(super) static READ: WaitOn = WaitOn::new("TcpStream", "read", Arg::Fd);
    pub(super) static WRITE: WaitOn = WaitOn::new("TcpStream", "write", Arg::Fd);
    pub(super) static SEND: WaitOn = WaitOn::new("UdpSocket", "send", Arg::Fd);
    pub(super) static RECV: WaitOn = WaitOn::new("UdpSocket", "recv", Arg::Fd);
}

fn register<T: std::os::fd::AsFd>(io: T) -> io::Result<Registration<T>> {
    let reactor = context::expect_core("creating a spindle I/O object", |core| {
        core.shared.reactor.clone()
    });
    Registration::new(io, reactor)
}

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
