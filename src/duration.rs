//! Durations as people write them on a command line or in the settings
//! file: `250ms`, `90s`, `10m`, `1h`.
//!
//! One spelling everywhere (flags, files, the simulator's scenarios) so an
//! operator never has to wonder whether `--track-for 600` meant seconds or
//! milliseconds. The simulator crate reads them with a copy of [`parse`]
//! (it depends on nothing of ours); a test below keeps the two alike.

use std::time::Duration;

/// Parses `500ms`, `6s`, `1.5s`, `10m`, `1h`, `2d` or `0`.
pub(crate) fn parse(s: &str) -> Result<Duration, String> {
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
pub(crate) fn parse_positive(s: &str) -> Result<Duration, String> {
    let d = parse(s)?;
    if d.is_zero() {
        return Err(format!(
            "`{s}` is zero; give a duration above zero, like 30s"
        ));
    }
    Ok(d)
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
    fn the_simulator_reads_durations_as_we_do() {
        for s in [
            "250ms", "1.5s", "10m", "1h", "2d", "0", "600", "1 parsec", "-1s",
        ] {
            assert_eq!(parse(s), handoff_sim::duration::parse(s), "{s}");
        }
    }
}
