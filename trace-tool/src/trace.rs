//! The trace as data: the lanes of a spindle trace file, each with its spans
//! and its marks, ready to be drawn.
//!
//! spindle writes its trace (`SPINDLE_TRACE=trace.json`, see
//! `runtime/src/trace.rs`) in the Chrome Trace Event format:
//! `{"displayTimeUnit":"ms","traceEvents":[ ... ]}`. Four kinds of event
//! matter here, told apart by their phase, `ph`:
//!
//! - **metadata** (`ph: "M"`): `thread_name` gives a lane its name.
//! - **spans** (`ph: "X"`): something that took time, from `ts` for `dur`.
//!   spindle writes `poll` on task lanes and `reactor wait` on the loop lane.
//! - **instants** (`ph: "i"`): something that happened at `ts`. We call them
//!   *marks*: `spawn` (with `args.parent` and the source line `args.at`),
//!   `wake` (`args.origin`, and `args.by`, the waking task),
//!   `finished`, `cancelled`, `panicked` on task lanes, `timer fired` and
//!   `timer cancelled` on the loop lane, and the notes primitives make
//!   (`Mutex#1 acquired`, with `args.object`) on the lane of the task that
//!   made them. One instant is not a mark: `waits` (`args.on`, like
//!   `Queue#1.get`), written after a poll that returned `Pending`, says
//!   what the task waits on until its next poll; it becomes a [`Wait`].
//! - **flows** (`ph: "s"` and `ph: "f"`, paired by `id`): an arrow from
//!   whoever woke a task to the poll that wake caused; [`crate::flows`]
//!   pairs them.
//!
//! The vocabulary:
//!
//! - A **lane** is what the format calls a thread (`tid`). spindle gives the
//!   loop lane 0 and a task lane `id + 1`, so the `block_on` future, task 0
//!   and named `main`, is lane 1. Sorting lanes by number therefore gives the
//!   reading order we want: loop, main, then tasks in spawn order.
//! - **Times** are microseconds since the runtime started, on the runtime's
//!   [`Clock`].
//! - The **sequence number** of a span or mark is its event's index in the
//!   file: the order in which the runtime recorded it.
//!
//! **Virtual time.** Under `SPINDLE_CLOCK=virtual` the runtime's clock only
//! moves when the loop jumps it over idle time (a `clock jump` span), so
//! every timestamp is on the program's own timeline, and everything the
//! loop does between two jumps happens at one instant. spindle still
//! writes the *real* time a poll or a reactor wait took as its `dur`. That
//! duration is not on the trace's clock, and it differs from run to run, so
//! for a virtual-time trace the parser sets the duration of every span
//! except a clock jump to zero: a picture of a virtual-time run then
//! depends only on what the program did, and comes out byte for byte the
//! same on every run (`docs/README.md` relies on that). Within one instant,
//! the sequence numbers give the order of events.
//!
//! Two facts about the file shape the parser. First, it is not in time
//! order: spindle writes a poll's record when the poll *ends*, after the
//! wakes and spawns that happened during it, so we sort each lane by time
//! (and, at equal times, keep the file order). Second, the file may come
//! from a crashed or hand-edited run, so every field we rely on is checked
//! and a bad one becomes a [`ParseError`] that names the event, never a
//! panic. Events we do not draw (other metadata, other phases) are skipped:
//! a newer runtime may add some.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

pub use crate::flows::{Flow, FlowEnd, Point};

/// The loop's own lane number; a task's lane is its id + 1.
pub const LOOP_LANE: u64 = 0;

/// A parsed trace: its lanes in drawing order, and who woke whom.
///
/// # Examples
///
/// ```
/// let json = r#"{"traceEvents":[
///   {"name":"thread_name","ph":"M","pid":1,"tid":1,"args":{"name":"main (task 0)"}},
///   {"name":"poll","ph":"X","pid":1,"tid":1,"ts":0.0,"dur":12.5,"args":{}}
/// ]}"#;
/// let trace = spindle_trace::Trace::parse(json).unwrap();
/// assert_eq!(trace.lanes[0].name, "main (task 0)");
/// assert_eq!(trace.polls(), 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Every lane that is named or has an event, sorted by lane number.
    pub lanes: Vec<Lane>,
    /// The clock the timestamps are on.
    pub clock: Clock,
    /// Every wake whose flow arrow the file starts and ends, in file order
    /// of their starts (see [`crate::flows`]).
    pub flows: Vec<Flow>,
}

/// The clock a trace's timestamps are on (`SPINDLE_CLOCK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Real time: spans last as long as they took.
    Real,
    /// Virtual time: only clock jumps take time; every other span is an
    /// instant (see the module doc).
    Virtual,
}

impl Clock {
    /// The clock a file was written on. spindle does not (yet) say so in the
    /// file; if an `otherData.clock` of `"virtual"` or `"real"` is there (the
    /// Chrome format's place for such metadata), it decides. Otherwise a
    /// trace is virtual when it has a `clock jump`, which only virtual time
    /// writes. (A virtual-time run without a single jump never left time 0.)
    fn of(root: &Value, events: &[Value]) -> Clock {
        match root.pointer("/otherData/clock").and_then(Value::as_str) {
            Some("virtual") => Clock::Virtual,
            Some("real") => Clock::Real,
            _ if events.iter().any(is_clock_jump) => Clock::Virtual,
            _ => Clock::Real,
        }
    }
}

fn is_clock_jump(event: &Value) -> bool {
    event.get("ph").and_then(Value::as_str) == Some("X")
        && event.get("name").and_then(Value::as_str) == Some("clock jump")
}

/// One row of the picture: the loop, or one task.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    /// The lane number (`tid`): 0 for the loop, task id + 1 for a task.
    pub id: u64,
    /// The name from the `thread_name` metadata, or one made up in spindle's
    /// style (`loop`, `task N`) when the file has none.
    pub name: String,
    /// Spans on this lane, sorted by start time.
    pub spans: Vec<Span>,
    /// Marks on this lane, sorted by time.
    pub marks: Vec<Mark>,
    /// What the task waited on after each poll that returned `Pending`,
    /// sorted by time.
    pub waits: Vec<Wait>,
}

/// What a task waits on from the end of one poll to the start of its next:
/// a `waits` instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Wait {
    /// The reason, as the runtime wrote it: `Queue#1.get`,
    /// `sleep until 2.000s`, `task 1 (producer)`.
    pub on: String,
    /// When the wait began (the end of the poll), in µs.
    pub at_us: f64,
    /// Its place in the file (the module doc's sequence number).
    pub seq: usize,
}

/// Something that took time on a lane.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    /// What was going on.
    pub kind: SpanKind,
    /// When it started, in µs since the runtime started.
    pub start_us: f64,
    /// How long it took on the trace's clock, in µs; never negative, and
    /// zero under virtual time for everything but a clock jump.
    pub dur_us: f64,
    /// Its place in the file (the module doc's sequence number).
    pub seq: usize,
}

impl Span {
    /// When it ended, in µs since the runtime started.
    pub fn end_us(&self) -> f64 {
        self.start_us + self.dur_us
    }
}

/// What a [`Span`] records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// One call of a task's `poll` (task lanes).
    Poll,
    /// The loop blocked in the poller, waiting for I/O or the next timer
    /// (loop lane).
    ReactorWait,
    /// Virtual time: the loop had nothing to run and jumped its clock over
    /// this stretch (loop lane).
    ClockJump,
    /// A span spindle does not write today, kept by name.
    Other(String),
}

/// Something that happened at one instant on a lane.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// What happened.
    pub kind: MarkKind,
    /// When, in µs since the runtime started.
    pub at_us: f64,
    /// Its place in the file (the module doc's sequence number).
    pub seq: usize,
    /// The task behind it: for a wake the task that woke this one (`None`:
    /// the loop did), for a spawn its parent (`None`: no task spawned it).
    pub by: Option<u64>,
    /// Where in the source a spawn happened (`examples/03_queue.rs:43`).
    pub source: Option<String>,
}

/// What a [`Mark`] records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// The task was spawned.
    Spawn,
    /// The task was queued to run, and who caused it.
    Wake(WakeOrigin),
    /// The task's future returned `Ready`.
    Finished,
    /// The task was dropped before finishing.
    Cancelled,
    /// The task's poll panicked.
    Panicked,
    /// A timer reached its deadline and woke its task (loop lane).
    TimerFired,
    /// A timer was dropped before its deadline (loop lane).
    TimerCancelled,
    /// A primitive said what it did (`Mutex#1 acquired`): the `object`
    /// (`Mutex#1`) and `what` it did (`acquired`).
    Note {
        /// The primitive's label, `args.object`.
        object: String,
        /// The rest of the instant's name.
        what: String,
    },
    /// An instant spindle does not write today, kept by name.
    Other(String),
}

/// Who woke a task (`args.origin` of a `wake`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WakeOrigin {
    /// Another task on the loop thread, e.g. a queue `put` waking a `get`.
    Local,
    /// Another thread, through the runtime's mailbox.
    Remote,
    /// The timer wheel, when a sleep's deadline passed.
    Timer,
    /// The reactor, when a socket became ready.
    Io,
    /// The file named no origin, or one this tool does not know.
    Unknown,
}

impl WakeOrigin {
    /// Every origin, in legend order.
    pub const ALL: [WakeOrigin; 5] = [
        WakeOrigin::Local,
        WakeOrigin::Remote,
        WakeOrigin::Timer,
        WakeOrigin::Io,
        WakeOrigin::Unknown,
    ];

    /// The word spindle writes for it.
    pub fn as_str(self) -> &'static str {
        match self {
            WakeOrigin::Local => "local",
            WakeOrigin::Remote => "remote",
            WakeOrigin::Timer => "timer",
            WakeOrigin::Io => "io",
            WakeOrigin::Unknown => "unknown",
        }
    }

    fn from_str(word: &str) -> WakeOrigin {
        match word {
            "local" => WakeOrigin::Local,
            "remote" => WakeOrigin::Remote,
            "timer" => WakeOrigin::Timer,
            "io" => WakeOrigin::Io,
            _ => WakeOrigin::Unknown,
        }
    }
}

/// Why a file is not a trace we can draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

fn error(message: impl Into<String>) -> ParseError {
    ParseError {
        message: message.into(),
    }
}

impl Trace {
    /// Parses the text of a trace file.
    ///
    /// Accepts both shapes of the format: an object with a `traceEvents`
    /// array (what spindle writes) and a bare array of events.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] if the text is not JSON, has no event array, or an
    /// event we draw lacks a field it needs (`tid`, `ts`, `dur`) or has one
    /// of the wrong type. The message names the event by its index.
    pub fn parse(json: &str) -> Result<Trace, ParseError> {
        let root: Value =
            serde_json::from_str(json).map_err(|e| error(format!("not valid JSON: {e}")))?;
        let events = match &root {
            Value::Object(object) => match object.get("traceEvents") {
                Some(Value::Array(events)) => events,
                Some(_) => return Err(error("`traceEvents` is not an array")),
                None => return Err(error("no `traceEvents` array: is this a trace file?")),
            },
            Value::Array(events) => events,
            _ => return Err(error("expected an object with `traceEvents`, or an array")),
        };

        let clock = Clock::of(&root, events);
        // A BTreeMap keeps lanes sorted by number, which is the drawing order.
        let mut lanes: BTreeMap<u64, Lane> = BTreeMap::new();
        let mut flow_ends = Vec::new();
        for (index, event) in events.iter().enumerate() {
            parse_event(index, event, clock, &mut lanes, &mut flow_ends)?;
        }

        let mut lanes: Vec<Lane> = lanes.into_values().collect();
        for lane in &mut lanes {
            // Stable sorts: events at the same time keep the order the
            // runtime recorded them in.
            lane.spans.sort_by(|a, b| a.start_us.total_cmp(&b.start_us));
            lane.marks.sort_by(|a, b| a.at_us.total_cmp(&b.at_us));
            lane.waits.sort_by(|a, b| a.at_us.total_cmp(&b.at_us));
        }
        let flows = crate::flows::pair(&lanes, flow_ends);
        Ok(Trace {
            lanes,
            clock,
            flows,
        })
    }

    /// The lane with number `id`, if the trace has it.
    pub fn lane(&self, id: u64) -> Option<&Lane> {
        self.lanes.iter().find(|lane| lane.id == id)
    }

    /// How many polls the trace holds, over all lanes.
    pub fn polls(&self) -> usize {
        self.lanes
            .iter()
            .flat_map(|lane| &lane.spans)
            .filter(|span| span.kind == SpanKind::Poll)
            .count()
    }

    /// The earliest time in the trace, in µs: 0 (the runtime's start) unless
    /// some event claims to be earlier.
    pub fn start_us(&self) -> f64 {
        self.times().fold(0.0, f64::min)
    }

    /// The latest time in the trace, in µs: when the last span ended or the
    /// last mark happened. 0 for a trace without events.
    pub fn end_us(&self) -> f64 {
        self.times().fold(0.0, f64::max)
    }

    fn times(&self) -> impl Iterator<Item = f64> + '_ {
        self.lanes.iter().flat_map(|lane| {
            let spans = lane.spans.iter().flat_map(|s| [s.start_us, s.end_us()]);
            spans.chain(lane.marks.iter().map(|m| m.at_us))
        })
    }
}

/// Adds one event to its lane (or, for a flow's end, to `flow_ends`), or
/// explains why it cannot.
fn parse_event(
    index: usize,
    event: &Value,
    clock: Clock,
    lanes: &mut BTreeMap<u64, Lane>,
    flow_ends: &mut Vec<FlowEnd>,
) -> Result<(), ParseError> {
    let Value::Object(event) = event else {
        return Err(error(format!("event {index}: not an object")));
    };
    let phase = event.get("ph").and_then(Value::as_str).unwrap_or("");
    if !matches!(phase, "M" | "X" | "i" | "I" | "s" | "f") {
        return Ok(()); // a phase spindle does not write: nothing to draw
    }
    let name = event.get("name").and_then(Value::as_str).unwrap_or("");
    // Name the event in messages by index and, when it has one, by name.
    let what = if name.is_empty() {
        format!("event {index}")
    } else {
        format!("event {index} (`{name}`)")
    };
    let lane_id = match event.get("tid") {
        Some(tid) => tid
            .as_u64()
            .ok_or_else(|| error(format!("{what}: `tid` is not a lane number: {tid}")))?,
        None => return Err(error(format!("{what}: no `tid`"))),
    };

    if phase == "M" {
        if name == "thread_name" {
            let lane_name = event
                .get("args")
                .and_then(|args| args.get("name"))
                .and_then(Value::as_str)
                .ok_or_else(|| error(format!("{what}: no `args.name` string")))?;
            lane_entry(lanes, lane_id).name = lane_name.to_string();
        }
        return Ok(());
    }

    let ts = number(event, "ts", &what)?;
    let args = event.get("args");
    let arg = |key: &str| args.and_then(|args| args.get(key));
    if phase == "s" || phase == "f" {
        let id = match event.get("id") {
            Some(id) => id
                .as_u64()
                .ok_or_else(|| error(format!("{what}: flow `id` is not a number: {id}")))?,
            None => return Err(error(format!("{what}: a flow without an `id`"))),
        };
        let at = Point {
            lane: lane_id,
            at_us: ts,
            seq: index,
        };
        flow_ends.push(FlowEnd {
            id,
            starts: phase == "s",
            at,
        });
        // A flow's end is drawn on its lane, which therefore exists.
        lane_entry(lanes, lane_id);
    } else if phase == "X" {
        let dur = number(event, "dur", &what)?;
        if dur < 0.0 {
            return Err(error(format!("{what}: negative `dur` {dur}")));
        }
        let kind = match name {
            "poll" => SpanKind::Poll,
            "reactor wait" => SpanKind::ReactorWait,
            "clock jump" => SpanKind::ClockJump,
            other => SpanKind::Other(other.to_string()),
        };
        // Under virtual time only a clock jump is on the trace's clock; the
        // real time anything else took is left out (module doc).
        let dur_us = match (clock, &kind) {
            (Clock::Virtual, kind) if *kind != SpanKind::ClockJump => 0.0,
            _ => dur,
        };
        lane_entry(lanes, lane_id).spans.push(Span {
            kind,
            start_us: ts,
            dur_us,
            seq: index,
        });
    } else if name == "waits" {
        // A reason the runtime could not put in words still opens a wait.
        let on = arg("on").and_then(Value::as_str).unwrap_or("?");
        lane_entry(lanes, lane_id).waits.push(Wait {
            on: on.to_string(),
            at_us: ts,
            seq: index,
        });
    } else {
        let object = arg("object").and_then(Value::as_str);
        let kind = match (name, object) {
            ("spawn", _) => MarkKind::Spawn,
            ("wake", _) => MarkKind::Wake(WakeOrigin::from_str(
                arg("origin").and_then(Value::as_str).unwrap_or(""),
            )),
            ("finished", _) => MarkKind::Finished,
            ("cancelled", _) => MarkKind::Cancelled,
            ("panicked", _) => MarkKind::Panicked,
            ("timer fired", _) => MarkKind::TimerFired,
            ("timer cancelled", _) => MarkKind::TimerCancelled,
            (name, Some(object)) => MarkKind::Note {
                object: object.to_string(),
                what: name
                    .strip_prefix(object)
                    .unwrap_or(name)
                    .trim_start()
                    .to_string(),
            },
            (other, None) => MarkKind::Other(other.to_string()),
        };
        // `by` for a wake, `parent` for a spawn: a task id, or null.
        let by = arg("by").or_else(|| arg("parent")).and_then(Value::as_u64);
        let source = arg("at").and_then(Value::as_str).map(str::to_string);
        lane_entry(lanes, lane_id).marks.push(Mark {
            kind,
            at_us: ts,
            seq: index,
            by,
            source,
        });
    }
    Ok(())
}

/// The lane numbered `id`, created with spindle's default name if new.
fn lane_entry(lanes: &mut BTreeMap<u64, Lane>, id: u64) -> &mut Lane {
    lanes.entry(id).or_insert_with(|| Lane {
        id,
        name: match id {
            LOOP_LANE => "loop".to_string(),
            task => format!("task {}", task - 1),
        },
        spans: Vec::new(),
        marks: Vec::new(),
        waits: Vec::new(),
    })
}

/// A required, finite number field of an event.
fn number(event: &Map<String, Value>, field: &str, what: &str) -> Result<f64, ParseError> {
    match event.get(field) {
        // serde_json never yields NaN or infinity from text, but a number too
        // large for f64 would; refuse it rather than draw nonsense.
        Some(value) => value
            .as_f64()
            .filter(|n| n.is_finite())
            .ok_or_else(|| error(format!("{what}: `{field}` is not a number: {value}"))),
        None => Err(error(format!("{what}: no `{field}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three lanes, events out of time order as spindle writes them.
    const SMALL: &str = r#"{"displayTimeUnit":"ms","traceEvents":[
        {"name":"process_name","ph":"M","pid":1,"tid":0,"args":{"name":"spindle"}},
        {"name":"thread_name","ph":"M","pid":1,"tid":0,"args":{"name":"loop"}},
        {"name":"thread_name","ph":"M","pid":1,"tid":2,"args":{"name":"worker (task 1)"}},
        {"name":"thread_name","ph":"M","pid":1,"tid":1,"args":{"name":"main (task 0)"}},
        {"name":"thread_sort_index","ph":"M","pid":1,"tid":1,"args":{"sort_index":1}},
        {"name":"spawn","pid":1,"tid":2,"ts":5.0,"ph":"i","s":"t","args":{}},
        {"name":"wake","pid":1,"tid":2,"ts":6.0,"ph":"i","s":"t","args":{"origin":"local"}},
        {"name":"poll","pid":1,"tid":1,"ts":1.0,"ph":"X","dur":10.0,"args":{}},
        {"name":"reactor wait","pid":1,"tid":0,"ts":12.0,"ph":"X","dur":1000.0,"args":{"blocked_us":1000.0}},
        {"name":"timer fired","pid":1,"tid":0,"ts":1013.0,"ph":"i","s":"t","args":{"late_us":1.0}},
        {"name":"wake","pid":1,"tid":2,"ts":1014.0,"ph":"i","s":"t","args":{"origin":"timer"}},
        {"name":"poll","pid":1,"tid":2,"ts":1015.0,"ph":"X","dur":3.0,"args":{}},
        {"name":"finished","pid":1,"tid":2,"ts":1018.5,"ph":"i","s":"t","args":{}}
    ]}"#;

    #[test]
    fn lanes_come_out_sorted_by_number_with_their_names() {
        let trace = Trace::parse(SMALL).unwrap();
        let names: Vec<&str> = trace.lanes.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["loop", "main (task 0)", "worker (task 1)"]);
        assert_eq!(
            trace.lanes.iter().map(|l| l.id).collect::<Vec<_>>(),
            [0, 1, 2]
        );
    }

    #[test]
    fn spans_and_marks_land_on_their_lanes() {
        let trace = Trace::parse(SMALL).unwrap();
        let looped = trace.lane(LOOP_LANE).unwrap();
        assert_eq!(
            looped.spans,
            [Span {
                kind: SpanKind::ReactorWait,
                start_us: 12.0,
                dur_us: 1000.0,
                seq: 8,
            }]
        );
        assert_eq!(looped.marks[0].kind, MarkKind::TimerFired);

        let worker = trace.lane(2).unwrap();
        let kinds: Vec<&MarkKind> = worker.marks.iter().map(|m| &m.kind).collect();
        assert_eq!(
            kinds,
            [
                &MarkKind::Spawn,
                &MarkKind::Wake(WakeOrigin::Local),
                &MarkKind::Wake(WakeOrigin::Timer),
                &MarkKind::Finished
            ]
        );
        assert_eq!(worker.spans[0].kind, SpanKind::Poll);
        assert_eq!(trace.polls(), 2);
        assert_eq!(trace.end_us(), 1018.5);
        assert_eq!(trace.start_us(), 0.0);
    }

    #[test]
    fn events_are_sorted_by_time_within_a_lane() {
        let json = r#"[
            {"name":"poll","ph":"X","tid":1,"ts":30,"dur":1},
            {"name":"poll","ph":"X","tid":1,"ts":10,"dur":1},
            {"name":"wake","ph":"i","tid":1,"ts":20,"args":{"origin":"io"}},
            {"name":"wake","ph":"i","tid":1,"ts":5}
        ]"#;
        let trace = Trace::parse(json).unwrap();
        let lane = &trace.lanes[0];
        assert_eq!(
            lane.name, "task 0",
            "an unnamed lane gets spindle's default name"
        );
        assert_eq!(lane.spans[0].start_us, 10.0);
        assert_eq!(lane.marks[0].kind, MarkKind::Wake(WakeOrigin::Unknown));
        assert_eq!(lane.marks[1].kind, MarkKind::Wake(WakeOrigin::Io));
    }

    #[test]
    fn bad_input_is_an_error_naming_the_problem() {
        let cases = [
            ("", "not valid JSON"),
            ("{\"traceEvents\":[", "not valid JSON"),
            ("{}", "no `traceEvents`"),
            ("{\"traceEvents\":3}", "not an array"),
            ("42", "expected an object"),
            ("[1]", "event 0: not an object"),
            (r#"[{"name":"poll","ph":"X","ts":1,"dur":1}]"#, "no `tid`"),
            (
                r#"[{"name":"poll","ph":"X","tid":-1,"ts":1,"dur":1}]"#,
                "`tid`",
            ),
            (r#"[{"name":"poll","ph":"X","tid":1,"ts":1}]"#, "no `dur`"),
            (
                r#"[{"name":"poll","ph":"X","tid":1,"ts":"1","dur":1}]"#,
                "`ts` is not a number",
            ),
            (
                r#"[{"name":"poll","ph":"X","tid":1,"ts":1,"dur":-1}]"#,
                "negative `dur`",
            ),
            (
                r#"[{"name":"wake","ph":"i","tid":1}]"#,
                "event 0 (`wake`): no `ts`",
            ),
            (
                r#"[{"name":"thread_name","ph":"M","tid":1,"args":{}}]"#,
                "`args.name`",
            ),
        ];
        for (json, expected) in cases {
            let message = Trace::parse(json).unwrap_err().to_string();
            assert!(message.contains(expected), "{json:?} gave {message:?}");
        }
    }

    #[test]
    fn a_trace_with_a_clock_jump_is_virtual_and_its_polls_take_no_time() {
        assert_eq!(Trace::parse(SMALL).unwrap().clock, Clock::Real);
        let json = r#"[
            {"name":"clock jump","ph":"X","tid":0,"ts":0,"dur":1000},
            {"name":"wake","ph":"i","tid":1,"ts":1000,"args":{"origin":"timer"}},
            {"name":"poll","ph":"X","tid":1,"ts":1000,"dur":17.3},
            {"name":"reactor wait","ph":"X","tid":0,"ts":1000,"dur":50.0}
        ]"#;
        let trace = Trace::parse(json).unwrap();
        assert_eq!(trace.clock, Clock::Virtual);
        let jump = &trace.lane(LOOP_LANE).unwrap().spans[0];
        assert_eq!(
            (jump.kind.clone(), jump.dur_us),
            (SpanKind::ClockJump, 1000.0)
        );
        let wait = &trace.lane(LOOP_LANE).unwrap().spans[1];
        assert_eq!(wait.dur_us, 0.0, "real time is not on a virtual clock");
        let poll = &trace.lane(1).unwrap().spans[0];
        assert_eq!((poll.dur_us, poll.seq), (0.0, 2));
        assert_eq!(trace.end_us(), 1000.0, "no real duration stretches the end");
    }

    #[test]
    fn other_data_names_the_clock_when_the_file_does() {
        let virtual_without_jumps = r#"{"otherData":{"clock":"virtual"},"traceEvents":[
            {"name":"poll","ph":"X","tid":1,"ts":0,"dur":3.5}]}"#;
        let trace = Trace::parse(virtual_without_jumps).unwrap();
        assert_eq!(trace.clock, Clock::Virtual);
        assert_eq!(trace.lanes[0].spans[0].dur_us, 0.0);
        let real_with_a_jump = r#"{"otherData":{"clock":"real"},"traceEvents":[
            {"name":"clock jump","ph":"X","tid":0,"ts":0,"dur":10},
            {"name":"poll","ph":"X","tid":1,"ts":10,"dur":3.5}]}"#;
        let trace = Trace::parse(real_with_a_jump).unwrap();
        assert_eq!(trace.clock, Clock::Real);
        assert_eq!(trace.lane(1).unwrap().spans[0].dur_us, 3.5);
    }

    #[test]
    fn events_at_one_instant_keep_the_order_of_the_file() {
        let json = r#"[
            {"name":"clock jump","ph":"X","tid":0,"ts":0,"dur":5},
            {"name":"wake","ph":"i","tid":1,"ts":5,"args":{"origin":"timer"}},
            {"name":"wake","ph":"i","tid":1,"ts":5,"args":{"origin":"local"}},
            {"name":"poll","ph":"X","tid":1,"ts":5,"dur":2},
            {"name":"poll","ph":"X","tid":1,"ts":5,"dur":1}
        ]"#;
        let lane = &Trace::parse(json).unwrap().lanes[1];
        let marks: Vec<usize> = lane.marks.iter().map(|m| m.seq).collect();
        let spans: Vec<usize> = lane.spans.iter().map(|s| s.seq).collect();
        assert_eq!((marks, spans), (vec![1, 2], vec![3, 4]));
    }

    #[test]
    fn phases_spindle_does_not_write_are_skipped() {
        let json = r#"[{"name":"x","ph":"B","tid":1,"ts":1},{"ph":"C"}]"#;
        assert_eq!(Trace::parse(json).unwrap().lanes, []);
    }
}
