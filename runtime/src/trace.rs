//! The trace: what the loop did, as a Chrome Trace Event file that Perfetto
//! (ui.perfetto.dev) or chrome://tracing opens.
//!
//! Turn it on with `SPINDLE_TRACE=path.json` (read by `run`) or
//! [`Builder::trace`](crate::Builder::trace). Every task gets a lane (a
//! "thread" in the viewer) named after it, `main` for the `block_on` future;
//! the loop itself has lane `loop` for reactor waits and timers.
//!
//! | event | shape | lane |
//! |---|---|---|
//! | poll | span (`ph: X`), how long the poll took | the task's |
//! | spawn, wake (`args.origin`: local, remote, timer, io), finished, cancelled, panicked | instant (`ph: i`) | the task's |
//! | what a primitive did, named after it (`Mutex#1 handed over`, `args.object`; see `observe.rs`) | instant | the task's that did it |
//! | timer fired (`args.late_us`), timer cancelled (`args.was_due_us`) | instant | loop |
//! | clock jump (virtual time: the clock skipped idle time) | span | loop |
//! | reactor wait (`args`: blocked µs, timeout, events, woke by) | span | loop |
//!
//! Timestamps are the runtime's clock (virtual under virtual time), in
//! microseconds since the runtime started, so a virtual-time trace shows the
//! program's own timeline. Durations of polls are real time, except under
//! virtual time, where a poll takes none (so the file is reproducible).
//!
//! Events are kept in memory and written once, when the runtime drops, so
//! tracing never does I/O on the loop. With tracing off the `Core` holds
//! `None` and each hook is one predictable branch.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::metrics::WakeOrigin;

/// A task as the trace names it: its id and, if it has one, its name.
pub(crate) type TaskName<'a> = (u64, Option<&'a str>);

/// The lane of the loop itself (tasks use their id + 1).
const LOOP_LANE: u64 = 0;

/// An instant event on a task's lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    Finished,
    Panicked,
    Cancelled,
}

struct Record {
    lane: u64,
    name: Cow<'static, str>,
    ts: Duration,
    shape: Shape,
    args: String,
}

/// How a record is drawn: Chrome's `ph` (phase).
#[derive(Clone, Copy)]
enum Shape {
    /// `i`: a point in time.
    Instant,
    /// `X`: a slice of the lane, this long.
    Span(Duration),
    /// `s`: where a flow arrow starts (the wake), numbered.
    FlowStart(u64),
    /// `f`: where it ends (the woken task's next poll).
    FlowEnd(u64),
}

pub(crate) struct Tracer {
    path: PathBuf,
    start: Instant,
    /// The runtime's clock is virtual: the file says so (`otherData.clock`),
    /// so `spindle-trace` draws spans at their virtual length (zero) and the
    /// picture is the same on every run.
    virtual_time: bool,
    records: RefCell<Vec<Record>>,
    lanes: RefCell<BTreeMap<u64, String>>,
    /// The flow arrow waiting for each woken task's next poll, by lane.
    flows: RefCell<BTreeMap<u64, u64>>,
    /// The flow arrow of a task that woke itself during its poll, by lane:
    /// it ends at the poll *after* the one running, so `poll` moves it into
    /// `flows` only once it has ended the running poll's own arrow.
    after_poll: RefCell<BTreeMap<u64, u64>>,
    /// The number of the last flow arrow.
    last_flow: std::cell::Cell<u64>,
}

impl Tracer {
    pub(crate) fn new(path: PathBuf, start: Instant, virtual_time: bool) -> Tracer {
        let lanes = BTreeMap::from([(LOOP_LANE, "loop".to_string())]);
        Tracer {
            path,
            start,
            virtual_time,
            records: RefCell::new(Vec::new()),
            lanes: RefCell::new(lanes),
            flows: RefCell::new(BTreeMap::new()),
            after_poll: RefCell::new(BTreeMap::new()),
            last_flow: std::cell::Cell::new(0),
        }
    }

    /// The lane of task `id`, named on first use.
    fn lane(&self, (id, name): TaskName<'_>) -> u64 {
        let lane = id + 1;
        self.lanes
            .borrow_mut()
            .entry(lane)
            .or_insert_with(|| match name {
                Some(name) => format!("{name} (task {id})"),
                None => format!("task {id}"),
            });
        lane
    }

    fn push(
        &self,
        lane: u64,
        name: impl Into<Cow<'static, str>>,
        at: Instant,
        shape: Shape,
        args: String,
    ) {
        let ts = at.saturating_duration_since(self.start);
        self.records.borrow_mut().push(Record {
            lane,
            name: name.into(),
            ts,
            shape,
            args,
        });
    }

    pub(crate) fn task_event(&self, event: Event, task: TaskName<'_>, now: Instant) {
        let (name, args) = match event {
            Event::Finished => ("finished", String::new()),
            Event::Panicked => ("panicked", String::new()),
            Event::Cancelled => ("cancelled", String::new()),
        };
        let lane = self.lane(task);
        self.push(lane, name, now, Shape::Instant, args);
    }

    /// `task` was spawned by `parent` (`None`: by a `Handle` from another
    /// thread, or before `block_on`) at `at` in the source.
    pub(crate) fn spawn(
        &self,
        task: TaskName<'_>,
        parent: Option<TaskName<'_>>,
        at: &std::panic::Location<'_>,
        now: Instant,
    ) {
        let parent = match parent {
            Some((id, _)) => id.to_string(),
            None => "null".to_string(),
        };
        let args = format!(
            r#""parent":{parent},"at":"{}:{}""#,
            escape(at.file()),
            at.line()
        );
        let lane = self.lane(task);
        self.push(lane, "spawn", now, Shape::Instant, args);
    }

    /// `task` was woken, by the task `by` during its poll, or by the loop
    /// (`None`: a timer, I/O, another thread, a callback): a `wake` instant
    /// on the woken lane, as `task_event` records, and a flow arrow from
    /// the waker's lane to the woken task's next poll. A task that wakes
    /// itself is running (transition 4 in `task/mod.rs`): its next poll is
    /// the one after the running one, which `poll` records only when the
    /// running one returns.
    pub(crate) fn wake(
        &self,
        task: TaskName<'_>,
        origin: WakeOrigin,
        by: Option<TaskName<'_>>,
        now: Instant,
    ) {
        let lane = self.lane(task);
        let from = by.map_or(LOOP_LANE, |by| self.lane(by));
        let flow = self.last_flow.get() + 1;
        self.last_flow.set(flow);
        let itself = by.is_some_and(|(id, _)| id == task.0);
        let pending = if itself {
            &self.after_poll
        } else {
            &self.flows
        };
        pending.borrow_mut().insert(lane, flow);
        let by = by.map_or("null".to_string(), |(id, _)| id.to_string());
        let args = format!(r#""origin":"{}","by":{by}"#, origin.as_str());
        self.push(lane, "wake", now, Shape::Instant, args);
        self.push(from, "wake", now, Shape::FlowStart(flow), String::new());
    }

    /// What `task` waits on from now until its next poll: an instant
    /// `waits` (`args.on`: `Queue#1.get`) at the end of the poll that
    /// returned `Pending`.
    pub(crate) fn waits(&self, task: TaskName<'_>, on: &str, now: Instant) {
        let lane = self.lane(task);
        let args = format!(r#""on":"{}""#, escape(on));
        self.push(lane, "waits", now, Shape::Instant, args);
    }

    /// A poll that began at `at` and took `took` of real time. Under virtual
    /// time it is recorded as taking no time, as it does on the virtual
    /// clock: so a virtual-time run of a deterministic program (a seeded
    /// one, `Builder::seed`) writes the same file every time.
    pub(crate) fn poll(&self, task: TaskName<'_>, at: Instant, took: Duration) {
        let took = if self.virtual_time {
            Duration::ZERO
        } else {
            took
        };
        let lane = self.lane(task);
        let mut flows = self.flows.borrow_mut();
        if let Some(flow) = flows.remove(&lane) {
            self.push(lane, "wake", at, Shape::FlowEnd(flow), String::new());
        }
        if let Some(flow) = self.after_poll.borrow_mut().remove(&lane) {
            flows.insert(lane, flow);
        }
        self.push(lane, "poll", at, Shape::Span(took), String::new());
    }

    /// A primitive said what it did (`observe.rs`): `Mutex#1 acquired` on
    /// the lane of the task that did it.
    pub(crate) fn note(&self, task: TaskName<'_>, object: &str, what: &str, at: Instant) {
        let lane = self.lane(task);
        let args = format!(r#""object":"{}""#, escape(object));
        self.push(lane, format!("{object} {what}"), at, Shape::Instant, args);
    }

    /// A timer fired at `at`, `late` after its deadline.
    pub(crate) fn timer_fired(&self, at: Instant, deadline: Instant) {
        let late = at.saturating_duration_since(deadline).as_secs_f64() * 1e6;
        let args = format!(r#""late_us":{late:.1}"#);
        self.push(LOOP_LANE, "timer fired", at, Shape::Instant, args);
    }

    /// A timer due at `deadline` was cancelled at `at`.
    pub(crate) fn timer_cancelled(&self, at: Instant, deadline: Instant) {
        let due = deadline.saturating_duration_since(self.start).as_secs_f64() * 1e6;
        let args = format!(r#""was_due_us":{due:.1}"#);
        self.push(LOOP_LANE, "timer cancelled", at, Shape::Instant, args);
    }

    /// Virtual time: the loop had nothing to run and jumped its clock.
    pub(crate) fn clock_jump(&self, from: Instant, to: Instant) {
        let by = to.saturating_duration_since(from).as_secs_f64() * 1e6;
        self.push(
            LOOP_LANE,
            "clock jump",
            from,
            Shape::Span(to.saturating_duration_since(from)),
            format!(r#""by_us":{by:.1}"#),
        );
    }

    pub(crate) fn reactor_wait(
        &self,
        at: Instant,
        blocked: Duration,
        timeout: Option<Duration>,
        events: usize,
    ) {
        let timeout = match timeout {
            Some(t) => format!("{:.1}", t.as_secs_f64() * 1e6),
            None => "null".to_string(),
        };
        let woke_by = if events > 0 {
            "io or notify"
        } else {
            "timeout"
        };
        let args = format!(
            r#""blocked_us":{:.1},"timeout_us":{timeout},"events":{events},"woke_by":"{woke_by}""#,
            blocked.as_secs_f64() * 1e6
        );
        self.push(LOOP_LANE, "reactor wait", at, Shape::Span(blocked), args);
    }

    /// Writes the file. Errors go to stderr: a trace must not crash the program.
    pub(crate) fn finish(&self) {
        if let Err(error) = std::fs::write(&self.path, self.to_json()) {
            eprintln!(
                "spindle: could not write the trace to {}: {error}",
                self.path.display()
            );
        }
    }

    fn to_json(&self) -> String {
        let clock = if self.virtual_time { "virtual" } else { "real" };
        let mut out = format!(
            "{{\"displayTimeUnit\":\"ms\",\"otherData\":{{\"clock\":\"{clock}\"}},\"traceEvents\":[\n"
        );
        out.push_str(
            r#"{"name":"process_name","ph":"M","pid":1,"tid":0,"args":{"name":"spindle"}}"#,
        );
        for (lane, name) in self.lanes.borrow().iter() {
            let _ = write!(
                out,
                ",\n{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{lane},\"args\":{{\"name\":\"{}\"}}}}",
                escape(name)
            );
            let _ = write!(out, ",\n{{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":{lane},\"args\":{{\"sort_index\":{lane}}}}}");
        }
        for record in self.records.borrow().iter() {
            let ts = record.ts.as_secs_f64() * 1e6;
            let _ = write!(
                out,
                ",\n{{\"name\":\"{}\",\"pid\":1,\"tid\":{},\"ts\":{ts:.3}",
                escape(&record.name),
                record.lane
            );
            match record.shape {
                Shape::Span(dur) => {
                    let _ = write!(out, ",\"ph\":\"X\",\"dur\":{:.3}", dur.as_secs_f64() * 1e6);
                }
                Shape::Instant => out.push_str(",\"ph\":\"i\",\"s\":\"t\""),
                Shape::FlowStart(id) => {
                    let _ = write!(out, ",\"ph\":\"s\",\"cat\":\"wake\",\"id\":{id}");
                }
                // `bp: e`: the arrow ends at the poll that starts here.
                Shape::FlowEnd(id) => {
                    let _ = write!(
                        out,
                        ",\"ph\":\"f\",\"bp\":\"e\",\"cat\":\"wake\",\"id\":{id}"
                    );
                }
            }
            let _ = write!(out, ",\"args\":{{{}}}}}", record.args);
        }
        out.push_str("\n]}\n");
        out
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}
