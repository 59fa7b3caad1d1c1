//! The run's totals: counts by outcome, which decide the exit code and feed
//! the person's table, the workbook's summary sheet and the metrics.

use std::collections::BTreeMap;

use serde::Serialize;

use super::cost::Cost;
use super::outcome::{Outcome, ReportRow};
use crate::codes::Actor;

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
    /// The delivered billable messages this run sent, and their cost.
    pub cost: Cost,
    /// With `--daily-recipients`: how much of the budget the last 24 hours
    /// used, this run included.
    pub daily_recipients: Option<DailyRecipients>,
    /// The rows people act on, for the end of the run.
    #[serde(skip)]
    pub needs: Needs,
}

/// The daily recipient budget and the distinct phones messaged in the
/// last 24 hours.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct DailyRecipients {
    pub limit: usize,
    pub used: usize,
}

/// How many rows of each group the end of a run lists: with three groups
/// and the rows this run sent, a screenful; the report has them all.
const LISTED: usize = 5;

/// Some rows, how many there are and the first few, each as one line.
#[derive(Debug, Default, Clone)]
pub(crate) struct Listed {
    pub rows: u64,
    pub first: Vec<String>,
}

impl Listed {
    fn add(&mut self, line: impl FnOnce() -> String) {
        self.rows += 1;
        if self.first.len() < LISTED {
            self.first.push(line());
        }
    }
}

/// The rows a person acts on, by who acts (the order of [`Needs::ACTORS`]);
/// the rows still pending, which `handoff track` follows; and the rows
/// this run sent, so a rerun says what it sent and how each ended.
#[derive(Debug, Default, Clone)]
pub(crate) struct Needs {
    pub by_actor: [Listed; 3],
    /// The `unknown` rows among them (a look in the 1MSG cabinet first).
    pub unknown: u64,
    /// The suppressed phones among them, each once (`+…`), and their rows.
    pub suppressed: Vec<String>,
    pub suppressed_rows: u64,
    pub pending: u64,
    pub sent: Listed,
}

impl Needs {
    pub(crate) const ACTORS: [Actor; 3] = [Actor::Partner, Actor::Data, Actor::Operations];

    fn add(&mut self, r: &ReportRow, sent_here: bool) {
        let head = || {
            let (row, partner, order) = (r.row, &r.partner_name, &r.order_number);
            let outcome = r.outcome.as_str();
            format!("row {row} ({partner}, order {order}): {outcome}")
        };
        // An invalid row's own detail names its line, field and value.
        let why = match (r.outcome, &r.error_detail) {
            (Outcome::Invalid, Some(detail)) => detail,
            _ => &r.plain.reason,
        };
        if sent_here && r.reused_from_run.is_none() && r.wamid.is_some() {
            self.sent.add(head);
        }
        match r.outcome {
            Outcome::Pending => self.pending += 1,
            Outcome::Unknown => self.unknown += 1,
            Outcome::Suppressed => {
                self.suppressed_rows += 1;
                let phone = format!("+{}", r.phone.trim_start_matches('+'));
                if !self.suppressed.contains(&phone) {
                    self.suppressed.push(phone);
                }
            }
            _ => {}
        }
        if r.outcome != Outcome::Pending
            && let Some(i) = Self::ACTORS.iter().position(|a| *a == r.plain.actor)
        {
            self.by_actor[i].add(|| format!("{}: {why}", head()));
        }
    }

    /// How many rows a person acts on.
    pub(crate) fn rows(&self) -> u64 {
        self.by_actor.iter().map(|g| g.rows).sum()
    }
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
        self.needs.add(row, sent_here);
        if row.billed_here() {
            self.cost.add(row.pricing.as_ref(), row.cost.as_ref());
        }
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
        out.push_str(&self.cost.lines());
        if let Some(DailyRecipients { limit, used }) = self.daily_recipients {
            out.push_str(&format!(
                "daily recipients: {used} of {limit} in the last 24 hours\n"
            ));
        }
        out
    }
}
