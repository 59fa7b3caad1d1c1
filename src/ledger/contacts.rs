//! A partners file's contacts in the ledger: the rows of a run written to
//! one, the phones an order was sent to, and a row moved to the partner's
//! next contact (`--fallback backup`).

use rusqlite::params;

use super::rows::fields_at;
use super::{Ledger, LedgerError, RunId};
use crate::input::RawFields;

/// A row of a run sent to a partners file's contact: what a fallback reads.
#[derive(Debug, Clone)]
pub struct ContactRow {
    pub row: u64,
    pub order_key: String,
    pub partner_id: String,
    /// As stored: the phone is the first contact's normalised digits.
    pub fields: RawFields,
    /// Its order has a message whose status is not final yet: nothing is
    /// proved of it, so it is not looked at further for now.
    pub open: bool,
}

/// A row's move to its partner's next contact (`--fallback backup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub row: u64,
    /// How the report names the contact.
    pub label: String,
    /// Why the row moved, for people: the proof against the contact before.
    pub note: String,
}

impl Ledger {
    /// The rows `run` sent to a partners file's contact, in row order.
    pub fn contact_rows(&self, run: RunId) -> Result<Vec<ContactRow>, LedgerError> {
        let sql = "SELECT row_no, order_key, partner_id, partner_name, phone, order_number,
                    product_name, delivery_note, language,
                    EXISTS (SELECT 1 FROM messages m
                            WHERE m.order_key = d.order_key AND m.final = 0)
             FROM deliveries d
             WHERE run_id = ?1 AND verdict = 'send' AND contact IS NOT NULL
               AND partner_id IS NOT NULL AND order_key IS NOT NULL
             ORDER BY row_no";
        self.all(sql, [run], |r| {
            Ok(ContactRow {
                row: r.get(0)?,
                order_key: r.get(1)?,
                partner_id: r.get(2)?,
                fields: fields_at(r, 3)?,
                open: r.get(9)?,
            })
        })
    }

    /// Every phone an attempt of `order_key` went to, in any run: the
    /// contacts already written to about the order.
    pub fn phones_tried(&self, order_key: &str) -> Result<Vec<String>, LedgerError> {
        self.all(
            "SELECT DISTINCT phone FROM attempts_sent WHERE order_key = ?1 AND phone IS NOT NULL",
            [order_key],
            |r| r.get(0),
        )
    }

    /// Whether an attempt of `order_key` was ever in doubt (unanswered, an
    /// answer that may or may not have been accepted, or such an answer
    /// settled since): no proof about its message follows it.
    pub fn ever_in_doubt(&self, order_key: &str) -> Result<bool, LedgerError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM attempts WHERE order_key = ?1
                     AND (result IS NULL OR result = 'ambiguous' OR settled = 1))",
            )?
            .query_row([order_key], |r| r.get(0))?)
    }

    /// Row `c.row` of `run` moves to its partner's next contact: the report names it and
    /// the note says why. Written with the intent of the first attempt to it (in the same
    /// commit), so a row names a contact only once a message to it may have left; a retry's
    /// intent changes nothing. The row's phone and language stay its first contact's: the
    /// attempts to that one read them from the row, an attempt to the next holds its own.
    pub fn switch_contact(&mut self, run: RunId, c: &NewContact) -> Result<(), LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE deliveries SET contact = ?3,
                 notes = CASE WHEN notes IS NULL OR notes = '' THEN ?4 ELSE notes || '; ' || ?4 END
             WHERE run_id = ?1 AND row_no = ?2 AND contact IS NOT ?3",
        )?;
        stmt.execute(params![run, c.row, c.label, c.note])?;
        Ok(())
    }

    /// Adds `note` to the notes of row `row` of `run` (a next contact held
    /// back, which the row would not tell otherwise).
    pub fn add_note(&mut self, run: RunId, row: u64, note: &str) -> Result<(), LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE deliveries
             SET notes = CASE WHEN notes IS NULL OR notes = '' THEN ?3 ELSE notes || '; ' || ?3 END
             WHERE run_id = ?1 AND row_no = ?2",
        )?;
        stmt.execute(params![run, row, note])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::fixtures::{answer, intent, p, row, st, t, with_message};
    use crate::ledger::{Intent, SendClass, Verdict};

    /// A ledger whose order `A-1` failed at its first contact, then had two
    /// intents to its partner's next contact, in German: attempt 2, in doubt
    /// (ambiguous), and attempt 3, not answered yet.
    fn fell_back() -> (Ledger, RunId, i64) {
        let (mut l, run) = with_message();
        l.record_poll("w1", &[st("w1", "failed", 30)]).unwrap();
        let to = NewContact {
            row: 1,
            label: "backup (line 3 of partners.csv)".into(),
            note: "the message to +491711234567 failed".into(),
        };
        let to_backup = |n, at| Intent {
            language: Some("de".into()),
            contact: Some(to.clone()),
            ..intent(run, "A-1", n, "4915100000002", &p(), t(at))
        };
        let a = l.record_intent(&to_backup(2, 40)).unwrap();
        // A retry's intent moves the row again: nothing changes.
        l.record_answer(a, &answer(SendClass::UNSAID, None, t(45)))
            .unwrap();
        let a = l.record_intent(&to_backup(3, 50)).unwrap();
        (l, run, a)
    }

    #[test]
    fn a_row_moves_to_its_next_contact_once_and_its_attempt_keeps_the_language() {
        let (l, run, _) = fell_back();
        let (contact, notes): (String, String) = l
            .conn
            .query_row(
                "SELECT contact, notes FROM deliveries WHERE run_id = ?1 AND row_no = 1",
                [run],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(contact, "backup (line 3 of partners.csv)");
        assert_eq!(notes, "the message to +491711234567 failed", "said once");
        let last = l.last_attempt("A-1").unwrap().unwrap();
        assert_eq!(
            (last.phone.as_str(), last.language.as_deref()),
            ("4915100000002", Some("de"))
        );
        // The first attempt names its row, and reads the row's language.
        let first: Option<String> = l
            .conn
            .query_row(
                "SELECT language FROM attempts_sent WHERE attempt_no = 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(first, None);
    }

    #[test]
    fn a_send_in_doubt_after_a_failed_message_is_a_doubt() {
        let (mut l, run, a) = fell_back();
        let doubts = l.doubts("A-1").unwrap();
        assert_eq!(doubts.len(), 2, "the intents after the failure");
        assert_eq!(doubts[1].attempt.attempt_id, a);
        assert_eq!(l.run_doubts(run).unwrap().len(), 2);
        assert_eq!(l.doubtful_rows(run).unwrap().len(), 1);
        // Its own message, once answered, settles it.
        l.record_answer(
            a,
            &answer(SendClass::Accepted { wamid: "w2".into() }, Some(200), t(60)),
        )
        .unwrap();
        assert!(l.doubts("A-1").unwrap().is_empty());
    }

    #[test]
    fn a_message_after_a_doubt_settles_it_as_before() {
        let (mut l, run) = {
            let mut l = Ledger::open_in_memory().unwrap();
            let run = l
                .begin_run(&crate::ledger::fixtures::meta("run", t(0)))
                .unwrap();
            l.record_rows(run, &[row(1, Some("A-1"), Verdict::Send)])
                .unwrap();
            (l, run)
        };
        l.record_intent(&intent(run, "A-1", 1, "491711234567", &p(), t(10)))
            .unwrap();
        assert_eq!(l.doubts("A-1").unwrap().len(), 1);
        let a = l
            .record_intent(&intent(run, "A-1", 2, "491711234567", &p(), t(20)))
            .unwrap();
        l.record_answer(
            a,
            &answer(SendClass::Accepted { wamid: "w9".into() }, Some(200), t(30)),
        )
        .unwrap();
        assert!(l.doubts("A-1").unwrap().is_empty());
    }
}
