//! [`task_group`]: structured concurrency — asyncio's
//! `async with asyncio.TaskGroup() as tg: tg.create_task(...)`.
//!
//! A task group runs a *body* and the *children* it spawns, and ends only
//! when every one of them has ended. Nothing it started outlives it. If
//! anything fails — a child or the body returns `Err`, or panics — the
//! group cancels everything else at once and returns all the failures
//! together in a [`GroupError`].
//!
//! ```text
//! task_group(|group| async move {        async with TaskGroup() as tg:
//!     let a = group.spawn(job("a"));         a = tg.create_task(job("a"))
//!     let b = group.spawn(job("b"));         b = tg.create_task(job("b"))
//!     Ok(())                             # the block ends; the group waits
//! }).await                               # for a and b
//! ```
//!
//! # The shape: one future, the children inside it
//!
//! asyncio's children are tasks of their own, scheduled by the loop. Here
//! they are not: the group is one future — [`TaskGroupFuture`] — that
//! owns the body and every child and polls them inside its own `poll`,
//! like [`join_all`](crate::join_all) but with a set that grows. That
//! shape is what makes the group *structured* without help from the
//! runtime: a child cannot outlive the group because the group owns it;
//! cancelling a child is dropping its future (its `Drop` runs, which is
//! where Rust code does what Python does in `except CancelledError`); and
//! cancelling the group — dropping it, as `JoinHandle::cancel` drops a
//! task's future — drops every child with it. It also makes the group
//! runtime-agnostic: it needs nothing but [`Waker`], so it runs on spindle,
//! tokio or `futures_executor` alike, and children need not be `Send`.
//!
//! The price is the difference from asyncio: children run only when the
//! group's task polls the group. That is always the case while the group
//! is awaited — and `task_group(..)` is always awaited, by the task that
//! wrote it — but the children share that one task: they never run in
//! parallel on other threads, and a child that blocks the thread blocks
//! its siblings (as it would block every task in asyncio).
//!
//! The children sit in a `FutureSet` (`future_set.rs`), each with a waker
//! of its own: a wake polls only the child it names, so a group of
//! thousands of idle children costs nothing per wake of one of them. The
//! body is a member of the same set. `spawn` does not poll the new child:
//! it lands in an *inbox* the group empties at the start of its next poll
//! (waking its task if need be), ahead of the members woken meanwhile. So
//! a child first runs after its spawner has yielded and before the
//! spawner resumes, as with asyncio's `create_task`.
//!
//! # Failing: one poll, no half measures
//!
//! Every poll of a member (child or body) is wrapped in `catch_unwind`.
//! The first member that returns `Err` or panics makes the group
//! *failing*: it polls no other member after that one, drops every member
//! still running (in the order they were spawned, the body first), and
//! returns. A member that panics while being dropped adds a failure; a
//! cancelled member is not a failure. `spawn` on a failing or ended group
//! drops the future unpolled and returns a handle that says
//! [`ChildError::NotStarted`]. The group's lifecycle:
//!
//! ```text
//!  Open ──(1) first failure──▶ Failing ──(2) members dropped──▶ Ended
//!    └─────────(3) every member ended well, or the group dropped──┘
//! ```
//!
//! (1) `TaskGroupFuture::fail`, (2) `TaskGroupFuture::cancel_all` then
//! `finish`, (3) `finish`, or `Drop for TaskGroupFuture` (all in
//! `future.rs`).
//!
//! asyncio, by contrast, lets tasks that were already scheduled in the
//! loop iteration of the failure take their step: two children failing at
//! the same instant both report there, while here the second one polled is
//! cancelled instead and reports nothing.
//!
//! # In the trace
//!
//! Under a tracing spindle runtime the group notes its failures, its
//! cancellations and its end on the lane of its task: `TaskGroup#1 child
//! 2 failed`, `TaskGroup#1 cancelling the body and 1 child`, `TaskGroup#1
//! ended with 1 failure`. Children are numbered from 1 in spawn order.

mod child;
mod error;
mod future;
mod spare;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::task::Waker;

use spindle_runtime::observe::{note, Label};

pub use child::{ChildError, ChildHandle};
pub use error::{Failure, GroupError, PanicPayload};
pub use future::TaskGroupFuture;

use crate::waiters::wake;
use child::{new_child, BoxedChild, Results};

/// Runs `body` and every child it spawns through its [`TaskGroup`], and
/// returns once all of them have ended — asyncio's
/// `async with asyncio.TaskGroup() as group:`.
///
/// `body` is called at once with the group's handle; the future it returns
/// is the body of the `async with`. Children are spawned with
/// [`TaskGroup::spawn`] and return `Result<_, E>`, the body `Result<T, E>`.
///
/// - All end well: after the body returned `Ok(value)`, the group keeps
///   running the children until the last one ends, then gives
///   `Ok(value)`.
/// - Something fails (an `Err` or a panic, in a child or the body): every
///   other member is cancelled — dropped where it is suspended, the body
///   included — and the group gives `Err(GroupError)` with every failure
///   in the order they happened.
///
/// # One future, the children inside it
///
/// The children are not tasks of their own, as asyncio's are: the group
/// is one future ([`TaskGroupFuture`]) that owns the body and every child
/// and polls them in its own `poll`, each only after its own waker fired
/// (as [`join_all`](crate::join_all) does, with a set that grows). That is
/// what makes it structured without the runtime's help — a child cannot
/// outlive the group that owns it, cancelling a child is dropping it (its
/// `Drop` runs where Python runs `except CancelledError`), and dropping
/// the group drops them all — and what lets it run on any executor, with
/// children that need not be `Send`.
///
/// # What differs from asyncio
///
/// - Children run when the task awaiting the group polls it — always, as
///   the group is awaited — but they share that task: they never run in
///   parallel, and a child that blocks the thread blocks its siblings.
/// - A spawned child first runs at the group's next poll, after its
///   spawner yielded (as with `create_task`), in spawn order.
/// - A failure is a returned `Err` or a panic (caught); cancellation is
///   not a failure, and a cancelled child cannot refuse or delay it.
/// - The first failure stops everything at once: no other member is
///   polled again. asyncio lets tasks already scheduled in that loop
///   iteration take their step, so two children failing at the same
///   instant both report there; here the second one is cancelled.
/// - A child's value comes from the [`ChildHandle`] `spawn` returns, not
///   from a task object; `spawn` on a failing or ended group gives a
///   handle that says [`ChildError::NotStarted`] instead of raising.
///
/// # Cancellation
///
/// See [`TaskGroupFuture`]: dropping it drops the body and every child.
///
/// # Examples
///
/// ```
/// use spindle::task_group;
///
/// let total = futures_executor::block_on(task_group(|group| async move {
///     let a = group.spawn(async { Ok::<_, String>(1) });
///     let b = group.spawn(async { Ok(2) });
///     Ok(a.await.unwrap() + b.await.unwrap()) // awaiting children in the body
/// }));
/// assert_eq!(total.unwrap(), 3);
/// ```
pub fn task_group<B, Fut, T, E>(body: B) -> TaskGroupFuture<Fut, T, E>
where
    B: FnOnce(TaskGroup<E>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: 'static,
{
    let shared = Rc::new(Shared {
        label: Label::new("TaskGroup"),
        phase: Cell::new(Phase::Open),
        inbox: RefCell::new(spare::take()),
        next_id: Cell::new(1),
        polling: Cell::new(false),
        waker: RefCell::new(None),
        results: Rc::new(Results::new()),
    });
    let body = body(TaskGroup {
        shared: Rc::clone(&shared),
    });
    TaskGroupFuture::new(shared, body)
}

/// The handle of a running task group, to spawn children: asyncio's `tg`.
///
/// A cheap `Clone` (one reference count), so children can spawn siblings.
/// Not `Send`: a group and its children live on one thread.
///
/// # Examples
///
/// ```
/// use spindle::task_group;
///
/// let outcome = futures_executor::block_on(task_group(|group| async move {
///     let sibling_spawner = group.clone();
///     group.spawn(async move {
///         sibling_spawner.spawn(async { Ok::<_, ()>(()) }); // a child spawns a sibling
///         Ok(())
///     });
///     Ok(())
/// }));
/// assert!(outcome.is_ok());
/// ```
pub struct TaskGroup<E> {
    shared: Rc<Shared<E>>,
}

/// What the group's handles, its children's tickets and its future share.
struct Shared<E> {
    /// The group's name in traces (`TaskGroup#1`).
    label: Label,
    phase: Cell<Phase>,
    /// Children spawned and not yet taken into the set, with their numbers.
    inbox: RefCell<VecDeque<(u64, BoxedChild<E>)>>,
    /// The number of the next child; the body is 0.
    next_id: Cell<u64>,
    /// The group future is inside its poll: it will empty the inbox (or
    /// wake its task) before returning, so `spawn` needs to wake nobody.
    polling: Cell<bool>,
    /// The waker of the task polling the group, for a `spawn` from outside
    /// the group's poll; `None` before the first poll and once ended.
    waker: RefCell<Option<Waker>>,
    /// The children's results, for their handles; also holds the wakers of
    /// handles whose child ended, woken at the end of the group's poll.
    results: Rc<Results>,
}

/// Where a group is in its life (see the diagram in the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Running; `spawn` starts children.
    Open,
    /// A member failed; the others are being dropped. `spawn` refuses.
    Failing,
    /// Every member has ended; the group returned or was dropped.
    Ended,
}

impl<E: 'static> TaskGroup<E> {
    /// Starts `future` as a child of the group and returns its handle —
    /// asyncio's `tg.create_task(coro)`.
    ///
    /// The child is not polled here: it first runs at the group's next
    /// poll, after its spawner has yielded. It returns `Result<U, E>`: `Ok`
    /// goes to the handle, `Err` fails the whole group.
    ///
    /// On a group that is failing (a member failed and the rest are being
    /// cancelled) or has ended, the future is dropped without being polled
    /// and the handle says [`ChildError::NotStarted`] (where asyncio raises
    /// `RuntimeError`).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::{task_group, ChildError};
    ///
    /// let mut escaped = None;
    /// let outcome = futures_executor::block_on(task_group(|group| {
    ///     escaped = Some(group.clone()); // kept past the group's end
    ///     async { Ok::<_, ()>(()) }
    /// }));
    /// assert!(outcome.is_ok());
    /// let late = escaped.unwrap().spawn(async { Ok(1) });
    /// assert_eq!(late.result(), Err(ChildError::NotStarted));
    /// ```
    pub fn spawn<F, U>(&self, future: F) -> ChildHandle<U>
    where
        F: Future<Output = Result<U, E>> + 'static,
        U: 'static,
    {
        let shared = &self.shared;
        if shared.phase.get() != Phase::Open {
            note(&shared.label, "refused a spawn: the group is not open");
            drop(future);
            return ChildHandle::not_started();
        }
        let id = shared.next_id.get();
        shared.next_id.set(id + 1);
        let (task, handle) = new_child(future, &shared.results);
        let was_empty = {
            let mut inbox = shared.inbox.borrow_mut();
            inbox.push_back((id, task));
            inbox.len() == 1
        };
        // The first spawn since the inbox was emptied, from outside the
        // group's poll: wake the group's task to take it in. (Inside the
        // poll, the group looks at the inbox before it returns.)
        if was_empty && !shared.polling.get() {
            let waker = shared.waker.borrow().clone();
            wake(waker);
        }
        handle
    }
}

impl<E> Clone for TaskGroup<E> {
    fn clone(&self) -> Self {
        TaskGroup {
            shared: Rc::clone(&self.shared),
        }
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("label", &self.shared.label)
            .field("phase", &self.shared.phase.get())
            .finish_non_exhaustive()
    }
}
