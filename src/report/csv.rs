//! The reconciliation CSV: the streaming writer of the columns
//! (`columns.rs`), and the guard
//! against CSV injection. Partner names, kept columns and API error texts
//! are untrusted, so a cell a spreadsheet would run as a formula is written
//! with a leading `'`; `handoff rerun` reads the file (or the workbook) back,
//! so the exact inverse lives here too, and both directions share one
//! definition of what starts a formula.

use std::borrow::Cow;
use std::io;
use std::path::Path;

use super::atomic::write_atomic;
use super::columns::{COLUMNS, header_names};
use super::outcome::ReportRow;
use crate::input::{Field, RawFields};

/// The first characters that make a spreadsheet evaluate a cell (OWASP CSV
/// injection), with their full-width forms, which Excel takes for them in
/// East Asian locales.
const FORMULA_STARTS: [char; 11] = [
    '=', '+', '-', '@', '\t', '\r', '\n', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// Whether a spreadsheet could read `cell` as a formula: its first character
/// that is not blank starts one, since LibreOffice's import with "Trim
/// spaces" drops the blanks before `   =1+1` and runs what follows
/// (tests/cells.rs). Blank here is Unicode whitespace and the zero-width
/// characters an export leaves unseen. A plain negative number (`-17`,
/// `-1,234.56`) is read as a number, not run, and stays as it is so an
/// amount keeps summing.
fn runs_as_formula(cell: &str) -> bool {
    let rest = cell.trim_start_matches(|c: char| {
        (c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'))
            && !FORMULA_STARTS.contains(&c)
    });
    rest.chars()
        .next()
        .is_some_and(|c| FORMULA_STARTS.contains(&c))
        && !is_negative_number(cell)
}

/// `-` and digits in groups split by single `.` or `,`: a number or plain
/// text in every locale's reading, never an expression.
fn is_negative_number(cell: &str) -> bool {
    cell.strip_prefix('-').is_some_and(|digits| {
        digits
            .split(['.', ','])
            .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Whether [`neutralise`] prefixes `cell`: a formula, or a formula behind
/// `'`s of the input's own. Those are prefixed too, so that a cell written
/// with a `'` before a formula is always ours and the inverse can remove
/// exactly one: `'=x` is written `''=x` and read back as `'=x`.
fn needs_prefix(cell: &str) -> bool {
    runs_as_formula(cell.trim_start_matches('\''))
}

/// Prefixes a cell that a spreadsheet would evaluate with `'`, which makes
/// it text in Excel and LibreOffice; every other cell, numbers and phones
/// included, is written as it is.
pub(crate) fn neutralise(cell: &str) -> Cow<'_, str> {
    if needs_prefix(cell) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// A text as the workbook writes it: in a string cell, which no spreadsheet
/// runs, so without the `'` the CSV needs (`+46 70 123 45 67` is the
/// partner's value, `'+46 70 123 45 67` is not). Only a text that starts
/// with a `'` of its own before a formula keeps the CSV's form, so that
/// [`undo_neutralising_cell`] reads every text back as it was, from these
/// workbooks and from those of earlier versions, which had the `'` wherever
/// the CSV does.
pub(crate) fn for_workbook(cell: &str) -> Cow<'_, str> {
    match cell.starts_with('\'') {
        true => neutralise(cell),
        false => cell.into(),
    }
}

/// The cell as it was before [`neutralise`]: without the `'` it put there,
/// and unchanged where it put none. The one inverse, for every cell a rerun
/// reads back from the CSV or the workbook, headers included.
pub(crate) fn undo_neutralising_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_prefix(rest) => rest,
        _ => cell,
    }
}

/// Removes the `'` the report put before cells a spreadsheet would run as
/// formulas, so the partner reads the text as it was.
pub(crate) fn undo_neutralising(fields: &mut RawFields) {
    for f in Field::ALL {
        let undone = undo_neutralising_cell(fields.get(f)).to_string();
        fields.set(f, undone);
    }
}

/// Writes the reconciliation CSV, atomically; `extra` names the input's
/// other columns kept with `--keep-columns`, written after ours. `produce`
/// calls `emit` with each row, in order, so the report is never held whole.
pub(crate) fn write_csv_from(
    path: &Path,
    extra: &[String],
    produce: impl FnOnce(&mut dyn FnMut(&ReportRow) -> io::Result<()>) -> io::Result<()>,
) -> io::Result<()> {
    write_atomic(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        // A kept column's name is the input's, as untrusted as its cells.
        let header = header_names(extra);
        csv.write_record(header.iter().map(|name| neutralise(name).into_owned()))?;
        produce(&mut |r: &ReportRow| {
            let cells = COLUMNS.iter().map(|(.., cell)| cell(r).csv());
            let kept = r.extra.iter().take(extra.len()).cloned();
            csv.write_record(cells.chain(kept).map(|c| neutralise(&c).into_owned()))?;
            Ok(())
        })?;
        csv.flush()
    })
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::ledger::Verdict;
    use crate::report::columns::is_ours;
    use crate::report::outcome::reconcile;
    use crate::report::outcome::tests::facts;

    /// The CSV of `rows`, held whole as a run never holds them.
    fn write_csv(path: &Path, rows: &[ReportRow], extra: &[String]) -> io::Result<()> {
        write_csv_from(path, extra, |emit| rows.iter().try_for_each(emit))
    }

    #[test]
    fn formulas_are_neutralised() {
        for (cell, written) in [
            ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
            ("   =1+1", "'   =1+1"),
            ("\u{a0}\u{feff}=1", "'\u{a0}\u{feff}=1"),
            ("+49", "'+49"),
            ("+49 151 1234567", "'+49 151 1234567"),
            ("@x", "'@x"),
            ("-1+1", "'-1+1"),
            ("-", "'-"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            (" \t1", "' \t1"),
            ("\u{FF1D}1+1", "'\u{FF1D}1+1"),
            ("'=x", "''=x"),
            ("''+x", "'''+x"),
            ("' =x", "'' =x"),
        ] {
            assert_eq!(neutralise(cell), written, "{cell:?}");
        }
    }

    #[test]
    fn the_workbook_keeps_the_partners_text() {
        for cell in [
            "+46 70 123 45 67",
            "-5 left at the dock",
            "=1+1",
            "@x",
            "'quoted",
        ] {
            assert_eq!(for_workbook(cell), cell);
        }
        // Its own `'` before a formula: the one form read back both ways.
        assert_eq!(for_workbook("'=x"), "''=x");
        // An earlier version's workbook had the CSV's `'`: read back the same.
        assert_eq!(
            undo_neutralising_cell("'+46 70 123 45 67"),
            "+46 70 123 45 67"
        );
    }

    #[test]
    fn numbers_phones_and_text_stay_as_they_are() {
        for cell in [
            "",
            "ACME",
            "4915112345678",
            "0151 2345 6789",
            "-17",
            "-1,234.56",
            "-0,5",
            "'quoted",
            "'-17",
            "  'x=1",
            "a=b",
            "SUM(1)",
        ] {
            assert_eq!(neutralise(cell), cell, "{cell:?}");
            assert_eq!(undo_neutralising_cell(cell), cell, "{cell:?}");
        }
    }

    #[test]
    fn neutralised_fields_come_back_as_they_were() {
        let mut f = RawFields {
            partner_name: "'=ACME".into(),
            partner_phone: "'+4915112345678".into(),
            order_number: "''=17".into(),
            product_name: "'quoted".into(),
            delivery_note: "'   @note".into(),
            ..RawFields::default()
        };
        undo_neutralising(&mut f);
        assert_eq!(f.partner_name, "=ACME");
        assert_eq!(f.partner_phone, "+4915112345678");
        assert_eq!(f.order_number, "'=17", "the input's own `'` stays");
        assert_eq!(f.product_name, "'quoted", "only the report's own prefix");
        assert_eq!(f.delivery_note, "   @note");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// Weighted towards the characters the rule is about, so most cases
        /// are near its edges; `\PC` covers the rest of Unicode.
        #[test]
        fn the_inverse_is_exact(
            cell in "(['=+\\-@\t\r\n \u{a0}\u{feff}\u{FF1D}0-9.,a]{0,7}|\\PC{0,12})"
        ) {
            let written = neutralise(&cell);
            proptest::prop_assert_eq!(undo_neutralising_cell(&written), cell.as_str());
            let in_workbook = for_workbook(&cell);
            proptest::prop_assert_eq!(undo_neutralising_cell(&in_workbook), cell.as_str());
            proptest::prop_assert!(!runs_as_formula(&written), "{:?} runs", written);
            if written != cell {
                proptest::prop_assert_eq!(written.as_ref(), format!("'{cell}"));
            }
            let mut f = RawFields {
                partner_name: written.clone().into_owned(),
                partner_phone: written.clone().into_owned(),
                order_number: written.clone().into_owned(),
                product_name: written.clone().into_owned(),
                delivery_note: written.into_owned(),
                ..RawFields::default()
            };
            undo_neutralising(&mut f);
            for field in Field::ALL {
                proptest::prop_assert_eq!(f.get(field), cell.as_str());
            }
        }
    }

    #[test]
    fn kept_columns_and_their_names_are_neutralised() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let mut row = reconcile(facts(Verdict::Invalid), 1);
        row.partner_name = "   =1+1".into();
        row.extra = vec!["=HYPERLINK(\"http://x\",\"cc\")".into(), "-12.50".into()];
        let names = ["=Cost Centre".to_string(), "Amount".to_string()];
        write_csv(&path, &[row], &names).unwrap();
        let mut r = ::csv::Reader::from_path(&path).unwrap();
        let header = r.headers().unwrap().clone();
        assert_eq!(&header[COLUMNS.len()], "'=Cost Centre");
        let record = r.records().next().unwrap().unwrap();
        assert_eq!(&record[3], "'   =1+1");
        assert_eq!(&record[COLUMNS.len()], "'=HYPERLINK(\"http://x\",\"cc\")");
        assert_eq!(
            &record[COLUMNS.len() + 1],
            "-12.50",
            "an amount stays a number"
        );
    }

    #[test]
    fn kept_columns_named_like_ours_get_a_prefix() {
        let names = ["Status", " wamid ", "Row", "sent_at", "Cost Centre"].map(String::from);
        assert_eq!(
            header_names(&names)[COLUMNS.len()..],
            [
                "input_Status",
                "input_wamid",
                "input_Row",
                "input_sent_at",
                "Cost Centre"
            ]
        );
        assert!(COLUMNS.iter().all(|(h, ..)| is_ours(h)));
        assert!(!is_ours("input_status"));
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
