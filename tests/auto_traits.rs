//! `Send`, `Sync`, `Unpin` and friends of the public types, checked at
//! compile time (after futures-rs `tests/auto_traits.rs`): a change that
//! gains or loses one of these traits is an API change and must show up here.
//!
//! Positive checks are generic functions with bounds; negative checks use the
//! "ambiguous impl" trick (see [`not_send`]): if the type *did* implement the
//! trait, the path `<T as AmbiguousIfSend<_>>::some_item` would have two
//! candidate impls and fail to compile.
//!
//! The primitives' types (`Queue`, `Event`, `Elapsed`, ...) are to be added
//! here by whoever finishes `spindle-primitives`.

use std::rc::Rc;

use spindle::time::{Interval, Sleep, TimerHandle};
use spindle::{Builder, Handle, JoinError, JoinHandle, MetricsSnapshot, Runtime, YieldNow};

fn assert_send<T: ?Sized + Send>() {}
fn assert_sync<T: ?Sized + Sync>() {}
fn assert_unpin<T: ?Sized + Unpin>() {}
fn assert_clone<T: Clone>() {}

/// Negative checks: each macro use fails to compile if the type implements
/// the trait. `impl<T: ?Sized> Ambiguous<()> for T` always applies; the
/// second impl applies only when `T: Trait`, and then the call is ambiguous.
macro_rules! assert_not_impl {
    ($trait_:path, $name:ident, $ty:ty) => {{
        trait $name<A> {
            fn some_item() {}
        }
        impl<T: ?Sized> $name<()> for T {}
        #[allow(dead_code)]
        struct Invalid;
        impl<T: ?Sized + $trait_> $name<Invalid> for T {}
        let _ = <$ty as $name<_>>::some_item;
    }};
}

/// Fails to compile if `$ty` is `Send`.
macro_rules! not_send {
    ($ty:ty) => {
        assert_not_impl!(Send, AmbiguousIfSend, $ty)
    };
}

/// Fails to compile if `$ty` is `Sync`.
macro_rules! not_sync {
    ($ty:ty) => {
        assert_not_impl!(Sync, AmbiguousIfSync, $ty)
    };
}

/// `Handle: Clone + Send + Sync`: it is how other threads reach a runtime.
#[test]
fn handle_is_send_sync_clone() {
    assert_send::<Handle>();
    assert_sync::<Handle>();
    assert_clone::<Handle>();
}

/// `JoinHandle<T>` is `Send + Sync + Unpin` when `T: Send`, and not `Send`
/// nor `Sync` when `T` is not (its output would cross threads).
#[test]
fn join_handle_auto_traits() {
    assert_send::<JoinHandle<u32>>();
    assert_sync::<JoinHandle<u32>>();
    assert_unpin::<JoinHandle<u32>>();
    // Unpin whatever the output.
    assert_unpin::<JoinHandle<Rc<u32>>>();
    not_send!(JoinHandle<Rc<u32>>);
    not_sync!(JoinHandle<Rc<u32>>);
}

/// `JoinError: Send`. It is not `Sync`: it holds the panic payload as a
/// `Box<dyn Any + Send>`, as `std::thread::Result` and tokio do, and a panic
/// payload is not required to be `Sync`. Not asserted negatively, since
/// gaining `Sync` would not break anyone.
#[test]
fn join_error_is_send() {
    assert_send::<JoinError>();
    assert_unpin::<JoinError>();
}

/// `Runtime` is neither `Send` nor `Sync`: its loop and every task it runs
/// stay on the thread that created it.
#[test]
fn runtime_is_not_send_nor_sync() {
    not_send!(Runtime);
    not_sync!(Runtime);
}

/// `Builder` is plain configuration: `Send + Sync`.
#[test]
fn builder_is_send_sync() {
    assert_send::<Builder>();
    assert_sync::<Builder>();
}

/// `Sleep` is `Send + Sync + Unpin`, as its rustdoc says: it can be stored in
/// `Send` futures (for `Handle::spawn`) and polled without pinning.
#[test]
fn sleep_is_send_sync_unpin() {
    assert_send::<Sleep>();
    assert_sync::<Sleep>();
    assert_unpin::<Sleep>();
}

/// `YieldNow` is a plain flag: `Send + Sync + Unpin`.
#[test]
fn yield_now_is_send_sync_unpin() {
    assert_send::<YieldNow>();
    assert_sync::<YieldNow>();
    assert_unpin::<YieldNow>();
}

/// `Interval` holds a `Sleep`: `Send + Sync + Unpin` too.
#[test]
fn interval_is_send_sync_unpin() {
    assert_send::<Interval>();
    assert_sync::<Interval>();
    assert_unpin::<Interval>();
}

/// `TimerHandle` names a timer of the runtime on this thread: not `Send`.
#[test]
fn timer_handle_is_not_send() {
    not_send!(TimerHandle);
}

/// `MetricsSnapshot` is plain numbers: `Send + Sync`.
#[test]
fn metrics_snapshot_is_send_sync() {
    assert_send::<MetricsSnapshot>();
    assert_sync::<MetricsSnapshot>();
    assert_clone::<MetricsSnapshot>();
}

/// The three queues are one type (`GenericQueue<T, O>`), so they share
/// their auto traits: `Send + Sync + Clone` when `T: Send` (a lock guards
/// every item, so `T: Sync` is not needed), neither `Send` nor `Sync` when
/// `T` is not. Their futures are `Unpin`, and `Send` when `T: Send`.
#[test]
fn queues_are_send_sync_clone_when_their_items_are_send() {
    use spindle::queue::{Get, Join, Put};
    use spindle::{LifoQueue, PriorityQueue, Queue};

    fn queue_like<Q: Send + Sync + Clone + Unpin>() {}
    queue_like::<Queue<String>>();
    queue_like::<PriorityQueue<String>>();
    queue_like::<LifoQueue<String>>();
    // `Cell` is `Send` but not `Sync`: still enough for a queue.
    queue_like::<PriorityQueue<(u8, std::cell::Cell<u8>)>>();

    fn future_like<F: Send + Unpin>() {}
    future_like::<Put<'static, String>>();
    future_like::<Get<'static, String, spindle::queue::Priority>>();
    future_like::<Join<'static, String, spindle::queue::Lifo>>();
    future_like::<Put<'static, std::cell::Cell<u8>, spindle::queue::Lifo>>();
    assert_sync::<Get<'static, String, spindle::queue::Lifo>>();
    assert_unpin::<Put<'static, std::marker::PhantomPinned>>();

    not_send!(Queue<Rc<u8>>);
    not_sync!(Queue<Rc<u8>>);
    not_send!(PriorityQueue<Rc<u8>>);
    not_sync!(PriorityQueue<Rc<u8>>);
    not_send!(LifoQueue<Rc<u8>>);
    not_sync!(LifoQueue<Rc<u8>>);
    not_send!(Get<'static, Rc<u8>, spindle::queue::Priority>);
    // A put future owns its item until it is in the queue.
    not_sync!(Put<'static, std::cell::Cell<u8>>);
}

/// `Mutex<T>` is `Send + Sync` when `T: Send` (one holder at a time, so `T`
/// need not be `Sync`); its guard is `Send` when `T: Send` and `Sync` only
/// when `T: Sync` too (a `&MutexGuard` hands out `&T`). The `lock()` future
/// is `Send + Sync + Unpin`.
#[test]
fn mutex_auto_traits() {
    use spindle::{mutex::Lock, Mutex, MutexGuard};
    use std::cell::Cell;
    assert_send::<Mutex<u32>>();
    assert_sync::<Mutex<u32>>();
    assert_send::<Mutex<Cell<u32>>>();
    assert_sync::<Mutex<Cell<u32>>>();
    not_send!(Mutex<Rc<u32>>);
    not_sync!(Mutex<Rc<u32>>);
    assert_send::<MutexGuard<'static, u32>>();
    assert_sync::<MutexGuard<'static, u32>>();
    assert_send::<MutexGuard<'static, Cell<u32>>>();
    not_sync!(MutexGuard<'static, Cell<u32>>);
    not_send!(MutexGuard<'static, Rc<u32>>);
    assert_send::<Lock<'static, u32>>();
    assert_sync::<Lock<'static, u32>>();
    assert_unpin::<Lock<'static, u32>>();
}

/// `Semaphore`, its permit and its `acquire()` future are `Send + Sync`;
/// the future is `Unpin`.
#[test]
fn semaphore_auto_traits() {
    use spindle::{semaphore::Acquire, Semaphore, SemaphorePermit};
    assert_send::<Semaphore>();
    assert_sync::<Semaphore>();
    assert_send::<SemaphorePermit<'static>>();
    assert_sync::<SemaphorePermit<'static>>();
    assert_send::<Acquire<'static>>();
    assert_sync::<Acquire<'static>>();
    assert_unpin::<Acquire<'static>>();
}

/// `Condition` and `Barrier` are `Send + Sync`, and so are their `wait()`
/// futures (for a `Condition`, when the mutex's `T: Send + Sync`, as its
/// guard inside requires); all are `Unpin`.
#[test]
fn condition_and_barrier_auto_traits() {
    use spindle::{barrier, condition, Barrier, Condition};
    assert_send::<Condition>();
    assert_sync::<Condition>();
    assert_send::<condition::Wait<'static, u32>>();
    assert_sync::<condition::Wait<'static, u32>>();
    assert_unpin::<condition::Wait<'static, u32>>();
    assert_send::<Barrier>();
    assert_sync::<Barrier>();
    assert_send::<barrier::Wait<'static>>();
    assert_sync::<barrier::Wait<'static>>();
    assert_unpin::<barrier::Wait<'static>>();
}

/// The task group lives on one thread: its handle, its children's handles
/// and its future are not `Send` (children need not be). Its error *is*
/// `Send + Sync` when the error type is — the panic payloads it carries sit
/// behind a mutex — so it converts into `Box<dyn Error + Send + Sync>`.
#[test]
fn task_group_types_stay_on_their_thread_and_its_error_travels() {
    use spindle::{ChildError, ChildHandle, Failure, GroupError, PanicPayload, TaskGroup};
    not_send!(TaskGroup<()>);
    not_sync!(TaskGroup<()>);
    assert_clone::<TaskGroup<()>>();
    not_send!(ChildHandle<u8>);
    assert_unpin::<ChildHandle<std::marker::PhantomPinned>>();
    type Group = spindle::TaskGroupFuture<std::future::Ready<Result<(), ()>>, (), ()>;
    not_send!(Group);
    assert_unpin::<Group>();
    assert_send::<GroupError<String>>();
    assert_sync::<GroupError<String>>();
    assert_send::<Failure<String>>();
    assert_sync::<PanicPayload>();
    assert_send::<ChildError>();
    assert_sync::<ChildError>();
    fn into_boxed(e: GroupError<String>) -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(e)
    }
    let _ = into_boxed;
}

/// The scope handle is shared with the body and maybe other threads:
/// `Send + Sync + Clone`; the scope future is `Send` when its body is.
#[test]
fn timeout_scope_handle_is_send_sync_clone() {
    use spindle::{TimeoutScope, TimeoutScopeFuture};
    assert_send::<TimeoutScope>();
    assert_sync::<TimeoutScope>();
    assert_clone::<TimeoutScope>();
    assert_send::<TimeoutScopeFuture<std::future::Ready<u8>>>();
}

/// The joiners hold their children boxed: `Unpin` whatever the children,
/// and `Send` when the children are.
#[test]
fn as_completed_race_and_joins_are_send_with_send_children() {
    use spindle::{AsCompleted, JoinAll, Race, TryJoinAll};
    type Ready = std::future::Ready<Result<u8, ()>>;
    assert_send::<AsCompleted<Ready>>();
    assert_unpin::<AsCompleted<std::future::Pending<u8>>>();
    assert_send::<JoinAll<Ready>>();
    assert_send::<TryJoinAll<Ready>>();
    assert_send::<Race<Ready, Ready>>();
    not_send!(AsCompleted<std::future::Ready<Rc<u8>>>);
}
