//! What each event looks like: the colours and the shape of every mark.
//!
//! This is the picture's vocabulary, kept apart from the placing in
//! `scene.rs` and the writing in `svg.rs` so that changing a colour never
//! means reading coordinate arithmetic. Two rules shaped it:
//!
//! - **Shapes, not only colours.** A wake is a triangle, a spawn a circle,
//!   a finish a square, a cancel or panic a cross, a timer a diamond, a
//!   primitive's note a flag with its words; colour adds the detail (who
//!   woke the task, cancel or panic). An arrow is dashed when the loop woke
//!   the task, solid when a task did. The picture still reads when printed
//!   in grey or seen by someone who cannot tell green from orange.
//! - **Related things share a colour.** Timer wakes on a task's row are the
//!   orange of the `timer fired` diamonds on the loop row, and so is the
//!   arrow that joins a diamond to the poll it caused: every arrow has the
//!   colour of its wake's triangle. Polls are the one dark, saturated
//!   colour: they are the work; reactor waits are a pale wash of the same
//!   blue, because waiting is the background of the picture. Waits and
//!   clock jumps often follow each other without a gap (the loop waits
//!   again at once), so they get a white outline: each one shows where it
//!   ends. What a task waits on is grey italic text: it explains the
//!   picture, it is not an event in it.
//!
//! Colours live in one `<style>` block, so each element carries only a class
//! (which is also what the tests count). Legend swatches (`legend.rs`) carry
//! the extra class `swatch`, so counting `class="poll"` counts only the
//! plot's polls.

use std::fmt::Write as _;

use crate::trace::MarkKind;

/// The stylesheet of the picture: every colour and font in one place.
pub(crate) const STYLE: &str = "
text { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; fill: #212529; }
.title { font-size: 16px; font-weight: bold; }
.subtitle, .legend { font-size: 11px; fill: #495057; }
.name { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 12px; }
.tick { font-size: 11px; fill: #495057; text-anchor: middle; }
.row-even { fill: #f4f6f8; } .row-odd { fill: #ffffff; }
.grid { stroke: #dde1e6; stroke-width: 1; }
.axis { stroke: #868e96; stroke-width: 1; }
.poll { fill: #1c4f8c; }
.wait { fill: #bcd4ec; }
.jump { fill: #dee2e6; }
.wait, .jump { stroke: #ffffff; stroke-width: 1; }
.span { fill: #adb5bd; }
.wake-local { fill: #2f9e44; } .wake-remote { fill: #9c36b5; }
.wake-timer { fill: #f08c00; } .wake-io { fill: #0c8599; }
.wake-unknown { fill: #868e96; }
.spawn { fill: none; stroke: #343a40; stroke-width: 1.5; }
.finished { fill: #343a40; }
.cancelled { stroke: #495057; stroke-width: 2; }
.panicked { stroke: #e03131; stroke-width: 2.5; }
.timer-fired { fill: #f08c00; }
.timer-cancelled { fill: #ffffff; stroke: #f08c00; stroke-width: 1.5; }
.note { fill: #7048e8; } .note-stem { stroke: #7048e8; stroke-width: 1.2; }
.note-text { font-size: 9px; fill: #5f3dc4; }
.other { fill: #adb5bd; }
.count { font-size: 9px; font-weight: bold; fill: #1c4f8c; }
.reason { font-size: 10px; font-style: italic; fill: #495057; }
.reason-line { stroke: #adb5bd; stroke-width: 1; stroke-dasharray: 1 2; }
.arrow { fill: none; stroke-width: 1.4; }
.from-loop { stroke-dasharray: 4 2; }
.arrow-local { stroke: #2f9e44; } .arrow-remote { stroke: #9c36b5; }
.arrow-timer { stroke: #f08c00; } .arrow-io { stroke: #0c8599; }
.arrow-unknown { stroke: #868e96; }
.head-local { fill: #2f9e44; } .head-remote { fill: #9c36b5; }
.head-timer { fill: #f08c00; } .head-io { fill: #0c8599; }
.head-unknown { fill: #868e96; }
";

/// How a mark is called in tooltips.
pub(crate) fn mark_name(kind: &MarkKind) -> String {
    match kind {
        MarkKind::Spawn => "spawn".to_string(),
        MarkKind::Wake(origin) => format!("wake ({})", origin.as_str()),
        MarkKind::Finished => "finished".to_string(),
        MarkKind::Cancelled => "cancelled".to_string(),
        MarkKind::Panicked => "panicked".to_string(),
        MarkKind::TimerFired => "timer fired".to_string(),
        MarkKind::TimerCancelled => "timer cancelled".to_string(),
        MarkKind::Note { object, what } => format!("{object} {what}"),
        MarkKind::Other(name) => name.clone(),
    }
}

/// Draws a mark's shape centred on (`x`, `y`): with its tooltip `title` in
/// the plot, or with `None` as a legend swatch (classed `swatch` as well, so
/// that counting a class counts only what the plot shows). Shapes differ,
/// not only colours, so the picture still reads in black and white:
///
/// - wake: a triangle pointing down at the poll it leads to, coloured by
///   origin;
/// - spawn: an open circle; finished: a filled square;
///   cancelled and panicked: a cross (grey, red);
/// - timer fired: a filled diamond; timer cancelled: an open one;
/// - a primitive's note: a small flag (its words are drawn beside it by
///   `svg.rs`, which knows how much room they have).
pub(crate) fn mark_shape(out: &mut String, kind: &MarkKind, x: f64, y: f64, title: Option<&str>) {
    let (tooltip, swatch) = match title {
        Some(title) => (format!("<title>{}</title>", escape(title)), ""),
        None => (String::new(), " swatch"),
    };
    let _ = match kind {
        MarkKind::Wake(origin) => write!(
            out,
            r#"<polygon class="wake wake-{}{swatch}" points="{:.2},{:.1} {:.2},{:.1} {x:.2},{:.1}">{tooltip}</polygon>"#,
            origin.as_str(),
            x - 4.5,
            y - 4.5,
            x + 4.5,
            y - 4.5,
            y + 4.5
        ),
        MarkKind::Spawn => write!(
            out,
            r#"<circle class="spawn{swatch}" cx="{x:.2}" cy="{y:.1}" r="3.5">{tooltip}</circle>"#
        ),
        MarkKind::Finished => write!(
            out,
            r#"<rect class="finished{swatch}" x="{:.2}" y="{:.1}" width="7" height="7">{tooltip}</rect>"#,
            x - 3.5,
            y - 3.5
        ),
        MarkKind::Cancelled | MarkKind::Panicked => {
            let class = if *kind == MarkKind::Cancelled {
                "cancelled"
            } else {
                "panicked"
            };
            write!(
                out,
                r#"<path class="{class}{swatch}" d="M{:.2},{:.1} L{:.2},{:.1} M{:.2},{:.1} L{:.2},{:.1}">{tooltip}</path>"#,
                x - 4.0,
                y - 4.0,
                x + 4.0,
                y + 4.0,
                x - 4.0,
                y + 4.0,
                x + 4.0,
                y - 4.0
            )
        }
        MarkKind::TimerFired | MarkKind::TimerCancelled => {
            let class = if *kind == MarkKind::TimerFired {
                "timer-fired"
            } else {
                "timer-cancelled"
            };
            write!(
                out,
                r#"<polygon class="{class}{swatch}" points="{x:.2},{:.1} {:.2},{y:.1} {x:.2},{:.1} {:.2},{y:.1}">{tooltip}</polygon>"#,
                y - 5.0,
                x + 5.0,
                y + 5.0,
                x - 5.0
            )
        }
        MarkKind::Note { .. } => write!(
            out,
            r#"<g class="note{swatch}"><path class="note-stem" d="M{x:.2},{:.1} L{x:.2},{:.1}"/><polygon points="{x:.2},{:.1} {:.2},{:.1} {x:.2},{:.1}"/>{tooltip}</g>"#,
            y - 5.0,
            y + 5.0,
            y - 5.0,
            x + 5.0,
            y - 2.5,
            y
        ),
        MarkKind::Other(_) => write!(
            out,
            r#"<circle class="other{swatch}" cx="{x:.2}" cy="{y:.1}" r="3">{tooltip}</circle>"#
        ),
    };
}

/// Escapes text for SVG (XML) content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::WakeOrigin;

    /// Every kind of mark, for checking that each looks different.
    fn all_kinds() -> Vec<MarkKind> {
        let mut kinds: Vec<MarkKind> = WakeOrigin::ALL.into_iter().map(MarkKind::Wake).collect();
        kinds.extend([
            MarkKind::Spawn,
            MarkKind::Finished,
            MarkKind::Cancelled,
            MarkKind::Panicked,
            MarkKind::TimerFired,
            MarkKind::TimerCancelled,
            MarkKind::Note {
                object: "Mutex#1".to_string(),
                what: "acquired".to_string(),
            },
            MarkKind::Other("x".to_string()),
        ]);
        kinds
    }

    #[test]
    fn every_kind_of_mark_has_its_own_class_and_a_style() {
        let mut classes = Vec::new();
        for kind in all_kinds() {
            let mut out = String::new();
            mark_shape(&mut out, &kind, 10.0, 10.0, Some("t"));
            let class = out.split('"').nth(1).unwrap().to_string();
            let last = class.rsplit(' ').next().unwrap();
            assert!(STYLE.contains(&format!(".{last} ")), "no style for {last}");
            assert!(out.contains("<title>t</title>"), "{out}");
            classes.push(class);
        }
        let mut unique = classes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), classes.len(), "{classes:?}");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"<a & 'b' "c">"#),
            "&lt;a &amp; &apos;b&apos; &quot;c&quot;&gt;"
        );
    }
}
