//! The executor: the ready queue, the list of live tasks, and
//! [`Core::turn`], one turn of the event loop.
//!
//! # One turn of the loop
//!
//! ```text
//!   ┌─▶ 1. run ready tasks ── at most MAX_POLLS_PER_TURN, in FIFO order
//!   │                         (or in a seeded random order, below)
//!   │   2. drain the mailbox ── wakes, spawns and cancels from other threads
//!   │   3. fire expired timers ── their wakers push tasks onto the ready queue
//!   └── 4. park ── poll the reactor: block until the next timer deadline
//!                  only if nothing is ready; otherwise check I/O without
//!                  blocking once 61 polls have passed since the last check
//! ```
//!
//! Step 4 is "parking" throughout: [`Core::park`] decides how long the loop
//! may wait, `park_virtual` is its virtual-time form, `park_blocking` is the
//! loop's half of the sleep handshake (`mailbox.rs`), and `poll_reactor` is
//! the one call into the reactor.
//!
//! This mirrors asyncio's `BaseEventLoop._run_once` (which runs the ready
//! callbacks, then computes a timeout from the nearest timer and calls
//! `select`) with the steps rotated so a turn starts with the work at hand.
//! The timer wheel plugs in at step 3 ([`Core::fire_timers`]) and the
//! reactor at step 4 ([`Core::park`]); nothing else in this file knows about
//! either.
//!
//! # Seeded schedules
//!
//! With [`Builder::seed`](crate::Builder::seed) the loop still takes the
//! same batch in step 1 — the tasks that were ready when the turn began, at
//! most `MAX_POLLS_PER_TURN` — but polls them in an order drawn from a
//! seeded generator (`rng.rs`): each poll picks one of the batch's tasks not
//! yet polled, uniformly. Tasks woken meanwhile still queue behind the
//! batch. So every interleaving of the tasks that are ready together can
//! happen, and the fairness bound is exactly FIFO's: a task that is `k`-th in
//! the ready queue when a turn begins is polled within `⌈k / 61⌉` turns,
//! whatever the seed. Timers due at the same instant fire in a seeded order
//! too (`time/timers.rs`). Nothing else changes; without a seed the loop is
//! FIFO and pays one branch per poll for the option.
//!
//! # Two halves: `Core` and `Shared`
//!
//! [`Core`] is everything only the runtime's own thread touches: the ready
//! queue, the list of live tasks, the timers. It uses `Cell` and `RefCell`,
//! never a lock. `Shared` (`mailbox.rs`) is the part other threads reach
//! through a task's header or a `Handle`: the mailbox and its doorbell.
//!
//! # Other threads
//!
//! Wakes, spawns and cancels from other threads arrive as messages in the
//! runtime's mailbox (`mailbox.rs`); step 2 drains them. The loop blocks in
//! step 4 only after the mailbox's handshake says no message can be missed.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::dump::{TaskDump, TaskRow, TaskState};
use crate::mailbox::{nobody_else_can_send, take_remote_wake, Remote, Shared};
use crate::metrics::{Histograms, Metrics, WakeOrigin};
use crate::recycle::BlockCache;
use crate::report::{run_callback, wake_on_loop};
use crate::rng::SplitMix64;
use crate::task::{lifecycle, TaskRef};
use crate::time::clock::Clock;
use crate::time::timers::{Action, Timers};
use crate::trace::{Event, Tracer};
use crate::wait::{describe, Arg};
use crate::waker::with_borrowed_waker;

/// At most this many tasks are polled per turn before timers fire, and at
/// most this many polls pass between two checks of the reactor: the fairness
/// bound. A task that wakes itself forever goes to the
/// back of the queue each time, and after at most 61 polls the loop moves on
/// to timers and the reactor, so neither can starve. 61 is the number tokio's
/// scheduler (and Go's before it) uses for the same check: small enough that
/// a timer is late by at most 61 short polls, large enough that the checks
/// cost little per poll; being prime, it does not fall in step with periodic
/// workloads.
pub const MAX_POLLS_PER_TURN: usize = 61;

/// How a turn of the loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Turn {
    /// Keep turning.
    Again,
    /// The `block_on` future is done.
    MainDone,
    /// No task can ever run again (virtual time): `block_on` panics with the
    /// dump.
    Deadlock,
}

/// The stall report's watch: real time only, read when the loop parks.
struct Stall {
    /// Report once no task has been polled for this long.
    after: Duration,
    /// The poll counter when the loop last parked.
    polls: Cell<u64>,
    /// When the current idle stretch began: the first park after a poll.
    idle_since: Cell<std::time::Instant>,
    /// This stall was reported already: once per stall.
    reported: Cell<bool>,
}

/// The runtime's own-thread state.
pub(crate) struct Core {
    pub(crate) shared: Arc<Shared>,
    /// Tasks to poll, in wake order. Entries are covered by the owner
    /// reference (see `task/mod.rs`), so they count nothing themselves.
    ready: RefCell<VecDeque<TaskRef>>,
    /// With `Builder::histograms(true)`: when each entry of `ready` was
    /// queued, entry for entry, for the schedule-latency histogram. Empty
    /// otherwise.
    ready_since: RefCell<VecDeque<std::time::Instant>>,
    /// Tracing or histograms are on: each poll is measured (`probe_start`,
    /// `probe_end`). Fixed when the runtime is built.
    probed: bool,
    /// Every task that is not `DONE`, so shutdown can cancel them.
    tasks: TaskList,
    mailbox: Receiver<Remote>,
    pub(crate) clock: Clock,
    /// The clock's reading when the runtime was built: time zero of wait
    /// reasons (`sleep until 2.000s`) and of the dump.
    pub(crate) started: std::time::Instant,
    pub(crate) timers: RefCell<Timers>,
    /// The pseudo-task standing for the `block_on` future: it has a place in
    /// the ready queue and a waker like any task, but when it is popped the
    /// executor polls the future borrowed from `block_on`'s stack.
    main: TaskRef,
    next_id: Cell<u64>,
    /// The schedule's generator under [`Builder::seed`](crate::Builder::seed);
    /// `None`: FIFO.
    rng: Option<RefCell<SplitMix64>>,
    /// The seed `rng` started from, for the panic message that replays it.
    pub(crate) seed: Option<u64>,
    /// Where the running `block_on` was called: `main`'s spawn location in
    /// the dump.
    pub(crate) block_on_at: Cell<Option<&'static std::panic::Location<'static>>>,
    /// The task being polled right now, if any: whose lane a primitive's
    /// note goes to (`observe.rs`).
    pub(crate) running: Cell<Option<TaskRef>>,
    /// The last number given to a primitive that named itself in this
    /// runtime (`observe::Label`): `Mutex#1`, `Queue#2`... Numbered per
    /// runtime, in the order they first appear, so a run's trace is the same
    /// every time.
    pub(crate) labels: Cell<u64>,
    /// Polls since the reactor was last checked (the fairness bound).
    polls_since_io: Cell<usize>,
    /// The stall report (`Builder::stall_report`), if asked for.
    stall: Option<Stall>,
    /// The runtime is being dropped: cancelled tasks say so in their
    /// `JoinError`.
    shutting_down: Cell<bool>,
    /// Who is waking tasks right now, for metrics and the trace: set around
    /// timer firing, reactor dispatch and mailbox draining; `Local` otherwise.
    wake_origin: Cell<WakeOrigin>,
    pub(crate) metrics: Metrics,
    pub(crate) tracer: Option<Tracer>,
    /// Blocks of freed tasks, for the next spawns (`recycle.rs`).
    pub(crate) blocks: BlockCache,
}

impl Core {
    pub(crate) fn new(
        shared: Arc<Shared>,
        mailbox: Receiver<Remote>,
        clock: Clock,
        tracer: Option<Tracer>,
        seed: Option<u64>,
        stall_after: Option<Duration>,
        histograms: bool,
    ) -> Core {
        let timers = RefCell::new(Timers::new(clock.now(), seed));
        let main = TaskRef::new(
            std::future::pending::<()>(),
            shared.clone(),
            Some("main"),
            std::panic::Location::caller(),
            None,
        );
        let core = Core {
            shared,
            ready: RefCell::new(VecDeque::with_capacity(64)),
            ready_since: RefCell::new(VecDeque::new()),
            probed: tracer.is_some() || histograms,
            tasks: TaskList::default(),
            mailbox,
            started: clock.now(),
            clock,
            timers,
            main,
            next_id: Cell::new(0),
            rng: seed.map(|seed| RefCell::new(SplitMix64::new(seed))),
            seed,
            block_on_at: Cell::new(None),
            running: Cell::new(None),
            labels: Cell::new(0),
            polls_since_io: Cell::new(0),
            stall: stall_after.map(|after| Stall {
                after,
                polls: Cell::new(u64::MAX),
                idle_since: Cell::new(std::time::Instant::now()),
                reported: Cell::new(false),
            }),
            shutting_down: Cell::new(false),
            wake_origin: Cell::new(WakeOrigin::Local),
            metrics: Metrics {
                histograms: histograms.then(|| Box::new(Histograms::new())),
                ..Metrics::default()
            },
            tracer,
            blocks: BlockCache::new(),
        };
        // block_on queues `main`. Nobody joins it, so its handle reference
        // goes at once.
        // SAFETY: the HANDLE reference of a fresh task, released once, never used again.
        unsafe { main.drop_handle() };
        core.register(main);
        core
    }

    /// Gives a task its id, links it into the task list and queues it. A
    /// spawn is not a wake: it is counted and traced as a spawn only.
    pub(crate) fn spawn(&self, task: TaskRef) {
        self.register(task);
        Metrics::count(&self.metrics.spawned);
        if let Some(tracer) = &self.tracer {
            let running = self.running.get();
            let parent = running.as_ref().map(TaskRef::trace_name);
            let at = task.header().spawned_at;
            tracer.spawn(task.trace_name(), parent, at, self.clock.now());
        }
        self.enqueue(task);
    }

    /// Queues the `block_on` future's stand-in at the start of `block_on`.
    pub(crate) fn start_main(&self) {
        if let Some(tracer) = &self.tracer {
            let at = self
                .block_on_at
                .get()
                .unwrap_or(self.main.header().spawned_at);
            tracer.spawn(self.main.trace_name(), None, at, self.clock.now());
        }
        if self.main.lifecycle() & lifecycle::SCHEDULED == 0 {
            self.enqueue(self.main);
        }
    }

    fn register(&self, task: TaskRef) {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        task.header().id.set(id);
        self.tasks.push(task);
    }

    /// Queues a task unless it is already queued or done (transition 3 of the
    /// lifecycle in `task/mod.rs`). Owner thread only.
    pub(crate) fn schedule(&self, task: TaskRef) {
        if task.lifecycle() & (lifecycle::SCHEDULED | lifecycle::DONE) != 0 {
            return;
        }
        self.enqueue(task);
        let origin = self.wake_origin.get();
        Metrics::count(&self.metrics.wakes[origin as usize]);
        if let Some(tracer) = &self.tracer {
            // A local wake during a task's poll comes from that task; any
            // other from the loop (a timer, I/O, a callback, another thread).
            let running = self.running.get().filter(|_| origin == WakeOrigin::Local);
            let by = running.as_ref().map(TaskRef::trace_name);
            tracer.wake(task.trace_name(), origin, by, self.clock.now());
        }
    }

    /// Marks a task `SCHEDULED` and pushes it on the ready queue.
    fn enqueue(&self, task: TaskRef) {
        task.set_lifecycle(task.lifecycle() | lifecycle::SCHEDULED);
        let mut ready = self.ready.borrow_mut();
        ready.push_back(task);
        self.metrics.note_ready_len(ready.len());
        if self.metrics.histograms.is_some() {
            self.note_queued();
        }
    }

    /// With histograms on: when the task just queued was queued.
    #[cold]
    fn note_queued(&self) {
        self.ready_since
            .borrow_mut()
            .push_back(std::time::Instant::now());
    }

    /// Runs `f` with wakes attributed to `origin`.
    pub(crate) fn with_wake_origin<R>(&self, origin: WakeOrigin, f: impl FnOnce() -> R) -> R {
        let previous = self.wake_origin.replace(origin);
        let result = f();
        self.wake_origin.set(previous);
        result
    }

    /// `JoinHandle::cancel` on the owner thread.
    pub(crate) fn cancel(&self, task: TaskRef) {
        let state = task.lifecycle();
        if state & lifecycle::DONE != 0 {
            return;
        }
        if state & lifecycle::RUNNING != 0 {
            // The task cancelled itself: finish the poll first (transition 7 then).
            task.set_lifecycle(state | lifecycle::CANCEL_AFTER_POLL);
            return;
        }
        self.cancel_now(task);
    }

    /// Drops the future of a live task that is not running (transition 7).
    fn cancel_now(&self, task: TaskRef) {
        // Mark DONE first: the future's Drop may run arbitrary code, even code
        // that cancels or wakes this very task, and both must now be no-ops.
        task.set_lifecycle((task.lifecycle() & lifecycle::SCHEDULED) | lifecycle::DONE);
        self.tasks.remove(task);
        task.cancel_future(self.shutting_down.get());
        if task != self.main {
            // `main` is only the block_on future's stand-in; its end is traced as
            // `finished` when that future completes.
            self.trace(Event::Cancelled, task);
        }
        task.complete_and_release();
    }

    /// One turn of the loop (module doc). `poll_main` polls the `block_on`
    /// future; the turn returns `Turn::MainDone` as soon as that future is
    /// done, and `Turn::Deadlock` when no task can ever run again (virtual
    /// time, `park_virtual`).
    pub(crate) fn turn(&self, poll_main: &mut dyn FnMut(&mut Context<'_>) -> bool) -> Turn {
        // 1. Run the tasks that are ready now. Tasks woken during this step
        //    wait for the next turn, as in asyncio: that keeps a self-waking
        //    task from hogging the loop, and caps the step at 61 polls.
        let batch = self.ready.borrow().len().min(MAX_POLLS_PER_TURN);
        for polled in 0..batch {
            let Some(task) = self.next_ready(batch - polled) else {
                break;
            };
            if self.run_task(task, poll_main) {
                return Turn::MainDone;
            }
        }
        // 2. Wakes, spawns and cancels from other threads.
        self.drain_mailbox();
        // 3. Fire the timers whose deadline has passed.
        self.fire_timers();
        // 4. Check I/O; block only if nothing is ready.
        self.park()
    }

    /// The next task of the batch: the front of the ready queue, or under a
    /// seed one of the `left` tasks of the batch not yet polled (they are the
    /// front `left` entries: wakes during the batch queue behind them).
    #[inline]
    fn next_ready(&self, left: usize) -> Option<TaskRef> {
        let mut ready = self.ready.borrow_mut();
        if let Some(rng) = &self.rng {
            let choices = left.min(ready.len());
            if choices > 1 {
                let pick = rng.borrow_mut().below(choices);
                ready.swap(0, pick);
                if self.metrics.histograms.is_some() {
                    self.ready_since.borrow_mut().swap(0, pick);
                }
            }
        }
        ready.pop_front()
    }

    /// Polls one popped task (transitions 2, 4, 5, 6); returns `true` if it
    /// was the `block_on` future and that finished.
    fn run_task(&self, task: TaskRef, poll_main: &mut dyn FnMut(&mut Context<'_>) -> bool) -> bool {
        let state = task.lifecycle();
        if state & lifecycle::DONE != 0 {
            // Woken during its last poll, or cancelled while queued.
            if self.probed {
                self.ready_since.borrow_mut().pop_front();
            }
            task.set_lifecycle(lifecycle::DONE);
            task.release_owner_if_idle();
            return false;
        }
        task.set_lifecycle((state & !lifecycle::SCHEDULED) | lifecycle::RUNNING);
        Metrics::count(&self.metrics.polls);
        self.polls_since_io.set(self.polls_since_io.get() + 1);
        // Tracing and histograms: one test here and one after the poll.
        let probe = if self.probed {
            self.probe_start()
        } else {
            None
        };
        task.header().clear_wait();
        self.running.set(Some(task));
        let is_main = task == self.main;
        let poll = with_borrowed_waker(task, |waker| {
            let mut cx = Context::from_waker(waker);
            if !is_main {
                return task.poll(&mut cx);
            }
            match catch_unwind(AssertUnwindSafe(|| poll_main(&mut cx))) {
                Ok(true) => Poll::Ready(false),
                Ok(false) => Poll::Pending,
                Err(payload) => {
                    // The block_on future panicked: leave the task in a sane state and
                    // let the panic continue to block_on's caller.
                    task.set_lifecycle(task.lifecycle() & !lifecycle::RUNNING);
                    self.running.set(None);
                    resume_unwind(payload)
                }
            }
        });
        self.running.set(None);
        if let Some(probe) = probe {
            self.probe_end(task, probe, poll.is_pending());
        }
        let state = task.lifecycle() & !lifecycle::RUNNING;
        if is_main {
            task.set_lifecycle(state & !lifecycle::CANCEL_AFTER_POLL);
            if poll.is_ready() {
                self.trace(Event::Finished, task);
            }
            return poll.is_ready();
        }
        match poll {
            Poll::Pending if state & lifecycle::CANCEL_AFTER_POLL != 0 => {
                task.set_lifecycle(state & !lifecycle::CANCEL_AFTER_POLL);
                self.cancel_now(task);
            }
            Poll::Pending => task.set_lifecycle(state),
            Poll::Ready(panicked) => {
                task.set_lifecycle((state & lifecycle::SCHEDULED) | lifecycle::DONE);
                self.tasks.remove(task);
                Metrics::count(&self.metrics.finished);
                self.trace(
                    if panicked {
                        Event::Panicked
                    } else {
                        Event::Finished
                    },
                    task,
                );
                // The wake of whoever awaits the handle comes from this
                // task's end: the trace draws it from this task's lane.
                self.running.set(Some(task));
                task.complete_and_release();
                self.running.set(None);
            }
        }
        false
    }

    /// Step 2: handle the messages other threads sent since the last turn —
    /// only those already there when the step starts, so a thread that sends
    /// as fast as the loop drains cannot keep it here (asyncio's `_run_once`
    /// bounds its ready callbacks the same way).
    #[inline]
    pub(crate) fn drain_mailbox(&self) {
        // Almost every turn finds the mailbox empty: one load, inlined.
        if self.shared.doorbell.has_mail() {
            self.drain_mail();
        }
    }

    fn drain_mail(&self) {
        // Every message counted here is already in the channel.
        let count = self.shared.doorbell.take_mail();
        for _ in 0..count {
            let Ok(message) = self.mailbox.try_recv() else {
                break;
            };
            match message {
                Remote::Wake(owned) => {
                    let task = owned.task();
                    take_remote_wake(&task.header().remote_queued);
                    self.with_wake_origin(WakeOrigin::Remote, || self.schedule(task));
                }
                Remote::Cancel(owned) => self.cancel(owned.task()),
                Remote::Spawn(pending) => {
                    self.with_wake_origin(WakeOrigin::Remote, || self.spawn(pending.into_task()))
                }
                // The asker may have given up waiting: nobody to answer then.
                Remote::Dump(answer) => drop(answer.send(self.dump())),
            }
        }
    }

    /// Step 3: fire every timer whose deadline is not after `now()`. Each
    /// is taken out of the driver and carried out after the `RefCell`
    /// borrow ends, one at a time: a callback may schedule or cancel timers,
    /// including one due at this very moment.
    pub(crate) fn fire_timers(&self) {
        let now = {
            let mut timers = self.timers.borrow_mut();
            if timers.is_empty() {
                return;
            }
            let now = self.clock.now();
            timers.advance(now);
            now
        };
        loop {
            let next = self.timers.borrow_mut().pop_expired(now);
            let Some(timer) = next else { break };
            Metrics::count(&self.metrics.timers_fired);
            if let Some(tracer) = &self.tracer {
                tracer.timer_fired(self.clock.now(), timer.deadline);
            }
            match timer.action {
                Action::Wake(waker) => self.with_wake_origin(WakeOrigin::Timer, || {
                    wake_on_loop(waker, "a sleep whose timer fired")
                }),
                Action::Call(callback, location) => run_callback(callback, location),
            }
        }
    }

    /// Step 4: check the reactor, blocking only when no task is ready.
    fn park(&self) -> Turn {
        let idle = self.ready.borrow().is_empty();
        if !idle {
            // Work is waiting: look for I/O without blocking, but only once
            // MAX_POLLS_PER_TURN polls have run since the last look (the
            // fairness bound), and only if some task waits for I/O at all.
            // A non-blocking `Poller::wait` costs five syscalls on Linux;
            // paying it every short turn would dwarf the work of the turn.
            if self.polls_since_io.get() >= MAX_POLLS_PER_TURN && self.shared.reactor.has_waiters()
            {
                self.poll_reactor(Some(Duration::ZERO));
            }
            return Turn::Again;
        }
        if self.clock.is_virtual() {
            if self.shared.blocking.in_flight() == 0 {
                return self.park_virtual();
            } else {
                // A to_thread job runs: wait for it in real time before any
                // virtual deadline counts. Its end rouses us (`to_thread`).
                self.park_blocking(None, || self.shared.blocking.in_flight() > 0);
            }
            return Turn::Again;
        }
        // Idle: a good moment to give spare task memory back. Done before
        // the timeout is measured, so the time it takes makes no timer late.
        self.blocks.trim();
        let deadline = self.timers.borrow_mut().next_deadline();
        let mut timeout = deadline.map(|d| d.saturating_duration_since(self.clock.now()));
        if timeout == Some(Duration::ZERO) {
            return Turn::Again; // a timer is already due: fire it next turn.
        }
        if let Some(stall) = &self.stall {
            timeout = self.watch_for_stall(stall, timeout);
        }
        self.park_blocking(timeout, || true);
        Turn::Again
    }

    /// The stall report: if nothing has been polled for `stall.after`, print
    /// the dump (once per stall); otherwise shorten the coming wait so the
    /// loop wakes up when that time is reached. A stall starts when the loop
    /// parks with no poll since the last time it parked; it is read from the
    /// poll counter, so the loop's busy path pays nothing for the watch.
    #[cold]
    fn watch_for_stall(&self, stall: &Stall, timeout: Option<Duration>) -> Option<Duration> {
        let now = std::time::Instant::now();
        let polls = self.metrics.polls.get();
        if stall.polls.replace(polls) != polls {
            // Something ran since the last park: a new idle stretch.
            stall.idle_since.set(now);
            stall.reported.set(false);
        }
        let since = stall.idle_since.get();
        if stall.reported.get() {
            return timeout;
        }
        let left = (since + stall.after).saturating_duration_since(now);
        if left.is_zero() {
            stall.reported.set(true);
            let dump = self.dump();
            eprintln!(
                "spindle: stall: no task has been polled for {:?} (stall report, \
                 Builder::stall_report / SPINDLE_STALL_MS). What each task waits on:\n\
                 {dump}awaited-by tree:\n{}",
                stall.after,
                dump.tree()
            );
            return timeout;
        }
        Some(timeout.map_or(left, |t| t.min(left)))
    }

    /// The loop's half of the sleep handshake (module doc): announce the
    /// sleep, then check once more that there is still reason to block — no
    /// message in the mailbox, and `still_needed()` — and only then block in
    /// the reactor for up to `timeout`.
    fn park_blocking(&self, timeout: Option<Duration>, still_needed: impl Fn() -> bool) {
        let deadline = timeout.is_some();
        let slept = self
            .shared
            .doorbell
            .sleep(&self.shared.reactor, deadline, || {
                if still_needed() {
                    self.poll_reactor(timeout);
                }
            });
        if let Err(error) = slept {
            panic!("spindle: the loop must wait but cannot create its poller: {error}");
        }
    }

    /// Virtual time: nothing is ready, so check I/O without blocking, and if
    /// that readies nothing either, jump the clock to the next deadline
    /// instead of waiting for it. With no timer at all, block for real: only
    /// I/O or another thread can make progress now.
    fn park_virtual(&self) -> Turn {
        if self.shared.reactor.has_waiters() {
            self.poll_reactor(Some(Duration::ZERO));
        }
        self.drain_mailbox();
        if !self.ready.borrow().is_empty() {
            return Turn::Again;
        }
        let next = self.timers.borrow_mut().next_deadline();
        match next {
            Some(deadline) => {
                if let Some(tracer) = &self.tracer {
                    tracer.clock_jump(self.clock.now(), deadline);
                }
                self.clock.advance_to(deadline);
                Turn::Again
            }
            None if self.deadlocked() => Turn::Deadlock,
            None => {
                self.park_blocking(None, || true);
                Turn::Again
            }
        }
    }

    /// Virtual time, nothing ready, no timer: can anything still wake a
    /// task? Not if no task waits for I/O, no `to_thread` job runs, no
    /// `Handle` is left for another thread to send with, and no message
    /// waits (read last: see `nobody_else_can_send`). Then every task waits
    /// for another task that waits too, and the program can never go on.
    fn deadlocked(&self) -> bool {
        !self.shared.reactor.has_waiters()
            && self.shared.blocking.in_flight() == 0
            && nobody_else_can_send(&self.shared.handles, &self.shared.doorbell)
    }

    /// Waits in the reactor for up to `timeout` (zero: just look), waking
    /// the tasks whose I/O is ready; counted and traced when it blocks.
    fn poll_reactor(&self, timeout: Option<Duration>) {
        self.polls_since_io.set(0);
        let blocking = timeout != Some(Duration::ZERO);
        let started = blocking.then(std::time::Instant::now);
        let at = self.tracer.as_ref().map(|_| self.clock.now());
        let events = self.with_wake_origin(WakeOrigin::Io, || self.shared.reactor.wait(timeout));
        if let Some(started) = started {
            let parked = started.elapsed();
            Metrics::count(&self.metrics.reactor_waits);
            self.metrics.parked.set(self.metrics.parked.get() + parked);
            if let (Some(tracer), Some(at)) = (&self.tracer, at) {
                tracer.reactor_wait(at, parked, timeout, events);
            }
        }
    }

    /// Cancels every live task and drops what the loop still holds: runtime
    /// shutdown, on the owner thread. Dropping a future may spawn or wake
    /// other tasks, so this repeats until nothing is left.
    pub(crate) fn shutdown(&self) {
        self.shutting_down.set(true);
        loop {
            self.drain_mailbox();
            let mut cancelled_any = false;
            while let Some(task) = self.tasks.first() {
                cancelled_any = true;
                self.cancel_now(task);
            }
            let queued: Vec<TaskRef> = self.ready.borrow_mut().drain(..).collect();
            self.ready_since.borrow_mut().clear();
            for task in queued {
                task.set_lifecycle(task.lifecycle() & !lifecycle::SCHEDULED);
                task.release_owner_if_idle();
            }
            let dropped_timers = self.timers.borrow_mut().clear();
            drop(dropped_timers);
            if !cancelled_any && self.mailbox.is_empty() && self.tasks.first().is_none() {
                break;
            }
        }
    }

    /// The pseudo-task of the `block_on` future.
    pub(crate) fn main_task(&self) -> TaskRef {
        self.main
    }

    /// A snapshot of every live task (`dump.rs`), in id order.
    pub(crate) fn dump(&self) -> TaskDump {
        let names: std::collections::HashMap<u64, String> = self
            .tasks
            .iter()
            .filter_map(|task| {
                let (id, name) = task.trace_name();
                Some((id, name?.to_string()))
            })
            .collect();
        let mut tasks: Vec<TaskRow> = self
            .tasks
            .iter()
            .map(|task| {
                let header = task.header();
                let state = task.lifecycle();
                let record = header.wait_record();
                let (id, name) = task.trace_name();
                let spawned_at = match self.block_on_at.get().filter(|_| task == self.main) {
                    Some(at) => at,
                    None => header.spawned_at,
                };
                TaskRow {
                    id,
                    name: name.map(str::to_string),
                    state: if state & lifecycle::RUNNING != 0 {
                        TaskState::Running
                    } else if state & lifecycle::SCHEDULED != 0 {
                        TaskState::Ready
                    } else {
                        TaskState::Waiting
                    },
                    waits_on: record.map(|record| describe(record, |id| names.get(&id).cloned())),
                    awaits: record
                        .filter(|(on, _)| on.arg() == Arg::Task)
                        .map(|(_, id)| id),
                    spawned_at: format!("{}:{}", spawned_at.file(), spawned_at.line()),
                }
            })
            .collect();
        tasks.sort_by_key(|row| row.id);
        TaskDump {
            at: self.clock.now().saturating_duration_since(self.started),
            virtual_time: self.clock.is_virtual(),
            tasks,
        }
    }

    /// Spawned tasks not yet done (the task list also holds `main`).
    pub(crate) fn live_tasks(&self) -> usize {
        self.tasks.len.get() - 1
    }

    // ----- tracing hooks: one predictable branch each when tracing is off -------

    #[inline]
    pub(crate) fn trace(&self, event: Event, task: TaskRef) {
        if let Some(tracer) = &self.tracer {
            tracer.task_event(event, task.trace_name(), self.clock.now());
        }
    }

    /// Tracing or histograms are on: the (clock, real) instants the poll
    /// starts at, the schedule latency counted (one reading ends the wait
    /// in the queue and starts the poll).
    #[cold]
    #[inline(never)]
    fn probe_start(&self) -> Option<(std::time::Instant, std::time::Instant)> {
        let real = std::time::Instant::now();
        if let Some(histograms) = &self.metrics.histograms {
            if let Some(since) = self.ready_since.borrow_mut().pop_front() {
                Histograms::record(&histograms.schedule_latency, real - since);
            }
        }
        Some((self.clock.now(), real))
    }

    /// Tracing or histograms are on: the poll that `probe_start` began
    /// ended; record its duration, and in the trace what the task now waits
    /// on.
    #[cold]
    #[inline(never)]
    fn probe_end(
        &self,
        task: TaskRef,
        (at, real): (std::time::Instant, std::time::Instant),
        pending: bool,
    ) {
        let took = real.elapsed();
        if let Some(histograms) = &self.metrics.histograms {
            Histograms::record(&histograms.poll_duration, took);
        }
        if let Some(tracer) = &self.tracer {
            tracer.poll(task.trace_name(), at, took);
            if let Some(record) = task.header().wait_record().filter(|_| pending) {
                let on = describe(record, |id| self.task_name(id));
                tracer.waits(task.trace_name(), &on, self.clock.now());
            }
        }
    }

    /// The name of live task `id`, if it has one (a walk of the task list:
    /// for traces and dumps only).
    fn task_name(&self, id: u64) -> Option<String> {
        self.tasks.iter().find_map(|task| {
            let (task_id, name) = task.trace_name();
            (task_id == id).then(|| name.map(str::to_string)).flatten()
        })
    }
}

/// The intrusive, doubly linked list of live tasks, threaded through
/// `Header::links`. O(1) push and remove without allocating.
#[derive(Default)]
struct TaskList {
    head: Cell<Option<TaskRef>>,
    len: Cell<usize>,
}

impl TaskList {
    fn push(&self, task: TaskRef) {
        let head = self.head.get();
        task.header().links.set((None, head));
        if let Some(head) = head {
            let (_, next) = head.header().links.get();
            head.header().links.set((Some(task), next));
        }
        self.head.set(Some(task));
        self.len.set(self.len.get() + 1);
    }

    fn remove(&self, task: TaskRef) {
        let (prev, next) = task.header().links.get();
        match prev {
            Some(prev) => {
                let (before, _) = prev.header().links.get();
                prev.header().links.set((before, next));
            }
            None => {
                debug_assert!(
                    self.head.get() == Some(task),
                    "removing a task that is not in the list"
                );
                self.head.set(next);
            }
        }
        if let Some(next) = next {
            let (_, after) = next.header().links.get();
            next.header().links.set((prev, after));
        }
        task.header().links.set((None, None));
        self.len.set(self.len.get() - 1);
    }

    fn first(&self) -> Option<TaskRef> {
        self.head.get()
    }

    /// Every task in the list, newest first.
    fn iter(&self) -> impl Iterator<Item = TaskRef> + '_ {
        std::iter::successors(self.head.get(), |task| task.header().links.get().1)
    }
}
