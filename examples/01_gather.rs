//! Placeholder until the cheatsheet examples land: three sleeping tasks.
//! `cargo run --release --example 01_gather`
use std::time::Duration;

fn main() {
    spindle::run(async {
        let handles: Vec<_> = (1..=3u64)
            .map(|i| {
                spindle::spawn(async move {
                    spindle::sleep(Duration::from_secs(i)).await;
                    println!("Event {i} occurred");
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
}
