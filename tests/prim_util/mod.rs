//! Test instruments shared by the `prim_*` tests (and borrowed by
//! `rt_faults`): counting wakers, wakers that panic, gates that count their
//! polls, drop counters, and a one-step poll helper. They make assertions
//! exact ("polled twice", "woken once", "no waker clone left") without
//! timing.
#![allow(dead_code)] // each test file uses a different subset

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// Counts how often a waker built from it was woken.
#[derive(Default)]
pub struct WakeCounter(AtomicUsize);

impl WakeCounter {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker that counts its wakes, and the counter to read them from.
pub fn counting_waker() -> (Waker, Arc<WakeCounter>) {
    let counter = Arc::new(WakeCounter::default());
    (Waker::from(Arc::clone(&counter)), counter)
}

/// How many `Waker`s built from `source` are alive: each clone holds one
/// strong reference to it, and the test's own `Arc` holds the last one. A
/// waker leaked by the code under test keeps this above what the test holds.
pub fn live_wakers<W>(source: &Arc<W>) -> usize {
    Arc::strong_count(source) - 1
}

/// A waker whose `wake` counts, then panics with its message: an executor
/// bug, or a waker that runs user code. The panic payload is the message
/// itself, a `&'static str`.
pub struct PanicWaker {
    message: &'static str,
    wakes: AtomicUsize,
}

impl PanicWaker {
    pub fn count(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

impl Wake for PanicWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        std::panic::panic_any(self.message);
    }
}

/// A waker that panics with `message` when woken, and its counter.
pub fn panicking_waker(message: &'static str) -> (Waker, Arc<PanicWaker>) {
    let source = Arc::new(PanicWaker {
        message,
        wakes: AtomicUsize::new(0),
    });
    (Waker::from(Arc::clone(&source)), source)
}

/// The message of a panic caught by `catch_unwind`, if it was a plain one.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// Polls `fut` once with `waker`.
pub fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

/// A future under the test's control: pending until `open`, counting polls,
/// remembering the last waker so the test can fire it.
#[derive(Clone, Default)]
pub struct Gate(Arc<Mutex<GateState>>);

#[derive(Default)]
struct GateState {
    open: bool,
    polls: usize,
    waker: Option<Waker>,
}

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }
    /// Opens the gate and wakes whoever waits on it.
    pub fn open(&self) {
        let waker = {
            let mut s = self.0.lock().unwrap();
            s.open = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
    /// Fires the stored waker without opening: a spurious wake.
    pub fn wake_only(&self) {
        let waker = self.0.lock().unwrap().waker.clone();
        if let Some(w) = waker {
            w.wake();
        }
    }
    pub fn polls(&self) -> usize {
        self.0.lock().unwrap().polls
    }
    /// A future that completes with `value` once the gate is open.
    pub fn wait<T>(&self, value: T) -> GateFuture<T> {
        GateFuture {
            gate: self.clone(),
            value: Some(value),
        }
    }
}

pub struct GateFuture<T> {
    gate: Gate,
    value: Option<T>,
}

impl<T> Unpin for GateFuture<T> {}

impl<T> Future for GateFuture<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = self.gate.0.lock().unwrap();
        s.polls += 1;
        if s.open {
            drop(s);
            Poll::Ready(
                self.value
                    .take()
                    .expect("GateFuture polled after completion"),
            )
        } else {
            s.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Counts drops of the `Guard`s it hands out.
#[derive(Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    pub fn new() -> DropCounter {
        DropCounter::default()
    }
    pub fn guard(&self) -> Guard {
        Guard(self.clone())
    }
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Increments its counter when dropped.
pub struct Guard(DropCounter);

impl Drop for Guard {
    fn drop(&mut self) {
        (self.0).0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Returns `Pending` once (waking itself at once), then `Ready`: one turn
/// of an executor's loop, without depending on any runtime.
pub fn yield_once() -> YieldOnce {
    YieldOnce(false)
}

pub struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
