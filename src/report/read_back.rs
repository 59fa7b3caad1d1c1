//! Reading a reconciliation back for `handoff rerun`: which of its columns
//! are the five fields (which the user may have corrected), which are ours
//! (the outcome, the wamid) and which the input's kept columns, which
//! outcomes the user wants sent again, and where the rerun's report goes.
//!
//! The file is read by the input reader, as `run` reads an export: a
//! spreadsheet that saved it with `;`, in windows-1252, with a BOM or a
//! `sep=` line, or as a workbook, gives the same rows back.

use std::path::{Path, PathBuf};

use super::Outcome;
use super::columns::{KEPT_PREFIX, is_ours, names};
use super::csv::undo_neutralising_cell;
use crate::error::Failure;
use crate::exit;
use crate::input::{Field, InputOptions};

/// The outcomes a rerun may send again: never delivered, read,
/// pending, duplicate or unknown.
pub(crate) const RESENDABLE: [Outcome; 5] = [
    Outcome::Failed,
    Outcome::Rejected,
    Outcome::Invalid,
    Outcome::Skipped,
    Outcome::Suppressed,
];

/// `--only`, or every resendable outcome.
pub(crate) fn selection(only: &[Outcome]) -> Vec<Outcome> {
    if only.is_empty() {
        RESENDABLE.to_vec()
    } else {
        only.to_vec()
    }
}

/// `<file>-rerun.csv` beside the file, or the first of `-rerun-2.csv`,
/// `-rerun-3.csv`, … that does not exist yet, so a rerun never overwrites
/// an earlier rerun's report (the record of what it sent). A file that is
/// itself a rerun's report continues its numbering:
/// `reconciliation-rerun.csv` → `reconciliation-rerun-2.csv`.
pub(crate) fn default_out(file: &Path) -> PathBuf {
    let stem = file.file_stem().map_or_else(
        || "reconciliation".into(),
        |s| s.to_string_lossy().into_owned(),
    );
    let base = without_rerun_suffix(&stem);
    let free = |name: String| {
        let path = file.with_file_name(name);
        (!path.exists() && path != file).then_some(path)
    };
    free(format!("{base}-rerun.csv"))
        .or_else(|| (2u64..).find_map(|n| free(format!("{base}-rerun-{n}.csv"))))
        .unwrap_or_else(|| file.with_file_name(format!("{base}-rerun.csv")))
}

/// `x-rerun` and `x-rerun-7` → `x`; anything else as it is.
fn without_rerun_suffix(stem: &str) -> &str {
    if let Some(base) = stem.strip_suffix("-rerun") {
        return base;
    }
    match stem.rsplit_once("-rerun-") {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => stem,
    }
}

/// How to read the file: what the user said about it (`--delimiter`,
/// `--encoding`, `--sheet`), the rest detected as for `run`. Our own
/// columns are named exactly: the file has both `delivery_note` and
/// `notes`, which the aliases would otherwise confuse.
pub(crate) fn input_options(
    delimiter: Option<u8>,
    encoding: Option<String>,
    sheet: Option<String>,
) -> InputOptions {
    InputOptions {
        delimiter,
        encoding,
        sheet,
        // Our workbook's rows; a workbook saved from the CSV has one sheet.
        preferred_sheet: Some(crate::report::workbook::ROWS_SHEET),
        column_map: vec![
            (Field::PartnerName, "partner_name".into()),
            (Field::PartnerPhone, "phone".into()),
            (Field::OrderNumber, "order_number".into()),
            (Field::ProductName, "product_name".into()),
            (Field::DeliveryNote, "delivery_note".into()),
        ],
        layout: crate::input::Layout::Export,
    }
}

/// Where, among the columns no field uses, a rerun finds what it reads
/// back; every column that is not one of ours is a kept column (the
/// input's, carried with `--keep-columns`, or one a person added).
#[derive(Debug, Clone)]
pub(crate) struct BackColumns {
    outcome: usize,
    wamid: Option<usize>,
    kept: Vec<usize>,
    kept_headers: Vec<String>,
}

/// What a row of the file says besides its five fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BackCells {
    /// `None` where the cell is not an outcome (edited by hand, say).
    pub outcome: Option<Outcome>,
    /// The message the row names, if any.
    pub wamid: Option<String>,
}

/// A kept column's own name: without the `'` the CSV (and an earlier
/// version's workbook) put before a formula, and without the `input_` the
/// report put before one that clashes with ours; the rerun's report puts
/// both there again.
fn kept_name(header: &str) -> String {
    let header = undo_neutralising_cell(header);
    match header.trim().split_at_checked(KEPT_PREFIX.len()) {
        Some((p, rest)) if p.eq_ignore_ascii_case(KEPT_PREFIX) && is_ours(rest) => rest.to_string(),
        _ => header.to_string(),
    }
}

impl BackColumns {
    /// `extra_headers` are the headers of the columns no field uses, in
    /// file order ([`crate::input::InputReader::extra_headers`]).
    pub(crate) fn new(file: &Path, extra_headers: &[String]) -> Result<Self, Failure> {
        let at = |name: &str| extra_headers.iter().position(|h| names(h, name));
        let Some(outcome) = at("outcome") else {
            return Err(Failure::new(
                exit::DATA,
                format!(
                    "`{}` has no `outcome` column: give the reconciliation that \
                     `handoff run` wrote (its CSV, or the --xlsx workbook)",
                    file.display()
                ),
            ));
        };
        // Schema 1 and 2 alike: every name that is or was ours is ours.
        let kept: Vec<usize> = (0..extra_headers.len())
            .filter(|&i| !is_ours(&extra_headers[i]))
            .collect();
        Ok(BackColumns {
            outcome,
            wamid: at("wamid"),
            kept_headers: kept.iter().map(|&i| kept_name(&extra_headers[i])).collect(),
            kept,
        })
    }

    /// The kept columns' headers, in file order, as the rerun's report
    /// writes them after ours.
    pub(crate) fn kept_headers(&self) -> &[String] {
        &self.kept_headers
    }

    /// Reads a row's cells of our columns and leaves in `extra` only its
    /// kept columns, without the `'` the report put before a formula.
    pub(crate) fn split(&self, extra: &mut Vec<String>) -> BackCells {
        let cell = |i: usize| extra.get(i).map(|c| c.trim()).filter(|c| !c.is_empty());
        let cells = BackCells {
            outcome: cell(self.outcome).and_then(|c| Outcome::parse(&c.to_ascii_lowercase())),
            wamid: self.wamid.and_then(cell).map(str::to_string),
        };
        let kept = self
            .kept
            .iter()
            .map(|&i| extra.get(i).map_or("", |c| undo_neutralising_cell(c)))
            .map(str::to_string)
            .collect();
        *extra = kept;
        cells
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_out_sits_beside_the_file_and_never_overwrites_a_rerun() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("reconciliation.csv");
        std::fs::write(&file, "x").unwrap();
        let out = default_out(&file);
        assert_eq!(out, dir.path().join("reconciliation-rerun.csv"));
        std::fs::write(&out, "first rerun").unwrap();
        let second = default_out(&file);
        assert_eq!(second, dir.path().join("reconciliation-rerun-2.csv"));
        std::fs::write(&second, "second").unwrap();
        assert_eq!(
            default_out(&file),
            dir.path().join("reconciliation-rerun-3.csv")
        );
        // A rerun of a rerun's report goes on with the numbering.
        assert_eq!(
            default_out(&out),
            dir.path().join("reconciliation-rerun-3.csv")
        );
        // A workbook's rerun report is a CSV beside it.
        let book = dir.path().join("saved.xlsx");
        assert_eq!(default_out(&book), dir.path().join("saved-rerun.csv"));
        assert_eq!(without_rerun_suffix("a-rerun-x"), "a-rerun-x");
        assert_eq!(without_rerun_suffix("a-rerun-12"), "a");
        assert_eq!(selection(&[]), RESENDABLE.to_vec());
        assert_eq!(selection(&[Outcome::Failed]), vec![Outcome::Failed]);
    }

    #[test]
    fn our_columns_are_read_and_the_rest_kept() {
        let headers: Vec<String> = [
            "row",
            "Cost Centre",
            "outcome",
            "wamid",
            "notes",
            "Checked by",
        ]
        .map(String::from)
        .to_vec();
        let cols = BackColumns::new(Path::new("r.csv"), &headers).expect("columns");
        assert_eq!(cols.kept_headers(), ["Cost Centre", "Checked by"]);
        let mut extra: Vec<String> = ["1", "'=HYPERLINK(1)", " Delivered ", "wamid.1", "", "Ada"]
            .map(String::from)
            .to_vec();
        let cells = cols.split(&mut extra);
        assert_eq!(cells.outcome, Some(Outcome::Delivered));
        assert_eq!(cells.wamid.as_deref(), Some("wamid.1"));
        assert_eq!(extra, ["=HYPERLINK(1)", "Ada"]);
        let mut short = vec!["1".to_string()];
        let cells = cols.split(&mut short);
        assert_eq!(cells.outcome, None);
        assert_eq!(short, ["", ""]);

        // Schema 2: `whatsapp_status` and the new columns are ours, and a
        // kept column named like one of ours comes back by its own name.
        let headers: Vec<String> = [
            "outcome",
            "reason",
            "whatsapp_status",
            "input_Status",
            "wamid",
            "input_wamid",
            "warnings",
            "status",
        ]
        .map(String::from)
        .to_vec();
        let cols = BackColumns::new(Path::new("r.csv"), &headers).expect("columns");
        assert_eq!(cols.kept_headers(), ["Status", "wamid"]);
        let mut extra: Vec<String> = ["failed", "x", "failed", "open", "wamid.1", "W-9", "", ""]
            .map(String::from)
            .to_vec();
        let cells = cols.split(&mut extra);
        assert_eq!(
            cells.wamid.as_deref(),
            Some("wamid.1"),
            "ours, not the input's"
        );
        assert_eq!(extra, ["open", "W-9"]);

        let headers: Vec<String> = ["row", "Cost Centre"].map(String::from).to_vec();
        let err = BackColumns::new(Path::new("r.csv"), &headers).expect_err("no outcome");
        assert!(err.to_string().contains("no `outcome` column"), "{err}");
    }
}
