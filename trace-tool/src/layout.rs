//! Where things go across the plot: the x of every bar and mark, and the
//! ticks under them. There are two layouts.
//!
//! - **Time**: time maps linearly onto the plot's width, over the whole
//!   trace or a window of it. This is the usual picture.
//! - **Steps of one instant**: under virtual time the loop does everything
//!   between two clock jumps at a single instant — the timer fires, the task
//!   is woken and polled, and that poll wakes another — so on a time axis
//!   all of it is drawn at one x, on top of each other. This layout takes the
//!   events of one instant and gives each a column of its own, left to right
//!   in the order the runtime recorded them (the trace's sequence numbers).
//!   A span that leads up to the instant (the clock jump that reached it)
//!   runs from the left edge to its column; one that starts there and goes
//!   on runs from its column to the right edge.
//!
//! What the step layout cannot show: the runtime records a poll when the
//! poll *returns* (`runtime/src/trace.rs`), so a poll's column is where it
//! ended, and whatever was recorded during it (a wake, a spawn) stands in a
//! column before it. The file does not say where a poll began.
//!
//! Only marks and spans get a column. A `waits` instant is not an event to
//! point at but the start of an idle stretch (`reasons.rs`), and a flow's
//! two ends are where an arrow attaches (`arrows.rs`): a flow's start goes
//! in the column of the event recorded just before it, the `wake` it
//! belongs to ([`Layout::point_x`]).

use crate::axis;
use crate::trace::{Mark, Span, Trace};

/// The runtime writes times in µs with three decimals: two events are at
/// the same instant when they are less than half a nanosecond apart.
const SAME_INSTANT_US: f64 = 0.0005;

/// Aim for a time tick at most every 90 px: a label like `1000.25 ms` is
/// ~60 px wide.
const PX_PER_TICK: f64 = 90.0;

/// A zero-length span in the step layout (a poll, under virtual time) is
/// drawn this fraction of a column wide, so that it reads as a bar and
/// leaves a gap to its neighbours.
const STEP_BAR_FRACTION: f64 = 0.6;

/// One tick of the axis under the plot.
pub(crate) struct Tick {
    /// Where, in px.
    pub(crate) x: f64,
    /// What to print under it.
    pub(crate) label: String,
}

/// Where things go: the plot's left and right edges in px, and what they
/// stand for.
pub(crate) enum Layout {
    /// Time from `from_us` to `to_us`, linearly.
    Time {
        left: f64,
        right: f64,
        from_us: f64,
        to_us: f64,
    },
    /// The events at `at_us`, one column each, in file order: `columns`
    /// holds their sequence numbers, sorted.
    Steps {
        left: f64,
        right: f64,
        at_us: f64,
        columns: Vec<usize>,
    },
}

impl Layout {
    /// Time from `from_us` to `to_us` (which must be later) across `left..right`.
    pub(crate) fn time(left: f64, right: f64, from_us: f64, to_us: f64) -> Layout {
        Layout::Time {
            left,
            right,
            from_us,
            to_us,
        }
    }

    /// The events of `trace` at the instant `at_us`, across `left..right`.
    pub(crate) fn steps(trace: &Trace, at_us: f64, left: f64, right: f64) -> Layout {
        let mut columns: Vec<usize> = Vec::new();
        for lane in &trace.lanes {
            let marks = lane.marks.iter().filter(|m| same(m.at_us, at_us));
            columns.extend(marks.map(|m| m.seq));
            let spans = lane
                .spans
                .iter()
                .filter(|s| same(s.start_us, at_us) || same(s.end_us(), at_us));
            columns.extend(spans.map(|s| s.seq));
        }
        columns.sort_unstable();
        Layout::Steps {
            left,
            right,
            at_us,
            columns,
        }
    }

    /// How many events a step layout shows; `None` for a time layout.
    pub(crate) fn steps_shown(&self) -> Option<usize> {
        match self {
            Layout::Time { .. } => None,
            Layout::Steps { columns, .. } => Some(columns.len()),
        }
    }

    /// The ticks of the axis: nice times, or one per column.
    pub(crate) fn ticks(&self) -> Vec<Tick> {
        match self {
            Layout::Time {
                left,
                right,
                from_us,
                to_us,
            } => {
                let max_ticks = ((right - left) / PX_PER_TICK).floor() as usize;
                axis::ticks(*from_us, *to_us, max_ticks)
                    .into_iter()
                    .map(|tick| Tick {
                        x: self.time_x(tick.at_us),
                        label: tick.label,
                    })
                    .collect()
            }
            Layout::Steps { columns, .. } => (0..columns.len())
                .map(|column| Tick {
                    x: self.column_x(column),
                    label: format!("#{}", column + 1),
                })
                .collect(),
        }
    }

    /// The plot's left and right edges, px.
    pub(crate) fn edges(&self) -> (f64, f64) {
        match self {
            Layout::Time { left, right, .. } | Layout::Steps { left, right, .. } => (*left, *right),
        }
    }

    /// Whether each event of one instant has a column of its own (the step
    /// layout), so that nothing drawn there can overlap.
    pub(crate) fn is_steps(&self) -> bool {
        matches!(self, Layout::Steps { .. })
    }

    /// Where the time `at_us` lies relative to what is shown: before it
    /// (`Less`), in it (`Equal`), or after it (`Greater`).
    pub(crate) fn compare(&self, at_us: f64) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let (from, to) = match self {
            Layout::Time { from_us, to_us, .. } => (*from_us, *to_us),
            Layout::Steps { at_us, .. } => (*at_us - SAME_INSTANT_US, *at_us + SAME_INSTANT_US),
        };
        if at_us < from {
            Ordering::Less
        } else if at_us > to {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    }

    /// Where a point that is not itself a column goes (a flow's start): on
    /// a time axis, at its time; in the step layout, in the column of the
    /// last event recorded before it at that instant (for a wake's flow,
    /// the `wake` mark written just before it). `None` if not shown.
    pub(crate) fn point_x(&self, at_us: f64, seq: usize) -> Option<f64> {
        if self.compare(at_us) != std::cmp::Ordering::Equal {
            return None;
        }
        match self {
            Layout::Time { .. } => Some(self.time_x(at_us)),
            Layout::Steps { left, columns, .. } => {
                match columns.partition_point(|&column| column <= seq) {
                    0 => Some(*left),
                    after => Some(self.column_x(after - 1)),
                }
            }
        }
    }

    /// Where a mark goes, or `None` if it is not shown.
    pub(crate) fn mark_x(&self, mark: &Mark) -> Option<f64> {
        match self {
            Layout::Time { from_us, to_us, .. } => (*from_us..=*to_us)
                .contains(&mark.at_us)
                .then(|| self.time_x(mark.at_us)),
            Layout::Steps { .. } => self.seq_x(mark.seq),
        }
    }

    /// Where a span starts and ends (before any minimum width), or `None`
    /// if it is not shown. A span is cut at the edges of the plot.
    pub(crate) fn span_x(&self, span: &Span) -> Option<(f64, f64)> {
        match self {
            Layout::Time { from_us, to_us, .. } => {
                if span.end_us() < *from_us || span.start_us > *to_us {
                    return None;
                }
                let start = self.time_x(span.start_us.max(*from_us));
                Some((start, self.time_x(span.end_us().min(*to_us))))
            }
            Layout::Steps {
                left, right, at_us, ..
            } => {
                let (starts, ends) = (same(span.start_us, *at_us), same(span.end_us(), *at_us));
                let column = self.seq_x(span.seq);
                match (starts, ends, column) {
                    (true, true, Some(x)) => {
                        let half = self.column_width() * STEP_BAR_FRACTION / 2.0;
                        Some((x - half, x + half))
                    }
                    (true, false, Some(x)) => Some((x, *right)),
                    (false, true, Some(x)) => Some((*left, x)),
                    // Running through the instant: across the whole plot.
                    _ if span.start_us < *at_us && span.end_us() > *at_us => Some((*left, *right)),
                    _ => None,
                }
            }
        }
    }

    fn time_x(&self, us: f64) -> f64 {
        match self {
            Layout::Time {
                left,
                right,
                from_us,
                to_us,
            } => left + (us - from_us) / (to_us - from_us) * (right - left),
            Layout::Steps { .. } => unreachable!("a step layout has no time axis"),
        }
    }

    fn column_width(&self) -> f64 {
        match self {
            Layout::Steps {
                left,
                right,
                columns,
                ..
            } => (right - left) / columns.len().max(1) as f64,
            Layout::Time { .. } => unreachable!("a time layout has no columns"),
        }
    }

    fn column_x(&self, column: usize) -> f64 {
        match self {
            Layout::Steps { left, .. } => left + (column as f64 + 0.5) * self.column_width(),
            Layout::Time { .. } => unreachable!("a time layout has no columns"),
        }
    }

    /// The x of the column holding the event with sequence number `seq`.
    fn seq_x(&self, seq: usize) -> Option<f64> {
        match self {
            Layout::Steps { columns, .. } => columns
                .binary_search(&seq)
                .ok()
                .map(|column| self.column_x(column)),
            Layout::Time { .. } => None,
        }
    }
}

/// Whether two times are the same instant (see [`SAME_INSTANT_US`]).
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() < SAME_INSTANT_US
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_maps_linearly_onto_the_plot() {
        let layout = Layout::time(100.0, 300.0, 1000.0, 3000.0);
        assert_eq!(layout.time_x(1000.0), 100.0);
        assert_eq!(layout.time_x(2000.0), 200.0);
        assert_eq!(layout.time_x(3000.0), 300.0);
    }

    /// The hand-off of `examples/03_queue` at 1 s, as virtual time writes it.
    const HAND_OFF: &str = r#"[
        {"name":"clock jump","ph":"X","tid":0,"ts":0,"dur":960000},
        {"name":"clock jump","ph":"X","tid":0,"ts":960000,"dur":40000},
        {"name":"timer fired","ph":"i","tid":0,"ts":1000000},
        {"name":"wake","ph":"i","tid":2,"ts":1000000,"args":{"origin":"timer"}},
        {"name":"wake","ph":"i","tid":3,"ts":1000000,"args":{"origin":"local"}},
        {"name":"poll","ph":"X","tid":2,"ts":1000000,"dur":17.9},
        {"name":"poll","ph":"X","tid":3,"ts":1000000,"dur":1.8},
        {"name":"clock jump","ph":"X","tid":0,"ts":1000000,"dur":984000}
    ]"#;

    #[test]
    fn an_instant_gets_a_column_per_event_in_file_order() {
        let trace = Trace::parse(HAND_OFF).unwrap();
        let layout = Layout::steps(&trace, 1e6, 0.0, 700.0);
        // Not the first jump, which ends at 960 ms: the other seven events.
        assert_eq!(layout.steps_shown(), Some(7));
        let labels: Vec<String> = layout.ticks().into_iter().map(|t| t.label).collect();
        assert_eq!(labels, ["#1", "#2", "#3", "#4", "#5", "#6", "#7"]);

        let lane = |id| trace.lane(id).unwrap();
        // The consumer's wake (#4) comes before the producer's poll (#5).
        assert_eq!(layout.mark_x(&lane(3).marks[0]), Some(350.0));
        let (start, end) = layout.span_x(&lane(2).spans[0]).unwrap();
        assert!(start > 350.0 && end < 500.0, "{start}..{end}");
        // The jump that reached 1 s ends in column #1; the next starts in #7.
        let jumps = &lane(0).spans;
        assert_eq!(layout.span_x(&jumps[0]), None);
        assert_eq!(layout.span_x(&jumps[1]), Some((0.0, 50.0)));
        assert_eq!(layout.span_x(&jumps[2]), Some((650.0, 700.0)));
    }

    #[test]
    fn a_span_through_the_instant_crosses_the_plot() {
        let trace = Trace::parse(HAND_OFF).unwrap();
        let layout = Layout::steps(&trace, 500_000.0, 0.0, 100.0);
        assert_eq!(layout.steps_shown(), Some(0));
        let first_jump = &trace.lane(0).unwrap().spans[0];
        assert_eq!(layout.span_x(first_jump), Some((0.0, 100.0)));
    }
}
