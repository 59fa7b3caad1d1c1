//! What the ledger records of a decided row: where its message goes or
//! went ([`written_to`]), and the row itself ([`row_record`]).

use super::{Judged, reason};
use crate::delivery::Contact;
use crate::fate::{Ask, Fate, Known};
use crate::ledger::RowRecord;

/// Joins two notes with `; `.
fn join(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    }
}

/// Where a row's message goes or went, when not to the row's own phone.
pub(super) struct WrittenTo<'a> {
    /// The partners file's contact of that phone.
    contact: Option<&'a Contact>,
    /// A send in doubt's phone and language: it is looked up there, and
    /// sent again there if it proves unsent, whatever the row or the
    /// partners file says now (the history of another chat proves
    /// nothing about it).
    doubt: Option<(&'a str, Option<&'a str>)>,
}

impl WrittenTo<'_> {
    /// The phone and language the row's message, or its look-up and
    /// resend, go to; `None`: the row's own.
    pub(super) fn send_to(&self) -> Option<(&str, Option<&str>)> {
        match (self.doubt, self.contact) {
            (Some(d), _) => Some(d),
            (None, Some(c)) => Some((c.phone.as_str(), c.language.as_deref())),
            (None, None) => None,
        }
    }
}

/// Where a row's message goes or went: for a row reusing a message an
/// earlier run sent to another of the partner's contacts (a fallback), that
/// contact; for one looking up a send in doubt, that send's phone (and its
/// contact, if the partners file still has it); else the row's own contact.
pub(super) fn written_to<'a>(j: &'a Judged, fate: &Fate, known: &'a Known) -> WrittenTo<'a> {
    let doubt = match fate {
        Fate::LookUp => known.doubts.last().map(|d| &d.attempt),
        _ => None,
    };
    let went_to = match fate {
        Fate::Reused { .. } => known.message.as_ref().and_then(|m| m.phone.as_deref()),
        _ => doubt.map(|a| a.phone.as_str()),
    };
    WrittenTo {
        contact: match went_to {
            Some(phone) => j.partner_contacts.iter().find(|c| c.phone == phone),
            None => j.partner_contacts.first(),
        },
        doubt: doubt.map(|a| (a.phone.as_str(), a.language.as_deref())),
    }
}

/// The ledger's row: the fields as read, the normalised phone and order
/// key when the row is valid, and the decision; `to`: where its message
/// goes or went ([`written_to`]), whose phone it shows.
pub(super) fn row_record(j: &Judged, fate: &Fate, to: &WrittenTo<'_>) -> RowRecord {
    let (contact, sent) = (to.contact, to.send_to());
    let raw = &j.raw;
    // Held rows were not judged by their cells: recorded as read.
    let judged = match j.ask {
        Ask::Hold(_) => None,
        _ => Some(&j.result),
    };
    // The command's word on a row (a rerun's --force, or what its file
    // changed) stands beside what the decision says.
    let command_note = match (fate, j.ask) {
        (Fate::Send { .. }, _) | (_, Ask::Hold(_)) => j.note.clone(),
        _ => None,
    };
    let mut notes = join(fate.note(), command_note);
    let (phone, order_key, warnings) = match judged {
        Some(Ok(d)) => {
            let cleaning = (!d.notes.is_empty()).then(|| d.notes.join("; "));
            notes = join(cleaning, notes);
            let warnings = (!d.warnings.is_empty()).then(|| d.warnings.join("; "));
            let phone = sent
                .map_or(d.phone.as_str(), |(phone, _)| phone)
                .to_string();
            (phone, Some(d.order_key.clone()), warnings)
        }
        _ => (
            raw.fields.partner_phone.clone(),
            Some(raw.fields.order_number.trim().to_string()).filter(|k| !k.is_empty()),
            None,
        ),
    };
    let reason = match (fate, judged) {
        (Fate::Invalid, Some(Err(p))) => Some(reason(raw, p)),
        _ => fate.reason(raw.line, j.key().unwrap_or_default()),
    };
    RowRecord {
        row: raw.row,
        line: raw.line,
        order_key,
        partner_name: raw.fields.partner_name.clone(),
        phone,
        order_number: raw.fields.order_number.clone(),
        product_name: raw.fields.product_name.clone(),
        delivery_note: raw.fields.delivery_note.clone(),
        verdict: fate.verdict(),
        reason,
        // Held rows were not judged: no problem class, whatever the cells.
        problem: match (judged, fate) {
            (Some(Err(p)), Fate::Invalid) => Some(p.kind.name().to_string()),
            _ => fate.problem().map(str::to_string),
        },
        notes,
        warnings,
        extra: (!raw.extra.is_empty())
            .then(|| serde_json::to_string(&raw.extra).unwrap_or_default()),
        partner_id: Some(raw.fields.partner_id.trim().to_string()).filter(|id| !id.is_empty()),
        contact: contact.map(|c| c.label.clone()),
        language: match (judged, sent) {
            (Some(Ok(_)), Some((_, language))) => language.map(str::to_string),
            (Some(Ok(d)), None) => d.language.clone(),
            _ => None,
        },
    }
}
