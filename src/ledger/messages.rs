//! Accepted messages and the statuses reported for them: what `track` polls, and what decides
//! whether an order was already sent.

use rusqlite::Row;

use super::codec::{get_opt_ts, get_params, get_ts};
use super::status::merge_statuses;
use super::{Ledger, LedgerError, MessageInfo, StatusUpdate};

/// A message's recipient and parameters are its attempt's (schema version 5 stores them once, in
/// `attempts`); a message's own copy, where one is left, wins.
pub(super) const MESSAGE_COLUMNS: &str = "m.wamid, m.order_key, m.run_id, m.attempt_id, \
     COALESCE(m.phone, a.phone), COALESCE(m.params, a.params), m.accepted_at, m.status, \
     m.status_at, m.error_code, m.error_title, m.final, m.polls";

/// The tables [`MESSAGE_COLUMNS`] reads.
pub(super) const MESSAGE_FROM: &str =
    "messages m LEFT JOIN attempts_sent a ON a.attempt_id = m.attempt_id";

pub(super) fn message_from_row(row: &Row<'_>) -> rusqlite::Result<MessageInfo> {
    Ok(MessageInfo {
        wamid: row.get(0)?,
        order_key: row.get(1)?,
        run_id: row.get(2)?,
        attempt_id: row.get(3)?,
        phone: row.get(4)?,
        params: get_params(row, 5)?,
        accepted_at: get_ts(row, 6)?,
        status: row.get(7)?,
        status_at: get_opt_ts(row, 8)?,
        error_code: row.get(9)?,
        error_title: row.get(10)?,
        is_final: row.get(11)?,
        polls: row.get(12)?,
    })
}

impl Ledger {
    /// Records one `hookInfo` answer: counts the poll (so `track` can resume its schedule and
    /// the report can say how often a message was asked about) and merges the statuses it
    /// listed. Returns how many changed the merged status; an unknown wamid is ignored.
    ///
    /// History gets one row per distinct (wamid, status) pair (the first observation), kept
    /// verbatim even when the merge ignores it.
    ///
    /// The hot path of tracking: one read finds the message's status, one statement per hook
    /// adds history, and one write counts the poll along with any new merged status.
    pub fn record_poll(
        &mut self,
        wamid: &str,
        updates: &[StatusUpdate],
    ) -> Result<usize, LedgerError> {
        self.atomically(|l| Ok(merge_statuses(l, wamid, updates, 1)?.map_or(0, |(n, _)| n)))
    }

    /// Messages without a final status, oldest first: what `track` polls.
    pub fn open_messages(&self) -> Result<Vec<MessageInfo>, LedgerError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM}
             WHERE m.final = 0 ORDER BY m.accepted_at, m.wamid"
        );
        self.all(&sql, [], message_from_row)
    }

    /// The latest accepted message for an order key across all runs, if any: decides whether a
    /// row was already sent (resume after a crash, or the same order in a later night's file).
    pub fn accepted_message(&self, order_key: &str) -> Result<Option<MessageInfo>, LedgerError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.order_key = ?1
             ORDER BY m.accepted_at DESC, m.rowid DESC LIMIT 1"
        );
        self.first(&sql, [order_key], message_from_row)
    }

    /// One message by wamid: the one a rerun's row names when its order has none.
    pub fn message(&self, wamid: &str) -> Result<Option<MessageInfo>, LedgerError> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.wamid = ?1");
        self.first(&sql, [wamid], message_from_row)
    }
}

#[cfg(test)]
mod tests {
    use crate::ledger::fixtures::intent;
    use crate::ledger::fixtures::{accepted, history, p, st, t, with_message};

    #[test]
    fn statuses_merge_monotonically() {
        let (mut l, _run) = with_message();
        // sent -> read -> delivered (late) stays read.
        let n = l
            .record_statuses(&[
                st("w1", "sent", 100),
                st("w1", "read", 300),
                st("w1", "delivered", 200),
            ])
            .unwrap();
        assert_eq!(n, 2);
        let m = l.message("w1").unwrap().unwrap();
        assert_eq!(m.status.as_deref(), Some("read"));
        assert_eq!(m.status_at, Some(t(300)));
        assert!(m.is_final);
        assert_eq!(history(&l, "w1"), ["sent", "read", "delivered"]);

        // Duplicates change nothing and are not appended again.
        assert_eq!(
            l.record_statuses(&[st("w1", "sent", 100), st("w1", "read", 300)])
                .unwrap(),
            0
        );
        assert_eq!(history(&l, "w1").len(), 3);

        // A late failure does not hide the proof of delivery (B2); it stays
        // in the history, where the report finds the conflict.
        let mut failed = st("w1", "failed", 400);
        failed.error_code = Some(131_047);
        failed.error_title = Some("Re-engagement message".to_owned());
        assert_eq!(l.record_statuses(&[failed.clone()]).unwrap(), 0);
        let m = l.message("w1").unwrap().unwrap();
        assert_eq!(m.status.as_deref(), Some("read"));
        assert_eq!(m.error_code, None);
        assert_eq!(history(&l, "w1"), ["sent", "read", "delivered", "failed"]);

        // On a message only sent, a failure replaces it and keeps its error;
        // a proof of delivery after it replaces it in turn.
        let (mut l, run) = with_message();
        let a = l
            .record_intent(&intent(run, "B-2", 1, "491711234568", &p(), t(30)))
            .unwrap();
        l.record_answer(a, &accepted("w2", t(40))).unwrap();
        failed.wamid = "w2".into();
        assert_eq!(
            l.record_statuses(&[st("w2", "sent", 100), failed]).unwrap(),
            2
        );
        let m = l.message("w2").unwrap().unwrap();
        assert_eq!(m.status.as_deref(), Some("failed"));
        assert_eq!(m.error_code, Some(131_047));
        assert_eq!(m.error_title.as_deref(), Some("Re-engagement message"));
        assert!(m.is_final);
        assert_eq!(
            l.record_statuses(&[st("w2", "undelivered", 500)]).unwrap(),
            0
        );
        assert_eq!(l.record_statuses(&[st("w2", "read", 600)]).unwrap(), 1);
        let m = l.message("w2").unwrap().unwrap();
        assert_eq!(m.status.as_deref(), Some("read"));
        assert_eq!((m.error_code, m.error_title), (None, None));
        assert!(m.is_final);

        // Unknown wamids are skipped, not an error.
        assert_eq!(l.record_statuses(&[st("nope", "read", 1)]).unwrap(), 0);
        assert!(history(&l, "nope").is_empty());
    }

    #[test]
    fn a_poll_counts_itself_and_merges_its_hooks_in_one_call() {
        let (mut l, _run) = with_message();
        let changed = l
            .record_poll("w1", &[st("w1", "sent", 100), st("w1", "delivered", 200)])
            .unwrap();
        assert_eq!(changed, 2);
        let m = l.message("w1").unwrap().unwrap();
        assert_eq!(m.status.as_deref(), Some("delivered"));
        assert_eq!(m.status_at, Some(t(200)));
        assert!(m.is_final);
        assert_eq!(m.polls, 1);
        assert_eq!(history(&l, "w1"), ["sent", "delivered"]);
        // The same hooks again: counted as a poll, nothing else changes.
        let changed = l
            .record_poll("w1", &[st("w1", "sent", 100), st("w1", "delivered", 200)])
            .unwrap();
        assert_eq!(changed, 0);
        assert_eq!(l.message("w1").unwrap().unwrap().polls, 2);
        assert_eq!(history(&l, "w1").len(), 2);
        // A wamid the ledger does not know is ignored.
        assert_eq!(l.record_poll("nope", &[st("nope", "read", 1)]).unwrap(), 0);
        assert!(history(&l, "nope").is_empty());
    }

    #[test]
    fn unknown_status_kept_verbatim() {
        let (mut l, run) = with_message();
        let a = l
            .record_intent(&intent(run, "B-2", 1, "491711234568", &p(), t(30)))
            .unwrap();
        l.record_answer(a, &accepted("w2", t(40))).unwrap();
        // On a message without status, an unknown value is taken as the merged status.
        assert_eq!(l.record_statuses(&[st("w1", "deleted", 100)]).unwrap(), 1);
        let m = l.message("w1").unwrap().unwrap();
        assert_eq!(m.status.as_deref(), Some("deleted"));
        assert!(!m.is_final);
        // After a known status it is only kept in history.
        assert_eq!(
            l.record_statuses(&[st("w2", "sent", 100), st("w2", "deleted", 110)])
                .unwrap(),
            1
        );
        assert_eq!(
            l.message("w2").unwrap().unwrap().status.as_deref(),
            Some("sent")
        );
        assert_eq!(history(&l, "w2"), ["sent", "deleted"]);
        // A known status replaces the unknown one.
        assert_eq!(l.record_statuses(&[st("w1", "delivered", 200)]).unwrap(), 1);
        assert_eq!(history(&l, "w1"), ["deleted", "delivered"]);
    }

    #[test]
    fn open_messages_excludes_finals_and_counts_polls() {
        let (mut l, run) = with_message();
        let a = l
            .record_intent(&intent(run, "B-2", 1, "491711234568", &p(), t(30)))
            .unwrap();
        l.record_answer(a, &accepted("w2", t(40))).unwrap();
        let a = l
            .record_intent(&intent(run, "C-3", 1, "491711234569", &p(), t(50)))
            .unwrap();
        l.record_answer(a, &accepted("w3", t(60))).unwrap();
        l.record_statuses(&[
            st("w1", "delivered", 100),
            st("w2", "sent", 100),
            st("w3", "failed", 100),
        ])
        .unwrap();
        for wamid in ["w2", "w2", "w2", "gone"] {
            l.record_poll(wamid, &[]).unwrap();
        }

        let open = l.open_messages().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].wamid, "w2");
        assert_eq!(open[0].order_key, "B-2");
        assert_eq!(open[0].run_id, run);
        assert_eq!(open[0].phone.as_deref(), Some("491711234568"));
        assert_eq!(open[0].accepted_at, t(40));
        assert_eq!(open[0].status.as_deref(), Some("sent"));
        assert_eq!(open[0].polls, 3);
    }
}
