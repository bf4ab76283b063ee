//! Running out of file descriptors in `accept` is an error the caller sees,
//! not a panic and not a busy loop inside spindle; and once descriptors are
//! free again, the queued connection is still there.
//!
//! A test binary of its own: it fills the whole process's descriptor table,
//! which would break any test running beside it.

mod support;

use std::time::Duration;

use spindle::net::TcpListener;
use support::{descriptor_table_fillable, fill_descriptor_table, is_emfile};

#[test]
fn emfile_from_accept_is_returned_and_the_connection_survives() {
    if !descriptor_table_fillable() {
        return;
    }
    spindle::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        // Let the handshake finish, so the connection is queued on the listener.
        spindle::sleep(Duration::from_millis(20)).await;

        // Fill the descriptor table.
        let filler = fill_descriptor_table();
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
