//! The report's facts: one query joins each row with its attempts and latest message, streamed
//! so a million-row report is written without holding it.

use chrono::{DateTime, Utc};

use super::answer::class_at;
use super::codec::get_opt_ts;
use super::{Ledger, LedgerError, Pricing, RunId, SendClass, StatusUpdate, Verdict};

/// The report query: one row per deliveries row of run `?1`, in row order. The latest attempt
/// is the one with the highest attempt_id (insertion order); the latest message per key is found
/// through `messages_order_key` (one index probe per row). `{STATUSES}` stands for
/// [`STATUSES`].
const REPORT_SQL: &str = "
SELECT d.row_no, d.line_no, d.partner_name,
       CASE WHEN d.verdict = 'send' THEN COALESCE(la.phone, d.phone) ELSE d.phone END,
       d.order_number, d.product_name,
       d.delivery_note, d.verdict, d.reason, d.notes,
       COALESCE(s.n, 0), la.result, la.kind, la.named_id, la.wamid,
       la.attempt_id IS NOT NULL AND la.result IS NULL,
       la.http_status, la.error_code, la.error_detail,
       m.wamid, m.run_id, m.accepted_at, m.status, m.error_code, m.error_title, d.extra,
       CASE WHEN m.wamid IS NOT NULL AND EXISTS (SELECT 1 FROM status_history h
                 WHERE h.message_id = m.message_id
                   AND lower(h.status) NOT IN ('sent', 'delivered', 'read', 'viewed', 'played'))
            THEN {STATUSES}
       END,
       d.problem,
       (SELECT MIN(h.status_at) FROM status_history h
        WHERE h.message_id = m.message_id AND lower(h.status) = 'delivered'),
       (SELECT MIN(h.status_at) FROM status_history h
        WHERE h.message_id = m.message_id AND lower(h.status) IN ('read', 'viewed', 'played')),
       (SELECT MIN(h.status_at) FROM status_history h
        WHERE h.message_id = m.message_id AND lower(h.status) IN ('failed', 'undelivered')),
       mr.channel, d.warnings, m.billable, m.pricing_category, d.partner_id, d.contact
FROM deliveries d
LEFT JOIN (SELECT order_key, COUNT(*) AS n, MAX(attempt_id) AS last_id
           FROM attempts WHERE run_id = ?1 GROUP BY order_key) s
       ON s.order_key = d.order_key
LEFT JOIN attempts_sent la ON la.attempt_id = s.last_id
LEFT JOIN messages m ON m.rowid =
       (SELECT m2.rowid FROM messages m2 WHERE m2.order_key = d.order_key
        ORDER BY m2.accepted_at DESC, m2.rowid DESC LIMIT 1)
LEFT JOIN runs mr ON mr.run_id = m.run_id
WHERE d.run_id = ?1
ORDER BY d.row_no";

/// The statuses of the message `m`, in the order they happened, as a JSON array of
/// `[status, code, title, status_at, seen_at]` ([`history_of`] reads it).
pub(super) const STATUSES: &str = "
    (SELECT json_group_array(json_array(h.status, h.error_code, h.error_title, h.status_at,
                                        h.seen_at))
     FROM (SELECT status, error_code, error_title, status_at, seen_at
           FROM status_history WHERE message_id = m.message_id
           ORDER BY COALESCE(status_at, seen_at), id) h)";

/// The history column: a JSON array of `[status, code, title, status_at, seen_at]`, in the
/// order the statuses happened, of the message `wamid`. Unreadable JSON (which the query
/// itself writes) reads as no history.
pub(super) fn history_of(wamid: Option<&str>, json: Option<String>) -> Vec<StatusUpdate> {
    type Seen = (String, Option<i64>, Option<String>, Option<i64>, i64);
    let seen: Vec<Seen> = json
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    seen.into_iter()
        .filter_map(|(status, error_code, error_title, status_at, seen_at)| {
            Some(StatusUpdate {
                wamid: wamid.unwrap_or_default().to_string(),
                status,
                status_at: status_at.and_then(DateTime::from_timestamp_millis),
                error_code,
                error_title,
                pricing: None,
                seen_at: DateTime::from_timestamp_millis(seen_at)?,
            })
        })
        .collect()
}

/// Everything the report needs about one row of a run, gathered in one query.
///
/// Attempt facts cover this run only; message facts are the latest accepted message for the
/// order key across all runs (compare `message_run_id` with the run to see that it was reused).
/// The report decides the outcome: e.g. a `duplicate` row shares its order key (and so its
/// attempts and message) with the first row of that key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFacts {
    /// 1-based data row.
    pub row: u64,
    /// 1-based physical line.
    pub line: u64,
    /// Partner name.
    pub partner_name: String,
    /// Phone (normalised or raw); of a row sent, the phone its latest attempt went to (a
    /// partner's next contact, `--fallback backup`).
    pub phone: String,
    /// Order number.
    pub order_number: String,
    /// Product name.
    pub product_name: String,
    /// Delivery note.
    pub delivery_note: String,
    /// The row's verdict.
    pub verdict: Verdict,
    /// Reason for the verdict.
    pub reason: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// What a person may want to check (a phone outside the numbering plan's ranges).
    pub warnings: Option<String>,
    /// Number of attempts in this run for the order key.
    pub attempts: u32,
    /// Result of the latest attempt in this run (`None` with no attempt or no answer).
    pub last_result: Option<SendClass>,
    /// The latest attempt in this run has an intent but no answer.
    pub unanswered: bool,
    /// HTTP status of the latest attempt.
    pub http_status: Option<u16>,
    /// API error code of the latest attempt.
    pub error_code: Option<i64>,
    /// Error detail of the latest attempt.
    pub error_detail: Option<String>,
    /// The order's latest accepted message, across all runs.
    pub wamid: Option<String>,
    /// The run that sent that message.
    pub message_run_id: Option<RunId>,
    /// The channel that accepted it (that run's): a real message counts whichever real
    /// channel sent it, and the report says which.
    pub message_channel: Option<String>,
    /// When that message was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Its latest merged status.
    pub status: Option<String>,
    /// Error code of a failed status.
    pub msg_error_code: Option<i64>,
    /// Error title of a failed status.
    pub msg_error_title: Option<String>,
    /// The input's other columns (`--keep-columns`), as a JSON array.
    pub extra: Option<String>,
    /// The message's status history, oldest first, when it holds more than the plain path
    /// (`sent`, `delivered`, `read`): a failure, or a status we do not know. Empty otherwise,
    /// so the common row costs one index probe and no JSON.
    pub history: Vec<StatusUpdate>,
    /// An invalid row's problem class (`bad_phone`, …); `None` for rows recorded before the
    /// ledger kept it.
    pub problem: Option<String>,
    /// When 1MSG said the message was delivered (its own timestamp; `None` when it gave none).
    pub delivered_at: Option<DateTime<Utc>>,
    /// When 1MSG said it was read (or viewed, played).
    pub read_at: Option<DateTime<Utc>>,
    /// When 1MSG said it failed.
    pub failed_at: Option<DateTime<Utc>>,
    /// The partner id the row names (`--partners`).
    pub partner_id: Option<String>,
    /// The partners file's contact the row was written to.
    pub contact: Option<String>,
    /// What Meta said the message is billed as, when a status said it.
    pub pricing: Option<Pricing>,
}

/// The pricing kept in columns `i` (`billable`) and `i + 1` (its category), if any.
fn pricing_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<Pricing>> {
    let (billable, category) = (r.get(i)?, r.get(i + 1)?);
    Ok((billable, &category)
        .ne(&(None, &None))
        .then_some(Pricing { billable, category }))
}

impl Ledger {
    /// Hands the facts of every row of a run to `f`, in row order, as the
    /// query yields them: a report of a million rows is written without
    /// holding it.
    pub fn each_report_row<E: From<LedgerError>>(
        &self,
        run: RunId,
        mut f: impl FnMut(ReportFacts) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut stmt = self
            .conn
            .prepare_cached(&REPORT_SQL.replace("{STATUSES}", STATUSES))
            .map_err(|e| E::from(e.into()))?;
        let rows = stmt
            .query_map([run], |r| {
                let wamid: Option<String> = r.get(19)?;
                Ok(ReportFacts {
                    history: history_of(wamid.as_deref(), r.get(26)?),
                    row: r.get(0)?,
                    line: r.get(1)?,
                    partner_name: r.get(2)?,
                    phone: r.get(3)?,
                    order_number: r.get(4)?,
                    product_name: r.get(5)?,
                    delivery_note: r.get(6)?,
                    verdict: r.get(7)?,
                    reason: r.get(8)?,
                    notes: r.get(9)?,
                    attempts: r.get(10)?,
                    last_result: class_at(r, 11)?,
                    unanswered: r.get(15)?,
                    http_status: r.get(16)?,
                    error_code: r.get(17)?,
                    error_detail: r.get(18)?,
                    wamid,
                    message_run_id: r.get(20)?,
                    accepted_at: get_opt_ts(r, 21)?,
                    status: r.get(22)?,
                    msg_error_code: r.get(23)?,
                    msg_error_title: r.get(24)?,
                    extra: r.get(25)?,
                    problem: r.get(27)?,
                    delivered_at: get_opt_ts(r, 28)?,
                    read_at: get_opt_ts(r, 29)?,
                    failed_at: get_opt_ts(r, 30)?,
                    message_channel: r.get(31)?,
                    warnings: r.get(32)?,
                    pricing: pricing_at(r, 33)?,
                    partner_id: r.get(35)?,
                    contact: r.get(36)?,
                })
            })
            .map_err(|e| E::from(e.into()))?;
        for row in rows {
            f(row.map_err(|e| E::from(e.into()))?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
