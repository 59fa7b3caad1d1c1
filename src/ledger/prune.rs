//! Pruning: a ledger grows with every night, but cross-night dedup needs only a little of an old
//! night, so old runs are cut down to that and the rest deleted.
//!
//! Kept, whatever its age: the newest message of every order key (what
//! [`Ledger::accepted_message`] answers, so an order sent before is never sent again), its attempt
//! (the message reads its recipient and parameters there), its status history (the report and
//! `rerun` read whether it failed), every unsettled doubt (an unanswered or ambiguous attempt of
//! an order with no message: the row stays `unknown` until a person or the history decides) and
//! the runs these belong to. Deleted: the input rows of old runs, their other messages, attempts
//! and statuses, and old runs left with nothing.

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, TransactionBehavior};

use super::codec::ts;
use super::doubts::UNSETTLED;
use super::size::number;
use super::{Ledger, LedgerError, RunId};

/// What a prune deleted (or, dry, would delete), and what old data it kept for dedup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Runs older than the cut.
    pub old_runs: u64,
    /// Old runs deleted whole (nothing of them was needed).
    pub runs: u64,
    /// Input rows (`deliveries`) deleted.
    pub rows: u64,
    /// Attempts deleted.
    pub attempts: u64,
    /// Messages deleted.
    pub messages: u64,
    /// Status observations deleted.
    pub statuses: u64,
    /// Messages of old runs kept: the newest of their order key.
    pub kept_messages: u64,
    /// Attempts of old runs kept: a kept message's, or an unsettled doubt.
    pub kept_attempts: u64,
}

/// The newest message of `m`'s order key, as [`Ledger::accepted_message`] finds it.
const NOT_NEWEST: &str =
    "m.rowid <> (SELECT m2.rowid FROM messages m2 WHERE m2.order_key = m.order_key
                 ORDER BY m2.accepted_at DESC, m2.rowid DESC LIMIT 1)";

/// Cuts one old run down to what dedup needs; adds what it deleted and kept to `n`.
fn prune_run(tx: &Transaction<'_>, run: RunId, n: &mut Pruned) -> Result<(), LedgerError> {
    // How many rows `sql`, run on this run (`?1`), changed.
    let changed = |sql: &str| tx.execute(sql, [run]).map(|k| k as u64);
    n.statuses += changed(&format!(
        "DELETE FROM status_history WHERE message_id IN
             (SELECT m.message_id FROM messages m WHERE m.run_id = ?1 AND {NOT_NEWEST})"
    ))?;
    n.messages += changed(&format!(
        "DELETE FROM messages WHERE rowid IN
             (SELECT m.rowid FROM messages m WHERE m.run_id = ?1 AND {NOT_NEWEST})"
    ))?;
    // An attempt needed after the prune: a remaining message's, or an unsettled doubt.
    n.attempts += changed(&format!(
        "DELETE FROM attempts WHERE attempt_id IN
             (SELECT a.attempt_id FROM attempts a WHERE a.run_id = ?1 AND NOT
              (EXISTS (SELECT 1 FROM messages m WHERE m.attempt_id = a.attempt_id)
               OR ({UNSETTLED})))"
    ))?;
    // A kept attempt that names its input row takes a copy of the row's recipient,
    // parameters and language before the row goes.
    changed(
        "UPDATE attempts SET
             phone = (SELECT d.phone FROM deliveries d
                      WHERE d.run_id = attempts.run_id AND d.row_no = attempts.row_no),
             params = (SELECT json_array(d.partner_name, d.order_number, d.product_name,
                                         d.delivery_note)
                       FROM deliveries d
                       WHERE d.run_id = attempts.run_id AND d.row_no = attempts.row_no),
             language = (SELECT d.language FROM deliveries d
                         WHERE d.run_id = attempts.run_id AND d.row_no = attempts.row_no),
             row_no = NULL
         WHERE run_id = ?1 AND row_no IS NOT NULL",
    )?;
    n.rows += changed("DELETE FROM deliveries WHERE run_id = ?1")?;
    n.kept_messages += number(tx, "SELECT COUNT(*) FROM messages WHERE run_id = ?1", [run])?;
    n.kept_attempts += number(tx, "SELECT COUNT(*) FROM attempts WHERE run_id = ?1", [run])?;
    let deleted = changed(
        "DELETE FROM runs WHERE run_id = ?1
           AND NOT EXISTS (SELECT 1 FROM messages WHERE run_id = ?1)
           AND NOT EXISTS (SELECT 1 FROM attempts WHERE run_id = ?1)",
    );
    match deleted {
        Ok(k) => n.runs += k,
        // A table this module does not know still names the run: keep it.
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation => {}
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

impl Ledger {
    /// Deletes what runs started before `cut` hold beyond what cross-night dedup needs (see the
    /// module's doc); `dry_run` counts the same and deletes nothing.
    ///
    /// One short write transaction per run, so a run writing the ledger at the same time waits
    /// for one old run's deletes at most, well inside its busy timeout, never for the whole prune.
    pub fn prune(&mut self, cut: DateTime<Utc>, dry_run: bool) -> Result<Pruned, LedgerError> {
        let old: Vec<RunId> = self.all(
            "SELECT run_id FROM runs WHERE started_at < ?1 ORDER BY run_id",
            [ts(&cut)],
            |r| r.get(0),
        )?;
        let mut n = Pruned {
            old_runs: old.len() as u64,
            ..Pruned::default()
        };
        for run in old {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            prune_run(&tx, run, &mut n)?;
            if dry_run {
                tx.rollback()?;
            } else {
                tx.commit()?;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::fixtures::intent;
    use crate::ledger::fixtures::{accepted, answer, meta, p, row, st, t};
    use crate::ledger::{SendClass, Verdict};

    /// Sends `key` in `run` and returns its attempt.
    fn send(l: &mut Ledger, run: RunId, key: &str, wamid: &str, at: i64) {
        let a = l
            .record_intent(&intent(run, key, 1, "491711234567", &p(), t(at)))
            .unwrap();
        l.record_answer(a, &accepted(wamid, t(at + 1))).unwrap();
        l.record_statuses(&[st(wamid, "sent", at + 2), st(wamid, "read", at + 3)])
            .unwrap();
    }

    fn n(l: &Ledger, sql: &str) -> i64 {
        l.conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Two old nights and one new: the old ones keep the newest message of each order, its
    /// attempt and history, and the unsettled doubt; everything else of them goes.
    fn nights() -> (Ledger, RunId, RunId, RunId) {
        let mut l = Ledger::open_in_memory().unwrap();
        let old1 = l.begin_run(&meta("run", t(0))).unwrap();
        l.record_rows(
            old1,
            &[
                row(1, Some("A-1"), Verdict::Send),
                row(2, Some("B-2"), Verdict::Send),
            ],
        )
        .unwrap();
        send(&mut l, old1, "A-1", "w1", 10);
        send(&mut l, old1, "B-2", "w2", 20);
        // C-3 died with the request on the wire; D-4 was refused.
        l.record_intent(&intent(old1, "C-3", 1, "491711234569", &p(), t(30)))
            .unwrap();
        let d = l
            .record_intent(&intent(old1, "D-4", 1, "491711234560", &p(), t(40)))
            .unwrap();
        l.record_answer(d, &answer(SendClass::Rejected, Some(400), t(41)))
            .unwrap();
        let old2 = l.begin_run(&meta("run", t(1_000))).unwrap();
        l.record_rows(old2, &[row(1, Some("A-1"), Verdict::Send)])
            .unwrap();
        send(&mut l, old2, "A-1", "w3", 1_010);
        let new = l.begin_run(&meta("run", t(100_000))).unwrap();
        l.record_rows(new, &[row(1, Some("E-5"), Verdict::Send)])
            .unwrap();
        send(&mut l, new, "E-5", "w5", 100_010);
        (l, old1, old2, new)
    }

    #[test]
    fn prune_keeps_what_dedup_needs_and_deletes_the_rest() {
        let (mut l, old1, old2, new) = nights();
        let before_a1 = l.accepted_message("A-1").unwrap();
        let before_b2 = l.accepted_message("B-2").unwrap();
        let dry = l.prune(t(50_000), true).unwrap();
        assert_eq!(
            n(&l, "SELECT COUNT(*) FROM messages"),
            4,
            "a dry run deletes nothing"
        );
        let done = l.prune(t(50_000), false).unwrap();
        assert_eq!(dry, done);
        assert_eq!(
            done,
            Pruned {
                old_runs: 2,
                runs: 0,
                rows: 3,
                attempts: 2, // w1's (A-1 was sent again) and D-4's refusal
                messages: 1,
                statuses: 2,
                kept_messages: 2, // B-2's w2, A-1's w3
                kept_attempts: 3, // w2's, C-3's doubt, w3's
            }
        );
        assert!(l.message("w1").unwrap().is_none());
        assert_eq!(l.accepted_message("A-1").unwrap(), before_a1);
        assert_eq!(l.accepted_message("B-2").unwrap(), before_b2);
        assert_eq!(l.accepted_message("B-2").unwrap().unwrap().params, p());
        assert_eq!(l.doubts("C-3").unwrap().len(), 1);
        assert_eq!(
            l.report_rows(new).unwrap().len(),
            1,
            "the new night is whole"
        );
        assert!(l.report_rows(old1).unwrap().is_empty());
        assert!(l.report_rows(old2).unwrap().is_empty());
        assert_eq!(l.integrity_check().unwrap(), "ok");
        // Again: nothing more to delete.
        let again = l.prune(t(50_000), false).unwrap();
        assert_eq!((again.rows, again.messages, again.attempts), (0, 0, 0));
    }

    #[test]
    fn an_old_run_left_with_nothing_is_deleted_and_a_settled_doubt_goes() {
        let (mut l, old1, _old2, _new) = nights();
        // C-3's doubt settled by a later night: its message proves the send.
        let later = l.begin_run(&meta("run", t(60_000))).unwrap();
        send(&mut l, later, "C-3", "w4", 60_010);
        // A night that only found every order sent before.
        let reused = l.begin_run(&meta("run", t(2_000))).unwrap();
        l.record_rows(reused, &[row(1, Some("A-1"), Verdict::Reused)])
            .unwrap();
        let done = l.prune(t(50_000), false).unwrap();
        assert_eq!(done.old_runs, 3);
        assert_eq!(done.runs, 1);
        assert!(l.doubts("C-3").unwrap().is_empty());
        assert_eq!(
            n(
                &l,
                &format!("SELECT COUNT(*) FROM attempts WHERE run_id = {old1}")
            ),
            1,
            "only w2's attempt is left of the first night"
        );
        assert_eq!(n(&l, "SELECT COUNT(*) FROM runs"), 4);
    }
}
