//! Pacing, shared by the send and track stages: both owe the API a rate,
//! so the grid pacer that keeps it (and the margins it is run with) lives
//! apart from either stage, and neither imports the other to use it.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// The global rate runs this much below `--rate`, so that scheduling jitter
/// on our side never puts one send too many into the API's one-second window.
/// 1.5 % of a second is 15 ms at any rate: room for the lateness the pacer
/// forgives ([`PACE_TOLERANCE`]) and for requests bunched on their way (a
/// loaded two-core machine, 0.99: up to eight 429s in a 10,000-row run at
/// 80/s, each pausing every sender for a second).
const RATE_HEADROOM: f64 = 0.985;

/// The pair interval with a small margin (2 %, at most 100 ms), because
/// the API measures it between arrivals and ours is measured as a request
/// leaves. At the real pair interval (seconds) that is 100 ms, far above
/// any difference between two requests' trips; a floor for short intervals
/// cost the skewed benchmark 3 % of its pace (1.063 against 1.033).
pub(crate) fn padded(interval: Duration) -> Duration {
    if interval.is_zero() {
        return interval;
    }
    interval + (interval / 50).min(Duration::from_millis(100))
}

/// The send stage's global limiter for `rate`: its grid `RATE_HEADROOM`
/// below the rate, its window at the rate itself.
pub(crate) fn limiter(rate: f64) -> Pacer {
    Pacer::new(rate * RATE_HEADROOM).with_window(rate)
}

/// The window of [`Pacer::with_window`]: the API's second, and 5 ms for
/// the trip.
const WINDOW: Duration = Duration::from_millis(1005);

/// How late a permit may be taken and still keep its place on the grid.
/// Below 1/0.985 − 1 of a second (15 ms), a grid at [`RATE_HEADROOM`] × the
/// limit never puts more than the limit into any one-second window; 2 ms
/// covers tokio's 1 ms timer tick and leaves the rest for the trip.
const PACE_TOLERANCE: Duration = Duration::from_millis(2);

/// A rate limit as a grid of instants, one period apart: each caller
/// reserves the next instant and waits for it.
///
/// Unlike a GCRA with a burst of one (governor's), a caller that wakes a
/// little late (tokio's timer has a 1 ms tick; a loaded machine adds more)
/// does not push every later instant back: the grid keeps its place, so the
/// achieved rate is the configured one. Lateness beyond `PACE_TOLERANCE`
/// is forgiven, never made up in a burst. One reservation per caller, in
/// arrival order: no herd of waiters re-checking at every instant.
pub(crate) struct Pacer {
    period: Duration,
    next: std::sync::Mutex<Option<Instant>>,
    window: Option<std::sync::Mutex<Window>>,
}

/// When the last requests actually left, at most `cap` of them.
struct Window {
    cap: usize,
    left: VecDeque<Instant>,
}

impl Pacer {
    pub(crate) fn new(per_second: f64) -> Pacer {
        Pacer {
            period: Duration::from_secs_f64(1.0 / per_second.max(0.001)),
            next: std::sync::Mutex::new(None),
            window: None,
        }
    }

    /// Also never lets more than `limit` callers go within any `WINDOW`,
    /// counted when they actually go. The grid alone keeps that in steady
    /// flow; this catches the callers that a stalled process (a loaded
    /// machine) wakes late, which would otherwise leave together with the
    /// ones on time and put one request too many into the API's second.
    pub(crate) fn with_window(mut self, limit: f64) -> Pacer {
        let cap = limit.floor().max(1.0) as usize;
        self.window = Some(std::sync::Mutex::new(Window {
            cap,
            left: VecDeque::with_capacity(cap.min(1 << 16)),
        }));
        self
    }

    /// Counts a caller going at `now`, if the window has room; otherwise
    /// returns when it will.
    fn admit(&self, now: Instant) -> Option<Instant> {
        let w = self.window.as_ref()?;
        let mut w = w.lock().unwrap_or_else(|p| p.into_inner());
        while w
            .left
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
        {
            w.left.pop_front();
        }
        if w.left.len() >= w.cap {
            return w.left.front().map(|t| *t + WINDOW);
        }
        w.left.push_back(now);
        None
    }

    /// Reserves the next instant at or after `now − PACE_TOLERANCE`; the
    /// caller may go at the returned instant (at once if it is past).
    pub(crate) fn reserve(&self, now: Instant) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let earliest = now.checked_sub(PACE_TOLERANCE).unwrap_or(now);
        let slot = next.map_or(now, |n| n.max(earliest));
        *next = Some(slot + self.period);
        slot
    }

    /// Waits for the next instant (and for room in the window, if any).
    pub(crate) async fn until_ready(&self) {
        self.until_slot().await;
        self.until_room().await;
    }

    /// Waits for the next instant of the grid.
    pub(crate) async fn until_slot(&self) {
        let slot = self.reserve(Instant::now());
        tokio::time::sleep_until(slot).await;
    }

    /// Waits for room in the window, if there is one, and counts the
    /// caller as gone: call it right before the request leaves.
    pub(crate) async fn until_room(&self) {
        while let Some(room) = self.admit(Instant::now()) {
            tokio::time::sleep_until(room).await;
        }
    }
}

/// Sleeps until `when`, or forever when there is nothing to wait for: the
/// timer arm of a stage's `select!`, disabled by its guard when `None`.
pub(crate) async fn sleep_until_opt(when: Option<Instant>) {
    match when {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_keeps_its_grid_when_callers_wake_a_little_late() {
        let p = Pacer::new(1000.0);
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(p.reserve(t0), t0);
        // Reserved ahead: one period apart.
        assert_eq!(p.reserve(t0), t0 + ms(1));
        assert_eq!(p.reserve(t0), t0 + ms(2));
        // A caller 1.5 ms late (within the tolerance) takes the next grid
        // instant, already past, and the grid does not move.
        let late = t0 + ms(3) + Duration::from_micros(1500);
        assert_eq!(p.reserve(late), t0 + ms(3));
        assert_eq!(p.reserve(late), t0 + ms(4));
    }

    #[test]
    fn the_window_holds_back_callers_that_woke_late_together() {
        let p = Pacer::new(3.0).with_window(3.0);
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(p.admit(t0), None);
        // Two more, late and bunched: still three in the window, fine.
        assert_eq!(p.admit(t0 + ms(600)), None);
        assert_eq!(p.admit(t0 + ms(601)), None);
        // A fourth must wait until the first is a window old.
        assert_eq!(p.admit(t0 + ms(602)), Some(t0 + WINDOW));
        assert_eq!(p.admit(t0 + WINDOW), None);
        // Without a window, nobody waits.
        assert_eq!(Pacer::new(3.0).admit(t0), None);
    }

    #[test]
    fn pacer_forgives_long_idleness_without_a_burst() {
        let p = Pacer::new(100.0);
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(p.reserve(t0), t0);
        // Idle for a second: at most the tolerance is made up, then one
        // period apart again.
        let later = t0 + ms(1000);
        assert_eq!(p.reserve(later), later - PACE_TOLERANCE);
        assert_eq!(p.reserve(later), later - PACE_TOLERANCE + ms(10));
    }

    #[test]
    fn pacer_never_exceeds_the_rate_in_any_second() {
        // Callers that wake anywhere up to the tolerance late, as a grid at
        // 0.99 × 80/s: no one-second window holds more than 80.
        let p = limiter(80.0);
        let t0 = Instant::now();
        let mut taken = Vec::new();
        let mut now = t0;
        for i in 0..2000u64 {
            let slot = p.reserve(now);
            // Alternate: on time, then as late as the tolerance allows.
            let at = if i % 2 == 0 {
                slot.max(now)
            } else {
                slot.max(now) + PACE_TOLERANCE
            };
            taken.push(at);
            now = at;
        }
        taken.sort();
        let second = Duration::from_secs(1);
        let mut start = 0;
        for end in 0..taken.len() {
            while taken[end] - taken[start] >= second {
                start += 1;
            }
            assert!(end - start < 80, "{} sends in one second", end - start + 1);
        }
    }
}
