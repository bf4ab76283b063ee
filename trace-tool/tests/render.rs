//! The whole tool, from trace text to SVG text, on a hand-written trace and on
//! real traces of `examples/03_queue` kept in `tests/fixtures/`.
//!
//! The fixtures were written by the runtime itself (see
//! `tests/fixtures/README.md` for the commands), so these tests also notice
//! when the runtime's trace format drifts away from what the tool reads.
//! Checking them in, rather than running the example from the test, keeps
//! the test fast and free of a nested `cargo` build.

use spindle_trace::trace::{MarkKind, SpanKind, WakeOrigin, LOOP_LANE};
use spindle_trace::{render, render_json, Clock, Options, Trace, View};

const VIRTUAL: &str = include_str!("fixtures/03_queue_virtual.json");
const REAL: &str = include_str!("fixtures/03_queue_real.json");

/// A loop, main and one task, in spindle's shape and (out of) order.
const SMALL: &str = r#"{"displayTimeUnit":"ms","traceEvents":[
{"name":"thread_name","ph":"M","pid":1,"tid":0,"args":{"name":"loop"}},
{"name":"thread_name","ph":"M","pid":1,"tid":1,"args":{"name":"main (task 0)"}},
{"name":"thread_name","ph":"M","pid":1,"tid":2,"args":{"name":"task 1"}},
{"name":"spawn","pid":1,"tid":2,"ts":2.0,"ph":"i","s":"t","args":{}},
{"name":"wake","pid":1,"tid":2,"ts":2.5,"ph":"i","s":"t","args":{"origin":"local"}},
{"name":"poll","pid":1,"tid":1,"ts":1.0,"ph":"X","dur":4.0,"args":{}},
{"name":"reactor wait","pid":1,"tid":0,"ts":6.0,"ph":"X","dur":2000000.0,"args":{"events":0}},
{"name":"timer fired","pid":1,"tid":0,"ts":2000010.0,"ph":"i","s":"t","args":{"late_us":4.0}},
{"name":"wake","pid":1,"tid":2,"ts":2000011.0,"ph":"i","s":"t","args":{"origin":"timer"}},
{"name":"poll","pid":1,"tid":2,"ts":2000012.0,"ph":"X","dur":3.0,"args":{}},
{"name":"finished","pid":1,"tid":2,"ts":2000015.0,"ph":"i","s":"t","args":{}}
]}"#;

fn count(svg: &str, needle: &str) -> usize {
    svg.matches(needle).count()
}

#[test]
fn a_small_trace_parses_into_lanes_spans_and_marks() {
    let trace = Trace::parse(SMALL).unwrap();
    let names: Vec<&str> = trace.lanes.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["loop", "main (task 0)", "task 1"]);

    let looped = trace.lane(LOOP_LANE).unwrap();
    assert_eq!(looped.spans.len(), 1);
    assert_eq!(looped.spans[0].kind, SpanKind::ReactorWait);
    assert_eq!(looped.marks[0].kind, MarkKind::TimerFired);

    let task = trace.lane(2).unwrap();
    assert_eq!(task.spans.len(), 1);
    assert_eq!(task.spans[0].start_us, 2_000_012.0);
    let kinds: Vec<MarkKind> = task.marks.iter().map(|m| m.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            MarkKind::Spawn,
            MarkKind::Wake(WakeOrigin::Local),
            MarkKind::Wake(WakeOrigin::Timer),
            MarkKind::Finished
        ]
    );
    assert_eq!(trace.polls(), 2);
    assert_eq!(trace.end_us(), 2_000_015.0);
}

#[test]
fn rendering_draws_a_row_per_lane_a_rect_per_poll_and_an_axis() {
    let options = Options {
        title: "small.json".to_string(),
        ..Options::default()
    };
    let svg = render_json(SMALL, &options).unwrap();

    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(count(&svg, r#"<g class="lane""#), 3);
    for name in ["loop", "main (task 0)", "task 1"] {
        assert!(
            svg.contains(&format!(">{name}<title>")),
            "no row named {name}"
        );
    }
    assert_eq!(count(&svg, r#"<rect class="poll""#), 2);
    assert_eq!(count(&svg, r#"<rect class="wait""#), 1);
    assert_eq!(count(&svg, r#"<polygon class="wake wake-local""#), 1);
    assert_eq!(count(&svg, r#"<polygon class="wake wake-timer""#), 1);
    // Two seconds with room for a dozen ticks: a tick every 0.2 s.
    for label in [">0.0 s<", ">0.2 s<", ">1.0 s<", ">2.0 s<"] {
        assert!(svg.contains(label), "no axis label {label}");
    }
    assert!(
        svg.contains("small.json — 2.00 s"),
        "the title names file and length"
    );
    // The legend lists what the picture draws, and only that.
    for legend in [
        "poll",
        "reactor wait",
        "wake: local",
        "wake: timer",
        "spawn",
    ] {
        assert!(
            svg.contains(&format!(">{legend}<")),
            "no legend entry {legend}"
        );
    }
    for absent in ["wake: remote", "wake: io", "clock jump", "cancelled"] {
        assert!(
            !svg.contains(&format!(">{absent}")),
            "a legend entry for {absent}"
        );
    }
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let options = Options::default();
    for json in [
        "",
        "not json",
        "{\"traceEvents\":[",
        "{\"traceEvents\":{}}",
        "[{\"name\":\"poll\",\"ph\":\"X\",\"tid\":1,\"ts\":1}]",
        "[{\"name\":\"poll\",\"ph\":\"X\",\"tid\":\"one\",\"ts\":1,\"dur\":1}]",
        // The real trace cut off halfway, as a crash mid-write would leave it.
        &VIRTUAL[..VIRTUAL.len() / 2],
    ] {
        assert!(
            render_json(json, &options).is_err(),
            "{json:?} was accepted"
        );
    }
}

/// `SPINDLE_TRACE=... SPINDLE_CLOCK=virtual cargo run --example 03_queue`.
#[test]
fn the_queue_example_under_virtual_time_has_loop_main_producer_and_consumer() {
    let trace = Trace::parse(VIRTUAL).unwrap();
    let names: Vec<&str> = trace.lanes.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert_eq!(names[0], "loop");
    assert!(names[1].starts_with("main"), "{names:?}");
    assert_eq!(names[2..], ["producer (task 1)", "consumer (task 2)"]);

    // Five sleeps of 1 s: the clock jumps, so the program lasts 5 s exactly
    // (the real time the last polls took is not on the virtual clock).
    assert_eq!(trace.clock, Clock::Virtual);
    assert_eq!(trace.end_us(), 5e6);
    let fired = trace.lane(LOOP_LANE).unwrap().marks.iter();
    assert_eq!(fired.filter(|m| m.kind == MarkKind::TimerFired).count(), 5);

    let svg = render(&trace, &Options::default());
    assert_eq!(count(&svg, r#"<g class="lane""#), 4);
    assert_eq!(count(&svg, r#"<rect class="poll""#), trace.polls());
}

/// The same hand-off under virtual time, where it all happens at 1 s: the
/// instant view puts the consumer's wake before the producer's poll (which
/// is recorded when it returns) and the consumer's poll after it.
#[test]
fn the_queue_example_at_one_virtual_second_shows_the_hand_off_in_order() {
    let trace = Trace::parse(VIRTUAL).unwrap();
    let options = Options {
        view: View::Instant(1e6),
        ..Options::default()
    };
    let svg = render(&trace, &options);
    // Column by column: the jump reaching 1 s, timer fired, producer woken
    // by it, consumer woken by the producer, the producer's poll, the
    // consumer's poll, the jump away from 1 s.
    let order: Vec<&str> = [
        r#"<rect class="jump""#,
        r#"<polygon class="timer-fired""#,
        r#"<polygon class="wake wake-timer""#,
        r#"<polygon class="wake wake-local""#,
        r#"<rect class="poll""#,
    ]
    .into_iter()
    .collect();
    for class in &order {
        assert!(svg.contains(class), "no {class}");
    }
    let x_of = |needle: &str, nth: usize| -> f64 {
        let at = svg.match_indices(needle).nth(nth).unwrap().0;
        let rest = &svg[at..];
        let x = rest
            .split(['"', ' ', ','])
            .skip_while(|part| !part.ends_with("x=") && !part.ends_with("points="))
            .nth(1)
            .unwrap();
        x.parse().unwrap()
    };
    let fired = x_of(r#"<polygon class="timer-fired""#, 0);
    let producer_woken = x_of(r#"<polygon class="wake wake-timer""#, 0);
    let consumer_woken = x_of(r#"<polygon class="wake wake-local""#, 0);
    let producer_polled = x_of(r#"<rect class="poll""#, 0);
    let consumer_polled = x_of(r#"<rect class="poll""#, 1);
    let xs = [
        fired,
        producer_woken,
        consumer_woken,
        producer_polled,
        consumer_polled,
    ];
    assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
}

/// The hand-off the picture is for: each second the timer wakes the
/// producer, the producer's `put` wakes the consumer *during its poll*, and
/// the consumer's poll follows.
#[test]
fn the_queue_example_in_real_time_shows_five_hand_offs() {
    let trace = Trace::parse(REAL).unwrap();
    let producer = trace.lane(2).unwrap();
    let consumer = trace.lane(3).unwrap();
    let mut hand_offs = 0;
    for poll in producer.spans.iter().filter(|s| s.kind == SpanKind::Poll) {
        let woke_consumer = consumer.marks.iter().any(|m| {
            m.kind == MarkKind::Wake(WakeOrigin::Local)
                && (poll.start_us..=poll.end_us()).contains(&m.at_us)
        });
        let consumer_ran_next = consumer
            .spans
            .iter()
            .any(|s| s.start_us >= poll.end_us() && s.start_us < poll.end_us() + 1_000.0);
        if woke_consumer && consumer_ran_next && poll.start_us > 900_000.0 {
            hand_offs += 1;
        }
    }
    assert_eq!(hand_offs, 5);

    let svg = render(&trace, &Options::default());
    assert_eq!(count(&svg, r#"<g class="lane""#), 4);
    assert!(
        count(&svg, r#"<rect class="wait""#) >= 5,
        "the loop sleeps between"
    );
    // Real time: no clock jumps, so no legend entry for them.
    assert!(svg.contains(">reactor wait<"));
    assert!(!svg.contains(">clock jump"));
    assert_eq!(count(&svg, r#"class="arrow arrow-timer from-loop""#), 5);
}

/// What `docs/03_queue.svg` must say without a caption: after each poll
/// the consumer *waits on Queue#1.get*, and what ends each wait is an
/// arrow from the producer (its `put`) to the consumer's next poll; the
/// producer's own waits end with an arrow from a timer's diamond.
#[test]
fn the_queue_picture_says_what_the_consumer_waits_on_and_who_woke_it() {
    let svg = render(&Trace::parse(VIRTUAL).unwrap(), &Options::default());
    // One consumer row with five stretches 0–1 s, ..., 4–5 s (at 5 s it
    // waits again, and is cancelled at once: no room, nothing drawn).
    assert_eq!(count(&svg, ">waits on Queue#1.get<"), 5, "{svg}");
    for second in 1..=5 {
        let put = format!(
            "<title>consumer (task 2) woken by producer (task 1) at {second}.000000 s; \
             its next poll at {second}.000000 s</title>"
        );
        assert_eq!(count(&svg, &put), 1, "no arrow for the put at {second} s");
        let timer = format!("<title>producer (task 1) woken by a timer at {second}.000000 s");
        assert_eq!(
            count(&svg, &timer),
            1,
            "no arrow for the timer at {second} s"
        );
        let sleep = format!(">waits on sleep until {second}.000s<");
        assert_eq!(count(&svg, &sleep), 1, "{sleep}");
    }
    // Task arrows are solid and green, timer arrows dashed and orange.
    assert_eq!(count(&svg, r#"class="arrow arrow-local""#), 6);
    assert_eq!(count(&svg, r#"class="arrow arrow-timer from-loop""#), 5);
    assert!(svg.contains(">waits on task 1 (producer)<"));
    assert!(svg.contains("main (task 0) woken by producer (task 1) at 5.000000 s"));
    // The tooltips carry the full story.
    assert!(svg.contains("<title>waits on Queue#1.get from 1.000000 s to 2.000000 s</title>"));
    assert!(svg.contains("spawn at 0.000000 s, by main (task 0), examples/03_queue.rs:"));
    assert!(svg.contains(">woken by a task, to its next poll<"));
    assert!(svg.contains(">woken by the loop (timer)<"));
}

/// The binary on bad input: a message, the usage line, exit code 2, and no
/// panic (a panic would exit with 101 and print "panicked").
#[test]
fn the_command_reports_bad_input_with_exit_code_2() {
    let dir = std::env::temp_dir().join(format!("spindle-trace-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.json");
    std::fs::write(&broken, &VIRTUAL[..100]).unwrap();
    let good = dir.join("good.json");
    std::fs::write(&good, VIRTUAL).unwrap();
    let real = dir.join("real.json");
    std::fs::write(&real, REAL).unwrap();
    let svg = dir.join("out.svg");
    let (broken, good, real, svg) = (
        broken.to_str().unwrap(),
        good.to_str().unwrap(),
        real.to_str().unwrap(),
        svg.to_str().unwrap(),
    );

    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_spindle-trace"))
            .args(args)
            .output()
            .unwrap()
    };
    for args in [
        &[][..],
        &[good],
        &[broken, svg],
        &["/no/such/trace.json", svg],
        &[good, svg, "--from", "3"],
        &[good, svg, "--width"],
        &[good, svg, "--frobnicate"],
        &[good, svg, "--at", "1s", "--from", "0s"],
        &[real, svg, "--at", "1s"],
    ] {
        let output = run(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("usage: spindle-trace"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }

    let output = run(&[good, svg, "--from", "0.5s"]);
    assert!(output.status.success(), "{output:?}");
    let written = std::fs::read_to_string(svg).unwrap();
    assert_eq!(count(&written, r#"<g class="lane""#), 4);
    let output = run(&[good, svg, "--at", "1s"]);
    assert!(output.status.success(), "{output:?}");
    let written = std::fs::read_to_string(svg).unwrap();
    assert!(written.contains("the instant 1.000000 s"), "{written}");
    std::fs::remove_dir_all(&dir).unwrap();
}
