//! The run's totals: counts by outcome, which decide the exit code and feed
//! the person's table, the workbook's summary sheet and the metrics.

use std::collections::BTreeMap;

use serde::Serialize;

use super::outcome::{Outcome, ReportRow};

/// Counts by outcome, and the exit code they imply.
#[derive(Debug, Default, Clone, Serialize)]
pub(crate) struct Summary {
    pub rows: u64,
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Rows whose message this run sent (the API accepted it).
    pub sent_this_run: u64,
    /// Rows whose message an earlier run sent: not sent again. A night
    /// with `reused` at 0 and many rows sent after a ledger change is the
    /// one to look at.
    pub reused: u64,
}

impl Summary {
    pub(crate) fn add(&mut self, outcome: Outcome) {
        self.rows += 1;
        *self.outcomes.entry(outcome.as_str()).or_default() += 1;
    }

    /// Counts a report row; `sent_here` is whether the report's run is the
    /// one sending now (`track` rewrites an earlier run's report).
    pub(crate) fn add_row(&mut self, row: &ReportRow, sent_here: bool) {
        self.add(row.outcome);
        if row.reused_from_run.is_some() {
            self.reused += 1;
        } else if sent_here && row.wamid.is_some() {
            self.sent_this_run += 1;
        }
    }

    pub(crate) fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes.get(outcome.as_str()).copied().unwrap_or(0)
    }

    /// Whether every row reached delivered or read.
    pub(crate) fn all_fine(&self) -> bool {
        self.count(Outcome::Delivered) + self.count(Outcome::Read) == self.rows
    }

    /// A small table for a person, one line per outcome that occurred.
    pub(crate) fn table(&self) -> String {
        let mut out = String::from("outcome      rows\n");
        for o in Outcome::ALL {
            let n = self.count(o);
            if n > 0 {
                out.push_str(&format!("{:<12} {n:>5}\n", o.as_str()));
            }
        }
        out.push_str(&format!("{:<12} {:>5}\n", "total", self.rows));
        out
    }
}
