//! One order's doubts, looked up: the message history (and `hookInfo`,
//! for an id the answer named) is asked, what it found is recorded, and
//! the order is decided where every fate is ([`crate::fate::doubt`]).

use chrono::{DateTime, Utc};

use crate::api::client::Client;
use crate::delivery::Delivery;
use crate::error::Failure;
use crate::fate::doubt::looked_up;
use crate::fate::{Fate, Finding};
use crate::ledger::Doubt;

use super::history::{PAGE, look_up};
use super::passes::Settling;

impl Settling<'_> {
    /// Looks up one order's doubtful sends, records a message found, and
    /// returns the order's fate. `lookups` counts this look-up and the ones
    /// before it in this run, for the reason.
    pub(super) async fn settle(
        &self,
        d: &Delivery,
        doubts: &[Doubt],
        lookups: u32,
    ) -> Result<Fate, Failure> {
        let (client, policy) = (self.client, self.policy);
        let Some(latest) = doubts.last() else {
            return Ok(looked_up(Finding::NotFound, doubts, policy, lookups));
        };
        let first = doubts[0].attempt.intent_at;
        let hints: Vec<String> = doubts
            .iter()
            .filter_map(|x| x.taken().1.map(str::to_string))
            .collect();
        let (finding, how) = match confirmed_by_hooks(client, &hints).await {
            Some((wamid, at)) => (
                Finding::Sent {
                    wamid,
                    at: at.unwrap_or(latest.attempt.intent_at),
                },
                "resolved: the id the API named for it has statuses in hookInfo",
            ),
            None => (
                look_up(
                    client,
                    &d.phone,
                    (&d.order_key, self.template),
                    first,
                    (PAGE, hints),
                )
                .await,
                "resolved: found in 1MSG's message history",
            ),
        };
        // One line per order only at debug: the passes log one per round.
        tracing::debug!(
            order = %d.order_key,
            phone = %crate::logging::mask_phone(&d.phone),
            finding = ?finding,
            lookups,
            "an uncertain send looked up in the message history"
        );
        // A message the ledger already holds is an earlier send (one that
        // failed before a fallback, say), not this one's: the search
        // stopped at it, so nothing is proved either way.
        let finding = match finding {
            Finding::Sent { wamid, .. } if self.holds(&wamid).await? => Finding::Failed(format!(
                "the history's message for this order ({wamid}) is an earlier send the ledger holds"
            )),
            other => other,
        };
        if let Finding::Sent { wamid, at } = &finding {
            // Accepted no earlier than its intent: the history's time is in
            // whole seconds, and a message the order had before this send
            // (one that failed before a fallback) must stay the older.
            let at = (*at).max(latest.attempt.intent_at);
            self.recorder
                .resolve_doubt(latest.attempt.attempt_id, wamid.clone(), at, how)
                .await?;
        }
        Ok(looked_up(finding, doubts, policy, lookups))
    }

    /// Whether the ledger holds a message with this id.
    async fn holds(&self, wamid: &str) -> Result<bool, Failure> {
        let wamid = wamid.to_string();
        Ok(self
            .recorder
            .read(move |l| l.message(&wamid))
            .await?
            .is_some())
    }
}

/// The first id a doubtful answer named that `hookInfo` knows: a status
/// for it proves the API took the send under that id, even where the
/// history cannot show it (a body without the order number, a lag). An
/// empty answer or a 404 proves nothing (a message may have no status yet,
/// and some deployments answer 404 for it), nor does a failed request.
async fn confirmed_by_hooks(
    client: &Client,
    ids: &[String],
) -> Option<(String, Option<DateTime<Utc>>)> {
    for id in ids {
        let Ok(info) = client.hook_info(id).await else {
            continue;
        };
        if !info.hooks.is_empty() {
            let at = info
                .hooks
                .iter()
                .filter_map(|h| h.unix_seconds)
                .min()
                .and_then(|s| DateTime::from_timestamp(s, 0));
            return Some((id.clone(), at));
        }
    }
    None
}
