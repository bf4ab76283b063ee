//! `explore`: run a program under many seeded schedules and stop at the
//! first one that breaks it.
//!
//! FIFO scheduling hides a whole class of bugs. Read a balance, `await`
//! something, write the balance back: if another task changed it in
//! between, its update is lost — but under FIFO the other task may simply
//! never get in between. A seeded runtime ([`Builder::seed`]) polls the
//! tasks that are ready together in a different, equally legal order for
//! each seed, and under virtual time a seed replays its schedule exactly.
//! So trying seeds `0..1000` is a search through interleavings, and the
//! seed of a failure is a complete bug report: `SPINDLE_SEED=N` replays it.
//!
//! This is the idea of madsim's and shuttle's random schedulers, built into
//! the runtime: no instrumented primitives, no special build. It finds bugs
//! that need the *tasks* to interleave differently; for the orderings of
//! atomics between threads, a model checker such as loom is the tool (the
//! runtime's own protocols are checked that way).

use std::future::Future;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::report::panic_message;
use crate::runtime::Builder;

/// Runs `body()` once per seed in `seeds`, each time on a fresh runtime
/// under virtual time with that seed ([`Builder::seed`]), and returns how
/// many runs there were.
///
/// A run fails when it panics: an `assert!` in the body, or a panic in the
/// body's own future (a spawned task's panic fails the run only if the body
/// awaits its handle and unwraps it).
///
/// # Panics
///
/// At the first failing seed, with a message containing `seed N`, the
/// failure's own message and how to replay the run: `SPINDLE_SEED=N
/// SPINDLE_CLOCK=virtual` for a program that starts with [`run`](crate::run),
/// or `Builder::seed(N).virtual_time(true)`. The seeds after it do not run.
/// The failure's own panic is printed by the panic hook when it happens, as
/// usual.
///
/// # Examples
///
/// Two tasks each add one to a shared counter with an `await` between the
/// read and the write. FIFO happens to run them one after the other, so the
/// count comes out right; some seeds interleave them, and the update of one
/// is lost:
///
/// ```
/// use spindle::{explore, spawn, yield_now};
/// use std::{cell::Cell, rc::Rc};
///
/// let add_one = |counter: Rc<Cell<u32>>| async move {
///     let read = counter.get();
///     yield_now().await; // another task may run here
///     counter.set(read + 1);
/// };
/// let outcome = std::panic::catch_unwind(|| {
///     explore(0..100, || async move {
///         let counter = Rc::new(Cell::new(0));
///         let a = spawn(add_one(counter.clone()));
///         yield_now().await; // `a` reads first...
///         let b = spawn(add_one(counter.clone()));
///         let (_, _) = (a.await, b.await);
///         assert_eq!(counter.get(), 2, "an update was lost");
///     })
/// });
/// let message = *outcome.unwrap_err().downcast::<String>().unwrap();
/// assert!(message.contains("seed"), "{message}");
/// assert!(message.contains("SPINDLE_SEED="), "{message}");
/// ```
#[track_caller]
pub fn explore<F, Fut>(seeds: Range<u64>, mut body: F) -> usize
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut runs = 0;
    for seed in seeds {
        let runtime = match Builder::default().virtual_time(true).seed(seed).build() {
            Ok(runtime) => runtime,
            Err(error) => panic!("explore could not create the runtime for seed {seed}: {error}"),
        };
        runs += 1;
        // The runtime drops inside the closure: a task's `Drop` that panics
        // at shutdown fails this seed too.
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on_naming_the_seed(body(), false);
            drop(runtime);
        }));
        if let Err(payload) = outcome {
            let message = panic_message(payload.as_ref()).unwrap_or("(a non-string panic payload)");
            panic!(
                "explore: the run with seed {seed} failed (run {runs} of the range): {message}\n\
                 replay it with SPINDLE_SEED={seed} SPINDLE_CLOCK=virtual \
                 (or Builder::seed({seed}).virtual_time(true))"
            );
        }
    }
    runs
}
