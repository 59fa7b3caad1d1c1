//! The `Reconciliation` sheet: the CSV's columns (who acts in people's
//! words, see `csv::workbook_columns`), one row per input row, coloured by
//! outcome, with the times as date cells in the night's zone.

use std::borrow::Cow;

use rust_xlsxwriter::{Worksheet, XlsxError};

use super::Night;
use super::style::{Cells, Styles};
use crate::report::ReportRow;
use crate::report::columns::{COLUMNS, Cell, Column, header_names, workbook_columns};
use crate::report::csv::for_workbook;

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
            sheet.write_string_with_format(row, col, fitted(for_workbook(&s)), &f.text)
        }
        Cell::Number(Some(n)) => sheet.write_number_with_format(row, col, n, &f.number),
        Cell::Date(Some(t)) => sheet.write_datetime_with_format(row, col, night.excel(t)?, &f.date),
        _ => sheet.write_blank(row, col, &f.blank),
    }?;
    Ok(())
}

/// The most a cell holds, in UTF-16 units (Excel's limit).
const CELL_HOLDS: usize = 32_767;

/// `text` as a cell holds it: a longer one (a 5 MB phone echoed as it was
/// read) is cut to end in `…` where the cell is full; the CSV has it whole.
pub(super) fn fitted(text: Cow<'_, str>) -> Cow<'_, str> {
    if text.encode_utf16().nth(CELL_HOLDS).is_none() {
        return text;
    }
    let mut units = 0;
    let kept = text.chars().take_while(|c| {
        units += c.len_utf16();
        units < CELL_HOLDS
    });
    let mut cut: String = kept.collect();
    cut.push('…');
    cut.into()
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

/// How many of a streamed sheet's rows get the height their tallest
/// wrapped cell needs: LibreOffice does not grow a row when it opens the
/// file (Excel grows one whose height was not set), so a taller text would
/// show only its first line. Not every row: rust_xlsxwriter 0.102 keeps
/// each row height of a constant-memory sheet in memory to the end (a
/// `Format` each, about 560 bytes), which would make the workbook's memory
/// grow with the rows again.
const TALL_ROWS: u32 = 1_000;

/// The heights of a streamed sheet's rows, each set a row late, when the
/// next row begins: rust_xlsxwriter 0.102 writes a constant-memory sheet's
/// last row twice if it has a height (a file Excel would repair), so the
/// last row keeps the default one, which Excel grows to fit.
#[derive(Default)]
pub(super) struct Heights {
    pending: Option<(u32, u32)>,
}

impl Heights {
    /// Row `row`, about to be written, needs `lines` lines; the row before
    /// it gets its height now.
    pub(super) fn next(
        &mut self,
        sheet: &mut Worksheet,
        row: u32,
        lines: u32,
    ) -> Result<(), XlsxError> {
        if let Some((before, lines)) = self.pending.take() {
            // 409 points is the tallest row Excel opens.
            sheet.set_row_height(before, (15.0 * f64::from(lines)).min(409.0))?;
        }
        self.pending = (lines > 1 && row <= TALL_ROWS).then_some((row, lines));
        Ok(())
    }
}

/// Writes the header line: `names`, as the workbook writes texts, in the
/// header format.
pub(super) fn header<'a>(
    sheet: &mut Worksheet,
    names: impl IntoIterator<Item = &'a str>,
    styles: &Styles,
) -> Result<(), XlsxError> {
    for (col, name) in names.into_iter().enumerate() {
        let name = fitted(for_workbook(name));
        sheet.write_string_with_format(0, col as u16, name, &styles.header)?;
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
    for (col, (_, _, width, _)) in (first..).zip(columns) {
        if let Some(w) = width {
            sheet.set_column_width(col, *w)?;
        }
    }
    Ok(())
}

/// The rows sheet while its rows arrive.
pub(super) struct Rows {
    /// The next line.
    line: u32,
    /// How many kept columns follow ours.
    extra: usize,
    heights: Heights,
}

impl Rows {
    /// Names the rows sheet and writes its header.
    pub(super) fn start(
        sheet: &mut Worksheet,
        extra: &[String],
        styles: &Styles,
    ) -> Result<Rows, XlsxError> {
        sheet.set_name(super::ROWS_SHEET)?;
        let names = header_names(extra);
        let kept = names[COLUMNS.len()..].iter().map(String::as_str);
        let ours = workbook_columns().map(|(_, words, ..)| *words);
        header(sheet, ours.chain(kept), styles)?;
        sheet.set_freeze_panes(1, 0)?;
        widths(sheet, 0, workbook_columns())?;
        Ok(Rows {
            line: 1,
            extra: extra.len(),
            heights: Heights::default(),
        })
    }

    /// Writes `r` at the next line, with its kept columns.
    pub(super) fn add(
        &mut self,
        sheet: &mut Worksheet,
        r: &ReportRow,
        styles: &Styles,
        night: &Night,
    ) -> Result<(), XlsxError> {
        let f = styles.of(r.outcome);
        let kept = r.extra.iter().take(self.extra);
        let cells: Vec<(Cell, Option<u16>)> = workbook_columns()
            .map(|(.., width, cell)| (cell(r), *width))
            .chain(kept.map(|v| (Cell::Text(v.clone()), None)))
            .collect();
        let tallest = cells.iter().map(|(c, width)| lines(c, *width)).max();
        self.heights.next(sheet, self.line, tallest.unwrap_or(1))?;
        for (col, (cell, _)) in cells.into_iter().enumerate() {
            put(sheet, self.line, col as u16, cell, f, night)?;
        }
        self.line += 1;
        Ok(())
    }

    /// The filter over the header and the lines written.
    pub(super) fn end(&self, sheet: &mut Worksheet) -> Result<(), XlsxError> {
        let columns = workbook_columns().count() + self.extra;
        sheet.autofilter(0, 0, self.line - 1, columns as u16 - 1)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_longer_than_a_cell_is_cut_to_fit() {
        assert_eq!(fitted("ok".into()), "ok");
        let whole = "9".repeat(CELL_HOLDS);
        assert_eq!(fitted(whole.as_str().into()), whole, "exactly full");
        let cut = fitted("9".repeat(5_000_000).into());
        assert_eq!(cut.encode_utf16().count(), CELL_HOLDS);
        assert!(cut.ends_with("9…"));
        // A character of two UTF-16 units is never split.
        let cut = fitted("😀".repeat(CELL_HOLDS).into());
        assert!(cut.encode_utf16().count() <= CELL_HOLDS && cut.ends_with("😀…"));
    }
}
