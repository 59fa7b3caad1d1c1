//! Transactions: group commits that share one fsync across many writes, and `atomically` for a
//! method's own, so the durability rules live in one place.

use super::{Ledger, LedgerError};

impl Ledger {
    /// Opens a group: the writes that follow, up to [`Ledger::commit_group`], share one
    /// transaction and so one fsync. Only methods that nest (a single statement, or a savepoint:
    /// `record_intent`, `record_answer`, `record_poll`, `record_ack`) may run inside it.
    /// Nothing in a group is durable before `commit_group` returns, so no caller may act on
    /// one of its writes (send a request after an intent) before then.
    pub fn begin_group(&mut self) -> Result<(), LedgerError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    /// Commits the group opened by [`Ledger::begin_group`]. If the commit fails, the group is
    /// rolled back: none of its writes happened.
    pub fn commit_group(&mut self) -> Result<(), LedgerError> {
        if self.conn.is_autocommit() {
            // A statement's error already rolled the group back, and with it every write made
            // before that error: report it, so no caller believes a write is durable.
            let rolled_back = "the group's transaction was rolled back".into();
            return Err(LedgerError::sqlite(
                rusqlite::ffi::SQLITE_ABORT,
                rolled_back,
            ));
        }
        let committed = self.conn.execute_batch("COMMIT");
        if committed.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        Ok(committed?)
    }

    /// Runs `f` in the open group's transaction, or in a transaction of its own (committed if
    /// `f` succeeds, rolled back if not) outside a group. Inside a group `f`'s earlier
    /// statements stay if it fails part-way, so the callers order their statements to leave
    /// nothing wrong behind. Also batches reads: a batch of lookups in one transaction takes
    /// the WAL read lock once instead of once per statement.
    pub fn atomically<T>(
        &mut self,
        f: impl FnOnce(&mut Ledger) -> Result<T, LedgerError>,
    ) -> Result<T, LedgerError> {
        if !self.conn.is_autocommit() {
            return f(self);
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let out = f(self).and_then(|v| Ok(self.conn.execute_batch("COMMIT").map(|()| v)?));
        if out.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Verdict;
    use crate::ledger::fixtures::intent;
    use crate::ledger::fixtures::{accepted, meta, p, row, t};

    #[test]
    fn a_group_commits_its_writes_together_and_a_failed_one_alone_is_undone() {
        let mut l = Ledger::open_in_memory().unwrap();
        let run = l.begin_run(&meta("run", t(0))).unwrap();
        l.record_rows(
            run,
            &[
                row(1, Some("A-1"), Verdict::Send),
                row(2, Some("A-2"), Verdict::Send),
            ],
        )
        .unwrap();
        l.begin_group().unwrap();
        let a1 = l
            .record_intent(&intent(run, "A-1", 1, "491711234567", &p(), t(10)))
            .unwrap();
        let a2 = l
            .record_intent(&intent(run, "A-2", 1, "491711234567", &p(), t(11)))
            .unwrap();
        l.record_answer(a1, &accepted("w1", t(20))).unwrap();
        // A refused write inside the group (its savepoint is rolled back)
        // does not take the others with it.
        assert!(matches!(
            l.record_answer(a1, &accepted("w9", t(21))),
            Err(LedgerError::AlreadyAnswered { .. })
        ));
        assert!(!l.conn.is_autocommit(), "still inside the group");
        l.commit_group().unwrap();
        assert!(l.conn.is_autocommit());
        assert!(l.message("w1").unwrap().is_some());
        assert!(l.message("w9").unwrap().is_none());
        // Outside a group the nesting methods commit on their own.
        l.record_answer(a2, &accepted("w2", t(22))).unwrap();
        assert!(l.conn.is_autocommit());
        assert!(l.message("w2").unwrap().is_some());
        // A group whose transaction is gone reports it.
        l.begin_group().unwrap();
        l.conn.execute_batch("ROLLBACK").unwrap();
        assert!(l.commit_group().is_err());
    }
}
