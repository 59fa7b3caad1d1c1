//! The finance workbook (beside the CSV unless `--no-xlsx`, or `--xlsx`):
//! the reconciliation as an Excel file in which phones, wamids and order
//! numbers are text cells, so Excel never drops a leading zero or turns
//! `4915123456701` into `4.91512E+12`, and times are real date cells in the
//! night's time zone. The CSV stays the machine format; this is the one
//! people open, so it also answers their questions: what needs whom
//! (`Needs action`), how each partner fared (`Partners`) and how the night
//! went (`Summary`, with charts).
//!
//! Its sheets come in the order a person reads and prints them (Summary,
//! Needs action, Partners, then the rows), and every sheet prints: in
//! landscape, one page wide, its header row on every page, long texts
//! wrapped (in rows tall enough to hold them in a sheet's first rows, see
//! `rows::Heights`).
//!
//! Its text cells are written as strings, which no spreadsheet runs as a
//! formula, so they carry no `'`: `+46 70 123 45 67` is written as the
//! partner's value (the CSV, which a spreadsheet does evaluate, keeps its
//! `'`). `handoff rerun` reads both files, and this workbook's older form
//! with the `'`, with the one inverse (see `csv::for_workbook`).

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

/// The sheets, in the order a person reads (and prints) them: how the
/// night went, what needs whom, each partner, then every row. `handoff
/// rerun` finds the rows by the sheet's name.
const SUMMARY: usize = 0;
const ACTION: usize = 1;
const PARTNERS: usize = 2;
const ROWS: usize = 3;

/// A workbook written as the report's rows stream from the ledger, so a
/// night of a million rows is never held: the two sheets with a line per
/// row are in constant-memory mode (each row goes to a temporary file as
/// the next begins), the `Needs action` rows wait in temporary files of
/// their own until their group's turn, and only the totals (by partner, by
/// latency) stay in memory. A failure is kept, not returned, so the CSV
/// written in the same pass goes on; [`Book::write`] reports it.
pub(crate) struct Book(Result<Sheets, XlsxError>);

/// The workbook while its rows arrive.
struct Sheets {
    book: Workbook,
    styles: style::Styles,
    night: Night,
    rows: rows::Rows,
    needs: action::Groups,
    partners: partners::Tallies,
    /// How many delivered rows fall in each bucket of `summary::LATENCY`.
    latency: [u64; summary::LATENCY.len()],
}

impl Book {
    /// A workbook to be written at `path`, with `extra` kept columns after
    /// ours. Its temporary files go beside it, so a `/tmp` in memory does
    /// not hold the night.
    pub(crate) fn new(path: &Path, extra: &[String], timezone: Option<chrono_tz::Tz>) -> Book {
        let night = Night {
            run: None,
            timezone,
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Book(Sheets::new(dir, extra, night))
    }

    /// Adds the report's next row.
    pub(crate) fn add(&mut self, r: &ReportRow) {
        if let Ok(sheets) = &mut self.0
            && let Err(e) = sheets.add(r)
        {
            self.0 = Err(e);
        }
    }

    /// Writes the finance sheets and the file, atomically: `run` is what
    /// the Summary tells of the run (`None` if the ledger has no such run).
    pub(crate) fn write(
        self,
        path: &Path,
        summary: &Summary,
        run_id: i64,
        exit_code: u8,
        run: Option<RunInfo>,
    ) -> io::Result<()> {
        let fail = |e: XlsxError| io::Error::other(e.to_string());
        let mut sheets = self.0.map_err(fail)?;
        sheets.night.run = run;
        sheets.finish(summary, run_id, exit_code).map_err(fail)?;
        crate::report::write_atomic(path, |w| sheets.book.save_to_writer(w).map_err(fail))
    }
}

impl Sheets {
    fn new(dir: &Path, extra: &[String], night: Night) -> Result<Sheets, XlsxError> {
        let mut book = Workbook::new();
        book.set_tempdir(dir)?;
        book.add_worksheet().set_active(true);
        book.add_worksheet_with_constant_memory()?;
        book.add_worksheet();
        book.add_worksheet_with_constant_memory()?;
        let styles = style::Styles::new();
        let rows = rows::Rows::start(book.worksheet_from_index(ROWS)?, extra, &styles)?;
        Ok(Sheets {
            book,
            styles,
            night,
            rows,
            needs: action::Groups::new(dir)?,
            partners: partners::Tallies::default(),
            latency: [0; summary::LATENCY.len()],
        })
    }

    fn add(&mut self, r: &ReportRow) -> Result<(), XlsxError> {
        let sheet = self.book.worksheet_from_index(ROWS)?;
        self.rows.add(sheet, r, &self.styles, &self.night)?;
        self.needs.add(r)?;
        self.partners.add(r);
        if let Some(i) = summary::bucket(r) {
            self.latency[i] += 1;
        }
        Ok(())
    }

    fn finish(&mut self, summary: &Summary, run_id: i64, exit_code: u8) -> Result<(), XlsxError> {
        let styles = &self.styles;
        self.rows.end(self.book.worksheet_from_index(ROWS)?)?;
        let needs = std::mem::take(&mut self.needs);
        action::sheet(self.book.worksheet_from_index(ACTION)?, needs, styles)?;
        let tallies = std::mem::take(&mut self.partners).done();
        let partners = self.book.worksheet_from_index(PARTNERS)?;
        partners::sheet(partners, &tallies, &summary.cost, styles)?;
        let facts = summary::Facts {
            summary,
            latency: self.latency,
            run_id,
            exit_code,
            night: &self.night,
        };
        summary::sheet(self.book.worksheet_from_index(SUMMARY)?, &facts, styles)?;
        // Every sheet prints as people read it: landscape, one page wide
        // however many columns it has, its header row on every page.
        for sheet in self.book.worksheets_mut() {
            sheet.set_landscape();
            sheet.set_print_fit_to_pages(1, 0);
            sheet.set_repeat_rows(0, 0)?;
        }
        Ok(())
    }
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
