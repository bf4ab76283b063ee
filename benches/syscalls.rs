//! One workload of `compare` on one runtime, as a plain program, for
//! counting what criterion cannot: syscalls (`strace -c -f`) and
//! instructions (`valgrind --tool=callgrind`). The counts in
//! `benches/compare/NOTES.md` come from here, through `benches/syscalls.sh`,
//! which builds it, runs it under strace at N and at 0 operations and
//! prints the difference per operation:
//!
//! ```text
//! benches/syscalls.sh tokio echo 20000
//! valgrind --tool=callgrind <the binary cargo names> spindle echo 10000
//! ```
//!
//! Arguments: the runtime (`spindle`, `tokio` or `smol`), the workload and
//! how many operations:
//!
//! - `echo`: `tcp_echo`, one 64-byte round trip over loopback with both ends
//!   on one loop, per operation;
//! - `run`: a fresh runtime per operation that runs one empty future, as a
//!   test suite that calls `spindle::run` per test does (`Peer::run`);
//! - `fresh` and `reused`: `thread_ping_pong` of `compare`, round trips to
//!   a partner thread with a fresh runtime per message on both sides, or
//!   one runtime per thread (in whole rounds of 1 000);
//! - `timers_random`, `timers_fire`: those workloads, in whole rounds of
//!   100 000 timers;
//! - `timeout_reads`: that workload, in whole rounds of 90 000 reads
//!   (9 000 connections × 10), connections made anew each round.
//!
//! Per operation = (count at N − count at 0) / N, so what setting up the
//! runtime and the connection costs drops out (instructions likewise, from
//! two callgrind runs).

#[path = "compare/peers.rs"]
#[allow(dead_code)] // this program uses a few of the trait's many methods
mod peers;
#[path = "compare/workloads.rs"]
#[allow(dead_code)] // and a few of the workloads
mod workloads;

use peers::{Peer, Smol, Spindle, Tokio};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let (Some(runtime), Some(workload)) = (args.next(), args.next()) else {
        usage()
    };
    let ops: u64 = args
        .next()
        .map_or(10_000, |n| n.parse().unwrap_or_else(|_| usage()));
    match runtime.as_str() {
        "spindle" => one::<Spindle>(&workload, ops),
        "tokio" => one::<Tokio>(&workload, ops),
        "smol" => one::<Smol>(&workload, ops),
        _ => usage(),
    }
}

fn one<P: Peer + 'static>(workload: &str, ops: u64) {
    let peer = P::new();
    match workload {
        "echo" => peer.block_on(P::tcp_echo(ops)),
        "run" => {
            for _ in 0..ops {
                P::run(async {});
            }
        }
        "fresh" | "reused" => {
            // Whole rounds of `workloads::MESSAGES` round trips.
            for _ in 0..ops.div_ceil(workloads::MESSAGES) {
                workloads::thread_ping_pong(&peer, workload == "fresh");
            }
        }
        "timers_random" | "timers_fire" => {
            for _ in 0..ops.div_ceil(workloads::TIMERS) {
                if workload == "timers_random" {
                    peer.block_on(workloads::timers_random::<P>());
                } else {
                    peer.block_on(workloads::timers_fire::<P>());
                }
            }
        }
        "timeout_reads" => {
            let reads = workloads::CONNECTIONS * workloads::READS_EACH;
            for _ in 0..ops.div_ceil(reads) {
                peer.block_on(workloads::timeout_reads::<P>());
            }
        }
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: syscalls spindle|tokio|smol \
         echo|run|fresh|reused|timers_random|timers_fire|timeout_reads [operations]"
    );
    std::process::exit(2)
}
