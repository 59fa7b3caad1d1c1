//! What a rerun makes of each row of the file before the ledger records
//! it. The file is what a person edited, perhaps in a spreadsheet that
//! rounded every phone it shows; the ledger is what the API was told and
//! answered. So a row is sent again only when the file asks for it and the
//! ledger holds no message for its order that was accepted and has not
//! failed; every other row takes its outcome from the ledger, and what the
//! file changed in it is said, not sent.

use crate::delivery::{Rules, validate};
use crate::ingest::{Judged, Pass, judge};
use crate::input::{Field, RawFields, RawRow};
use crate::ledger::{Ledger, LedgerError, MessageInfo, Status};
use crate::report::Outcome;
use crate::report::read_back::{BackCells, BackColumns};

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
    if cells.outcome.is_some_and(|o| o != Outcome::Invalid) {
        as_written_by_us(&mut raw.fields.partner_phone);
    }
    BackRow { raw, cells }
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
/// they come first.
pub(super) fn messages(
    l: &Ledger,
    lookups: &[Lookup],
) -> Result<Vec<Option<MessageInfo>>, LedgerError> {
    lookups
        .iter()
        .map(|(key, wamid)| {
            let by_key = match key.as_str() {
                "" => None,
                key => l.accepted_message(key)?,
            };
            match (by_key, wamid) {
                (Some(m), _) => Ok(Some(m)),
                (None, Some(w)) => l.message(w),
                (None, None) => Ok(None),
            }
        })
        .collect()
}

/// Whether the API said the message failed, for good.
pub(super) fn failed(m: &MessageInfo) -> bool {
    m.is_final && m.status.as_deref().map(Status::of) == Some(Status::Failed)
}

/// How the rerun takes a row: sent again (its data validated) only when its
/// outcome is one the user selected and its order has no accepted message
/// that did not fail; otherwise held, with the data of the message the
/// ledger holds, if any.
pub(super) fn judge_back(
    row: BackRow,
    message: Option<&MessageInfo>,
    selected: &[Outcome],
    rules: &Rules,
) -> Judged {
    let outcome = row.cells.outcome.unwrap_or(Outcome::Unknown);
    let wanted = row.cells.outcome.is_some_and(|o| selected.contains(&o));
    match message {
        Some(m) if !wanted || !failed(m) => {
            let note = edits(&row.raw.fields, m, rules);
            let mut raw = row.raw;
            raw.fields = sent_fields(m, std::mem::take(&mut raw.fields));
            let mut j = judge(raw, rules, Pass::Hold(outcome));
            j.note = note;
            j
        }
        _ => judge(
            row.raw,
            rules,
            if wanted {
                Pass::Resend
            } else {
                Pass::Hold(outcome)
            },
        ),
    }
}

/// The data the message was sent with, so that the report tells what the
/// partner received; what the ledger does not keep stays as in the file.
fn sent_fields(m: &MessageInfo, file: RawFields) -> RawFields {
    let param = |i: usize, file: String| m.params.get(i).cloned().unwrap_or(file);
    RawFields {
        partner_phone: m.phone.clone().unwrap_or(file.partner_phone),
        order_number: m.order_key.clone(),
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
fn edits(file: &RawFields, m: &MessageInfo, rules: &Rules) -> Option<String> {
    let sent_phone = m.phone.clone().unwrap_or_default();
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
            Field::OrderNumber => m.order_key.as_str(),
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
            "edited in the file, not sent: {}; the message {} (run {}) went to {sent_phone}",
            changed.join(", "),
            m.wamid,
            m.run_id
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Origin;

    fn message(status: Option<&str>, is_final: bool) -> MessageInfo {
        MessageInfo {
            wamid: "wamid.A".into(),
            order_key: "R-1".into(),
            run_id: 1,
            attempt_id: None,
            phone: Some("4915123456701".into()),
            params: ["Müller GmbH", "R-1", "Stuhl", "Montag"]
                .map(String::from)
                .to_vec(),
            accepted_at: chrono::Utc::now(),
            status: status.map(String::from),
            status_at: None,
            error_code: None,
            error_title: None,
            is_final,
            polls: 0,
        }
    }

    fn row(phone: &str, product: &str, outcome: Option<Outcome>) -> BackRow {
        BackRow {
            raw: RawRow {
                row: 1,
                line: 2,
                fields: RawFields {
                    partner_name: "Müller GmbH".into(),
                    partner_phone: phone.into(),
                    order_number: "R-1".into(),
                    product_name: product.into(),
                    delivery_note: "Montag".into(),
                    ..RawFields::default()
                },
                problem: None,
                extra: Vec::new(),
            },
            cells: BackCells {
                outcome,
                wamid: None,
            },
        }
    }

    fn rules() -> Rules {
        Rules {
            origin: Some(Origin::default()),
            ..Rules::default()
        }
    }

    #[test]
    fn a_delivered_row_with_a_rounded_phone_is_held_with_what_was_sent() {
        let m = message(Some("delivered"), true);
        let j = judge_back(
            row("4.91512E+12", "Stuhl", Some(Outcome::Delivered)),
            Some(&m),
            &crate::report::read_back::RESENDABLE,
            &rules(),
        );
        assert_eq!(j.pass, Pass::Hold(Outcome::Delivered));
        assert_eq!(j.raw.fields.partner_phone, "4915123456701");
        assert_eq!(
            j.note.as_deref(),
            Some(
                "edited in the file, not sent: phone 4915123456701 → `4.91512E+12`; \
                 the message wamid.A (run 1) went to 4915123456701"
            )
        );
    }

    #[test]
    fn an_unchanged_row_says_nothing_and_a_changed_one_names_the_change() {
        let m = message(Some("read"), true);
        let same = judge_back(
            row("+49 151 2345 6701", "Stuhl", Some(Outcome::Read)),
            Some(&m),
            &[],
            &rules(),
        );
        assert_eq!(same.note, None, "the same number, written otherwise");
        // Selected in the file (a person typed `skipped`), but the ledger
        // holds a message that did not fail: held all the same.
        let changed = judge_back(
            row("4915123456709", "Tisch", Some(Outcome::Skipped)),
            Some(&m),
            &crate::report::read_back::RESENDABLE,
            &rules(),
        );
        assert_eq!(changed.pass, Pass::Hold(Outcome::Skipped));
        assert_eq!(changed.raw.fields.product_name, "Stuhl", "as sent");
        let note = changed.note.expect("a note");
        assert!(
            note.contains("phone 4915123456701 → 4915123456709, product_name `Stuhl` → `Tisch`"),
            "{note}"
        );
    }

    #[test]
    fn a_failed_message_is_sent_again_only_when_selected() {
        let m = message(Some("failed"), true);
        let selected = [Outcome::Failed];
        let again = judge_back(
            row("+49 151 2345 6709", "Stuhl", Some(Outcome::Failed)),
            Some(&m),
            &selected,
            &rules(),
        );
        assert_eq!(again.pass, Pass::Resend);
        assert_eq!(again.raw.fields.partner_phone, "+49 151 2345 6709");
        let held = judge_back(
            row("+49 151 2345 6709", "Stuhl", Some(Outcome::Failed)),
            Some(&m),
            &[Outcome::Rejected],
            &rules(),
        );
        assert_eq!(held.pass, Pass::Hold(Outcome::Failed));
        // No message: the file's outcome decides; an unreadable one holds.
        let none = judge_back(row("12", "Stuhl", None), None, &selected, &rules());
        assert_eq!(none.pass, Pass::Hold(Outcome::Unknown));
        let invalid = judge_back(
            row("12", "Stuhl", Some(Outcome::Invalid)),
            None,
            &[Outcome::Invalid],
            &rules(),
        );
        assert_eq!(invalid.pass, Pass::Resend);
        assert!(invalid.result.is_err());
    }

    #[test]
    fn messages_are_found_by_order_number_then_by_wamid() {
        use crate::ledger::{Answer, AttemptResult, RunMeta};
        let mut l = Ledger::open_in_memory().unwrap();
        let now = chrono::Utc::now();
        let run = l
            .begin_run(&RunMeta {
                kind: "run".into(),
                input_path: None,
                channel: "SIM0001".into(),
                template: "t".into(),
                language: "en".into(),
                started_at: now,
            })
            .unwrap();
        let params = message(None, false).params;
        let a = l
            .record_intent(run, "12", 1, "4915123456701", &params, now)
            .unwrap();
        let accepted = AttemptResult::Accepted { wamid: "w1".into() };
        l.record_answer(
            a,
            &Answer {
                result: accepted,
                http_status: Some(200),
                error_code: None,
                error_detail: None,
                at: now,
            },
        )
        .unwrap();
        let found = messages(
            &l,
            &[
                ("12".into(), None),
                ("0012".into(), Some("w1".into())),
                ("nope".into(), Some("wamid.other".into())),
                (String::new(), None),
            ],
        )
        .unwrap();
        assert_eq!(found[0].as_ref().map(|m| m.wamid.as_str()), Some("w1"));
        assert_eq!(found[1].as_ref().map(|m| m.wamid.as_str()), Some("w1"));
        assert!(found[2].is_none() && found[3].is_none());
    }
}
