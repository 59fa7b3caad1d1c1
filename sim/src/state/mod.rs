//! The simulated channel's memory: accepted messages and their planned
//! lives, the history, the rate windows, the webhook settings and the
//! statistics that tests and benchmarks read back through `/__sim`.
//!
//! One mutex guards it all. Each request holds it for a few microseconds
//! and never across an await, which keeps the simulator far faster than any
//! client it measures (see BENCHMARKS.md).

mod admit;
mod chat;
mod memory;
mod message;
mod stats;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

pub(crate) use admit::{Decision, SendRequest};
pub(crate) use message::{AnswerDelivery, HistoryEntry, HistoryView, Message, PlannedHook};
pub(crate) use stats::{Settings, Stats};

use super::scenario::{Fault, Outcome, Rule, Scenario, TemplateSpec};

pub(crate) struct Inner {
    pub token: String,
    pub token_revoked: bool,
    /// What `/status` says now; starts as the scenario's.
    pub channel_status: String,
    rng: SmallRng,
    /// Random per simulator start, in every wamid: a restarted simulator
    /// (a rehearsal, Ctrl-C, the same command again) never repeats one.
    start_tag: u32,
    pub messages: Vec<Message>,
    /// `GET messages`' view: our messages and the others, in number order.
    pub history: Vec<HistoryEntry>,
    by_wamid: HashMap<String, usize>,
    chats_seeded: HashSet<String>,
    next_other: u64,
    sends_window: VecDeque<Instant>,
    requests_window: VecDeque<Instant>,
    last_request_to: HashMap<String, Instant>,
    last_accept_to: HashMap<String, Instant>,
    rule_uses: Vec<u64>,
    next_job: u64,
    templates_requests: u64,
    pub stats: Stats,
    pub settings: Settings,
    /// The memory file, when the channel outlives its process.
    memory: Option<memory::Memory>,
}

/// The whole simulated channel.
pub(crate) struct SimState {
    pub scenario: Scenario,
    pub templates: Vec<TemplateSpec>,
    pub rules: Vec<Rule>,
    pub inner: Mutex<Inner>,
}

/// The rule (if any) that decides a send's fate.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fate {
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
    pub(crate) fn new(scenario: Scenario) -> SimState {
        let rules = scenario.all_rules();
        let inner = Inner {
            token: scenario.token.clone(),
            token_revoked: false,
            channel_status: scenario.channel_status.clone(),
            rng: SmallRng::seed_from_u64(scenario.seed),
            start_tag: rand::random(),
            messages: Vec::new(),
            history: Vec::new(),
            by_wamid: HashMap::new(),
            chats_seeded: HashSet::new(),
            next_other: 0,
            sends_window: VecDeque::new(),
            requests_window: VecDeque::new(),
            last_request_to: HashMap::new(),
            last_accept_to: HashMap::new(),
            rule_uses: vec![0; rules.len()],
            next_job: 1,
            templates_requests: 0,
            stats: Stats::default(),
            settings: Settings::default(),
            memory: None,
        };
        SimState {
            templates: scenario.template_list(),
            rules,
            scenario,
            inner: Mutex::new(inner),
        }
    }

    /// The simulator remembers its messages in `path` (see [`memory`]):
    /// those it held are taken back, and each one it accepts is kept.
    pub(crate) fn remember(self, path: &std::path::Path) -> std::io::Result<SimState> {
        let (messages, file) = memory::open(path)?;
        let mut inner = self.lock();
        inner.recall(messages);
        inner.memory = Some(file);
        drop(inner);
        Ok(self)
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means a handler panicked mid-request; the
        // counters are still usable, and a simulator must keep answering.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `token` opens this channel right now.
    pub(crate) fn token_ok(&self, token: Option<&str>) -> bool {
        let inner = self.lock();
        !inner.token_revoked && token == Some(inner.token.as_str())
    }

    /// `/status`'s word for the channel right now.
    pub(crate) fn channel_status(&self) -> String {
        self.lock().channel_status.clone()
    }

    /// Whether the channel can send now: only `connected` can.
    pub(crate) fn connected(&self) -> bool {
        self.lock().channel_status == "connected"
    }

    pub(crate) fn count(&self, route: &str, answer: &str) {
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
    pub(crate) fn draw(&self) -> f64 {
        self.lock().rng.random()
    }

    /// Picks the first rule that matches `phone` (honouring `times` and
    /// `probability`) and the global fault probabilities.
    pub(crate) fn fate(&self, phone: &str) -> Fate {
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
            let roll: f64 = inner.rng.random();
            let mut edge = 0.0;
            for (p, fault) in self.scenario.faults.table() {
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
    pub(crate) fn spend(&self, fate: &Fate) {
        if let Some(i) = fate.rule {
            self.lock().rule_uses[i] += 1;
        }
    }

    pub(crate) fn note_fault(&self, name: &str) {
        *self.lock().stats.faults.entry(name.into()).or_default() += 1;
    }

    pub(crate) fn note_refusal(&self, code: i64) {
        *self
            .lock()
            .stats
            .refused_by_code
            .entry(code.to_string())
            .or_default() += 1;
    }

    /// Counts a `/templates` request; true while the scenario's
    /// `fail_first` requests are not used up.
    pub(crate) fn templates_request_fails(&self) -> bool {
        let mut inner = self.lock();
        inner.templates_requests += 1;
        inner.templates_requests <= self.scenario.templates_list.fail_first
    }

    pub(crate) fn message(&self, wamid: &str) -> Option<Message> {
        let inner = self.lock();
        inner
            .by_wamid
            .get(wamid)
            .map(|&i| inner.messages[i].clone())
    }

    /// A template's status and category as Meta holds them now: paused or
    /// re-categorised once the scenario's number of accepted sends is
    /// reached (`faults.pause_template_after`, `faults.recategorize_after`).
    pub(crate) fn template_now<'a>(&self, t: &'a TemplateSpec) -> (&'a str, &'a str) {
        let accepted = self.lock().stats.accepted;
        self.template_at(t, accepted)
    }

    /// [`SimState::template_now`] after `accepted` accepted sends.
    fn template_at<'a>(&self, t: &'a TemplateSpec, accepted: u64) -> (&'a str, &'a str) {
        let faults = &self.scenario.faults;
        let reached = |after: Option<u64>| after.is_some_and(|n| accepted >= n);
        let status = match reached(faults.pause_template_after) {
            true => "paused",
            false => t.status.as_str(),
        };
        let category = match reached(faults.recategorize_after) {
            true => "MARKETING",
            false => t.category.as_str(),
        };
        (status, category)
    }

    pub(crate) fn revoke_token(&self) {
        self.lock().token_revoked = true;
    }
}
