//! The time axis: picking "nice" tick marks, and writing and reading times.
//!
//! A tick step is *nice* when it is 1, 2 or 5 times a power of ten
//! microseconds (…, 0.2 s, 0.5 s, 1 s, 2 s, …): those are the steps a reader
//! can add up in their head, which is why plotting libraries since the 1980s
//! use them (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990).
//! [`nice_step`] picks the smallest such step that keeps the count of ticks
//! at or under a budget.
//!
//! The **unit** of the labels follows the step, so that labels stay short:
//! ticks every 0.5 s read `0 s, 0.5 s, 1 s`, ticks every 20 ms read
//! `20 ms, 40 ms`. A zoomed window far from zero (say one second in, 100 µs
//! wide) would give labels like `1000100 µs`; past [`MAX_LABEL`] units we
//! move to a larger unit with more decimals instead: `1000.1 ms`.
//!
//! All times are `f64` microseconds, the trace's own unit.

/// A unit for printing times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Microseconds, the trace's unit.
    Micros,
    /// Milliseconds.
    Millis,
    /// Seconds.
    Seconds,
}

impl Unit {
    /// How many µs one of this unit is.
    pub fn micros(self) -> f64 {
        match self {
            Unit::Micros => 1.0,
            Unit::Millis => 1e3,
            Unit::Seconds => 1e6,
        }
    }

    /// The symbol written after a number.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Micros => "µs",
            Unit::Millis => "ms",
            Unit::Seconds => "s",
        }
    }

    fn larger(self) -> Option<Unit> {
        match self {
            Unit::Micros => Some(Unit::Millis),
            Unit::Millis => Some(Unit::Seconds),
            Unit::Seconds => None,
        }
    }
}

/// Labels longer than this many units move to the next larger unit: five
/// digits before the point is about as long as a label can get before it
/// collides with its neighbours at ~100 px between ticks.
pub const MAX_LABEL: f64 = 10_000.0;

/// One tick of the axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    /// Where, in µs.
    pub at_us: f64,
    /// What to print under it, unit included.
    pub label: String,
}

/// The smallest nice step (1, 2 or 5 × 10ⁿ µs) that covers `span_us` in at
/// most `max_ticks` steps. Spans that are zero or not finite get 1 µs.
///
/// # Examples
///
/// ```
/// use spindle_trace::axis::nice_step;
/// assert_eq!(nice_step(5_000_000.0, 10), 500_000.0); // 5 s in 0.5 s steps
/// assert_eq!(nice_step(1_000.0, 8), 200.0); // 1 ms in 0.2 ms steps
/// ```
pub fn nice_step(span_us: f64, max_ticks: usize) -> f64 {
    let raw = span_us / max_ticks.max(1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    // Compare with a little slack: `raw / power` of an exact 2 or 5 can come
    // out as 2.0000000000000004 and must not be bumped to the next step.
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|step| *step >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * power)
}

/// The unit and decimals to print ticks `step_us` apart, up to `max_us`.
fn label_format(step_us: f64, max_us: f64) -> (Unit, usize) {
    // The largest unit in which the step is at least 0.1: `0.5 s`, not `500 ms`.
    let mut unit = [Unit::Seconds, Unit::Millis]
        .into_iter()
        .find(|u| step_us >= 0.1 * u.micros() * (1.0 - 1e-9))
        .unwrap_or(Unit::Micros);
    while max_us.abs() / unit.micros() >= MAX_LABEL {
        match unit.larger() {
            Some(larger) => unit = larger,
            None => break,
        }
    }
    (unit, decimals(step_us / unit.micros()))
}

/// How many decimals show a multiple of `step` exactly (steps are nice, so
/// this is the position of the step's leading digit after the point).
fn decimals(step: f64) -> usize {
    let places = (-step.log10() - 1e-9).ceil();
    if places.is_finite() && places > 0.0 {
        places as usize
    } else {
        0
    }
}

/// Ticks at every multiple of a nice step within `[start_us, end_us]`, at
/// most about `max_ticks` of them, labelled in a unit that suits the step.
///
/// # Examples
///
/// ```
/// use spindle_trace::axis::ticks;
/// let labels: Vec<String> = ticks(0.0, 2_000_000.0, 4).into_iter().map(|t| t.label).collect();
/// assert_eq!(labels, ["0.0 s", "0.5 s", "1.0 s", "1.5 s", "2.0 s"]);
/// ```
pub fn ticks(start_us: f64, end_us: f64, max_ticks: usize) -> Vec<Tick> {
    let step = nice_step(end_us - start_us, max_ticks);
    let (unit, places) = label_format(step, start_us.abs().max(end_us.abs()));
    // Index the ticks rather than adding `step` repeatedly, so float error
    // does not build up into labels like 1.4999999.
    let first = (start_us / step - 1e-9).ceil() as i64;
    let last = (end_us / step + 1e-9).floor() as i64;
    (first..=last)
        .map(|i| {
            let at_us = i as f64 * step;
            Tick {
                at_us,
                label: format_in(at_us, unit, places),
            }
        })
        .collect()
}

fn format_in(us: f64, unit: Unit, places: usize) -> String {
    // Adding 0.0 turns -0.0 into 0.0, so a rounded tiny negative prints "0".
    let value = us / unit.micros() + 0.0;
    format!("{value:.places$} {}", unit.symbol())
}

/// A duration for people: three significant digits in the unit that suits
/// it, like `5.00 s`, `12.5 ms`, `850 µs`, `0.12 µs`.
///
/// # Examples
///
/// ```
/// use spindle_trace::axis::format_duration;
/// assert_eq!(format_duration(5_001_777.0), "5.00 s");
/// assert_eq!(format_duration(12_478.0), "12.5 ms");
/// assert_eq!(format_duration(8.212), "8.21 µs");
/// ```
pub fn format_duration(us: f64) -> String {
    let unit = if us.abs() >= 1e6 {
        Unit::Seconds
    } else if us.abs() >= 1e3 {
        Unit::Millis
    } else {
        Unit::Micros
    };
    let value = us / unit.micros();
    let places = if value.abs() >= 100.0 {
        0
    } else if value.abs() >= 10.0 {
        1
    } else {
        2
    };
    format_in(us, unit, places)
}

/// A point in time with µs precision in seconds, for tooltips where the
/// reader wants the exact value: `1.000147 s`.
pub fn format_instant(us: f64) -> String {
    format_in(us, Unit::Seconds, 6)
}

/// Reads a time written with its unit: `1.5s`, `250ms`, `40us` or `40µs`
/// (spaces allowed before the unit). Returns µs.
///
/// # Errors
///
/// A message if the number or the unit is missing or not understood.
///
/// # Examples
///
/// ```
/// use spindle_trace::axis::parse_time;
/// assert_eq!(parse_time("1.5s"), Ok(1_500_000.0));
/// assert_eq!(parse_time("250 ms"), Ok(250_000.0));
/// assert!(parse_time("250").is_err());
/// ```
pub fn parse_time(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit = match unit.trim() {
        "s" => Unit::Seconds,
        "ms" => Unit::Millis,
        "us" | "µs" => Unit::Micros,
        "" => return Err(format!("`{text}` needs a unit: s, ms or us")),
        other => return Err(format!("`{other}` is not a unit (use s, ms or us)")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` does not start with a number"))?;
    Ok(value * unit.micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps_are_one_two_five() {
        assert_eq!(nice_step(10.0, 10), 1.0);
        assert_eq!(nice_step(11.0, 10), 2.0);
        assert_eq!(nice_step(20.0, 10), 2.0);
        assert_eq!(nice_step(21.0, 10), 5.0);
        assert_eq!(nice_step(51.0, 10), 10.0);
        assert_eq!(nice_step(0.0, 10), 1.0);
        assert_eq!(nice_step(f64::NAN, 10), 1.0);
        assert_eq!(nice_step(3.0, 0), 5.0, "a zero budget counts as one tick");
    }

    #[test]
    fn ticks_stay_within_the_budget_and_the_range() {
        for span in [1.0, 7.0, 999.0, 1234.5, 60e6, 5_001_777.0] {
            let ticks = ticks(0.0, span, 10);
            assert!(ticks.len() <= 11, "{span}: {} ticks", ticks.len());
            assert!(ticks.len() >= 2, "{span}: {} ticks", ticks.len());
            assert!(ticks.iter().all(|t| t.at_us >= 0.0 && t.at_us <= span));
        }
    }

    #[test]
    fn labels_pick_the_unit_of_the_step() {
        let labels = |from: f64, to: f64, n| -> Vec<String> {
            ticks(from, to, n).into_iter().map(|t| t.label).collect()
        };
        assert_eq!(
            labels(0.0, 5e6, 5),
            ["0 s", "1 s", "2 s", "3 s", "4 s", "5 s"]
        );
        assert_eq!(
            labels(0.0, 100e3, 5),
            ["0 ms", "20 ms", "40 ms", "60 ms", "80 ms", "100 ms"]
        );
        assert_eq!(
            labels(0.0, 40e3, 4),
            ["0 ms", "10 ms", "20 ms", "30 ms", "40 ms"]
        );
        assert_eq!(
            labels(0.0, 40.0, 4),
            ["0 µs", "10 µs", "20 µs", "30 µs", "40 µs"]
        );
        // Zoomed one second in: milliseconds with a decimal, not µs.
        assert_eq!(
            labels(1_000_100.0, 1_000_300.0, 2),
            ["1000.1 ms", "1000.2 ms", "1000.3 ms"]
        );
    }

    #[test]
    fn durations_have_three_significant_digits() {
        assert_eq!(format_duration(0.0), "0.00 µs");
        assert_eq!(format_duration(999.0), "999 µs");
        assert_eq!(format_duration(1_000.0), "1.00 ms");
        assert_eq!(format_duration(960_851.8), "961 ms");
        assert_eq!(format_duration(61e6), "61.0 s");
        assert_eq!(format_instant(1_000_147.305), "1.000147 s");
    }

    #[test]
    fn times_parse_with_their_unit() {
        assert_eq!(parse_time("2s"), Ok(2e6));
        assert_eq!(parse_time(" 0.5 ms "), Ok(500.0));
        assert_eq!(parse_time("40us"), Ok(40.0));
        assert_eq!(parse_time("40µs"), Ok(40.0));
        assert!(parse_time("").is_err());
        assert!(parse_time("1h").unwrap_err().contains("not a unit"));
        assert!(parse_time("..s").unwrap_err().contains("number"));
    }
}
