//! Doubts: sends that may or may not have been accepted, found across runs and settled from the
//! API's history, so a person (or the history) decides instead of a silent resend.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, ToSql, TransactionBehavior, params};

use super::attempts::{ATTEMPT_COLUMNS, attempt_from_row};
use super::codec::ts;
use super::{AttemptId, Doubt, Ledger, LedgerError, RunId, SendClass, Verdict};

/// An attempt `a` still in doubt: unanswered or ambiguous, and no accepted message of its
/// order came from it or after it (its own, found later, or a later attempt's). A message
/// before it (one that failed, say, before a fallback to the partner's next contact) settles
/// nothing about it. A message with no attempt (a ledger older than the link) is taken as
/// after, as before.
pub(super) const UNSETTLED: &str = "(a.result IS NULL OR a.result = 'ambiguous')
    AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.order_key = a.order_key
                    AND (m.attempt_id IS NULL OR m.attempt_id >= a.attempt_id))";

impl Ledger {
    /// The doubtful attempts of an order no accepted message settled, across
    /// all runs, oldest first (see [`Doubt`], [`UNSETTLED`]).
    pub fn doubts(&self, order_key: &str) -> Result<Vec<Doubt>, LedgerError> {
        self.doubts_where("order_key", &order_key)
    }

    /// The doubtful attempts recorded by one run that no accepted message
    /// settled, oldest first.
    pub fn run_doubts(&self, run: RunId) -> Result<Vec<Doubt>, LedgerError> {
        self.doubts_where("run_id", &run)
    }

    /// The doubtful attempts whose `column` is `value` that no accepted message settled,
    /// oldest first.
    fn doubts_where(&self, column: &str, value: &dyn ToSql) -> Result<Vec<Doubt>, LedgerError> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM attempts_sent a
             WHERE a.{column} = ?1 AND {UNSETTLED}
             ORDER BY attempt_id"
        );
        self.all(&sql, [value], |r| {
            attempt_from_row(r).map(|attempt| Doubt { attempt })
        })
    }

    /// The rows of one run whose order is in doubt (a send that may or may
    /// not have been accepted, that no accepted message settled): what
    /// `track` looks up again the morning after. Row number, order key and
    /// the row's verdict, in row order.
    pub fn doubtful_rows(&self, run: RunId) -> Result<Vec<(u64, String, Verdict)>, LedgerError> {
        let sql = format!(
            "SELECT d.row_no, d.order_key, d.verdict FROM deliveries d
             WHERE d.run_id = ?1 AND d.verdict IN ('send', 'unknown') AND d.order_key IS NOT NULL
               AND EXISTS (SELECT 1 FROM attempts a WHERE a.order_key = d.order_key
                             AND {UNSETTLED})
             ORDER BY d.row_no"
        );
        self.all(&sql, [run], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    }

    /// Settles a doubtful attempt with the wamid found in the API's message
    /// history: the attempt becomes accepted and the message is recorded
    /// (and tracked from then on), in one transaction.
    pub fn resolve_doubt(
        &mut self,
        attempt: AttemptId,
        wamid: &str,
        accepted_at: DateTime<Utc>,
        note: &str,
    ) -> Result<(), LedgerError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM attempts_sent WHERE attempt_id = ?1");
        let found = tx
            .prepare_cached(&sql)?
            .query_row([attempt], attempt_from_row);
        let Some(found) = found.optional()? else {
            return Err(LedgerError::UnknownAttempt(attempt));
        };
        if let Some(done) = found
            .result
            .filter(|c| !matches!(c, SendClass::Ambiguous { .. }))
        {
            return Err(LedgerError::AlreadyAnswered {
                attempt,
                result: done.as_str().into(),
            });
        }
        let at = ts(&accepted_at);
        let detail = found
            .error_detail
            .map_or_else(|| note.to_string(), |d| format!("{d}; {note}"));
        tx.prepare_cached(
            "UPDATE attempts SET result = 'accepted', error_detail = ?2,
                 answered_at = COALESCE(answered_at, ?3), kind = NULL, named_id = NULL,
                 settled = 1
             WHERE attempt_id = ?1",
        )?
        .execute(params![attempt, detail, at])?;
        // The recipient and parameters are read through the attempt, as for any message.
        tx.prepare_cached(
            "INSERT INTO messages (wamid, order_key, run_id, attempt_id, accepted_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![wamid, found.order_key, found.run_id, attempt, at])?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::SendClass;
    use crate::ledger::fixtures::intent;
    use crate::ledger::fixtures::{answer, p, t, with_intent};

    #[test]
    fn a_doubt_resolved_from_history_becomes_an_accepted_message() {
        let (mut l, run, a) = with_intent();
        l.record_answer(a, &answer(SendClass::UNSAID, None, t(30)))
            .unwrap();
        l.resolve_doubt(a, "w-found", t(12), "found in the message history")
            .unwrap();
        assert!(l.doubts("A-1").unwrap().is_empty());
        assert!(l.run_doubts(run).unwrap().is_empty());
        let m = l.accepted_message("A-1").unwrap().unwrap();
        assert_eq!(m.wamid, "w-found");
        assert_eq!(m.accepted_at, t(12));
        let f = &l.report_rows(run).unwrap()[0];
        assert_eq!(
            f.last_result,
            Some(SendClass::Accepted {
                wamid: "w-found".into()
            })
        );
        assert!(
            f.error_detail
                .as_deref()
                .unwrap()
                .contains("message history")
        );
        // Only doubts can be resolved.
        let b = l
            .record_intent(&intent(run, "B-2", 1, "491711234568", &p(), t(40)))
            .unwrap();
        l.record_answer(b, &answer(SendClass::Rejected, Some(400), t(41)))
            .unwrap();
        assert!(matches!(
            l.resolve_doubt(b, "w-x", t(42), "x"),
            Err(LedgerError::AlreadyAnswered { .. })
        ));
        assert_eq!(l.integrity_check().unwrap(), "ok");
    }
}
