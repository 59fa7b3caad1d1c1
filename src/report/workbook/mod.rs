//! The finance workbook (`--xlsx`): the reconciliation as an Excel file in
//! which phones, wamids and order numbers are text cells, so Excel never
//! drops a leading zero or turns `4915123456701` into `4.91512E+12`, and
//! times are real date cells in the night's time zone. The CSV stays the
//! machine format; this is the one people open, so it also answers their
//! questions: what needs whom (`Needs action`), how each partner fared
//! (`Partners`) and how the night went (`Summary`, with charts).
//!
//! Its sheets come in the order a person reads and prints them (Summary,
//! Needs action, Partners, then the rows), and every sheet prints: in
//! landscape, one page wide, its header row on every page, long texts
//! wrapped in rows tall enough to hold them.
//!
//! Its text cells are written as strings, never formulas, and carry the
//! CSV's own neutralising `'` too: a person who saves the sheet as CSV
//! keeps the guard, and rerun reads both files with the one inverse.

mod action;
mod partners;
mod rows;
mod style;
mod summary;

use std::io;
use std::path::Path;

use chrono::{DateTime, Datelike, Local, NaiveDateTime, Timelike, Utc};
use rust_xlsxwriter::{ExcelDateTime, Workbook, XlsxError};

use crate::ledger::RunInfo;
use crate::report::{ReportRow, Summary};

/// What the workbook says about the night besides its rows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Night {
    /// The run's kind, input and times (`None` if the ledger has no such run).
    pub run: Option<RunInfo>,
    /// The zone of the date cells (`--timezone`); `None` is the machine's.
    pub timezone: Option<chrono_tz::Tz>,
}

impl Night {
    /// A time as the person reading the workbook tells time.
    pub(super) fn local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        match self.timezone {
            Some(tz) => t.with_timezone(&tz).naive_local(),
            None => t.with_timezone(&Local).naive_local(),
        }
    }

    /// The zone's name, for the summary.
    pub(super) fn zone_name(&self) -> String {
        match self.timezone {
            Some(tz) => tz.name().to_string(),
            None => format!(
                "this machine's local time (UTC{})",
                Local::now().format("%:z")
            ),
        }
    }

    /// A date cell's value for `t`, in the zone.
    pub(super) fn excel(&self, t: DateTime<Utc>) -> Result<ExcelDateTime, XlsxError> {
        let l = self.local(t);
        let secs = f64::from(l.second()) + f64::from(l.nanosecond() / 1_000_000) / 1000.0;
        ExcelDateTime::from_ymd(l.year() as u16, l.month() as u8, l.day() as u8)?.and_hms(
            l.hour() as u16,
            l.minute() as u8,
            secs,
        )
    }
}

/// Writes the rows and the finance sheets to `path`, atomically.
pub(crate) fn write(
    path: &Path,
    rows: &[ReportRow],
    extra: &[String],
    summary: &Summary,
    run_id: i64,
    exit_code: u8,
    night: &Night,
) -> io::Result<()> {
    let build = || -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        let styles = style::Styles::new();
        // In the order a person reads (and prints) them: how the night went,
        // what needs whom, each partner, then every row. `handoff rerun`
        // finds the rows by the sheet's name.
        let facts = summary::Facts {
            summary,
            rows,
            run_id,
            exit_code,
            night,
        };
        let first = book.add_worksheet();
        summary::sheet(first, &facts, &styles)?;
        first.set_active(true);
        action::sheet(book.add_worksheet(), rows, &styles)?;
        partners::sheet(book.add_worksheet(), rows, &summary.cost, &styles)?;
        rows::sheet(book.add_worksheet(), rows, extra, &styles, night)?;
        // Every sheet prints as people read it: landscape, one page wide
        // however many columns it has, its header row on every page.
        for sheet in book.worksheets_mut() {
            sheet.set_landscape();
            sheet.set_print_fit_to_pages(1, 0);
            sheet.set_repeat_rows(0, 0)?;
        }
        book.save_to_buffer()
    };
    let bytes = build().map_err(|e| io::Error::other(e.to_string()))?;
    crate::report::write_atomic(path, |w| io::Write::write_all(w, &bytes))
}

/// The name of the sheet that holds one row per input row, the one
/// `handoff rerun` reads back.
pub(crate) const ROWS_SHEET: &str = "Reconciliation";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_told_in_the_chosen_zone() {
        let t = DateTime::parse_from_rfc3339("2026-11-25T23:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let berlin = Night {
            timezone: Some(chrono_tz::Europe::Berlin),
            ..Night::default()
        };
        assert_eq!(berlin.local(t).to_string(), "2026-11-26 00:30:00");
        assert_eq!(berlin.zone_name(), "Europe/Berlin");
        let utc = Night {
            timezone: Some(chrono_tz::UTC),
            ..Night::default()
        };
        assert_eq!(utc.local(t).to_string(), "2026-11-25 23:30:00");
        assert!(Night::default().zone_name().contains("local time"));
    }
}
