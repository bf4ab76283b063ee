//! Beyond the cheatsheet §7 — the lost update, and how a seed finds it.
//!
//! ```text
//! cargo run --release --example 15_lost_update
//! ```
//!
//! Two tellers move money between two accounts at once. Each reads a
//! balance, `await`s (a round trip to the database, say), then writes back
//! what it read plus or minus the amount. If the other teller wrote that
//! balance in between, its write is lost, and money appears or disappears.
//!
//! Under FIFO this program is always right: the loop happens to run the
//! tellers' steps in an order where neither ever gets in between. That is
//! the trap — the bug is there, FIFO hides it. A seeded schedule
//! (`SPINDLE_SEED=n`, `Builder::seed`) runs the tasks that are ready
//! together in a different, equally legal order for every seed, and
//! `explore` tries a range of seeds until one breaks the program. Then:
//!
//! ```text
//! SPINDLE_SEED=<the seed> SPINDLE_CLOCK=virtual cargo run --release --example 15_lost_update
//! ```
//!
//! replays exactly that interleaving, step by step (add
//! `SPINDLE_TRACE=traces/lost.json` to draw it). The fix is the one asyncio
//! would use: hold a `Mutex` from the read to the write; all 1 000 seeds
//! then balance.

use std::cell::RefCell;
use std::rc::Rc;

use spindle::{explore, spawn_named, yield_now, Mutex};

/// What the two accounts hold before the tellers start: 100 + 100.
const TOTAL: i64 = 200;

/// The two accounts, shared by the tellers of one run.
type Accounts = Rc<RefCell<[i64; 2]>>;

/// One round trip to the database: the task suspends, and every other task
/// that is ready runs before it resumes.
async fn round_trip() {
    yield_now().await;
}

/// Moves `amount` from account `from` to `to` — wrongly: each balance is
/// read, then an `await`, then written back.
async fn transfer(accounts: Accounts, teller: &str, from: usize, to: usize, amount: i64) {
    let balance = read(&accounts, teller, from);
    round_trip().await;
    write(&accounts, teller, from, balance - amount);
    let balance = read(&accounts, teller, to);
    round_trip().await;
    write(&accounts, teller, to, balance + amount);
}

/// The same transfer under a lock held from the first read to the last
/// write, as `async with lock:` would in asyncio.
async fn locked_transfer(
    lock: Rc<Mutex<()>>,
    accounts: Accounts,
    teller: &str,
    from: usize,
    to: usize,
    amount: i64,
) {
    let _held = lock.lock().await;
    transfer(accounts, teller, from, to, amount).await;
}

/// One run: teller 1 moves 30 from A to B while teller 2, after checking
/// its request with a fraud service (two round trips), moves 20 from B to
/// A. Panics if the books do not balance afterwards.
async fn two_tellers(locked: bool) {
    let accounts: Accounts = Rc::new(RefCell::new([TOTAL / 2, TOTAL / 2]));
    let lock = Rc::new(Mutex::new(()));
    let (a, b) = (accounts.clone(), accounts.clone());
    let (lock1, lock2) = (lock.clone(), lock);
    let teller1 = spawn_named("teller 1", async move {
        if locked {
            locked_transfer(lock1, a, "teller 1", 0, 1, 30).await
        } else {
            transfer(a, "teller 1", 0, 1, 30).await
        }
    });
    let teller2 = spawn_named("teller 2", async move {
        round_trip().await; // the fraud check...
        round_trip().await;
        if locked {
            locked_transfer(lock2, b, "teller 2", 1, 0, 20).await
        } else {
            transfer(b, "teller 2", 1, 0, 20).await
        }
    });
    teller1.await.unwrap();
    teller2.await.unwrap();
    let [a, b] = *accounts.borrow();
    assert!(a + b == TOTAL, "the books do not balance: A = {a}, B = {b}");
}

fn name(account: usize) -> &'static str {
    ["A", "B"][account]
}

fn read(accounts: &Accounts, teller: &str, account: usize) -> i64 {
    let balance = accounts.borrow()[account];
    show(format_args!(
        "{teller} reads  {} = {balance}",
        name(account)
    ));
    balance
}

fn write(accounts: &Accounts, teller: &str, account: usize, balance: i64) {
    accounts.borrow_mut()[account] = balance;
    show(format_args!(
        "{teller} writes {} = {balance}",
        name(account)
    ));
}

/// Prints a teller's step while `VERBOSE`, so that an interleaving can be
/// read line by line.
fn show(step: std::fmt::Arguments<'_>) {
    if VERBOSE.with(|v| *v.borrow()) {
        println!("  {step}");
    }
}

thread_local! {
    static VERBOSE: RefCell<bool> = const { RefCell::new(false) };
}

fn main() {
    if std::env::var_os("SPINDLE_SEED").is_some() {
        // Replay: `run` reads SPINDLE_SEED (and SPINDLE_CLOCK, SPINDLE_TRACE).
        VERBOSE.with(|v| *v.borrow_mut() = true);
        println!("replaying the unlocked transfers under SPINDLE_SEED:");
        spindle::run(two_tellers(false));
        println!("the books balance under this seed");
        return;
    }

    // 1. FIFO, the default: every run balances.
    VERBOSE.with(|v| *v.borrow_mut() = true);
    println!("FIFO:");
    spindle::run(two_tellers(false));
    VERBOSE.with(|v| *v.borrow_mut() = false);
    println!("FIFO: the books balance");

    // 2. Seeds 0..1000, each a fresh runtime in virtual time: the first seed
    //    whose interleaving loses an update stops the search. explore
    //    reports a failure by panicking; here that panic is caught and its
    //    message printed, and the panic hook prints the failing run's own
    //    panic as one line.
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload().downcast_ref::<String>();
        if let Some(message) = message.filter(|m| !m.starts_with("explore:")) {
            println!("  a seeded run panicked: {message}");
        }
    }));
    match std::panic::catch_unwind(|| explore(0..1000, || two_tellers(false))) {
        Ok(runs) => println!("explore: all {runs} seeds balance"),
        Err(found) => {
            let message = found.downcast_ref::<String>().map_or("", String::as_str);
            println!("{message}");
        }
    }

    // 3. The fix: a Mutex around each transfer. Every seed balances.
    let runs = explore(0..1000, || two_tellers(true));
    println!("with a Mutex: all {runs} seeds balance");
}
