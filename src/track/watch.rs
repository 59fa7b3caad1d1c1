//! When each message is polled next, and when it leaves the schedule.
//!
//! A message leaves at its first proof of delivery (`delivered`, `read`
//! and its synonyms). A `failed` does not end its watch at once: the real
//! API may say `sent, failed, read` (docs/real-api.md, B2), and if the `read`
//! comes in a later answer than the `failed`, a tracker that stopped at the
//! failure reports a message the partner read as failed, and a rerun sends
//! it again. So a failed message is polled [`FOLLOW_UPS_AFTER_FAILURE`]
//! more times on its own schedule (or until tracking ends), then left.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::time::Duration;

use tokio::time::Instant;

use crate::api::hooks::Hook;
use crate::ledger::Status;

/// Polls after a message's first `failed`, looking for a later proof of
/// delivery. Polls come at `first_poll × 1.5ⁿ` after acceptance, so three
/// more watch a failure seen at poll n until about 3.4 times its age: a
/// failure seen at the default first poll (3.5 s) is watched until 11.8 s.
/// Failures are a few percent of a night, so this adds well under 0.2
/// polls per message; a longer watch would hold the run's end open longer
/// (by up to the last extra poll) for a contradiction whose timing no
/// source documents. A message that is never `failed` costs nothing.
pub(super) const FOLLOW_UPS_AFTER_FAILURE: u32 = 3;

pub(super) const POLL_CAP: Duration = Duration::from_secs(60);

/// How much later than the previous poll, counted from acceptance, each
/// poll comes: poll n (from 0) is due about `first_poll × 1.5^n` after
/// acceptance.
const POLL_GROWTH: f64 = 1.5;

/// One message on the schedule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Watch {
    pub wamid: String,
    /// Polls answered or attempted so far.
    pub polls: u32,
    /// After a `failed`: the follow-up polls still to make. `None` while
    /// the message has no final status.
    pub after_failure: Option<u32>,
}

impl Watch {
    pub(super) fn new(wamid: String) -> Watch {
        Watch {
            wamid,
            polls: 0,
            after_failure: None,
        }
    }

    /// Whether the message has no final status yet (a failed one under
    /// watch for a later proof has one).
    pub(super) fn is_open(&self) -> bool {
        self.after_failure.is_none()
    }
}

/// What one `hookInfo` answer says, for the schedule: a proof of delivery,
/// whatever else the answer holds; else a failure; else nothing final
/// (`Sent`), which is also what no answer at all says.
pub(super) fn heard(hooks: &[Hook]) -> Status {
    let statuses = || hooks.iter().map(|h| Status::of(&h.status));
    if let Some(proof) = statuses().find(|s| s.proves_delivery()) {
        proof
    } else if statuses().any(|s| s == Status::Failed) {
        Status::Failed
    } else {
        Status::Sent
    }
}

/// What to do with a message after an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Next {
    /// Poll it again; `None`: it leaves the schedule.
    pub again: Option<Watch>,
    /// This answer gave it its first final status.
    pub became_final: bool,
}

/// The message's next step after `heard` on its poll number `watch.polls`.
pub(super) fn after(mut watch: Watch, heard: Status) -> Next {
    let was_open = watch.is_open();
    let left = match (heard, watch.after_failure) {
        (proof, _) if proof.proves_delivery() => None,
        (Status::Failed, None) => Some(FOLLOW_UPS_AFTER_FAILURE),
        (_, None) => {
            return Next {
                again: Some(watch),
                became_final: false,
            };
        }
        // A follow-up that brought no proof (or no answer) uses one up.
        (_, Some(left)) => Some(left.saturating_sub(1)),
    };
    // The first failure or proof makes an open message final.
    watch.after_failure = left;
    Next {
        again: left.filter(|n| *n > 0).map(|_| watch),
        became_final: was_open,
    }
}

/// The messages waiting for their next poll: the earliest due first, and
/// of those due together the one queued first. A message whose final
/// status arrives by webhook is cancelled: it stays in the heap (removing
/// from the middle of a heap is a scan) but is never popped, and no longer
/// counts as waiting. A wamid is queued at most once.
#[derive(Default)]
pub(super) struct Due {
    /// (due, sequence, message)
    heap: BinaryHeap<Reverse<(Instant, u64, Watch)>>,
    seq: u64,
    /// The wamids in `heap`, each with whether it is open.
    queued: HashMap<String, bool>,
    /// Queued wamids not to be popped.
    cancelled: HashSet<String>,
}

impl Due {
    pub(super) fn push(&mut self, due: Instant, watch: Watch) {
        if self.queued.contains_key(&watch.wamid) {
            return;
        }
        self.queued.insert(watch.wamid.clone(), watch.is_open());
        self.seq += 1;
        self.heap.push(Reverse((due, self.seq, watch)));
    }

    /// When the first message not cancelled is due.
    pub(super) fn next(&mut self) -> Option<Instant> {
        while let Some(Reverse((due, _, w))) = self.heap.peek() {
            if !self.cancelled.contains(&w.wamid) {
                return Some(*due);
            }
            self.pop_entry();
        }
        None
    }

    fn pop_entry(&mut self) -> Option<Watch> {
        let Reverse((_, _, watch)) = self.heap.pop()?;
        self.queued.remove(&watch.wamid);
        self.cancelled.remove(&watch.wamid);
        Some(watch)
    }

    /// The message due first ([`Due::next`] drops the cancelled ones above
    /// it).
    pub(super) fn pop(&mut self) -> Option<Watch> {
        self.next()?;
        self.pop_entry()
    }

    /// Takes `wamid` off the schedule; `Some(was_open)` if it was waiting.
    pub(super) fn cancel(&mut self, wamid: &str) -> Option<bool> {
        let open = *self.queued.get(wamid)?;
        self.cancelled.insert(wamid.to_string()).then_some(open)
    }

    /// Messages on the schedule without a final status.
    pub(super) fn open(&self) -> usize {
        self.queued
            .iter()
            .filter(|(w, open)| **open && !self.cancelled.contains(*w))
            .count()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.queued.len() == self.cancelled.len()
    }
}

/// The wait after poll number `polls` (1-based) before the next one:
/// `first · (1.5^polls − 1.5^(polls−1))`, capped at a minute. With the
/// default first poll at 3.5 s, polls come 3.5, 5.25, 7.9, 11.8 … s after
/// acceptance: one poll finds most deliveries final (they take a few
/// seconds), the second comes soon enough that the last message of a
/// night is seen final within a fraction of a second of its delivery,
/// and a message that stays pending is asked about less and less often.
/// Doubling from 2 s (2, 6, 14 s) took 1.75 polls per message when
/// deliveries take 1–5 s, and saw a 4.9 s delivery only at 6 s.
pub(super) fn backoff(first: Duration, polls: u32) -> Duration {
    if polls == 0 {
        return first;
    }
    let n = polls.min(64) as i32;
    let secs = first.as_secs_f64() * (POLL_GROWTH.powi(n) - POLL_GROWTH.powi(n - 1));
    if secs.is_finite() && secs < POLL_CAP.as_secs_f64() {
        Duration::from_secs_f64(secs)
    } else {
        POLL_CAP
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hooks(words: &[&str]) -> Vec<Hook> {
        words
            .iter()
            .map(|w| Hook {
                status: (*w).to_string(),
                unix_seconds: None,
                error_code: None,
                error_title: None,
                pricing: None,
            })
            .collect()
    }

    #[test]
    fn an_answer_is_a_proof_a_failure_or_nothing() {
        assert_eq!(heard(&hooks(&["sent", "failed", "read"])), Status::Read);
        assert_eq!(heard(&hooks(&["sent", "viewed"])), Status::Read);
        assert_eq!(heard(&hooks(&["sent", "delivered"])), Status::Delivered);
        assert_eq!(heard(&hooks(&["sent", "undelivered"])), Status::Failed);
        assert_eq!(heard(&hooks(&["sent", "deleted"])), Status::Sent);
        assert_eq!(heard(&[]), Status::Sent);
    }

    #[test]
    fn a_proof_ends_the_watch_at_once() {
        let next = after(Watch::new("w".into()), Status::Read);
        assert_eq!(next.again, None);
        assert!(next.became_final);
        let next = after(Watch::new("w".into()), Status::Sent);
        assert_eq!(next.again, Some(Watch::new("w".into())));
        assert!(!next.became_final);
    }

    /// B2: after a failure, a few more polls, then the message leaves;
    /// a proof among them ends the watch, and the message became final
    /// only once.
    #[test]
    fn a_failure_is_watched_a_few_polls_for_a_later_proof() {
        let first = after(Watch::new("w".into()), Status::Failed);
        assert!(first.became_final);
        let mut watch = first.again.expect("watched after a failure");
        assert!(!watch.is_open());
        let mut follow_ups = 1;
        loop {
            let next = after(watch, Status::Failed);
            assert!(!next.became_final);
            match next.again {
                Some(w) => {
                    watch = w;
                    follow_ups += 1;
                }
                None => break,
            }
        }
        assert_eq!(follow_ups, FOLLOW_UPS_AFTER_FAILURE);
        let watched = after(Watch::new("w".into()), Status::Failed).again.unwrap();
        let proof = after(watched.clone(), Status::Read);
        assert_eq!(proof.again, None);
        assert!(!proof.became_final, "counted final at the failure already");
        // A failed poll during the watch uses a follow-up up too.
        let nothing = after(watched, Status::Sent).again.unwrap();
        assert_eq!(nothing.after_failure, Some(FOLLOW_UPS_AFTER_FAILURE - 1));
    }

    #[test]
    fn only_open_messages_count_as_open() {
        let mut due = Due::default();
        let now = Instant::now();
        due.push(now, Watch::new("a".into()));
        due.push(
            now,
            after(Watch::new("b".into()), Status::Failed).again.unwrap(),
        );
        assert_eq!(due.open(), 1);
        assert_eq!(due.pop().unwrap().wamid, "a", "queued first, popped first");
    }

    #[test]
    fn a_cancelled_message_is_never_popped_and_not_waiting() {
        let mut due = Due::default();
        let now = Instant::now();
        due.push(now, Watch::new("a".into()));
        due.push(now, Watch::new("a".into()));
        due.push(now + Duration::from_secs(1), Watch::new("b".into()));
        assert_eq!(due.open(), 2, "a wamid is queued once");
        assert_eq!(due.cancel("a"), Some(true));
        assert_eq!(due.cancel("a"), None, "cancelled once");
        assert_eq!(due.cancel("zzz"), None);
        assert_eq!(due.open(), 1);
        assert_eq!(due.next(), Some(now + Duration::from_secs(1)));
        assert_eq!(due.pop().unwrap().wamid, "b");
        assert!(due.is_empty());
        assert_eq!(due.pop(), None);
        // Queued again after it left: a fresh entry.
        due.push(now, Watch::new("a".into()));
        assert!(!due.is_empty());
        assert_eq!(due.pop().unwrap().wamid, "a");
    }

    #[test]
    fn polls_come_at_first_times_powers_of_one_and_a_half_capped() {
        let f = Duration::from_millis(3500);
        let mut at = Duration::ZERO;
        let mut due = Vec::new();
        for polls in 0..4 {
            at += backoff(f, polls);
            due.push(at.as_millis());
        }
        assert_eq!(due, [3500, 5250, 7875, 11812]);
        assert_eq!(backoff(f, 30), POLL_CAP);
        assert_eq!(backoff(f, u32::MAX), POLL_CAP);
    }
}
