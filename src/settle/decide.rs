//! One order's doubts, looked up and decided. A message is sent again only
//! on proof that the earlier one was not accepted; anything less stays a
//! doubt with its reason.

use crate::api::client::Client;
use crate::delivery::Delivery;
use crate::error::Failure;
use crate::ledger::{AttemptInfo, Doubt};
use crate::recorder::Recorder;

use super::history::{Finding, look_up};

/// How the doubts of one order were settled.
pub(crate) enum Settled {
    /// Found in the history: the wamid is recorded; track it.
    Found(String),
    /// Proved not sent (or the user said send anyway): send it.
    Send,
    /// Still in doubt, with the reason shown in the report.
    Doubt(String),
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
    })
}

/// Looks up one order's doubtful sends in the API's history and records
/// what it found.
pub(crate) async fn settle(
    client: &Client,
    recorder: &Recorder,
    template: &str,
    d: &Delivery,
    doubts: &[Doubt],
    resend_unknown: bool,
) -> Result<Settled, Failure> {
    let Some(latest) = doubts.last() else {
        return Ok(Settled::Send);
    };
    let first = doubts
        .first()
        .map_or(latest.attempt.intent_at, |x| x.attempt.intent_at);
    let what = latest
        .error_detail
        .clone()
        .unwrap_or_else(|| "the process stopped before the answer was recorded".into());
    let queued = doubts.iter().any(|x| {
        x.error_detail
            .as_deref()
            .is_some_and(|e| e.contains("queued"))
    });
    let finding = look_up(client, &d.phone, &d.order_key, template, first).await;
    tracing::info!(
        order = %d.order_key,
        phone = %crate::logging::mask_phone(&d.phone),
        finding = ?finding,
        "an uncertain send looked up in the message history"
    );
    match finding {
        Finding::Sent { wamid, at } => {
            recorder
                .resolve_doubt(
                    latest.attempt.attempt_id,
                    wamid.clone(),
                    at,
                    "resolved: found in 1MSG's message history",
                )
                .await?;
            Ok(Settled::Found(wamid))
        }
        Finding::NotFound if !queued => Ok(Settled::Send),
        _ if resend_unknown => Ok(Settled::Send),
        Finding::NotFound => Ok(Settled::Doubt(format!(
            "may or may not have been accepted ({what}); 1MSG queued it and its history does not show it yet; never resent automatically (--resend-unknown sends it)"
        ))),
        Finding::NoHistory => Ok(Settled::Doubt(format!(
            "may or may not have been accepted ({what}); this channel keeps no message history to check; never resent automatically (--resend-unknown sends it)"
        ))),
        Finding::Failed(e) => Ok(Settled::Doubt(format!(
            "may or may not have been accepted ({what}); the message history could not be checked ({e}); never resent automatically (--resend-unknown sends it)"
        ))),
    }
}
