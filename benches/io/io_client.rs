//! `run.sh`'s own load client, for what `wrk` does not measure: an echo
//! load that checks every byte, and sequential short-lived HTTP
//! connections. It prints one line of `key=value` for the script.
//!
//! ```text
//! io_client echo ADDR CONNECTIONS SECONDS [MSG_BYTES=64]
//! io_client close ADDR COUNT
//! ```
//!
//! `echo`: each connection, in a task of a tokio `current_thread` runtime
//! (the client is not what is measured; it must only be cheap), sends a
//! message, reads the echo back in full, compares it byte for byte, and
//! repeats for SECONDS. Every message differs (a counter in its bytes), so
//! an echo of a stale or reordered message fails. Prints messages per
//! second and the round-trip p50/p99.
//!
//! `close`: COUNT connections one after another, each a `GET /` with
//! `Connection: close` read to end of stream and checked, blocking std
//! sockets. Prints the total time and the per-connection p50/p99.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("echo") => {
            let conns: usize = args[2].parse().expect("CONNECTIONS");
            let secs: f64 = args[3].parse().expect("SECONDS");
            let size: usize = args.get(4).map_or(64, |s| s.parse().expect("MSG_BYTES"));
            echo(&args[1], conns, Duration::from_secs_f64(secs), size);
        }
        Some("close") => close(&args[1], args[2].parse().expect("COUNT")),
        _ => panic!("usage: io_client echo ADDR CONNS SECS [BYTES] | close ADDR COUNT"),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

fn echo(addr: &str, conns: usize, length: Duration, size: usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let (count, latencies, elapsed) = local.block_on(&rt, async {
        let start = Instant::now();
        let end = start + length;
        let mut tasks = Vec::new();
        for c in 0..conns {
            let addr = addr.to_string();
            tasks.push(tokio::task::spawn_local(async move {
                let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let mut out = vec![0u8; size];
                let mut back = vec![0u8; size];
                let mut latencies = Vec::new();
                let mut seq: u64 = 0;
                while Instant::now() < end {
                    // The counter and the connection in every message.
                    for (i, b) in out.iter_mut().enumerate() {
                        *b = (seq as u8).wrapping_add(i as u8).wrapping_mul(7) ^ c as u8;
                    }
                    out[..8].copy_from_slice(&seq.to_le_bytes());
                    let sent = Instant::now();
                    stream.write_all(&out).await.unwrap();
                    stream.read_exact(&mut back).await.unwrap();
                    latencies.push(sent.elapsed());
                    assert!(
                        back == out,
                        "connection {c}: message {seq} came back altered"
                    );
                    seq += 1;
                }
                latencies
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        (all.len(), all, start.elapsed())
    });
    report(latencies, count, elapsed);
}

fn close(addr: &str, count: usize) {
    let request = b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
    let mut latencies = Vec::with_capacity(count);
    let mut response = Vec::new();
    let start = Instant::now();
    for i in 0..count {
        let began = Instant::now();
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        stream.write_all(request).unwrap();
        response.clear();
        stream.read_to_end(&mut response).unwrap();
        latencies.push(began.elapsed());
        assert!(
            response.starts_with(b"HTTP/1.1 200") && response.ends_with(b"Hello, World!"),
            "connection {i}: {:?}",
            String::from_utf8_lossy(&response)
        );
    }
    let elapsed = start.elapsed();
    report(latencies, count, elapsed);
}

/// The line `run.sh` reads: messages (or connections) per second, latency
/// percentiles, and how many in how long.
fn report(mut latencies: Vec<Duration>, count: usize, elapsed: Duration) {
    latencies.sort_unstable();
    println!(
        "rate={:.0} p50_us={:.1} p99_us={:.1} count={count} secs={:.3}",
        count as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        elapsed.as_secs_f64()
    );
}
