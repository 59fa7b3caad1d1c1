//! The reconciliation: one row per input row, in input order, matching each
//! order to its wamid and outcome, built from the ledger alone.
//!
//! The file is written atomically (temp file in the same directory, fsync,
//! rename, fsync of the directory), so a reader never sees half a report and
//! a crash leaves the previous one intact. Cells a spreadsheet would run as a
//! formula are prefixed with `'` (OWASP CSV injection), since partner names
//! and API error texts are untrusted.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::ledger::{ReportFacts, RunId, Verdict};

pub mod metrics;
pub mod workbook;

/// The verdict of the reconciliation for one row (design.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Delivered,
    Read,
    Failed,
    Pending,
    Rejected,
    Invalid,
    Duplicate,
    Unknown,
    Skipped,
}

impl Outcome {
    pub const ALL: [Outcome; 9] = [
        Outcome::Delivered,
        Outcome::Read,
        Outcome::Failed,
        Outcome::Pending,
        Outcome::Rejected,
        Outcome::Invalid,
        Outcome::Duplicate,
        Outcome::Unknown,
        Outcome::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Read => "read",
            Outcome::Failed => "failed",
            Outcome::Pending => "pending",
            Outcome::Rejected => "rejected",
            Outcome::Invalid => "invalid",
            Outcome::Duplicate => "duplicate",
            Outcome::Unknown => "unknown",
            Outcome::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Whether the row needs nobody's attention.
    pub fn is_fine(self) -> bool {
        matches!(self, Outcome::Delivered | Outcome::Read)
    }
}

/// One line of the reconciliation.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub row: u64,
    pub line: u64,
    pub order_number: String,
    pub partner_name: String,
    pub phone: String,
    pub product_name: String,
    pub delivery_note: String,
    pub outcome: Outcome,
    pub status: Option<String>,
    pub wamid: Option<String>,
    pub http_status: Option<u16>,
    pub error_code: Option<i64>,
    pub error_detail: Option<String>,
    pub attempts: u32,
    pub sent_at: Option<DateTime<Utc>>,
    pub status_at: Option<DateTime<Utc>>,
    /// The run that sent the message, when it was not this one.
    pub reused_from_run: Option<RunId>,
    pub notes: Option<String>,
    /// The input's other columns (`--keep-columns`), after ours.
    pub extra: Vec<String>,
}

pub const HEADER: [&str; 18] = [
    "row",
    "line",
    "order_number",
    "partner_name",
    "phone",
    "product_name",
    "delivery_note",
    "outcome",
    "status",
    "wamid",
    "http_status",
    "error_code",
    "error_detail",
    "attempts",
    "sent_at",
    "status_at",
    "reused_from_run",
    "notes",
];

/// Decides the outcome of one row from what the ledger knows.
pub fn reconcile(f: ReportFacts, run: RunId) -> ReportRow {
    let mut row = ReportRow {
        row: f.row,
        line: f.line,
        order_number: f.order_number,
        partner_name: f.partner_name,
        phone: f.phone,
        product_name: f.product_name,
        delivery_note: f.delivery_note,
        outcome: Outcome::Skipped,
        status: None,
        wamid: None,
        http_status: None,
        error_code: None,
        error_detail: f.reason.clone(),
        attempts: 0,
        sent_at: None,
        status_at: None,
        reused_from_run: None,
        notes: f.notes,
        extra: f
            .extra
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default(),
    };
    match f.verdict {
        Verdict::Invalid => row.outcome = Outcome::Invalid,
        Verdict::Duplicate => row.outcome = Outcome::Duplicate,
        Verdict::Skipped => row.outcome = Outcome::Skipped,
        Verdict::Unknown => row.outcome = Outcome::Unknown,
        Verdict::Send | Verdict::Reused => {
            row.attempts = f.attempts;
            let message_counts = f.wamid.is_some()
                && (f.verdict == Verdict::Reused || f.message_run_id == Some(run));
            if message_counts {
                row.wamid = f.wamid;
                row.sent_at = f.accepted_at;
                row.status_at = f.status_at;
                if f.message_run_id != Some(run) {
                    row.reused_from_run = f.message_run_id;
                }
                let status = f.status.clone().unwrap_or_default();
                row.outcome = match status.as_str() {
                    "read" => Outcome::Read,
                    "delivered" => Outcome::Delivered,
                    "failed" | "undelivered" => Outcome::Failed,
                    _ => Outcome::Pending,
                };
                if row.outcome == Outcome::Failed {
                    row.error_code = f.msg_error_code;
                    row.error_detail = f.msg_error_title;
                } else if row.outcome == Outcome::Pending {
                    row.error_detail = Some(
                        "accepted; no final status before tracking ended (`handoff track` polls again)"
                            .into(),
                    );
                }
                row.status = f.status;
                return row;
            }
            row.http_status = f.http_status;
            row.error_code = f.error_code;
            row.error_detail = f.error_detail.or(f.reason);
            if f.attempts == 0 {
                row.outcome = Outcome::Skipped;
                row.error_detail
                    .get_or_insert_with(|| "not attempted in this run".into());
            } else if f.unanswered {
                row.outcome = Outcome::Unknown;
                row.error_detail = Some(
                    "the send was recorded but its answer was not: it may or may not have been accepted"
                        .into(),
                );
            } else {
                row.outcome = match f.last_result.as_deref() {
                    Some("ambiguous") => Outcome::Unknown,
                    Some("rejected") | Some("fatal") => Outcome::Rejected,
                    Some("retry") if f.http_status.is_none() => Outcome::Skipped,
                    Some("retry") => Outcome::Rejected,
                    Some("accepted") => Outcome::Pending,
                    _ => Outcome::Unknown,
                };
                if f.last_result.as_deref() == Some("retry") {
                    let detail = row.error_detail.take().unwrap_or_default();
                    row.error_detail =
                        Some(format!("gave up after {} attempts: {detail}", f.attempts));
                }
                if row.outcome == Outcome::Unknown {
                    let detail = row.error_detail.take().unwrap_or_default();
                    row.error_detail = Some(format!(
                        "may or may not have been accepted ({detail}); never resent automatically"
                    ));
                }
            }
        }
    }
    row
}

/// Counts by outcome, and the exit code they imply.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    pub rows: u64,
    pub outcomes: BTreeMap<&'static str, u64>,
}

impl Summary {
    pub fn add(&mut self, outcome: Outcome) {
        self.rows += 1;
        *self.outcomes.entry(outcome.as_str()).or_default() += 1;
    }

    pub fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes.get(outcome.as_str()).copied().unwrap_or(0)
    }

    /// Whether every row reached delivered or read.
    pub fn all_fine(&self) -> bool {
        self.count(Outcome::Delivered) + self.count(Outcome::Read) == self.rows
    }

    /// A small table for a person, one line per outcome that occurred.
    pub fn table(&self) -> String {
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

/// Prefixes a cell that a spreadsheet would evaluate.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// Writes the rows as the reconciliation CSV, atomically; `extra` names
/// the input's other columns kept with `--keep-columns`, written after ours.
/// For tests: a run streams its report with [`write_csv_from`].
#[cfg(test)]
pub fn write_csv(path: &Path, rows: &[ReportRow], extra: &[String]) -> io::Result<()> {
    write_csv_from(path, extra, |emit| rows.iter().try_for_each(emit))
}

/// The same, for rows produced one at a time: `produce` calls `emit` with
/// each row, in order, so the report never has to be held whole.
pub fn write_csv_from(
    path: &Path,
    extra: &[String],
    produce: impl FnOnce(&mut dyn FnMut(&ReportRow) -> io::Result<()>) -> io::Result<()>,
) -> io::Result<()> {
    write_atomic(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(
            HEADER
                .iter()
                .copied()
                .chain(extra.iter().map(String::as_str)),
        )?;
        produce(&mut |r: &ReportRow| {
            let cells = [
                r.row.to_string(),
                r.line.to_string(),
                r.order_number.clone(),
                r.partner_name.clone(),
                r.phone.clone(),
                r.product_name.clone(),
                r.delivery_note.clone(),
                r.outcome.as_str().to_string(),
                opt(&r.status),
                opt(&r.wamid),
                opt(&r.http_status),
                opt(&r.error_code),
                opt(&r.error_detail),
                r.attempts.to_string(),
                time(r.sent_at),
                time(r.status_at),
                opt(&r.reused_from_run),
                opt(&r.notes),
            ];
            csv.write_record(
                cells
                    .iter()
                    .chain(r.extra.iter().take(extra.len()))
                    .map(|c| neutralise(c).into_owned()),
            )?;
            Ok(())
        })?;
        csv.flush()?;
        Ok(())
    })
}

/// Write to a temporary file beside `path`, fsync it, rename it over
/// `path`, then fsync the directory so the rename itself is durable.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let file = File::create(&tmp)?;
        {
            let mut w = BufWriter::new(&file);
            fill(&mut w)?;
            w.flush()?;
        }
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(verdict: Verdict) -> ReportFacts {
        ReportFacts {
            row: 1,
            line: 2,
            order_key: Some("A1".into()),
            partner_name: "P".into(),
            phone: "491511234567".into(),
            order_number: "A1".into(),
            product_name: "X".into(),
            delivery_note: "N".into(),
            verdict,
            reason: None,
            notes: None,
            attempts: 0,
            last_result: None,
            unanswered: false,
            http_status: None,
            error_code: None,
            error_detail: None,
            first_intent_at: None,
            wamid: None,
            message_run_id: None,
            accepted_at: None,
            status: None,
            status_at: None,
            msg_error_code: None,
            msg_error_title: None,
            is_final: false,
            extra: None,
        }
    }

    #[test]
    fn statuses_map_to_outcomes() {
        for (status, outcome) in [
            (Some("read"), Outcome::Read),
            (Some("delivered"), Outcome::Delivered),
            (Some("failed"), Outcome::Failed),
            (Some("sent"), Outcome::Pending),
            (None, Outcome::Pending),
        ] {
            let mut f = facts(Verdict::Send);
            f.attempts = 1;
            f.last_result = Some("accepted".into());
            f.wamid = Some("wamid.1".into());
            f.message_run_id = Some(3);
            f.status = status.map(str::to_string);
            assert_eq!(reconcile(f, 3).outcome, outcome, "{status:?}");
        }
    }

    #[test]
    fn answers_map_to_outcomes() {
        let case = |last: Option<&str>, unanswered: bool, http: Option<u16>| {
            let mut f = facts(Verdict::Send);
            f.attempts = 2;
            f.last_result = last.map(str::to_string);
            f.unanswered = unanswered;
            f.http_status = http;
            reconcile(f, 1)
        };
        assert_eq!(case(None, true, None).outcome, Outcome::Unknown);
        assert_eq!(
            case(Some("ambiguous"), false, Some(500)).outcome,
            Outcome::Unknown
        );
        assert_eq!(
            case(Some("rejected"), false, Some(200)).outcome,
            Outcome::Rejected
        );
        assert_eq!(
            case(Some("retry"), false, Some(429)).outcome,
            Outcome::Rejected
        );
        assert_eq!(case(Some("retry"), false, None).outcome, Outcome::Skipped);
        assert!(
            case(Some("retry"), false, Some(429))
                .error_detail
                .unwrap()
                .starts_with("gave up after 2 attempts")
        );
        let mut f = facts(Verdict::Send);
        f.attempts = 0;
        assert_eq!(reconcile(f, 1).outcome, Outcome::Skipped);
    }

    #[test]
    fn earlier_runs_message_is_reused_and_said_so() {
        let mut f = facts(Verdict::Reused);
        f.wamid = Some("wamid.old".into());
        f.message_run_id = Some(1);
        f.status = Some("read".into());
        let r = reconcile(f, 2);
        assert_eq!(r.outcome, Outcome::Read);
        assert_eq!(r.reused_from_run, Some(1));
        // A duplicate row shares the first row's message in the ledger,
        // but its own outcome is duplicate.
        let mut f = facts(Verdict::Duplicate);
        f.wamid = Some("wamid.x".into());
        f.message_run_id = Some(2);
        assert_eq!(reconcile(f, 2).outcome, Outcome::Duplicate);
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(neutralise("+49"), "'+49");
        assert_eq!(neutralise("@x"), "'@x");
        assert_eq!(neutralise("-1"), "'-1");
        assert_eq!(neutralise("ACME"), "ACME");
    }

    #[test]
    fn atomic_write_replaces_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        fs::write(&path, "old").unwrap();
        let row = reconcile(facts(Verdict::Invalid), 1);
        write_csv(&path, &[row], &[]).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("row,line,order_number"));
        assert!(text.contains(",invalid,"));
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
