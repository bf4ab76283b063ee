//! Instruments shared by the join-race tests (`runtime/tests/miri_races.rs`
//! and, through `#[path]`, the root package's `tests/rt_join_race.rs`):
//! where a `!Send` future was dropped, a waker that unparks its thread, a
//! panic's message, and the task that churns its waker while another thread
//! polls its handle. Plain std, so both packages can include it.

#![allow(dead_code)] // each file uses a subset

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread, ThreadId};

/// Where the guards made by [`DropSites::guard`] were dropped: one thread id
/// per drop, in drop order.
#[derive(Clone, Default)]
pub struct DropSites(Arc<Mutex<Vec<ThreadId>>>);

impl DropSites {
    pub fn guard(&self) -> DropSite {
        DropSite(self.clone(), PhantomData)
    }

    pub fn get(&self) -> Vec<ThreadId> {
        self.0.lock().unwrap().clone()
    }
}

/// Records the thread that drops it. Not `Send`, and neither is a future
/// that holds one: the runtime promises to poll and drop such a future on
/// its own thread only.
pub struct DropSite(DropSites, PhantomData<*const ()>);

impl Drop for DropSite {
    fn drop(&mut self) {
        (self.0).0.lock().unwrap().push(thread::current().id());
    }
}

/// A waker that unparks the thread that made it. Each one is a new
/// allocation, so two of them never `will_wake` each other.
pub struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

pub fn unpark_waker() -> Waker {
    Waker::from(Arc::new(Unpark(thread::current())))
}

/// The message of a panic payload, for failure reports.
pub fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(not a string)".into())
}

/// What the task in the churn test and the thread polling its handle share.
#[derive(Default)]
pub struct Overlap {
    /// The task is cloning and dropping its waker right now.
    pub churning: AtomicBool,
    /// Polls of the handle so far.
    pub polls: AtomicU64,
    /// The polls are over: the task may finish.
    pub stop: AtomicBool,
}

/// Clones and drops its waker, which moves its task's reference count up
/// and down, until the other thread has polled the handle `overlap` times
/// meanwhile (or `MAX_CHURN` times, should that thread be descheduled), then
/// wakes itself, until `stop`. Overlapping the two on purpose keeps the test
/// meaningful on a loaded machine.
pub struct Churn {
    pub _site: DropSite,
    pub shared: Arc<Overlap>,
    /// Polls of the handle to wait for in one burst of churning.
    pub overlap: u64,
}

impl Future for Churn {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        const MAX_CHURN: u32 = if cfg!(miri) { 64 } else { 100_000 };
        // Copied out first: should a faulty handle drop this future on
        // another thread meanwhile, the rest of the poll only touches the
        // stack, and the test gets to report it.
        let (shared, overlap) = (self.shared.clone(), self.overlap);
        let polls = shared.polls.load(Ordering::Acquire);
        shared.churning.store(true, Ordering::Release);
        for _ in 0..MAX_CHURN {
            drop(cx.waker().clone());
            if shared.polls.load(Ordering::Relaxed) >= polls + overlap {
                break;
            }
        }
        shared.churning.store(false, Ordering::Release);
        if shared.stop.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
