//! One order's doubts, looked up and decided. A message is sent again only
//! on proof that the earlier one was not accepted; anything less stays a
//! doubt with its reason. A history that does not show the message is such
//! a "less" unless the operator says this channel's history is complete
//! (`--history-proves-absence`), and never for a send the API accepted.

use chrono::{DateTime, Utc};

use crate::api::client::{Client, Taken};
use crate::delivery::Delivery;
use crate::error::Failure;
pub(crate) use crate::fate::Settled;
use crate::ledger::{AttemptInfo, Doubt};
use crate::recorder::Recorder;

use super::history::{Finding, look_up};

/// What the operator allowed settling to conclude.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Policy {
    /// `--resend-unknown`: send an earlier run's doubt the history does not
    /// settle (the user decided a second message is better than none).
    pub resend_unknown: bool,
    /// `--history-proves-absence`: a history that answers without our
    /// message proves it was not sent (never for a send the API accepted).
    pub history_proves_absence: bool,
}

/// What an order's doubtful answers said about whether the API took the
/// send: the strongest claim among them (the ledger keeps each as a type).
fn taken(doubts: &[Doubt]) -> Taken {
    doubts
        .iter()
        .map(|d| d.taken().0)
        .max()
        .unwrap_or(Taken::Unsaid)
}

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
    })
}

/// Looks up one order's doubtful sends in the API's history and records
/// what it found. `lookups` counts this look-up and the ones before it in
/// this run, for the reason.
pub(crate) async fn settle(
    client: &Client,
    recorder: &Recorder,
    template: &str,
    d: &Delivery,
    doubts: &[Doubt],
    policy: Policy,
    lookups: u32,
) -> Result<Settled, Failure> {
    let Some(latest) = doubts.last() else {
        return Ok(Settled::Send);
    };
    let first = doubts
        .first()
        .map_or(latest.attempt.intent_at, |x| x.attempt.intent_at);
    let taken = taken(doubts);
    let hints: Vec<String> = doubts
        .iter()
        .filter_map(|x| x.taken().1.map(str::to_string))
        .collect();
    if let Some((wamid, at)) = confirmed_by_hooks(client, &hints).await {
        recorder
            .resolve_doubt(
                latest.attempt.attempt_id,
                wamid.clone(),
                at.unwrap_or(latest.attempt.intent_at),
                "resolved: the id the API named for it has statuses in hookInfo",
            )
            .await?;
        return Ok(Settled::Found(wamid));
    }
    let finding = look_up(client, &d.phone, (&d.order_key, template), first, hints).await;
    tracing::info!(
        order = %d.order_key,
        phone = %crate::logging::mask_phone(&d.phone),
        finding = ?finding,
        lookups,
        "an uncertain send looked up in the message history"
    );
    if let Finding::Sent { wamid, at } = finding {
        recorder
            .resolve_doubt(
                latest.attempt.attempt_id,
                wamid.clone(),
                at,
                "resolved: found in 1MSG's message history",
            )
            .await?;
        return Ok(Settled::Found(wamid));
    }
    if policy.resend_unknown
        || (finding == Finding::NotFound && policy.history_proves_absence && taken == Taken::Unsaid)
    {
        return Ok(Settled::Send);
    }
    let what = latest
        .attempt
        .error_detail
        .as_deref()
        .unwrap_or("the process stopped before the answer was recorded");
    Ok(doubt(&finding, what, taken, lookups))
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

/// The doubt a finding leaves, in words a person can act on.
fn doubt(finding: &Finding, what: &str, taken: Taken, lookups: u32) -> Settled {
    let head = match taken {
        Taken::WithoutId => format!("the API accepted it without telling its id ({what})"),
        Taken::NamedId => {
            format!("the API named a message id for it without saying it was sent ({what})")
        }
        Taken::Unsaid => format!("may or may not have been accepted ({what})"),
    };
    let accepted = taken != Taken::Unsaid;
    let times = match lookups {
        1 => "once".to_string(),
        n => format!("{n} times"),
    };
    let (found, again) = match finding {
        Finding::NotFound if accepted => (
            format!("looked up {times} in 1MSG's message history and not found there yet"),
            true,
        ),
        Finding::NotFound => (
            format!(
                "looked up {times} in 1MSG's message history and not found, which does not prove it was not sent (a history may be disabled, incomplete, paged or late)"
            ),
            true,
        ),
        Finding::Hidden(n) => (
            format!(
                "looked up {times} in 1MSG's message history, which holds {n} message(s) of our template to this partner since the send whose text does not show the order number, so it cannot tell whether one is this send"
            ),
            true,
        ),
        Finding::NoHistory => (
            "this channel keeps no message history to check".into(),
            false,
        ),
        Finding::Failed(e) => (
            format!("the message history could not be checked ({e}; looked up {times})"),
            true,
        ),
        // Not a doubt (settle records it as found); said truthfully anyway.
        Finding::Sent { wamid, .. } => {
            (format!("found in 1MSG's message history as {wamid}"), false)
        }
    };
    Settled::Doubt {
        reason: format!(
            "{head}; {found}; never resent automatically: check the 1MSG cabinet, then `--resend-unknown` sends it"
        ),
        again,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::client::SendClass;

    /// Of an order's doubts, the strongest claim that the API took the send
    /// counts; the ids they named are the hints. (What an answer claims is
    /// classified by the client, `api/classify/tests.rs`; what older
    /// ledgers' texts claimed, once, by the migration, `ledger/schema.rs`.)
    #[test]
    fn the_strongest_claim_of_an_orders_doubts_counts() {
        let doubt = |result: Option<SendClass>| Doubt {
            attempt: AttemptInfo {
                attempt_id: 1,
                run_id: 1,
                order_key: "7".into(),
                attempt_no: 1,
                phone: "49".into(),
                params: Vec::new(),
                intent_at: chrono::Utc::now(),
                answered_at: None,
                result,
                http_status: None,
                error_code: None,
                error_detail: Some("whatever it said, in words".into()),
                wamid: None,
            },
        };
        let said = |taken, id: Option<&str>| {
            doubt(Some(SendClass::Ambiguous {
                taken,
                named_id: id.map(str::to_string),
            }))
        };
        let named = said(Taken::NamedId, Some("w"));
        assert_eq!(
            taken(&[said(Taken::Unsaid, None), named.clone()]),
            Taken::NamedId
        );
        assert_eq!(named.taken(), (Taken::NamedId, Some("w")));
        assert_eq!(
            taken(&[named, said(Taken::WithoutId, None)]),
            Taken::WithoutId
        );
        assert_eq!(taken(&[said(Taken::Unsaid, None)]), Taken::Unsaid);
        // An intent never answered said nothing.
        assert_eq!(doubt(None).taken(), (Taken::Unsaid, None));
        assert_eq!(taken(&[]), Taken::Unsaid);
    }

    #[test]
    fn not_found_is_a_doubt_that_says_what_to_do() {
        let Settled::Doubt { reason, again } = doubt(
            &Finding::NotFound,
            "Internal server error",
            Taken::Unsaid,
            3,
        ) else {
            panic!("a doubt")
        };
        assert!(again);
        assert_eq!(
            reason,
            "may or may not have been accepted (Internal server error); looked up 3 times in 1MSG's message history and not found, which does not prove it was not sent (a history may be disabled, incomplete, paged or late); never resent automatically: check the 1MSG cabinet, then `--resend-unknown` sends it"
        );
        let Settled::Doubt { reason, again } =
            doubt(&Finding::NotFound, "queued", Taken::WithoutId, 1)
        else {
            panic!("a doubt")
        };
        assert!(again);
        assert!(
            reason.starts_with(
                "the API accepted it without telling its id (queued); looked up once in 1MSG's message history and not found there yet;"
            ),
            "{reason}"
        );
        let Settled::Doubt { reason, again } = doubt(&Finding::NoHistory, "x", Taken::Unsaid, 1)
        else {
            panic!("a doubt")
        };
        assert!(!again, "no history: nothing to look up again");
        assert!(reason.contains("keeps no message history"), "{reason}");
        let Settled::Doubt { again, .. } =
            doubt(&Finding::Failed("HTTP 502".into()), "x", Taken::Unsaid, 2)
        else {
            panic!("a doubt")
        };
        assert!(again, "a failed look-up may work next time");
    }
}
