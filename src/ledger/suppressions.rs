//! The phones not to message: a partner who stopped business messages
//! (Meta's 131050) is refused again every night, and every refusal costs
//! the channel's quality rating, so the phone is suppressed from its first
//! refusal on, for every order and partner that uses it, until a person
//! lifts it. A person may also suppress a phone by hand.
//!
//! A refusal is read from the message that failed with it, never copied:
//! the ledger already holds it. The `suppressions` table holds only what a
//! person said: a phone added by hand (`since`), and when a phone was
//! lifted (`lifted`), which ends the refusals before it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::codec::{get_opt_ts, get_ts, ts};
use super::{Ledger, LedgerError};

/// Why a phone is not messaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub phone: String,
    pub since: DateTime<Utc>,
    /// The refusal's code and the message that failed with it; `None` for
    /// a phone suppressed by hand.
    pub refused: Option<(i64, String)>,
}

impl Ledger {
    /// Every phone suppressed now, by its digits: refused by the partner
    /// (a message that failed with one of `codes`, after any lifting of the
    /// phone) or suppressed by hand. Read once per command: the refusals
    /// are few, and no index on phones is paid for by every message.
    pub fn suppressions(&self, codes: &[i64]) -> Result<HashMap<String, Suppression>, LedgerError> {
        let mut out = HashMap::new();
        let mut hand = self.conn.prepare_cached(
            "SELECT phone, since FROM suppressions WHERE since IS NOT NULL AND lifted IS NULL",
        )?;
        for row in hand.query_map([], |r| Ok((r.get::<_, String>(0)?, get_ts(r, 1)?)))? {
            let (phone, since) = row?;
            out.insert(
                phone.clone(),
                Suppression {
                    phone,
                    since,
                    refused: None,
                },
            );
        }
        let codes = serde_json::to_string(codes).unwrap_or_default();
        let mut refused = self.conn.prepare_cached(
            "SELECT r.phone, r.at, r.error_code, r.wamid
             FROM (SELECT COALESCE(m.phone, a.phone) AS phone, m.error_code, m.wamid,
                          COALESCE(m.status_at, m.accepted_at) AS at
                   FROM messages m LEFT JOIN attempts_sent a ON a.attempt_id = m.attempt_id
                   WHERE m.error_code IN (SELECT value FROM json_each(?1))
                     AND lower(m.status) IN ('failed', 'undelivered')) r
             LEFT JOIN suppressions s ON s.phone = r.phone
             WHERE r.phone IS NOT NULL AND r.at > COALESCE(s.lifted, -1)
             ORDER BY r.at",
        )?;
        let rows = refused.query_map([codes], |r| {
            Ok(Suppression {
                phone: r.get(0)?,
                since: get_ts(r, 1)?,
                refused: Some((r.get(2)?, r.get(3)?)),
            })
        })?;
        for s in rows {
            let s = s?;
            // The first refusal says since when; one by hand stands as given.
            out.entry(s.phone.clone()).or_insert(s);
        }
        Ok(out)
    }

    /// Suppresses each of `phones` from `at` on that is not suppressed now
    /// (refused with one of `codes`, or by hand), so one already on the
    /// list keeps its date; how many were added.
    pub fn suppress_new<'a>(
        &self,
        phones: impl IntoIterator<Item = &'a str>,
        codes: &[i64],
        at: DateTime<Utc>,
    ) -> Result<usize, LedgerError> {
        let known = self.suppressions(codes)?;
        let mut added = 0;
        for phone in phones.into_iter().filter(|p| !known.contains_key(*p)) {
            self.suppress(phone, at)?;
            added += 1;
        }
        Ok(added)
    }

    /// Suppresses `phone` by hand from `at` on.
    pub fn suppress(&self, phone: &str, at: DateTime<Utc>) -> Result<(), LedgerError> {
        self.conn.execute(
            "INSERT INTO suppressions (phone, since, lifted) VALUES (?1, ?2, NULL)
             ON CONFLICT (phone) DO UPDATE SET since = excluded.since, lifted = NULL",
            params![phone, ts(&at)],
        )?;
        Ok(())
    }

    /// Lifts `phone` at `at` (the partner opted in again): its refusals
    /// before now no longer count, nor its suppression by hand. When it was
    /// last lifted before, if ever.
    pub fn lift(
        &self,
        phone: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, LedgerError> {
        let sql = "SELECT lifted FROM suppressions WHERE phone = ?1";
        let before = self.first(sql, [phone], |r| get_opt_ts(r, 0))?.flatten();
        self.conn.execute(
            "INSERT INTO suppressions (phone, since, lifted) VALUES (?1, NULL, ?2)
             ON CONFLICT (phone) DO UPDATE SET since = NULL, lifted = excluded.lifted",
            params![phone, ts(&at)],
        )?;
        Ok(before)
    }
}

#[cfg(test)]
mod tests {
    use crate::ledger::fixtures::intent;
    use chrono::Duration;

    use super::*;
    use crate::ledger::fixtures::{accepted, meta, row};
    use crate::ledger::{StatusUpdate, Verdict};

    /// An order to `phone` whose message `wamid` failed with `code` at `at`.
    fn failed_message(
        l: &mut Ledger,
        key: &str,
        phone: &str,
        wamid: &str,
        code: i64,
        at: DateTime<Utc>,
    ) {
        let run = l.begin_run(&meta("run", at)).unwrap();
        let mut r = row(1, Some(key), Verdict::Send);
        r.phone = phone.into();
        l.record_rows(run, &[r]).unwrap();
        let params = ["Partner 1", key, "Widget", "DN-1"].map(String::from);
        let a = l
            .record_intent(&intent(run, key, 1, phone, &params, at))
            .unwrap();
        l.record_answer(a, &accepted(wamid, at)).unwrap();
        let failed = StatusUpdate {
            wamid: wamid.into(),
            status: "failed".into(),
            status_at: Some(at),
            error_code: Some(code),
            error_title: None,
            pricing: None,
            seen_at: at,
        };
        l.record_poll(wamid, &[failed]).unwrap();
    }

    #[test]
    fn a_refusal_suppresses_its_phone_until_lifted_and_a_later_one_again() {
        let mut l = Ledger::open_in_memory().unwrap();
        let t0 = Utc::now() - Duration::hours(2);
        failed_message(&mut l, "A-1", "4915100", "w1", 131050, t0);
        failed_message(&mut l, "A-2", "4915200", "w2", 131026, t0);
        let s = l.suppressions(&[131050]).unwrap();
        assert_eq!(s.len(), 1, "only the refusal code: {s:?}");
        assert_eq!(s["4915100"].refused, Some((131050, "w1".into())));
        assert_eq!(s["4915100"].since.timestamp_millis(), t0.timestamp_millis());

        l.lift("4915100", t0 + Duration::minutes(1)).unwrap();
        assert!(l.suppressions(&[131050]).unwrap().is_empty());
        failed_message(
            &mut l,
            "A-3",
            "4915100",
            "w3",
            131050,
            t0 + Duration::minutes(5),
        );
        let again = l.suppressions(&[131050]).unwrap();
        assert_eq!(again["4915100"].refused, Some((131050, "w3".into())));
    }

    #[test]
    fn a_phone_suppressed_by_hand_stays_until_lifted() {
        let l = Ledger::open_in_memory().unwrap();
        let at = Utc::now();
        l.suppress("4915300", at).unwrap();
        let s = l.suppressions(&[131050]).unwrap();
        assert_eq!(s["4915300"].refused, None);
        assert_eq!(l.lift("4915300", at).unwrap(), None);
        assert!(l.suppressions(&[131050]).unwrap().is_empty());
        l.suppress("4915300", at).unwrap();
        assert_eq!(l.suppressions(&[131050]).unwrap().len(), 1);
    }
}
