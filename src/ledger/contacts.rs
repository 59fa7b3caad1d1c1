//! A partners file's contacts in the ledger: the rows of a run written to
//! one, the phones an order was sent to, and a row moved to the partner's
//! next contact (`--fallback backup`).

use rusqlite::params;

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
}

impl Ledger {
    /// The rows `run` sent to a partners file's contact, in row order.
    pub fn contact_rows(&self, run: RunId) -> Result<Vec<ContactRow>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT row_no, order_key, partner_id, partner_name, phone, order_number,
                    product_name, delivery_note, language
             FROM deliveries
             WHERE run_id = ?1 AND verdict = 'send' AND contact IS NOT NULL
               AND partner_id IS NOT NULL AND order_key IS NOT NULL
             ORDER BY row_no",
        )?;
        let rows = stmt.query_map([run], |r| {
            Ok(ContactRow {
                row: r.get(0)?,
                order_key: r.get(1)?,
                partner_id: r.get(2)?,
                fields: RawFields {
                    partner_name: r.get(3)?,
                    partner_phone: r.get(4)?,
                    order_number: r.get(5)?,
                    product_name: r.get(6)?,
                    delivery_note: r.get(7)?,
                    language: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
                    ..RawFields::default()
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The template language row `row` of `run` is written in, when not
    /// `--language` (its contact's).
    pub fn row_language(&self, run: RunId, row: u64) -> Result<Option<String>, LedgerError> {
        Ok(self
            .conn
            .prepare_cached("SELECT language FROM deliveries WHERE run_id = ?1 AND row_no = ?2")?
            .query_row(params![run, row], |r| r.get(0))?)
    }

    /// Every phone an attempt of `order_key` went to, in any run: the
    /// contacts already written to about the order.
    pub fn phones_tried(&self, order_key: &str) -> Result<Vec<String>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT phone FROM attempts_sent WHERE order_key = ?1 AND phone IS NOT NULL",
        )?;
        let phones = stmt.query_map([order_key], |r| r.get(0))?;
        Ok(phones.collect::<Result<_, _>>()?)
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

    /// The row of `run` now written to another contact: the report names
    /// it, and the note says why. The row's phone stays its first
    /// contact's: the attempts to that one read it from the row.
    pub fn set_contact(
        &mut self,
        run: RunId,
        row: u64,
        contact: &str,
        note: &str,
    ) -> Result<(), LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE deliveries SET contact = ?3,
                 notes = CASE WHEN notes IS NULL OR notes = '' THEN ?4 ELSE notes || '; ' || ?4 END
             WHERE run_id = ?1 AND row_no = ?2",
        )?;
        match stmt.execute(params![run, row, contact, note])? {
            0 => Err(LedgerError::UnknownRow { run, row }),
            _ => Ok(()),
        }
    }
}
