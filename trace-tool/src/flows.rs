//! Who woke whom: the trace's flow arrows, paired and tied to the marks and
//! polls they connect.
//!
//! Each time spindle wakes a task it writes three events
//! (`runtime/src/trace.rs`):
//!
//! 1. a `wake` instant on the woken task's lane (`args.origin`: local,
//!    remote, timer, io);
//! 2. right after it, the start of a Chrome *flow* (`ph: "s"`, an `id`) on
//!    the **waker's** lane: the task whose poll (or end) woke it, or the
//!    loop's lane for a timer, I/O, a callback or another thread;
//! 3. when the woken task is next polled, the flow's end (`ph: "f"`,
//!    `bp: "e"`, the same `id`) on the woken lane, right before that poll's
//!    own record, at the poll's start.
//!
//! Perfetto draws each pair as an arrow. To draw one ourselves we need more
//! than its two ends, and this file finds it:
//!
//! - the **origin** of the wake, which colours the arrow: the `wake` mark
//!   on the woken lane recorded last before the flow started;
//! - the **poll** the arrow ends at: the woken lane's first poll recorded
//!   after the flow's end (under virtual time every poll of an instant has
//!   the same timestamp, so file order, not time, says which);
//! - for a timer's wake, the **`timer fired`** mark it came from: the
//!   loop's last one recorded before the flow started, and after the start
//!   of the timer wake before it (the loop records `timer fired`, then the
//!   wake; in real time a few µs apart, so file order, not time, pairs
//!   them). That is what joins a timer's diamond on the loop lane to the
//!   triangle of the task it woke.
//!
//! A flow whose end is missing (the task was woken but never polled again:
//! cancelled, or the program stopped) or whose start is missing (a file
//! cut short) is dropped: there is no arrow to draw.

use std::collections::BTreeMap;

use crate::trace::{Lane, MarkKind, SpanKind, WakeOrigin, LOOP_LANE};

/// A point on a lane: where a flow starts or ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// The lane number (`tid`).
    pub lane: u64,
    /// When, in µs since the runtime started.
    pub at_us: f64,
    /// Its place in the file.
    pub seq: usize,
}

/// One end of a flow as read from the file, before pairing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlowEnd {
    /// The flow's `id`.
    pub id: u64,
    /// `true` for the start (`ph: "s"`), `false` for the end (`ph: "f"`).
    pub starts: bool,
    /// Where it is.
    pub at: Point,
}

/// A wake, as an arrow from whoever woke a task to the poll that followed.
#[derive(Clone, Debug, PartialEq)]
pub struct Flow {
    /// The waker's point: its lane, and the time of the wake.
    pub from: Point,
    /// The woken lane, at the start of the poll the wake caused.
    pub to: Point,
    /// What woke the task (from the `wake` mark).
    pub origin: WakeOrigin,
    /// The sequence number of the `wake` mark on the woken lane, if found.
    pub wake: Option<usize>,
    /// The sequence number of the poll the arrow ends at, if the file has it.
    pub poll: Option<usize>,
    /// For a timer's wake: the sequence number of the loop's `timer fired`.
    pub timer: Option<usize>,
}

impl Flow {
    /// Whether the loop woke the task (a timer, I/O, a callback, another
    /// thread) rather than a task on the loop's thread.
    pub fn from_loop(&self) -> bool {
        self.from.lane == LOOP_LANE
    }
}

/// Pairs flow starts with their ends and ties each to its marks and poll;
/// the result is in file order of the starts. `lanes` must be sorted by
/// lane number, each lane's marks and spans by time.
pub(crate) fn pair(lanes: &[Lane], ends: Vec<FlowEnd>) -> Vec<Flow> {
    let mut starts: BTreeMap<u64, Point> = BTreeMap::new();
    let mut pairs: Vec<(Point, Point)> = Vec::new();
    for end in ends {
        if end.starts {
            starts.insert(end.id, end.at);
        } else if let Some(from) = starts.remove(&end.id) {
            pairs.push((from, end.at));
        }
    }
    pairs.sort_by_key(|(from, _)| from.seq);
    let lane = |id: u64| lanes.iter().find(|lane| lane.id == id);
    // Where the last timer wake started: a `timer fired` before it belongs
    // to that wake or to none.
    let mut last_timer_wake = None;
    pairs
        .into_iter()
        .map(|(from, to)| {
            let woken = lane(to.lane);
            let wake = woken.and_then(|woken| {
                woken
                    .marks
                    .iter()
                    .filter(|m| matches!(m.kind, MarkKind::Wake(_)) && m.seq < from.seq)
                    .max_by_key(|m| m.seq)
            });
            let origin = match wake.map(|m| &m.kind) {
                Some(MarkKind::Wake(origin)) => *origin,
                _ => WakeOrigin::Unknown,
            };
            let poll = woken.and_then(|woken| {
                woken
                    .spans
                    .iter()
                    .filter(|s| s.kind == SpanKind::Poll && s.seq > to.seq)
                    .min_by_key(|s| s.seq)
                    .map(|s| s.seq)
            });
            let timer = (from.lane == LOOP_LANE && origin == WakeOrigin::Timer)
                .then(|| lane(LOOP_LANE))
                .flatten()
                .and_then(|looped| {
                    looped
                        .marks
                        .iter()
                        .filter(|m| {
                            m.kind == MarkKind::TimerFired
                                && m.seq < from.seq
                                && last_timer_wake.map_or(true, |last| m.seq > last)
                        })
                        .max_by_key(|m| m.seq)
                        .map(|m| m.seq)
                });
            if from.lane == LOOP_LANE && origin == WakeOrigin::Timer {
                last_timer_wake = Some(from.seq);
            }
            Flow {
                from,
                to,
                origin,
                wake: wake.map(|m| m.seq),
                poll,
                timer,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::trace::{Trace, WakeOrigin};

    /// One second of `examples/03_queue` under virtual time, as spindle
    /// writes it: the timer wakes the producer, whose `put` wakes the
    /// consumer during the producer's poll.
    const HAND_OFF: &str = r#"[
        {"name":"timer fired","ph":"i","tid":0,"ts":1000000},
        {"name":"wake","ph":"i","tid":2,"ts":1000000,"args":{"origin":"timer","by":null}},
        {"name":"wake","ph":"s","tid":0,"ts":1000000,"id":1},
        {"name":"wake","ph":"i","tid":3,"ts":1000000,"args":{"origin":"local","by":1}},
        {"name":"wake","ph":"s","tid":2,"ts":1000000,"id":2},
        {"name":"wake","ph":"f","bp":"e","tid":2,"ts":1000000,"id":1},
        {"name":"poll","ph":"X","tid":2,"ts":1000000,"dur":0},
        {"name":"waits","ph":"i","tid":2,"ts":1000000,"args":{"on":"sleep until 2.000s"}},
        {"name":"wake","ph":"f","bp":"e","tid":3,"ts":1000000,"id":2},
        {"name":"poll","ph":"X","tid":3,"ts":1000000,"dur":0},
        {"name":"wake","ph":"s","tid":3,"ts":1000000,"id":3}
    ]"#;

    #[test]
    fn flows_pair_by_id_and_find_their_wake_poll_and_timer() {
        let trace = Trace::parse(HAND_OFF).unwrap();
        // Flow 3 never ends: no arrow.
        assert_eq!(trace.flows.len(), 2);
        let timer = &trace.flows[0];
        assert_eq!((timer.from.lane, timer.to.lane), (0, 2));
        assert_eq!(timer.origin, WakeOrigin::Timer);
        assert!(timer.from_loop());
        assert_eq!(
            (timer.timer, timer.wake, timer.poll),
            (Some(0), Some(1), Some(6))
        );
        let put = &trace.flows[1];
        assert_eq!((put.from.lane, put.to.lane), (2, 3));
        assert_eq!(put.origin, WakeOrigin::Local);
        assert!(!put.from_loop());
        assert_eq!((put.timer, put.wake, put.poll), (None, Some(3), Some(9)));
        assert_eq!(trace.lane(3).unwrap().marks[0].by, Some(1));
    }

    /// In real time the wake is recorded µs after its timer fired; two
    /// timers firing in one turn each start the arrow of their own wake,
    /// and a timer wake with no `timer fired` since the last one has none.
    #[test]
    fn a_timer_wake_starts_at_the_last_timer_fired_since_the_previous_one() {
        let json = r#"[
            {"name":"timer fired","ph":"i","tid":0,"ts":100.0},
            {"name":"wake","ph":"i","tid":1,"ts":112.5,"args":{"origin":"timer"}},
            {"name":"wake","ph":"s","tid":0,"ts":112.5,"id":1},
            {"name":"timer fired","ph":"i","tid":0,"ts":113.0},
            {"name":"wake","ph":"i","tid":2,"ts":114.0,"args":{"origin":"timer"}},
            {"name":"wake","ph":"s","tid":0,"ts":114.0,"id":2},
            {"name":"wake","ph":"i","tid":3,"ts":115.0,"args":{"origin":"timer"}},
            {"name":"wake","ph":"s","tid":0,"ts":115.0,"id":3},
            {"name":"wake","ph":"f","bp":"e","tid":1,"ts":120,"id":1},
            {"name":"poll","ph":"X","tid":1,"ts":120,"dur":1},
            {"name":"wake","ph":"f","bp":"e","tid":2,"ts":122,"id":2},
            {"name":"poll","ph":"X","tid":2,"ts":122,"dur":1},
            {"name":"wake","ph":"f","bp":"e","tid":3,"ts":124,"id":3},
            {"name":"poll","ph":"X","tid":3,"ts":124,"dur":1}
        ]"#;
        let timers: Vec<Option<usize>> = Trace::parse(json)
            .unwrap()
            .flows
            .iter()
            .map(|flow| flow.timer)
            .collect();
        assert_eq!(timers, [Some(0), Some(3), None]);
    }

    #[test]
    fn a_flow_ending_before_its_start_in_the_file_is_dropped() {
        let json = r#"[
            {"name":"wake","ph":"f","bp":"e","tid":2,"ts":5,"id":7},
            {"name":"wake","ph":"s","tid":0,"ts":1,"id":7},
            {"name":"wake","ph":"f","bp":"e","tid":2,"ts":5,"id":8}
        ]"#;
        assert_eq!(Trace::parse(json).unwrap().flows, []);
    }
}
