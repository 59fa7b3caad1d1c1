//! What a rerun's file asks of each row. The file is what a person edited,
//! perhaps in a spreadsheet that rounded every phone it shows; the ledger
//! is what the API was told and answered. So a row is asked for again only
//! when its outcome is one the person selected and the ledger holds no
//! message for its order that was accepted and has not failed; a failed one
//! goes again only when the resend rule ([`resend`]) allows it. Every other
//! row is held, and shows what was sent.
//!
//! `--resend-unknown` selects the `unknown` rows too: their order has no
//! accepted message, so they are decided as a run decides a doubt (looked
//! up in the history first, then sent unless it was found).

use chrono::{DateTime, Duration, Utc};

use super::{Known, Outcome, failed};
use crate::codes;
use crate::delivery::Delivery;
use crate::ledger::{AttemptInfo, MessageInfo, SendClass};

/// What the rerun was asked, besides the file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asked<'a> {
    /// The outcomes to send again (`--only`).
    pub selected: &'a [Outcome],
    /// `--resend-unknown`: the `unknown` rows are asked for too.
    pub resend_unknown: bool,
    /// `--force`: send an unchanged failed row whatever its code says.
    pub force: bool,
    /// When the rerun runs (a code that may pass only a day later).
    pub now: DateTime<Utc>,
}

/// A row the rerun holds: the outcome it shows, `why` when a rule held it,
/// and what was sent for its order that the row shows instead of the file
/// (the order's message, or its last attempt when that is in doubt; none:
/// the row shows the file as read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Held<'a> {
    pub outcome: Outcome,
    pub why: Option<String>,
    pub sent: Option<Sent<'a>>,
}

/// What the API was asked to send for an order, and what to call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent<'a> {
    pub order_key: &'a str,
    pub phone: Option<&'a str>,
    pub params: &'a [String],
    /// `the message wamid.… (run 3)`.
    pub what: String,
}

impl<'a> Sent<'a> {
    fn message(m: &'a MessageInfo) -> Self {
        Sent {
            order_key: &m.order_key,
            phone: m.phone.as_deref(),
            params: &m.params,
            what: format!("the message {} (run {})", m.wamid, m.run_id),
        }
    }

    fn attempt(a: &'a AttemptInfo) -> Self {
        Sent {
            order_key: &a.order_key,
            phone: Some(&a.phone),
            params: &a.params,
            what: format!(
                "the send in doubt (run {}, attempt {})",
                a.run_id, a.attempt_no
            ),
        }
    }
}

/// Takes a row whose file outcome is `outcome` (`None`: unreadable), with
/// `valid` its delivery as the file has it now (when it validates) and
/// `known` what the ledger holds for its order: `Ok` asks for it again,
/// with a note when there is more to say than that it was selected
/// (`--force`); `Err` holds it.
pub(crate) fn take<'a>(
    outcome: Option<Outcome>,
    valid: Option<&Delivery>,
    known: &'a Known,
    asked: Asked<'_>,
) -> Result<Option<String>, Held<'a>> {
    let wanted = outcome.is_some_and(|o| {
        asked.selected.contains(&o) || (o == Outcome::Unknown && asked.resend_unknown)
    });
    let outcome = outcome.unwrap_or(Outcome::Unknown);
    let held = |why, sent| Held { outcome, why, sent };
    let message = || known.message.as_ref().map(Sent::message);
    match &known.message {
        // The failed message was sent again and that send is in doubt: it
        // stays unknown until a person or the history settles it, whichever
        // report the rerun is given.
        Some(m) if wanted && failed(m) => match doubt_after(m, known.last.as_ref()) {
            Some(a) => Err(Held {
                outcome: Outcome::Unknown,
                why: Some(format!(
                    "not sent again: the message failed, but a later send of it (run {}, attempt {}) \
                     may have been accepted (its answer was lost); look it up in the 1MSG cabinet",
                    a.run_id, a.attempt_no
                )),
                sent: Some(Sent::attempt(a)),
            }),
            // Invalid now: reported as such, never sent.
            None => valid.map_or(Ok(None), |d| {
                resend(d, m, asked).map_err(|why| held(Some(why), message()))
            }),
        },
        Some(_) => Err(held(None, message())),
        // An `unknown` row: its send may have reached the partner, with the
        // data of that attempt, which the report keeps showing.
        None if outcome == Outcome::Unknown && !wanted && known.last.is_some() => {
            Err(held(None, known.last.as_ref().map(Sent::attempt)))
        }
        None if wanted => Ok(None),
        None => Err(held(None, None)),
    }
}

/// A send of the order after its message was accepted whose answer never
/// came or could not be read: it may have been accepted, so the older
/// message's `failed` is no proof that the partner has nothing.
fn doubt_after<'a>(m: &MessageInfo, last: Option<&'a AttemptInfo>) -> Option<&'a AttemptInfo> {
    let a = last?;
    let in_doubt = matches!(a.result, None | Some(SendClass::Ambiguous { .. }));
    (in_doubt && a.wamid.is_none() && a.intent_at > m.accepted_at).then_some(a)
}

/// The code's sentence, or one that names an unknown code.
fn why(code: i64) -> String {
    codes::lookup(code).map_or_else(|| codes::unknown_reason(code), |c| c.reason.to_string())
}

/// Whether a failed row whose data is valid is sent again. A failed message
/// is proof the partner did not get it, so sending again never messages
/// anyone twice; but sending the same data to an opted-out partner or a
/// number not on WhatsApp fails the same way every night, and each failure
/// costs the channel's quality rating. So it goes again only when its phone
/// or text changed since the failed message, or its error code says a
/// second try may pass ([`crate::codes`]); `--force` overrides. `Ok` sends
/// (with a note when there is more to say), `Err` holds and says why and
/// what would send it.
///
/// `d` is the row as the file has it now, `failed` the message that failed.
/// The comparison is with what the ledger says was sent (normalised digits,
/// cleaned texts), never with the report's text, so a phone written another
/// way is not a change.
pub(crate) fn resend(
    d: &Delivery,
    failed: &MessageInfo,
    asked: Asked<'_>,
) -> Result<Option<String>, String> {
    let sent_params = failed.params.iter().map(String::as_str);
    let changed = failed.phone.as_deref() != Some(d.phone.as_str()) || !sent_params.eq(d.params());
    if changed {
        return Ok(None);
    }
    let Some(code) = failed.error_code else {
        // No code to go by: the failure says nothing about a second try,
        // and the row was asked for.
        return Ok(None);
    };
    let retry = codes::lookup(code).map_or(codes::MAY, |c| c.retry);
    let held = |text: String| {
        if asked.force {
            Ok(Some(format!(
                "sent again with --force, the data unchanged: {}",
                why(code)
            )))
        } else {
            Err(text)
        }
    };
    match retry {
        Some(wait) if wait.is_zero() => Ok(None),
        None => held(format!(
            "not sent again: {} The phone and text are unchanged since {} failed (code {code}), \
             so it would fail the same way; correct the row, or rerun with --force to send it \
             anyway.",
            why(code),
            failed.wamid
        )),
        Some(wait) => {
            let failed_at = failed.status_at.unwrap_or(failed.accepted_at);
            let from = Duration::from_std(wait)
                .ok()
                .and_then(|w| failed_at.checked_add_signed(w))
                .unwrap_or(failed_at);
            if asked.now >= from {
                return Ok(None);
            }
            held(format!(
                "not sent again yet: {} A second try may pass from {} UTC on ({} failed with \
                 code {code}); rerun then, or with --force.",
                why(code),
                from.format("%Y-%m-%d %H:%M"),
                failed.wamid
            ))
        }
    }
}
