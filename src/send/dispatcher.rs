//! The dispatcher's state and what it learns from each answer (retry,
//! re-pace, pause, or stop, with the breakers of [`super::breaker`]), and the gate
//! every worker passes right before it sends.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::breaker::Breaker;
use super::schedule::{Recipient, Schedule};
use super::{Accepted, Job, SendSettings, Stop};
use crate::api::client::{Client, RetryKind, SendAnswer, SendClass};
use crate::pace::{Pacer, limiter, padded};
use crate::progress::Progress;
use crate::recorder::Recorder;

/// Backoff for provably unprocessed sends: full jitter over base·2^n, capped.
const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(60);

/// How long a retry waits: a random share of base·2^attempt, capped.
fn full_jitter(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_CAP);
    ceiling.mul_f64(rand::rng().random::<f64>())
}

/// The longest `Retry-After` we wait for inside a run.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// A worker's report: the attempt it made and how it went.
pub(super) struct Finished {
    pub(super) recipient: Recipient,
    pub(super) job: Job,
    pub(super) result: Result<SendAnswer, String>,
    /// When the request left (the rate permit was granted), if it did.
    pub(super) sent_at: Option<Instant>,
}

/// Everything a worker needs, shared.
pub(super) struct Context {
    pub(super) settings: SendSettings,
    /// The global rate limiter and the run-wide pause, shared with workers:
    /// the dispatcher changes them, workers obey them just before sending.
    gate: std::sync::Mutex<Gate>,
    pub(super) client: Client,
    pub(super) recorder: Recorder,
    pub(super) progress: Progress,
    pub(super) accepted: mpsc::UnboundedSender<Accepted>,
}

/// The dispatcher's state: the schedule and what answers taught it.
pub(super) struct Dispatcher {
    pair_interval: Duration,
    rate: f64,
    pub(super) ctx: Arc<Context>,
    pub(super) schedule: Schedule,
    pub(super) in_flight: usize,
    /// Set by a 429 or 130429: nobody sends before this instant.
    pub(super) paused_until: Option<Instant>,
    /// What the answers so far say about the whole run.
    breaker: Breaker,
    pub(super) stop: Option<Stop>,
}

impl Dispatcher {
    /// A dispatcher over `jobs` (more may be fed later), nothing in flight.
    pub(super) fn new(ctx: Arc<Context>, jobs: Vec<Job>) -> Dispatcher {
        Dispatcher {
            pair_interval: padded(ctx.settings.pair_interval),
            rate: ctx.settings.rate,
            schedule: Schedule::new(jobs, Instant::now()),
            in_flight: 0,
            paused_until: None,
            breaker: Breaker::default(),
            stop: None,
            ctx,
        }
    }

    fn pause(&mut self, until: Instant) {
        let until = self.paused_until.map_or(until, |p| p.max(until));
        self.paused_until = Some(until);
        self.ctx.gate().paused_until = Some(until);
    }

    /// Learns from one finished attempt: retry, re-pace, pause, or stop.
    pub(super) fn handle(&mut self, f: Finished) {
        self.in_flight -= 1;
        let now = Instant::now();
        // The pair interval runs from when the request left, not from when
        // its answer came back and was recorded: a recipient with sixty
        // orders then waits one interval per order, not one interval plus
        // a round trip and two commits.
        let mut due = f.sent_at.unwrap_or(now) + self.pair_interval;
        let answer = match f.result {
            Err(e) => {
                self.stop.get_or_insert(Stop::Internal(e));
                self.schedule.release(f.recipient, due);
                return;
            }
            Ok(answer) => answer,
        };
        if let Some(stop) = self.breaker.note(&answer) {
            self.stop.get_or_insert(stop);
        }
        match &answer.class {
            SendClass::Accepted { .. } | SendClass::Rejected | SendClass::Ambiguous { .. } => {}
            SendClass::Fatal(kind) => {
                self.stop.get_or_insert(Stop::Fatal {
                    kind: *kind,
                    detail: answer.detail.clone().unwrap_or_default(),
                });
            }
            SendClass::Retry(kind) => {
                let job = f.job;
                let tries = job.attempts - job.before;
                if tries < self.ctx.settings.max_attempts {
                    let wait = match kind {
                        RetryKind::TooManyRequests | RetryKind::Unavailable => {
                            let wait = answer
                                .retry_after
                                .unwrap_or_else(|| full_jitter(tries))
                                .min(MAX_RETRY_AFTER);
                            self.pause(now + wait);
                            wait
                        }
                        RetryKind::Throughput => {
                            // Meta says the channel's throughput is exceeded:
                            // pause everyone and go slower from now on.
                            self.rate = (self.rate * 0.9).max(1.0);
                            self.ctx.gate().limiter = Arc::new(limiter(self.rate));
                            let wait = full_jitter(tries);
                            self.pause(now + wait);
                            wait
                        }
                        RetryKind::PairRate => self.pair_interval.max(Duration::from_secs(1)),
                        RetryKind::Connect | RetryKind::Transient => full_jitter(tries),
                    };
                    due = due.max(now + wait);
                    self.schedule.retry(job);
                } else {
                    self.ctx.progress.not_sent();
                }
            }
        }
        self.schedule.release(f.recipient, due);
    }
}

/// What every request waits for right before it leaves.
struct Gate {
    limiter: Arc<Pacer>,
    paused_until: Option<Instant>,
}

impl Context {
    /// The shared state of a run's workers; the limiter starts at `rate`.
    pub(super) fn new(
        settings: SendSettings,
        client: Client,
        recorder: Recorder,
        progress: Progress,
        accepted: mpsc::UnboundedSender<Accepted>,
    ) -> Context {
        Context {
            gate: std::sync::Mutex::new(Gate {
                limiter: Arc::new(limiter(settings.rate)),
                paused_until: None,
            }),
            settings,
            client,
            recorder,
            progress,
            accepted,
        }
    }

    fn gate(&self) -> std::sync::MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn paused(&self) -> bool {
        self.gate().paused_until.is_some_and(|p| p > Instant::now())
    }

    /// Waits until the run is not paused and the grid has a slot for one
    /// more request; the limiter it waited on. Taken before the intent is
    /// committed, so that a process killed while it waits leaves no intent,
    /// and so no doubt, for a request that never left.
    pub(super) async fn slot(&self) -> Arc<Pacer> {
        loop {
            let (limiter, paused) = {
                let g = self.gate();
                (Arc::clone(&g.limiter), g.paused_until)
            };
            if let Some(until) = paused
                && until > Instant::now()
            {
                tokio::time::sleep_until(until).await;
                continue;
            }
            limiter.until_slot().await;
            if !self.paused() {
                return limiter;
            }
        }
    }

    /// Right before the request leaves, after its intent's commit: a pause
    /// that began meanwhile is waited out and a fresh slot taken, so the
    /// senders do not all go the moment it ends; then room in the API's
    /// one-second window, counted when the request really leaves, so a
    /// commit that took long never bunches requests at the API.
    pub(super) async fn leave(&self, mut limiter: Arc<Pacer>) {
        while self.paused() {
            limiter = self.slot().await;
        }
        limiter.until_room().await;
    }
}
