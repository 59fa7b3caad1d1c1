//! Durations as people write them on a command line or in a scenario file:
//! `250ms`, `90s`, `10m`, `1h`, and ranges `200ms..1s` for latency draws.
//!
//! One spelling everywhere (flags, files, reports) so an operator never has
//! to wonder whether `--track-for 600` meant seconds or milliseconds.

use std::fmt;
use std::time::Duration;

/// Parses `500ms`, `6s`, `1.5s`, `10m`, `1h`, `2d` or `0`.
pub fn parse(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{s}` has no unit; write it like 500ms, 90s, 10m or 1h"))?;
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` does not start with a number; write it like 90s"))?;
    let secs = match unit.trim() {
        "ms" => value / 1000.0,
        "s" | "sec" | "secs" => value,
        "m" | "min" | "mins" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86_400.0,
        other => {
            return Err(format!(
                "`{s}` has an unknown unit `{other}`; use ms, s, m, h or d"
            ));
        }
    };
    if !secs.is_finite() || !(0.0..=1.0e9).contains(&secs) {
        return Err(format!("`{s}` is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// [`parse`], refusing zero: for a wait that must be one (a request
/// timeout of `0s` would fail every request, and be blamed on the API).
pub fn parse_positive(s: &str) -> Result<Duration, String> {
    let d = parse(s)?;
    if d.is_zero() {
        return Err(format!(
            "`{s}` is zero; give a duration above zero, like 30s"
        ));
    }
    Ok(d)
}

/// Writes a duration the way [`parse`] reads it, choosing the largest unit
/// that keeps it exact (`90s`, `10m`, `1h`, `250ms`).
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) && ms >= 600_000 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// A closed range of durations from which latencies are drawn uniformly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub min: Duration,
    pub max: Duration,
}

impl Span {
    pub const ZERO: Span = Span {
        min: Duration::ZERO,
        max: Duration::ZERO,
    };

    pub fn fixed(d: Duration) -> Span {
        Span { min: d, max: d }
    }

    /// Parses `1s` (fixed) or `200ms..1s` (uniform).
    pub fn parse(s: &str) -> Result<Span, String> {
        match s.split_once("..") {
            Some((a, b)) => {
                let (min, max) = (parse(a)?, parse(b)?);
                if min > max {
                    return Err(format!("`{s}`: the lower bound is above the upper one"));
                }
                Ok(Span { min, max })
            }
            None => parse(s).map(Span::fixed),
        }
    }

    /// Picks a point in the range; `unit` is a uniform draw in [0, 1).
    pub fn pick(&self, unit: f64) -> Duration {
        self.min + (self.max - self.min).mul_f64(unit.clamp(0.0, 1.0))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            f.write_str(&format(self.min))
        } else {
            write!(f, "{}..{}", format(self.min), format(self.max))
        }
    }
}

impl<'de> serde::Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Span::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// serde adapter for a plain `Duration` field written as `6s`.
pub mod serde_text {
    use std::time::Duration;

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        super::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_units_we_document() {
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse("0").unwrap(), Duration::ZERO);
        assert!(parse("600").unwrap_err().contains("no unit"));
        assert!(parse("5 parsecs").unwrap_err().contains("unknown unit"));
        assert!(parse("-1s").is_err());
    }

    #[test]
    fn a_wait_that_must_be_one_refuses_zero() {
        for zero in ["0", "0s", "0ms", "0.0h"] {
            assert!(parse_positive(zero).unwrap_err().contains("zero"), "{zero}");
        }
        assert_eq!(parse_positive("1ms").unwrap(), Duration::from_millis(1));
    }

    #[test]
    fn formats_back_to_what_parse_reads() {
        for s in ["90s", "10m", "1h", "250ms", "6s", "0s"] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
    }

    #[test]
    fn spans_parse_and_pick_inside() {
        let span = Span::parse("200ms..1s").unwrap();
        assert_eq!(span.pick(0.0), Duration::from_millis(200));
        assert_eq!(span.pick(1.0), Duration::from_secs(1));
        assert_eq!(span.pick(0.5), Duration::from_millis(600));
        assert_eq!(
            Span::parse("2s").unwrap(),
            Span::fixed(Duration::from_secs(2))
        );
        assert!(Span::parse("2s..1s").is_err());
        assert_eq!(span.to_string(), "200ms..1s");
    }
}
