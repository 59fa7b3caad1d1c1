//! The two passes over doubts in a sending command: earlier runs' doubts
//! before anything is sent, and this run's own after its sends, once the
//! API has had time to record them.

use std::time::Duration;

use chrono::Utc;

use crate::api::client::Client;
use crate::delivery::Delivery;
use crate::error::Failure;
use crate::ingest::DoubtRow;
use crate::ledger::{Doubt, RunId, Verdict};
use crate::recorder::Recorder;

use super::decide::{Settled, delivery_from_attempt, settle};

/// Settles the doubts that earlier runs left on this run's rows and records
/// each row's verdict: reused (found; its wamid is returned to be
/// tracked), back to `send` (proved unsent), or `unknown` with the reason.
pub(crate) async fn settle_earlier(
    client: &Client,
    recorder: &Recorder,
    run: RunId,
    template: &str,
    doubts: Vec<DoubtRow>,
    resend_unknown: bool,
) -> Result<Vec<String>, Failure> {
    let mut found = Vec::new();
    for doubt in doubts {
        let settled = settle(
            client,
            recorder,
            template,
            &doubt.delivery,
            &doubt.doubts,
            resend_unknown,
        )
        .await?;
        let (verdict, reason) = match settled {
            Settled::Found(wamid) => {
                found.push(wamid);
                (
                    Verdict::Reused,
                    Some(
                        "an earlier send's answer was lost; found in 1MSG's message history"
                            .to_string(),
                    ),
                )
            }
            // Back to `send`: the send stage's feed reads it from the ledger.
            Settled::Send => (Verdict::Send, None),
            Settled::Doubt(reason) => (Verdict::Unknown, Some(reason)),
        };
        recorder
            .set_verdict(run, doubt.row, verdict, reason)
            .await?;
    }
    Ok(found)
}

/// An order of this run whose send the history proved unsent: send it once
/// more, as attempt `attempts + 1`.
pub(crate) struct Again {
    pub delivery: Delivery,
    pub attempts: u32,
}

/// Looks up this run's doubtful sends, each order once its latest intent
/// is `lookup_after` old. A wamid found in the history goes to `found` at
/// once (to be tracked while the pass goes on); the orders proved unsent,
/// with attempts left, are returned to be sent again.
pub(crate) async fn settle_this_run(
    client: &Client,
    recorder: &Recorder,
    run: RunId,
    template: &str,
    (lookup_after, max_attempts): (Duration, u32),
    mut found: impl FnMut(String),
) -> Result<Vec<Again>, Failure> {
    let doubts = recorder.read(move |l| l.run_doubts(run)).await?;
    let mut again = Vec::new();
    for list in by_order(doubts) {
        let Some(latest) = list.last() else { continue };
        let due =
            latest.attempt.intent_at + chrono::Duration::from_std(lookup_after).unwrap_or_default();
        if let Ok(wait) = (due - Utc::now()).to_std() {
            tokio::time::sleep(wait).await;
        }
        let a = &latest.attempt;
        let Some(delivery) = delivery_from_attempt(a) else {
            continue;
        };
        match settle(client, recorder, template, &delivery, &list, false).await? {
            Settled::Found(wamid) => found(wamid),
            Settled::Send if a.attempt_no < max_attempts => again.push(Again {
                delivery,
                attempts: a.attempt_no,
            }),
            Settled::Send | Settled::Doubt(_) => {}
        }
    }
    Ok(again)
}

/// The doubts grouped by order, in the order each order first appears.
fn by_order(doubts: Vec<Doubt>) -> Vec<Vec<Doubt>> {
    let mut grouped: Vec<(String, Vec<Doubt>)> = Vec::new();
    for d in doubts {
        match grouped.iter_mut().find(|(k, _)| *k == d.attempt.order_key) {
            Some((_, list)) => list.push(d),
            None => grouped.push((d.attempt.order_key.clone(), vec![d])),
        }
    }
    grouped.into_iter().map(|(_, list)| list).collect()
}
