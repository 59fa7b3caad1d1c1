//! The passes over doubts in a sending command: earlier runs' doubts before
//! anything is sent, then, after the sends, this run's own (those of its
//! resends too) and the earlier ones still open, pass after pass with
//! growing pauses, until each is settled or the look-up budget
//! (`--lookup-for`) ends. A row never ends `unknown` while the history
//! could still settle it within the budget, except a send to a partner's
//! next contact (`--fallback backup`): it is made after these passes, and
//! the next run or `handoff track` looks it up (docs/partners.md).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;

use crate::api::client::Client;
use crate::delivery::Delivery;
use crate::error::Failure;
use crate::ingest::DoubtRow;
use crate::ledger::{AttemptInfo, Doubt, RunId, Suppression};
use crate::recorder::Recorder;
use crate::send::Job;
use crate::signal::Interrupt;

use crate::fate::{self, Fate, Policy};

/// The delivery an attempt sent, rebuilt from what the ledger kept of it.
pub(crate) fn delivery_from_attempt(a: &AttemptInfo) -> Option<Delivery> {
    let [partner_name, order_number, product_name, delivery_note] = a.params.as_slice() else {
        return None;
    };
    Some(Delivery {
        order_key: a.order_key.clone(),
        partner_name: partner_name.clone(),
        phone: a.phone.clone(),
        order_number: order_number.clone(),
        product_name: product_name.clone(),
        delivery_note: delivery_note.clone(),
        notes: Vec::new(),
        warnings: Vec::new(),
        language: a.language.clone(),
    })
}

/// The longest pause between two passes: the history is asked again at
/// least this often while the budget lasts.
const PAUSE_CAP: Duration = Duration::from_secs(30);
/// The shortest pause, so a tiny `--lookup-after` does not spin.
const PAUSE_MIN: Duration = Duration::from_millis(100);

/// When the passes run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    /// How old a send's intent must be before it is looked up; also the
    /// first pause between passes (then doubled, at most [`PAUSE_CAP`]).
    pub lookup_after: Duration,
    /// How long after the sends the passes go on while doubts are open;
    /// zero makes one pass.
    pub lookup_for: Duration,
    /// A send proved unsent is sent again only while attempts are left.
    pub max_attempts: u32,
}

/// One order in doubt, while settling it.
struct Entry {
    /// The row of this run that holds the order.
    row: u64,
    /// What is sent again if it is proved unsent; its `order_key` names
    /// the entry.
    delivery: Delivery,
    /// An earlier run's doubt: the row's verdict is `unknown` (not `send`)
    /// until it is found or sent again.
    earlier: bool,
    /// Why it is still in doubt, once looked up.
    reason: Option<String>,
    /// Whether another look-up may settle it.
    open: bool,
}

/// The doubts of one sending command, from its first pass to its last.
pub(crate) struct Settling<'a> {
    pub(super) client: &'a Client,
    pub(super) recorder: &'a Recorder,
    run: RunId,
    pub(super) template: &'a str,
    pub(super) policy: Policy,
    /// Look-ups made in this run, by order key.
    lookups: HashMap<String, u32>,
    /// The orders still in doubt, in the order they were first seen.
    entries: Vec<Entry>,
    /// Orders sent again by a pass, with the attempt number of that send:
    /// only a doubt of that attempt or a later one brings them back.
    resent: HashMap<String, u32>,
    /// The phones suppressed when the rows were decided: an earlier run's
    /// doubt is never held back before its look-up, and one the look-up
    /// lets go is held back by them, as any row.
    held: fate::Limits,
}

impl<'a> Settling<'a> {
    pub(crate) fn new(
        client: &'a Client,
        recorder: &'a Recorder,
        run: RunId,
        template: &'a str,
        policy: Policy,
    ) -> Settling<'a> {
        Settling {
            client,
            recorder,
            run,
            template,
            policy,
            lookups: HashMap::new(),
            entries: Vec::new(),
            resent: HashMap::new(),
            held: fate::Limits::default(),
        }
    }

    /// Settles the doubts that earlier runs left on this run's rows and
    /// records each row's verdict: reused (found; its wamid is returned to
    /// be tracked), back to `send` (proved unsent, or the user said so), or
    /// `unknown` with the reason. Those a later look-up may settle are kept
    /// for the passes after the sends.
    pub(crate) async fn earlier(
        &mut self,
        doubts: Vec<DoubtRow>,
        suppressed: Arc<HashMap<String, Suppression>>,
    ) -> Result<Vec<String>, Failure> {
        self.held.suppressed = suppressed;
        let mut found = Vec::new();
        let mut round = Round::default();
        for doubt in doubts {
            let lookups = self.count(&doubt.delivery.order_key);
            let settled = self.settle(&doubt.delivery, &doubt.doubts, lookups).await?;
            round.count(&settled);
            let settled = fate::within(settled, Some(&doubt.delivery), &self.held);
            // Back to `send`, the send stage's feed reads it from the ledger.
            let (verdict, reason) = settled.of_doubt(true);
            let problem = settled.problem();
            match settled {
                Fate::Reused { wamid, .. } => found.push(wamid),
                Fate::Unknown { reason, again } => self.entries.push(Entry {
                    row: doubt.row,
                    delivery: doubt.delivery,
                    earlier: true,
                    reason: Some(reason),
                    open: again,
                }),
                _ => {}
            }
            self.recorder
                .set_verdict(self.run, doubt.row, verdict, reason, problem)
                .await?;
        }
        round.log("earlier runs' uncertain sends looked up before sending");
        Ok(found)
    }

    fn count(&mut self, key: &str) -> u32 {
        let n = self.lookups.entry(key.to_string()).or_default();
        *n += 1;
        *n
    }

    /// Adds this run's doubts not seen yet: new ones, and those of resends.
    async fn take_in_this_run(&mut self) -> Result<(), Failure> {
        let run = self.run;
        let doubts = self.recorder.read(move |l| l.run_doubts(run)).await?;
        for list in by_order(doubts) {
            let Some(latest) = list.last() else { continue };
            let key = &latest.attempt.order_key;
            if self.entries.iter().any(|e| &e.delivery.order_key == key)
                || self
                    .resent
                    .get(key)
                    .is_some_and(|n| latest.attempt.attempt_no < *n)
            {
                continue;
            }
            let Some(delivery) = delivery_from_attempt(&latest.attempt) else {
                continue;
            };
            let k = key.clone();
            let Some(row) = self
                .recorder
                .read(move |l| l.first_valid_row(run, &k))
                .await?
            else {
                continue;
            };
            self.resent.remove(key);
            self.entries.push(Entry {
                row,
                delivery,
                earlier: false,
                reason: None,
                open: true,
            });
        }
        Ok(())
    }

    /// One pass: every open doubt looked up once its latest intent is
    /// `lookup_after` old. Found wamids go to `found` at once (to be tracked
    /// while the pass goes on); orders proved unsent come back to be sent.
    /// Returns early, with what it has, when the run is interrupted.
    async fn pass(
        &mut self,
        timing: &Timing,
        interrupt: &mut Interrupt,
        found: &mut impl FnMut(String),
    ) -> Result<Vec<Job>, Failure> {
        self.take_in_this_run().await?;
        let mut again = Vec::new();
        let mut round = Round::default();
        let mut i = 0;
        while i < self.entries.len() {
            if !self.entries[i].open {
                i += 1;
                continue;
            }
            let key = self.entries[i].delivery.order_key.clone();
            let k = key.clone();
            let doubts = self.recorder.read(move |l| l.doubts(&k)).await?;
            let Some(latest) = doubts.last() else {
                // Settled meanwhile (its message is recorded).
                self.entries.remove(i);
                continue;
            };
            let due = latest.attempt.intent_at
                + chrono::Duration::from_std(timing.lookup_after).unwrap_or_default();
            let wait = (due - Utc::now()).to_std().unwrap_or_default();
            if !sleep_unless_interrupted(Instant::now() + wait, interrupt).await {
                break;
            }
            let lookups = self.count(&key);
            let attempts = if latest.attempt.run_id == self.run {
                latest.attempt.attempt_no
            } else {
                0
            };
            let settled = tokio::select! {
                settled = self.settle(&self.entries[i].delivery, &doubts, lookups) => settled?,
                () = interrupted(interrupt) => break,
            };
            let settled = match self.entries[i].earlier {
                true => fate::within(settled, Some(&self.entries[i].delivery), &self.held),
                false => settled,
            };
            let (verdict, reason) = settled.of_doubt(self.entries[i].earlier);
            let problem = settled.problem();
            let resend = match settled {
                Fate::Reused { wamid, .. } => {
                    round.found += 1;
                    found(wamid);
                    false
                }
                Fate::Send { .. } if attempts < timing.max_attempts => {
                    round.to_send += 1;
                    true
                }
                Fate::Suppressed(_) => {
                    round.to_send += 1;
                    false
                }
                still => {
                    round.in_doubt += 1;
                    let e = &mut self.entries[i];
                    (e.reason, e.open) = match still {
                        Fate::Unknown { reason, again } => (Some(reason), again),
                        _ => (
                            Some(format!(
                                "not found in 1MSG's message history, which --history-proves-absence trusts, but its {} attempts (--max-attempts) are used up in this run; the next run sends it",
                                timing.max_attempts
                            )),
                            false,
                        ),
                    };
                    i += 1;
                    continue;
                }
            };
            let e = self.entries.remove(i);
            if e.earlier {
                // A resent one's attempt is this run's: the row reports it.
                self.recorder
                    .set_verdict(self.run, e.row, verdict, reason, problem)
                    .await?;
            }
            if resend {
                self.resent.insert(key, attempts + 1);
                // Sent once more, as attempt `attempts + 1` of this run.
                again.push(Job {
                    row: e.row,
                    delivery: e.delivery,
                    attempts,
                    before: 0,
                    contact: None,
                });
            }
        }
        round.log("uncertain sends looked up in the message history");
        Ok(again)
    }

    /// Records why each order still in doubt is: on an earlier run's row as
    /// its `unknown` verdict's reason, on this run's row as the reason its
    /// `unknown` outcome shows.
    async fn finish(&mut self) -> Result<(), Failure> {
        for e in self.entries.drain(..) {
            let Some(reason) = e.reason else { continue };
            // Nothing more is sent: what is left is what no look-up settled.
            let (verdict, reason) = Fate::Unknown {
                reason,
                again: false,
            }
            .of_doubt(e.earlier);
            self.recorder
                .set_verdict(self.run, e.row, verdict, reason, None)
                .await?;
        }
        Ok(())
    }
}

/// What one round of look-ups decided, logged as one line (not one per
/// order: a 5xx storm leaves hundreds of doubts).
#[derive(Default)]
pub(super) struct Round {
    found: usize,
    to_send: usize,
    in_doubt: usize,
}

impl Round {
    pub(super) fn count(&mut self, fate: &Fate) {
        match fate {
            Fate::Reused { .. } => self.found += 1,
            Fate::Send { .. } => self.to_send += 1,
            _ => self.in_doubt += 1,
        }
    }

    pub(super) fn log(&self, what: &str) {
        let looked_up = self.found + self.to_send + self.in_doubt;
        if looked_up > 0 {
            tracing::info!(
                looked_up,
                found = self.found,
                to_send = self.to_send,
                still_in_doubt = self.in_doubt,
                "{what}"
            );
        }
    }
}

/// Looks up this run's doubts (and the earlier ones still open) pass after
/// pass: the first once the sends are done, the next after `lookup_after`,
/// then after twice that, and so on (at most [`PAUSE_CAP`] apart), while
/// doubts another look-up may settle remain and `lookup_for` has not run
/// out, or until the run is interrupted. Orders proved unsent are handed to
/// `resend` (which sends them and says why it stopped, if it did), and
/// their doubts, if their answers are lost again, are looked up in turn.
/// Records each remaining doubt's reason, and returns `resend`'s stop.
pub(crate) async fn settle_this_run<S, F, Fut>(
    settling: &mut Settling<'_>,
    timing: Timing,
    interrupt: &mut Interrupt,
    mut found: impl FnMut(String),
    mut resend: F,
) -> Result<Option<S>, Failure>
where
    F: FnMut(Vec<Job>) -> Fut,
    Fut: Future<Output = Option<S>>,
{
    let ends = Instant::now() + timing.lookup_for;
    let mut pause = timing.lookup_after.max(PAUSE_MIN);
    let stop = loop {
        let again = settling.pass(&timing, interrupt, &mut found).await?;
        if !again.is_empty() {
            match resend(again).await {
                Some(stop) => break Some(stop),
                None => continue,
            }
        }
        // Doubts another look-up may still settle.
        let open = settling.entries.iter().filter(|e| e.open).count();
        if open == 0 || interrupt.borrow().is_some() || Instant::now() >= ends {
            break None;
        }
        tracing::info!(
            open,
            pause_ms = pause.as_millis() as u64,
            "doubts not settled yet; looking them up again after a pause"
        );
        if !sleep_unless_interrupted((Instant::now() + pause).min(ends), interrupt).await {
            break None;
        }
        pause = (pause * 2).min(PAUSE_CAP);
    };
    settling.finish().await?;
    Ok(stop)
}

/// Sleeps until `until`; false, at once, if the run is interrupted first.
async fn sleep_unless_interrupted(until: Instant, interrupt: &mut Interrupt) -> bool {
    tokio::select! {
        () = tokio::time::sleep_until(until) => interrupt.borrow().is_none(),
        () = interrupted(interrupt) => false,
    }
}

/// Resolves once the run is interrupted (never, if the signal side is gone).
async fn interrupted(interrupt: &mut Interrupt) {
    loop {
        if interrupt.borrow_and_update().is_some() {
            return;
        }
        if interrupt.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The doubts grouped by order, in the order each order first appears.
fn by_order(doubts: Vec<Doubt>) -> Vec<Vec<Doubt>> {
    let mut grouped: Vec<Vec<Doubt>> = Vec::new();
    for d in doubts {
        let key = &d.attempt.order_key;
        match grouped.iter_mut().find(|g| &g[0].attempt.order_key == key) {
            Some(list) => list.push(d),
            None => grouped.push(vec![d]),
        }
    }
    grouped
}
