//! The reconciliation CSV: its columns, the streaming writer, and the guard
//! against CSV injection. Partner names and API error texts are untrusted,
//! so a cell a spreadsheet would run as a formula is written with a leading
//! `'`; `handoff rerun` reads the file back, so the exact inverse lives here
//! too, and both directions share one definition of what starts a formula.

use std::borrow::Cow;
use std::io;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};

use super::atomic::write_atomic;
use super::outcome::ReportRow;
use crate::input::{Field, RawFields};

pub(crate) const HEADER: [&str; 18] = [
    "row",
    "line",
    "order_number",
    "partner_name",
    "phone",
    "product_name",
    "delivery_note",
    "outcome",
    "status",
    "wamid",
    "http_status",
    "error_code",
    "error_detail",
    "attempts",
    "sent_at",
    "status_at",
    "reused_from_run",
    "notes",
];

/// The first characters that make a spreadsheet evaluate a cell (OWASP CSV
/// injection): a cell starting with one of them is written with a `'`.
const FORMULA_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\n'];

fn starts_formula(c: Option<char>) -> bool {
    c.is_some_and(|c| FORMULA_STARTS.contains(&c))
}

/// Prefixes a cell that a spreadsheet would evaluate.
pub(crate) fn neutralise(cell: &str) -> Cow<'_, str> {
    if starts_formula(cell.chars().next()) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The cell without the `'` that [`neutralise`] put before it, or `None`
/// where the cell does not carry that prefix.
fn strip_neutralising(cell: &str) -> Option<&str> {
    cell.strip_prefix('\'')
        .filter(|rest| starts_formula(rest.chars().next()))
}

/// Removes the `'` the report put before cells a spreadsheet would run as
/// formulas, so the partner reads the text as it was.
pub(crate) fn undo_neutralising(fields: &mut RawFields) {
    for f in Field::ALL {
        if let Some(fixed) = strip_neutralising(fields.get(f)).map(str::to_string) {
            fields.set(f, fixed);
        }
    }
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// Writes the rows as the reconciliation CSV, atomically; `extra` names
/// the input's other columns kept with `--keep-columns`, written after ours.
/// For tests: a run streams its report with [`write_csv_from`].
#[cfg(test)]
pub(crate) fn write_csv(path: &Path, rows: &[ReportRow], extra: &[String]) -> io::Result<()> {
    write_csv_from(path, extra, |emit| rows.iter().try_for_each(emit))
}

/// The same, for rows produced one at a time: `produce` calls `emit` with
/// each row, in order, so the report never has to be held whole.
pub(crate) fn write_csv_from(
    path: &Path,
    extra: &[String],
    produce: impl FnOnce(&mut dyn FnMut(&ReportRow) -> io::Result<()>) -> io::Result<()>,
) -> io::Result<()> {
    write_atomic(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(
            HEADER
                .iter()
                .copied()
                .chain(extra.iter().map(String::as_str)),
        )?;
        produce(&mut |r: &ReportRow| {
            let cells = [
                r.row.to_string(),
                r.line.to_string(),
                r.order_number.clone(),
                r.partner_name.clone(),
                r.phone.clone(),
                r.product_name.clone(),
                r.delivery_note.clone(),
                r.outcome.as_str().to_string(),
                opt(&r.status),
                opt(&r.wamid),
                opt(&r.http_status),
                opt(&r.error_code),
                opt(&r.error_detail),
                r.attempts.to_string(),
                time(r.sent_at),
                time(r.status_at),
                opt(&r.reused_from_run),
                opt(&r.notes),
            ];
            csv.write_record(
                cells
                    .iter()
                    .chain(r.extra.iter().take(extra.len()))
                    .map(|c| neutralise(c).into_owned()),
            )?;
            Ok(())
        })?;
        csv.flush()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::ledger::Verdict;
    use crate::report::outcome::reconcile;
    use crate::report::outcome::tests::facts;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(neutralise("+49"), "'+49");
        assert_eq!(neutralise("@x"), "'@x");
        assert_eq!(neutralise("-1"), "'-1");
        assert_eq!(neutralise("ACME"), "ACME");
    }

    #[test]
    fn neutralised_cells_come_back_as_they_were() {
        let mut f = RawFields {
            partner_name: "'=ACME".into(),
            partner_phone: "'+4915112345678".into(),
            order_number: "'-17".into(),
            product_name: "'quoted".into(),
            delivery_note: "plain".into(),
            ..RawFields::default()
        };
        undo_neutralising(&mut f);
        assert_eq!(f.partner_name, "=ACME");
        assert_eq!(f.partner_phone, "+4915112345678");
        assert_eq!(f.order_number, "-17");
        assert_eq!(f.product_name, "'quoted", "only the report's own prefix");
    }

    #[test]
    fn neutralising_round_trips_every_formula_start() {
        for c in FORMULA_STARTS {
            for cell in [c.to_string(), format!("{c}SUM(A1)"), format!("{c}'{c}")] {
                let written = neutralise(&cell).into_owned();
                assert_eq!(written, format!("'{cell}"), "{c:?} is prefixed");
                let mut f = RawFields {
                    partner_name: written.clone(),
                    partner_phone: written.clone(),
                    order_number: written.clone(),
                    product_name: written.clone(),
                    delivery_note: written,
                    ..RawFields::default()
                };
                undo_neutralising(&mut f);
                for field in Field::ALL {
                    assert_eq!(f.get(field), cell, "{c:?} in {field:?} comes back");
                }
            }
        }
        for plain in ["", "ACME", "'quoted", "4915112345678"] {
            assert_eq!(neutralise(plain), plain);
            assert_eq!(strip_neutralising(plain), None);
        }
    }

    #[test]
    fn atomic_write_replaces_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        fs::write(&path, "old").unwrap();
        let row = reconcile(facts(Verdict::Invalid), 1);
        write_csv(&path, &[row], &[]).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("row,line,order_number"));
        assert!(text.contains(",invalid,"));
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
