//! `to_thread`: run blocking code on the runtime's helper threads
//! (`blocking.rs`) while the loop goes on, like `asyncio.to_thread`.
//!
//! The job runs on a helper thread; its result lands in a one-shot slot and
//! the waiting task is woken from the helper thread — a cross-thread wake
//! through the runtime's mailbox (`mailbox.rs`). The task on the loop's
//! side is an ordinary spawned task that awaits the slot, so the caller gets
//! an ordinary [`JoinHandle`]. Cancelling the handle drops the waiting task;
//! the job's result is thrown away when it finishes.

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;

use crate::context;
use crate::join::JoinHandle;
use crate::observe::{self, Arg, WaitOn};

/// Runs `f` on a helper thread and resolves to its result; the loop keeps
/// running other tasks meanwhile. A panic in `f` makes the handle resolve to
/// `Err(e)` with `e.is_panic()`.
///
/// # Examples
///
/// ```
/// spindle::run(async {
///     let sum = spindle::to_thread(|| (1..=100u32).sum::<u32>()).await.unwrap();
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
            shared.blocking.job_done();
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

/// What the task standing for a job waits on: `to_thread job`.
static JOB: WaitOn = WaitOn::new("to_thread", "job", Arg::None);

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
                observe::record_here(&JOB, 0);
                Poll::Pending
            }
        }
    }
}
