//! [`timeout_scope`]: a time limit on a block of code that the block can
//! move itself — asyncio's `async with asyncio.timeout(d) as scope:`.
//!
//! [`timeout`](crate::timeout) puts a fixed limit on one future. A timeout
//! *scope* hands the code inside it a handle, a [`TimeoutScope`], through
//! which it can read and move its own deadline while it runs: ask for more
//! time half way (`scope.reschedule(Some(later))`), lift the limit
//! (`None`), or end it now (a past instant). When the deadline passes, the
//! body is dropped where it is suspended and the scope returns
//! `Err(Elapsed)`; the handle then reports [`expired`](TimeoutScope::expired).
//!
//! # The shape: a closure that receives the scope
//!
//! Python's `async with` runs the block inside the current task and
//! cancels that task at the deadline. Rust has no async `with`; the block
//! is a future, the *body*, built by a closure from the handle:
//! `timeout_scope(d, |scope| async move { ... })`. The scope future owns
//! the body and polls it; cancelling is dropping it.
//!
//! # How a moved deadline reaches the timer
//!
//! The handle and the scope future share a small state behind a mutex: the
//! deadline, the phase (active, expired, finished), the scope's waker, and
//! whether the scope is polling right now. `reschedule` only writes the
//! new deadline there; the scope future owns the timer (a
//! [`Sleep`](spindle_runtime::time::Sleep), whose `reset` moves it in the
//! wheel) and brings it in line each time it is polled:
//!
//! 1. **before the body**: take in a deadline moved since the last poll;
//!    if that deadline has passed, expire without resuming the body.
//! 2. **the body**: polled with the task's own waker. It may call
//!    `reschedule`; the scope is marked as polling, so that call wakes
//!    nobody.
//! 3. **after the body**, if it is pending: take in a deadline it moved,
//!    and poll the timer so that it wakes the task at the deadline. A
//!    deadline that has passed already (a past instant) makes the scope
//!    wake its own task instead: it expires at its next poll, the next
//!    turn of the loop, as asyncio's `call_soon(on_timeout)` does.
//!
//! A `reschedule` from anywhere else (another task holding a clone of the
//! handle, another thread) finds the scope not polling and wakes its task,
//! which then polls the body once for nothing: bodies must bear a spurious
//! poll, as every future must. A wake is never lost: the flag and the
//! deadline change under the one lock, and the scope re-reads the deadline
//! after the body's poll under that lock too.
//!
//! The first poll always runs the body, even with a zero or past deadline
//! (as asyncio enters the block before its timer can fire); from the
//! second poll on, a passed deadline wins over the body. So a body that
//! is ready at once is never cut off, and a body whose deadline passed is
//! never resumed.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;
use spindle_runtime::observe::{note, Label};
use spindle_runtime::time::{now, sleep_until, Sleep};

use crate::sync::{Arc, Mutex};
use crate::timeout::Elapsed;
use crate::waiters::{lock, refresh_waker, wake};

/// Runs the body `body(scope)` builds with a time limit of `duration` that
/// the body can move through `scope` — asyncio's
/// `async with asyncio.timeout(duration) as scope:`.
///
/// `body` is called at once, with a [`TimeoutScope`] handle; the future it
/// returns runs when the returned future is polled. On expiry the body is
/// dropped where it is suspended and `Err(Elapsed)` is returned; a body
/// that finishes first gives `Ok(output)`. A `duration` too large for
/// `Instant` (`Duration::MAX`) means no deadline.
///
/// # Cancellation
///
/// See [`TimeoutScopeFuture`]: dropping it drops the body and cancels the
/// timer.
///
/// # Panics
///
/// Polled outside of a spindle runtime once the body is pending (the
/// timer needs the runtime), as [`timeout`](crate::timeout).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle::timeout_scope;
/// use spindle::time::{now, sleep};
///
/// spindle::run(async {
///     let outcome = timeout_scope(Duration::from_secs(1), |scope| async move {
///         sleep(Duration::from_millis(500)).await;
///         scope.reschedule(Some(now() + Duration::from_secs(2))); // more time
///         sleep(Duration::from_secs(1)).await;
///         "done in the extended time"
///     });
///     assert_eq!(outcome.await, Ok("done in the extended time"));
/// });
/// ```
pub fn timeout_scope<B, Fut>(duration: Duration, body: B) -> TimeoutScopeFuture<Fut>
where
    B: FnOnce(TimeoutScope) -> Fut,
    Fut: Future,
{
    let scope = TimeoutScope(Arc::new(Shared {
        label: Label::new("TimeoutScope"),
        state: Mutex::new(State {
            deadline: now().checked_add(duration),
            phase: Phase::Active,
            polling: false,
            waker: None,
        }),
    }));
    TimeoutScopeFuture {
        body: Some(body(scope.clone())),
        sleep: None,
        started: false,
        owner: Owner(scope),
    }
}

/// The handle of a running [`timeout_scope`]: read and move its deadline,
/// and ask afterwards whether it expired. A cheap `Clone` (one reference
/// count), `Send` and `Sync`: the body may keep it, pass it on, and use it
/// after the scope ended.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle::timeout_scope;
/// use spindle::time::sleep;
///
/// spindle::run(async {
///     let scoped = timeout_scope(Duration::from_secs(1), |_scope| sleep(Duration::from_secs(9)));
///     let scope = scoped.scope(); // keep a handle to ask afterwards
///     assert!(scoped.await.is_err());
///     assert!(scope.expired());
/// });
/// ```
#[derive(Clone)]
pub struct TimeoutScope(Arc<Shared>);

/// What the handles and the scope future share.
struct Shared {
    /// The scope's name in traces (`TimeoutScope#1 expired`).
    label: Label,
    state: Mutex<State>,
}

/// What the mutex guards.
struct State {
    /// When the scope expires; `None`: never.
    deadline: Option<Instant>,
    phase: Phase,
    /// The scope future is inside its poll: a `reschedule` now is seen
    /// after the body's poll, and must not wake the task.
    polling: bool,
    /// The waker of the task polling the scope; `None` before the first
    /// poll and once the scope has ended.
    waker: Option<Waker>,
}

/// Where a scope is in its life; it only moves down this list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The body runs (or has not been polled yet); the deadline may move.
    Active,
    /// The deadline passed: the body was dropped, the scope gave `Elapsed`.
    Expired,
    /// The body finished in time, or the scope future was dropped.
    Finished,
}

impl TimeoutScope {
    /// Moves the deadline to `deadline`: later, earlier, `None` for no
    /// deadline at all, or an instant that has passed, which expires the
    /// scope at its next turn (the body is not resumed). asyncio's
    /// `scope.reschedule(when)`, with `Instant`s on the runtime's clock
    /// ([`spindle::time::now`](spindle_runtime::time::now)) for `loop.time()`.
    ///
    /// Called from the body, it takes effect when the body next suspends;
    /// from anywhere else, it wakes the scope's task to take it in.
    ///
    /// # Panics
    ///
    /// If the scope has ended — it expired, or its body finished, or it was
    /// dropped — as asyncio raises `RuntimeError` there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle::timeout_scope;
    /// use spindle::time::sleep;
    ///
    /// spindle::run(async {
    ///     let outcome = timeout_scope(Duration::from_millis(10), |scope| async move {
    ///         scope.reschedule(None); // no limit after all
    ///         sleep(Duration::from_secs(1)).await;
    ///     });
    ///     assert!(outcome.await.is_ok());
    /// });
    /// ```
    pub fn reschedule(&self, deadline: Option<Instant>) {
        let waker = {
            let mut state = lock(&self.0.state);
            assert!(
                state.phase == Phase::Active,
                "`TimeoutScope::reschedule` on a scope that has {}",
                match state.phase {
                    Phase::Expired => "expired",
                    _ => "finished",
                }
            );
            state.deadline = deadline;
            if state.polling {
                None // the scope looks again after the body's poll
            } else {
                state.waker.clone()
            }
        };
        wake(waker);
    }

    /// The current deadline; `None`: no deadline. asyncio's `scope.when()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle::timeout_scope;
    ///
    /// spindle::run(async {
    ///     let scoped = timeout_scope(Duration::MAX, |scope| async move { scope.deadline() });
    ///     assert_eq!(scoped.await, Ok(None)); // too far to have one
    /// });
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        lock(&self.0.state).deadline
    }

    /// Whether the scope expired: its deadline passed while the body ran.
    /// `false` while it runs, and after the body finished in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle::timeout_scope;
    ///
    /// spindle::run(async {
    ///     let scoped = timeout_scope(Duration::from_secs(1), |scope| async move { scope.expired() });
    ///     let scope = scoped.scope();
    ///     assert_eq!(scoped.await, Ok(false));
    ///     assert!(!scope.expired()); // finished in time
    /// });
    /// ```
    pub fn expired(&self) -> bool {
        lock(&self.0.state).phase == Phase::Expired
    }
}

impl fmt::Debug for TimeoutScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.0.state);
        f.debug_struct("TimeoutScope")
            .field("deadline", &state.deadline)
            .field("phase", &state.phase)
            .finish()
    }
}

pin_project! {
    /// The future returned by [`timeout_scope`].
    ///
    /// # Panics
    ///
    /// Polling it again after it returned panics.
    ///
    /// # Cancellation
    ///
    /// Dropped before `Ready`, it drops the body where it is suspended
    /// (what that leaves behind is the body's own `# Cancellation`) and
    /// cancels its timer. The scope counts as finished, not expired: its
    /// handles answer `expired() == false` and refuse to `reschedule`.
    /// Expiry is the same drop of the body, done by the scope itself.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle::{timeout_scope, TimeoutScopeFuture};
    ///
    /// spindle::run(async {
    ///     let scoped: TimeoutScopeFuture<_> = timeout_scope(Duration::from_secs(1), |_| async { 7 });
    ///     assert_eq!(scoped.await, Ok(7));
    /// });
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct TimeoutScopeFuture<Fut> {
        // The body; `None` once it finished or was dropped on expiry.
        // Declared before `owner`, so that on a drop from outside the
        // body goes first, while its scope still counts as active.
        #[pin]
        body: Option<Fut>,
        // The timer, in line with the deadline after every poll; `None`
        // when there is no deadline, and before the first poll.
        sleep: Option<Sleep>,
        // The body has been polled once: from now on, a passed deadline
        // wins over resuming it.
        started: bool,
        owner: Owner,
    }
}

/// The scope future's own handle: marks the scope finished when the future
/// is dropped before it ended, so that its handles stop waking a task that
/// no longer polls it.
struct Owner(TimeoutScope);

impl Drop for Owner {
    fn drop(&mut self) {
        let mut state = lock(&(self.0).0.state);
        if state.phase == Phase::Active {
            state.phase = Phase::Finished;
        }
        state.waker = None;
    }
}

impl<Fut> TimeoutScopeFuture<Fut> {
    /// A handle to this scope, to ask after it ended whether it
    /// [`expired`](TimeoutScope::expired) — what Python reads from the
    /// `as scope` name after the `async with` block.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle::timeout_scope;
    ///
    /// spindle::run(async {
    ///     let scoped = timeout_scope(Duration::from_secs(1), |_| async {});
    ///     let scope = scoped.scope();
    ///     scoped.await.unwrap();
    ///     assert!(!scope.expired());
    /// });
    /// ```
    pub fn scope(&self) -> TimeoutScope {
        self.owner.0.clone()
    }
}

/// Brings `sleep` in line with `deadline`: moves the armed timer (`Sleep`'s
/// `reset` re-keys it in the wheel), arms a new one, or drops it for no
/// deadline.
fn align(sleep: &mut Option<Sleep>, deadline: Option<Instant>) {
    match (sleep.as_mut(), deadline) {
        (Some(armed), Some(deadline)) if armed.deadline() != Some(deadline) => {
            Pin::new(armed).reset(deadline);
        }
        (None, Some(deadline)) => *sleep = Some(sleep_until(deadline)),
        (Some(_), None) => *sleep = None,
        _ => {}
    }
}

impl<Fut: Future> Future for TimeoutScopeFuture<Fut> {
    type Output = Result<Fut::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        assert!(
            this.body.is_some(),
            "`TimeoutScopeFuture` polled after completion"
        );
        let shared = &(this.owner.0).0;
        // 1. Before the body: a deadline moved from elsewhere, or passed.
        let deadline = {
            let mut state = lock(&shared.state);
            state.polling = true;
            match &mut state.waker {
                Some(waker) => refresh_waker(waker, cx.waker()),
                None => state.waker = Some(cx.waker().clone()),
            }
            state.deadline
        };
        if *this.started && deadline.is_some_and(|deadline| now() >= deadline) {
            return Poll::Ready(Err(expire(shared, this.body, this.sleep)));
        }
        *this.started = true;
        align(this.sleep, deadline);

        // 2. The body.
        let body = this.body.as_mut().as_pin_mut().expect("checked above");
        if let Poll::Ready(output) = body.poll(cx) {
            {
                let mut state = lock(&shared.state);
                state.phase = Phase::Finished;
                state.polling = false;
                state.waker = None;
            }
            this.body.set(None);
            *this.sleep = None;
            return Poll::Ready(Ok(output));
        }

        // 3. After the body: take in its reschedules, arm the timer.
        let deadline = {
            let mut state = lock(&shared.state);
            state.polling = false;
            state.deadline
        };
        align(this.sleep, deadline);
        if let Some(sleep) = this.sleep.as_mut() {
            if Pin::new(sleep).poll(cx).is_ready() {
                // Passed already: expire at the next poll, a turn later.
                cx.waker().wake_by_ref();
            }
        }
        Poll::Pending
    }
}

/// The deadline passed: mark the scope expired, then drop the body (whose
/// drop code already sees `expired() == true`, as asyncio's cancelled
/// block does) and the timer.
fn expire<Fut>(
    shared: &Shared,
    mut body: Pin<&mut Option<Fut>>,
    sleep: &mut Option<Sleep>,
) -> Elapsed {
    {
        let mut state = lock(&shared.state);
        state.phase = Phase::Expired;
        state.polling = false;
        state.waker = None;
    }
    note(&shared.label, "expired");
    body.set(None);
    *sleep = None;
    Elapsed::new()
}

impl<Fut> fmt::Debug for TimeoutScopeFuture<Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeoutScopeFuture")
            .field("scope", &self.owner.0)
            .finish_non_exhaustive()
    }
}
