//! Running out of file descriptors in `accept` is an error the caller sees,
//! not a panic and not a busy loop inside spindle; and once descriptors are
//! free again, the queued connection is still there.
//!
//! A test binary of its own: it fills the whole process's descriptor table,
//! which would break any test running beside it.

use std::fs::File;
use std::io;
use std::time::Duration;

use spindle::net::TcpListener;

/// Above this many descriptors, filling the table takes too long to be worth
/// it in a test: the test lowers the limit first, or skips.
const MAX_FILL: u64 = 1 << 16;

/// The soft limit on open files, from `/proc/self/limits` (Linux).
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn is_emfile(error: &io::Error) -> bool {
    // EMFILE is 24 on Linux and the BSDs; std has no ErrorKind for it.
    error.raw_os_error() == Some(24)
}

/// Lowers this process's soft limit on open files with util-linux's
/// `prlimit` (std has no `setrlimit`); best effort.
fn lower_open_file_limit(to: u64) {
    let _ = std::process::Command::new("prlimit")
        .arg("--pid")
        .arg(std::process::id().to_string())
        .arg(format!("--nofile={to}:"))
        .status();
}

#[test]
fn emfile_from_accept_is_returned_and_the_connection_survives() {
    if open_file_limit().is_some_and(|limit| limit > MAX_FILL) {
        lower_open_file_limit(4096);
    }
    match open_file_limit() {
        Some(limit) if limit <= MAX_FILL => {}
        other => {
            eprintln!("skipped: open-file limit {other:?} unknown or above {MAX_FILL}");
            return;
        }
    }
    spindle::run(async {
        let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        // Let the handshake finish, so the connection is queued on the listener.
        spindle::sleep(Duration::from_millis(20)).await;

        // Fill the descriptor table.
        let mut filler = Vec::new();
        loop {
            match File::open("/dev/null") {
                Ok(file) => filler.push(file),
                Err(error) if is_emfile(&error) => break,
                Err(error) => panic!("unexpected error while filling: {error}"),
            }
        }
        // accept(2) fails; spindle returns that at once rather than retrying.
        let error = listener.accept().await.unwrap_err();
        assert!(is_emfile(&error), "{error}");
        // Still failing, still returning: no hidden state went wrong.
        let error = listener.accept().await.unwrap_err();
        assert!(is_emfile(&error), "{error}");

        // Free descriptors: the connection waited in the kernel's queue.
        drop(filler);
        let (stream, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        drop(stream);
    });
}
