//! Drawing a [`Trace`] as an SVG timeline, by hand: SVG is text, and
//! writing it directly keeps every pixel decision visible in this file.
//!
//! The picture, top to bottom:
//!
//! ```text
//!  title: file name — total duration
//!  legend: what each bar, mark and arrow in this picture means
//!  ┌──────────────┬───────────────────────────────────────────────┐
//!  │ loop         │ ░░░░░░░clock jump░░░░░░╭◆░░░░░░clock jump░░░░░ │ ◆ timer fired
//!  │ main (task 0)│ █ waits on task 1 (pr… ╎ ······················ │ █ poll, then
//!  │ producer     │ █ waits on sleep until ╰▶█ waits on sleep unt… │   what it
//!  │ consumer     │ █ waits on Queue#1.get ╰▶█ waits on Queue#1.g… │   waits on
//!  └──────────────┴───────────────────────────────────────────────┘
//!                 0.0 s                   1.0 s                     time axis
//! ```
//!
//! Each lane is a row of [`ROW_HEIGHT`] px in three bands: wakes (and timer
//! marks on the loop row) on top, pointing down at the bars they cause;
//! bars, and between them what the task waits on, in the middle; a task's
//! life (spawn, notes, finished, cancelled, panicked) underneath, so a mark
//! never hides a bar (the diagram leaves out the wake triangles above each
//! bar, and the spawn circles below the first). Arrows run from whoever
//! woke a task to the poll that followed (`arrows.rs`): above, dashed from
//! the timer's diamond to the producer, solid from the producer's poll to
//! the consumer's.
//!
//! **Scale.** Time maps linearly onto the plot's width. A poll lasts
//! microseconds and a workshop program runs for seconds, so at true scale a
//! poll would be a millionth of the width: invisible. Every poll is drawn at
//! least [`MIN_POLL_PX`] wide instead, which overstates its length but shows
//! *that* and *when* it ran, and therefore the hand-offs between tasks;
//! polls closer than a pixel are merged into one bar marked `×n`, and marks
//! at one pixel stand side by side (`scene.rs`). In real time,
//! [`View::Window`] (`--from`/`--to` on the command line) zooms in until
//! polls have their true width and their order within a turn shows. Under
//! virtual time a turn takes no time at all, and [`View::Instant`] (`--at`)
//! spreads one instant's events out in the order they were recorded instead
//! (`layout.rs`).
//!
//! Where each thing goes is decided first, in `scene.rs` (with
//! `layout.rs`, `reasons.rs` and `arrows.rs`); what it looks like is in
//! `marks.rs`, the legend in `legend.rs`; this file stacks the rows and
//! writes the SVG. Each element has a `<title>` that a browser shows as a
//! tooltip with exact times.

use std::fmt::Write as _;

use crate::arrows::Arrow;
use crate::axis::{format_duration, format_instant};
use crate::layout::Layout;
use crate::legend;
use crate::marks::{escape, mark_shape, STYLE};
use crate::reasons::Stretch;
use crate::scene::{self, Band, Bar, Placed, Row, BAR_HEIGHT, BAR_TOP, NOTE_TEXT_OFFSET};
use crate::trace::{Clock, Lane, MarkKind, Trace};

pub use crate::scene::{MIN_POLL_PX, ROW_HEIGHT};

/// How to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The title's first part, usually the trace's file name.
    pub title: String,
    /// Width of the whole picture in px.
    pub width: f64,
    /// What part of the trace to draw, and how.
    pub view: View,
}

/// What part of a trace to draw.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum View {
    /// The whole trace, on a time axis.
    #[default]
    Whole,
    /// The stretch of time `(from, to)` in µs, on a time axis. Anything
    /// outside is left out, spans are cut at the edges.
    Window(f64, f64),
    /// The events at one instant (µs), a column each in the order the
    /// runtime recorded them: for virtual-time traces, where a whole turn
    /// of the loop happens at one instant (`layout.rs`).
    Instant(f64),
}

impl Default for Options {
    fn default() -> Options {
        Options {
            title: "trace".to_string(),
            // Wide enough for five seconds at 200 px per second on a laptop
            // screen or a projected slide, narrow enough to fit both.
            width: 1200.0,
            view: View::Whole,
        }
    }
}

/// Space around the picture's edges, px.
const MARGIN: f64 = 16.0;
/// Lane names are set in a monospace font of 12 px, whose glyphs are 0.6 em
/// wide (DejaVu Sans Mono, Menlo and Consolas all are): this lets us size the
/// name column without measuring text.
const NAME_CHAR_PX: f64 = 7.2;
/// Longest lane name shown whole; longer ones are cut with an ellipsis.
const MAX_NAME_CHARS: usize = 32;

/// Renders `trace` as a complete SVG document.
///
/// # Examples
///
/// ```
/// use spindle_trace::{render, Options, Trace};
/// let trace = Trace::parse(r#"[{"name":"poll","ph":"X","tid":1,"ts":0,"dur":5}]"#).unwrap();
/// let svg = render(&trace, &Options::default());
/// assert!(svg.starts_with("<svg"));
/// assert_eq!(svg.matches("class=\"poll\"").count(), 1);
/// ```
pub fn render(trace: &Trace, options: &Options) -> String {
    let longest = trace
        .lanes
        .iter()
        .map(|lane| shown_name(lane).chars().count());
    let name_width = longest.max().unwrap_or(4) as f64 * NAME_CHAR_PX + 2.0 * MARGIN;
    // Leave half a tick label of room on the right for the last label.
    let left = MARGIN + name_width;
    let right = (options.width - MARGIN - 30.0).max(MARGIN + name_width + 100.0);
    let width = right + MARGIN + 30.0;
    let layout = match options.view {
        View::Instant(at_us) => Layout::steps(trace, at_us, left, right),
        View::Whole | View::Window(..) => {
            let (from_us, to_us) = window(trace, options.view);
            Layout::time(left, right, from_us, to_us)
        }
    };
    let scene = scene::build(trace, &layout);

    let mut body = String::new();
    let rows_top = header(&mut body, trace, options, width, &layout, &scene);
    let rows_bottom = rows_top + ROW_HEIGHT * trace.lanes.len() as f64;

    // Row stripes first, then grid lines over them, then each lane's bars
    // and reasons, then the arrows between lanes, then every mark on top.
    for (row, _) in trace.lanes.iter().enumerate() {
        let y = rows_top + ROW_HEIGHT * row as f64;
        let class = if row % 2 == 0 { "row-even" } else { "row-odd" };
        let _ = writeln!(
            body,
            r#"<rect class="{class}" x="{MARGIN}" y="{y:.1}" width="{:.1}" height="{ROW_HEIGHT}"/>"#,
            width - 2.0 * MARGIN
        );
    }
    let ticks = layout.ticks();
    for tick in &ticks {
        let x = tick.x;
        let _ = writeln!(
            body,
            r#"<line class="grid" x1="{x:.2}" y1="{rows_top:.1}" x2="{x:.2}" y2="{rows_bottom:.1}"/>"#
        );
    }
    let rows = trace.lanes.iter().zip(&scene.rows).enumerate();
    for (i, (lane, row)) in rows.clone() {
        draw_lane(&mut body, lane, row, rows_top + ROW_HEIGHT * i as f64);
    }
    body.push_str("<g class=\"arrows\">\n");
    for arrow in &scene.arrows {
        draw_arrow(&mut body, arrow, rows_top);
    }
    body.push_str("</g>\n");
    for (i, (lane, row)) in rows {
        draw_marks(&mut body, lane, row, rows_top + ROW_HEIGHT * i as f64);
    }

    // The axis: a baseline under the rows, a tick and a label per step.
    let _ = writeln!(
        body,
        r#"<line class="axis" x1="{left:.2}" y1="{rows_bottom:.1}" x2="{right:.2}" y2="{rows_bottom:.1}"/>"#
    );
    for tick in &ticks {
        let x = tick.x;
        let _ = writeln!(
            body,
            r#"<line class="axis" x1="{x:.2}" y1="{rows_bottom:.1}" x2="{x:.2}" y2="{:.1}"/><text class="tick" x="{x:.2}" y="{:.1}">{}</text>"#,
            rows_bottom + 5.0,
            rows_bottom + 18.0,
            escape(&tick.label)
        );
    }
    let height = rows_bottom + 30.0 + MARGIN;

    let mut svg = String::with_capacity(body.len() + 1024);
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}">"#
    );
    let _ = writeln!(svg, "<style>{STYLE}</style>");
    let _ = writeln!(
        svg,
        r##"<rect x="0" y="0" width="{width:.0}" height="{height:.0}" fill="#ffffff"/>"##
    );
    svg.push_str(&body);
    svg.push_str("</svg>\n");
    svg
}

/// The window to draw in µs: the one asked for, else the whole trace; never
/// empty, so the scale never divides by zero.
fn window(trace: &Trace, view: View) -> (f64, f64) {
    let (from, to) = match view {
        View::Window(from, to) => (from, to),
        View::Whole | View::Instant(_) => (trace.start_us(), trace.end_us()),
    };
    if to > from {
        (from, to)
    } else {
        // A trace with no events, or a window of one instant: show 1 ms.
        (from, from + 1000.0)
    }
}

/// Writes the title, subtitle and legend; returns where the rows start.
fn header(
    out: &mut String,
    trace: &Trace,
    options: &Options,
    width: f64,
    layout: &Layout,
    scene: &scene::Scene,
) -> f64 {
    let total = format_duration(trace.end_us() - trace.start_us());
    let title = match options.view {
        View::Whole => format!("{} — {total}", options.title),
        View::Window(..) => {
            let (from, to) = window(trace, options.view);
            format!(
                "{} — {} to {} (of {total})",
                options.title,
                format_instant(from),
                format_instant(to)
            )
        }
        View::Instant(at) => format!(
            "{} — the instant {}, event by event (of {total})",
            options.title,
            format_instant(at)
        ),
    };
    let wakes = trace
        .lanes
        .iter()
        .flat_map(|lane| &lane.marks)
        .filter(|mark| matches!(mark.kind, MarkKind::Wake(_)))
        .count();
    let counts = format!(
        "{} lanes · {} polls · {wakes} wakes",
        trace.lanes.len(),
        trace.polls()
    );
    let subtitle = match (layout.steps_shown(), trace.clock) {
        (Some(events), _) => format!(
            "{counts} · {events} events at this instant, one column each in the order \
             recorded; a poll is recorded when it returns, after what happened during it"
        ),
        (None, Clock::Virtual) => format!(
            "{counts} · virtual time: only clock jumps take time; \
             every poll is drawn {MIN_POLL_PX} px wide"
        ),
        (None, Clock::Real) => format!(
            "{counts} · times on the runtime's clock; \
             every poll is drawn at least {MIN_POLL_PX} px wide"
        ),
    };
    let _ = writeln!(
        out,
        r#"<text class="title" x="{MARGIN}" y="28">{}</text>"#,
        escape(&title)
    );
    let _ = writeln!(
        out,
        r#"<text class="subtitle" x="{MARGIN}" y="46">{}</text>"#,
        escape(&subtitle)
    );

    let entries = legend::entries(scene);
    legend::draw(out, &entries, MARGIN, width - MARGIN, 68.0)
}

/// The lane's name as drawn: cut to [`MAX_NAME_CHARS`].
fn shown_name(lane: &Lane) -> String {
    if lane.name.chars().count() <= MAX_NAME_CHARS {
        lane.name.clone()
    } else {
        let cut: String = lane.name.chars().take(MAX_NAME_CHARS - 1).collect();
        format!("{cut}…")
    }
}

/// Draws one lane's name, bars and wait reasons, in a group of its own.
fn draw_lane(out: &mut String, lane: &Lane, row: &Row, top: f64) {
    let _ = writeln!(out, r#"<g class="lane" data-lane="{}">"#, lane.id);
    let _ = writeln!(
        out,
        r#"<text class="name" x="{:.1}" y="{:.1}">{}<title>{}</title></text>"#,
        MARGIN + 6.0,
        top + BAR_TOP + BAR_HEIGHT - 3.0,
        escape(&shown_name(lane)),
        escape(&lane.name)
    );
    for bar in &row.bars {
        draw_bar(out, bar, top);
    }
    for stretch in &row.stretches {
        draw_stretch(out, stretch, top);
    }
    out.push_str("</g>\n");
}

/// A bar, and for merged polls the `×n` beside it.
fn draw_bar(out: &mut String, bar: &Bar, top: f64) {
    let _ = writeln!(
        out,
        r#"<rect class="{}" x="{:.2}" y="{:.1}" width="{:.2}" height="{BAR_HEIGHT}"><title>{}</title></rect>"#,
        bar.class,
        bar.x,
        top + BAR_TOP,
        bar.width,
        escape(&bar.title)
    );
    if bar.count > 1 {
        let _ = writeln!(
            out,
            r#"<text class="count" x="{:.2}" y="{:.1}">×{}<title>{}</title></text>"#,
            bar.x + bar.width + 2.0,
            top + Band::Bar.y() + 3.0,
            bar.count,
            escape(&bar.title)
        );
    }
}

/// What the task waits on: a dotted line along the stretch at the foot of
/// the bar band, and the reason above it.
fn draw_stretch(out: &mut String, stretch: &Stretch, top: f64) {
    let line_y = top + BAR_TOP + BAR_HEIGHT - 1.0;
    let _ = write!(
        out,
        r#"<g class="waits"><title>{}</title><line class="reason-line" x1="{:.2}" y1="{line_y:.1}" x2="{:.2}" y2="{line_y:.1}"/>"#,
        escape(&stretch.title),
        stretch.x0,
        stretch.x1
    );
    if let Some(text) = &stretch.text {
        let _ = write!(
            out,
            r#"<text class="reason" x="{:.2}" y="{:.1}">{}</text>"#,
            stretch.x0,
            line_y - 3.0,
            escape(text)
        );
    }
    out.push_str("</g>\n");
}

/// One arrow: the curve, its head, and a dot at its start unless it starts
/// at a timer's diamond.
fn draw_arrow(out: &mut String, arrow: &Arrow, rows_top: f64) {
    let origin = arrow.origin.as_str();
    let dash = if arrow.from_loop { " from-loop" } else { "" };
    let _ = write!(
        out,
        r#"<g class="flow"><title>{}</title><path class="arrow arrow-{origin}{dash}" d="{}"/><polygon class="head-{origin}" points="{}"/>"#,
        escape(&arrow.title),
        arrow.path(rows_top),
        arrow.head(rows_top)
    );
    if !arrow.from_timer {
        let _ = write!(
            out,
            r#"<circle class="head-{origin}" cx="{:.2}" cy="{:.1}" r="2"/>"#,
            arrow.from.x,
            rows_top + arrow.from.row as f64 * ROW_HEIGHT + arrow.from.y
        );
    }
    out.push_str("</g>\n");
}

/// One lane's marks, over everything else, and the words of its notes.
fn draw_marks(out: &mut String, lane: &Lane, row: &Row, top: f64) {
    let _ = writeln!(out, r#"<g class="marks" data-lane="{}">"#, lane.id);
    for mark in &row.marks {
        draw_mark(out, mark, top);
    }
    out.push_str("</g>\n");
}

fn draw_mark(out: &mut String, mark: &Placed, top: f64) {
    let y = top + mark.band.y();
    mark_shape(out, &mark.kind, mark.x, y, Some(&mark.title));
    if let (MarkKind::Note { .. }, Some(label)) = (&mark.kind, &mark.label) {
        let _ = write!(
            out,
            r#"<text class="note-text" x="{:.2}" y="{:.1}">{}</text>"#,
            mark.x + NOTE_TEXT_OFFSET,
            y + 3.5,
            escape(label)
        );
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(json: &str) -> Trace {
        Trace::parse(json).unwrap()
    }

    #[test]
    fn a_tiny_poll_is_drawn_at_the_minimum_width() {
        // A 1 µs poll in a 10 s trace would be 0.0001 px wide at true scale.
        let svg = render(
            &trace(
                r#"[{"name":"poll","ph":"X","tid":1,"ts":0,"dur":1},
                    {"name":"poll","ph":"X","tid":1,"ts":1e7,"dur":1}]"#,
            ),
            &Options::default(),
        );
        assert_eq!(
            svg.matches(r#"width="2.00" height="14""#).count(),
            2,
            "{svg}"
        );
    }

    #[test]
    fn a_window_leaves_out_what_is_outside_and_cuts_spans() {
        let json = r#"[{"name":"poll","ph":"X","tid":1,"ts":0,"dur":10},
                       {"name":"poll","ph":"X","tid":1,"ts":500,"dur":10},
                       {"name":"reactor wait","ph":"X","tid":0,"ts":20,"dur":2000},
                       {"name":"wake","ph":"i","tid":1,"ts":5}]"#;
        let options = Options {
            view: View::Window(100.0, 1100.0),
            ..Options::default()
        };
        let svg = render(&trace(json), &options);
        assert_eq!(svg.matches(r#"class="poll""#).count(), 1);
        assert_eq!(svg.matches(r#"class="wait""#).count(), 1);
        assert_eq!(svg.matches(r#"class="wake wake-unknown""#).count(), 0);
        assert!(
            svg.contains("0.000100 s to 0.001100 s"),
            "title names the window"
        );
    }

    #[test]
    fn a_virtual_time_picture_does_not_depend_on_real_durations() {
        let picture = |poll_us: f64| {
            let json = format!(
                r#"[{{"name":"clock jump","ph":"X","tid":0,"ts":0,"dur":1000000}},
                    {{"name":"poll","ph":"X","tid":1,"ts":1000000,"dur":{poll_us}}}]"#
            );
            render(&trace(&json), &Options::default())
        };
        let svg = picture(3.5);
        assert_eq!(svg, picture(9000.25), "a slower poll changed the picture");
        assert!(svg.contains("<title>poll at 1.000000 s</title>"), "{svg}");
        assert!(svg.contains("clock jump (virtual time) 1.00 s at"), "{svg}");
        assert!(svg.contains("virtual time: only clock jumps take time"));
    }

    #[test]
    fn an_instant_is_drawn_event_by_event() {
        let json = r#"[{"name":"clock jump","ph":"X","tid":0,"ts":0,"dur":1000000},
                       {"name":"timer fired","ph":"i","tid":0,"ts":1000000},
                       {"name":"wake","ph":"i","tid":1,"ts":1000000,"args":{"origin":"timer"}},
                       {"name":"poll","ph":"X","tid":1,"ts":1000000,"dur":4},
                       {"name":"poll","ph":"X","tid":1,"ts":0,"dur":4}]"#;
        let options = Options {
            view: View::Instant(1e6),
            ..Options::default()
        };
        let svg = render(&trace(json), &options);
        assert!(svg.contains("the instant 1.000000 s, event by event (of 1.00 s)"));
        assert!(svg.contains("4 events at this instant"), "{svg}");
        let labels = ["#1", "#2", "#3", "#4"].map(|l| format!(">{l}<"));
        assert!(labels.iter().all(|l| svg.contains(l)), "{svg}");
        assert!(!svg.contains(">#5<"));
        assert_eq!(
            svg.matches(r#"class="poll""#).count(),
            1,
            "not the one at 0 s"
        );
        assert_eq!(svg.matches(r#"class="jump""#).count(), 1);
    }

    #[test]
    fn names_and_titles_are_escaped() {
        let json = r#"[{"name":"thread_name","ph":"M","tid":1,"args":{"name":"<a&b>"}}]"#;
        let options = Options {
            title: "x\"y".to_string(),
            ..Options::default()
        };
        let svg = render(&trace(json), &options);
        assert!(svg.contains("&lt;a&amp;b&gt;"));
        assert!(svg.contains("x&quot;y"));
        assert!(!svg.contains("<a&b>"));
    }

    #[test]
    fn long_names_are_cut() {
        let lane = Lane {
            id: 1,
            name: "x".repeat(40),
            spans: Vec::new(),
            marks: Vec::new(),
            waits: Vec::new(),
        };
        assert_eq!(shown_name(&lane).chars().count(), MAX_NAME_CHARS);
        assert!(shown_name(&lane).ends_with('…'));
    }

    #[test]
    fn an_empty_trace_still_draws() {
        let svg = render(&trace("[]"), &Options::default());
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }
}
