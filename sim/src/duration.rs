//! Durations as a scenario file and the simulator's flags write them:
//! `250ms`, `90s`, `10m`, `1h`, and ranges `200ms..1s` for latency draws.
//!
//! The same spelling as `handoff`'s own flags; `parse` is the product's,
//! copied, so that this crate depends on nothing of the product's (the
//! product's tests check that the two read alike).

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
