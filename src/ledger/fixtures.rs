//! Test fixtures shared by the ledger's test modules: fixed times, a run, rows, answers and a
//! ledger holding one accepted message.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;

use super::status::merge_statuses;
use super::{
    Answer, AttemptId, Intent, Ledger, LedgerError, ReportFacts, RowRecord, RunId, RunMeta,
    SendClass, StatusUpdate, Verdict,
};

pub(super) fn t(ms: i64) -> DateTime<Utc> {
    // 2026-11-25T00:00:00Z plus `ms` milliseconds.
    DateTime::from_timestamp_millis(1_795_564_800_000 + ms).unwrap()
}

pub(super) fn meta(kind: &str, at: DateTime<Utc>) -> RunMeta {
    RunMeta {
        kind: kind.to_owned(),
        input_path: Some("deliveries.csv".to_owned()),
        api_url: "https://api.1msg.io".to_owned(),
        channel: "ch1".to_owned(),
        simulated: false,
        template: "delivery_done".to_owned(),
        language: "en".to_owned(),
        started_at: at,
    }
}

pub(super) fn row(row: u64, key: Option<&str>, verdict: Verdict) -> RowRecord {
    RowRecord {
        row,
        line: row + 1,
        order_key: key.map(str::to_owned),
        partner_name: format!("Partner {row}"),
        phone: "491711234567".to_owned(),
        order_number: key.unwrap_or("").to_owned(),
        product_name: "Widget".to_owned(),
        delivery_note: format!("DN-{row}"),
        verdict,
        reason: None,
        problem: None,
        notes: None,
        warnings: None,
        extra: None,
        partner_id: None,
        contact: None,
        language: None,
    }
}

pub(super) fn p() -> Vec<String> {
    ["Partner 1", "A-1", "Widget", "DN-1"]
        .map(String::from)
        .to_vec()
}

pub(super) fn answer(result: SendClass, http: Option<u16>, at: DateTime<Utc>) -> Answer {
    Answer {
        result,
        http_status: http,
        error_code: None,
        error_detail: None,
        at,
    }
}

pub(super) fn accepted(wamid: &str, at: DateTime<Utc>) -> Answer {
    answer(
        SendClass::Accepted {
            wamid: wamid.to_owned(),
        },
        Some(200),
        at,
    )
}

pub(super) fn st(wamid: &str, status: &str, ms: i64) -> StatusUpdate {
    StatusUpdate {
        wamid: wamid.to_owned(),
        status: status.to_owned(),
        status_at: Some(t(ms)),
        error_code: None,
        error_title: None,
        pricing: None,
        seen_at: t(ms + 5),
    }
}

/// The intent of attempt `n` of `key` in `run`, in the run's language.
pub(super) fn intent(
    run: RunId,
    key: &str,
    n: u32,
    phone: &str,
    params: &[String],
    at: DateTime<Utc>,
) -> Intent {
    Intent {
        run,
        order_key: key.to_owned(),
        attempt_no: n,
        phone: phone.to_owned(),
        params: params.to_vec(),
        language: None,
        at,
        contact: None,
    }
}

/// A ledger with one run, its row 1 (order `A-1`) to send, and the intent
/// of attempt 1 at `t(10)`, not answered yet.
pub(super) fn with_intent() -> (Ledger, RunId, AttemptId) {
    let mut l = Ledger::open_in_memory().unwrap();
    let run = l.begin_run(&meta("run", t(0))).unwrap();
    l.record_rows(run, &[row(1, Some("A-1"), Verdict::Send)])
        .unwrap();
    let a = l
        .record_intent(&intent(run, "A-1", 1, "491711234567", &p(), t(10)))
        .unwrap();
    (l, run, a)
}

/// A ledger with one run and one accepted message `w1` for order `A-1`.
pub(super) fn with_message() -> (Ledger, RunId) {
    let (mut l, run, a) = with_intent();
    l.record_answer(a, &accepted("w1", t(20))).unwrap();
    (l, run)
}

pub(super) fn history(l: &Ledger, wamid: &str) -> Vec<String> {
    let mut stmt = l
        .conn
        .prepare(
            "SELECT h.status FROM status_history h JOIN messages m USING (message_id)
             WHERE m.wamid = ?1 ORDER BY h.id",
        )
        .unwrap();
    stmt.query_map([wamid], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Reads and writes only the tests make: no command needs them.
impl Ledger {
    /// Merges a batch of status observations, as pushed acks (one call per wamid), in one
    /// transaction and returns how many changed a message's merged status. Observations for
    /// wamids the ledger does not know are skipped.
    pub(crate) fn record_statuses(
        &mut self,
        updates: &[StatusUpdate],
    ) -> Result<usize, LedgerError> {
        self.atomically(|l| {
            let mut changed = 0;
            for same in updates.chunk_by(|a, b| a.wamid == b.wamid) {
                let merged = merge_statuses(l, &same[0].wamid, same, 0)?;
                changed += merged.map_or(0, |(n, _)| n);
            }
            Ok(changed)
        })
    }

    /// Whether `wamid` has a final status.
    pub(crate) fn is_final(&self, wamid: &str) -> Result<Option<bool>, LedgerError> {
        Ok(self
            .conn
            .prepare_cached("SELECT final FROM messages WHERE wamid = ?1")?
            .query_row([wamid], |r| r.get(0))
            .optional()?)
    }

    /// The facts for every row of a run, in row order, collected (a run's report streams them
    /// with [`Ledger::each_report_row`]).
    pub(crate) fn report_rows(&self, run: RunId) -> Result<Vec<ReportFacts>, LedgerError> {
        let mut out = Vec::new();
        self.each_report_row(run, |f| {
            out.push(f);
            Ok::<(), LedgerError>(())
        })?;
        Ok(out)
    }

    /// Runs `PRAGMA integrity_check` and `PRAGMA foreign_key_check`; returns `"ok"` for a healthy
    /// file, otherwise the problems one per line.
    pub(crate) fn integrity_check(&self) -> Result<String, LedgerError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let mut lines = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut fk = self.conn.prepare("PRAGMA foreign_key_check")?;
        let violations = fk
            .query_map([], |r| {
                Ok(format!(
                    "foreign key violation: {} rowid {:?} -> {}",
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, String>(2)?
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        if !violations.is_empty() {
            lines.retain(|l| l != "ok");
            lines.extend(violations);
        }
        Ok(lines.join("\n"))
    }
}
