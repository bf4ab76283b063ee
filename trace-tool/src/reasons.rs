//! Why a task is idle: the wait reason written along each idle stretch of
//! its row.
//!
//! After a poll that returned `Pending`, spindle writes what the task now
//! waits on (a `waits` instant: `Queue#1.get`, `sleep until 2.000s`,
//! `task 1 (producer)`), and that stays true until the task's next poll.
//! So between two polls of a row the picture writes the reason, in grey
//! italics above a dotted line that runs the length of the stretch:
//!
//! ```text
//!  consumer  ▼█ waits on Queue#1.get ················· ▼█ waits on Queue…
//! ```
//!
//! A stretch runs from the right end of the bar of the poll before it (and
//! its `×n`, if merged) to the left end of the bar of the next poll. With
//! no next poll it runs to the task's end (finished, cancelled, panicked),
//! or, if the task never ended, to the edge of the picture: a task still
//! waiting when the program stopped, which is what a stuck program looks
//! like. A stretch that reaches past the edge of a window is cut there.
//!
//! Text is never measured, so it is cut by a character budget: the stretch
//! has room for so many [`REASON_CHAR_PX`]-wide characters. The text is
//! `waits on Queue#1.get` when that fits, the bare reason when only that
//! fits, and otherwise the reason's start and an ellipsis; no text at all
//! when fewer than [`MIN_SHOWN_CHARS`] characters would show (a one-letter
//! stub says nothing). The line still shows the stretch, and its tooltip
//! (`<title>`) always has the whole reason with its times.

use std::cmp::Ordering;

use crate::axis::format_instant;
use crate::layout::Layout;
use crate::scene::{Band, Bar, Placed};
use crate::trace::{Lane, MarkKind, SpanKind};

/// Reasons are 10 px italic sans-serif, whose characters average under
/// 6 px; counting 6 leaves a margin for wide ones.
pub(crate) const REASON_CHAR_PX: f64 = 6.0;
/// The fewest characters worth showing, the ellipsis included.
pub(crate) const MIN_SHOWN_CHARS: usize = 4;
/// Space kept free at each end of a stretch, px.
const PAD_PX: f64 = 3.0;

/// One idle stretch of a row, placed.
#[derive(Debug, PartialEq)]
pub(crate) struct Stretch {
    /// Where it starts and ends, px.
    pub(crate) x0: f64,
    pub(crate) x1: f64,
    /// The reason as drawn, cut to fit; `None` if there is no room.
    pub(crate) text: Option<String>,
    /// The whole reason and its times, for the tooltip.
    pub(crate) title: String,
}

/// The stretches of `lane`, given its placed `bars` and `marks`.
pub(crate) fn stretches(
    lane: &Lane,
    bars: &[Bar],
    marks: &[Placed],
    layout: &Layout,
) -> Vec<Stretch> {
    let (left, right) = layout.edges();
    let bar_of = |seq: usize| bars.iter().find(|bar| bar.seqs.contains(&seq));
    let polls: Vec<_> = lane
        .spans
        .iter()
        .filter(|span| span.kind == SpanKind::Poll)
        .collect();
    let mut out = Vec::new();
    for wait in &lane.waits {
        // The poll it follows, and the next one (file order: under virtual
        // time all of an instant's polls share one timestamp).
        let before = polls
            .iter()
            .filter(|p| p.seq < wait.seq)
            .max_by_key(|p| p.seq);
        let next = polls
            .iter()
            .filter(|p| p.seq > wait.seq)
            .min_by_key(|p| p.seq);
        let x0 = match (
            before.and_then(|p| bar_of(p.seq)),
            layout.compare(wait.at_us),
        ) {
            (Some(bar), _) => bar.right() + PAD_PX,
            (None, Ordering::Less) => left,
            (None, Ordering::Greater) => continue,
            (None, Ordering::Equal) => match layout.point_x(wait.at_us, wait.seq) {
                Some(x) => x + PAD_PX,
                None => continue,
            },
        };
        let (x1, until) = match next {
            Some(poll) => match (bar_of(poll.seq), layout.compare(poll.start_us)) {
                (Some(bar), _) => (bar.x - PAD_PX, poll.start_us),
                (None, Ordering::Greater) => (right, poll.start_us),
                // Ended before what is shown (or is not drawn): nothing.
                (None, _) => continue,
            },
            None => match end_of(lane, wait.seq, marks) {
                Some((x, at_us)) => (x - PAD_PX, at_us),
                None => (right, f64::NAN),
            },
        };
        if x1 - x0 < 2.0 * PAD_PX {
            continue;
        }
        let until = if until.is_nan() {
            "the end of the trace".to_string()
        } else {
            format_instant(until)
        };
        out.push(Stretch {
            x0,
            x1,
            text: reason_text(&wait.on, x1 - x0 - PAD_PX),
            title: format!(
                "waits on {} from {} to {until}",
                wait.on,
                format_instant(wait.at_us)
            ),
        });
    }
    out
}

/// Where the task ended after the wait `seq`, if it did and that is shown:
/// the x of the placed `finished`/`cancelled`/`panicked` mark, and its time.
fn end_of(lane: &Lane, seq: usize, marks: &[Placed]) -> Option<(f64, f64)> {
    let end = lane.marks.iter().find(|m| {
        m.seq > seq
            && matches!(
                m.kind,
                MarkKind::Finished | MarkKind::Cancelled | MarkKind::Panicked
            )
    })?;
    let placed = marks
        .iter()
        .find(|p| p.seq == end.seq && p.band == Band::Life)?;
    Some((placed.x, end.at_us))
}

/// The words for a stretch with `room_px` of room (module doc).
fn reason_text(on: &str, room_px: f64) -> Option<String> {
    let sentence = format!("waits on {on}");
    if sentence.chars().count() as f64 * REASON_CHAR_PX <= room_px {
        return Some(sentence);
    }
    elide(on, room_px, REASON_CHAR_PX)
}

/// `text` cut to `room_px` at `char_px` a character: whole if it fits,
/// else its start and `…`, else `None` when fewer than
/// [`MIN_SHOWN_CHARS`] would show.
pub(crate) fn elide(text: &str, room_px: f64, char_px: f64) -> Option<String> {
    let fits = (room_px / char_px).floor();
    let fits = if fits.is_finite() && fits > 0.0 {
        fits as usize
    } else {
        0
    };
    let length = text.chars().count();
    if length <= fits {
        Some(text.to_string())
    } else if fits >= MIN_SHOWN_CHARS {
        let cut: String = text.chars().take(fits - 1).collect();
        Some(format!("{}…", cut.trim_end()))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene;
    use crate::trace::Trace;

    #[test]
    fn text_is_whole_cut_or_left_out_by_its_room() {
        assert_eq!(
            elide("Queue#1.get", 66.0, 6.0).as_deref(),
            Some("Queue#1.get")
        );
        assert_eq!(
            elide("Queue#1.get", 65.9, 6.0).as_deref(),
            Some("Queue#1.g…")
        );
        assert_eq!(
            elide("sleep until 2.000s", 36.0, 6.0).as_deref(),
            Some("sleep…")
        );
        assert_eq!(elide("Queue#1.get", 24.0, 6.0).as_deref(), Some("Que…"));
        assert_eq!(
            elide("Queue#1.get", 23.9, 6.0),
            None,
            "3 characters say nothing"
        );
        assert_eq!(
            elide("ab", 12.0, 6.0).as_deref(),
            Some("ab"),
            "short and whole is fine"
        );
        assert_eq!(elide("x", -5.0, 6.0), None);
        // The sentence when it fits, then the bare reason, then its start.
        let words = |room| reason_text("Queue#1.get", room);
        assert_eq!(words(120.0).as_deref(), Some("waits on Queue#1.get"));
        assert_eq!(words(119.0).as_deref(), Some("Queue#1.get"));
        assert_eq!(words(60.0).as_deref(), Some("Queue#1.g…"));
    }

    /// A consumer as in `examples/03_queue`: it waits on the queue from
    /// its first poll at 0 s to its poll at 1 s, again until 2 s, and was
    /// cancelled at 2 s while waiting a third time.
    const CONSUMER: &str = r#"[
        {"name":"poll","ph":"X","tid":3,"ts":0,"dur":0},
        {"name":"waits","ph":"i","tid":3,"ts":0,"args":{"on":"Queue#1.get"}},
        {"name":"clock jump","ph":"X","tid":0,"ts":0,"dur":2000000},
        {"name":"wake","ph":"i","tid":3,"ts":1000000,"args":{"origin":"local"}},
        {"name":"poll","ph":"X","tid":3,"ts":1000000,"dur":0},
        {"name":"waits","ph":"i","tid":3,"ts":1000000,"args":{"on":"Queue#1.get"}},
        {"name":"wake","ph":"i","tid":3,"ts":2000000,"args":{"origin":"local"}},
        {"name":"poll","ph":"X","tid":3,"ts":2000000,"dur":0},
        {"name":"waits","ph":"i","tid":3,"ts":2000000,"args":{"on":"Queue#1.get"}},
        {"name":"cancelled","ph":"i","tid":3,"ts":2000000}
    ]"#;

    fn placed(layout: impl Fn(&Trace) -> Layout) -> Vec<Stretch> {
        let trace = Trace::parse(CONSUMER).unwrap();
        let layout = layout(&trace);
        let built = scene::build(&trace, &layout);
        built.rows.into_iter().nth(1).unwrap().stretches
    }

    #[test]
    fn a_stretch_runs_from_one_poll_bar_to_the_next() {
        // 2 s over 100..1100: 500 px a second; polls are 2 px bars.
        let stretches = placed(|_| Layout::time(100.0, 1100.0, 0.0, 2e6));
        assert_eq!(stretches.len(), 2, "the last wait ends where it began");
        assert_eq!((stretches[0].x0, stretches[0].x1), (105.0, 597.0));
        assert_eq!((stretches[1].x0, stretches[1].x1), (605.0, 1097.0));
        assert_eq!(stretches[0].text.as_deref(), Some("waits on Queue#1.get"));
        assert_eq!(
            stretches[0].title,
            "waits on Queue#1.get from 0.000000 s to 1.000000 s"
        );
    }

    #[test]
    fn a_window_cuts_stretches_at_its_edges_and_a_short_one_loses_its_text() {
        let stretches = placed(|_| Layout::time(0.0, 1000.0, 0.5e6, 1.5e6));
        // From the left edge to the poll at 1 s; from that poll to the right
        // edge, since the next poll is after the window.
        assert_eq!((stretches[0].x0, stretches[0].x1), (0.0, 497.0));
        assert_eq!((stretches[1].x0, stretches[1].x1), (505.0, 1000.0));
        assert!(stretches[1].title.ends_with("to 2.000000 s"));

        // 2 s over 70 px: the first stretch runs from 5 to 32 px, which
        // leaves room for 4 characters; over 64 px, for 3: none shown.
        let narrow = placed(|_| Layout::time(0.0, 70.0, 0.0, 2e6));
        assert_eq!(narrow[0].text.as_deref(), Some("Que…"));
        let narrower = placed(|_| Layout::time(0.0, 64.0, 0.0, 2e6));
        assert_eq!(narrower[0].text, None);
        assert!(narrower[0].title.contains("Queue#1.get"));
    }

    #[test]
    fn in_the_step_view_a_stretch_runs_from_the_edge_to_the_poll_and_on() {
        // The instant 1 s: the wake, the poll; the waits is not a column.
        let stretches = placed(|t| Layout::steps(t, 1e6, 0.0, 400.0));
        assert_eq!(stretches.len(), 2, "{stretches:?}");
        assert_eq!(stretches[0].x0, 0.0, "waiting since before the instant");
        assert_eq!(stretches[1].x1, 400.0, "waiting past it");
        assert!(stretches[0].x1 < stretches[1].x0);
    }

    #[test]
    fn a_task_that_never_ends_waits_to_the_edge() {
        let json = r#"[{"name":"poll","ph":"X","tid":1,"ts":0,"dur":0},
            {"name":"waits","ph":"i","tid":1,"ts":0,"args":{"on":"Event#1.wait"}},
            {"name":"clock jump","ph":"X","tid":0,"ts":0,"dur":1000000}]"#;
        let trace = Trace::parse(json).unwrap();
        let layout = Layout::time(0.0, 500.0, 0.0, 1e6);
        let built = scene::build(&trace, &layout);
        let stretch = &built.rows[1].stretches[0];
        assert_eq!(stretch.x1, 500.0);
        assert!(stretch.title.ends_with("to the end of the trace"));
    }
}
