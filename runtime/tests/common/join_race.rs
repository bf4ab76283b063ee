//! Instruments shared by the join-race tests (`runtime/tests/miri_races.rs`
//! and, through `#[path]`, the root package's `tests/rt_join_race.rs`):
//! where a `!Send` future was dropped, a waker that unparks its thread, and
//! a panic's message. Plain std, so both packages can include it.

#![allow(dead_code)] // each file uses a subset

use std::any::Any;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::task::{Wake, Waker};
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
