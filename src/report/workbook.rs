//! The finance workbook (`--xlsx`): the reconciliation as an Excel file in
//! which phones, wamids and order numbers are text cells, so Excel never
//! drops a leading zero or turns `4915123456701` into `4.91512E+12`. The
//! CSV stays the machine format; this is the one people open.
//!
//! Its text cells are written as strings, never formulas, and carry the
//! CSV's own neutralising `'` too: a person who saves the sheet as CSV
//! keeps the guard, and rerun reads both files with the one inverse.

use std::io;
use std::path::Path;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::csv::neutralise;
use crate::report::{HEADER, Outcome, ReportRow, Summary};

fn xlsx_error(e: XlsxError) -> io::Error {
    io::Error::other(e.to_string())
}

/// Writes the rows and a summary sheet to `path`, atomically.
pub(crate) fn write(
    path: &Path,
    rows: &[ReportRow],
    extra: &[String],
    summary: &Summary,
    run_id: i64,
    exit_code: u8,
) -> io::Result<()> {
    let bytes = build(rows, extra, summary, run_id, exit_code).map_err(xlsx_error)?;
    crate::report::write_atomic(path, |w| io::Write::write_all(w, &bytes))
}

fn build(
    rows: &[ReportRow],
    extra: &[String],
    summary: &Summary,
    run_id: i64,
    exit_code: u8,
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");

    let sheet = book.add_worksheet();
    sheet.set_name("Reconciliation")?;
    let names = HEADER
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str));
    for (col, name) in names.enumerate() {
        sheet.write_string_with_format(0, col as u16, neutralise(name), &bold)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let num = |v: Option<f64>| v;
        let cells: [(Option<f64>, String); 18] = [
            (Some(r.row as f64), String::new()),
            (Some(r.line as f64), String::new()),
            (None, r.order_number.clone()),
            (None, r.partner_name.clone()),
            (None, r.phone.clone()),
            (None, r.product_name.clone()),
            (None, r.delivery_note.clone()),
            (None, r.outcome.as_str().to_string()),
            (None, opt(&r.status)),
            (None, opt(&r.wamid)),
            (num(r.http_status.map(f64::from)), String::new()),
            (num(r.error_code.map(|c| c as f64)), String::new()),
            (None, opt(&r.error_detail)),
            (Some(f64::from(r.attempts)), String::new()),
            (None, time(r.sent_at)),
            (None, time(r.status_at)),
            (num(r.reused_from_run.map(|n| n as f64)), String::new()),
            (None, opt(&r.notes)),
        ];
        for (col, (number, string)) in cells.into_iter().enumerate() {
            let col = col as u16;
            match number {
                Some(n) => {
                    sheet.write_number(row, col, n)?;
                }
                None if !string.is_empty() => {
                    sheet.write_string_with_format(row, col, neutralise(&string), &text)?;
                }
                None => {}
            }
        }
        for (i, value) in r.extra.iter().take(extra.len()).enumerate() {
            if !value.is_empty() {
                let col = (HEADER.len() + i) as u16;
                sheet.write_string_with_format(row, col, neutralise(value), &text)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(
        0,
        0,
        rows.len() as u32,
        (HEADER.len() + extra.len()) as u16 - 1,
    )?;
    for (col, width) in [
        (2, 14),
        (3, 28),
        (4, 16),
        (5, 28),
        (6, 36),
        (9, 36),
        (12, 48),
    ] {
        sheet.set_column_width(col, width)?;
    }

    let s = book.add_worksheet();
    s.set_name("Summary")?;
    s.write_string_with_format(0, 0, "outcome", &bold)?;
    s.write_string_with_format(0, 1, "rows", &bold)?;
    let mut line = 1;
    for o in Outcome::ALL {
        s.write_string(line, 0, o.as_str())?;
        s.write_number(line, 1, summary.count(o) as f64)?;
        line += 1;
    }
    s.write_string_with_format(line, 0, "total", &bold)?;
    s.write_number_with_format(line, 1, summary.rows as f64, &bold)?;
    line += 2;
    s.write_string(line, 0, "run")?;
    s.write_number(line, 1, run_id as f64)?;
    s.write_string(line + 1, 0, "exit code")?;
    s.write_number(line + 1, 1, f64::from(exit_code))?;
    s.write_string(line + 2, 0, "written at (UTC)")?;
    s.write_string(line + 2, 1, time(Some(chrono::Utc::now())))?;
    s.set_column_width(0, 18)?;
    s.set_column_width(1, 22)?;
    book.save_to_buffer()
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}
