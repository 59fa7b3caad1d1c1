//! The reconciliation: one row per input row, in input order, matching each
//! order to its wamid and outcome, built from the ledger alone.
//!
//! The file is written atomically (temp file in the same directory, fsync,
//! rename, fsync of the directory), so a reader never sees half a report and
//! a crash leaves the previous one intact. Cells a spreadsheet would run as a
//! formula are prefixed with `'` (OWASP CSV injection), since partner names
//! and API error texts are untrusted.
//!
//! The workbook (`--xlsx`) and the metrics (`--metrics-file`,
//! `--pushgateway`) are the same results for other readers, so they live
//! here too, and so does `read_back`, which reads a reconciliation back
//! for `handoff rerun` (the inverse of the CSV writer).

mod atomic;
pub(crate) mod columns;
pub(crate) mod cost;
mod csv;
mod notes;
pub(crate) mod outcome;
mod plain;
pub(crate) mod read_back;
mod summary;

pub(crate) mod metrics;
pub(crate) mod workbook;

pub(crate) use self::atomic::write_atomic;
pub(crate) use self::csv::{undo_neutralising, write_csv_from};
pub(crate) use self::outcome::{Outcome, ReportRow, estimate, reconcile, untracked};
pub(crate) use self::summary::{DailyRecipients, Listed, Needs, Summary};
