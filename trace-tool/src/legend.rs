//! The legend: one entry for each kind of thing the picture draws, and none
//! for what it does not.
//!
//! A legend that lists everything the tool *can* draw makes a reader look
//! for things that are not there: a real-time trace has no clock jumps, a
//! program without sockets no I/O wakes. So the entries are read off the
//! placed scene (`scene.rs`), after everything is placed: a window
//! (`--from`/`--to`) or one instant (`--at`) lists only what it shows.
//!
//! The entries come in reading order: the bars (the work and the waiting),
//! what a task waits on, the wakes and the arrows that explain them, a
//! task's life, the loop's timers, the notes of primitives.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::marks::{escape, mark_shape};
use crate::scene::Scene;
use crate::trace::{MarkKind, WakeOrigin};

/// Legend text is 11 px sans-serif, whose lowercase letters average under
/// 0.55 em: 6 px a character leaves a little air between entries.
const LEGEND_CHAR_PX: f64 = 6.0;
/// One line of the legend, px.
const LINE_HEIGHT: f64 = 20.0;

/// What a legend entry shows beside its label.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Swatch {
    /// A bar of this CSS class.
    Bar(&'static str),
    /// A poll bar with `×n` beside it.
    Merged,
    /// A wait reason: no swatch, the label itself is set as reasons are,
    /// in grey italics over a dotted line.
    Reason,
    /// The shape of this mark.
    Mark(MarkKind),
    /// An arrow: dashed when the loop woke the task.
    Arrow { from_loop: bool },
}

/// The entries for what `scene` draws, in legend order.
pub(crate) fn entries(scene: &Scene) -> Vec<(Swatch, String)> {
    let rows = &scene.rows;
    let bars = |class: &str| rows.iter().flat_map(|r| &r.bars).any(|b| b.class == class);
    let merged = rows.iter().flat_map(|r| &r.bars).any(|b| b.count > 1);
    let reasons = rows.iter().any(|r| !r.stretches.is_empty());
    let kinds: Vec<&MarkKind> = rows
        .iter()
        .flat_map(|r| &r.marks)
        .map(|m| &m.kind)
        .collect();
    let has = |wanted: &MarkKind| kinds.contains(&wanted);

    let mut out: Vec<(Swatch, String)> = Vec::new();
    for (class, label) in [
        ("poll", "poll"),
        ("wait", "reactor wait"),
        ("jump", "clock jump (virtual time)"),
        ("span", "other span"),
    ] {
        if bars(class) {
            out.push((Swatch::Bar(class), label.to_string()));
        }
        if class == "poll" && merged {
            out.push((Swatch::Merged, "polls within a pixel, merged".to_string()));
        }
    }
    if reasons {
        out.push((Swatch::Reason, "what an idle task waits on".to_string()));
    }
    for origin in WakeOrigin::ALL {
        let kind = MarkKind::Wake(origin);
        if has(&kind) {
            out.push((Swatch::Mark(kind), format!("wake: {}", origin.as_str())));
        }
    }
    if scene.arrows.iter().any(|a| !a.from_loop) {
        let label = "woken by a task, to its next poll".to_string();
        out.push((Swatch::Arrow { from_loop: false }, label));
    }
    // Name only the loop's wakers that are drawn: "timer", "timer, I/O".
    let wakers: BTreeSet<&str> = scene
        .arrows
        .iter()
        .filter(|a| a.from_loop)
        .map(|a| match a.origin {
            WakeOrigin::Timer => "timer",
            WakeOrigin::Io => "I/O",
            WakeOrigin::Remote => "other thread",
            _ => "callback",
        })
        .collect();
    if !wakers.is_empty() {
        let wakers: Vec<&str> = wakers.into_iter().collect();
        let label = format!("woken by the loop ({})", wakers.join(", "));
        out.push((Swatch::Arrow { from_loop: true }, label));
    }
    for (kind, label) in [
        (MarkKind::Spawn, "spawn"),
        (MarkKind::Finished, "finished"),
        (MarkKind::Cancelled, "cancelled"),
        (MarkKind::Panicked, "panicked"),
        (MarkKind::TimerFired, "timer fired"),
        (MarkKind::TimerCancelled, "timer cancelled"),
    ] {
        if has(&kind) {
            out.push((Swatch::Mark(kind), label.to_string()));
        }
    }
    if let Some(note) = kinds.iter().find(|k| matches!(k, MarkKind::Note { .. })) {
        let note = (*note).clone();
        out.push((Swatch::Mark(note), "what a primitive did".to_string()));
    }
    if let Some(other) = kinds.iter().find(|k| matches!(k, MarkKind::Other(_))) {
        let other = (*other).clone();
        out.push((Swatch::Mark(other), "other event".to_string()));
    }
    out
}

/// Writes the legend from (`left`, `top`), wrapping onto more lines before
/// `right`; returns where it ends (`top` itself when there is nothing).
pub(crate) fn draw(
    out: &mut String,
    entries: &[(Swatch, String)],
    left: f64,
    right: f64,
    top: f64,
) -> f64 {
    if entries.is_empty() {
        return top;
    }
    let mut x = left;
    let mut y = top;
    for (swatch, label) in entries {
        let (swatch_px, class) = match swatch {
            Swatch::Arrow { .. } => (26.0, "legend"),
            Swatch::Merged => (22.0, "legend"),
            Swatch::Reason => (-6.0, "reason"),
            _ => (12.0, "legend"),
        };
        let text_px = label.chars().count() as f64 * LEGEND_CHAR_PX;
        let entry_width = swatch_px + 6.0 + text_px + 16.0;
        if x + entry_width > right && x > left {
            x = left;
            y += LINE_HEIGHT;
        }
        let text_x = x + swatch_px + 6.0;
        if *swatch == Swatch::Reason {
            let _ = write!(
                out,
                r#"<line class="reason-line swatch" x1="{text_x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"#,
                y + 7.0,
                text_x + text_px,
                y + 7.0
            );
        } else {
            swatch_shape(out, swatch, x, y);
        }
        let _ = writeln!(
            out,
            r#"<text class="{class}" x="{text_x:.1}" y="{:.1}">{}</text>"#,
            y + 4.0,
            escape(label)
        );
        x += entry_width;
    }
    y + 18.0
}

/// Draws a swatch from `x`, centred on `y`.
fn swatch_shape(out: &mut String, swatch: &Swatch, x: f64, y: f64) {
    let _ = match swatch {
        Swatch::Bar(class) => write!(
            out,
            r#"<rect class="{class} swatch" x="{x:.1}" y="{:.1}" width="12" height="10"/>"#,
            y - 5.0
        ),
        Swatch::Merged => write!(
            out,
            r#"<rect class="poll swatch" x="{x:.1}" y="{:.1}" width="2" height="10"/><text class="count swatch" x="{:.1}" y="{:.1}">×n</text>"#,
            y - 5.0,
            x + 3.0,
            y + 3.0
        ),
        // Drawn with its label, in `draw`.
        Swatch::Reason => Ok(()),
        Swatch::Arrow { from_loop } => {
            let dash = if *from_loop { " from-loop" } else { "" };
            write!(
                out,
                r#"<path class="arrow arrow-unknown{dash} swatch" d="M{x:.1},{y:.1} L{:.1},{y:.1}"/><polygon class="head-unknown swatch" points="{:.1},{y:.1} {:.1},{:.1} {:.1},{:.1}"/>"#,
                x + 20.0,
                x + 26.0,
                x + 20.0,
                y - 3.5,
                x + 20.0,
                y + 3.5
            )
        }
        Swatch::Mark(kind) => {
            mark_shape(out, kind, x + 6.0, y, None);
            Ok(())
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;
    use crate::scene;
    use crate::trace::Trace;

    fn labels(json: &str) -> Vec<String> {
        let trace = Trace::parse(json).unwrap();
        let layout = Layout::time(0.0, 1000.0, trace.start_us(), trace.end_us().max(1.0));
        entries(&scene::build(&trace, &layout))
            .into_iter()
            .map(|(_, label)| label)
            .collect()
    }

    /// A real-time run: a poll, a reactor wait, an I/O wake and its arrow.
    const REAL: &str = r#"{"otherData":{"clock":"real"},"traceEvents":[
        {"name":"spawn","ph":"i","tid":1,"ts":0,"args":{"parent":null}},
        {"name":"poll","ph":"X","tid":1,"ts":0,"dur":10},
        {"name":"waits","ph":"i","tid":1,"ts":10,"args":{"on":"TcpStream#1.read"}},
        {"name":"reactor wait","ph":"X","tid":0,"ts":11,"dur":500},
        {"name":"wake","ph":"i","tid":1,"ts":511,"args":{"origin":"io","by":null}},
        {"name":"wake","ph":"s","tid":0,"ts":511,"id":1},
        {"name":"wake","ph":"f","bp":"e","tid":1,"ts":520,"id":1},
        {"name":"poll","ph":"X","tid":1,"ts":520,"dur":10},
        {"name":"finished","ph":"i","tid":1,"ts":530}
    ]}"#;

    #[test]
    fn a_real_time_legend_lists_what_is_drawn_and_no_clock_jump() {
        assert_eq!(
            labels(REAL),
            [
                "poll",
                "reactor wait",
                "what an idle task waits on",
                "wake: io",
                "woken by the loop (I/O)",
                "spawn",
                "finished"
            ]
        );
    }

    #[test]
    fn a_virtual_time_legend_lists_clock_jumps_timers_merges_and_task_arrows() {
        let json = r#"[
            {"name":"poll","ph":"X","tid":1,"ts":0,"dur":0},
            {"name":"clock jump","ph":"X","tid":0,"ts":0,"dur":1000000},
            {"name":"timer fired","ph":"i","tid":0,"ts":1000000},
            {"name":"wake","ph":"i","tid":1,"ts":1000000,"args":{"origin":"timer"}},
            {"name":"wake","ph":"s","tid":0,"ts":1000000,"id":1},
            {"name":"wake","ph":"i","tid":2,"ts":1000000,"args":{"origin":"local","by":0}},
            {"name":"wake","ph":"s","tid":1,"ts":1000000,"id":2},
            {"name":"wake","ph":"f","bp":"e","tid":1,"ts":1000000,"id":1},
            {"name":"poll","ph":"X","tid":1,"ts":1000000,"dur":0},
            {"name":"wake","ph":"f","bp":"e","tid":2,"ts":1000000,"id":2},
            {"name":"poll","ph":"X","tid":2,"ts":1000000,"dur":0},
            {"name":"poll","ph":"X","tid":2,"ts":1000000,"dur":0},
            {"name":"Mutex#1 acquired","ph":"i","tid":2,"ts":1000000,"args":{"object":"Mutex#1"}}
        ]"#;
        assert_eq!(
            labels(json),
            [
                "poll",
                "polls within a pixel, merged",
                "clock jump (virtual time)",
                "wake: local",
                "wake: timer",
                "woken by a task, to its next poll",
                "woken by the loop (timer)",
                "timer fired",
                "what a primitive did"
            ]
        );
    }

    #[test]
    fn an_empty_picture_has_no_legend_and_a_narrow_one_wraps() {
        let mut out = String::new();
        assert_eq!(draw(&mut out, &[], 0.0, 500.0, 10.0), 10.0);
        assert!(out.is_empty());
        let trace = Trace::parse(REAL).unwrap();
        let built = scene::build(&trace, &Layout::time(0.0, 1000.0, 0.0, 530.0));
        let entries = entries(&built);
        let one_line = draw(&mut out, &entries, 0.0, 5000.0, 10.0);
        let wrapped = draw(&mut out, &entries, 0.0, 300.0, 10.0);
        assert!(wrapped > one_line);
        assert!(out.contains(r#"class="poll swatch""#) && !out.contains(r#"class="poll""#));
    }
}
