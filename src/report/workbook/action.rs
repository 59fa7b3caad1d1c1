//! The `Needs action` sheet: only the rows someone has to act on, grouped
//! by who acts (the partner, whoever keeps the export, operations), so each
//! person reads their own list and nothing else.

use rust_xlsxwriter::{Worksheet, XlsxError};

use super::Night;
use super::rows::{Cell, put};
use super::style::Styles;
use crate::codes::Actor;
use crate::report::ReportRow;

/// The sheet's columns.
pub(super) const COLUMNS: [&str; 10] = [
    "who_acts",
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
    for (col, name) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &styles.header)?;
    }
    let night = Night::default();
    let mut line = 1;
    for actor in ACTORS {
        let group: Vec<&ReportRow> = rows.iter().filter(|r| r.actor == actor).collect();
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
            let cells = [
                Cell::Text(actor.word().to_string()),
                Cell::Text(r.next_step.clone()),
                Cell::Text(r.reason.clone()),
                Cell::Text(r.order_number.clone()),
                Cell::Text(r.partner_name.clone()),
                Cell::Text(r.phone.clone()),
                Cell::Text(r.outcome.as_str().to_string()),
                Cell::Number(r.error_code.map(|c| c as f64)),
                Cell::Text(r.error_detail.clone().unwrap_or_default()),
                Cell::Number(Some(r.row as f64)),
            ];
            for (col, cell) in cells.into_iter().enumerate() {
                put(sheet, line, col as u16, cell, f, &night)?;
            }
            line += 1;
        }
        line += 1;
    }
    if line == 1 {
        sheet.write_string(1, 0, "Nothing to do: every row went through.")?;
    }
    sheet.set_freeze_panes(1, 0)?;
    for (col, w) in [
        (0, 12),
        (1, 60),
        (2, 60),
        (3, 14),
        (4, 28),
        (5, 16),
        (8, 48),
    ] {
        sheet.set_column_width(col, w)?;
    }
    Ok(())
}
