//! Who woke whom, drawn: an arrow from each waker to the poll its wake
//! caused.
//!
//! `flows.rs` knows each wake's two ends; this file decides where they are
//! in the picture and what curve joins them.
//!
//! - **Where an arrow starts.** When a timer woke the task, at the timer's
//!   diamond on the loop's row: the diamond and the task's orange triangle
//!   are one timer seen twice, and the arrow is what joins them. Otherwise
//!   at the waker's row at the time of the wake (the waking task's poll, or
//!   the loop's row for I/O, another thread or a callback), marked by a
//!   small dot.
//! - **Where it ends.** At the left end of the bar of the poll the wake
//!   caused, pointing right, into the bar: the wake's triangle sits above
//!   that bar, so the arrowhead never hides it.
//! - **The curve.** When the end is well to the right of the start (a zoom,
//!   or the step view of one instant), an S: leaving and arriving level,
//!   like Perfetto's. When both ends are at about the same x, as every wake
//!   is on a whole-program picture, a bracket-like curve that bows out to
//!   the left of both: a straight line down would run over the marks and
//!   bars at that x of every row between. Brackets at the same x whose
//!   heights overlap bow out by different amounts ([`BOW_PX`], then
//!   [`BOW_STEP_PX`] more each, up to [`MAX_BOWS`] different ones), in the
//!   order the wakes were recorded, so no two run along one another. A
//!   bracket near the plot's left edge bows out less, to stay on the plot.
//! - **Many wakes between the same two points** (a busy ping-pong, at a
//!   scale where a thousand of them fall in one pixel) are one arrow, whose
//!   tooltip says how many, as merged polls are one bar.
//! - **A task that woke itself** (during its poll, as `04_event` does) has
//!   both ends on its own row. Where they are a pixel apart, the triangle
//!   already says it all and no arrow is drawn; where they are apart (a
//!   zoom, the step view), an arc dips under the row's bars from the wake
//!   to the next poll.
//!
//! Arrows take the colour of the wake's origin (as the triangles do) and are
//! dashed when the loop woke the task (a timer, I/O, another thread), solid
//! when a task did.

use crate::axis::format_instant;
use crate::flows::Flow;
use crate::layout::Layout;
use crate::scene::{Band, Row, BAR_HEIGHT, BAR_TOP, ROW_HEIGHT};
use crate::trace::{Trace, WakeOrigin};

/// How far a bracket bows out to the left, px, and how much further each
/// bracket that would otherwise run along another one bows.
pub(crate) const BOW_PX: f64 = 12.0;
pub(crate) const BOW_STEP_PX: f64 = 8.0;
/// How many different bows there are; more brackets share the widest.
pub(crate) const MAX_BOWS: usize = 4;
/// The arrowhead's length, px.
const HEAD_PX: f64 = 6.0;
/// A self-wake whose ends are closer than this is not drawn, px.
const SELF_MIN_PX: f64 = 12.0;

/// One end of an arrow: a row, and a point in it (px from the plot's left
/// and from the row's top).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct End {
    pub(crate) row: usize,
    pub(crate) x: f64,
    pub(crate) y: f64,
}

impl End {
    /// y from the top of the first row.
    fn abs_y(&self) -> f64 {
        self.row as f64 * ROW_HEIGHT + self.y
    }
}

/// The curve joining the two ends (module doc).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Curve {
    /// Level at both ends, rising or falling in between.
    S,
    /// Bowing out this many px to the left of the leftmost end.
    Bracket(f64),
    /// On one row: dipping under its bars.
    Dip,
}

/// A wake, drawn.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Arrow {
    pub(crate) from: End,
    pub(crate) to: End,
    pub(crate) curve: Curve,
    pub(crate) origin: WakeOrigin,
    /// The loop woke the task: dashed.
    pub(crate) from_loop: bool,
    /// The start is a timer's diamond, which needs no dot.
    pub(crate) from_timer: bool,
    /// How many wakes it stands for (module doc).
    pub(crate) count: usize,
    pub(crate) title: String,
}

/// The arrows of every flow whose ends are both shown.
pub(crate) fn arrows(trace: &Trace, rows: &[Row], layout: &Layout) -> Vec<Arrow> {
    let row_of = |lane: u64| trace.lanes.iter().position(|l| l.id == lane);
    let mut out: Vec<Arrow> = Vec::new();
    // For each arrow, the first and the last wake it stands for.
    let mut merged: Vec<(&Flow, &Flow)> = Vec::new();
    for flow in &trace.flows {
        let (Some(from_row), Some(to_row)) = (row_of(flow.from.lane), row_of(flow.to.lane)) else {
            continue;
        };
        let Some(to) = flow
            .poll
            .and_then(|poll| rows[to_row].bars.iter().find(|b| b.seqs.contains(&poll)))
            .map(|bar| End {
                row: to_row,
                x: bar.x,
                y: Band::Bar.y(),
            })
        else {
            continue;
        };
        let timer = flow.timer.and_then(|seq| {
            rows[from_row]
                .marks
                .iter()
                .find(|m| m.seq == seq)
                .map(|diamond| End {
                    row: from_row,
                    x: diamond.x,
                    y: Band::Top.y(),
                })
        });
        let Some(from) = timer.or_else(|| {
            let x = layout.point_x(flow.from.at_us, flow.from.seq)?;
            Some(End {
                row: from_row,
                x,
                y: Band::Bar.y(),
            })
        }) else {
            continue;
        };
        let same = out.iter().position(|a| {
            a.from.row == from.row
                && a.to.row == to.row
                && (a.from.x - from.x).abs() < 1.0
                && (a.to.x - to.x).abs() < 1.0
                && a.origin == flow.origin
                && a.from_loop == flow.from_loop()
        });
        if let Some(i) = same {
            out[i].count += 1;
            merged[i].1 = flow;
            out[i].title = merged_title(trace, out[i].count, merged[i]);
            continue;
        }
        let (mut from, mut to) = (from, to);
        let curve = if from_row == to_row {
            if to.x - from.x < SELF_MIN_PX {
                continue;
            }
            // Both ends at the foot of the bars, the curve under them.
            from.y = BAR_TOP + BAR_HEIGHT;
            to.y = BAR_TOP + BAR_HEIGHT;
            Curve::Dip
        } else if to.x - from.x >= 2.0 * BOW_PX {
            Curve::S
        } else {
            // Stay on the plot: out to 8 px left of its edge at most.
            let room = 0.75 * (from.x.min(to.x - HEAD_PX) - (layout.edges().0 - 8.0));
            Curve::Bracket(bow(&out, &from, &to).min(room.max(1.0)))
        };
        out.push(Arrow {
            from,
            to,
            curve,
            origin: flow.origin,
            from_loop: flow.from_loop(),
            from_timer: timer.is_some(),
            count: 1,
            title: title(trace, flow),
        });
        merged.push((flow, flow));
    }
    out
}

/// How far a new bracket from `from` to `to` bows: the least bow that no
/// bracket already placed at about the same x, over an overlapping height,
/// has.
fn bow(placed: &[Arrow], from: &End, to: &End) -> f64 {
    let span = |a: &End, b: &End| (a.abs_y().min(b.abs_y()), a.abs_y().max(b.abs_y()));
    let (lo, hi) = span(from, to);
    let x = from.x.min(to.x);
    let taken: Vec<f64> = placed
        .iter()
        .filter_map(|arrow| match arrow.curve {
            Curve::Bracket(bow) => {
                let (a_lo, a_hi) = span(&arrow.from, &arrow.to);
                let near = (arrow.from.x.min(arrow.to.x) - x).abs() < BOW_STEP_PX;
                (near && a_lo < hi && lo < a_hi).then_some(bow)
            }
            _ => None,
        })
        .collect();
    (0..MAX_BOWS)
        .map(|level| BOW_PX + level as f64 * BOW_STEP_PX)
        .find(|bow| !taken.iter().any(|t| (t - bow).abs() < 0.5))
        .unwrap_or(BOW_PX + (MAX_BOWS - 1) as f64 * BOW_STEP_PX)
}

/// The tooltip of `count` wakes drawn as one arrow.
fn merged_title(trace: &Trace, count: usize, (first, last): (&Flow, &Flow)) -> String {
    let (woken, waker) = names(trace, first);
    format!(
        "{count} wakes of {woken} by {waker}, from {} to {}",
        format_instant(first.from.at_us),
        format_instant(last.from.at_us)
    )
}

/// The tooltip: who woke whom, when, and when it ran.
fn title(trace: &Trace, flow: &Flow) -> String {
    let (woken, waker) = names(trace, flow);
    format!(
        "{woken} woken by {waker} at {}; its next poll at {}",
        format_instant(flow.from.at_us),
        format_instant(flow.to.at_us)
    )
}

/// Who was woken, and by whom, in words.
fn names(trace: &Trace, flow: &Flow) -> (String, String) {
    let name = |lane: u64| {
        trace
            .lane(lane)
            .map_or(format!("lane {lane}"), |l| l.name.clone())
    };
    let waker = if flow.from_loop() {
        match flow.origin {
            WakeOrigin::Timer => "a timer".to_string(),
            WakeOrigin::Io => "I/O".to_string(),
            WakeOrigin::Remote => "another thread".to_string(),
            _ => "the loop".to_string(),
        }
    } else if flow.from.lane == flow.to.lane {
        "itself".to_string()
    } else {
        name(flow.from.lane)
    };
    (name(flow.to.lane), waker)
}

impl Arrow {
    /// The SVG path of the curve, with `top` the y of the first row. It
    /// stops where the arrowhead begins, so the line does not poke through.
    pub(crate) fn path(&self, top: f64) -> String {
        let (x0, y0) = (self.from.x, top + self.from.abs_y());
        let (x1, y1) = (self.to.x, top + self.to.abs_y());
        match self.curve {
            Curve::S => {
                let mid = (x0 + x1 - HEAD_PX) / 2.0;
                format!(
                    "M{x0:.2},{y0:.1} C{mid:.2},{y0:.1} {mid:.2},{y1:.1} {:.2},{y1:.1}",
                    x1 - HEAD_PX
                )
            }
            Curve::Bracket(bow) => {
                let out = x0.min(x1 - HEAD_PX) - bow / 0.75;
                format!(
                    "M{x0:.2},{y0:.1} C{out:.2},{y0:.1} {out:.2},{y1:.1} {:.2},{y1:.1}",
                    x1 - HEAD_PX
                )
            }
            Curve::Dip => {
                // Down into the life band and back up under the next poll:
                // control points 14 px down bring the curve to 10.5 px
                // below the bars, the life band's lower half.
                let low = y0 + 14.0;
                format!(
                    "M{x0:.2},{y0:.1} C{x0:.2},{low:.1} {:.2},{low:.1} {:.2},{:.1}",
                    x1 + 1.0,
                    x1 + 1.0,
                    y1 + HEAD_PX
                )
            }
        }
    }

    /// The arrowhead's three corners: pointing right into the bar, or, for
    /// a dip, up into it.
    pub(crate) fn head(&self, top: f64) -> String {
        let (x, y) = (self.to.x, top + self.to.abs_y());
        match self.curve {
            Curve::Dip => format!(
                "{:.2},{y:.1} {:.2},{:.1} {:.2},{:.1}",
                x + 1.0,
                x - 2.5,
                y + HEAD_PX,
                x + 4.5,
                y + HEAD_PX
            ),
            _ => format!(
                "{x:.2},{y:.1} {:.2},{:.1} {:.2},{:.1}",
                x - HEAD_PX,
                y - 3.5,
                x - HEAD_PX,
                y + 3.5
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene;

    /// One second of `examples/03_queue` in virtual time, and its last
    /// second's end: the timer wakes the producer, the producer's `put`
    /// the consumer, and at 2 s the producer's end wakes `main` too.
    const QUEUE: &str = r#"[
        {"name":"thread_name","ph":"M","tid":1,"args":{"name":"main (task 0)"}},
        {"name":"thread_name","ph":"M","tid":2,"args":{"name":"producer (task 1)"}},
        {"name":"thread_name","ph":"M","tid":3,"args":{"name":"consumer (task 2)"}},
        {"name":"clock jump","ph":"X","tid":0,"ts":0,"dur":1000000},
        {"name":"timer fired","ph":"i","tid":0,"ts":1000000},
        {"name":"wake","ph":"i","tid":2,"ts":1000000,"args":{"origin":"timer","by":null}},
        {"name":"wake","ph":"s","tid":0,"ts":1000000,"id":1},
        {"name":"wake","ph":"i","tid":3,"ts":1000000,"args":{"origin":"local","by":1}},
        {"name":"wake","ph":"s","tid":2,"ts":1000000,"id":2},
        {"name":"wake","ph":"f","bp":"e","tid":2,"ts":1000000,"id":1},
        {"name":"poll","ph":"X","tid":2,"ts":1000000,"dur":0},
        {"name":"finished","ph":"i","tid":2,"ts":1000000},
        {"name":"wake","ph":"i","tid":1,"ts":1000000,"args":{"origin":"local","by":1}},
        {"name":"wake","ph":"s","tid":2,"ts":1000000,"id":3},
        {"name":"wake","ph":"f","bp":"e","tid":3,"ts":1000000,"id":2},
        {"name":"poll","ph":"X","tid":3,"ts":1000000,"dur":0},
        {"name":"wake","ph":"f","bp":"e","tid":1,"ts":1000000,"id":3},
        {"name":"poll","ph":"X","tid":1,"ts":1000000,"dur":0},
        {"name":"clock jump","ph":"X","tid":0,"ts":1000000,"dur":1000000}
    ]"#;

    fn drawn(layout: impl Fn(&Trace) -> Layout) -> Vec<Arrow> {
        let trace = Trace::parse(QUEUE).unwrap();
        let layout = layout(&trace);
        scene::build(&trace, &layout).arrows
    }

    #[test]
    fn on_a_time_axis_arrows_are_brackets_from_the_diamond_and_the_waker_to_the_polls() {
        // 2 s over 0..1000 px: everything of 1 s is at x = 500.
        let arrows = drawn(|_| Layout::time(0.0, 1000.0, 0.0, 2e6));
        assert_eq!(arrows.len(), 3);
        let [timer, put, end] = [&arrows[0], &arrows[1], &arrows[2]];
        // Rows: loop 0, main 1, producer 2, consumer 3.
        assert_eq!(
            timer.from,
            End {
                row: 0,
                x: 500.0,
                y: Band::Top.y()
            }
        );
        assert_eq!(
            timer.to,
            End {
                row: 2,
                x: 500.0,
                y: Band::Bar.y()
            }
        );
        assert!(timer.from_loop && timer.from_timer);
        assert_eq!(timer.origin, WakeOrigin::Timer);
        assert_eq!(
            put.from,
            End {
                row: 2,
                x: 500.0,
                y: Band::Bar.y()
            }
        );
        assert_eq!(put.to.row, 3);
        assert!(!put.from_loop && !put.from_timer);
        assert_eq!(end.to.row, 1);
        assert_eq!(
            put.title,
            "consumer (task 2) woken by producer (task 1) at 1.000000 s; its next poll at 1.000000 s"
        );
        assert!(timer.title.contains("woken by a timer"));
        // The timer's bracket (rows 0–2) and the producer's to the consumer
        // (rows 2–3) only touch: one bow. The producer's to main (rows 2–1)
        // runs along the timer's: it bows further out.
        assert_eq!(timer.curve, Curve::Bracket(BOW_PX));
        assert_eq!(put.curve, Curve::Bracket(BOW_PX));
        assert_eq!(end.curve, Curve::Bracket(BOW_PX + BOW_STEP_PX));
    }

    #[test]
    fn in_the_step_view_arrows_run_from_the_wake_column_to_the_poll_column() {
        let arrows = drawn(|t| Layout::steps(t, 1e6, 0.0, 1000.0));
        assert_eq!(arrows.len(), 3);
        assert!(arrows.iter().all(|a| a.curve == Curve::S), "{arrows:?}");
        // Columns, in file order: jump end, timer fired, producer woken,
        // consumer woken, producer's poll, producer finished, main woken,
        // consumer's poll, main's poll, next jump: 100 px each.
        let (timer, put) = (&arrows[0], &arrows[1]);
        assert_eq!(timer.from.x, 150.0, "at the diamond");
        // The producer's poll is a 60 px bar centred on 450.
        assert_eq!(timer.to.x, 420.0);
        // The put happened in the consumer's wake's column, during the
        // producer's poll (recorded at 450).
        assert_eq!((put.from.row, put.from.x), (2, 350.0));
        assert_eq!((put.to.row, put.to.x), (3, 720.0));
    }

    #[test]
    fn curves_end_at_the_arrowhead_and_heads_point_into_the_bar() {
        let arrows = drawn(|_| Layout::time(0.0, 1000.0, 0.0, 2e6));
        let put = &arrows[1];
        // Rows start at y = 100: the producer's bar middle is at 100 + 80 + 20.
        let path = put.path(100.0);
        assert!(path.starts_with("M500.00,200.0 C"), "{path}");
        assert!(path.ends_with(" 494.00,240.0"), "{path}");
        assert_eq!(put.head(100.0), "500.00,240.0 494.00,236.5 494.00,243.5");
        // The bracket bows out to the left of both ends.
        let out: f64 = path.split([' ', 'C', ',']).nth(3).unwrap().parse().unwrap();
        assert!(out < 494.0 - BOW_PX, "{path}");
    }

    #[test]
    fn a_self_wake_is_drawn_only_when_its_ends_are_apart() {
        let json = r#"[
            {"name":"wake","ph":"i","tid":1,"ts":5,"args":{"origin":"local","by":0}},
            {"name":"wake","ph":"s","tid":1,"ts":5,"id":1},
            {"name":"poll","ph":"X","tid":1,"ts":0,"dur":10},
            {"name":"wake","ph":"f","bp":"e","tid":1,"ts":100,"id":1},
            {"name":"poll","ph":"X","tid":1,"ts":100,"dur":10}
        ]"#;
        let trace = Trace::parse(json).unwrap();
        let wide = scene::build(&trace, &Layout::time(0.0, 1100.0, 0.0, 110.0)).arrows;
        assert_eq!(wide.len(), 1);
        assert_eq!(wide[0].curve, Curve::Dip);
        assert_eq!((wide[0].from.x, wide[0].to.x), (50.0, 1000.0));
        assert!(wide[0].title.contains("woken by itself"));
        let narrow = scene::build(&trace, &Layout::time(0.0, 11.0, 0.0, 110.0)).arrows;
        assert_eq!(narrow, []);
    }

    /// Two tasks that wake each other 200 times within a millisecond, seen
    /// over a second: two arrows that say how many, bowing no further than
    /// the widest bow, and not off the plot's left edge.
    #[test]
    fn wakes_between_the_same_two_points_are_one_arrow() {
        let mut events = Vec::new();
        let mut t = 10.0;
        for k in 0..200u64 {
            let (me, other) = if k % 2 == 0 { (2, 3) } else { (3, 2) };
            if k > 0 {
                events.push(format!(
                    r#"{{"name":"wake","ph":"f","bp":"e","tid":{me},"ts":{t},"id":{k}}}"#
                ));
            }
            events.push(format!(
                r#"{{"name":"wake","ph":"i","tid":{other},"ts":{},"args":{{"origin":"local"}}}}"#,
                t + 1.0
            ));
            events.push(format!(
                r#"{{"name":"wake","ph":"s","tid":{me},"ts":{},"id":{}}}"#,
                t + 1.0,
                k + 1
            ));
            events.push(format!(
                r#"{{"name":"poll","ph":"X","tid":{me},"ts":{t},"dur":3}}"#
            ));
            t += 5.0;
        }
        let trace = Trace::parse(&format!("[{}]", events.join(","))).unwrap();
        let arrows = scene::build(&trace, &Layout::time(100.0, 1100.0, 0.0, 1e6)).arrows;
        assert_eq!(arrows.len(), 2, "{arrows:?}");
        assert_eq!(arrows[0].count + arrows[1].count, 199);
        assert!(arrows[0]
            .title
            .starts_with("100 wakes of task 2 by task 1, from"));
        for arrow in &arrows {
            let Curve::Bracket(bow) = arrow.curve else {
                panic!("{arrow:?}")
            };
            assert!(bow <= BOW_PX + (MAX_BOWS - 1) as f64 * BOW_STEP_PX);
            let out = arrow.from.x.min(arrow.to.x - HEAD_PX) - bow / 0.75;
            assert!(out >= 100.0 - 8.0 - 0.01, "off the plot: {out}");
        }
    }
}
