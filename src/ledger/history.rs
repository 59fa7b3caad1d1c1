//! One order's whole story across nights: every row that named it, every
//! attempt (intent and answer), every message and every status 1MSG
//! reported, for `handoff history ORDER`. Read-only, by the order key's
//! indexes.

use super::attempts::{ATTEMPT_COLUMNS, attempt_from_row};
use super::codec::get_ts;
use super::messages::{MESSAGE_COLUMNS, MESSAGE_FROM, message_from_row};
use super::report::{STATUSES, history_of};
use super::{AttemptInfo, Ledger, LedgerError, MessageInfo, RunId, StatusUpdate, Verdict};
use chrono::{DateTime, Utc};

/// A row of some run's input that carried the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    pub run_id: RunId,
    /// The run's kind (`run`, `rerun`).
    pub kind: String,
    /// The channel the run sent on.
    pub channel: String,
    pub run_started_at: DateTime<Utc>,
    pub row: u64,
    pub line: u64,
    pub phone: String,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub notes: Option<String>,
}

/// One accepted message, its merged status and every status seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderMessage {
    /// The message, as [`Ledger::accepted_message`] reads it.
    pub message: MessageInfo,
    /// The channel that accepted it (its run's).
    pub channel: String,
    pub statuses: Vec<StatusUpdate>,
}

/// Everything the ledger knows about one order key, each list oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderHistory {
    pub rows: Vec<OrderRow>,
    pub attempts: Vec<AttemptInfo>,
    pub messages: Vec<OrderMessage>,
}

impl OrderHistory {
    /// Whether the ledger has never heard of the order.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.attempts.is_empty() && self.messages.is_empty()
    }
}

impl Ledger {
    /// The whole story of `order_key` (the order number, trimmed).
    pub fn order_history(&self, order_key: &str) -> Result<OrderHistory, LedgerError> {
        let rows = self.all(
            // The numbering-plan warning is shown with the notes, as it was when it was one.
            "SELECT d.run_id, r.kind, r.started_at, d.row_no, d.line_no, d.phone, d.verdict,
                    d.reason,
                    CASE WHEN d.warnings IS NULL THEN d.notes
                         WHEN d.notes IS NULL THEN d.warnings
                         ELSE d.warnings || '; ' || d.notes END,
                    r.channel
             FROM deliveries d JOIN runs r ON r.run_id = d.run_id
             WHERE d.order_key = ?1 ORDER BY d.run_id, d.row_no",
            [order_key],
            |r| {
                Ok(OrderRow {
                    run_id: r.get(0)?,
                    kind: r.get(1)?,
                    run_started_at: get_ts(r, 2)?,
                    row: r.get(3)?,
                    line: r.get(4)?,
                    phone: r.get(5)?,
                    verdict: r.get(6)?,
                    reason: r.get(7)?,
                    notes: r.get(8)?,
                    channel: r.get(9)?,
                })
            },
        )?;
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM attempts_sent WHERE order_key = ?1 ORDER BY attempt_id"
        );
        let attempts = self.all(&sql, [order_key], attempt_from_row)?;
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS}, r.channel, {STATUSES}
             FROM {MESSAGE_FROM} JOIN runs r ON r.run_id = m.run_id
             WHERE m.order_key = ?1 ORDER BY m.accepted_at, m.rowid"
        );
        let messages = self.all(&sql, [order_key], |r| {
            let message = message_from_row(r)?;
            Ok(OrderMessage {
                statuses: history_of(Some(&message.wamid), r.get(14)?),
                channel: r.get(13)?,
                message,
            })
        })?;
        Ok(OrderHistory {
            rows,
            attempts,
            messages,
        })
    }

    /// The latest attempt for `order_key`, across runs, answered or not:
    /// what the API was last asked to send.
    pub fn last_attempt(&self, order_key: &str) -> Result<Option<AttemptInfo>, LedgerError> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM attempts_sent WHERE order_key = ?1
             ORDER BY attempt_id DESC LIMIT 1"
        );
        self.first(&sql, [order_key], attempt_from_row)
    }
}

#[cfg(test)]
mod tests {
    use crate::ledger::fixtures::intent;
    use crate::ledger::fixtures::{meta, p, row, st, t, with_message};
    use crate::ledger::{Answer, SendClass, Verdict};

    #[test]
    fn an_order_across_two_runs() {
        let (mut l, run1) = with_message();
        let mut failed = st("w1", "failed", 300);
        failed.error_code = Some(131_050);
        l.record_statuses(&[st("w1", "sent", 100), failed]).unwrap();
        let run2 = l.begin_run(&meta("rerun", t(1_000))).unwrap();
        l.record_rows(run2, &[row(4, Some("A-1"), Verdict::Send)])
            .unwrap();
        let a = l
            .record_intent(&intent(run2, "A-1", 1, "491711234999", &p(), t(1_010)))
            .unwrap();
        let refused = Answer {
            result: SendClass::Rejected,
            http_status: Some(400),
            error_code: Some(470),
            error_detail: Some("no".into()),
            at: t(1_020),
        };
        l.record_answer(a, &refused).unwrap();

        let h = l.order_history("A-1").unwrap();
        assert_eq!(
            h.rows.iter().map(|r| (r.run_id, r.row)).collect::<Vec<_>>(),
            [(run1, 1), (run2, 4)]
        );
        assert_eq!(h.attempts.len(), 2);
        assert_eq!(h.attempts[0].wamid.as_deref(), Some("w1"));
        assert_eq!(h.attempts[1].error_code, Some(470));
        assert_eq!(h.messages.len(), 1);
        assert_eq!(h.messages[0].channel, "ch1");
        assert_eq!(h.rows[1].channel, "ch1");
        let statuses: Vec<_> = h.messages[0].statuses.iter().map(|s| &s.status).collect();
        assert_eq!(statuses, ["sent", "failed"]);
        assert_eq!(h.messages[0].statuses[1].error_code, Some(131_050));
        let last = l.last_attempt("A-1").unwrap().unwrap();
        assert_eq!(
            (last.run_id, last.result),
            (run2, Some(SendClass::Rejected))
        );
        assert!(l.order_history("nope").unwrap().is_empty());
        assert_eq!(l.last_attempt("nope").unwrap(), None);
        // An unanswered intent is in the history, and is the last attempt.
        let _ = l
            .record_intent(&intent(run2, "A-1", 2, "4917", &p(), t(2_000)))
            .unwrap();
        assert_eq!(l.order_history("A-1").unwrap().attempts.len(), 3);
        let last = l.last_attempt("A-1").unwrap().unwrap();
        assert_eq!((last.attempt_no, last.result), (2, None));
    }
}
