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
    Quiet,
}

impl Mode {
    /// Bars on a terminal, lines otherwise, unless quiet.
    pub(crate) fn detect(quiet: bool) -> Mode {
        if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars
        } else {
            Mode::Lines
        }
    }
}

#[derive(Default)]
struct Counters {
    validated: AtomicU64,
    to_send: AtomicU64,
    sent: AtomicU64,
    to_track: AtomicU64,
    finals: AtomicU64,
    done: AtomicBool,
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
            Mode::Lines => {
                let c = Arc::clone(&counters);
                let started = Instant::now();
                std::thread::Builder::new()
                    .name("progress".into())
                    .spawn(move || {
                        let mut last = String::new();
                        while !c.done.load(Ordering::Relaxed) {
                            for _ in 0..50 {
                                std::thread::sleep(Duration::from_millis(100));
                                if c.done.load(Ordering::Relaxed) {
                                    return;
                                }
                            }
                            let line = format!(
                                "progress: validated {}, sent {}/{}, final {}/{}",
                                c.validated.load(Ordering::Relaxed),
                                c.sent.load(Ordering::Relaxed),
                                c.to_send.load(Ordering::Relaxed),
                                c.finals.load(Ordering::Relaxed),
                                c.to_track.load(Ordering::Relaxed),
                            );
                            if line != last {
                                eprintln!("{line} ({}s)", started.elapsed().as_secs());
                                last = line;
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
    }

    pub(crate) fn sent(&self) {
        self.counters.sent.fetch_add(1, Ordering::Relaxed);
        if let Some(b) = &self.bars {
            b.sent.inc(1);
        }
    }

    /// A send that will not happen after all (skipped, given up).
    pub(crate) fn not_sent(&self) {
        self.counters.to_send.fetch_sub(1, Ordering::Relaxed);
        if let Some(b) = &self.bars {
            let len = b.sent.length().unwrap_or(0);
            b.sent.set_length(len.saturating_sub(1));
        }
    }

    pub(crate) fn will_track(&self, n: u64) {
        self.counters.to_track.fetch_add(n, Ordering::Relaxed);
        if let Some(b) = &self.bars {
            b.finals.inc_length(n);
        }
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
