//! Beyond the cheatsheet §10 — `asyncio.Lock` and `asyncio.Semaphore`.
//!
//! ```text
//! cargo run --release --example 10_lock_semaphore
//! ```
//!
//! Five deposits read a balance, sleep 0.1 s *inside* the critical section,
//! then write it back. Without the lock each would read 0 and the balance
//! would end at 10; with it, the deposits take turns (in the order they
//! asked for the lock) and it ends at 50, after 0.5 s. Then five one-second
//! downloads share a semaphore of 2: they go two by two, in order.
//!
//! What differs from asyncio: the balance lives *inside* the `Mutex`, so it
//! can only be reached through the guard that `lock().await` returns — the
//! compiler checks what `async with lock:` only promises. The end of the
//! `async with` block is where the guard (or the semaphore's permit) is
//! dropped.

use std::time::Duration;

use spindle::{join_all, sleep, Mutex, Semaphore};

async fn deposit(balance: &Mutex<u32>, amount: u32) {
    let mut guard = balance.lock().await; // async with lock:
    let current = *guard; //                     current = balance
    sleep(Duration::from_millis(100)).await; // a suspension inside the critical section
    *guard = current + amount; //               balance = current + amount
} // the guard drops: the lock goes to the deposit that waited longest

async fn download(sem: &Semaphore, n: u32) {
    let _permit = sem.acquire().await; // async with sem:
    println!("start {n}");
    sleep(Duration::from_secs(1)).await; // await asyncio.sleep(1)
    println!("end {n}");
} // the permit drops: the next download may start

fn main() {
    // asyncio.run(main())
    spindle::run(async {
        // lock = asyncio.Lock(), with the global `balance = 0` inside it.
        let balance = Mutex::new(0);
        // await asyncio.gather(*(deposit(lock, 10) for _ in range(5)))
        join_all((0..5).map(|_| deposit(&balance, 10))).await;
        println!("balance: {}", *balance.lock().await);

        let sem = Semaphore::new(2); // sem = asyncio.Semaphore(2)
                                     // await asyncio.gather(*(download(sem, n) for n in range(1, 6)))
        join_all((1..=5).map(|n| download(&sem, n))).await;
    });
}
