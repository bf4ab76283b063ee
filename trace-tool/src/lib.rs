//! `spindle-trace` draws what spindle's scheduler did as a picture.
//!
//! Run a spindle program with `SPINDLE_TRACE=trace.json` and the runtime
//! writes every poll, wake, spawn, timer and reactor wait to that file
//! (`runtime/src/trace.rs`). Perfetto can open it, but a workshop wants a
//! picture on a slide: this crate turns the file into an SVG timeline with
//! one row per lane (the loop, `main`, then each task), so a reader sees at a
//! glance which task ran when, what it waited on while it did not run, and
//! who woke it.
//!
//! ```text
//! SPINDLE_TRACE=traces/q.json cargo run --release --example 03_queue
//! cargo run --release -p spindle-trace -- traces/q.json traces/q.svg
//! ```
//!
//! The crate is a few steps, one file each:
//!
//! 1. [`trace`] parses the JSON into a small model: lanes, spans, marks,
//!    and what each task waited on; [`flows`] pairs the flow events into
//!    who-woke-whom.
//! 2. [`axis`] picks tick marks and writes times for people.
//! 3. `layout.rs` decides where across the plot a time goes: on a time
//!    axis, or, for one instant of a virtual-time trace, in the order the
//!    events were recorded.
//! 4. `scene.rs` places everything the picture shows, so that nothing
//!    hides anything else: polls closer than a pixel merged, marks at one
//!    pixel side by side, the wait reason along each idle stretch
//!    (`reasons.rs`), an arrow from each waker to the poll it caused
//!    (`arrows.rs`).
//! 5. [`svg`] stacks the rows and writes SVG text, drawing each thing the
//!    way `marks.rs` says (colours, shapes), with a legend of what is
//!    there (`legend.rs`).
//!
//! `main.rs` is only the command line around [`render_json`].
//!
//! The same input always gives the same picture, byte for byte. For a
//! virtual-time trace that holds across runs of the program too, because the
//! parser leaves out the real time polls took (see [`trace`]); that is what
//! lets `scripts/docs-pictures.sh --check` keep `docs/*.svg` up to date.

mod arrows;
pub mod axis;
pub mod flows;
mod layout;
mod legend;
mod marks;
mod reasons;
mod scene;
pub mod svg;
pub mod trace;

pub use svg::{render, Options, View};
pub use trace::{Clock, ParseError, Trace};

/// Parses a trace file's text and renders it: the whole tool in one call.
///
/// # Errors
///
/// The [`ParseError`] of [`Trace::parse`] if `json` is not a trace.
///
/// # Examples
///
/// ```
/// let svg = spindle_trace::render_json("[]", &spindle_trace::Options::default()).unwrap();
/// assert!(svg.starts_with("<svg"));
/// assert!(spindle_trace::render_json("{", &Default::default()).is_err());
/// ```
pub fn render_json(json: &str, options: &Options) -> Result<String, ParseError> {
    Ok(render(&Trace::parse(json)?, options))
}
