//! Wait reasons: what a task that is not running waits for.
//!
//! Every spindle future that returns `Pending` — a `Sleep`, a `JoinHandle`,
//! a socket, a `Queue::get` in the primitives crate — writes one small
//! record into the header of the task being polled: *what* it waits on.
//! The executor clears the record before each poll, so after a poll that
//! returned `Pending` it names what the task waits for now, and the task
//! dump (`dump.rs`) and the trace can say it: `Queue#3.get`,
//! `sleep until 2.000s`, `task 5 (consumer)`.
//!
//! A task that awaits several things at once (`join!`, `timeout`) keeps the
//! **first** record of its poll: the first leaf future that found it had to
//! wait, which for `timeout(d, queue.get())` is the `get`. One record and
//! no list keeps the cost at one store per `Pending` and the task small
//! (the record is 16 bytes of the header; see the size test in `task/`).
//!
//! A record is a [`WaitOn`] — a `'static` description of the kind of wait,
//! declared once per call site — plus one number whose meaning the
//! `WaitOn` gives ([`Arg`]): an object's number (`Queue#3`), a deadline, a
//! task id, a file descriptor. Nothing is formatted when the record is
//! written; only a dump formats it.
//!
//! # Six bytes in the task header
//!
//! The record lives in the header padding that two one-byte flags leave
//! before the next pointer, so it costs no memory at all: a `u16` that
//! names the `WaitOn` and a `u32` for its number. A `WaitOn` gets its
//! `u16` the first time it is recorded, from a registry of every `WaitOn`
//! seen so far ([`WaitOn::index`]; 65 535 call sites is far more than a
//! program has). A number that does not fit 32 bits is cut to its low 32
//! bits: an object or task number past four billion is shown modulo 2³²,
//! and a deadline, kept in milliseconds since the runtime started, shows as
//! `49.7 days` at most. Keeping the task block small is worth it: a task
//! that grew from 104 to 120 bytes left glibc's small-chunk fast path and
//! cost every spawn 15 more instructions (callgrind, `hot_paths spawn`).

use std::fmt;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// What the number of a wait record means, and so how it is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// The number of a named object (`observe::Label`): `Queue#3.get`.
    Object,
    /// A deadline, in milliseconds since the runtime started:
    /// `sleep until 2.000s`.
    Deadline,
    /// The id of the task awaited through its `JoinHandle`: `task 5 (name)`.
    Task,
    /// A file descriptor: `TcpStream fd 7 read`.
    Fd,
    /// No number: `to_thread job`.
    None,
}

/// One kind of wait, declared once as a `static` where the wait happens.
/// (A `static`, not a `const`: its registry index lives in it.)
///
/// # Examples
///
/// ```
/// use spindle::observe::{Arg, WaitOn};
///
/// static GET: WaitOn = WaitOn::new("Queue", "get", Arg::Object); // Queue#3.get
/// assert_eq!(GET.kind(), "Queue");
/// ```
#[derive(Debug)]
pub struct WaitOn {
    kind: &'static str,
    op: &'static str,
    arg: Arg,
    /// Its place in [`REGISTRY`] plus one; 0 until first recorded.
    index: AtomicU16,
}

/// Every `WaitOn` recorded so far, at its index minus one.
static REGISTRY: Mutex<Vec<&'static WaitOn>> = Mutex::new(Vec::new());

impl WaitOn {
    /// A wait on `kind` (`"Queue"`), doing `op` (`"get"`), whose record
    /// carries a number meaning `arg`.
    pub const fn new(kind: &'static str, op: &'static str, arg: Arg) -> WaitOn {
        WaitOn {
            kind,
            op,
            arg,
            index: AtomicU16::new(0),
        }
    }

    /// This `WaitOn`'s number in the registry (from 1), registering it on
    /// first use; 0 if the registry is full. Relaxed: the index is only a
    /// name, published with the registry's lock for [`WaitOn::from_index`].
    #[inline(always)]
    pub(crate) fn index(&'static self) -> u16 {
        match self.index.load(Ordering::Relaxed) {
            0 => self.register(),
            index => index,
        }
    }

    #[cold]
    fn register(&'static self) -> u16 {
        let mut registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        // Another thread may have registered it meanwhile.
        let index = self.index.load(Ordering::Relaxed);
        if index != 0 {
            return index;
        }
        let Ok(index) = u16::try_from(registry.len() + 1) else {
            return 0;
        };
        registry.push(self);
        self.index.store(index, Ordering::Relaxed);
        index
    }

    /// The `WaitOn` registered under `index` (from [`WaitOn::index`]).
    pub(crate) fn from_index(index: u16) -> Option<&'static WaitOn> {
        let registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        registry.get(usize::from(index).checked_sub(1)?).copied()
    }

    /// The kind of object waited on.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// What is done to it.
    pub fn op(&self) -> &'static str {
        self.op
    }

    /// What the record's number means.
    pub fn arg(&self) -> Arg {
        self.arg
    }
}

/// What a task waiting on a socket waits on, by direction, and how to
/// record it. The reactor cannot see the running task (it sits below the
/// executor), so whoever registers a socket (`net/`) hands it this: the
/// reactor calls `record` with the direction's `WaitOn` and the descriptor
/// when an operation returns `Pending` (`TcpStream fd 7 read`).
#[derive(Clone, Copy)]
pub(crate) struct SocketWaits {
    pub(crate) read: &'static WaitOn,
    pub(crate) write: &'static WaitOn,
    pub(crate) record: fn(&'static WaitOn, u64),
}

/// The number a record keeps for `arg` (module doc: 32 bits).
pub(crate) fn compact(arg: u64) -> u32 {
    arg as u32
}

/// Formats a record; `task_name` finds the name of a task by id, for
/// [`Arg::Task`].
pub(crate) fn describe(
    (on, number): (&'static WaitOn, u64),
    task_name: impl Fn(u64) -> Option<String>,
) -> String {
    match on.arg {
        Arg::Object => format!("{}#{number}.{}", on.kind, on.op),
        Arg::Deadline => format!("{} until {}", on.op, Seconds(Duration::from_millis(number))),
        Arg::Task => match task_name(number) {
            Some(name) => format!("task {number} ({name})"),
            None => format!("task {number}"),
        },
        Arg::Fd => format!("{} fd {number} {}", on.kind, on.op),
        Arg::None if on.op.is_empty() => on.kind.to_string(),
        Arg::None => format!("{} {}", on.kind, on.op),
    }
}

/// A duration since the runtime started, as asyncio's `loop.time()` deltas
/// read: `2.000s`.
pub(crate) struct Seconds(pub(crate) Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.0.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_on_is_registered_once_and_found_by_its_index() {
        static A: WaitOn = WaitOn::new("A", "a", Arg::None);
        static B: WaitOn = WaitOn::new("B", "b", Arg::None);
        let (a, b) = (A.index(), B.index());
        assert!(a != 0 && b != 0 && a != b);
        assert_eq!(A.index(), a, "registered once");
        assert!(std::ptr::eq(WaitOn::from_index(a).unwrap(), &A));
        assert!(std::ptr::eq(WaitOn::from_index(b).unwrap(), &B));
        assert!(WaitOn::from_index(0).is_none());
    }

    #[test]
    fn each_kind_of_number_reads_as_the_dump_shows_it() {
        static GET: WaitOn = WaitOn::new("Queue", "get", Arg::Object);
        static SLEEP: WaitOn = WaitOn::new("Sleep", "sleep", Arg::Deadline);
        static JOIN: WaitOn = WaitOn::new("JoinHandle", "join", Arg::Task);
        static READ: WaitOn = WaitOn::new("TcpStream", "read", Arg::Fd);
        static JOB: WaitOn = WaitOn::new("to_thread", "job", Arg::None);
        let names = |id| (id == 5).then(|| "consumer".to_string());
        assert_eq!(describe((&GET, 3), names), "Queue#3.get");
        assert_eq!(describe((&SLEEP, 2_000), names), "sleep until 2.000s");
        assert_eq!(describe((&JOIN, 5), names), "task 5 (consumer)");
        assert_eq!(describe((&JOIN, 6), names), "task 6");
        assert_eq!(describe((&READ, 7), names), "TcpStream fd 7 read");
        assert_eq!(describe((&JOB, 0), names), "to_thread job");
        static YIELD: WaitOn = WaitOn::new("yield_now", "", Arg::None);
        assert_eq!(describe((&YIELD, 0), names), "yield_now");
    }
}
