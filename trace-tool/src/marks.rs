//! What each event looks like: the colours, the shape of every mark, and
//! the legend that says which is which.
//!
//! This is the picture's vocabulary, kept apart from the layout in
//! `svg.rs` so that changing a colour never means reading coordinate
//! arithmetic. Two rules shaped it:
//!
//! - **Shapes, not only colours.** A wake is a triangle, a spawn a circle,
//!   a finish a square, a cancel or panic a cross, a timer a diamond; colour
//!   adds the detail (who woke the task, cancel or panic). The picture still
//!   reads when printed in grey or seen by someone who cannot tell green
//!   from orange.
//! - **Related things share a colour.** Timer wakes on a task's row are the
//!   orange of the `timer fired` diamonds on the loop row, so the eye joins
//!   a timer to the task it woke. Polls are the one dark, saturated colour:
//!   they are the work; reactor waits are a pale wash of the same blue,
//!   because waiting is the background of the picture. Waits and clock
//!   jumps often follow each other without a gap (the loop waits again at
//!   once), so they get a white outline: each one shows where it ends.
//!
//! Colours live in one `<style>` block, so each element carries only a class
//! (which is also what the tests count). Legend swatches carry the extra
//! class `swatch`, so counting `class="poll"` counts only the plot's polls.

use std::fmt::Write as _;

use crate::trace::{MarkKind, Trace, WakeOrigin};

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
.other { fill: #adb5bd; }
";

/// Legend text is 11 px sans-serif, whose lowercase letters average under
/// 0.55 em: 6 px a character leaves a little air between entries.
const LEGEND_CHAR_PX: f64 = 6.0;

/// Writes the legend, one entry per kind of bar and mark, from (`left`,
/// `top`), wrapping onto more lines before `right`; returns where it ends.
/// An unknown wake origin only gets an entry when the trace has one.
pub(crate) fn legend(out: &mut String, trace: &Trace, left: f64, right: f64, top: f64) -> f64 {
    let has_unknown = trace
        .lanes
        .iter()
        .flat_map(|lane| &lane.marks)
        .any(|mark| mark.kind == MarkKind::Wake(WakeOrigin::Unknown));
    let mut entries: Vec<(Swatch, String)> = vec![
        (Swatch::Bar("poll"), "poll".to_string()),
        (Swatch::Bar("wait"), "reactor wait".to_string()),
        (Swatch::Bar("jump"), "clock jump (virtual time)".to_string()),
    ];
    for origin in WakeOrigin::ALL {
        if origin != WakeOrigin::Unknown || has_unknown {
            let label = format!("wake: {}", origin.as_str());
            entries.push((Swatch::Mark(MarkKind::Wake(origin)), label));
        }
    }
    for (kind, label) in [
        (MarkKind::Spawn, "spawn"),
        (MarkKind::Finished, "finished"),
        (MarkKind::Cancelled, "cancelled"),
        (MarkKind::Panicked, "panicked"),
        (MarkKind::TimerFired, "timer fired"),
        (MarkKind::TimerCancelled, "timer cancelled"),
    ] {
        entries.push((Swatch::Mark(kind), label.to_string()));
    }

    let line_height = 20.0;
    let mut x = left;
    let mut y = top;
    for (swatch, label) in entries {
        let entry_width = 18.0 + label.chars().count() as f64 * LEGEND_CHAR_PX + 16.0;
        if x + entry_width > right && x > left {
            x = left;
            y += line_height;
        }
        match swatch {
            Swatch::Bar(class) => {
                let _ = write!(
                    out,
                    r#"<rect class="{class} swatch" x="{x:.1}" y="{:.1}" width="12" height="10"/>"#,
                    y - 5.0
                );
            }
            Swatch::Mark(kind) => mark_shape(out, &kind, x + 6.0, y, None),
        }
        let _ = writeln!(
            out,
            r#"<text class="legend" x="{:.1}" y="{:.1}">{}</text>"#,
            x + 18.0,
            y + 4.0,
            escape(&label)
        );
        x += entry_width;
    }
    y + 18.0
}

/// What a legend entry shows beside its label.
enum Swatch {
    /// A bar of this CSS class.
    Bar(&'static str),
    /// The shape of this mark.
    Mark(MarkKind),
}

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
        MarkKind::Other(name) => name.clone(),
    }
}

/// Draws a mark's shape centred on (`x`, `y`): with its tooltip `title` in
/// the plot, or with `None` as a legend swatch (classed `swatch` as well, so
/// that counting a class counts only what the plot shows). Shapes differ, not only colours, so the picture still
/// reads in black and white:
///
/// - wake: a triangle pointing down at the poll it leads to, coloured by
///   origin;
/// - spawn: an open circle; finished: a filled square;
///   cancelled and panicked: a cross (grey, red);
/// - timer fired: a filled diamond; timer cancelled: an open one.
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
    use crate::trace::Clock;

    fn empty() -> Trace {
        Trace {
            lanes: Vec::new(),
            clock: Clock::Real,
        }
    }

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
    fn swatches_are_classed_apart_from_the_plot() {
        let mut out = String::new();
        legend(&mut out, &empty(), 0.0, 2000.0, 10.0);
        assert!(!out.contains(r#"class="poll""#), "{out}");
        assert!(out.contains(r#"class="poll swatch""#), "{out}");
        assert!(!out.contains("wake-unknown"), "no unknown wakes, no entry");
    }

    #[test]
    fn a_narrow_legend_wraps() {
        let mut out = String::new();
        let one_line = legend(&mut out, &empty(), 0.0, 5000.0, 10.0);
        let wrapped = legend(&mut out, &empty(), 0.0, 300.0, 10.0);
        assert!(wrapped > one_line);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"<a & 'b' "c">"#),
            "&lt;a &amp; &apos;b&apos; &quot;c&quot;&gt;"
        );
    }
}
