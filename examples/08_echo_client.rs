//! An echo client: connects, sends a few lines, prints what comes back. It
//! is asyncio's `open_connection` example rebuilt, and the partner of
//! `07_echo_server`. Start the server first, then:
//!
//! ```text
//! cargo run --release --example 08_echo_client                   # 127.0.0.1:7000
//! cargo run --release --example 08_echo_client -- 7001            # another port
//! cargo run --release --example 08_echo_client -- 10.0.0.5:7000   # another host
//! ```

use std::net::Shutdown;

use spindle::net::TcpStream;

const LINES: [&str; 3] = ["hello, spindle\n", "one loop, many tasks\n", "goodbye\n"];

fn main() -> std::io::Result<()> {
    // A bare port means localhost; anything else is taken as host:port.
    let addr = match std::env::args().nth(1) {
        Some(arg) if arg.parse::<u16>().is_ok() => format!("127.0.0.1:{arg}"),
        Some(arg) => arg,
        None => "127.0.0.1:7000".to_string(),
    };
    // asyncio.run(main())
    spindle::run(talk(addr))
}

async fn talk(addr: String) -> std::io::Result<()> {
    // reader, writer = await asyncio.open_connection(host, port)
    let mut stream = TcpStream::connect(addr.as_str()).await?;
    // Each line is one small write followed by a wait for the reply: with Nagle's
    // algorithm on, that pattern can stall on a delayed ACK. asyncio turns it off
    // for every connection; here we ask for it.
    stream.set_nodelay(true)?;
    println!("connected to {}", stream.peer_addr()?);

    let mut buf = [0; 1024];
    for line in LINES {
        // writer.write(line.encode()); await writer.drain()
        stream.write_all(line.as_bytes()).await?;
        // reply = await reader.readexactly(len(line)): TCP is a byte stream, so the
        // echo may arrive in pieces; read until the whole line is back.
        let mut got = 0;
        while got < line.len() {
            let n = stream.read(&mut buf[got..line.len()]).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            got += n;
        }
        print!("echoed: {}", String::from_utf8_lossy(&buf[..got]));
    }

    // writer.write_eof(): tell the server we are done sending...
    stream.shutdown(Shutdown::Write)?;
    // ...and await reader.read() == b"": wait for it to close its side too.
    let n = stream.read(&mut buf).await?;
    println!("server closed the connection ({n} more bytes)");
    // writer.close(); await writer.wait_closed(): dropping the stream closes it.
    Ok(())
}
