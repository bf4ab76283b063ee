//! What the picture shows, placed: every bar, mark, wait reason and arrow
//! with its row and its x, decided before a single SVG tag is written.
//!
//! `layout.rs` says where a *time* goes across the plot. Drawing at those
//! places as they are would lose things, because a program does many things
//! at one instant and a pixel holds only one. Three rules keep each thing
//! visible, and this file applies them:
//!
//! - **Polls closer than a pixel are merged.** A poll is drawn at least
//!   [`MIN_POLL_PX`] wide; two polls of one task whose bars would touch or
//!   overlap become one bar, with `×n` beside it and a tooltip that says
//!   how many polls it stands for and from when to when. (Drawing them side
//!   by side would move them off their time, and at five seconds to the
//!   width a busy task has thousands of polls per pixel.) The step view of
//!   one instant (`--at`) gives every poll a column instead, and never
//!   merges.
//! - **Marks at the same pixel stand side by side.** Within one band of a
//!   row, marks of one kind closer than a pixel are merged, as polls are
//!   (the tooltip says how many); then a run of up to [`MAX_SPREAD`] marks
//!   closer than [`MARK_PITCH`] is spread [`MARK_PITCH`] apart in the order
//!   they were recorded, centred on where they were: at 2 s in `04_event`
//!   the timer's wake and the self-wake become two triangles, orange then
//!   green, one each side of the poll. A longer run is a busy stretch that
//!   spreading would carry far from its time: it stays as it is, and a
//!   window (`--from`/`--to`) pulls it apart.
//! - **Arrows know their ends.** An arrow starts at the timer's diamond
//!   when a timer woke the task, and ends at the bar of the poll it caused,
//!   wherever stacking and merging put them (`arrows.rs`).
//!
//! Rows are [`ROW_HEIGHT`] px tall, in three bands: wakes (and the loop's
//! timers) on top, pointing down at the bars they lead to; bars, and the
//! wait reasons between them, in the middle; a task's life (spawn, notes,
//! finished, cancelled, panicked) underneath.

use crate::axis::{format_duration, format_instant};
use crate::layout::Layout;
use crate::marks::mark_name;
use crate::trace::{Clock, Lane, Mark, MarkKind, Span, SpanKind, Trace};
use crate::{arrows, reasons};

/// Height of one lane's row, px: three bands of about 12 px each, the
/// smallest at which a mark's shape can still be told apart.
pub const ROW_HEIGHT: f64 = 40.0;
/// Where a row's bar band starts and how tall it is, px from the row's top.
pub(crate) const BAR_TOP: f64 = 13.0;
pub(crate) const BAR_HEIGHT: f64 = 14.0;
/// The narrowest a poll is drawn, px: two is the least that still shows
/// as a bar rather than a hairline when the picture is scaled down.
pub const MIN_POLL_PX: f64 = 2.0;
/// The narrowest a reactor wait or clock jump is drawn: they are usually
/// long, and a short one is less news than a short poll.
const MIN_WAIT_PX: f64 = 1.0;
/// Polls whose bars come closer than this are merged, px.
const MERGE_GAP_PX: f64 = 1.0;
/// How far apart marks of one band are kept, px: a triangle or diamond is
/// 9–10 px wide.
pub(crate) const MARK_PITCH: f64 = 10.0;
/// The longest run of marks that is spread out (module doc).
pub(crate) const MAX_SPREAD: usize = 6;
/// The `×n` beside a merged bar: 9 px bold digits and `×` are under 6.5 px
/// wide.
pub(crate) const COUNT_CHAR_PX: f64 = 6.5;

/// The three bands of a row, top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Band {
    /// Wakes on a task's row, timers on the loop's.
    Top,
    /// Bars and wait reasons.
    Bar,
    /// Spawn, notes and the end of a task.
    Life,
}

impl Band {
    /// The band's centre, px from the row's top.
    pub(crate) fn y(self) -> f64 {
        match self {
            Band::Top => 7.0,
            Band::Bar => BAR_TOP + BAR_HEIGHT / 2.0,
            Band::Life => 33.0,
        }
    }

    fn of(kind: &MarkKind) -> Band {
        match kind {
            MarkKind::Wake(_) | MarkKind::TimerFired | MarkKind::TimerCancelled => Band::Top,
            _ => Band::Life,
        }
    }
}

/// Everything the picture shows, placed.
pub(crate) struct Scene {
    /// One per lane, in the trace's order.
    pub(crate) rows: Vec<Row>,
    /// Who woke whom (`arrows.rs`).
    pub(crate) arrows: Vec<arrows::Arrow>,
}

/// One lane's row.
pub(crate) struct Row {
    pub(crate) bars: Vec<Bar>,
    /// What the task waited on between its polls (`reasons.rs`).
    pub(crate) stretches: Vec<reasons::Stretch>,
    pub(crate) marks: Vec<Placed>,
}

/// A bar: one span, or several polls merged.
pub(crate) struct Bar {
    /// Its CSS class: `poll`, `wait`, `jump` or `span`.
    pub(crate) class: &'static str,
    pub(crate) x: f64,
    pub(crate) width: f64,
    /// How many polls it stands for (1 for anything else).
    pub(crate) count: usize,
    /// The sequence numbers of the spans it stands for.
    pub(crate) seqs: Vec<usize>,
    pub(crate) title: String,
}

impl Bar {
    /// Where the bar and, for a merged one, its `×n` end, px.
    pub(crate) fn right(&self) -> f64 {
        let label = match self.count {
            1 => 0.0,
            n => 2.0 + (n.to_string().len() + 1) as f64 * COUNT_CHAR_PX,
        };
        self.x + self.width + label
    }
}

/// A mark where it is drawn: one, or several of one kind merged.
pub(crate) struct Placed {
    pub(crate) kind: MarkKind,
    pub(crate) x: f64,
    pub(crate) band: Band,
    /// The sequence number of the (first) mark.
    pub(crate) seq: usize,
    /// How many marks it stands for.
    pub(crate) count: usize,
    pub(crate) title: String,
    /// For a note, its text as drawn beside it (cut to the room it has);
    /// `None` when there is no room.
    pub(crate) label: Option<String>,
}

/// Places everything of `trace` that `layout` shows.
pub(crate) fn build(trace: &Trace, layout: &Layout) -> Scene {
    let mut rows: Vec<Row> = trace
        .lanes
        .iter()
        .map(|lane| Row {
            bars: bars(lane, layout, trace.clock),
            stretches: Vec::new(),
            marks: marks(trace, lane, layout),
        })
        .collect();
    for (row, lane) in rows.iter_mut().zip(&trace.lanes) {
        row.stretches = reasons::stretches(lane, &row.bars, &row.marks, layout);
    }
    let arrows = arrows::arrows(trace, &rows, layout);
    Scene { rows, arrows }
}

/// A lane's bars, polls closer than a pixel merged (module doc).
fn bars(lane: &Lane, layout: &Layout, clock: Clock) -> Vec<Bar> {
    let mut bars: Vec<Bar> = Vec::new();
    let mut merged: Vec<&Span> = Vec::new();
    for span in &lane.spans {
        let Some((x, end)) = layout.span_x(span) else {
            continue;
        };
        let (class, min_px) = match span.kind {
            SpanKind::Poll => ("poll", MIN_POLL_PX),
            SpanKind::ReactorWait => ("wait", MIN_WAIT_PX),
            SpanKind::ClockJump => ("jump", MIN_WAIT_PX),
            SpanKind::Other(_) => ("span", MIN_WAIT_PX),
        };
        let width = (end - x).max(min_px);
        if let Some(last) = bars.last_mut().filter(|last| {
            class == "poll"
                && last.class == "poll"
                && !layout.is_steps()
                && x < last.x + last.width + MERGE_GAP_PX
        }) {
            last.width = (x + width).max(last.x + last.width) - last.x;
            last.count += 1;
            last.seqs.push(span.seq);
            merged.push(span);
            last.title = polls_title(&merged, clock);
            continue;
        }
        merged = vec![span];
        bars.push(Bar {
            class,
            x,
            width,
            count: 1,
            seqs: vec![span.seq],
            title: span_title(span, clock),
        });
    }
    bars
}

/// The tooltip of one span: what, how long (if on the clock), when.
fn span_title(span: &Span, clock: Clock) -> String {
    let what = match &span.kind {
        SpanKind::Poll => "poll",
        SpanKind::ReactorWait => "reactor wait",
        SpanKind::ClockJump => "clock jump (virtual time)",
        SpanKind::Other(name) => name.as_str(),
    };
    // Under virtual time only a clock jump has a duration on the clock
    // (`trace.rs`); saying "0.00 µs" of anything else would mislead.
    let took = match (clock, &span.kind) {
        (Clock::Virtual, kind) if *kind != SpanKind::ClockJump => String::new(),
        _ => format!(" {}", format_duration(span.dur_us)),
    };
    format!("{what}{took} at {}", format_instant(span.start_us))
}

/// The tooltip of merged polls: how many, and when.
fn polls_title(polls: &[&Span], clock: Clock) -> String {
    let first = polls[0].start_us;
    let last = polls.iter().map(|p| p.end_us()).fold(first, f64::max);
    let busy = match clock {
        Clock::Real => {
            let sum: f64 = polls.iter().map(|p| p.dur_us).sum();
            format!(", {} polling", format_duration(sum))
        }
        Clock::Virtual => String::new(),
    };
    if last - first < 0.0005 {
        format!("{} polls at {}{busy}", polls.len(), format_instant(first))
    } else {
        format!(
            "{} polls from {} to {}{busy}",
            polls.len(),
            format_instant(first),
            format_instant(last)
        )
    }
}

/// A lane's marks, those of one band at one pixel side by side.
fn marks(trace: &Trace, lane: &Lane, layout: &Layout) -> Vec<Placed> {
    let mut placed: Vec<Placed> = Vec::new();
    // For each merged mark, its first and last mark: for the tooltip.
    let mut spans: Vec<(&Mark, &Mark)> = Vec::new();
    for mark in &lane.marks {
        let Some(x) = layout.mark_x(mark) else {
            continue;
        };
        // The last mark of this kind drawn on the row, if within a pixel.
        let same = placed
            .iter()
            .rposition(|p| p.kind == mark.kind)
            .filter(|&i| !layout.is_steps() && x - layout_x(layout, spans[i].1) < 1.0);
        if let Some(i) = same {
            placed[i].count += 1;
            spans[i].1 = mark;
            placed[i].title = merged_title(&mark.kind, placed[i].count, spans[i]);
            continue;
        }
        placed.push(Placed {
            kind: mark.kind.clone(),
            x,
            band: Band::of(&mark.kind),
            seq: mark.seq,
            count: 1,
            title: mark_title(trace, mark),
            label: None,
        });
        spans.push((mark, mark));
    }
    if !layout.is_steps() {
        for band in [Band::Top, Band::Life] {
            let mut xs: Vec<f64> = placed
                .iter()
                .filter(|p| p.band == band)
                .map(|p| p.x)
                .collect();
            spread(&mut xs, MARK_PITCH);
            let in_band = placed.iter_mut().filter(|p| p.band == band);
            for (mark, x) in in_band.zip(xs) {
                mark.x = x;
            }
        }
    }
    label_notes(&mut placed, layout.edges().1);
    placed
}

/// Where `mark` is on a time axis (it is shown: it was placed).
fn layout_x(layout: &Layout, mark: &Mark) -> f64 {
    layout.mark_x(mark).unwrap_or(f64::NEG_INFINITY)
}

/// The tooltip of `count` marks of `kind` merged, from the first to the last.
fn merged_title(kind: &MarkKind, count: usize, (first, last): (&Mark, &Mark)) -> String {
    let name = mark_name(kind);
    if last.at_us - first.at_us < 0.0005 {
        format!("{count} × {name} at {}", format_instant(first.at_us))
    } else {
        format!(
            "{count} × {name} from {} to {}",
            format_instant(first.at_us),
            format_instant(last.at_us)
        )
    }
}

/// Moves sorted positions apart so that neighbours are `pitch` apart: each
/// run of up to [`MAX_SPREAD`] positions closer than `pitch` is spread
/// `pitch` apart, keeping its order, centred on its mean, and moved right
/// if that brought it closer than `pitch` to what is before it. A longer
/// run stays as it is (module doc).
pub(crate) fn spread(xs: &mut [f64], pitch: f64) {
    let mut start = 0;
    let mut before: Option<f64> = None;
    while start < xs.len() {
        let mut end = start + 1;
        while end < xs.len() && xs[end] - xs[end - 1] < pitch {
            end += 1;
        }
        let run = &mut xs[start..end];
        if run.len() <= MAX_SPREAD {
            let mean = run.iter().sum::<f64>() / run.len() as f64;
            let mut first = mean - (run.len() - 1) as f64 * pitch / 2.0;
            if let Some(before) = before {
                first = first.max(before + pitch);
            }
            for (i, x) in run.iter_mut().enumerate() {
                *x = first + i as f64 * pitch;
            }
        }
        before = run.last().copied();
        start = end;
    }
}

/// Notes are 9 px text beside their flag: each gets the room up to the
/// next mark of its band (or the plot's right edge), cut with an ellipsis.
fn label_notes(placed: &mut [Placed], right: f64) {
    let life: Vec<f64> = placed
        .iter()
        .filter(|p| p.band == Band::Life)
        .map(|p| p.x)
        .collect();
    for mark in placed.iter_mut() {
        let MarkKind::Note { object, what } = &mark.kind else {
            continue;
        };
        let next = life.iter().copied().find(|&x| x > mark.x).unwrap_or(right);
        let room = next - mark.x - NOTE_TEXT_OFFSET - 4.0;
        mark.label = reasons::elide(&format!("{object} {what}"), room, NOTE_CHAR_PX);
    }
}

/// A note's text starts this far right of its flag, px.
pub(crate) const NOTE_TEXT_OFFSET: f64 = 5.0;
/// Notes are 9 px sans-serif: about 5 px a character.
const NOTE_CHAR_PX: f64 = 5.0;

/// A mark's tooltip: what, when, and who or where it came from.
fn mark_title(trace: &Trace, mark: &Mark) -> String {
    let task = |id: u64| -> String {
        trace
            .lane(id + 1)
            .map_or(format!("task {id}"), |lane| lane.name.clone())
    };
    let mut title = format!(
        "{} at {}",
        mark_name(&mark.kind),
        format_instant(mark.at_us)
    );
    match (&mark.kind, mark.by) {
        (MarkKind::Wake(_), Some(by)) => title.push_str(&format!(", by {}", task(by))),
        (MarkKind::Wake(_), None) => title.push_str(", by the loop"),
        (MarkKind::Spawn, Some(by)) => title.push_str(&format!(", by {}", task(by))),
        _ => {}
    }
    if let Some(source) = &mark.source {
        title.push_str(&format!(", {source}"));
    }
    title
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(json: &str, layout: impl Fn(&Trace) -> Layout) -> (Trace, Scene) {
        let trace = Trace::parse(json).unwrap();
        let layout = layout(&trace);
        let scene = build(&trace, &layout);
        (trace, scene)
    }

    #[test]
    fn spreading_keeps_order_centres_runs_and_leaves_lone_marks() {
        let mut xs = [100.0, 100.0, 300.0];
        spread(&mut xs, 10.0);
        assert_eq!(xs, [95.0, 105.0, 300.0]);
        let mut xs = [100.0, 100.0, 100.0];
        spread(&mut xs, 10.0);
        assert_eq!(xs, [90.0, 100.0, 110.0]);
        // Centring the second run would overlap the first: pushed right.
        let mut xs = [100.0, 112.0, 112.0, 112.0];
        spread(&mut xs, 10.0);
        assert_eq!(xs, [100.0, 110.0, 120.0, 130.0]);
        assert!(xs.windows(2).all(|w| w[1] - w[0] >= 10.0));
        // A busy run, too long to spread, stays put.
        let mut busy: Vec<f64> = (0..7).map(|i| 100.0 + i as f64).collect();
        let before = busy.clone();
        spread(&mut busy, 10.0);
        assert_eq!(busy, before);
    }

    /// A hundred wakes of one kind within a pixel are one triangle that
    /// says how many; a wake of another kind there stands beside it.
    #[test]
    fn marks_of_one_kind_within_a_pixel_merge() {
        let mut json = String::from("[");
        for i in 0..100 {
            json.push_str(&format!(
                r#"{{"name":"wake","ph":"i","tid":1,"ts":{},"args":{{"origin":"local"}}}},"#,
                1000 + i * 5
            ));
        }
        json.push_str(r#"{"name":"wake","ph":"i","tid":1,"ts":1600,"args":{"origin":"io"}}]"#);
        // 1 s over 1000 px: a ms a pixel; the wakes span half a pixel.
        let (_, scene) = placed(&json, |_| Layout::time(0.0, 1000.0, 0.0, 1e6));
        let marks = &scene.rows[0].marks;
        assert_eq!(marks.len(), 2);
        assert_eq!(marks[0].count, 100);
        assert_eq!(
            marks[0].title,
            "100 × wake (local) from 0.001000 s to 0.001495 s"
        );
        assert!(marks[0].x < 1.0 && marks[1].x - marks[0].x == MARK_PITCH);
    }

    /// `04_event` at 2 s: the timer's wake and the self-wake are at one
    /// pixel; both stay visible, in file order.
    #[test]
    fn coincident_wakes_stand_side_by_side_in_file_order() {
        let json = r#"[
            {"name":"clock jump","ph":"X","tid":0,"ts":0,"dur":2000000},
            {"name":"wake","ph":"i","tid":1,"ts":2000000,"args":{"origin":"timer","by":null}},
            {"name":"wake","ph":"i","tid":1,"ts":2000000,"args":{"origin":"local","by":0}},
            {"name":"poll","ph":"X","tid":1,"ts":2000000,"dur":0},
            {"name":"poll","ph":"X","tid":1,"ts":2000000,"dur":0},
            {"name":"finished","ph":"i","tid":1,"ts":2000000}
        ]"#;
        let (_, scene) = placed(json, |_| Layout::time(0.0, 1000.0, 0.0, 4e6));
        let marks = &scene.rows[1].marks;
        let wakes: Vec<(String, f64)> = marks
            .iter()
            .filter(|m| m.band == Band::Top)
            .map(|m| (mark_name(&m.kind), m.x))
            .collect();
        assert_eq!(
            wakes,
            [
                ("wake (timer)".into(), 495.0),
                ("wake (local)".into(), 505.0)
            ]
        );
        assert!(
            marks[0].title.ends_with("by the loop"),
            "{}",
            marks[0].title
        );
        assert!(marks[1].title.ends_with("by task 0"), "{}", marks[1].title);
        // A lone mark in the other band stays where it was.
        assert_eq!(marks[2].x, 500.0);
        // The two polls are one bar that says so.
        let bars = &scene.rows[1].bars;
        assert_eq!(bars.len(), 1);
        assert_eq!((bars[0].count, bars[0].x, bars[0].width), (2, 500.0, 2.0));
        assert_eq!(bars[0].title, "2 polls at 2.000000 s");
        assert!(bars[0].right() > 500.0 + 2.0 + 2.0 * COUNT_CHAR_PX - 0.01);
    }

    #[test]
    fn polls_a_pixel_apart_or_more_stay_apart_and_the_step_view_never_merges() {
        // 10 s over 1000 px: 10 ms a pixel. Polls at 0, 40 ms, 42 ms: the
        // first two bars (2 px each) are 2 px apart, the last two overlap.
        let json = r#"[
            {"name":"poll","ph":"X","tid":1,"ts":0,"dur":1},
            {"name":"poll","ph":"X","tid":1,"ts":40000,"dur":1},
            {"name":"poll","ph":"X","tid":1,"ts":42000,"dur":3},
            {"name":"poll","ph":"X","tid":1,"ts":1e7,"dur":1}
        ]"#;
        let (_, scene) = placed(json, |_| Layout::time(0.0, 1000.0, 0.0, 1e7));
        let counts: Vec<usize> = scene.rows[0].bars.iter().map(|b| b.count).collect();
        assert_eq!(counts, [1, 2, 1]);
        assert!(scene.rows[0].bars[1]
            .title
            .starts_with("2 polls from 0.040000 s"));
        assert!(scene.rows[0].bars[1].title.ends_with("4.00 µs polling"));

        let (_, steps) = placed(json, |t| Layout::steps(t, 0.0, 0.0, 100.0));
        assert!(steps.rows[0].bars.iter().all(|b| b.count == 1));
    }

    #[test]
    fn spawns_say_who_and_where_and_notes_are_labelled_within_their_room() {
        let json = r#"[
            {"name":"spawn","ph":"i","tid":2,"ts":0,"args":{"parent":0,"at":"src/main.rs:7"}},
            {"name":"Mutex#1 acquired","ph":"i","tid":2,"ts":1e6,"args":{"object":"Mutex#1"}},
            {"name":"Mutex#1 handed over","ph":"i","tid":2,"ts":1.1e6,"args":{"object":"Mutex#1"}},
            {"name":"thread_name","ph":"M","tid":1,"args":{"name":"main (task 0)"}}
        ]"#;
        let (_, scene) = placed(json, |_| Layout::time(0.0, 1000.0, 0.0, 2e6));
        let marks = &scene.rows[1].marks;
        assert_eq!(
            marks[0].title,
            "spawn at 0.000000 s, by main (task 0), src/main.rs:7"
        );
        let note = |what: &str| MarkKind::Note {
            object: "Mutex#1".into(),
            what: what.into(),
        };
        assert_eq!(marks[1].kind, note("acquired"));
        assert_eq!(marks[2].kind, note("handed over"));
        // 50 px to the next note: room for about 8 characters.
        let label = marks[1].label.as_deref().unwrap();
        assert!(
            label.starts_with("Mutex") && label.ends_with('…'),
            "{label}"
        );
        // The last one runs to the right edge: whole.
        assert_eq!(marks[2].label.as_deref(), Some("Mutex#1 handed over"));
    }
}
