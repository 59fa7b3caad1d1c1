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
        if quiet {
            Mode::Quiet
        } else if json {
            Mode::Events
        } else if std::io::stderr().is_terminal() {
            Mode::Bars
        } else {
            Mode::Lines
        }
    }
}

/// Writes to stdout; a reader that closed the pipe early (`| head -1`)
/// is not an error, and the run's own outputs are all written by then.
pub(crate) fn print_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

#[derive(Default)]
struct Counters {
    validated: AtomicU64,
    to_send: AtomicU64,
    sent: AtomicU64,
    accepted: AtomicU64,
    to_track: AtomicU64,
    finals: AtomicU64,
    done: AtomicBool,
}

impl Counters {
    fn snapshot(&self) -> Snapshot {
        let to_send = self.to_send.load(Ordering::Relaxed);
        let sent = self.sent.load(Ordering::Relaxed);
        Snapshot {
            validated: self.validated.load(Ordering::Relaxed),
            sent,
            to_send,
            finals: self.finals.load(Ordering::Relaxed),
            to_final: final_total(self.to_track.load(Ordering::Relaxed), to_send, sent),
        }
    }
}

/// What the `final` count is out of: the messages being tracked plus the
/// sends still to come (each may become one), so the bar is not full
/// while rows are unsent.
fn final_total(to_track: u64, to_send: u64, sent: u64) -> u64 {
    to_track + to_send.saturating_sub(sent)
}

/// The counts at one moment, as a line or an event shows them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Snapshot {
    validated: u64,
    sent: u64,
    to_send: u64,
    finals: u64,
    to_final: u64,
}

impl Snapshot {
    fn show(self, mode: Mode, elapsed: Duration) {
        if mode == Mode::Events {
            tracing::info!(
                validated = self.validated,
                sent = self.sent,
                to_send = self.to_send,
                finals = self.finals,
                to_final = self.to_final,
                elapsed_seconds = elapsed.as_secs(),
                "progress"
            );
        } else {
            let line = format!(
                "progress: validated {}, sent {}/{}, final {}/{} ({}s)\n",
                self.validated,
                self.sent,
                self.to_send,
                self.finals,
                self.to_final,
                elapsed.as_secs()
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
                let bar = |name: &str| {
                    let b = multi.add(ProgressBar::new(0));
                    b.set_style(style.clone());
                    b.set_prefix(name.to_string());
                    b
                };
                Some(Arc::new(Bars {
                    validated: bar("validated"),
                    sent: bar("sent"),
                    finals: bar("final"),
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
                        while !c.done.load(Ordering::Relaxed) {
                            for _ in 0..50 {
                                std::thread::sleep(Duration::from_millis(100));
                                if c.done.load(Ordering::Relaxed) {
                                    return;
                                }
                            }
                            let now = c.snapshot();
                            if now != last {
                                now.show(mode, started.elapsed());
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

    pub(crate) fn validated(&self, n: u64) {
        self.counters.validated.fetch_add(n, Ordering::Relaxed);
        if let Some(b) = &self.bars {
            b.validated.inc_length(n);
            b.validated.inc(n);
        }
    }

    pub(crate) fn will_send(&self, n: u64) {
        self.counters.to_send.fetch_add(n, Ordering::Relaxed);
        if let Some(b) = &self.bars {
            b.sent.inc_length(n);
        }
        self.final_length();
    }

    pub(crate) fn sent(&self) {
        self.counters.sent.fetch_add(1, Ordering::Relaxed);
        if let Some(b) = &self.bars {
            b.sent.inc(1);
        }
        self.final_length();
    }

    /// Keeps the `final` bar's length at [`final_total`].
    fn final_length(&self) {
        if let Some(b) = &self.bars {
            b.finals.set_length(self.counters.snapshot().to_final);
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
        if let Some(b) = &self.bars {
            let len = b.sent.length().unwrap_or(0);
            b.sent.set_length(len.saturating_sub(1));
        }
        self.final_length();
    }

    pub(crate) fn will_track(&self, n: u64) {
        self.counters.to_track.fetch_add(n, Ordering::Relaxed);
        self.final_length();
    }

    pub(crate) fn final_status(&self) {
        self.counters.finals.fetch_add(1, Ordering::Relaxed);
        if let Some(b) = &self.bars {
            b.finals.inc(1);
        }
    }

    /// Stops the line printer and clears the bars.
    pub(crate) fn finish(&self) {
        self.counters.done.store(true, Ordering::Relaxed);
        if let Some(b) = &self.bars {
            b.validated.finish();
            b.sent.finish();
            b.finals.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
