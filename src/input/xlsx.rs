//! Workbooks: an export some TMS writes as `.xlsx`, and the reconciliation
//! after a person opened it in Excel or LibreOffice and saved it as one.
//!
//! A sheet is turned into the CSV it would have been saved as (one record
//! per sheet row, each cell as text) and then read by the CSV reader, so the
//! header mapping, the validation and the problems are the CSV's, word for
//! word. What differs is said here: the rows are named by the sheet's own
//! row numbers ([`SheetRows`]), the file as `sheet "…" of book.xlsx`, and a
//! cell a spreadsheet stored as a number is written out as the digits it
//! holds ([`cells`]).

mod cells;

use std::path::Path;

use calamine::{Data, Range, Reader};

use super::echo::file_name;
use super::error::unopened;
use super::headers::map_columns;
use super::{Field, InputError, InputOptions, Layout};

/// The file endings read as workbooks (calamine reads each of them).
const WORKBOOK_ENDINGS: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// Whether `path` names a workbook, by its ending (any case).
pub(super) fn is_workbook(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| WORKBOOK_ENDINGS.iter().any(|w| e.eq_ignore_ascii_case(w)))
}

/// Which sheet row each line of the sheet's CSV came from, and how messages
/// name the sheet: a problem names the row a person finds in the
/// spreadsheet, even after a cell with a line break.
#[derive(Debug, Clone)]
pub(super) struct SheetRows {
    /// `sheet "Orders" of orders.xlsx`.
    pub(super) shown_as: String,
    /// The sheet row (1-based) of each line of the CSV, in order.
    rows: Vec<u32>,
}

impl SheetRows {
    /// The sheet row of the CSV's physical line `line` (1-based).
    pub(super) fn row_of(&self, line: u64) -> u64 {
        usize::try_from(line)
            .ok()
            .and_then(|l| l.checked_sub(1))
            .and_then(|i| self.rows.get(i))
            .map_or(line, |&r| u64::from(r))
    }
}

/// Reads the sheet `wanted` (by default the first) of the workbook at
/// `path`, as CSV text (UTF-8, `,`, every record on the line of its first
/// cell) with the rows it came from. `column_map` is the user's `--map`,
/// so that the phone column is found as the reader will find it.
pub(super) fn read_sheet(
    path: &Path,
    opts: &InputOptions,
) -> Result<(Vec<u8>, SheetRows), InputError> {
    std::fs::metadata(path).map_err(|e| unopened(path, e))?;
    let refused = |detail: String| InputError::Workbook {
        path: path.to_path_buf(),
        detail,
    };
    let mut book = calamine::open_workbook_auto(path).map_err(|e| refused(e.to_string()))?;
    let names = book.sheet_names();
    let name = pick_sheet(&names, opts.sheet.as_deref(), opts.preferred_sheet).map_err(refused)?;
    let range = book
        .worksheet_range(&name)
        .map_err(|e| refused(format!("sheet {name:?}: {e}")))?;
    let shown_as = format!("sheet {name:?} of {}", file_name(path));
    Ok(as_csv(&range, shown_as, &opts.column_map, opts.layout))
}

/// The sheet asked for, matched exactly, else ignoring case; by default
/// the preferred one when the workbook has it, else the first.
fn pick_sheet(
    names: &[String],
    wanted: Option<&str>,
    preferred: Option<&str>,
) -> Result<String, String> {
    match wanted {
        None => preferred
            .and_then(|p| names.iter().find(|n| n.eq_ignore_ascii_case(p)))
            .or_else(|| names.first())
            .cloned()
            .ok_or_else(|| "the workbook has no sheets".to_string()),
        Some(w) => names
            .iter()
            .find(|n| n.as_str() == w)
            .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(w)))
            .cloned()
            .ok_or_else(|| {
                let listed: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
                format!(
                    "it has no sheet {w:?}; its sheets are {}; pass one of them with --sheet",
                    listed.join(", ")
                )
            }),
    }
}

/// The sheet as CSV. Rows above the first used one become empty lines, so
/// that without line breaks in cells the CSV's line numbers are the sheet's
/// row numbers already; [`SheetRows`] keeps them right with them.
fn as_csv(
    range: &Range<Data>,
    shown_as: String,
    column_map: &[(Field, String)],
    layout: Layout,
) -> (Vec<u8>, SheetRows) {
    let (top, _) = range.start().unwrap_or((0, 0));
    let mut csv = Vec::with_capacity(range.get_size().0 * range.get_size().1 * 8);
    let mut rows: Vec<u32> = (1..=top).collect();
    csv.resize(top as usize, b'\n');
    let mut phone = None;
    let mut header_seen = false;
    let mut record = String::new();
    for (i, cells) in range.rows().enumerate() {
        let sheet_row = top.saturating_add(i as u32).saturating_add(1);
        if cells.iter().all(|c| matches!(c, Data::Empty)) {
            csv.push(b'\n');
            rows.push(sheet_row);
            continue;
        }
        let header = !header_seen;
        if header {
            header_seen = true;
            let names: Vec<String> = cells
                .iter()
                .map(|c| cells::text(c).trim().to_string())
                .collect();
            // The phone's column as the reader will map it; when the header
            // does not map, the reader says so and no row is read.
            phone = map_columns(&names, column_map, layout).ok().and_then(|c| {
                c.iter()
                    .find_map(|&(f, i)| (f == Field::PartnerPhone).then_some(i))
            });
        }
        record.clear();
        for (col, cell) in cells.iter().enumerate() {
            if col > 0 {
                record.push(',');
            }
            let text = if !header && Some(col) == phone {
                cells::phone_text(cell)
            } else {
                cells::text(cell)
            };
            push_field(&mut record, &text);
        }
        record.push('\n');
        rows.extend(std::iter::repeat_n(sheet_row, line_ends(&record)));
        csv.extend_from_slice(record.as_bytes());
    }
    (csv, SheetRows { shown_as, rows })
}

/// One CSV field, quoted when it holds a comma, a quote or a line break.
fn push_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push_str(&format!("\"{}\"", value.replace('"', "\"\"")));
    } else {
        out.push_str(value);
    }
}

/// Physical lines `text` ends, counted as the reader counts them: `\r\n`,
/// `\r` and `\n` each end one.
fn line_ends(text: &str) -> usize {
    let b = text.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'\n' || (b[i] == b'\r' && b.get(i + 1) != Some(&b'\n')))
        .count()
}

#[cfg(test)]
mod tests;
