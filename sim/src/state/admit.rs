//! A validated send meets the channel's limits and, if they allow it,
//! becomes a message: one lock from the first limit check to the history
//! entry, so two concurrent requests can never both squeeze under a limit.

use std::time::{Duration, Instant, SystemTime};

use rand::Rng;

use super::chat;
use super::message::{AnswerDelivery, HistoryEntry, HistoryItem, Message, plan};
use super::{Fate, Inner, SimState};
use crate::scenario::{RateMode, TemplateSpec};

/// What a send request turns into, decided under the lock.
#[derive(Debug, Clone)]
pub(crate) enum Decision {
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

/// A validated send, ready for the limits and faults.
pub(crate) struct SendRequest<'a> {
    pub phone: &'a str,
    pub template: &'a TemplateSpec,
    pub namespace: Option<String>,
    pub params: Vec<String>,
    pub body: String,
}

/// Numeric ids are `start tag × 10⁶ + number`: below 2⁵³, so a JavaScript
/// client reads them exactly, and unique across simulator starts.
const NUMERIC_ID_SPACE: u64 = 1_000_000;

impl SimState {
    /// Applies the channel and pair limits to a validated send and, if they
    /// allow it, accepts it.
    pub(crate) fn admit(&self, req: SendRequest<'_>, fate: &Fate) -> Decision {
        let now = Instant::now();
        let mut guard = self.lock();
        let inner = &mut *guard;
        if let Some(refusal) = self.limit(inner, req.phone, now) {
            return refusal;
        }
        self.accept(inner, req, fate, now)
    }

    /// Counts the request in its windows; `Some` is the refusal a limit
    /// makes.
    fn limit(&self, inner: &mut Inner, phone: &str, now: Instant) -> Option<Decision> {
        let limits = &self.scenario.limits;
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
        if let Some(prev) = inner.last_request_to.insert(phone.to_string(), now) {
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
            return Some(match limits.rate_mode {
                RateMode::Http429 => Decision::TooManyRequests {
                    retry_after: limits.retry_after.as_secs().max(1),
                },
                RateMode::Meta130429 => Decision::Refused {
                    code: 130429,
                    details: format!(
                        "more than {} messages in one second for this phone number",
                        limits.rate
                    ),
                },
            });
        }
        if !limits.pair_interval.is_zero()
            && let Some(last) = inner.last_accept_to.get(phone)
            && now.duration_since(*last) < limits.pair_interval
        {
            inner.stats.pair_violations += 1;
            return Some(Decision::Refused {
                code: 131056,
                details: format!(
                    "the previous message to this recipient was {} ms ago; wait {}",
                    now.duration_since(*last).as_millis(),
                    crate::duration::format(limits.pair_interval)
                ),
            });
        }
        None
    }

    /// Accepts the send: the rule that decides this message's life is spent,
    /// the message and its history entries are stored.
    fn accept(
        &self,
        inner: &mut Inner,
        req: SendRequest<'_>,
        fate: &Fate,
        now: Instant,
    ) -> Decision {
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
        let draw = inner.rng.random::<u64>();
        let delivery = AnswerDelivery::for_fault(fate.fault, || {
            inner.next_job += 1;
            inner.next_job - 1
        });
        // The start tag makes wamids unique per simulator start; the seeded
        // draw keeps the rest of a replay identical.
        let wamid = match delivery {
            AnswerDelivery::NumericId => {
                (u64::from(inner.start_tag) * NUMERIC_ID_SPACE + number).to_string()
            }
            _ => format!("wamid.HBgL{:08X}{number:010}{draw:016X}", inner.start_tag),
        };
        let start_offset = match delivery {
            AnswerDelivery::Queued { .. } => self.scenario.faults.queued_delay,
            AnswerDelivery::Held => self.scenario.faults.held_delay,
            _ => Duration::ZERO,
        };
        let (outcome, plan) = plan(&self.scenario, &mut inner.rng, fate, start_offset);
        // Priced as the category Meta holds at the send (this one counted).
        let category = self.template_at(req.template, inner.stats.accepted - 1).1;
        let message = Message {
            number,
            category: category.to_ascii_lowercase(),
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
                AnswerDelivery::Queued {
                    job_id,
                    numeric: false,
                } => Some(format!("job-{job_id}")),
                AnswerDelivery::Queued {
                    job_id,
                    numeric: true,
                } => Some(job_id.to_string()),
                _ => None,
            },
            answer: delivery,
            outcome,
        };
        let visible_from = now + start_offset + self.scenario.history.lag;
        self.record_history(inner, message, req.template, now, visible_from);
        let faults = &self.scenario.faults;
        if faults
            .revoke_token_after
            .is_some_and(|limit| inner.stats.accepted >= limit)
        {
            inner.token_revoked = true;
        }
        if faults
            .disconnect_after
            .is_some_and(|limit| inner.stats.accepted >= limit)
        {
            inner.channel_status = "disconnected".into();
        }
        Decision::Accepted { wamid, delivery }
    }

    /// Stores `message` and its history entry, with the other messages of
    /// its chat around it the first time the chat is written to.
    fn record_history(
        &self,
        inner: &mut Inner,
        message: Message,
        template: &TemplateSpec,
        now: Instant,
        visible_from: Instant,
    ) {
        let n = self.scenario.history.others_in_chat;
        let (before, after) = if n > 0 && inner.chats_seeded.insert(message.phone.clone()) {
            let tag = inner.start_tag;
            let next_other = &mut inner.next_other;
            chat::others(&message, template, n, || {
                *next_other += 1;
                format!("wamid.HBgL{tag:08X}OTHER{:09}", *next_other)
            })
        } else {
            (Vec::new(), Vec::new())
        };
        if let Some(memory) = &mut inner.memory {
            super::memory::keep(memory, &message);
        }
        let index = inner.messages.len();
        inner.by_wamid.insert(message.wamid.clone(), index);
        inner.messages.push(message);
        // The made-up messages are in the history from the start.
        for other in before {
            inner.push_history(now, HistoryItem::Other(other));
        }
        inner.push_history(visible_from, HistoryItem::Sent(index));
        for other in after {
            inner.push_history(now, HistoryItem::Other(other));
        }
    }
}

impl Inner {
    pub(super) fn push_history(&mut self, visible_from: Instant, item: HistoryItem) {
        let number = self.history.len() as u64 + 1;
        self.history.push(HistoryEntry {
            number,
            visible_from,
            item,
        });
    }
}
