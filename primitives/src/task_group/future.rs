//! The group's future: how [`TaskGroupFuture`] polls its members, fails,
//! and ends (the lifecycle diagram is in `mod.rs`).
//!
//! One poll, in order: take in the children spawned since the last poll
//! and poll each once (a child that ends then never takes a slot, see
//! `FutureSet::poll_first`); then poll the members woken since the last
//! poll, each once. The first failure stops the poll at once: no other
//! member is polled, every member still running is dropped (`cancel_all`),
//! and the group ends. Otherwise, when no member is left the group ends
//! with the body's value; children spawned during this poll make it wake
//! its own task, to start them at the next one. The wakers of handles
//! whose child ended are woken last, once the group's state is complete.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use spindle_runtime::observe::{note, wait_on, Arg, WaitOn};

/// What a task awaiting a group waits on when no member said more:
/// `TaskGroup#1.wait`.
static WAIT: WaitOn = WaitOn::new("TaskGroup", "wait", Arg::Object);

use super::child::BoxedChild;
use super::error::{Failure, GroupError, PanicPayload};
use super::{spare, Phase, Shared};
use crate::future_set::FutureSet;
use crate::waiters::{refresh_waker, wake_all};

/// The future returned by [`task_group`](super::task_group).
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
/// its `Drop` once; their handles say [`ChildError::Cancelled`](super::ChildError::Cancelled). What
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

impl<Fut, T, E: 'static> TaskGroupFuture<Fut, T, E> {
    /// The group's future, with `body` as its first member (number 0).
    pub(super) fn new(shared: Rc<Shared<E>>, body: Fut) -> Self {
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
            // Unless a member recorded what it waits on first (the first
            // record of a poll wins), the task waits on the group.
            wait_on(&WAIT, &this.shared.label);
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
