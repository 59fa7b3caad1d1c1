//! Whether an order's message goes to the partner's next contact
//! (`--fallback backup`): only on positive proof that the message to the
//! contact before it cannot arrive. A doubt, a status still to come or a
//! message delivered or read is no proof, so the partner is never messaged
//! twice for one order by mistake; and no contact is written to twice for
//! one order, whatever the runs.

use crate::codes::{self, Actor};
use crate::delivery::Contact;
use crate::ledger::{AttemptInfo, MessageInfo, SendClass, Status};

use super::{Fate, Known, failed};

/// What proves that an order's message to a phone cannot arrive: the
/// code it failed with for good, or (`refused`) the code the API refused
/// its send with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proof {
    pub phone: String,
    pub code: i64,
    pub refused: bool,
}

impl Proof {
    /// What the proof is, for people: the row's notes say it beside the
    /// contact written to instead.
    pub(crate) fn said(&self) -> String {
        let how = if self.refused {
            "was refused"
        } else {
            "failed"
        };
        let (phone, code) = (&self.phone, self.code);
        let why = codes::lookup(code).map_or("", |c| c.reason);
        format!("the message to +{phone} {how} with code {code} ({why})")
    }
}

/// A code that proves the contact cannot be reached: one the code table
/// says never passes, and that is the contact's (not on WhatsApp, opted
/// out). A code that is the message's (too long, a bad value) would fail
/// the next contact the same way, so it proves nothing about the first.
pub(crate) fn cannot_arrive(code: i64) -> bool {
    codes::lookup(code).is_some_and(|c| c.retry.is_none() && c.actor == Actor::Partner)
}

/// What the row's notes say when the suppression list or the daily budget
/// ([`super::within`]) held back the next contact `to` (`held`: the fate
/// after them) that the message before `after` proved it needs; `None`
/// when nothing held it back.
pub(crate) fn held_note(held: &Fate, after: &Proof, to: &Contact) -> Option<String> {
    let why = match held {
        Fate::Suppressed(_) => "its phone is suppressed".to_string(),
        Fate::OverBudget { limit } => format!(
            "{limit} partners were messaged in the last 24 hours, the daily budget \
             (--daily-recipients {limit})"
        ),
        _ => return None,
    };
    Some(format!(
        "{}; the {} was not written to: {why}",
        after.said(),
        to.label
    ))
}

/// The fate of an order of this run whose row names a partner's contacts
/// (`contacts`, in the order they are written to): [`Fate::Fallback`] to
/// the first contact no run has sent this order to (`tried`: every phone
/// an attempt of the order went to), when what the ledger knows of the
/// order proves its last message cannot arrive; `None` otherwise.
pub(crate) fn fallback(known: &Known, tried: &[String], contacts: &[Contact]) -> Option<Fate> {
    // A doubt, or a message the partner's phone got (an earlier one, say,
    // whose correction was then refused), is no proof.
    let delivered = known.message.as_ref().and_then(|m| m.status.as_deref());
    if known.was_in_doubt
        || !known.doubts.is_empty()
        || delivered.is_some_and(|s| Status::of(s).proves_delivery())
    {
        return None;
    }
    let proof = proof(known.message.as_ref(), known.last.as_ref()?)?;
    let next = contacts.iter().find(|c| !tried.contains(&c.phone))?;
    Some(Fate::Fallback {
        after: proof,
        to: next.clone(),
    })
}

/// The proof the order's last attempt gives, if any: its synchronous
/// refusal, or the final failure of the message it made (`message`, the
/// order's latest).
fn proof(message: Option<&MessageInfo>, last: &AttemptInfo) -> Option<Proof> {
    match (&last.result, last.error_code, message) {
        (Some(SendClass::Rejected), Some(code), _) if cannot_arrive(code) => Some(Proof {
            phone: last.phone.clone(),
            code,
            refused: true,
        }),
        (Some(SendClass::Accepted { wamid }), _, Some(m)) if *wamid == m.wamid && failed(m) => {
            let code = m.error_code.filter(|c| cannot_arrive(*c))?;
            Some(Proof {
                phone: m.phone.clone().unwrap_or_else(|| last.phone.clone()),
                code,
                refused: false,
            })
        }
        _ => None,
    }
}
