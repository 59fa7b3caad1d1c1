//! The sending window of an unattended run (`--not-before`, `--not-after`,
//! `--timezone`): partners are not woken at 4 a.m. because last night's job
//! started late.

use std::time::Duration;

use chrono::{DateTime, Local, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub not_before: NaiveTime,
    pub not_after: NaiveTime,
    pub tz: Option<Tz>,
}

impl Window {
    fn clock(&self, now: DateTime<Utc>) -> NaiveTime {
        match self.tz {
            Some(tz) => now.with_timezone(&tz).time(),
            None => now.with_timezone(&Local).time(),
        }
    }

    /// `06:00–22:00 Europe/Berlin`.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{}–{} {}",
            self.not_before.format("%H:%M"),
            self.not_after.format("%H:%M"),
            self.tz
                .map_or_else(|| "local time".to_string(), |t| t.name().to_string())
        )
    }

    /// Whether sending is allowed at `now`. A window may cross midnight
    /// (`20:00–02:00`).
    pub(crate) fn is_open(&self, now: DateTime<Utc>) -> bool {
        let t = self.clock(now);
        if self.not_before <= self.not_after {
            self.not_before <= t && t < self.not_after
        } else {
            t >= self.not_before || t < self.not_after
        }
    }

    /// How long until the window closes, seen from `now` (inside it). A
    /// daylight-saving change that night can shift this by its hour.
    pub(crate) fn closes_in(&self, now: DateTime<Utc>) -> Duration {
        let t = self.clock(now);
        let secs = |x: NaiveTime| i64::from(x.num_seconds_from_midnight());
        let mut left = secs(self.not_after) - secs(t);
        if left <= 0 {
            left += 86_400;
        }
        Duration::from_secs(left as u64)
            .saturating_sub(Duration::from_nanos(u64::from(t.nanosecond())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        // Europe/Berlin is UTC+1 in November.
        chrono::NaiveDate::from_ymd_opt(2026, 11, 25)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
            .and_utc()
            - chrono::Duration::hours(1)
    }

    fn w(from: &str, to: &str) -> Window {
        Window {
            not_before: NaiveTime::parse_from_str(from, "%H:%M").unwrap(),
            not_after: NaiveTime::parse_from_str(to, "%H:%M").unwrap(),
            tz: Some(chrono_tz::Europe::Berlin),
        }
    }

    #[test]
    fn a_day_window() {
        let day = w("06:00", "22:00");
        assert!(day.is_open(at(21, 59)));
        assert!(!day.is_open(at(22, 0)));
        assert!(!day.is_open(at(4, 0)), "a late start at 4 a.m. is outside");
        assert!(day.is_open(at(6, 0)));
        assert_eq!(day.closes_in(at(21, 0)), Duration::from_secs(3600));
        assert_eq!(day.describe(), "06:00–22:00 Europe/Berlin");
    }

    #[test]
    fn a_window_across_midnight() {
        let night = w("20:00", "02:00");
        assert!(night.is_open(at(23, 0)));
        assert!(night.is_open(at(1, 30)));
        assert!(!night.is_open(at(3, 0)));
        assert_eq!(night.closes_in(at(23, 0)), Duration::from_secs(3 * 3600));
    }
}
