//! The `Reconciliation` sheet: the CSV's columns, one row per input row,
//! coloured by outcome, with the times as date cells in the night's zone.

use rust_xlsxwriter::{Worksheet, XlsxError};

use super::Night;
use super::style::{Cells, Styles};
use crate::report::ReportRow;
use crate::report::csv::{COLUMNS, Cell, Column, header_names, neutralise};

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
            sheet.write_string_with_format(row, col, neutralise(&s), &f.text)
        }
        Cell::Number(Some(n)) => sheet.write_number_with_format(row, col, n, &f.number),
        Cell::Date(Some(t)) => sheet.write_datetime_with_format(row, col, night.excel(t)?, &f.date),
        _ => sheet.write_blank(row, col, &f.blank),
    }?;
    Ok(())
}

/// How many lines `cell` takes wrapped in a column `width` characters wide
/// (a spreadsheet's default width when `None`).
pub(super) fn lines(cell: &Cell, width: Option<u16>) -> u32 {
    let Cell::Text(text) = cell else { return 1 };
    let width = f64::from(width.unwrap_or(DEFAULT_WIDTH)).max(1.0);
    text.split('\n')
        .map(|line| (line.chars().count() as f64 / width).ceil().max(1.0) as u32)
        .sum()
}

/// A spreadsheet's default column width, in characters.
const DEFAULT_WIDTH: u16 = 8;

/// Gives row `row` the height its tallest wrapped cell needs: a spreadsheet
/// program does not grow a row when it opens the file, so a taller text
/// would print over the rows around it.
pub(super) fn fit_row(sheet: &mut Worksheet, row: u32, lines: u32) -> Result<(), XlsxError> {
    if lines > 1 {
        sheet.set_row_height(row, 15.0 * f64::from(lines))?;
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
    sheet.set_name(super::ROWS_SHEET)?;
    let names = header_names(extra);
    header(sheet, names.iter().map(String::as_str), styles)?;
    for (row, r) in (1..).zip(rows) {
        let f = styles.of(r.outcome);
        let kept = r.extra.iter().take(extra.len());
        let cells = COLUMNS
            .iter()
            .map(|(_, width, cell)| (cell(r), *width))
            .chain(kept.map(|v| (Cell::Text(v.clone()), None)));
        let mut tallest = 1;
        for (col, (cell, width)) in cells.enumerate() {
            tallest = tallest.max(lines(&cell, width));
            put(sheet, row, col as u16, cell, f, night)?;
        }
        fit_row(sheet, row, tallest)?;
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
