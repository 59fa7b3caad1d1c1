//! The send stage: paces, sends and classifies every delivery that is due.
//!
//! One dispatcher task owns the schedule; workers (one per request in
//! flight) record the intent, send, record the answer and report back. The
//! dispatcher takes a concurrency slot first, then a permit from the global
//! rate limiter (governor), and only then picks the delivery, so permits
//! never bunch up into bursts (reliability.md §3).
//!
//! Each recipient has its own queue, in input order, and its own "not
//! before" instant (the pair interval after its previous send). The schedule
//! is a heap of recipients by that instant, so while one partner with forty
//! orders waits for its pace, the others keep flowing.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use governor::{Quota, RateLimiter};
use rand::Rng;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::Instant;

use crate::api::client::{Client, Fatal, RetryKind, SendAnswer, SendClass};
use crate::api::wire::SendTemplateRequest;
use crate::delivery::Delivery;
use crate::ledger::{Answer, AttemptResult, RunId, Verdict};
use crate::progress::Progress;
use crate::recorder::Recorder;

/// The global rate runs this much below `--rate`, so that scheduling jitter
/// on our side never puts one send too many into the API's one-second window.
const RATE_HEADROOM: f64 = 0.99;
/// Consecutive requests that may have reached a dead API (5xx, timeouts,
/// refused connections) before the run stops with "unavailable".
const BREAKER_THRESHOLD: u32 = 5;
/// Backoff for provably unprocessed sends: full jitter over base·2^n, capped.
const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// The longest `Retry-After` we wait for inside a run.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct SendSettings {
    pub run: RunId,
    pub template: String,
    pub namespace: Option<String>,
    pub language: String,
    /// Messages per second for the channel.
    pub rate: f64,
    /// Minimum spacing between two sends to one recipient.
    pub pair_interval: Duration,
    pub concurrency: usize,
    pub max_attempts: u32,
}

/// One delivery waiting to be sent.
#[derive(Debug, Clone)]
pub struct Job {
    pub row: u64,
    pub delivery: Delivery,
    /// Attempts already made in this run.
    pub attempts: u32,
}

/// Why the send stage stopped before sending everything.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    Fatal { kind: Fatal, detail: String },
    Interrupted,
    Internal(String),
}

/// A message accepted by the API, handed to the track stage.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub wamid: String,
}

struct Finished {
    phone: String,
    job: Job,
    result: Result<SendAnswer, String>,
}

/// The pair interval with a small margin (2 %, at most 100 ms), because
/// the API measures it between arrivals and ours is measured at dispatch.
fn padded(interval: Duration) -> Duration {
    if interval.is_zero() {
        return interval;
    }
    interval + (interval / 50).min(Duration::from_millis(100))
}

fn full_jitter(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_CAP);
    ceiling.mul_f64(rand::rng().random::<f64>())
}

fn limiter(rate: f64) -> governor::DefaultDirectRateLimiter {
    let per = Duration::from_secs_f64(1.0 / (rate * RATE_HEADROOM).max(0.001));
    let quota = Quota::with_period(per)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::MIN);
    RateLimiter::direct(quota)
}

/// Per-recipient queues and the heap of when each recipient is next due.
struct Schedule {
    queues: HashMap<String, VecDeque<Job>>,
    /// (due, order of first appearance, phone).
    heap: BinaryHeap<Reverse<(Instant, u64, String)>>,
    order: HashMap<String, u64>,
    pending: usize,
}

impl Schedule {
    fn new(jobs: Vec<Job>, now: Instant) -> Schedule {
        let mut s = Schedule {
            queues: HashMap::new(),
            heap: BinaryHeap::new(),
            order: HashMap::new(),
            pending: jobs.len(),
        };
        for job in jobs {
            let phone = job.delivery.phone.clone();
            let next = s.order.len() as u64;
            let order = *s.order.entry(phone.clone()).or_insert(next);
            let queue = s.queues.entry(phone.clone()).or_default();
            if queue.is_empty() {
                s.heap.push(Reverse((now, order, phone)));
            }
            queue.push_back(job);
        }
        s
    }

    fn next_due(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((due, _, _))| *due)
    }

    fn pop(&mut self) -> Option<Job> {
        let Reverse((_, _, phone)) = self.heap.pop()?;
        let job = self.queues.get_mut(&phone)?.pop_front()?;
        self.pending -= 1;
        Some(job)
    }

    /// Puts a job back at the front of its recipient's queue.
    fn retry(&mut self, job: Job) {
        self.pending += 1;
        self.queues
            .entry(job.delivery.phone.clone())
            .or_default()
            .push_front(job);
    }

    /// The recipient's request is over; it is due again at `due` if it has
    /// more to send.
    fn release(&mut self, phone: &str, due: Instant) {
        if self.queues.get(phone).is_some_and(|q| !q.is_empty()) {
            let order = self.order.get(phone).copied().unwrap_or(u64::MAX);
            self.heap.push(Reverse((due, order, phone.to_string())));
        }
    }

    fn drain(&mut self) -> Vec<Job> {
        self.heap.clear();
        self.pending = 0;
        self.queues.drain().flat_map(|(_, q)| q).collect()
    }
}

/// Everything a worker needs, shared.
struct Context {
    settings: SendSettings,
    client: Client,
    recorder: Recorder,
    progress: Progress,
    accepted: mpsc::UnboundedSender<Accepted>,
}

/// Sends `jobs` and returns why it stopped early, if it did. Rows not sent
/// because of a stop are marked `skipped` in the ledger with the reason.
pub async fn run(
    settings: SendSettings,
    client: Client,
    recorder: Recorder,
    progress: Progress,
    jobs: Vec<Job>,
    accepted: mpsc::UnboundedSender<Accepted>,
    mut interrupt: watch::Receiver<bool>,
) -> Option<Stop> {
    let ctx = Arc::new(Context {
        settings,
        client,
        recorder,
        progress,
        accepted,
    });
    let pair_interval = padded(ctx.settings.pair_interval);
    let mut rate = ctx.settings.rate;
    let mut global = limiter(rate);
    let slots = Arc::new(Semaphore::new(ctx.settings.concurrency.max(1)));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Finished>();
    let mut schedule = Schedule::new(jobs, Instant::now());
    let mut in_flight = 0usize;
    let mut paused_until: Option<Instant> = None;
    let mut systemic_failures = 0u32;
    let mut stop: Option<Stop> = None;

    loop {
        if stop.is_none() && *interrupt.borrow() {
            stop = Some(Stop::Interrupted);
        }
        if (stop.is_some() || schedule.pending == 0) && in_flight == 0 {
            break;
        }
        let dispatchable = stop.is_none() && schedule.pending > 0;
        let wake = match (dispatchable, schedule.next_due()) {
            (true, Some(due)) => Some(paused_until.map_or(due, |p| p.max(due))),
            _ => None,
        };
        tokio::select! {
            biased;
            finished = done_rx.recv() => {
                let Some(f) = finished else { break };
                in_flight -= 1;
                let now = Instant::now();
                let mut due = now + pair_interval;
                match f.result {
                    Err(e) => {
                        stop.get_or_insert(Stop::Internal(e));
                    }
                    Ok(answer) => {
                        match &answer.class {
                            SendClass::Accepted { .. } | SendClass::Rejected => {
                                systemic_failures = 0;
                            }
                            SendClass::Fatal(kind) => {
                                stop.get_or_insert(Stop::Fatal {
                                    kind: *kind,
                                    detail: answer.detail.clone().unwrap_or_default(),
                                });
                            }
                            SendClass::Ambiguous => {
                                systemic_failures += 1;
                            }
                            SendClass::Retry { kind, after } => {
                                if *kind == RetryKind::Connect {
                                    systemic_failures += 1;
                                }
                                let mut job = f.job;
                                if job.attempts < ctx.settings.max_attempts {
                                    let wait = match kind {
                                        RetryKind::TooManyRequests => {
                                            let wait = after
                                                .unwrap_or_else(|| full_jitter(job.attempts))
                                                .min(MAX_RETRY_AFTER);
                                            let until = now + wait;
                                            paused_until = Some(paused_until.map_or(until, |p| p.max(until)));
                                            wait
                                        }
                                        RetryKind::Throughput => {
                                            // Meta says we are over the channel's
                                            // throughput: pause everyone and go slower.
                                            rate = (rate * 0.9).max(1.0);
                                            global = limiter(rate);
                                            let until = now + full_jitter(job.attempts);
                                            paused_until = Some(paused_until.map_or(until, |p| p.max(until)));
                                            until - now
                                        }
                                        RetryKind::PairRate => pair_interval.max(Duration::from_secs(1)),
                                        RetryKind::Connect | RetryKind::Transient => full_jitter(job.attempts),
                                    };
                                    due = due.max(now + wait);
                                    job.attempts = job.attempts.max(1);
                                    schedule.retry(job);
                                } else {
                                    ctx.progress.not_sent();
                                }
                                schedule.release(&f.phone, due);
                                if systemic_failures >= BREAKER_THRESHOLD {
                                    stop.get_or_insert(Stop::Fatal {
                                        kind: Fatal::Unavailable,
                                        detail: answer.detail.clone().unwrap_or_default(),
                                    });
                                }
                                continue;
                            }
                        }
                        if systemic_failures >= BREAKER_THRESHOLD {
                            stop.get_or_insert(Stop::Fatal {
                                kind: Fatal::Unavailable,
                                detail: answer.detail.clone().unwrap_or_default(),
                            });
                        }
                    }
                }
                schedule.release(&f.phone, due);
            }
            _ = interrupt.changed() => {
                if *interrupt.borrow() {
                    stop.get_or_insert(Stop::Interrupted);
                }
            }
            _ = sleep_until_opt(wake), if wake.is_some() => {
                // Concurrency slot first, then the rate permit, then pick.
                let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { break };
                global.until_ready().await;
                let Some(mut job) = schedule.pop() else { continue };
                job.attempts += 1;
                in_flight += 1;
                let ctx = Arc::clone(&ctx);
                let done = done_tx.clone();
                tokio::spawn(async move {
                    let phone = job.delivery.phone.clone();
                    let result = attempt(&ctx, &job).await;
                    drop(slot);
                    let _ = done.send(Finished { phone, job, result });
                });
            }
        }
    }

    let left = schedule.drain();
    if !left.is_empty() {
        let reason = match &stop {
            Some(Stop::Fatal { kind, detail }) => format!(
                "not sent: the run stopped because {}{}",
                match kind {
                    Fatal::Credentials => "the API refused our credentials",
                    Fatal::Configuration => "the API refused the template",
                    Fatal::Unavailable => "the API was unavailable",
                },
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({detail})")
                }
            ),
            Some(Stop::Interrupted) => "not sent: the run was interrupted".to_string(),
            Some(Stop::Internal(e)) => format!("not sent: internal error ({e})"),
            None => "not sent".to_string(),
        };
        let rows: Vec<u64> = left.iter().map(|j| j.row).collect();
        for _ in &rows {
            ctx.progress.not_sent();
        }
        let run = ctx.settings.run;
        let _ = ctx
            .recorder
            .call(move |l| {
                for row in rows {
                    l.set_verdict(run, row, Verdict::Skipped, Some(&reason))?;
                }
                Ok::<_, crate::ledger::LedgerError>(())
            })
            .await;
    }
    stop
}

async fn sleep_until_opt(when: Option<Instant>) {
    match when {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// One attempt: intent (committed), request, answer (committed).
async fn attempt(ctx: &Context, job: &Job) -> Result<SendAnswer, String> {
    let d = &job.delivery;
    let s = &ctx.settings;
    let params: Vec<String> = d.params().iter().map(|p| p.to_string()).collect();
    let (run, key, attempt_no, phone) = (s.run, d.order_key.clone(), job.attempts, d.phone.clone());
    let intent_params = params.clone();
    let intent = ctx
        .recorder
        .call(move |l| l.record_intent(run, &key, attempt_no, &phone, &intent_params, Utc::now()))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{e}"))?;

    let texts: Vec<&str> = params.iter().map(String::as_str).collect();
    let request = SendTemplateRequest::with_body(
        &d.phone,
        &s.template,
        s.namespace.as_deref(),
        &s.language,
        &texts,
    );
    let answer = ctx.client.send_template(&request).await;

    let result = match &answer.class {
        SendClass::Accepted { wamid } => AttemptResult::Accepted {
            wamid: wamid.clone(),
        },
        SendClass::Retry { .. } => AttemptResult::Retry,
        SendClass::Ambiguous => AttemptResult::Ambiguous,
        SendClass::Rejected => AttemptResult::Rejected,
        SendClass::Fatal(_) => AttemptResult::Fatal,
    };
    let record = Answer {
        result,
        http_status: answer.http_status,
        error_code: answer.error_code,
        error_detail: answer.detail.clone(),
        at: Utc::now(),
    };
    ctx.recorder
        .call(move |l| l.record_answer(intent, &record))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{e}"))?;
    match &answer.class {
        SendClass::Accepted { wamid } => {
            ctx.progress.sent();
            let _ = ctx.accepted.send(Accepted {
                wamid: wamid.clone(),
            });
        }
        SendClass::Retry { .. } => {}
        _ => ctx.progress.sent(),
    }
    Ok(answer)
}
