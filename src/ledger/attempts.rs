//! Send attempts: the intent committed before a request leaves and the answer written once
//! after, so a crash in between is seen as a doubt and never resent silently.

use rusqlite::{Row, params};

use super::answer::{class_at, columns_of};
use super::codec::{encode_params, get_opt_ts, get_params, get_ts, ts};
use super::{Answer, AttemptId, AttemptInfo, Intent, Ledger, LedgerError, RunId};

/// An attempt's columns (of the view `attempts_sent`, which fills in what the attempt shares
/// with its row and its message), as [`attempt_from_row`] reads them.
pub(super) const ATTEMPT_COLUMNS: &str = "attempt_id, run_id, order_key, attempt_no, phone,
    params, intent_at, answered_at, result, kind, named_id, wamid, http_status, error_code,
    error_detail, language";

pub(super) fn attempt_from_row(r: &Row<'_>) -> rusqlite::Result<AttemptInfo> {
    Ok(AttemptInfo {
        attempt_id: r.get(0)?,
        run_id: r.get(1)?,
        order_key: r.get(2)?,
        attempt_no: r.get(3)?,
        phone: r.get(4)?,
        params: get_params(r, 5)?,
        intent_at: get_ts(r, 6)?,
        answered_at: get_opt_ts(r, 7)?,
        result: class_at(r, 8)?,
        wamid: r.get(11)?,
        http_status: r.get(12)?,
        error_code: r.get(13)?,
        error_detail: r.get(14)?,
        language: r.get(15)?,
    })
}

/// Why an answer to `attempt` was refused: no such attempt, answered already, or (given
/// `wamid`) a wamid another message already has.
fn answer_refused(
    l: &Ledger,
    attempt: AttemptId,
    wamid: Option<&str>,
) -> Result<LedgerError, LedgerError> {
    let sql = "SELECT result FROM attempts WHERE attempt_id = ?1";
    let result: Option<Option<String>> = l.first(sql, [attempt], |r| r.get(0))?;
    Ok(match (result, wamid) {
        (None, _) => LedgerError::UnknownAttempt(attempt),
        (Some(Some(result)), _) => LedgerError::AlreadyAnswered { attempt, result },
        (Some(None), Some(wamid)) => LedgerError::DuplicateWamid {
            wamid: wamid.to_owned(),
            existing: l
                .first(
                    "SELECT attempt_id FROM messages WHERE wamid = ?1",
                    [wamid],
                    |r| r.get(0),
                )?
                .flatten(),
        },
        (Some(None), None) => LedgerError::UnknownAttempt(attempt),
    })
}

impl Ledger {
    /// Commits the intent to send, before the HTTP request leaves; returns the attempt id that
    /// the answer must be recorded against. A crash after this leaves an unanswered intent.
    ///
    /// When the run's input row for `order_key` holds exactly this recipient, these
    /// parameters and this `language` (as it does unless cleaning changed a field or the row
    /// moved to a partner's next contact), the attempt names that row instead of copying them: the copy was an eighth of the ledger (BENCHMARKS.md, "Ledger
    /// size"). The view `attempts_sent` reads them back either way.
    ///
    /// A fallback's intent (`contact`) moves its row to the partner's next contact in the same
    /// commit ([`Ledger::switch_contact`]).
    pub fn record_intent(&mut self, i: &Intent) -> Result<AttemptId, LedgerError> {
        if let Some(c) = &i.contact {
            self.switch_contact(i.run, c)?;
        }
        let language = i.language.as_deref();
        let row_no = self.row_sending(i.run, &i.order_key, &i.phone, &i.params, language)?;
        let (phone, params_json, language) = match row_no {
            Some(_) => (None, None, None),
            None => (Some(&i.phone), Some(encode_params(&i.params)?), language),
        };
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO attempts (run_id, order_key, attempt_no, row_no, phone, params, intent_at,
                                   language)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        stmt.execute(params![
            i.run,
            i.order_key,
            i.attempt_no,
            row_no,
            phone,
            params_json,
            ts(&i.at),
            language
        ])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The first input row of `run` for `order_key` whose phone, four fields and language are
    /// `phone`, `params` and `language`, if one is.
    fn row_sending(
        &self,
        run: RunId,
        order_key: &str,
        phone: &str,
        params: &[String],
        language: Option<&str>,
    ) -> Result<Option<i64>, LedgerError> {
        // A row holds exactly four parameters.
        let [name, number, product, note] = params else {
            return Ok(None);
        };
        self.first(
            // INDEXED BY: without statistics SQLite prefers the primary key's run_id prefix
            // for the row order, which reads the whole run for every intent.
            "SELECT row_no FROM deliveries INDEXED BY deliveries_run_order
             WHERE run_id = ?1 AND order_key = ?2 AND phone = ?3 AND partner_name = ?4
               AND order_number = ?5 AND product_name = ?6 AND delivery_note = ?7
               AND language IS ?8
             ORDER BY row_no LIMIT 1",
            params![run, order_key, phone, name, number, product, note, language],
            |r| r.get(0),
        )
    }

    /// Records the answer to an attempt; an accepted answer also creates its message (same
    /// transaction), so a wamid is never known without its message row. Answers are written
    /// once: a second answer for the same attempt is an error.
    ///
    /// The message row takes its recipient and parameters from the attempt when read, not a
    /// copy: the copy was a tenth of the ledger (BENCHMARKS.md, "Ledger size").
    pub fn record_answer(
        &mut self,
        attempt: AttemptId,
        answer: &Answer,
    ) -> Result<(), LedgerError> {
        let (kind, named_id, wamid) = columns_of(&answer.result);
        let at = ts(&answer.at);
        // No savepoint: inside a group its statement journal copied every
        // page the answer touched (a third of this method's time). Instead
        // the message row is written first, from the attempt and only while
        // the attempt is unanswered, and the attempt is answered second; if
        // that fails, the row is deleted again, so a failure at either step
        // leaves no half-written answer behind.
        self.atomically(|l| {
            let conn = &l.conn;
            if let Some(wamid) = wamid {
                let inserted = conn
                    .prepare_cached(
                        "INSERT INTO messages (wamid, order_key, run_id, attempt_id, accepted_at)
                         SELECT ?1, order_key, run_id, attempt_id, ?3
                         FROM attempts WHERE attempt_id = ?2 AND result IS NULL
                         ON CONFLICT (wamid) DO NOTHING",
                    )?
                    .execute(params![wamid, attempt, at])?;
                if inserted == 0 {
                    return Err(answer_refused(l, attempt, Some(wamid))?);
                }
            }
            let answered = conn
                .prepare_cached(
                    "UPDATE attempts SET answered_at = ?2, result = ?3, http_status = ?4,
                         error_code = ?5, error_detail = ?6, kind = ?7, named_id = ?8
                     WHERE attempt_id = ?1 AND result IS NULL",
                )
                .and_then(|mut update| {
                    update.execute(params![
                        attempt,
                        at,
                        answer.result.as_str(),
                        answer.http_status,
                        answer.error_code,
                        answer.error_detail,
                        kind,
                        named_id
                    ])
                });
            match answered {
                Ok(1..) => Ok(()),
                outcome => {
                    // The message row went in but its attempt was not
                    // answered (an I/O or memory error on this statement
                    // alone): take the row out again, so the group does not
                    // commit half an answer.
                    if let Some(wamid) = wamid {
                        conn.prepare_cached(
                            "DELETE FROM messages WHERE wamid = ?1 AND attempt_id = ?2",
                        )?
                        .execute(params![wamid, attempt])?;
                    }
                    match outcome {
                        Err(e) => Err(e.into()),
                        Ok(_) => Err(answer_refused(l, attempt, None)?),
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::fixtures::intent;
    use crate::ledger::fixtures::{accepted, answer, p, t, with_intent, with_message};
    use crate::ledger::{RetryKind, SendClass};

    #[test]
    fn accepted_answer_creates_message_and_report_facts() {
        let (l, run) = with_message();
        let m = l.message("w1").unwrap().expect("message row");
        assert_eq!(m.order_key, "A-1");
        assert_eq!(m.run_id, run);
        assert_eq!(m.phone.as_deref(), Some("491711234567"));
        assert_eq!(m.params, p());
        assert_eq!(m.accepted_at, t(20));
        assert_eq!(m.status, None);
        assert!(!m.is_final);

        let f = &l.report_rows(run).unwrap()[0];
        assert_eq!(f.attempts, 1);
        assert_eq!(
            f.last_result,
            Some(SendClass::Accepted { wamid: "w1".into() })
        );
        assert!(!f.unanswered);
        assert_eq!(f.http_status, Some(200));
        let first = &l.order_history("A-1").unwrap().attempts[0];
        assert_eq!(first.intent_at, t(10));
        assert_eq!(f.wamid.as_deref(), Some("w1"));
        assert_eq!(f.message_run_id, Some(run));
        assert_eq!(f.accepted_at, Some(t(20)));
        assert!(l.doubts("A-1").unwrap().is_empty());
    }

    #[test]
    fn intent_without_answer_is_unanswered() {
        let (mut l, run, a) = with_intent();

        let f = &l.report_rows(run).unwrap()[0];
        assert_eq!(f.attempts, 1);
        assert!(f.unanswered);
        assert_eq!(f.last_result, None);
        assert_eq!(f.wamid, None);

        let open = l.doubts("A-1").unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].attempt.attempt_id, a);
        assert_eq!(open[0].attempt.run_id, run);
        assert_eq!(open[0].attempt.attempt_no, 1);
        assert_eq!(open[0].attempt.params, p());
        assert_eq!(open[0].attempt.intent_at, t(10));
        assert_eq!(open[0].attempt.result, None);
        assert!(l.doubts("B-2").unwrap().is_empty());

        l.record_answer(a, &answer(SendClass::UNSAID, None, t(30)))
            .unwrap();
        // An ambiguous answer is still a doubt.
        let open = l.doubts("A-1").unwrap();
        assert_eq!(open[0].attempt.result, Some(SendClass::UNSAID));
        assert_eq!(l.run_doubts(run).unwrap(), open);
        // An answer is written once.
        assert!(matches!(
            l.record_answer(a, &accepted("w9", t(40))),
            Err(LedgerError::AlreadyAnswered { result, .. }) if result == "ambiguous"
        ));
        assert!(l.message("w9").unwrap().is_none());
        assert!(matches!(
            l.record_answer(12345, &accepted("w9", t(40))),
            Err(LedgerError::UnknownAttempt(12345))
        ));
        // The same attempt number twice in one run is refused.
        assert!(
            l.record_intent(&intent(run, "A-1", 1, "491711234567", &p(), t(50)))
                .is_err()
        );
    }

    #[test]
    fn retry_then_accepted_counts_two_attempts() {
        let (mut l, run, a1) = with_intent();
        l.record_answer(
            a1,
            &answer(
                SendClass::Retry(RetryKind::TooManyRequests),
                Some(429),
                t(11),
            ),
        )
        .unwrap();
        let a2 = l
            .record_intent(&intent(run, "A-1", 2, "491711234567", &p(), t(500)))
            .unwrap();
        l.record_answer(a2, &accepted("w2", t(510))).unwrap();

        let f = &l.report_rows(run).unwrap()[0];
        assert_eq!(f.attempts, 2);
        assert_eq!(
            f.last_result,
            Some(SendClass::Accepted { wamid: "w2".into() })
        );
        assert_eq!(f.http_status, Some(200));
        let first = &l.order_history("A-1").unwrap().attempts[0];
        assert_eq!(first.intent_at, t(10));
        assert_eq!(f.wamid.as_deref(), Some("w2"));
        assert_eq!(l.message("w2").unwrap().unwrap().attempt_id, Some(a2));
        // A wamid is unique: a second attempt reporting the same one is refused, atomically.
        let a3 = l
            .record_intent(&intent(run, "A-1", 3, "491711234567", &p(), t(600)))
            .unwrap();
        assert!(matches!(
            l.record_answer(a3, &accepted("w2", t(610))),
            Err(LedgerError::DuplicateWamid { existing: Some(id), .. }) if id == a2
        ));
        // Refused inside a group too, and the group's commit keeps no half
        // of it: the attempt stays unanswered, the first message unchanged.
        l.begin_group().unwrap();
        assert!(matches!(
            l.record_answer(a3, &accepted("w2", t(620))),
            Err(LedgerError::DuplicateWamid { .. })
        ));
        l.commit_group().unwrap();
        let open: Option<String> = l
            .conn
            .query_row(
                "SELECT result FROM attempts WHERE attempt_id = ?1",
                [a3],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(open, None);
        assert_eq!(l.message("w2").unwrap().unwrap().attempt_id, Some(a2));
        // If answering the attempt fails after its message row went in (an
        // I/O error, here a trigger), the row is taken out again.
        l.conn
            .execute_batch(
                "CREATE TEMP TRIGGER fail_answer BEFORE UPDATE ON attempts
                 BEGIN SELECT RAISE(ABORT, 'disk trouble'); END;",
            )
            .unwrap();
        l.begin_group().unwrap();
        assert!(l.record_answer(a3, &accepted("w3", t(630))).is_err());
        l.commit_group().unwrap();
        l.conn.execute_batch("DROP TRIGGER fail_answer").unwrap();
        assert!(
            l.message("w3").unwrap().is_none(),
            "no message without its answer"
        );
        l.record_answer(a3, &accepted("w3", t(640))).unwrap();
        assert_eq!(l.message("w3").unwrap().unwrap().attempt_id, Some(a3));
        // An order with an accepted message has no doubts, whatever else.
        assert!(l.doubts("A-1").unwrap().is_empty());
    }

    #[test]
    fn rejected_keeps_code_and_detail() {
        let (mut l, run, a) = with_intent();
        let ans = Answer {
            result: SendClass::Rejected,
            http_status: Some(400),
            error_code: Some(131_026),
            error_detail: Some("Message undeliverable".to_owned()),
            at: t(20),
        };
        l.record_answer(a, &ans).unwrap();
        let f = &l.report_rows(run).unwrap()[0];
        assert_eq!(f.last_result, Some(SendClass::Rejected));
        assert_eq!(f.http_status, Some(400));
        assert_eq!(f.error_code, Some(131_026));
        assert_eq!(f.error_detail.as_deref(), Some("Message undeliverable"));
        assert_eq!(f.wamid, None);
        assert!(l.accepted_message("A-1").unwrap().is_none());
        assert!(l.open_messages().unwrap().is_empty());
    }
}
