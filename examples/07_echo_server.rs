//! An echo server: every byte a client sends comes straight back. It is
//! asyncio's `start_server` example rebuilt: one task per connection, all
//! on one thread.
//!
//! ```text
//! cargo run --release --example 07_echo_server           # listens on 127.0.0.1:7000
//! cargo run --release --example 07_echo_server -- 7001   # or on another port
//! ```
//!
//! Then, from another terminal, type lines and watch them come back:
//!
//! ```text
//! nc 127.0.0.1 7000
//! ```
//!
//! or run the client, `cargo run --release --example 08_echo_client`. Stop
//! the server with Ctrl-C.

use std::time::Duration;

use spindle::net::{TcpListener, TcpStream};

fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().expect("usage: 07_echo_server [PORT]"),
        None => 7000,
    };
    // asyncio.run(main())
    spindle::run(serve(port))
}

async fn serve(port: u16) -> std::io::Result<()> {
    // server = await asyncio.start_server(handle, "127.0.0.1", port)
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    // server.sockets[0].getsockname()
    println!("echo server listening on {}", listener.local_addr()?);
    // await server.serve_forever(): start_server runs this accept loop for you.
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                println!("{peer} connected");
                // asyncio calls handle(reader, writer) in a new task; so do we.
                spindle::spawn(async move {
                    match echo(stream).await {
                        Ok(bytes) => println!("{peer} left after {bytes} bytes"),
                        Err(error) => println!("{peer} failed: {error}"),
                    }
                });
            }
            // Out of file descriptors, most likely: the connection stays queued, so
            // accepting again at once would fail again at once. Breathe first.
            Err(error) => {
                eprintln!("accept failed: {error}");
                spindle::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Echoes until the client closes its side; returns the number of bytes.
async fn echo(mut stream: TcpStream) -> std::io::Result<u64> {
    let mut buf = [0; 4096];
    let mut total = 0;
    loop {
        // data = await reader.read(4096)
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            // b"" in asyncio: the client closed its side. Dropping the stream
            // closes ours (writer.close()).
            return Ok(total);
        }
        // writer.write(data); await writer.drain()
        stream.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}
