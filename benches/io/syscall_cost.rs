//! What the syscalls spindle makes beyond tokio's cost, one at a time
//! (`benches/compare/NOTES.md`, "HTTP and echo under load"):
//!
//! - a `read` of a non-blocking loopback TCP socket with nothing to read,
//!   which fails with `WouldBlock`: the read after a short read, which
//!   tokio skips and spindle makes (`polling` reports no `EPOLLRDHUP`);
//! - a `polling` `Poller::wait` that finds nothing (timeout zero, one idle
//!   socket registered), against which tokio's mio makes one `epoll_wait`:
//!   `polling` adds `timerfd_settime`, two `epoll_ctl` and a `read`.
//!
//! ```text
//! cargo build --release -p spindle-benches --example syscall_cost
//! taskset -c 0 target/release/examples/syscall_cost
//! ```
//!
//! Each figure is the best of 5 runs of 200 000 calls, in ns per call.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use polling::{Event, Events, PollMode, Poller};

const CALLS: u32 = 200_000;

/// The best of 5 runs of `CALLS` calls of `call`, in ns per call.
fn best_of_5(mut call: impl FnMut()) -> f64 {
    (0..5)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..CALLS {
                call();
            }
            started.elapsed().as_nanos() as f64 / f64::from(CALLS)
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let _client = TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    server.set_nonblocking(true)?;

    let mut buf = [0u8; 4096];
    let read = best_of_5(|| {
        let result = (&server).read(&mut buf);
        assert!(matches!(&result, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock));
    });
    println!("read that fails with WouldBlock: {read:.0} ns");

    let poller = Poller::new()?;
    // SAFETY: `server` outlives the registration: it is deleted below, before
    // `server` is dropped at the end of `main`.
    unsafe { poller.add_with_mode(server.as_raw_fd(), Event::all(1), PollMode::Edge)? };
    let mut events = Events::new();
    // The registration's first edge (the socket is writable) comes out here.
    poller.wait(&mut events, Some(Duration::ZERO))?;
    let wait = best_of_5(|| {
        events.clear();
        let found = poller
            .wait(&mut events, Some(Duration::ZERO))
            .expect("Poller::wait");
        assert_eq!(found, 0);
    });
    println!("polling's Poller::wait finding nothing: {wait:.0} ns");
    poller.delete(&server)?;
    Ok(())
}
