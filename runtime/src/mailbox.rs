//! The mailbox: how other threads reach a runtime whose ready queue only its
//! own thread may touch, and the handshake that lets the loop sleep without
//! missing them.
//!
//! # Messages
//!
//! A thread that is not the runtime's own sends a [`Remote`] message on a
//! `crossbeam-channel`: wake this task, cancel it, or start this task that a
//! [`Handle`](crate::Handle) spawned. The loop drains the channel at step 2
//! of every turn (`executor.rs`).
//!
//! A **wake** is merged with one already in flight, so the mailbox holds at
//! most one wake per task:
//!
//! 1. The waker claims the task's `remote_queued` flag with a `swap(true)`
//!    ([`claim_remote_wake`]). If it was already `true`, a wake message is in
//!    the channel and not yet drained: this wake is merged into it — the task
//!    will be polled after that message is drained, which is after now.
//! 2. Otherwise it sends `Remote::Wake(task)` (the message owns a reference)
//!    and rings the [`Doorbell`].
//!
//! The loop, draining the message, clears the flag ([`take_remote_wake`])
//! *before* it schedules and polls the task. A wake that lands between the
//! two finds the flag still set and is merged, which is right: the poll comes
//! after it. But "comes after" must hold for memory too, not only for time:
//! the merged waker wrote something before waking (the item it queued, the
//! flag it set) that the poll must see. So the loop clears the flag with a
//! `swap(false, AcqRel)`, which *reads* the merged waker's `swap(true)`
//! (Release) and so synchronises with it. A plain `store(false, Release)`
//! reads nothing: on a weakly ordered CPU the poll could then miss the
//! waker's write, find nothing to do, and park with no wake left to come.
//! (That was a real bug; the loom model `merged_wake_is_seen_by_the_poll` and
//! Miri's weak-memory emulation both catch it.)
//!
//! # The doorbell: sleeping without missing a message
//!
//! When nothing is ready the loop blocks in the reactor (step 4). A message
//! sent just as it decides to block must still rouse it, and a busy loop must
//! not cost senders a syscall. The [`Doorbell`] settles this Dekker-style,
//! with two counters and two `SeqCst` fences:
//!
//! ```text
//!   sender                              loop  (Doorbell::sleep)
//!   ──────                              ────
//!   send the message                    a deadline? create the poller
//!   mail += 1                           sleeping = true
//!   fence(SeqCst)                       fence(SeqCst)
//!   if sleeping: notify the reactor     if mail == 0: block in the reactor
//!                                       sleeping = false
//! ```
//!
//! The two fences are ordered one way or the other. If the sender's comes
//! first, the loop's read of `mail` sees the message and it does not block;
//! if the loop's comes first, the sender sees `sleeping` and notifies the
//! reactor, whose notification is sticky (`Reactor::notify` before `wait`
//! makes `wait` return at once). Either way no message is missed; and while
//! the loop is busy (`sleeping` false) sending costs no syscall at all. The
//! loom model `a_message_sent_while_the_loop_goes_to_sleep_wakes_it` checks
//! this in every interleaving.
//!
//! **The poller is created lazily** (module doc of `reactor`): until a
//! socket registers or the loop waits with a deadline, the loop waits on a
//! parker instead, and [`Reactor::notify`] notifies whichever the loop
//! waits on — the poller if it exists, the parker if not. So when the loop
//! needs the poller for this wait, it must create it *before* it sets
//! `sleeping`. Then the fence argument covers the poller too: if the loop's
//! fence comes first, everything the loop did before it — creating the
//! poller included — is visible to the sender after its own fence, so a
//! sender that sees `sleeping` also sees the poller the loop waits in.
//! Created after `sleeping` (say, inside the wait), a sender could see the
//! announcement, find no poller, notify the parker, and leave the loop
//! asleep in the poller on a message it has already missed; the loom model
//! `a_message_reaches_a_loop_that_waits_with_a_deadline` fails if the order
//! is swapped. (Both sides creating it, with a `OnceLock`, would also be
//! correct, but would make other threads pay for, and report errors of, a
//! poller only the loop needs, and a runtime waiting for another thread
//! would need one at all.)

use std::io;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crossbeam_channel::Sender;

use crate::blocking::BlockingPool;
use crate::dump::TaskDump;
use crate::reactor::Reactor;
use crate::sync::{fence, AtomicBool, AtomicUsize, Ordering};
use crate::task::{lifecycle, OwnedTaskRef, TaskRef};

/// A message from another thread to the runtime's own.
pub(crate) enum Remote {
    /// Schedule this task (the message owns a reference).
    Wake(OwnedTaskRef),
    /// Cancel this task, as `JoinHandle::cancel` would on the owner thread.
    Cancel(OwnedTaskRef),
    /// Register and schedule a task spawned through a `Handle`.
    Spawn(PendingSpawn),
    /// Answer with a task dump (`Handle::dump` from another thread).
    Dump(Sender<TaskDump>),
}

/// A task built on another thread, on its way to its runtime. It carries the
/// owner reference. If it is dropped undelivered (the runtime is gone), its
/// future — which is `Send`, `Handle::spawn` demands it — is cancelled where
/// it is, so its `JoinHandle` still resolves.
pub(crate) struct PendingSpawn(Option<TaskRef>);

impl PendingSpawn {
    pub(crate) fn new(task: TaskRef) -> PendingSpawn {
        PendingSpawn(Some(task))
    }

    pub(crate) fn into_task(mut self) -> TaskRef {
        self.0.take().expect("PendingSpawn taken twice")
    }
}

impl Drop for PendingSpawn {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            // No runtime ever saw this task, so this thread is the only one that
            // knows it: the owner-thread `Cell`s are ours to use although this is
            // not the owner thread, and the future is `Send` (`Handle::spawn`
            // demands it), so dropping it here is sound.
            task.set_lifecycle(lifecycle::DONE);
            task.cancel_future(true);
            task.complete();
            // SAFETY: the owner reference this message carried, released once.
            unsafe { task.drop_reference() };
        }
    }
}

// SAFETY: a PendingSpawn is the only holder of its task's owner-side state, and
// its future is `Send` (only `Handle::spawn` builds one).
unsafe impl Send for PendingSpawn {}

/// Runtimes are numbered from this counter. An id is never reused, unlike
/// an address: a `Sleep` or `TimerHandle` that outlives its runtime still
/// names that runtime and nothing else (see `context::with_runtime`).
static NEXT_RUNTIME_ID: AtomicU64 = AtomicU64::new(1);

/// The part of a runtime that other threads reach.
pub(crate) struct Shared {
    /// This runtime's number, unique for the life of the process.
    pub(crate) id: u64,
    mailbox: Sender<Remote>,
    /// The sleep handshake (module doc).
    pub(crate) doorbell: Doorbell,
    pub(crate) reactor: Arc<Reactor>,
    pub(crate) blocking: BlockingPool,
    /// Live `Handle`s: while there is one, another thread may still wake a
    /// task, so a runtime under virtual time with nothing else to do waits
    /// instead of reporting a deadlock (`nobody_else_can_send`).
    pub(crate) handles: AtomicUsize,
}

impl Shared {
    pub(crate) fn new(
        mailbox: Sender<Remote>,
        reactor: Arc<Reactor>,
        blocking: BlockingPool,
    ) -> Shared {
        Shared {
            id: NEXT_RUNTIME_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            mailbox,
            doorbell: Doorbell::default(),
            reactor,
            blocking,
            handles: AtomicUsize::new(0),
        }
    }

    /// The remote half of a wake (module doc, steps 1–2).
    pub(crate) fn wake_remote(&self, task: TaskRef) {
        if !claim_remote_wake(&task.header().remote_queued) {
            return;
        }
        task.add_reference();
        // SAFETY: the reference just added is handed to the message.
        self.send(Remote::Wake(unsafe { OwnedTaskRef::from_owned(task) }));
    }

    /// Rouses the loop if it is blocked in the reactor (the waker's half of
    /// the sleep handshake in the module doc).
    pub(crate) fn unpark(&self) {
        self.doorbell.unpark(&self.reactor);
    }

    /// Sends a message to the loop and rouses it if it sleeps. If the runtime
    /// is gone the message is dropped here, which releases what it owns.
    pub(crate) fn send(&self, message: Remote) {
        if self.mailbox.send(message).is_ok() {
            self.doorbell.ring(&self.reactor);
        }
    }
}

/// A `Handle` was dropped. `Release`: whatever its thread sent before
/// (a wake in the mailbox) is visible to a loop that sees the count drop
/// ([`nobody_else_can_send`]). (Every send already ends in the doorbell's
/// `SeqCst` fence, which orders it before this decrement too: loom passes
/// with a `Relaxed` decrement. The `Release` states the intent and does not
/// lean on how `send` happens to be written.)
#[inline]
pub(crate) fn drop_handle(handles: &AtomicUsize) {
    handles.fetch_sub(1, Ordering::Release);
}

/// The loop, deciding whether a runtime with nothing ready and no timer is
/// deadlocked: no `Handle` is left that another thread could send with, and
/// no message is waiting. The count is read first, with `Acquire`: if the
/// last `Handle` was dropped after its thread sent a message, that message's
/// `mail += 1` happened before the drop, so the second load sees it — the
/// loom model `a_message_sent_before_the_last_handle_drops_is_seen` checks
/// exactly this, and fails with a `Relaxed` read. Wakers carried to
/// another thread by other means (an `Event` clone in a `std::thread`) are
/// not counted: such a thread must hold a `Handle` while it may wake a task
/// (`Builder::virtual_time` says so).
#[inline]
pub(crate) fn nobody_else_can_send(handles: &AtomicUsize, doorbell: &Doorbell) -> bool {
    handles.load(Ordering::Acquire) == 0 && !doorbell.has_mail()
}

/// The remote half of a wake, step 1: `true` if the caller must send a wake
/// message, `false` if one is in flight and this wake merges into it.
#[inline]
pub(crate) fn claim_remote_wake(remote_queued: &AtomicBool) -> bool {
    !remote_queued.swap(true, Ordering::AcqRel)
}

/// The loop's half: called when it drains a wake message, before it
/// schedules the task. `AcqRel`, not a `Release` store: see the module doc.
#[inline]
pub(crate) fn take_remote_wake(remote_queued: &AtomicBool) {
    remote_queued.swap(false, Ordering::AcqRel);
}

/// The sleep handshake between senders and the loop (module doc).
#[derive(Default)]
pub(crate) struct Doorbell {
    /// The loop is (about to be) blocked in the reactor.
    sleeping: AtomicBool,
    /// Messages sent and not yet counted off by the loop. A sender adds one
    /// after its message is in the channel, so the loop can tell with one
    /// load, every turn, whether there is anything to drain — asking the
    /// channel itself costs tens of instructions, on every short turn.
    mail: AtomicUsize,
}

impl Doorbell {
    /// Sender: a message is in the channel; notify `reactor` if the loop
    /// may be blocked in it.
    #[inline]
    pub(crate) fn ring(&self, reactor: &Reactor) {
        self.mail.fetch_add(1, Ordering::Release);
        self.unpark(reactor);
    }

    /// Someone made progress possible without a message (a `to_thread` job
    /// ended): notify `reactor` if the loop may be blocked in it.
    #[inline]
    pub(crate) fn unpark(&self, reactor: &Reactor) {
        fence(Ordering::SeqCst);
        if self.sleeping.load(Ordering::Relaxed) {
            reactor.notify();
        }
    }

    /// Loop: is there mail? One load, every turn.
    #[inline]
    pub(crate) fn has_mail(&self) -> bool {
        self.mail.load(Ordering::Acquire) != 0
    }

    /// Loop: counts off the mail; every message counted is in the channel.
    pub(crate) fn take_mail(&self) -> usize {
        self.mail.swap(0, Ordering::Acquire)
    }

    /// Loop: the whole of its half of the handshake (module doc). Makes
    /// sure `reactor` has a poller if the wait has a `deadline`, announces
    /// the sleep, and calls `block` (which waits in `reactor`) only if no
    /// mail arrived meanwhile.
    ///
    /// # Errors
    ///
    /// If the poller cannot be created; then the loop has not blocked.
    pub(crate) fn sleep(
        &self,
        reactor: &Reactor,
        deadline: bool,
        block: impl FnOnce(),
    ) -> io::Result<()> {
        // First the poller: a sender that sees `sleeping` notifies the poller if it
        // exists and the parker if not, so it must exist before `sleeping` can be
        // seen.
        if deadline {
            reactor.poller()?;
        }
        self.sleeping.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if self.mail.load(Ordering::Relaxed) == 0 {
            block();
        }
        self.sleeping.store(false, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(all(test, loom))]
mod loom_models;
