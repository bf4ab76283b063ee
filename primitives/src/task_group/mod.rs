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
//! `finish`, (3) `finish`, or `Drop for TaskGroupFuture`.
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
mod spare;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use spindle_runtime::observe::{note, Label};

pub use child::{ChildError, ChildHandle};
pub use error::{Failure, GroupError, PanicPayload};

use crate::future_set::FutureSet;
use crate::waiters::{refresh_waker, wake, wake_all};
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
/// See the [module docs](self) for the shape and how it differs from
/// asyncio.
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
    let mut members = FutureSet::with_capacity(1);
    members.insert(Member::Body(Box::pin(body)));
    TaskGroupFuture {
        members,
        shared,
        spawned: spare::take(),
        output: None,
        failures: Vec::new(),
        finished: false,
    }
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

/// The future returned by [`task_group`].
///
/// # Panics
///
/// Polling it again after it returned panics. A panic in a child or the
/// body does not unwind out of it: it is caught and becomes a failure.
/// A panic of a *waker* does (the waker of a task awaiting a child's
/// handle, or of the task polling the group): the group's state is
/// complete by then, and polling it again carries on.
///
/// # Cancellation
///
/// Dropped before `Ready` — its task was cancelled, or it lost a `race` —
/// it drops the body and every child still running where they are
/// suspended, in the order they were spawned, the body first. Each runs
/// its `Drop` once; their handles say [`ChildError::Cancelled`]. What
/// finished children did stays done. If one of those drops panics, the
/// others are still dropped, and the first such panic is raised again
/// at the end.
///
/// # Examples
///
/// ```
/// use spindle::{task_group, TaskGroupFuture, TaskGroup};
///
/// let group: TaskGroupFuture<_, _, ()> = task_group(|_: TaskGroup<()>| async { Ok(5) });
/// assert_eq!(futures_executor::block_on(group).unwrap(), 5);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TaskGroupFuture<Fut, T, E: 'static> {
    /// The body and the children that have not ended.
    members: FutureSet<Member<Fut, E>>,
    shared: Rc<Shared<E>>,
    /// Children taken from the inbox, not yet polled; kept between polls to
    /// reuse its allocation.
    spawned: VecDeque<(u64, BoxedChild<E>)>,
    /// The body's value, once it returned `Ok`.
    output: Option<T>,
    /// What went wrong, in order.
    failures: Vec<Failure<E>>,
    /// The output was returned; polling again is a bug.
    finished: bool,
}

/// A member of the group: the body, or a child with its number.
enum Member<Fut, E> {
    Body(Pin<Box<Fut>>),
    Child(u64, BoxedChild<E>),
}

/// How a member ended.
enum Ended<T, E> {
    /// The body returned `Ok(value)`.
    Body(T),
    /// A child ended well (its value went to its handle).
    Child,
    /// A member (the body is 0) failed.
    Failed(u64, Failure<E>),
}

impl<Fut, E> Member<Fut, E> {
    fn id(&self) -> u64 {
        match self {
            Member::Body(_) => 0,
            Member::Child(id, _) => *id,
        }
    }
}

impl<Fut, T, E: 'static> Future for Member<Fut, E>
where
    Fut: Future<Output = Result<T, E>>,
{
    type Output = Ended<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Ended<T, E>> {
        match &mut *self {
            Member::Body(body) => {
                // As for a child (`child.rs`): the body is dropped after a
                // panic, never polled again.
                match panic::catch_unwind(AssertUnwindSafe(|| body.as_mut().poll(cx))) {
                    Ok(Poll::Pending) => Poll::Pending,
                    Ok(Poll::Ready(Ok(value))) => Poll::Ready(Ended::Body(value)),
                    Ok(Poll::Ready(Err(error))) => {
                        Poll::Ready(Ended::Failed(0, Failure::Error(error)))
                    }
                    Err(payload) => {
                        Poll::Ready(Ended::Failed(0, Failure::Panic(PanicPayload::new(payload))))
                    }
                }
            }
            Member::Child(id, child) => child.as_mut().poll(cx).map(|ended| match ended {
                Ok(()) => Ended::Child,
                Err(failure) => Ended::Failed(*id, failure),
            }),
        }
    }
}

// Every member is boxed: the group moves freely whatever `Fut` is.
impl<Fut, T, E: 'static> Unpin for TaskGroupFuture<Fut, T, E> {}

impl<Fut, T, E: 'static> Future for TaskGroupFuture<Fut, T, E>
where
    Fut: Future<Output = Result<T, E>>,
{
    type Output = Result<T, GroupError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        assert!(!this.finished, "`TaskGroupFuture` polled after completion");
        this.shared.polling.set(true);
        match &mut *this.shared.waker.borrow_mut() {
            Some(waker) => refresh_waker(waker, cx.waker()),
            slot @ None => *slot = Some(cx.waker().clone()),
        }
        this.members.begin(cx.waker());
        // The children spawned since the last poll first, then the members
        // woken meanwhile: a spawn during the last poll came before every
        // wake since (a member that spawns and then yields is woken after
        // its children run, as in asyncio, where `create_task` schedules
        // the child's first step before the spawner's next one). A child
        // that ends in its first poll never takes a slot in the set.
        std::mem::swap(&mut *this.shared.inbox.borrow_mut(), &mut this.spawned);
        let mut failed = false;
        while let Some((id, child)) = this.spawned.pop_front() {
            let first = this.members.poll_first(
                child,
                |child, cx| child.as_mut().poll(cx),
                |child| Member::Child(id, child),
            );
            if let Some(Err(failure)) = first {
                this.fail(id, failure);
                failed = true;
                break; // poll no other member after a failure
            }
        }
        while !failed {
            let Some((_, ended)) = this.members.poll_next() else {
                break;
            };
            failed = !this.ended(ended); // poll no other member after a failure
        }
        this.shared.polling.set(false);
        if !this.failures.is_empty() {
            this.cancel_all();
        }
        let ended = this.members.is_empty() && this.shared.inbox.borrow().is_empty();
        if ended {
            this.shared.phase.set(Phase::Ended);
            this.shared.waker.borrow_mut().take();
        } else if !this.shared.inbox.borrow().is_empty() {
            // Children spawned during this poll start at the next one.
            cx.waker().wake_by_ref();
        }
        // The state is complete: wake the handles' waiters now. If one of
        // those wakers panics, every other is still woken and the panic
        // then unwinds from here; a later poll finishes the job below.
        wake_all(this.shared.results.take_wakers());
        if !ended {
            return Poll::Pending;
        }
        Poll::Ready(this.finish())
    }
}

impl<Fut, T, E: 'static> TaskGroupFuture<Fut, T, E> {
    /// Takes in how a member ended; `false` if it failed.
    fn ended(&mut self, ended: Ended<T, E>) -> bool {
        match ended {
            Ended::Body(value) => self.output = Some(value),
            Ended::Child => {}
            Ended::Failed(id, failure) => {
                self.fail(id, failure);
                return false;
            }
        }
        true
    }

    /// (1) in the lifecycle: a member failed. Records it; the caller stops
    /// polling members and cancels the rest.
    fn fail(&mut self, id: u64, failure: Failure<E>) {
        let what = if failure.is_panic() {
            "panicked"
        } else {
            "failed"
        };
        match id {
            0 => note(&self.shared.label, &format!("body {what}")),
            id => note(&self.shared.label, &format!("child {id} {what}")),
        }
        self.failures.push(failure);
        self.shared.phase.set(Phase::Failing);
    }

    /// (2) in the lifecycle: drops every member still running, and every
    /// child spawned but not started, in spawn order; a panic in one of
    /// those drops is one more failure.
    fn cancel_all(&mut self) {
        let members = self.take_members();
        if members.is_empty() {
            return;
        }
        let children = members.len() - usize::from(members[0].id() == 0);
        let plural = if children == 1 { "" } else { "ren" };
        let message = if members[0].id() == 0 {
            format!("cancelling the body and {children} child{plural}")
        } else {
            format!("cancelling {children} child{plural}")
        };
        note(&self.shared.label, &message);
        for member in members {
            let id = member.id();
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| drop(member))) {
                let who = if id == 0 {
                    "body".to_string()
                } else {
                    format!("child {id}")
                };
                note(
                    &self.shared.label,
                    &format!("{who} panicked while cancelled"),
                );
                self.failures
                    .push(Failure::Panic(PanicPayload::new(payload)));
            }
        }
    }

    /// Every member still running, and every child spawned but not
    /// started, taken out of the group in spawn order (the body first).
    fn take_members(&mut self) -> Vec<Member<Fut, E>> {
        let mut members = self.members.drain();
        let inbox = std::mem::take(&mut *self.shared.inbox.borrow_mut());
        let not_started = self.spawned.drain(..).chain(inbox);
        members.extend(not_started.map(|(id, child)| Member::Child(id, child)));
        members.sort_by_key(Member::id);
        members
    }

    /// (3) in the lifecycle: every member has ended; the group's result.
    fn finish(&mut self) -> Result<T, GroupError<E>> {
        self.finished = true;
        if self.failures.is_empty() {
            note(&self.shared.label, "ended");
            Ok(self
                .output
                .take()
                .expect("the group ended without failure, so the body returned Ok"))
        } else {
            // The body's value, if it returned one, is dropped, not returned.
            self.output = None;
            let n = self.failures.len();
            let plural = if n == 1 { "" } else { "s" };
            note(
                &self.shared.label,
                &format!("ended with {n} failure{plural}"),
            );
            Err(GroupError::new(std::mem::take(&mut self.failures)))
        }
    }
}

impl<Fut, T, E: 'static> Drop for TaskGroupFuture<Fut, T, E> {
    fn drop(&mut self) {
        if !self.finished {
            self.cancel_on_drop();
        }
        // The group has ended: its queues are empty, and go to the next
        // group on this thread.
        spare::give(std::mem::take(&mut self.spawned));
        spare::give(std::mem::take(&mut *self.shared.inbox.borrow_mut()));
    }
}

impl<Fut, T, E: 'static> TaskGroupFuture<Fut, T, E> {
    /// `Drop` before the group ended: the task awaiting it was cancelled.
    fn cancel_on_drop(&mut self) {
        self.shared.phase.set(Phase::Ended);
        self.shared.waker.borrow_mut().take();
        let members = self.take_members();
        if !members.is_empty() {
            note(&self.shared.label, "dropped: cancelling every member");
        }
        // Drop each even if one panics, then raise the first panic.
        let mut first_panic = None;
        for member in members {
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| drop(member))) {
                first_panic.get_or_insert(payload);
            }
        }
        wake_all(self.shared.results.take_wakers());
        if let Some(payload) = first_panic {
            if !std::thread::panicking() {
                panic::resume_unwind(payload);
            }
        }
    }
}

impl<Fut, T, E: 'static> fmt::Debug for TaskGroupFuture<Fut, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupFuture")
            .field("label", &self.shared.label)
            .field("phase", &self.shared.phase.get())
            .field("members", &self.members.len())
            .field("failures", &self.failures.len())
            .finish_non_exhaustive()
    }
}
