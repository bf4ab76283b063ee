//! A compact workout of every `unsafe` path in the task machinery
//! (`task/`, `waker.rs`, `join.rs`, `executor.rs`, `recycle.rs`), small
//! enough for Miri:
//!
//! ```text
//! cargo +nightly miri test -p spindle-runtime
//! ```
//!
//! The behaviour tests proper live in the workspace's `tests/rt_*.rs`.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use spindle_runtime::{run, spawn, to_thread, yield_now, JoinHandle, Runtime};

/// Counts its drops.
struct DropCount(Arc<AtomicUsize>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn spawn_yield_join() {
    run(async {
        let a = spawn(async { 1 });
        let b = spawn(async {
            yield_now().await;
            String::from("two")
        });
        assert_eq!(a.await.unwrap(), 1);
        assert_eq!(b.await.unwrap(), "two");
    });
}

#[test]
fn detached_output_and_future_are_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    run(async move {
        // Detached before it finishes: the owner drops the output.
        drop(spawn(async move { DropCount(d) }));
        yield_now().await;
        yield_now().await;
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn unread_output_is_dropped_with_the_handle() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    run(async move {
        let handle = spawn(async move { DropCount(d) });
        yield_now().await;
        assert!(handle.is_finished());
        drop(handle);
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn cancel_and_self_cancel_and_shutdown() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (d1, d2, d3) = (drops.clone(), drops.clone(), drops.clone());
    run(async move {
        let guard = DropCount(d1);
        let sleeper = spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        yield_now().await;
        sleeper.cancel();
        assert!(sleeper.await.unwrap_err().is_cancelled());

        let own: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
        let own2 = own.clone();
        let guard = DropCount(d2);
        let selfish = spawn(async move {
            let _guard = guard;
            own2.borrow().as_ref().unwrap().cancel();
            std::future::pending::<()>().await;
        });
        *own.borrow_mut() = Some(selfish);
        yield_now().await;
        let handle = own.borrow_mut().take().unwrap();
        assert!(handle.await.unwrap_err().is_cancelled());

        // Left pending: cancelled at shutdown.
        let guard = DropCount(d3);
        drop(spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        }));
        yield_now().await;
    });
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn panics_are_contained() {
    run(async {
        let bad = spawn(async { panic!("expected in a test") });
        let good = spawn(async { 7 });
        assert!(bad.await.unwrap_err().is_panic());
        assert_eq!(good.await.unwrap(), 7);
    });
}

/// A future that parks its waker in a shared slot once, for another thread.
struct ParkOnce(Arc<Mutex<Option<Waker>>>, bool);
impl Future for ParkOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.1 {
            return Poll::Ready(());
        }
        self.1 = true;
        *self.0.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn cross_thread_wakes_spawns_and_cancels() {
    let runtime = Runtime::new().unwrap();
    let handle = runtime.handle();
    runtime.block_on(async move {
        let slot = Arc::new(Mutex::new(None::<Waker>));
        let task = spawn(ParkOnce(slot.clone(), false));
        yield_now().await;
        let waker = slot.lock().unwrap().take().unwrap();
        let spawned = std::thread::spawn(move || {
            waker.wake_by_ref();
            waker.wake();
            handle.spawn(async { 5 })
        })
        .join()
        .unwrap();
        task.await.unwrap();
        assert_eq!(spawned.await.unwrap(), 5);

        let pending = spawn(std::future::pending::<()>());
        let canceller = std::thread::spawn(move || {
            pending.cancel();
            pending
        });
        let pending = canceller.join().unwrap();
        assert!(pending.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn waker_outlives_runtime() {
    let slot = Arc::new(Mutex::new(None::<Waker>));
    let s = slot.clone();
    run(async move {
        let task = spawn(ParkOnce(s, false));
        yield_now().await;
        drop(task);
    });
    // The runtime is gone; waking and dropping the waker must be harmless.
    let waker = slot.lock().unwrap().take().unwrap();
    waker.wake_by_ref();
    drop(waker);
}

#[test]
fn to_thread_and_timers() {
    run(async {
        let value = to_thread(|| 40 + 2).await.unwrap();
        assert_eq!(value, 42);
        spindle_runtime::time::sleep(Duration::from_millis(1)).await;
    });
}

/// Task memory is recycled (`recycle.rs`): blocks of finished tasks are
/// reused by later spawns of every size, big and over-aligned tasks bypass
/// the cache, a task freed outside the runtime goes to the allocator, an idle
/// park trims the cache, and dropping the runtime frees what it holds. Miri
/// checks that no block is used after it is freed, freed twice, freed with
/// the wrong layout, or leaked.
#[test]
fn task_memory_is_recycled_and_freed_wherever_the_task_ends() {
    #[repr(align(64))]
    struct Aligned(u8);
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let runtime = Runtime::new().unwrap();
    let mut kept = None;
    runtime.block_on(async {
        for round in 0..3u8 {
            let small = spawn(async move { round });
            let medium = spawn(async move { [round; 200] });
            let bytes = [round; 600]; // held by the future: a task over 512 bytes
            let big = spawn(async move { bytes.len() });
            let aligned = spawn(async move { Aligned(round) });
            assert_eq!(small.await.unwrap(), round);
            assert_eq!(medium.await.unwrap()[199], round);
            assert_eq!(big.await.unwrap(), 600);
            assert_eq!(aligned.await.unwrap().0, round);
        }
        // A real idle park: the loop trims the cache before blocking.
        spindle_runtime::time::sleep(Duration::from_millis(1)).await;
        // Finished, but its handle outlives this `block_on`: the task is
        // freed outside the runtime, by the allocator.
        kept = Some(spawn(async move { DropCount(d) }));
        yield_now().await;
        yield_now().await;
    });
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "the output waits for the handle"
    );
    drop(kept);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(runtime);
}
