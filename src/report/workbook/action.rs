//! The `Needs action` sheet: only the rows someone has to act on, grouped
//! by who acts (the partner, whoever keeps the export, operations), so each
//! person reads their own list and nothing else.

use rust_xlsxwriter::{Worksheet, XlsxError};

use super::Night;
use super::rows::{fit_row, header, lines, put, widths};
use super::style::Styles;
use crate::codes::Actor;
use crate::report::ReportRow;
use crate::report::csv::{Cell, Column, column};

/// The reconciliation's columns the sheet shows, after `who_acts`.
const SHOWN: [&str; 9] = [
    "next_step",
    "reason",
    "order_number",
    "partner_name",
    "phone",
    "outcome",
    "error_code",
    "error_detail",
    "row",
];

/// The groups, in the order they are listed.
pub(super) const ACTORS: [Actor; 3] = [Actor::Partner, Actor::Data, Actor::Operations];

pub(super) fn sheet(
    sheet: &mut Worksheet,
    rows: &[ReportRow],
    styles: &Styles,
) -> Result<(), XlsxError> {
    sheet.set_name("Needs action")?;
    let columns: Vec<&Column> = SHOWN.iter().filter_map(|name| column(name)).collect();
    let names = columns.iter().map(|(name, ..)| *name);
    header(sheet, std::iter::once("who_acts").chain(names), styles)?;
    let night = Night::default();
    let mut line = 1;
    for actor in ACTORS {
        let group: Vec<&ReportRow> = rows.iter().filter(|r| r.plain.actor == actor).collect();
        if group.is_empty() {
            continue;
        }
        let heading = format!(
            "{} — {} row{}",
            actor.word(),
            group.len(),
            if group.len() == 1 { "" } else { "s" }
        );
        sheet.write_string_with_format(line, 0, heading, &styles.title)?;
        line += 1;
        for r in group {
            let f = styles.of(r.outcome);
            put(sheet, line, 0, Cell::Text(actor.word().into()), f, &night)?;
            let mut tallest = 1;
            for (col, (_, width, cell)) in (1..).zip(&columns) {
                let cell = cell(r);
                tallest = tallest.max(lines(&cell, *width));
                put(sheet, line, col, cell, f, &night)?;
            }
            fit_row(sheet, line, tallest)?;
            line += 1;
        }
        line += 1;
    }
    if line == 1 {
        sheet.write_string(1, 0, "Nothing to do: every row went through.")?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.set_column_width(0, 12)?;
    widths(sheet, 1, columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_shown_is_a_reconciliation_column() {
        assert!(SHOWN.iter().all(|name| column(name).is_some()));
    }
}
