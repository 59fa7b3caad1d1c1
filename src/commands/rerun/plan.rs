//! What a rerun makes of each row of the file before the ledger records
//! it. The file is what a person edited, perhaps in a spreadsheet that
//! rounded every phone it shows; the ledger is what the API was told and
//! answered. So a row is sent again only when the file asks for it and the
//! ledger holds no message for its order that was accepted and has not
//! failed; every other row takes its outcome from the ledger, and what the
//! file changed in it is said, not sent.

use super::resend::{self, Asked, Resend};
use crate::delivery::{Rules, validate};
use crate::ingest::{Judged, Pass, judge};
use crate::input::{Field, RawFields, RawRow};
use crate::ledger::{Ledger, LedgerError, MessageInfo, OrderAttempt, SendClass, Status};
use crate::report::Outcome;
use crate::report::read_back::{BackCells, BackColumns};

/// What the rerun is asked to do with the file's rows.
pub(in crate::commands) struct Ask<'a> {
    /// The outcomes to send again (`--only`).
    pub(in crate::commands) selected: &'a [Outcome],
    pub(in crate::commands) rules: &'a Rules,
    pub(super) asked: Asked,
}

/// What the ledger holds for a row's order: its latest accepted message,
/// and its latest attempt (answered or not).
#[derive(Debug, Clone, Default)]
pub(super) struct Earlier {
    pub(super) message: Option<MessageInfo>,
    pub(super) last: Option<OrderAttempt>,
}

impl Earlier {
    /// A send of the order after its message was accepted whose answer never
    /// came or could not be read: it may have been accepted, so the older
    /// message's `failed` is no proof that the partner has nothing.
    fn doubt_after_message(&self) -> Option<&OrderAttempt> {
        let (m, a) = (self.message.as_ref()?, self.last.as_ref()?);
        let in_doubt = matches!(a.result, None | Some(SendClass::Ambiguous { .. }));
        (in_doubt && a.wamid.is_none() && a.intent_at > m.accepted_at).then_some(a)
    }

    /// Where the order was last sent: the latest attempt's phone, else the
    /// message's.
    fn last_phone(&self) -> Option<&str> {
        self.last
            .as_ref()
            .map(|a| a.phone.as_str())
            .or_else(|| self.message.as_ref().and_then(|m| m.phone.as_deref()))
    }
}

/// What the API was asked to send for an order, and what to call it.
struct Sent<'a> {
    order_key: &'a str,
    phone: Option<&'a str>,
    params: &'a [String],
    /// `the message wamid.… (run 3)`.
    what: String,
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

    fn attempt(a: &'a OrderAttempt, order_key: &'a str) -> Self {
        Sent {
            order_key,
            phone: Some(&a.phone),
            params: &a.params,
            what: format!(
                "the send in doubt (run {}, attempt {})",
                a.run_id, a.attempt_no
            ),
        }
    }
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
pub(super) fn messages(l: &Ledger, lookups: &[Lookup]) -> Result<Vec<Earlier>, LedgerError> {
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
            Ok(Earlier { message, last })
        })
        .collect()
}

/// Whether the API said the message failed, for good.
pub(super) fn failed(m: &MessageInfo) -> bool {
    m.is_final && m.status.as_deref().map(Status::of) == Some(Status::Failed)
}

/// How the rerun takes a row: sent again (its data validated) only when its
/// outcome is one the user selected and its order has no accepted message
/// that did not fail, and, when that message failed, only if
/// [`resend::decide`] says a second send may pass; otherwise held, with
/// the data of the message the ledger holds, if any.
pub(super) fn judge_back(mut row: BackRow, earlier: &Earlier, ask: &Ask<'_>) -> Judged {
    let outcome = row.cells.outcome.unwrap_or(Outcome::Unknown);
    let wanted = row.cells.outcome.is_some_and(|o| ask.selected.contains(&o));
    read_phone(
        &mut row.raw.fields.partner_phone,
        row.cells.outcome,
        earlier.last_phone(),
    );
    match &earlier.message {
        // The failed message was sent again and that send is in doubt: it
        // stays unknown until a person or the history settles it, whichever
        // report the rerun is given.
        Some(m) if wanted && failed(m) && earlier.doubt_after_message().is_some() => {
            let a = earlier.doubt_after_message().expect("matched above");
            let key = row.raw.fields.order_key().to_string();
            let why = format!(
                "not sent again: the message failed, but a later send of it (run {}, attempt {}) \
                 may have been accepted (its answer was lost); look it up in the 1MSG cabinet",
                a.run_id, a.attempt_no
            );
            held(
                row.raw,
                &Sent::attempt(a, &key),
                Outcome::Unknown,
                ask.rules,
                Some(why),
            )
        }
        Some(m) if !wanted || !failed(m) => {
            held(row.raw, &Sent::message(m), outcome, ask.rules, None)
        }
        Some(m) => {
            let j = judge(row.raw, ask.rules, Pass::Resend);
            let decision = match &j.result {
                Ok(d) => resend::decide(d, m, ask.asked),
                // Invalid now: reported as such, never sent.
                Err(_) => Resend::Send(None),
            };
            match decision {
                Resend::Send(note) => Judged { note, ..j },
                Resend::Hold(why) => held(j.raw, &Sent::message(m), outcome, ask.rules, Some(why)),
            }
        }
        // An `unknown` row: its send may have reached the partner, with the
        // data of that attempt, which the report keeps showing.
        None if outcome == Outcome::Unknown && !wanted => match &earlier.last {
            Some(a) => {
                let key = row.raw.fields.order_key().to_string();
                held(row.raw, &Sent::attempt(a, &key), outcome, ask.rules, None)
            }
            None => judge(row.raw, ask.rules, Pass::Hold(outcome)),
        },
        None => judge(
            row.raw,
            ask.rules,
            if wanted {
                Pass::Resend
            } else {
                Pass::Hold(outcome)
            },
        ),
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
    let mut j = judge(raw, rules, Pass::Hold(outcome));
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
        country: file.country,
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
