//! The simulated channel's memory: accepted messages and their planned
//! lives, the rate windows, the webhook settings and the statistics that
//! tests and benchmarks read back through `/__sim`.
//!
//! One mutex guards it all. Each request holds it for a few microseconds
//! and never across an await, which keeps the simulator far faster than any
//! client it measures (see BENCHMARKS.md).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::scenario::{Fault, Outcome, Rule, Scenario, TemplateSpec};

/// One status a message will reach, `after` its acceptance.
#[derive(Debug, Clone)]
pub struct PlannedHook {
    pub after: Duration,
    pub status: &'static str,
    pub error: Option<i64>,
}

/// An accepted send.
#[derive(Debug, Clone)]
pub struct Message {
    pub number: u64,
    pub wamid: String,
    pub phone: String,
    pub template: String,
    pub namespace: Option<String>,
    pub language: String,
    pub params: Vec<String>,
    pub body: String,
    pub accepted_at: SystemTime,
    pub accepted_instant: Instant,
    pub plan: Vec<PlannedHook>,
    pub job_id: Option<String>,
}

impl Message {
    /// The hooks that have "arrived" by `now`, in arrival order.
    pub fn hooks_at(&self, now: Instant) -> impl Iterator<Item = &PlannedHook> {
        let elapsed = now.saturating_duration_since(self.accepted_instant);
        self.plan.iter().filter(move |h| h.after <= elapsed)
    }

    pub fn status_at(&self, now: Instant) -> &'static str {
        self.hooks_at(now).last().map_or("accepted", |h| h.status)
    }

    pub fn unix_time_of(&self, after: Duration) -> u64 {
        (self.accepted_at + after)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// What a send request turns into, decided under the lock.
#[derive(Debug, Clone)]
pub enum Decision {
    /// HTTP 429 with `Retry-After` seconds.
    TooManyRequests { retry_after: u64 },
    /// HTTP 200 `sent:false` with a Meta code.
    Refused { code: i64, details: String },
    /// Accepted; how the answer reaches the client.
    Accepted {
        wamid: String,
        delivery: AnswerDelivery,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerDelivery {
    Normal,
    /// Accepted, then the connection is closed: the client never hears.
    DropAfter,
    /// Accepted, answered after the scenario's slow delay.
    Slow,
    /// `sent:false` with a `jobId`; the wamid is never told.
    Queued {
        job_id: u64,
    },
}

/// Counters for `/__sim/stats`.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    /// Requests by route, then by answer (`200`, `429`, `dropped`, …).
    pub requests: BTreeMap<String, BTreeMap<String, u64>>,
    pub accepted: u64,
    /// `sent:false` answers by Meta code.
    pub refused_by_code: BTreeMap<String, u64>,
    /// Send requests refused because the channel rate was exceeded.
    pub rate_violations: u64,
    /// Send requests refused because one recipient was sent to too soon.
    pub pair_violations: u64,
    /// The most accepted sends in any one-second window.
    pub max_sends_in_one_second: u64,
    /// The most sendTemplate requests that passed validation in any
    /// one-second window, accepted or not.
    pub max_send_requests_in_one_second: u64,
    /// The smallest gap between two send requests (that passed validation)
    /// to one recipient, in milliseconds; null until a recipient got two.
    pub min_pair_spacing_ms: Option<f64>,
    /// The same for accepted sends only.
    pub min_accepted_pair_spacing_ms: Option<f64>,
    pub faults: BTreeMap<String, u64>,
    pub webhook_posts: u64,
    pub webhook_failures: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub webhook_url: Vec<String>,
    pub ack_notifications_on: bool,
    pub guaranteed_hooks: bool,
    pub raw_hooks: bool,
    // 1MSG spells these two in snake case, and POST settings takes them so.
    #[serde(rename = "template_analytics_enabled")]
    pub template_analytics_enabled: bool,
    #[serde(rename = "cta_url_link_tracking_opted_out")]
    pub cta_url_link_tracking_opted_out: bool,
}

pub struct Inner {
    pub token: String,
    pub token_revoked: bool,
    rng: SmallRng,
    pub messages: Vec<Message>,
    by_wamid: HashMap<String, usize>,
    sends_window: VecDeque<Instant>,
    requests_window: VecDeque<Instant>,
    last_request_to: HashMap<String, Instant>,
    last_accept_to: HashMap<String, Instant>,
    rule_uses: Vec<u64>,
    next_job: u64,
    pub stats: Stats,
    pub settings: Settings,
}

/// The whole simulated channel.
pub struct SimState {
    pub scenario: Scenario,
    pub templates: Vec<TemplateSpec>,
    pub rules: Vec<Rule>,
    pub inner: Mutex<Inner>,
}

/// A validated send, ready for the limits and faults.
pub struct SendRequest<'a> {
    pub phone: &'a str,
    pub template: &'a TemplateSpec,
    pub namespace: Option<String>,
    pub params: Vec<String>,
    pub body: String,
}

/// The rule (if any) that decides a send's fate.
#[derive(Debug, Clone, Default)]
pub struct Fate {
    /// The rule that matched; its `times` budget is spent only when its
    /// effect is applied (see [`SimState::spend`]), so a request refused for
    /// another reason (a bad template, a limit) does not use it up.
    pub rule: Option<usize>,
    pub fault: Option<Fault>,
    pub reject: Option<i64>,
    pub outcome: Option<Outcome>,
    pub error: Option<i64>,
}

impl SimState {
    pub fn new(scenario: Scenario) -> SimState {
        let rules = scenario.all_rules();
        let inner = Inner {
            token: scenario.token.clone(),
            token_revoked: false,
            rng: SmallRng::seed_from_u64(scenario.seed),
            messages: Vec::new(),
            by_wamid: HashMap::new(),
            sends_window: VecDeque::new(),
            requests_window: VecDeque::new(),
            last_request_to: HashMap::new(),
            last_accept_to: HashMap::new(),
            rule_uses: vec![0; rules.len()],
            next_job: 1,
            stats: Stats::default(),
            settings: Settings {
                webhook_url: Vec::new(),
                ack_notifications_on: false,
                guaranteed_hooks: false,
                raw_hooks: false,
                template_analytics_enabled: false,
                cta_url_link_tracking_opted_out: false,
            },
        };
        SimState {
            templates: scenario.template_list(),
            rules,
            scenario,
            inner: Mutex::new(inner),
        }
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means a handler panicked mid-request; the
        // counters are still usable, and a simulator must keep answering.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `token` opens this channel right now.
    pub fn token_ok(&self, token: Option<&str>) -> bool {
        let inner = self.lock();
        !inner.token_revoked && token == Some(inner.token.as_str())
    }

    pub fn count(&self, route: &str, answer: &str) {
        let mut inner = self.lock();
        *inner
            .stats
            .requests
            .entry(route.to_string())
            .or_default()
            .entry(answer.to_string())
            .or_default() += 1;
    }

    /// A uniform draw in [0, 1) from the scenario's seeded generator.
    pub fn draw(&self) -> f64 {
        self.lock().rng.random()
    }

    /// Picks the first rule that matches `phone` (honouring `times` and
    /// `probability`) and the global fault probabilities.
    pub fn fate(&self, phone: &str) -> Fate {
        let mut inner = self.lock();
        let mut fate = Fate::default();
        for (i, rule) in self.rules.iter().enumerate() {
            if !rule.matches_phone(phone) {
                continue;
            }
            if rule.times.is_some_and(|t| inner.rule_uses[i] >= t) {
                continue;
            }
            if let Some(p) = rule.probability
                && inner.rng.random::<f64>() >= p
            {
                continue;
            }
            fate = Fate {
                rule: Some(i),
                fault: rule.fault,
                reject: rule.reject,
                outcome: rule.outcome,
                error: rule.error,
            };
            break;
        }
        if fate.fault.is_none() {
            let f = &self.scenario.faults;
            let roll: f64 = inner.rng.random();
            let mut edge = 0.0;
            for (p, fault) in [
                (f.drop_before, Fault::DropBefore),
                (f.error_5xx, Fault::Error5xx),
                (f.drop_after, Fault::DropAfter),
                (f.slow, Fault::Slow),
                (f.queued, Fault::Queued),
            ] {
                edge += p;
                if roll < edge {
                    fate.fault = Some(fault);
                    break;
                }
            }
        }
        fate
    }

    /// Counts one use of the fate's rule against its `times`.
    pub fn spend(&self, fate: &Fate) {
        if let Some(i) = fate.rule {
            self.lock().rule_uses[i] += 1;
        }
    }

    pub fn note_fault(&self, name: &str) {
        *self.lock().stats.faults.entry(name.into()).or_default() += 1;
    }

    pub fn note_refusal(&self, code: i64) {
        *self
            .lock()
            .stats
            .refused_by_code
            .entry(code.to_string())
            .or_default() += 1;
    }

    /// Applies the channel and pair limits to a validated send and, if they
    /// allow it, accepts it. Everything happens under one lock so two
    /// concurrent requests can never both squeeze under a limit.
    #[expect(
        clippy::too_many_lines,
        reason = "one lock held from the first limit check to the acceptance, on purpose"
    )]
    pub fn admit(&self, req: SendRequest<'_>, fate: &Fate) -> Decision {
        let limits = &self.scenario.limits;
        let now = Instant::now();
        let mut guard = self.lock();
        let inner = &mut *guard;

        let second = Duration::from_secs(1);
        while inner
            .requests_window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= second)
        {
            inner.requests_window.pop_front();
        }
        inner.requests_window.push_back(now);
        inner.stats.max_send_requests_in_one_second = inner
            .stats
            .max_send_requests_in_one_second
            .max(inner.requests_window.len() as u64);
        if let Some(prev) = inner.last_request_to.insert(req.phone.to_string(), now) {
            let gap = now.duration_since(prev).as_secs_f64() * 1000.0;
            let min = &mut inner.stats.min_pair_spacing_ms;
            *min = Some(min.map_or(gap, |m| m.min(gap)));
        }

        while inner
            .sends_window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= second)
        {
            inner.sends_window.pop_front();
        }
        if limits.rate > 0 && inner.sends_window.len() >= limits.rate as usize {
            inner.stats.rate_violations += 1;
            return match limits.rate_mode {
                super::scenario::RateMode::Http429 => Decision::TooManyRequests {
                    retry_after: limits.retry_after.as_secs().max(1),
                },
                super::scenario::RateMode::Meta130429 => Decision::Refused {
                    code: 130429,
                    details: format!(
                        "more than {} messages in one second for this phone number",
                        limits.rate
                    ),
                },
            };
        }
        if !limits.pair_interval.is_zero()
            && let Some(last) = inner.last_accept_to.get(req.phone)
            && now.duration_since(*last) < limits.pair_interval
        {
            inner.stats.pair_violations += 1;
            return Decision::Refused {
                code: 131056,
                details: format!(
                    "the previous message to this recipient was {} ms ago; wait {}",
                    now.duration_since(*last).as_millis(),
                    crate::duration::format(limits.pair_interval)
                ),
            };
        }

        // Accepted: the rule that decides this message's life is spent.
        if let Some(i) = fate.rule {
            inner.rule_uses[i] += 1;
        }
        inner.sends_window.push_back(now);
        inner.stats.max_sends_in_one_second = inner
            .stats
            .max_sends_in_one_second
            .max(inner.sends_window.len() as u64);
        if let Some(prev) = inner.last_accept_to.insert(req.phone.to_string(), now) {
            let gap = now.duration_since(prev).as_secs_f64() * 1000.0;
            let min = &mut inner.stats.min_accepted_pair_spacing_ms;
            *min = Some(min.map_or(gap, |m| m.min(gap)));
        }
        inner.stats.accepted += 1;
        let number = inner.messages.len() as u64 + 1;
        let wamid = format!("wamid.HBgL{number:010}{:016X}", inner.rng.random::<u64>());
        let delivery = match fate.fault {
            Some(Fault::DropAfter) => AnswerDelivery::DropAfter,
            Some(Fault::Slow) => AnswerDelivery::Slow,
            Some(Fault::Queued) => {
                let job_id = inner.next_job;
                inner.next_job += 1;
                AnswerDelivery::Queued { job_id }
            }
            _ => AnswerDelivery::Normal,
        };
        let start_offset = match delivery {
            AnswerDelivery::Queued { .. } => self.scenario.faults.queued_delay,
            _ => Duration::ZERO,
        };
        let plan = self.plan(&mut inner.rng, fate, start_offset);
        let message = Message {
            number,
            wamid: wamid.clone(),
            phone: req.phone.to_string(),
            template: req.template.name.clone(),
            namespace: req.namespace,
            language: req.template.language.clone(),
            params: req.params,
            body: req.body,
            accepted_at: SystemTime::now(),
            accepted_instant: now,
            plan,
            job_id: match delivery {
                AnswerDelivery::Queued { job_id } => Some(format!("job-{job_id}")),
                _ => None,
            },
        };
        inner.by_wamid.insert(wamid.clone(), inner.messages.len());
        inner.messages.push(message);
        if let Some(limit) = self.scenario.faults.revoke_token_after
            && inner.stats.accepted >= limit
        {
            inner.token_revoked = true;
        }
        Decision::Accepted { wamid, delivery }
    }

    /// Draws the statuses a message will go through.
    fn plan(&self, rng: &mut SmallRng, fate: &Fate, start: Duration) -> Vec<PlannedHook> {
        let lat = &self.scenario.latency;
        let sent_at = start + lat.sent.pick(rng.random());
        let outcome = fate.outcome.unwrap_or_else(|| {
            if rng.random::<f64>() < lat.read_ratio {
                Outcome::Read
            } else {
                Outcome::Delivered
            }
        });
        let hook = |after, status, error| PlannedHook {
            after,
            status,
            error,
        };
        match outcome {
            Outcome::Silent => Vec::new(),
            Outcome::Sent => vec![hook(sent_at, "sent", None)],
            Outcome::Failed => {
                let failed_at = sent_at + lat.failed.pick(rng.random());
                vec![
                    hook(sent_at, "sent", None),
                    hook(failed_at, "failed", Some(fate.error.unwrap_or(131026))),
                ]
            }
            Outcome::Delivered | Outcome::Read => {
                let delivered_at = sent_at + lat.delivered.pick(rng.random());
                let mut plan = vec![
                    hook(sent_at, "sent", None),
                    hook(delivered_at, "delivered", None),
                ];
                if outcome == Outcome::Read {
                    plan.push(hook(
                        delivered_at + lat.read.pick(rng.random()),
                        "read",
                        None,
                    ));
                }
                plan
            }
        }
    }

    pub fn message(&self, wamid: &str) -> Option<Message> {
        let inner = self.lock();
        inner
            .by_wamid
            .get(wamid)
            .map(|&i| inner.messages[i].clone())
    }

    pub fn revoke_token(&self) {
        self.lock().token_revoked = true;
    }
}

/// Unix seconds of a `SystemTime`.
pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
