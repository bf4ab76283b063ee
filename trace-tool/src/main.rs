//! The `spindle-trace` command: read a spindle trace, write an SVG timeline.
//!
//! ```text
//! SPINDLE_TRACE=traces/q.json SPINDLE_CLOCK=virtual cargo run --release --example 03_queue
//! cargo run --release -p spindle-trace -- traces/q.json traces/q.svg
//! cargo run --release -p spindle-trace -- traces/q.json traces/zoom.svg --from 999.9ms --to 1000.4ms
//! cargo run --release -p spindle-trace -- traces/q.json traces/one-turn.svg --at 1s
//! ```
//!
//! A command-line tool meets bad input as a matter of course: a missing
//! file, a trace cut short by a crash, a typo in an option. Each of those is
//! a one-line message on stderr, the usage line, and exit code 2 (the usual
//! code for "you called me wrong"), never a panic with a backtrace.

use std::path::Path;
use std::process::ExitCode;

use spindle_trace::axis::{format_duration, parse_time};
use spindle_trace::{render, Clock, Options, Trace, View};

const USAGE: &str = "usage: spindle-trace <trace.json> <timeline.svg> \
     [--from TIME] [--to TIME] [--at TIME] [--width PX]";

const HELP: &str = "\
Draws a spindle trace (written with SPINDLE_TRACE=trace.json) as an SVG timeline:
one row per lane (loop, main, tasks), bars for polls and reactor waits, marks
for wakes, spawns, ends of tasks, timers and primitives' notes, what each idle
task waits on, an arrow from each waker to the poll it caused, and a time axis.

options:
  --from TIME   start the picture at TIME (like 1s, 999.9ms, 250us)
  --to TIME     end the picture at TIME
  --at TIME     virtual time: draw the events of the instant TIME, one column
                each, in the order they were recorded
  --width PX    width of the picture in pixels (default 1200)
  -h, --help    show this help";

/// What the command line asked for.
struct Args {
    input: String,
    output: String,
    from_us: Option<f64>,
    to_us: Option<f64>,
    at_us: Option<f64>,
    width: f64,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}\n\n{HELP}");
        return ExitCode::SUCCESS;
    }
    match parse_args(&args).and_then(|args| run(&args)) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("spindle-trace: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut paths = Vec::new();
    let mut from_us = None;
    let mut to_us = None;
    let mut at_us = None;
    let mut width = Options::default().width;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        // Options take their value as the next argument.
        let mut value = || {
            rest.next()
                .ok_or_else(|| format!("{arg} needs a value"))
                .map(String::as_str)
        };
        match arg.as_str() {
            "--from" => from_us = Some(parse_time(value()?)?),
            "--to" => to_us = Some(parse_time(value()?)?),
            "--at" => at_us = Some(parse_time(value()?)?),
            "--width" => {
                let text = value()?;
                width = text
                    .parse::<f64>()
                    .ok()
                    .filter(|w| w.is_finite() && (300.0..=100_000.0).contains(w))
                    .ok_or_else(|| format!("--width {text}: expected pixels, 300 to 100000"))?;
            }
            option if option.starts_with("--") => return Err(format!("unknown option {option}")),
            path => paths.push(path.to_string()),
        }
    }
    let [input, output]: [String; 2] = paths.try_into().map_err(|paths: Vec<String>| {
        format!(
            "expected 2 paths (the trace, the SVG to write), got {}",
            paths.len()
        )
    })?;
    Ok(Args {
        input,
        output,
        from_us,
        to_us,
        at_us,
        width,
    })
}

/// Does the work; returns a one-line summary for stdout.
fn run(args: &Args) -> Result<String, String> {
    let json = std::fs::read_to_string(&args.input)
        .map_err(|e| format!("cannot read {}: {e}", args.input))?;
    let trace = Trace::parse(&json).map_err(|e| format!("{}: {e}", args.input))?;

    let view = match (args.at_us, args.from_us, args.to_us) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err("--at draws one instant: it does not go with --from or --to".to_string())
        }
        (Some(_), None, None) if trace.clock == Clock::Real => {
            return Err(format!(
                "--at needs a virtual-time trace (SPINDLE_CLOCK=virtual), and {} is in \
                 real time: zoom in with --from and --to instead",
                args.input
            ))
        }
        (Some(at), None, None) => View::Instant(at),
        (None, None, None) => View::Whole,
        // A window open at one end runs to that end of the trace.
        (None, from, to) => {
            let from = from.unwrap_or_else(|| trace.start_us());
            let to = to.unwrap_or_else(|| trace.end_us());
            if to <= from {
                return Err(match args.to_us {
                    Some(_) => "--to must be later than --from".to_string(),
                    None => format!(
                        "--from is at or after the end of the trace ({})",
                        format_duration(trace.end_us())
                    ),
                });
            }
            View::Window(from, to)
        }
    };
    // The title is the file name only: a full path would crowd it.
    let title = Path::new(&args.input)
        .file_name()
        .map_or(args.input.clone(), |name| {
            name.to_string_lossy().into_owned()
        });
    let options = Options {
        title,
        width: args.width,
        view,
    };
    std::fs::write(&args.output, render(&trace, &options))
        .map_err(|e| format!("cannot write {}: {e}", args.output))?;
    Ok(format!(
        "wrote {} ({} lanes, {} polls)",
        args.output,
        trace.lanes.len(),
        trace.polls()
    ))
}
