//! The send stage: paces, sends and classifies every delivery that is due.
//!
//! One dispatcher task owns the schedule; workers (one per request in
//! flight) record the intent, send, record the answer and report back. The
//! dispatcher takes a concurrency slot, then picks the delivery; the worker
//! commits its intent and only then takes a permit from the global rate
//! limiter (a [`Pacer`]) and sends at once. Slot before permit keeps permits
//! from bunching into bursts (reliability.md §3); permit after the commit
//! keeps the fsync's jitter out of the spacing the API sees.
//!
//! Each recipient has its own queue, in input order, and its own "not
//! before" instant (the pair interval after its previous send). The schedule
//! is a heap of recipients by that instant, so while one partner with forty
//! orders waits for its pace, the others keep flowing.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rand::Rng;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::Instant;

use crate::api::client::{Client, Fatal, RetryKind, SendAnswer, SendClass};
use crate::api::wire::SendTemplateRequest;
use crate::delivery::Delivery;
use crate::ledger::{Answer, AttemptResult, RunId, Verdict};
use crate::progress::Progress;
use crate::recorder::Recorder;

/// How many deliveries the send stage keeps queued when it is fed from the
/// ledger: enough to keep every recipient of a window fairly ordered, few
/// enough that a night of a million rows does not live in memory.
const FEED_WINDOW: usize = 20_000;

/// The global rate runs this much below `--rate`, so that scheduling jitter
/// on our side never puts one send too many into the API's one-second window.
/// 1.5 % of a second is 15 ms at any rate: room for the lateness the pacer
/// forgives ([`PACE_TOLERANCE`]) and for requests bunched on their way (a
/// loaded two-core machine, 0.99: up to eight 429s in a 10,000-row run at
/// 80/s, each pausing every sender for a second).
const RATE_HEADROOM: f64 = 0.985;
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
    Fatal {
        kind: Fatal,
        detail: String,
    },
    /// A signal, or the sending window closing: why, in words.
    Interrupted(String),
    Internal(String),
}

impl Stop {
    /// Why the run stopped, for the summary and for the rows not sent.
    pub fn describe(&self) -> String {
        match self {
            Stop::Fatal { kind, detail } => {
                let what = match kind {
                    Fatal::Credentials => "the API refused our credentials",
                    Fatal::Configuration => "the API refused the template or its parameters",
                    Fatal::Unavailable => "the API was unavailable",
                };
                if detail.is_empty() {
                    what.to_string()
                } else {
                    format!("{what} ({detail})")
                }
            }
            Stop::Interrupted(why) => why.clone(),
            Stop::Internal(e) => format!("an internal error ({e})"),
        }
    }
}

/// Asks the run to stop gracefully, saying why; `None` while it may go on.
/// The first reason given stands.
pub type Interrupt = watch::Receiver<Option<String>>;

/// Sends `why` on the interrupt channel unless a reason is there already.
pub fn interrupt(tx: &watch::Sender<Option<String>>, why: &str) {
    tx.send_if_modified(|current| {
        if current.is_none() {
            *current = Some(why.to_string());
            true
        } else {
            false
        }
    });
}

/// A message accepted by the API, handed to the track stage.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub wamid: String,
}

struct Finished {
    recipient: Recipient,
    job: Job,
    result: Result<SendAnswer, String>,
    /// When the request left (the rate permit was granted), if it did.
    sent_at: Option<Instant>,
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

fn limiter(rate: f64) -> Pacer {
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
pub struct Pacer {
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
    pub fn new(per_second: f64) -> Pacer {
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
    pub fn with_window(mut self, limit: f64) -> Pacer {
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
    pub fn reserve(&self, now: Instant) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        let earliest = now.checked_sub(PACE_TOLERANCE).unwrap_or(now);
        let slot = next.map_or(now, |n| n.max(earliest));
        *next = Some(slot + self.period);
        slot
    }

    /// Waits for the next instant (and for room in the window, if any).
    pub async fn until_ready(&self) {
        let slot = self.reserve(Instant::now());
        tokio::time::sleep_until(slot).await;
        while let Some(room) = self.admit(Instant::now()) {
            tokio::time::sleep_until(room).await;
        }
    }
}

/// A recipient as the schedule knows it: the phone's digits as a number.
/// Every job in the feed window is keyed by its recipient in four places;
/// a number instead of a `String` copy in each saves an allocation apiece.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Recipient(u64);

impl Recipient {
    /// Normalised phones are 8–15 digits without a leading zero, so the
    /// number is the phone. Anything else (never produced by validation)
    /// gets a hash with the top bit set, apart from every digit string.
    fn of(phone: &str) -> Recipient {
        match phone.parse::<u64>() {
            Ok(n) if phone.len() <= 15 && !phone.starts_with(['0', '+']) => Recipient(n),
            _ => {
                use std::hash::{Hash, Hasher};
                let mut h = std::hash::DefaultHasher::new();
                phone.hash(&mut h);
                Recipient(h.finish() | 1 << 63)
            }
        }
    }
}

/// `Schedule::next_allowed` is first pruned at this size.
const MIN_PRUNE_AT: usize = 4096;

/// Per-recipient queues, and which recipients are due when.
///
/// The send stage may be fed a window at a time (a million-row night is
/// not held in memory), so a recipient can run out of queued deliveries and
/// get more later: `active` says whether it is already scheduled or in
/// flight, and `next_allowed` remembers when an idle recipient may be sent
/// to again.
struct Schedule {
    queues: HashMap<Recipient, VecDeque<Job>>,
    /// Not due yet: (due, row of its next delivery, recipient).
    waiting: BinaryHeap<Reverse<(Instant, u64, Recipient)>>,
    /// Due: (deliveries left, earlier row first, due, recipient).
    ready: BinaryHeap<(usize, Reverse<u64>, Reverse<Instant>, Recipient)>,
    /// Recipients in `waiting`, in `ready` or in flight.
    active: std::collections::HashSet<Recipient>,
    /// Idle recipients' earliest next send (the pair interval), pruned once
    /// it has passed.
    next_allowed: HashMap<Recipient, Instant>,
    /// Prune `next_allowed` when it reaches this size. It doubles with what
    /// a prune leaves behind: at 1,000/s with a 6 s pair interval some
    /// 6,000 entries are legitimately in the future, and pruning at a fixed
    /// size then walked the whole map on every release (20 % of the CPU
    /// of a 100,000-row run).
    prune_at: usize,
    pending: usize,
}

impl Schedule {
    fn new(jobs: Vec<Job>, now: Instant) -> Schedule {
        let mut s = Schedule {
            queues: HashMap::new(),
            waiting: BinaryHeap::new(),
            ready: BinaryHeap::new(),
            active: std::collections::HashSet::new(),
            next_allowed: HashMap::new(),
            prune_at: MIN_PRUNE_AT,
            pending: 0,
        };
        for job in jobs {
            s.add(job, now);
        }
        s
    }

    /// Queues one more delivery behind its recipient's others.
    fn add(&mut self, job: Job, now: Instant) {
        self.pending += 1;
        let phone = Recipient::of(&job.delivery.phone);
        let row = job.row;
        // Most recipients have one delivery queued: a queue of one, not the
        // four a first push would reserve (a job is ~190 bytes).
        self.queues
            .entry(phone)
            .or_insert_with(|| VecDeque::with_capacity(1))
            .push_back(job);
        if self.active.insert(phone) {
            let due = self.next_allowed.remove(&phone).map_or(now, |t| t.max(now));
            self.waiting.push(Reverse((due, row, phone)));
        }
    }

    fn next_due(&self) -> Option<Instant> {
        let ready = self.ready.peek().map(|(_, _, Reverse(due), _)| *due);
        let waiting = self.waiting.peek().map(|Reverse((due, _, _))| *due);
        match (ready, waiting) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next delivery of the due recipient with the most left.
    fn pop(&mut self, now: Instant) -> Option<Job> {
        while let Some(Reverse((due, order, _))) = self.waiting.peek()
            && *due <= now
        {
            let (due, order) = (*due, *order);
            let Some(Reverse((_, _, phone))) = self.waiting.pop() else {
                break;
            };
            let left = self.queues.get(&phone).map_or(0, VecDeque::len);
            self.ready.push((left, Reverse(order), Reverse(due), phone));
        }
        let (_, _, _, phone) = self.ready.pop()?;
        let queue = self.queues.get_mut(&phone)?;
        let job = queue.pop_front()?;
        if queue.is_empty() {
            self.queues.remove(&phone);
        }
        self.pending -= 1;
        Some(job)
    }

    /// Puts a job back at the front of its recipient's queue (its
    /// recipient is in flight, so still active).
    fn retry(&mut self, job: Job) {
        self.pending += 1;
        self.queues
            .entry(Recipient::of(&job.delivery.phone))
            .or_default()
            .push_front(job);
    }

    /// The recipient's request is over; it is due again at `due` if it has
    /// more to send, and otherwise remembers `due` for when it gets more.
    fn release(&mut self, phone: Recipient, due: Instant) {
        match self.queues.get(&phone).and_then(VecDeque::front) {
            Some(next) => {
                let row = next.row;
                self.waiting.push(Reverse((due, row, phone)));
            }
            None => {
                self.active.remove(&phone);
                if self.next_allowed.len() >= self.prune_at {
                    let now = Instant::now();
                    self.next_allowed.retain(|_, t| *t > now);
                    self.prune_at = MIN_PRUNE_AT.max(2 * self.next_allowed.len());
                }
                self.next_allowed.insert(phone, due);
            }
        }
    }

    fn drain(&mut self) -> Vec<Job> {
        self.waiting.clear();
        self.ready.clear();
        self.active.clear();
        self.pending = 0;
        self.queues.drain().flat_map(|(_, q)| q).collect()
    }
}

/// Everything a worker needs, shared.
struct Context {
    settings: SendSettings,
    /// The global rate limiter and the run-wide pause, shared with workers:
    /// the dispatcher changes them, workers obey them just before sending.
    gate: std::sync::Mutex<Gate>,
    client: Client,
    recorder: Recorder,
    progress: Progress,
    accepted: mpsc::UnboundedSender<Accepted>,
}

/// The dispatcher's state: the schedule and what answers taught it.
struct Dispatcher {
    pair_interval: Duration,
    rate: f64,
    ctx: Arc<Context>,
    schedule: Schedule,
    in_flight: usize,
    /// Set by a 429 or 130429: nobody sends before this instant.
    paused_until: Option<Instant>,
    /// Consecutive answers that suggest the API is down.
    systemic_failures: u32,
    stop: Option<Stop>,
    max_attempts: u32,
    progress: Progress,
}

impl Dispatcher {
    fn pause(&mut self, until: Instant) {
        let until = self.paused_until.map_or(until, |p| p.max(until));
        self.paused_until = Some(until);
        self.ctx.gate().paused_until = Some(until);
    }

    /// Learns from one finished attempt: retry, re-pace, pause, or stop.
    fn handle(&mut self, f: Finished) {
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
        match &answer.class {
            SendClass::Accepted { .. } | SendClass::Rejected => self.systemic_failures = 0,
            SendClass::Fatal(kind) => {
                self.stop.get_or_insert(Stop::Fatal {
                    kind: *kind,
                    detail: answer.detail.clone().unwrap_or_default(),
                });
            }
            SendClass::Ambiguous => self.systemic_failures += 1,
            SendClass::Retry { kind, after } => {
                if *kind == RetryKind::Connect {
                    self.systemic_failures += 1;
                }
                let job = f.job;
                if job.attempts < self.max_attempts {
                    let wait = match kind {
                        RetryKind::TooManyRequests => {
                            let wait = after
                                .unwrap_or_else(|| full_jitter(job.attempts))
                                .min(MAX_RETRY_AFTER);
                            self.pause(now + wait);
                            wait
                        }
                        RetryKind::Throughput => {
                            // Meta says the channel's throughput is exceeded:
                            // pause everyone and go slower from now on.
                            self.rate = (self.rate * 0.9).max(1.0);
                            self.ctx.gate().limiter = Arc::new(limiter(self.rate));
                            let wait = full_jitter(job.attempts);
                            self.pause(now + wait);
                            wait
                        }
                        RetryKind::PairRate => self.pair_interval.max(Duration::from_secs(1)),
                        RetryKind::Connect | RetryKind::Transient => full_jitter(job.attempts),
                    };
                    due = due.max(now + wait);
                    self.schedule.retry(job);
                } else {
                    self.progress.not_sent();
                }
            }
        }
        if self.systemic_failures >= BREAKER_THRESHOLD {
            self.stop.get_or_insert(Stop::Fatal {
                kind: Fatal::Unavailable,
                detail: answer.detail.clone().unwrap_or_default(),
            });
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
    fn gate(&self) -> std::sync::MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until the run is not paused and the global rate allows one
    /// more request. Taken after the intent's commit, so the fsync's jitter
    /// never bunches requests at the API.
    async fn permit(&self) {
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
            limiter.until_ready().await;
            let still_paused = self.gate().paused_until.is_some_and(|p| p > Instant::now());
            if !still_paused {
                return;
            }
        }
    }
}

/// Sends `jobs` and returns why it stopped early, if it did. Rows not sent
/// because of a stop are marked `skipped` in the ledger with the reason.
pub async fn run(
    settings: SendSettings,
    client: Client,
    recorder: Recorder,
    progress: Progress,
    work: Work,
    accepted: mpsc::UnboundedSender<Accepted>,
    mut interrupt: Interrupt,
) -> Option<Stop> {
    let (jobs, mut feed) = match work {
        Work::Jobs(jobs) => (jobs, None),
        Work::Feed(rx) => (Vec::new(), Some(rx)),
    };
    let ctx = Arc::new(Context {
        gate: std::sync::Mutex::new(Gate {
            limiter: Arc::new(limiter(settings.rate)),
            paused_until: None,
        }),
        settings,
        client,
        recorder,
        progress,
        accepted,
    });
    let mut d = Dispatcher {
        pair_interval: padded(ctx.settings.pair_interval),
        rate: ctx.settings.rate,
        ctx: Arc::clone(&ctx),
        schedule: Schedule::new(jobs, Instant::now()),
        in_flight: 0,
        paused_until: None,
        systemic_failures: 0,
        stop: None,
        max_attempts: ctx.settings.max_attempts,
        progress: ctx.progress.clone(),
    };
    let slots = Arc::new(Semaphore::new(ctx.settings.concurrency.max(1)));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Finished>();

    loop {
        if d.stop.is_none()
            && let Some(why) = interrupt.borrow().clone()
        {
            d.stop = Some(Stop::Interrupted(why));
        }
        // Keep a window of deliveries queued; the rest waits in the ledger.
        if let Some(rx) = feed.as_mut() {
            while d.schedule.pending < FEED_WINDOW {
                match rx.try_recv() {
                    Ok(job) => d.schedule.add(job, Instant::now()),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        feed = None;
                        break;
                    }
                }
            }
        }
        let fed = feed.is_none() || d.stop.is_some();
        if (d.stop.is_some() || (d.schedule.pending == 0 && fed)) && d.in_flight == 0 {
            break;
        }
        let hungry = d.stop.is_none() && d.schedule.pending < FEED_WINDOW;
        let dispatchable = d.stop.is_none() && d.schedule.pending > 0;
        let wake = match (dispatchable, d.schedule.next_due()) {
            (true, Some(due)) => Some(d.paused_until.map_or(due, |p| p.max(due))),
            _ => None,
        };
        tokio::select! {
            biased;
            finished = done_rx.recv() => {
                let Some(f) = finished else { break };
                d.handle(f);
            }
            _ = interrupt.changed() => {
                if let Some(why) = interrupt.borrow().clone() {
                    d.stop.get_or_insert(Stop::Interrupted(why));
                }
            }
            job = recv_opt(&mut feed), if hungry && feed.is_some() => {
                match job {
                    Some(job) => d.schedule.add(job, Instant::now()),
                    None => feed = None,
                }
            }
            _ = sleep_until_opt(wake), if wake.is_some() => {
                // A concurrency slot first; the worker takes its rate permit
                // after its intent is committed, right before it sends.
                let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { break };
                // A worker reports before it frees its slot, so whatever
                // finished while we waited is in the channel now: a 401 or a
                // 429 must be seen before one more request leaves.
                while let Ok(f) = done_rx.try_recv() {
                    d.handle(f);
                }
                if d.stop.is_some() || interrupt.borrow().is_some() {
                    continue;
                }
                if d.paused_until.is_some_and(|p| p > Instant::now())
                    || d.schedule.next_due().is_none_or(|due| due > Instant::now())
                {
                    continue;
                }
                let Some(mut job) = d.schedule.pop(Instant::now()) else { continue };
                job.attempts += 1;
                d.in_flight += 1;
                let ctx = Arc::clone(&ctx);
                let done = done_tx.clone();
                tokio::spawn(async move {
                    let recipient = Recipient::of(&job.delivery.phone);
                    let mut sent_at = None;
                    let result = attempt(&ctx, &job, &mut sent_at).await;
                    let _ = done.send(Finished { recipient, job, result, sent_at });
                    drop(slot);
                });
            }
        }
    }
    let stop = d.stop.clone();
    let mut schedule = d.schedule;

    let left = schedule.drain();
    if !left.is_empty() {
        let reason = skip_reason(stop.as_ref());
        let rows: Vec<u64> = left.iter().map(|j| j.row).collect();
        for _ in &rows {
            ctx.progress.not_sent();
        }
        let run = ctx.settings.run;
        let _ = ctx
            .recorder
            .call(move |l| {
                // Row 0 marks a second-pass job rebuilt from the ledger,
                // whose row keeps its own verdict.
                for row in rows.into_iter().filter(|r| *r != 0) {
                    l.set_verdict(run, row, Verdict::Skipped, Some(&reason))?;
                }
                Ok::<_, crate::ledger::LedgerError>(())
            })
            .await;
    }
    stop
}

/// What a row not sent because of `stop` says in the report.
pub fn skip_reason(stop: Option<&Stop>) -> String {
    match stop {
        Some(stop) => format!("not sent: {}", stop.describe()),
        None => "not sent".to_string(),
    }
}

/// The deliveries a send stage works through.
pub enum Work {
    /// A short list (a second pass over doubts settled from the history).
    Jobs(Vec<Job>),
    /// The night's rows, fed from the ledger a window at a time.
    Feed(mpsc::Receiver<Job>),
}

async fn recv_opt(feed: &mut Option<mpsc::Receiver<Job>>) -> Option<Job> {
    match feed {
        Some(rx) => rx.recv().await,
        None => None,
    }
}

async fn sleep_until_opt(when: Option<Instant>) {
    match when {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// One attempt: intent (committed), request, answer (committed).
async fn attempt(
    ctx: &Context,
    job: &Job,
    sent_at: &mut Option<Instant>,
) -> Result<SendAnswer, String> {
    let d = &job.delivery;
    let s = &ctx.settings;
    let params: Vec<String> = d.params().iter().map(|p| p.to_string()).collect();
    let (run, key, attempt_no, phone) = (s.run, d.order_key.clone(), job.attempts, d.phone.clone());
    let intent_params = params.clone();
    // Grouped: committed (with whatever other writes were queued) before
    // this returns, so the request below never leaves ahead of its intent.
    let intent = ctx
        .recorder
        .grouped(move |l| {
            l.record_intent(run, &key, attempt_no, &phone, &intent_params, Utc::now())
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{e}"))?;
    crate::crash::point("after_intent");

    ctx.permit().await;
    *sent_at = Some(Instant::now());
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
        .grouped(move |l| l.record_answer(intent, &record))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{e}"))?;
    crate::crash::point("after_answer");
    let phone = crate::logging::mask_phone(&d.phone);
    let detail = answer.detail.as_deref().unwrap_or("");
    match &answer.class {
        SendClass::Accepted { wamid } => {
            tracing::debug!(order = %d.order_key, %phone, %wamid, attempt = job.attempts, "accepted");
            ctx.progress.sent();
            let _ = ctx.accepted.send(Accepted {
                wamid: wamid.clone(),
            });
        }
        SendClass::Retry { kind, .. } => {
            tracing::info!(order = %d.order_key, %phone, attempt = job.attempts, ?kind, detail, "not sent; will retry");
        }
        SendClass::Ambiguous => {
            tracing::warn!(order = %d.order_key, %phone, http_status = ?answer.http_status, detail, "may or may not have been accepted; will look it up");
            ctx.progress.sent();
        }
        SendClass::Rejected => {
            tracing::warn!(order = %d.order_key, %phone, http_status = ?answer.http_status, error_code = ?answer.error_code, detail, "rejected");
            ctx.progress.sent();
        }
        SendClass::Fatal(kind) => {
            tracing::error!(order = %d.order_key, %phone, ?kind, detail, "the API refused the run; stopping");
            ctx.progress.sent();
        }
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(row: u64, phone: &str) -> Job {
        let delivery = Delivery {
            order_key: format!("K{row}"),
            partner_name: "P".into(),
            phone: phone.to_string(),
            order_number: format!("K{row}"),
            product_name: "Lamp".into(),
            delivery_note: "Note".into(),
            notes: Vec::new(),
        };
        Job {
            row,
            delivery,
            attempts: 0,
        }
    }

    #[test]
    fn the_recipient_with_most_left_goes_first_among_those_due() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // Rows 1–3 to three one-order partners, rows 4–6 to one partner.
        let jobs = vec![
            job(1, "491511"),
            job(2, "491512"),
            job(3, "491513"),
            job(4, "4917"),
            job(5, "4917"),
            job(6, "4917"),
        ];
        let mut s = Schedule::new(jobs, t0);
        assert_eq!(s.pop(t0).map(|j| j.row), Some(4));
        s.release(Recipient::of("4917"), t0 + ms(500));
        assert_eq!(s.pop(t0).map(|j| j.row), Some(1));
        assert_eq!(s.next_due(), Some(t0));
        // Due again, the big partner goes before partner 3, due earlier.
        assert_eq!(s.pop(t0 + ms(500)).map(|j| j.row), Some(5));
        assert_eq!(s.pop(t0 + ms(500)).map(|j| j.row), Some(2));
        assert_eq!(s.pop(t0 + ms(500)).map(|j| j.row), Some(3));
        assert!(s.pop(t0 + ms(500)).is_none(), "row 6 waits for its release");
        s.release(Recipient::of("4917"), t0 + ms(1000));
        assert_eq!(s.next_due(), Some(t0 + ms(1000)));
        assert!(s.pop(t0 + ms(999)).is_none());
        assert_eq!(s.pop(t0 + ms(1000)).map(|j| j.row), Some(6));
        assert_eq!(s.pending, 0);
    }

    #[test]
    fn a_recipient_is_its_digits_and_anything_else_is_kept_apart() {
        assert_eq!(Recipient::of("4915112345678"), Recipient(4_915_112_345_678));
        for odd in [
            "+4915112345678",
            "04915112345678",
            "49 151",
            "1234567890123456",
        ] {
            let r = Recipient::of(odd);
            assert!(r.0 >= 1 << 63, "{odd}");
            assert_ne!(r, Recipient::of("4915112345678"));
        }
        assert_eq!(Recipient::of("49 151"), Recipient::of("49 151"));
    }

    #[test]
    fn idle_recipients_still_in_their_pair_interval_are_kept_and_pruning_stays_rare() {
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        let mut s = Schedule::new(Vec::new(), now);
        // Twice the first prune size of recipients, all still waiting out
        // their pair interval: none may be forgotten.
        let n = 2 * MIN_PRUNE_AT + 10;
        for i in 0..n {
            let phone = format!("49151{i:08}");
            s.add(job(i as u64, &phone), now);
            assert_eq!(s.pop(now).map(|j| j.row), Some(i as u64));
            s.release(Recipient::of(&phone), later);
        }
        assert_eq!(s.next_allowed.len(), n);
        // After a prune that kept everything the next one waits for twice
        // as many, so releases do not each walk the whole map.
        assert!(s.prune_at > n, "prune_at {} for {n} entries", s.prune_at);
        // One of them fed again is not due before its interval ends.
        s.add(job(n as u64, "4915100000007"), now);
        assert_eq!(s.next_due(), Some(later));
    }

    #[test]
    fn a_recipient_fed_again_later_keeps_its_pair_interval_and_one_request_at_a_time() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut s = Schedule::new(vec![job(1, "4917")], t0);
        assert_eq!(s.pop(t0).map(|j| j.row), Some(1));
        s.release(Recipient::of("4917"), t0 + ms(500));
        // Idle, then fed more from the ledger: it still waits its interval.
        s.add(job(2, "4917"), t0 + ms(100));
        assert!(s.pop(t0 + ms(499)).is_none());
        assert_eq!(s.pop(t0 + ms(500)).map(|j| j.row), Some(2));
        // Fed while its request is in flight: not scheduled a second time.
        s.add(job(3, "4917"), t0 + ms(600));
        assert!(s.pop(t0 + ms(10_000)).is_none(), "waits for its release");
        s.release(Recipient::of("4917"), t0 + ms(1000));
        assert_eq!(s.pop(t0 + ms(1000)).map(|j| j.row), Some(3));
        assert_eq!(s.pending, 0);
    }

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
