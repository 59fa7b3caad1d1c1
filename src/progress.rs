//! Progress on long work: three indicatif bars (validated, sent, final) with
//! rate and ETA on a terminal; a plain line every few seconds when stderr is
//! not a terminal (cron, systemd, Kubernetes logs); nothing with `--quiet`.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars on screen, if any, so log lines can be printed above them
/// instead of through them.
static BARS: std::sync::OnceLock<MultiProgress> = std::sync::OnceLock::new();

/// Writes a finished log line to stderr, above the progress bars when they
/// are shown.
pub(crate) fn write_stderr(line: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    match BARS.get() {
        Some(multi) if !multi.is_hidden() => {
            let text = String::from_utf8_lossy(line);
            multi.println(text.trim_end_matches('\n'))
        }
        _ => std::io::stderr().write_all(line),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Bars,
    Lines,
    /// JSON logs: progress is a `progress` event with typed counts.
    Events,
    Quiet,
}

impl Mode {
    /// Bars on a terminal, lines otherwise (events with JSON logs), unless
    /// quiet.
    pub(crate) fn detect(quiet: bool, json: bool) -> Mode {
        match (quiet, json) {
            (true, _) => Mode::Quiet,
            (false, true) => Mode::Events,
            _ if std::io::stderr().is_terminal() => Mode::Bars,
            _ => Mode::Lines,
        }
    }
}

/// Writes the run's JSON summary line to stdout, for the scheduler, script
/// or pipe that reads it; not to a person's terminal, where the end of the
/// run on stderr says the same in words (`--summary-json` keeps the line
/// in a file either way). A reader that closed the pipe early
/// (`| head -1`) is not an error: the run's own outputs are written by then.
pub(crate) fn print_summary(line: &str) {
    use std::io::Write;
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        return;
    }
    let mut out = stdout.lock();
    let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
}

#[derive(Default)]
struct Counters {
    validated: AtomicU64,
    to_send: AtomicU64,
    sent: AtomicU64,
    accepted: AtomicU64,
    /// When the sends can end at the earliest, by the pacing bound.
    paced_until: std::sync::Mutex<Option<Instant>>,
    to_track: AtomicU64,
    finals: AtomicU64,
    done: AtomicBool,
}

/// The least time `rows` sends take: the channel's rate, or the busiest
/// partner's orders one pair interval apart (its first needs no wait),
/// whichever is longer. indicatif's rate-based ETA alone reads "1 s" for a
/// partner with 600 orders at a 6 s pair interval: an hour.
fn pace_bound(rows: u64, rate: f64, busiest: u64, pair: Duration) -> Duration {
    let by_rate = if rate > 0.0 {
        Duration::from_secs_f64(rows as f64 / rate)
    } else {
        Duration::ZERO
    };
    let by_pair = pair.saturating_mul(u32::try_from(busiest.saturating_sub(1)).unwrap_or(u32::MAX));
    by_rate.max(by_pair)
}

impl Counters {
    /// What the pacing bound leaves of the sends, while some are unsent.
    fn paced_left(&self) -> Option<Duration> {
        if self.sent.load(Ordering::Relaxed) >= self.to_send.load(Ordering::Relaxed) {
            return None;
        }
        let until = (*self.paced_until.lock().ok()?)?;
        Some(until.saturating_duration_since(Instant::now()))
    }

    fn snapshot(&self) -> Snapshot {
        let to_send = self.to_send.load(Ordering::Relaxed);
        let sent = self.sent.load(Ordering::Relaxed);
        Snapshot {
            validated: self.validated.load(Ordering::Relaxed),
            sent,
            to_send,
            finals: self.finals.load(Ordering::Relaxed),
            to_final: self.to_track.load(Ordering::Relaxed) + to_send.saturating_sub(sent),
        }
    }
}

/// The counts at one moment, as a line or an event shows them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Snapshot {
    validated: u64,
    sent: u64,
    to_send: u64,
    finals: u64,
    /// What the `final` count is out of: the messages being tracked plus
    /// the sends still to come (each may become one), so the bar is not
    /// full while rows are unsent.
    to_final: u64,
}

impl Snapshot {
    fn show(self, mode: Mode, elapsed: Duration, paced_left: Option<Duration>) {
        let Snapshot {
            validated,
            sent,
            to_send,
            finals,
            to_final,
        } = self;
        let (elapsed, eta) = (elapsed.as_secs(), paced_left.map(|d| d.as_secs()));
        if mode == Mode::Events {
            tracing::info!(
                validated,
                sent,
                to_send,
                finals,
                to_final,
                elapsed_seconds = elapsed,
                send_eta_seconds = eta,
                "progress"
            );
        } else {
            let eta = eta
                .map(|s| format!(", sends end in {s}s at the earliest"))
                .unwrap_or_default();
            let line = format!(
                "progress: validated {validated}, sent {sent}/{to_send}, final {finals}/{to_final} ({elapsed}s{eta})\n"
            );
            let _ = write_stderr(line.as_bytes());
        }
    }
}

struct Bars {
    _multi: MultiProgress,
    validated: ProgressBar,
    sent: ProgressBar,
    finals: ProgressBar,
}

/// Shared by every stage; counting is a relaxed atomic add.
#[derive(Clone)]
pub(crate) struct Progress {
    counters: Arc<Counters>,
    bars: Option<Arc<Bars>>,
}

impl Progress {
    pub(crate) fn new(mode: Mode) -> Progress {
        let counters = Arc::new(Counters::default());
        let bars = match mode {
            Mode::Bars => {
                let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
                let _ = BARS.set(multi.clone());
                let style = ProgressStyle::with_template(
                    "{prefix:>10} [{bar:30}] {pos}/{len} {rate} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.1}/s", state.per_sec());
                    },
                )
                .progress_chars("=> ");
                let bar = |name: &'static str, style: &ProgressStyle| {
                    multi.add(
                        ProgressBar::new(0)
                            .with_style(style.clone())
                            .with_prefix(name),
                    )
                };
                let c = Arc::clone(&counters);
                let paced = style.clone().with_key(
                    "eta",
                    move |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let eta = c.paced_left().map_or(state.eta(), |p| p.max(state.eta()));
                        let _ = write!(w, "{:#}", indicatif::HumanDuration(eta));
                    },
                );
                Some(Arc::new(Bars {
                    validated: bar("validated", &style),
                    sent: bar("sent", &paced),
                    finals: bar("final", &style),
                    _multi: multi,
                }))
            }
            Mode::Lines | Mode::Events => {
                let c = Arc::clone(&counters);
                let started = Instant::now();
                std::thread::Builder::new()
                    .name("progress".into())
                    .spawn(move || {
                        let mut last = Snapshot::default();
                        // A line every 5 s, the end looked for every 0.1 s.
                        for tick in 1u64.. {
                            std::thread::sleep(Duration::from_millis(100));
                            if c.done.load(Ordering::Relaxed) {
                                return;
                            }
                            let now = c.snapshot();
                            if tick % 50 == 0 && now != last {
                                now.show(mode, started.elapsed(), c.paced_left());
                                last = now;
                            }
                        }
                    })
                    .ok();
                None
            }
            Mode::Quiet => None,
        };
        Progress { counters, bars }
    }

    /// Adds `n` to `counter` and shows it.
    fn count(&self, counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
        self.refresh();
    }

    /// Sets the bars, if shown, to the counts.
    fn refresh(&self) {
        let Some(b) = &self.bars else { return };
        let now = self.counters.snapshot();
        for (bar, pos, len) in [
            (&b.validated, now.validated, now.validated),
            (&b.sent, now.sent, now.to_send),
            (&b.finals, now.finals, now.to_final),
        ] {
            bar.set_length(len);
            bar.set_position(pos);
        }
    }

    pub(crate) fn validated(&self, n: u64) {
        self.count(&self.counters.validated, n);
    }

    pub(crate) fn will_send(&self, n: u64) {
        self.count(&self.counters.to_send, n);
    }

    pub(crate) fn sent(&self) {
        self.count(&self.counters.sent, 1);
    }

    /// The sends about to start: `rows` at `rate` a second, the busiest
    /// partner with `busiest` of them `pair` apart (see [`pace_bound`]).
    pub(crate) fn pacing(&self, rows: u64, rate: f64, busiest: u64, pair: Duration) {
        let until = Instant::now() + pace_bound(rows, rate, busiest, pair);
        if let Ok(mut slot) = self.counters.paced_until.lock() {
            *slot = Some(until);
        }
    }

    /// A send the API accepted (a message exists): the summary's
    /// `sent_this_run` when a run ends in an error.
    pub(crate) fn accepted(&self) {
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn accepted_count(&self) -> u64 {
        self.counters.accepted.load(Ordering::Relaxed)
    }

    /// A send that will not happen after all (skipped, given up).
    pub(crate) fn not_sent(&self) {
        self.counters.to_send.fetch_sub(1, Ordering::Relaxed);
        self.refresh();
    }

    pub(crate) fn will_track(&self, n: u64) {
        self.count(&self.counters.to_track, n);
    }

    pub(crate) fn final_status(&self) {
        self.count(&self.counters.finals, 1);
    }

    /// Stops the line printer and clears the bars.
    pub(crate) fn finish(&self) {
        self.counters.done.store(true, Ordering::Relaxed);
        if let Some(b) = &self.bars {
            for bar in [&b.validated, &b.sent, &b.finals] {
                bar.finish();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_send_bound_is_the_rate_or_the_busiest_partner_whichever_is_longer() {
        let six = Duration::from_secs(6);
        assert_eq!(pace_bound(100, 20.0, 1, six), Duration::from_secs(5));
        assert_eq!(pace_bound(100, 20.0, 11, six), Duration::from_secs(60));
        assert_eq!(pace_bound(0, 20.0, 0, six), Duration::ZERO);
        let p = Progress::new(Mode::Quiet);
        p.will_send(11);
        p.pacing(11, 20.0, 11, six);
        let left = p.counters.paced_left().unwrap();
        assert!(left > Duration::from_secs(59) && left <= Duration::from_secs(60));
    }

    #[test]
    fn the_final_count_is_out_of_every_row_still_to_send() {
        let p = Progress::new(Mode::Quiet);
        p.will_send(13);
        for _ in 0..6 {
            p.sent();
            p.accepted();
            p.will_track(1);
            p.final_status();
        }
        let now = p.counters.snapshot();
        assert_eq!(
            (now.finals, now.to_final),
            (6, 13),
            "not full while 7 rows are unsent"
        );
        p.not_sent();
        assert_eq!(p.counters.snapshot().to_final, 12);
        assert_eq!(p.accepted_count(), 6);
    }
}
