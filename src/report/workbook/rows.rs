//! The `Reconciliation` sheet: the CSV's columns, one row per input row,
//! coloured by outcome, with the times as date cells in the night's zone.

use rust_xlsxwriter::{Worksheet, XlsxError};

use super::Night;
use super::style::{Cells, Styles};
use crate::report::ReportRow;
use crate::report::csv::{COLUMNS, Cell, Column, kept_names, neutralise};

/// Writes `cell` at (`row`, `col`) in the formats `f`.
pub(super) fn put(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: Cell,
    f: &Cells,
    night: &Night,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(s) if !s.is_empty() => {
            sheet.write_string_with_format(row, col, neutralise(&s), &f.text)?;
        }
        Cell::Number(Some(n)) => {
            sheet.write_number_with_format(row, col, n, &f.number)?;
        }
        Cell::Date(Some(t)) => {
            sheet.write_datetime_with_format(row, col, night.excel(t)?, &f.date)?;
        }
        _ => {
            sheet.write_blank(row, col, &f.blank)?;
        }
    }
    Ok(())
}

/// Writes the header line: `names`, neutralised, in the header format.
pub(super) fn header<'a>(
    sheet: &mut Worksheet,
    names: impl IntoIterator<Item = &'a str>,
    styles: &Styles,
) -> Result<(), XlsxError> {
    for (col, name) in names.into_iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, neutralise(name), &styles.header)?;
    }
    Ok(())
}

/// Sets the width of each of `columns` that has one, `first` being the
/// sheet column of the first.
pub(super) fn widths<'a>(
    sheet: &mut Worksheet,
    first: u16,
    columns: impl IntoIterator<Item = &'a Column>,
) -> Result<(), XlsxError> {
    for (col, (_, width, _)) in (first..).zip(columns) {
        if let Some(w) = width {
            sheet.set_column_width(col, *w)?;
        }
    }
    Ok(())
}

pub(super) fn sheet(
    sheet: &mut Worksheet,
    rows: &[ReportRow],
    extra: &[String],
    styles: &Styles,
    night: &Night,
) -> Result<(), XlsxError> {
    sheet.set_name("Reconciliation")?;
    let kept = kept_names(extra);
    let names = COLUMNS.iter().map(|(name, ..)| *name);
    header(sheet, names.chain(kept.iter().map(String::as_str)), styles)?;
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let f = styles.of(r.outcome);
        let kept = r.extra.iter().take(extra.len());
        let cells = COLUMNS
            .iter()
            .map(|(_, _, cell)| cell(r))
            .chain(kept.map(|v| Cell::Text(v.clone())));
        for (col, cell) in cells.enumerate() {
            put(sheet, row, col as u16, cell, f, night)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(
        0,
        0,
        rows.len() as u32,
        (COLUMNS.len() + extra.len()) as u16 - 1,
    )?;
    widths(sheet, 0, &COLUMNS)
}
