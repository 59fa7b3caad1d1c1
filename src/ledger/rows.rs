//! The input rows of a run and their verdicts: what the send stage reads its work from, a
//! window at a time, instead of holding the file in memory.

use rusqlite::params;

use super::{Ledger, LedgerError, RowRecord, RunId, Verdict};
use crate::input::RawFields;

impl Ledger {
    /// Records input rows of a run in one transaction, so every input row has a report row.
    pub fn record_rows(&mut self, run: RunId, rows: &[RowRecord]) -> Result<(), LedgerError> {
        self.atomically(|l| {
            let mut stmt = l.conn.prepare_cached(
                "INSERT INTO deliveries (run_id, row_no, line_no, order_key, partner_name, phone,
                     order_number, product_name, delivery_note, verdict, reason, notes, extra, problem,
                     warnings, partner_id, contact, language)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                     ?18)",
            )?;
            for r in rows {
                stmt.execute(params![
                    run,
                    r.row,
                    r.line,
                    r.order_key,
                    r.partner_name,
                    r.phone,
                    r.order_number,
                    r.product_name,
                    r.delivery_note,
                    r.verdict,
                    r.reason,
                    r.notes,
                    r.extra,
                    r.problem,
                    r.warnings,
                    r.partner_id,
                    r.contact,
                    r.language
                ])?;
            }
            Ok(())
        })
    }

    /// Changes a row's verdict, e.g. `send` → `skipped` when a run stops before reaching it.
    pub fn set_verdict(
        &mut self,
        run: RunId,
        row: u64,
        verdict: Verdict,
        reason: Option<&str>,
        problem: Option<&str>,
    ) -> Result<(), LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE deliveries SET verdict = ?3, reason = ?4, problem = ?5
             WHERE run_id = ?1 AND row_no = ?2",
        )?;
        match stmt.execute(params![run, row, verdict, reason, problem])? {
            0 => Err(LedgerError::UnknownRow { run, row }),
            _ => Ok(()),
        }
    }

    /// The first row of `run` that holds a valid delivery with this order
    /// key, if one was recorded: the row a later one duplicates.
    pub fn first_valid_row(&self, run: RunId, order_key: &str) -> Result<Option<u64>, LedgerError> {
        // INDEXED BY: without statistics SQLite prefers the primary
        // key's run_id prefix, which scans the whole run per row.
        let sql = "SELECT MIN(row_no) FROM deliveries INDEXED BY deliveries_run_order
                   WHERE run_id = ?1 AND order_key = ?2 AND verdict != 'invalid'";
        Ok(self
            .first(sql, params![run, order_key], |r| r.get(0))?
            .flatten())
    }

    /// Up to `limit` rows of `run` to send, after row `after`, in row order:
    /// the send stage reads its work from here a window at a time instead
    /// of holding a million deliveries in memory.
    pub fn send_rows(
        &self,
        run: RunId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<(u64, RawFields)>, LedgerError> {
        self.all(
            "SELECT row_no, partner_name, phone, order_number, product_name, delivery_note,
                    language
             FROM deliveries WHERE run_id = ?1 AND verdict = 'send' AND row_no > ?2
             ORDER BY row_no LIMIT ?3",
            params![run, after, limit],
            |r| Ok((r.get(0)?, fields_at(r, 1)?)),
        )
    }

    /// How many rows of `run` are to be sent, and how many of them go to its busiest
    /// recipient: the pair interval spaces those out, so the progress ETA needs it.
    pub fn send_load(&self, run: RunId) -> Result<(u64, u64), LedgerError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT COALESCE(SUM(n), 0), COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n
                 FROM deliveries WHERE run_id = ?1 AND verdict = 'send' GROUP BY phone)",
            )?
            .query_row([run], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }

    /// Marks the rows of `run` still to send that the run stopped before
    /// sending as skipped, with `reason`: those never attempted in this run,
    /// and those refused for pace (proved not processed) and queued to be
    /// tried again, fewer than `max_attempts` times. One refused for pace
    /// `max_attempts` times was given up on, not skipped: the report says
    /// it was refused. The one place a row becomes `skipped`.
    pub fn skip_unattempted(
        &mut self,
        run: RunId,
        reason: &str,
        max_attempts: u32,
    ) -> Result<usize, LedgerError> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE deliveries SET verdict = 'skipped', reason = ?2
                 WHERE run_id = ?1 AND verdict = 'send'
                   AND NOT EXISTS (SELECT 1 FROM attempts a
                                   WHERE a.run_id = ?1 AND a.order_key = deliveries.order_key
                                     AND (a.result IS NULL OR a.result <> 'retry'))
                   AND (SELECT COUNT(*) FROM attempts a
                        WHERE a.run_id = ?1 AND a.order_key = deliveries.order_key) < ?3",
            )?
            .execute(params![run, reason, max_attempts])?)
    }
}

/// A recorded row's fields, from column `at` on (`partner_name, phone, order_number,
/// product_name, delivery_note, language`), as the send stage revalidates them.
pub(super) fn fields_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<RawFields> {
    Ok(RawFields {
        partner_name: r.get(at)?,
        partner_phone: r.get(at + 1)?,
        order_number: r.get(at + 2)?,
        product_name: r.get(at + 3)?,
        delivery_note: r.get(at + 4)?,
        language: r.get::<_, Option<String>>(at + 5)?.unwrap_or_default(),
        // Not kept: the phone is already the normalised digits.
        ..RawFields::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::fixtures::intent;
    use crate::ledger::fixtures::{meta, row, t};

    #[test]
    fn rows_are_recorded_atomically_and_reported_in_row_order() {
        let mut l = Ledger::open_in_memory().unwrap();
        let run = l.begin_run(&meta("run", t(0))).unwrap();
        let mut invalid = row(2, None, Verdict::Invalid);
        invalid.phone = "not a phone".to_owned();
        invalid.reason = Some("phone: not a number".to_owned());
        l.record_rows(
            run,
            &[
                row(3, Some("A-1"), Verdict::Duplicate),
                invalid,
                row(1, Some("A-1"), Verdict::Send),
            ],
        )
        .unwrap();
        // A batch with a repeated row number fails as a whole.
        let err = l.record_rows(
            run,
            &[
                row(4, Some("B"), Verdict::Send),
                row(1, Some("C"), Verdict::Send),
            ],
        );
        assert!(err.is_err());
        // Rows for a run that does not exist violate the foreign key.
        assert!(
            l.record_rows(999, &[row(1, Some("A"), Verdict::Send)])
                .is_err()
        );

        let facts = l.report_rows(run).unwrap();
        assert_eq!(facts.iter().map(|f| f.row).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(facts[0].line, 2);
        assert_eq!(facts[0].verdict, Verdict::Send);
        assert_eq!(facts[1].verdict, Verdict::Invalid);
        assert_eq!(facts[1].phone, "not a phone");
        assert_eq!(facts[1].reason.as_deref(), Some("phone: not a number"));
        let key: Option<String> = l
            .conn
            .query_row(
                "SELECT order_key FROM deliveries WHERE run_id = ?1 AND row_no = 2",
                [run],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(key, None);
        assert_eq!(facts[2].verdict, Verdict::Duplicate);
        assert!(
            facts
                .iter()
                .all(|f| f.attempts == 0 && f.wamid.is_none() && !f.unanswered)
        );

        l.set_verdict(run, 1, Verdict::Skipped, Some("stopped"), None)
            .unwrap();
        let facts = l.report_rows(run).unwrap();
        assert_eq!(facts[0].verdict, Verdict::Skipped);
        assert_eq!(facts[0].reason.as_deref(), Some("stopped"));
        assert!(matches!(
            l.set_verdict(run, 42, Verdict::Skipped, None, None),
            Err(LedgerError::UnknownRow { row: 42, .. })
        ));
    }

    #[test]
    fn the_first_valid_row_of_an_order_key_is_found_by_index() {
        let mut l = Ledger::open_in_memory().unwrap();
        let run = l.begin_run(&meta("run", t(0))).unwrap();
        l.record_rows(
            run,
            &[
                row(1, Some("A-1"), Verdict::Invalid),
                row(2, Some("A-1"), Verdict::Send),
                row(3, Some("A-1"), Verdict::Duplicate),
            ],
        )
        .unwrap();
        assert_eq!(l.first_valid_row(run, "A-1").unwrap(), Some(2));
        assert_eq!(l.first_valid_row(run, "B-2").unwrap(), None);
        let other = l.begin_run(&meta("run", t(1))).unwrap();
        assert_eq!(l.first_valid_row(other, "A-1").unwrap(), None);
        let plan: String = l
            .conn
            .query_row(
                "EXPLAIN QUERY PLAN SELECT MIN(row_no) FROM deliveries INDEXED BY deliveries_run_order
                 WHERE run_id = 1 AND order_key = 'A-1' AND verdict != 'invalid'",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("deliveries_run_order"), "{plan}");
    }

    /// A stopped run's rows become `skipped` in one place: never attempted,
    /// or only refused for pace; never a row whose send may have been
    /// accepted, nor one not to be sent.
    #[test]
    fn a_stopped_run_skips_only_what_it_provably_did_not_send() {
        use crate::ledger::fixtures::{answer, p};
        use crate::ledger::{RetryKind, SendClass};
        let mut l = Ledger::open_in_memory().unwrap();
        let run = l.begin_run(&meta("run", t(0))).unwrap();
        let keys = ["NEVER", "PACED", "DOUBT", "ACCEPTED", "SILENT", "GAVE_UP"];
        let mut rows: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| row(i as u64 + 1, Some(k), Verdict::Send))
            .collect();
        rows.push(row(7, Some("BAD"), Verdict::Invalid));
        l.record_rows(run, &rows).unwrap();
        // Six to send, all to the same recipient.
        assert_eq!(l.send_load(run).unwrap(), (6, 6));
        let answered = [
            ("PACED", Some(SendClass::Retry(RetryKind::TooManyRequests))),
            ("DOUBT", Some(SendClass::UNSAID)),
            (
                "ACCEPTED",
                Some(SendClass::Accepted {
                    wamid: "wamid.A".into(),
                }),
            ),
            // An intent without an answer: may have been accepted.
            ("SILENT", None),
        ];
        // Refused for pace as often as the run tries (2): given up on.
        let paced = || Some(SendClass::Retry(RetryKind::TooManyRequests));
        let gave_up = [(1, "GAVE_UP", paced()), (2, "GAVE_UP", paced())];
        let once = answered.into_iter().map(|(key, class)| (1, key, class));
        for (attempt_no, key, class) in once.chain(gave_up) {
            let id = l
                .record_intent(&intent(run, key, attempt_no, "491711234567", &p(), t(1)))
                .unwrap();
            if let Some(class) = class {
                l.record_answer(id, &answer(class, None, t(2))).unwrap();
            }
        }
        assert_eq!(l.skip_unattempted(run, "not sent: stopped", 2).unwrap(), 2);
        let verdicts: Vec<_> = l
            .report_rows(run)
            .unwrap()
            .into_iter()
            .map(|f| f.verdict)
            .collect();
        use Verdict::*;
        assert_eq!(
            verdicts,
            [Skipped, Skipped, Send, Send, Send, Send, Invalid]
        );
    }
}
