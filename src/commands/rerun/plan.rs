//! What a rerun makes of each row of the file before the ledger records
//! it. The file is what a person edited, perhaps in a spreadsheet that
//! rounded every phone it shows; the ledger is what the API was told and
//! answered. So a row is sent again only when the file asks for it and the
//! ledger holds no message for its order that was accepted and has not
//! failed; every other row takes its outcome from the ledger, and what the
//! file changed in it is said, not sent.

use crate::delivery::{Rules, validate};
use crate::fate::rerun::{Asked, Held, Sent, take};
use crate::fate::{Ask, Known};
use crate::ingest::{Judged, judge};
use crate::input::{Field, RawFields, RawRow};
use crate::ledger::{Ledger, LedgerError};
use crate::report::Outcome;
use crate::report::read_back::{BackCells, BackColumns};

/// What the rerun is asked to do with the file's rows.
pub(in crate::commands) struct Asking<'a> {
    pub(in crate::commands) rules: &'a Rules,
    pub(in crate::commands) asked: Asked<'a>,
}

/// Where the order was last sent: the latest attempt's phone, else the
/// message's.
fn last_phone(known: &Known) -> Option<&str> {
    known
        .last
        .as_ref()
        .map(|a| a.phone.as_str())
        .or_else(|| known.message.as_ref().and_then(|m| m.phone.as_deref()))
}

/// A row of the file as read back: its five fields without the report's
/// `'` before formulas, its kept columns, and our cells.
pub(super) struct BackRow {
    pub(super) raw: RawRow,
    pub(super) cells: BackCells,
}

/// Reads a row's own cells out of its extra columns.
pub(super) fn back_row(mut raw: RawRow, columns: &BackColumns) -> BackRow {
    crate::report::undo_neutralising(&mut raw.fields);
    let cells = columns.split(&mut raw.extra);
    BackRow { raw, cells }
}

/// How to read a row's phone cell. The digits the order's last attempt
/// went to are that number (the report writes them without `+`); a cell
/// that differs was edited by a person and is read as written, so a
/// national number typed there is read with `--default-country`, never
/// taken for international digits. A row the ledger sent nothing for
/// holds our normalised digits unless it was `invalid`.
fn read_phone(phone: &mut String, outcome: Option<Outcome>, last_phone: Option<&str>) {
    match last_phone {
        Some(sent) if phone.trim() == sent => *phone = format!("+{sent}"),
        Some(_) => {}
        None if outcome.is_some_and(|o| o != Outcome::Invalid) => as_written_by_us(phone),
        None => {}
    }
}

/// A row that passed validation has its phone in the reconciliation as
/// the E.164 digits it was sent to, without the `+` (a `+` would start a
/// formula). Read back with `--default-country`, bare digits such as
/// `4915123456701` are also a national number (+49 4915…) and would be
/// refused as ambiguous; they are the number we resolved, so they are
/// read as international. A row that was `invalid` holds the input as it
/// was written, which must be read as the run read it.
fn as_written_by_us(phone: &mut String) {
    let digits = phone.trim();
    if (8..=15).contains(&digits.len())
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        *phone = format!("+{digits}");
    }
}

/// What to look a row's message up by: its order key, and its wamid.
pub(super) type Lookup = (String, Option<String>);

pub(super) fn lookups(rows: &[BackRow]) -> Vec<Lookup> {
    rows.iter()
        .map(|r| (r.raw.fields.order_key().to_string(), r.cells.wamid.clone()))
        .collect()
}

/// The message the ledger holds for each row: the latest accepted for its
/// order number or, when there is none (a spreadsheet dropped the order
/// number's leading zeros, or a person changed it), the one the row's wamid
/// names. Wamids differ from one run to the next; order numbers do not, so
/// they come first. With it, where the order's latest attempt went.
pub(super) fn messages(l: &Ledger, lookups: &[Lookup]) -> Result<Vec<Known>, LedgerError> {
    lookups
        .iter()
        .map(|(key, wamid)| {
            let by_key = match key.as_str() {
                "" => None,
                key => l.accepted_message(key)?,
            };
            let message = match (by_key, wamid) {
                (Some(m), _) => Some(m),
                (None, Some(w)) => l.message(w)?,
                (None, None) => None,
            };
            let order = message
                .as_ref()
                .map_or(key.as_str(), |m| m.order_key.as_str());
            let last = match order {
                "" => None,
                order => l.last_attempt(order)?,
            };
            Ok(Known {
                message,
                last,
                ..Known::default()
            })
        })
        .collect()
}

/// How the rerun takes a row: asked for again (its data validated) or
/// held, as [`take`] decides; a held row shows the data of the message or
/// the attempt the ledger holds, and what the file changed in it.
pub(super) fn judge_back(mut row: BackRow, known: &Known, ask: &Asking<'_>) -> Judged {
    read_phone(
        &mut row.raw.fields.partner_phone,
        row.cells.outcome,
        last_phone(known),
    );
    // The partners file read again (`--partners`): its phone and name are
    // the row's before the resend rule compares them with what was sent, so
    // a phone corrected there is a changed phone. What it cannot resolve
    // is the row's problem when the row is judged.
    if let (Some(directory), None) = (&ask.rules.directory, &row.raw.problem) {
        let _ = directory.resolve(&mut row.raw.fields, ask.rules);
    }
    // Only a failed message's row is judged by its cells before it is
    // taken: the resend rule compares them with what was sent.
    let valid = (known.failed() && row.raw.problem.is_none())
        .then(|| validate(&row.raw.fields, ask.rules).ok())
        .flatten();
    match take(row.cells.outcome, valid.as_ref(), known, ask.asked) {
        Ok(note) => Judged {
            note,
            ..judge(row.raw, ask.rules, Ask::Again)
        },
        Err(Held {
            outcome,
            why,
            sent: Some(sent),
        }) => held(row.raw, &sent, outcome, ask.rules, why),
        Err(h) => judge(row.raw, ask.rules, Ask::Hold(h.outcome)),
    }
}

/// A row not sent: it shows what the message carried, `why` it was not
/// sent (if the rule held it) and what the file changed that was not sent.
fn held(
    mut raw: RawRow,
    m: &Sent<'_>,
    outcome: Outcome,
    rules: &Rules,
    why: Option<String>,
) -> Judged {
    let edited = edits(&raw.fields, m, rules);
    raw.fields = sent_fields(m, std::mem::take(&mut raw.fields));
    let mut j = judge(raw, rules, Ask::Hold(outcome));
    j.note = match (why, edited) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    };
    j
}

/// The data the message was sent with, so that the report tells what the
/// partner received; what the ledger does not keep stays as in the file.
fn sent_fields(m: &Sent<'_>, file: RawFields) -> RawFields {
    let param = |i: usize, file: String| m.params.get(i).cloned().unwrap_or(file);
    RawFields {
        partner_phone: m.phone.map_or(file.partner_phone, str::to_string),
        order_number: m.order_key.to_string(),
        partner_name: param(0, file.partner_name),
        product_name: param(2, file.product_name),
        delivery_note: param(3, file.delivery_note),
        ..file
    }
}

/// The template parameters' names, in `{{1}}`..`{{4}}` order.
const PARAMS: [Field; 4] = [
    Field::PartnerName,
    Field::OrderNumber,
    Field::ProductName,
    Field::DeliveryNote,
];

/// What the file changed against the message already sent, and where that
/// message went, or `None` when the file changed nothing. A value the file
/// changed is compared as it would be sent (cleaned, the phone normalised);
/// one that would not validate (a phone a spreadsheet rounded) is quoted as
/// the file has it.
fn edits(file: &RawFields, m: &Sent<'_>, rules: &Rules) -> Option<String> {
    let sent_phone = m.phone.unwrap_or_default().to_string();
    let mut changed = Vec::new();
    // The phone alone, with the texts that were sent.
    let mut probe = sent_fields(m, RawFields::default());
    probe.partner_phone = file.partner_phone.clone();
    match validate(&probe, rules) {
        Ok(d) if d.phone == sent_phone => {}
        Ok(d) => changed.push(format!("phone {sent_phone} → {}", d.phone)),
        Err(_) => changed.push(format!(
            "phone {sent_phone} → `{}`",
            file.partner_phone.trim()
        )),
    }
    // The texts, with the phone that was sent.
    let mut probe = file.clone();
    probe.partner_phone = sent_phone.clone();
    let cleaned = validate(&probe, rules).ok();
    for (i, f) in PARAMS.into_iter().enumerate() {
        let old = match f {
            Field::OrderNumber => m.order_key,
            _ => m.params.get(i).map_or("", String::as_str),
        };
        let new = match (&cleaned, f) {
            (_, Field::OrderNumber) => file.order_key().to_string(),
            (Some(d), _) => d.params()[i].to_string(),
            (None, _) => file.get(f).trim().to_string(),
        };
        if old != new {
            changed.push(format!("{f} `{old}` → `{new}`"));
        }
    }
    (!changed.is_empty()).then(|| {
        format!(
            "edited in the file, not sent: {}; {} went to {sent_phone}",
            changed.join(", "),
            m.what
        )
    })
}

#[cfg(test)]
mod tests;
