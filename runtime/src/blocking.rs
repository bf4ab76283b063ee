//! `to_thread`: run blocking code on a small pool of helper threads while
//! the loop goes on, like `asyncio.to_thread`.
//!
//! The job runs on a helper thread; its result lands in a one-shot slot and
//! the waiting task is woken from the helper thread — a cross-thread wake
//! through the runtime's mailbox (see `executor.rs`). The task on the loop's
//! side is an ordinary spawned task that awaits the slot, so the caller gets
//! an ordinary [`JoinHandle`].
//!
//! Threads are started on demand, up to `min(32, cores + 4)` (see `max_threads`), and leave after
//! [`IDLE_TIMEOUT`] without work. A job cannot be interrupted: cancelling the
//! handle drops the waiting task, and the job's result is thrown away when
//! it finishes. Jobs still running when the runtime is dropped finish on
//! their helper thread; the runtime does not wait for them.

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::context;
use crate::join::JoinHandle;

/// At most this many helper threads per runtime: the size CPython's default
/// executor uses (`min(32, os.cpu_count() + 4)`), since the jobs are the same
/// kind of blocking calls. Computed at pool creation.
fn max_threads() -> usize {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    (cores + 4).min(32)
}

/// An idle helper thread exits after this long, so an idle program holds no
/// threads; tokio's blocking pool uses the same keep-alive.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send>;

/// The per-runtime pool.
pub(crate) struct BlockingPool {
    jobs: Sender<Job>,
    queue: Receiver<Job>,
    threads: AtomicUsize,
    idle: Arc<AtomicUsize>,
    /// Jobs submitted and not yet finished (virtual time waits for these in
    /// real time before it jumps the clock).
    in_flight: AtomicUsize,
    max_threads: usize,
}

impl BlockingPool {
    pub(crate) fn new() -> BlockingPool {
        let (jobs, queue) = crossbeam_channel::unbounded();
        BlockingPool {
            jobs,
            queue,
            threads: AtomicUsize::new(0),
            idle: Arc::new(AtomicUsize::new(0)),
            in_flight: AtomicUsize::new(0),
            max_threads: max_threads(),
        }
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    fn submit(&self, job: Job) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.jobs
            .send(job)
            .expect("the pool holds its own receiver");
        if self.idle.load(Ordering::Acquire) == 0
            && self.threads.load(Ordering::Relaxed) < self.max_threads
        {
            self.threads.fetch_add(1, Ordering::Relaxed);
            let queue = self.queue.clone();
            let idle = self.idle.clone();
            thread::Builder::new()
                .name("spindle-to-thread".into())
                .spawn(move || helper(queue, idle))
                .expect("could not start a to_thread helper thread");
        }
    }
}

fn helper(queue: Receiver<Job>, idle: Arc<AtomicUsize>) {
    loop {
        idle.fetch_add(1, Ordering::AcqRel);
        let job = queue.recv_timeout(IDLE_TIMEOUT);
        idle.fetch_sub(1, Ordering::AcqRel);
        match job {
            Ok(job) => job(),
            Err(_) => return, // idle too long, or the runtime is gone
        }
    }
}

/// Runs `f` on a helper thread and resolves to its result; the loop keeps
/// running other tasks meanwhile. A panic in `f` makes the handle resolve to
/// `Err(e)` with `e.is_panic()`.
///
/// # Examples
///
/// ```
/// spindle_runtime::run(async {
///     let sum = spindle_runtime::to_thread(|| (1..=100u32).sum::<u32>()).await.unwrap();
///     assert_eq!(sum, 5050);
/// });
/// ```
///
/// # Cancellation
///
/// Cancelling or dropping the handle does not stop `f`, which cannot be
/// interrupted; its result is dropped when it finishes.
///
/// # Panics
///
/// Outside of a runtime (message contains `outside of a spindle runtime`).
#[track_caller]
pub fn to_thread<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let slot = Arc::new(Mutex::new(Slot::<R> {
        result: None,
        waker: None,
    }));
    let for_job = slot.clone();
    context::expect_core("to_thread", |core| {
        let shared = core.shared.clone();
        core.shared.blocking.submit(Box::new(move || {
            let result = catch_unwind(AssertUnwindSafe(f));
            let waker = {
                let mut slot = for_job.lock().unwrap_or_else(|e| e.into_inner());
                slot.result = Some(result);
                slot.waker.take()
            };
            // Wake outside the lock. The wake is in the mailbox before the job
            // stops counting as in flight, and the loop is roused once more after,
            // so virtual time, which waits while jobs are in flight, never misses
            // the end of the last one.
            if let Some(waker) = waker {
                waker.wake();
            }
            shared.blocking.in_flight.fetch_sub(1, Ordering::AcqRel);
            shared.unpark();
        }));
    });
    crate::spawn(async move {
        match (JobResult { slot }).await {
            Ok(value) => value,
            Err(payload) => resume_unwind(payload),
        }
    })
}

struct Slot<R> {
    result: Option<thread::Result<R>>,
    waker: Option<Waker>,
}

/// The loop side of a job: waits until the helper thread fills the slot.
struct JobResult<R> {
    slot: Arc<Mutex<Slot<R>>>,
}

impl<R> Future for JobResult<R> {
    type Output = thread::Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        match slot.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
