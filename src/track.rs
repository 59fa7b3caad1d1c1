//! The track stage: learns each accepted message's fate by polling
//! `hookInfo`, from the moment it is accepted, while other rows are still
//! being sent.
//!
//! Each message has its own schedule (first poll after `first_poll`, then
//! at about `first_poll × 1.5^n` after acceptance, intervals capped at a
//! minute), all polls share one rate limit, and a message leaves the schedule at its first final status. Statuses merge in
//! the ledger monotonically (read > delivered > sent; failed wins), so late or
//! repeated hooks change nothing.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::api::client::{ApiError, Client};
use crate::api::wire::Hook;
use crate::ledger::{StatusUpdate, is_final_status};
use crate::pace::{Pacer, sleep_until_opt};
use crate::progress::Progress;
use crate::recorder::Recorder;
use crate::send::Accepted;
use crate::signal::Interrupt;

const POLL_CAP: Duration = Duration::from_secs(60);
const POLLS_IN_FLIGHT: usize = 8;

#[derive(Debug, Clone)]
pub(crate) struct TrackSettings {
    /// hookInfo calls per second.
    pub poll_rate: f64,
    /// Delay from acceptance to the first poll.
    pub first_poll: Duration,
    /// How long to keep polling after the last send.
    pub track_for: Duration,
}

/// What the track stage saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct TrackSummary {
    pub polls: u64,
    pub finals: u64,
    /// Messages still open when tracking ended.
    pub open: u64,
    /// Tracking stopped because the API refused our credentials.
    pub credentials_refused: bool,
}

struct Polled {
    wamid: String,
    polls: u32,
    result: Result<Vec<Hook>, ApiError>,
}

/// The messages waiting for their next poll: the earliest due first, and
/// of those due together the one queued first.
#[derive(Default)]
struct Due {
    /// (due, sequence, wamid, polls so far)
    heap: BinaryHeap<Reverse<(Instant, u64, String, u32)>>,
    seq: u64,
}

impl Due {
    fn push(&mut self, due: Instant, wamid: String, polls: u32) {
        self.seq += 1;
        self.heap.push(Reverse((due, self.seq, wamid, polls)));
    }

    fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((due, ..))| *due)
    }

    /// The wamid due first and its polls so far.
    fn pop(&mut self) -> Option<(String, u32)> {
        let Reverse((_, _, wamid, polls)) = self.heap.pop()?;
        Some((wamid, polls))
    }

    fn len(&self) -> usize {
        self.heap.len()
    }

    fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// Turns hooks into ledger updates.
pub(crate) fn updates(wamid: &str, hooks: &[Hook], seen_at: DateTime<Utc>) -> Vec<StatusUpdate> {
    hooks
        .iter()
        .filter(|h| !h.status.is_empty())
        .map(|h| {
            let error = h.errors.as_ref().and_then(|e| e.first());
            StatusUpdate {
                wamid: wamid.to_string(),
                status: h.status.to_ascii_lowercase(),
                status_at: h
                    .unix_seconds()
                    .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0)),
                error_code: error.map(|e| e.code),
                error_title: error.map(|e| {
                    if e.title.is_empty() {
                        e.message.clone().unwrap_or_default()
                    } else {
                        e.title.clone()
                    }
                }),
                seen_at,
            }
        })
        .collect()
}

/// Polls every message that arrives on `accepted` (and every wamid in
/// `initial`) until it is final, or until `track_for` after `accepted`
/// closes (the send stage ended), or until `interrupt`.
pub(crate) async fn run(
    settings: TrackSettings,
    client: Client,
    recorder: Recorder,
    progress: Progress,
    initial: Vec<String>,
    mut accepted: mpsc::UnboundedReceiver<Accepted>,
    mut interrupt: Interrupt,
) -> Result<TrackSummary, String> {
    let limiter = Pacer::new(settings.poll_rate);
    let slots = Arc::new(Semaphore::new(POLLS_IN_FLIGHT));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Polled>();
    let mut due = Due::default();
    let mut summary = TrackSummary::default();
    let mut in_flight = 0usize;
    let mut deadline: Option<Instant> = None;
    let mut sending = true;
    let mut records: JoinSet<Result<(), String>> = JoinSet::new();

    let now = Instant::now();
    progress.will_track(initial.len() as u64);
    for wamid in initial {
        due.push(now, wamid, 0);
    }

    loop {
        if interrupt.borrow().is_some() || summary.credentials_refused {
            break;
        }
        if !sending && due.is_empty() && in_flight == 0 {
            break;
        }
        let next = due.next();
        tokio::select! {
            biased;
            polled = done_rx.recv() => {
                let Some(p) = polled else { break };
                in_flight -= 1;
                summary.polls += 1;
                match p.result {
                    Ok(hooks) => {
                        let is_final = hooks.iter().any(|h| is_final_status(&h.status));
                        let ups = updates(&p.wamid, &hooks, Utc::now());
                        let polls = p.polls;
                        record_in_background(&mut records, &recorder, p.wamid.clone(), ups);
                        if is_final {
                            summary.finals += 1;
                            progress.final_status();
                        } else {
                            due.push(Instant::now() + backoff(settings.first_poll, polls), p.wamid, polls);
                        }
                    }
                    Err(ApiError::Credentials { .. }) => {
                        summary.credentials_refused = true;
                    }
                    Err(_) => {
                        // A failed poll is harmless (GETs are idempotent):
                        // try again on the message's schedule.
                        due.push(Instant::now() + backoff(settings.first_poll, p.polls), p.wamid, p.polls);
                    }
                }
            }
            new = accepted.recv(), if sending => {
                match new {
                    Some(a) => {
                        progress.will_track(1);
                        due.push(Instant::now() + settings.first_poll, a.wamid, 0);
                    }
                    None => {
                        sending = false;
                        deadline = Some(Instant::now() + settings.track_for);
                    }
                }
            }
            Some(recorded) = records.join_next(), if !records.is_empty() => {
                recorded.map_err(|e| e.to_string())??;
            }
            _ = sleep_until_opt(deadline), if deadline.is_some() => break,
            _ = interrupt.changed() => {}
            _ = sleep_until_opt(next), if next.is_some() => {
                let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { break };
                limiter.until_ready().await;
                let Some((wamid, polls)) = due.pop() else { continue };
                in_flight += 1;
                start_poll(&client, wamid, polls, slot, &done_tx);
            }
        }
    }
    // Every status seen is in the ledger before the report reads it.
    while let Some(recorded) = records.join_next().await {
        recorded.map_err(|e| e.to_string())??;
    }
    summary.open = due.len() as u64 + in_flight as u64;
    Ok(summary)
}

/// Records one poll's statuses in the background (grouped with other
/// writes), so polling goes on during the commit.
fn record_in_background(
    records: &mut JoinSet<Result<(), String>>,
    recorder: &Recorder,
    wamid: String,
    ups: Vec<StatusUpdate>,
) {
    let recorder = recorder.clone();
    records.spawn(async move {
        recorder
            .record_poll(wamid, ups)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    });
}

/// Asks for `wamid`'s hooks on a task of its own, freeing `slot` as soon
/// as the answer is in, and reports on `done`.
fn start_poll(
    client: &Client,
    wamid: String,
    polls: u32,
    slot: OwnedSemaphorePermit,
    done: &mpsc::UnboundedSender<Polled>,
) {
    let client = client.clone();
    let done = done.clone();
    tokio::spawn(async move {
        let result = client.hook_info(&wamid).await;
        drop(slot);
        let _ = done.send(Polled {
            wamid,
            polls: polls + 1,
            result,
        });
    });
}

/// How much later than the previous poll, counted from acceptance, each
/// poll comes: poll n (from 0) is due about `first_poll × 1.5^n` after
/// acceptance.
const POLL_GROWTH: f64 = 1.5;

/// The wait after poll number `polls` (1-based) before the next one:
/// `first · (1.5^polls − 1.5^(polls−1))`, capped at a minute. With the
/// default first poll at 3.5 s, polls come 3.5, 5.25, 7.9, 11.8 … s after
/// acceptance: one poll finds most deliveries final (they take a few
/// seconds), the second comes soon enough that the last message of a
/// night is seen final within a fraction of a second of its delivery,
/// and a message that stays pending is asked about less and less often.
/// Doubling from 2 s (2, 6, 14 s) took 1.75 polls per message when
/// deliveries take 1–5 s, and saw a 4.9 s delivery only at 6 s.
fn backoff(first: Duration, polls: u32) -> Duration {
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

    #[test]
    fn hooks_become_updates_with_errors_and_times() {
        let hooks: Vec<Hook> = serde_json::from_str(
            r#"[{"id":"w","status":"sent","timestamp":"1700000000"},
                {"id":"w","status":"FAILED","timestamp":"1700000005",
                 "errors":[{"code":131026,"title":"Message undeliverable"}]}]"#,
        )
        .unwrap();
        let ups = updates("w", &hooks, Utc::now());
        assert_eq!(ups.len(), 2);
        assert_eq!(ups[1].status, "failed");
        assert_eq!(ups[1].error_code, Some(131026));
        assert_eq!(ups[1].error_title.as_deref(), Some("Message undeliverable"));
        assert_eq!(ups[0].status_at.unwrap().timestamp(), 1_700_000_000);
    }
}
