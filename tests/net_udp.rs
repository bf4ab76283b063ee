//! UDP behaviour: a spindle socket against a blocking `std::net` peer, and
//! two spindle sockets in one runtime.

mod support;

use std::thread;
use std::time::Duration;

use spindle::net::UdpSocket;
use support::{within, LIMIT};

#[test]
fn round_trip_with_a_std_peer() {
    within(LIMIT, || {
        spindle::run(async {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let addr = socket.local_addr().unwrap();
            assert_ne!(addr.port(), 0);
            let peer = thread::spawn(move || {
                let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                peer.set_read_timeout(Some(Duration::from_secs(30)))
                    .unwrap();
                // Sent after a pause, so the spindle side is parked in recv_from.
                thread::sleep(Duration::from_millis(30));
                peer.send_to(b"ping", addr).unwrap();
                let mut buf = [0; 16];
                let (n, from) = peer.recv_from(&mut buf).unwrap();
                assert_eq!((&buf[..n], from), (&b"PING"[..], addr));
                peer.local_addr().unwrap()
            });
            let mut buf = [0; 16];
            let (n, from) = socket.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"ping");
            buf[..n].make_ascii_uppercase();
            assert_eq!(socket.send_to(&buf[..n], from).await.unwrap(), n);
            assert_eq!(peer.join().unwrap(), from);
        });
    });
}

#[test]
fn many_datagrams_between_two_spindle_sockets() {
    within(LIMIT, || {
        spindle::run(async {
            let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let server_addr = server.local_addr().unwrap();
            spindle::spawn(async move {
                let mut buf = [0; 64];
                loop {
                    let (n, from) = server.recv_from(&mut buf).await.unwrap();
                    server.send_to(&buf[..n], from).await.unwrap();
                }
            });
            let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let mut buf = [0; 64];
            // One datagram in flight at a time, so none can be dropped for want
            // of buffer space; each comes back whole and from the server.
            for i in 0..200u32 {
                client.send_to(&i.to_be_bytes(), server_addr).await.unwrap();
                let (n, from) = client.recv_from(&mut buf).await.unwrap();
                assert_eq!((&buf[..n], from), (&i.to_be_bytes()[..], server_addr));
            }
        });
    });
}

#[test]
fn a_datagram_longer_than_the_buffer_is_cut() {
    within(LIMIT, || {
        spindle::run(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            // The target as a string: anything ToSocketAddrs.
            let target = b.local_addr().unwrap().to_string();
            a.send_to(b"0123456789", target.as_str()).await.unwrap();
            a.send_to(b"next", target.as_str()).await.unwrap();
            let mut small = [0; 4];
            let (n, _) = b.recv_from(&mut small).await.unwrap();
            assert_eq!(&small[..n], b"0123");
            // The rest of the first datagram is gone, not read next.
            let (n, _) = b.recv_from(&mut small).await.unwrap();
            assert_eq!(&small[..n], b"next");
        });
    });
}
