//! The `Reconciliation` sheet: the CSV's columns, one row per input row,
//! coloured by outcome, with the times as date cells in the night's zone.

use chrono::{DateTime, Utc};
use rust_xlsxwriter::{Worksheet, XlsxError};

use super::Night;
use super::style::{Cells, Styles};
use crate::report::ReportRow;
use crate::report::csv::{HEADER, kept_names, neutralise};

/// One cell's value, typed as the sheet shows it.
pub(super) enum Cell {
    Text(String),
    Number(Option<f64>),
    Date(Option<DateTime<Utc>>),
}

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

fn text(v: &Option<String>) -> Cell {
    Cell::Text(v.clone().unwrap_or_default())
}

/// The row's cells in [`HEADER`]'s order.
fn cells(r: &ReportRow) -> [Cell; HEADER.len()] {
    use Cell::{Date, Number, Text};
    [
        Number(Some(r.row as f64)),
        Number(Some(r.line as f64)),
        Text(r.order_number.clone()),
        Text(r.partner_name.clone()),
        Text(r.phone.clone()),
        Text(r.product_name.clone()),
        Text(r.delivery_note.clone()),
        Text(r.outcome.as_str().to_string()),
        Text(r.reason.clone()),
        Text(r.next_step.clone()),
        text(&r.status),
        text(&r.wamid),
        Date(r.sent_at),
        Date(r.delivered_at),
        Date(r.read_at),
        Date(r.failed_at),
        Number(r.minutes_to_delivery()),
        Number(Some(f64::from(r.attempts))),
        Number(r.reused_from_run.map(|n| n as f64)),
        text(&r.reused_from_channel),
        Number(r.http_status.map(f64::from)),
        Number(r.error_code.map(|c| c as f64)),
        text(&r.error_detail),
        text(&r.warnings),
        text(&r.notes),
    ]
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
    let names = HEADER
        .iter()
        .copied()
        .chain(kept.iter().map(String::as_str));
    for (col, name) in names.enumerate() {
        sheet.write_string_with_format(0, col as u16, neutralise(name), &styles.header)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let f = styles.of(r.outcome);
        for (col, cell) in cells(r).into_iter().enumerate() {
            put(sheet, row, col as u16, cell, f, night)?;
        }
        for (i, value) in r.extra.iter().take(extra.len()).enumerate() {
            let col = (HEADER.len() + i) as u16;
            put(sheet, row, col, Cell::Text(value.clone()), f, night)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(
        0,
        0,
        rows.len() as u32,
        (HEADER.len() + extra.len()) as u16 - 1,
    )?;
    let width = |name: &str| HEADER.iter().position(|h| *h == name).unwrap_or(0) as u16;
    for (name, w) in [
        ("order_number", 14),
        ("partner_name", 28),
        ("phone", 16),
        ("product_name", 28),
        ("delivery_note", 30),
        ("reason", 60),
        ("next_step", 60),
        ("wamid", 36),
        ("accepted_at", 19),
        ("delivered_at", 19),
        ("read_at", 19),
        ("failed_at", 19),
        ("error_detail", 48),
        ("warnings", 40),
        ("notes", 30),
    ] {
        sheet.set_column_width(width(name), w)?;
    }
    Ok(())
}
