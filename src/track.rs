//! The track stage: learns each accepted message's fate by polling
//! `hookInfo`, from the moment it is accepted, while other rows are still
//! being sent.
//!
//! Each message has its own schedule (first poll after `first_poll`, then
//! at about `first_poll × 1.5^n` after acceptance, intervals capped at a
//! minute), and all polls share one rate limit. A message leaves the
//! schedule at its first proof of delivery, or a few polls after a
//! failure (a later `read` may contradict it: see [`watch`]). Statuses
//! merge in the ledger monotonically, so late or repeated hooks change
//! nothing.
//!
//! Two ways the route itself can fail are told apart from "nothing yet":
//! a refused token (tracking stops and says which route refused it), and a
//! `hookInfo` that answers 404 for every message (a retired route or a
//! wrong base path: "statuses unavailable", said once, instead of every row
//! silently pending).

mod route;
mod watch;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::api::client::{ApiError, Client};
use crate::api::hooks::Hook;
use crate::api::reads::HookInfo;
use crate::ledger::{Status, StatusUpdate};
use crate::pace::{Pacer, sleep_until_opt};
use crate::progress::Progress;
use crate::recorder::Recorder;
use crate::send::Accepted;
use crate::signal::Interrupt;
use route::{Route, UNAVAILABLE_ROW, refused, unavailable};
use watch::{Due, Watch, after, backoff, heard};

const POLLS_IN_FLIGHT: usize = 8;
/// 404 answers, with no other answer ever, after which `hookInfo` is taken
/// to answer 404 for every message.
const NOT_FOUND_POLLS: u64 = 10;

#[derive(Debug, Clone)]
pub(crate) struct TrackSettings {
    /// hookInfo calls per second.
    pub poll_rate: f64,
    /// Delay from acceptance to the first poll.
    pub first_poll: Duration,
    /// How long to keep polling after the last send.
    pub track_for: Duration,
    /// Poll `hookInfo` at all (`--no-poll` trusts the webhook alone).
    pub poll: bool,
}

/// The messages the tracker still polls, wamids. A failure among them is
/// no proof yet that the message cannot arrive: a `read` may follow it
/// ([`watch`]), and a `failed` a webhook brought is polled for that too.
/// Shared with the fallback (`--fallback backup`), which waits for them;
/// empty when tracking does not poll (`--no-poll`) and once it ends.
#[derive(Debug, Clone, Default)]
pub(crate) struct Watched(Arc<Mutex<HashSet<String>>>);

impl Watched {
    pub(crate) fn contains(&self, wamid: &str) -> bool {
        self.lock().contains(wamid)
    }

    fn remove(&self, wamid: &str) {
        self.lock().remove(wamid);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What the track stage saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct TrackSummary {
    pub polls: u64,
    pub finals: u64,
    /// Messages still open when tracking ended.
    pub open: u64,
    /// Messages whose final status arrived by webhook.
    pub pushed_finals: u64,
    /// Tracking stopped because the API refused our credentials.
    pub credentials_refused: bool,
    /// `hookInfo` answered 404 for every poll and never anything else:
    /// statuses cannot be learned on this channel (tracking stopped).
    pub statuses_unavailable: bool,
    /// Items of hookInfo answers that were not a hook with a status.
    pub unreadable_hooks: u64,
    /// Why tracking could not do its work, for the run's summary.
    pub problem: Option<String>,
    /// The same, short, for the report row of each message left without a
    /// final status: why it has none (not "tracking ended").
    pub untracked: Option<String>,
}

/// A message polled, and the answer.
type Polled = (Watch, Result<HookInfo, ApiError>);

/// Turns hooks into ledger updates.
pub(crate) fn updates(wamid: &str, hooks: &[Hook], seen_at: DateTime<Utc>) -> Vec<StatusUpdate> {
    hooks
        .iter()
        .filter(|h| !h.status.is_empty())
        .map(|h| StatusUpdate {
            wamid: wamid.to_string(),
            status: h.status.to_ascii_lowercase(),
            status_at: h
                .unix_seconds
                .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0)),
            error_code: h.error_code,
            error_title: h.error_title.clone(),
            pricing: h.pricing.clone(),
            seen_at,
        })
        .collect()
}

/// The tracker's moving parts, so each event is handled in a method of its own.
#[derive(Default)]
struct Tracking {
    due: Due,
    summary: TrackSummary,
    route: Route,
    in_flight: usize,
    /// Of those, the polls of messages without a final status.
    in_flight_open: usize,
    /// Wamids whose final status arrived by webhook: never polled again.
    pushed: HashSet<String>,
    /// Shared with the fallback when there is one and messages are polled.
    watched: Option<Watched>,
}

/// Polls every message that arrives on `accepted` (and every wamid in
/// `initial`) until it is final, or until `track_for` after `accepted`
/// closes (the send stage ended), or until `interrupt`. A wamid on
/// `pushed` got its final status by webhook: it leaves the schedule
/// without a poll (or, in flight, without another).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run(
    settings: TrackSettings,
    client: Client,
    recorder: Recorder,
    progress: Progress,
    initial: Vec<String>,
    mut accepted: mpsc::UnboundedReceiver<Accepted>,
    mut pushed: Option<mpsc::UnboundedReceiver<String>>,
    mut interrupt: Interrupt,
    watched: Option<Watched>,
) -> Result<TrackSummary, String> {
    let limiter = Pacer::new(settings.poll_rate);
    let slots = Arc::new(Semaphore::new(POLLS_IN_FLIGHT));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Polled>();
    let mut t = Tracking {
        // None when nothing is polled: no poll will follow a failure.
        watched: watched.filter(|_| settings.poll),
        ..Tracking::default()
    };
    let mut deadline: Option<Instant> = None;
    let mut sending = true;
    let mut records: JoinSet<Result<(), String>> = JoinSet::new();

    let now = Instant::now();
    progress.will_track(initial.len() as u64);
    for wamid in initial {
        t.watch(&wamid);
        t.due.push(now, Watch::new(wamid));
    }

    loop {
        if interrupt.borrow().is_some() || t.summary.stopped() {
            break;
        }
        if !sending && t.due.is_empty() && t.in_flight == 0 {
            break;
        }
        let next = t.due.next().filter(|_| settings.poll);
        tokio::select! {
            biased;
            polled = done_rx.recv() => {
                let Some(polled) = polled else { break };
                if let Some((wamid, ups, leaves)) = t.polled(polled, &settings, &client, &progress) {
                    let unwatch = t.watched.clone().filter(|_| leaves);
                    record_in_background(&mut records, &recorder, wamid, ups, unwatch);
                }
            }
            wamid = async { pushed.as_mut()?.recv().await }, if pushed.is_some() => match wamid {
                Some(wamid) => t.pushed_final(wamid, &progress),
                None => pushed = None,
            },
            new = accepted.recv(), if sending => {
                match new {
                    Some(a) => t.accepted(a.wamid, settings.first_poll, &progress),
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
                let Some(watch) = t.due.pop() else { continue };
                t.in_flight += 1;
                t.in_flight_open += usize::from(watch.is_open());
                start_poll(&client, watch, slot, &done_tx);
            }
        }
    }
    // Nothing more is learnt of a failure: it stands.
    if let Some(w) = &t.watched {
        w.lock().clear();
    }
    // Every status seen is in the ledger before the report reads it.
    while let Some(recorded) = records.join_next().await {
        recorded.map_err(|e| e.to_string())??;
    }
    let mut summary = t.summary;
    summary.open = (t.due.open() + t.in_flight_open) as u64;
    // Fewer polls than the threshold, all 404: still worth saying once.
    if summary.problem.is_none() && interrupt.borrow().is_none() && t.route.all_not_found(1) {
        summary.unavailable(t.route.not_found);
    }
    Ok(summary)
}

impl Tracking {
    fn watch(&self, wamid: &str) {
        if let Some(w) = &self.watched {
            w.lock().insert(wamid.to_string());
        }
    }

    fn unwatch(&self, wamid: &str) {
        if let Some(w) = &self.watched {
            w.remove(wamid);
        }
    }

    /// A message became final by webhook.
    fn pushed_final(&mut self, wamid: String, progress: &Progress) {
        self.unwatch(&wamid);
        if let Some(was_open) = self.due.cancel(&wamid) {
            self.summary.pushed(was_open, progress);
        }
        self.pushed.insert(wamid);
    }

    /// A message accepted by the send stage; not scheduled if its final
    /// status was pushed already (an ack can overtake the send's answer).
    fn accepted(&mut self, wamid: String, first_poll: Duration, progress: &Progress) {
        progress.will_track(1);
        if self.pushed.contains(&wamid) {
            self.summary.pushed(true, progress);
            return;
        }
        self.watch(&wamid);
        self.due
            .push(Instant::now() + first_poll, Watch::new(wamid));
    }

    /// One poll's answer: the statuses to record, and whether the message
    /// leaves the schedule with them; its next poll, if any, is scheduled.
    fn polled(
        &mut self,
        (watch, result): Polled,
        settings: &TrackSettings,
        client: &Client,
        progress: &Progress,
    ) -> Option<(String, Vec<StatusUpdate>, bool)> {
        self.in_flight -= 1;
        self.in_flight_open -= usize::from(watch.is_open());
        self.summary.polls += 1;
        let (heard, record) = match result {
            Ok(info) => {
                self.summary.watch(&mut self.route, &watch.wamid, &info);
                let ups = updates(&watch.wamid, &info.hooks, Utc::now());
                (heard(&info.hooks), Some((watch.wamid.clone(), ups)))
            }
            Err(ApiError::Credentials {
                route,
                status,
                said,
            }) => {
                self.summary.credentials_refused = true;
                self.summary.give_up(
                    refused(route, status, &said, client.token_in()),
                    format!("tracking stopped: {route} refused our credentials (HTTP {status})"),
                );
                return None;
            }
            // A failed poll is harmless (GETs are idempotent): try again
            // on the message's schedule.
            Err(_) => (Status::Sent, None),
        };
        if self.pushed.contains(&watch.wamid) {
            // Final by webhook while this poll was out: no further poll.
            self.summary.pushed(watch.is_open(), progress);
            return record.map(|(w, ups)| (w, ups, false));
        }
        // Kept only to take it off the watch: no copy on the poll loop
        // without a fallback.
        let (polls, wamid) = (
            watch.polls,
            self.watched.as_ref().map(|_| watch.wamid.clone()),
        );
        let next = after(watch, heard);
        if next.became_final {
            self.summary.finals += 1;
            progress.final_status();
        }
        let leaves = next.again.is_none();
        if let Some(again) = next.again {
            self.due
                .push(Instant::now() + backoff(settings.first_poll, polls), again);
        }
        match record {
            Some((w, ups)) => Some((w, ups, leaves)),
            // Leaving on a failed poll: its statuses are recorded already.
            None => {
                if let Some(wamid) = wamid.filter(|_| leaves) {
                    self.unwatch(&wamid);
                }
                None
            }
        }
    }
}

impl TrackSummary {
    /// Counts a message whose final status came by webhook; `open`: it was
    /// not counted final before.
    fn pushed(&mut self, open: bool, progress: &Progress) {
        self.pushed_finals += 1;
        if open {
            self.finals += 1;
            progress.final_status();
        }
    }

    /// Whether tracking must stop: the route itself does not work.
    fn stopped(&self) -> bool {
        self.credentials_refused || self.statuses_unavailable
    }

    /// Records why tracking stops, said once in the log and the summary.
    fn give_up(&mut self, problem: String, untracked: String) {
        tracing::warn!("{problem}");
        self.problem = Some(problem);
        self.untracked = Some(untracked);
    }

    /// Stops tracking: `hookInfo` answered 404 to all its `polls`.
    fn unavailable(&mut self, polls: u64) {
        self.statuses_unavailable = true;
        self.give_up(unavailable(polls), UNAVAILABLE_ROW.into());
    }

    /// Notes what one answer says about the route: a 404 for every message
    /// so far (stop at [`NOT_FOUND_POLLS`]), and its unreadable items (the
    /// first logged as a warning, later ones at debug level: one per poll
    /// would flood).
    fn watch(&mut self, route: &mut Route, wamid: &str, info: &HookInfo) {
        route.saw(info);
        if route.all_not_found(NOT_FOUND_POLLS) {
            self.unavailable(route.not_found);
        }
        let skipped = info.skipped;
        if skipped > 0 && self.unreadable_hooks == 0 {
            tracing::warn!(
                wamid,
                skipped,
                "hookInfo answered items that are not a hook with a status; they were skipped (counted in the run's summary)"
            );
        } else if skipped > 0 {
            tracing::debug!(wamid, skipped, "unreadable hookInfo items skipped");
        }
        self.unreadable_hooks += skipped;
    }
}

/// Records one poll's statuses in the background (grouped with other
/// writes), so polling goes on during the commit.
fn record_in_background(
    records: &mut JoinSet<Result<(), String>>,
    recorder: &Recorder,
    wamid: String,
    ups: Vec<StatusUpdate>,
    unwatch: Option<Watched>,
) {
    let recorder = recorder.clone();
    let unwatch = unwatch.map(|w| (w, wamid.clone()));
    records.spawn(async move {
        let recorded = recorder.record_poll(wamid, ups).await;
        // Off the watch only once its last statuses are in the ledger, so
        // the fallback never reads a failure the tracker is done with
        // without the `read` that ended it.
        if let Some((w, wamid)) = unwatch {
            w.remove(&wamid);
        }
        recorded.map(drop).map_err(|e| e.to_string())
    });
}

/// Asks for the message's hooks on a task of its own, freeing `slot` as
/// soon as the answer is in, and reports on `done`.
fn start_poll(
    client: &Client,
    mut watch: Watch,
    slot: OwnedSemaphorePermit,
    done: &mpsc::UnboundedSender<Polled>,
) {
    let client = client.clone();
    let done = done.clone();
    tokio::spawn(async move {
        let result = client.hook_info(&watch.wamid).await;
        drop(slot);
        watch.polls += 1;
        let _ = done.send((watch, result));
    });
}

#[cfg(test)]
mod tests;
