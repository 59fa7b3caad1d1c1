//! An accepted message: what was sent, how its answer went, the statuses it
//! will go through; and the entries of the channel's message history.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::Rng;
use rand::rngs::SmallRng;

use super::Fate;
use crate::scenario::{Fault, Outcome, Scenario};

/// One status a message will reach, `after` its acceptance.
#[derive(Debug, Clone)]
pub(crate) struct PlannedHook {
    pub after: Duration,
    pub status: &'static str,
    pub error: Option<i64>,
}

/// How the answer to an accepted send reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum AnswerDelivery {
    Normal,
    /// Accepted, then the connection is closed: the client never hears.
    DropAfter,
    /// Accepted, answered after the scenario's slow delay.
    Slow,
    /// `sent:false` with a `jobId` (a string, or a number when `numeric`);
    /// the wamid is never told.
    Queued {
        job_id: u64,
        numeric: bool,
    },
    /// `{"sent":true,"message":"Sent to …"}`.
    SentNoId,
    /// `{"sent":true,"message":"<wamid>"}`.
    IdInMessage,
    /// `{"id":…,"message":…}`.
    NoSentField,
    /// `{"sent":"true",…}`.
    SentAsString,
    /// `{"sent":true,"id":<number>,…}`.
    NumericId,
    /// A proxy's HTML 504 page.
    Html504,
    /// The Cloud API's own shape, `message_status: accepted`.
    CloudShape,
    /// The Cloud API's shape, `message_status: held_for_quality_assessment`;
    /// the message's statuses start after the scenario's `held_delay`.
    Held,
}

impl AnswerDelivery {
    /// The accepted-send delivery a fault asks for; `job_id` numbers a
    /// queued one.
    pub(crate) fn for_fault(fault: Option<Fault>, job_id: impl FnOnce() -> u64) -> AnswerDelivery {
        match fault {
            Some(Fault::DropAfter) => AnswerDelivery::DropAfter,
            Some(Fault::Slow) => AnswerDelivery::Slow,
            Some(Fault::Queued) => AnswerDelivery::Queued {
                job_id: job_id(),
                numeric: false,
            },
            Some(Fault::QueuedNumericJob) => AnswerDelivery::Queued {
                job_id: job_id(),
                numeric: true,
            },
            Some(Fault::SentNoId) => AnswerDelivery::SentNoId,
            Some(Fault::IdInMessage) => AnswerDelivery::IdInMessage,
            Some(Fault::NoSentField) => AnswerDelivery::NoSentField,
            Some(Fault::SentAsString) => AnswerDelivery::SentAsString,
            Some(Fault::NumericId) => AnswerDelivery::NumericId,
            Some(Fault::Html504) => AnswerDelivery::Html504,
            Some(Fault::CloudShape) => AnswerDelivery::CloudShape,
            Some(Fault::HeldForQuality) => AnswerDelivery::Held,
            _ => AnswerDelivery::Normal,
        }
    }

    /// Its name in `/__sim/messages` and in the fault counters.
    pub(crate) fn name(self) -> &'static str {
        match self {
            AnswerDelivery::Normal => "sent",
            AnswerDelivery::DropAfter => "drop_after",
            AnswerDelivery::Slow => "slow",
            AnswerDelivery::Queued { numeric: false, .. } => "queued",
            AnswerDelivery::Queued { numeric: true, .. } => "queued_numeric_job",
            AnswerDelivery::SentNoId => "sent_no_id",
            AnswerDelivery::IdInMessage => "id_in_message",
            AnswerDelivery::NoSentField => "no_sent_field",
            AnswerDelivery::SentAsString => "sent_as_string",
            AnswerDelivery::NumericId => "numeric_id",
            AnswerDelivery::Html504 => "html_504",
            AnswerDelivery::CloudShape => "cloud_shape",
            AnswerDelivery::Held => "held_for_quality",
        }
    }

    /// Whether the answer, if it arrives, carries the message's id.
    pub(crate) fn tells_wamid(self) -> bool {
        !matches!(
            self,
            AnswerDelivery::DropAfter
                | AnswerDelivery::Queued { .. }
                | AnswerDelivery::SentNoId
                | AnswerDelivery::Html504
        )
    }
}

/// An accepted send.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub number: u64,
    /// A `wamid.…`, or for a numeric-id answer its decimal digits.
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
    pub answer: AnswerDelivery,
    pub outcome: Outcome,
    /// The template's category when it was sent, lower case: what its
    /// statuses' `pricing.category` says.
    pub category: String,
}

impl Message {
    /// The hooks that have "arrived" by `now`, in arrival order.
    pub(crate) fn hooks_at(&self, now: Instant) -> impl Iterator<Item = &PlannedHook> {
        let elapsed = now.saturating_duration_since(self.accepted_instant);
        self.plan.iter().filter(move |h| h.after <= elapsed)
    }

    pub(crate) fn status_at(&self, now: Instant) -> &'static str {
        self.hooks_at(now).last().map_or("accepted", |h| h.status)
    }

    pub(crate) fn unix_time_of(&self, after: Duration) -> u64 {
        (self.accepted_at + after)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// Draws the statuses a message will go through, `start` after its
/// acceptance; the draws are those of the seeded generator, in a fixed order.
pub(super) fn plan(
    scenario: &Scenario,
    rng: &mut SmallRng,
    fate: &Fate,
    start: Duration,
) -> (Outcome, Vec<PlannedHook>) {
    let lat = &scenario.latency;
    let words = &scenario.hooks;
    let sent_at = start + lat.sent.pick(rng.random());
    let outcome = fate.outcome.unwrap_or_else(|| {
        if rng.random::<f64>() < lat.read_ratio {
            Outcome::Read
        } else {
            Outcome::Delivered
        }
    });
    let error = fate.error.unwrap_or(131026);
    let hook = |after, status, error| PlannedHook {
        after,
        status,
        error,
    };
    let sent = hook(sent_at, "sent", None);
    let plan = match outcome {
        Outcome::Silent => Vec::new(),
        Outcome::Sent => vec![sent],
        Outcome::Failed | Outcome::Undelivered => {
            let word = match outcome {
                Outcome::Undelivered => "undelivered",
                _ => words.failed_as.word(),
            };
            let failed_at = sent_at + lat.failed.pick(rng.random());
            vec![sent, hook(failed_at, word, Some(error))]
        }
        Outcome::FailedThenRead => {
            let failed_at = sent_at + lat.failed.pick(rng.random());
            let read_at = failed_at + lat.read.pick(rng.random());
            vec![
                sent,
                hook(failed_at, words.failed_as.word(), Some(error)),
                hook(read_at, words.read_as.word(), None),
            ]
        }
        Outcome::ReadThenFailed => {
            let read_at = sent_at + lat.read.pick(rng.random());
            let failed_at = read_at + lat.failed.pick(rng.random());
            vec![
                sent,
                hook(read_at, words.read_as.word(), None),
                hook(failed_at, words.failed_as.word(), Some(error)),
            ]
        }
        Outcome::Delivered
        | Outcome::Read
        | Outcome::Viewed
        | Outcome::Played
        | Outcome::Deleted => {
            let delivered_at = sent_at + lat.delivered.pick(rng.random());
            let mut plan = vec![sent, hook(delivered_at, "delivered", None)];
            let read_word = match outcome {
                Outcome::Delivered => return (outcome, plan),
                Outcome::Viewed => "viewed",
                Outcome::Played => "played",
                _ => words.read_as.word(),
            };
            let read_at = delivered_at + lat.read.pick(rng.random());
            plan.push(hook(read_at, read_word, None));
            if outcome == Outcome::Deleted || words.deleted_after_read {
                let deleted_at = read_at + lat.read.pick(rng.random());
                plan.push(hook(deleted_at, "deleted", None));
            }
            plan
        }
    };
    (outcome, plan)
}

/// One message of the channel's history, ours or not.
#[derive(Debug, Clone)]
pub(crate) struct HistoryEntry {
    /// `messageNumber`: the history's own sequence, 1, 2, …
    pub number: u64,
    /// Before this the history does not show it (lag, queued sends).
    pub visible_from: Instant,
    pub item: HistoryItem,
}

#[derive(Debug, Clone)]
pub(crate) enum HistoryItem {
    /// An accepted send, by its index in the channel's messages.
    Sent(usize),
    /// Someone else's message in a partner's chat, or an older one of ours
    /// that this simulator never accepted.
    Other(OtherMessage),
}

/// A history message the simulator made up for `others_in_chat`.
#[derive(Debug, Clone)]
pub(crate) struct OtherMessage {
    pub id: String,
    pub phone: String,
    pub from_me: bool,
    /// `chat`, `button` or `template`.
    pub kind: &'static str,
    pub body: String,
    /// For a template: its name, language and namespace.
    pub template: Option<(String, String, Option<String>)>,
    pub time: u64,
}

/// The fields of a history entry, ours or another's, as `GET messages`
/// shows them.
pub(crate) struct HistoryView<'a> {
    pub id: &'a str,
    pub phone: &'a str,
    pub from_me: bool,
    pub kind: &'a str,
    /// The rendered body.
    pub body: &'a str,
    pub template: Option<(&'a str, &'a str, Option<&'a str>)>,
    pub time: u64,
}

impl HistoryEntry {
    pub(crate) fn view<'a>(&'a self, messages: &'a [Message]) -> HistoryView<'a> {
        match &self.item {
            HistoryItem::Sent(i) => {
                let m = &messages[*i];
                HistoryView {
                    id: &m.wamid,
                    phone: &m.phone,
                    from_me: true,
                    kind: "template",
                    body: &m.body,
                    template: Some((&m.template, &m.language, m.namespace.as_deref())),
                    time: unix_seconds(m.accepted_at),
                }
            }
            HistoryItem::Other(o) => HistoryView {
                id: &o.id,
                phone: &o.phone,
                from_me: o.from_me,
                kind: o.kind,
                body: &o.body,
                template: o
                    .template
                    .as_ref()
                    .map(|(t, l, n)| (t.as_str(), l.as_str(), n.as_deref())),
                time: o.time,
            },
        }
    }
}

/// Unix seconds of a `SystemTime`.
pub(crate) fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
