//! What the webhook side writes: acks pushed by 1MSG, merged like polls, and the registrations a
//! run made on a channel, kept until they are undone so a run killed with SIGKILL is cleaned up
//! by the next one.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::codec::{encode_params, ts};
use super::status::{Status, merge_statuses};
use super::{Ledger, LedgerError, RunId, StatusUpdate};

/// What one pushed ack did to its message: whether its merged status
/// moved, and what the merged status is now. Whether that takes the message
/// off the poll schedule is the tracker's rule ([`Status::proves_delivery`]):
/// a `failed` is final, but a later `read` can still come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckMerged {
    pub changed: bool,
    pub status: Status,
}

/// A webhook registration not undone yet (on the channel it was asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub id: i64,
    pub our_url: String,
    /// The channel's list before we added ours.
    pub original_urls: Vec<String>,
    /// We switched `ackNotificationsOn` on (it was off).
    pub turned_acks_on: bool,
}

impl Ledger {
    /// Merges the statuses of one pushed ack into its message, as a poll's are, but without
    /// counting a poll (no `hookInfo` call was made); `None`: the ledger has no message with
    /// this wamid (another tool's, or not recorded yet), and nothing is stored.
    pub fn record_ack(
        &mut self,
        wamid: &str,
        updates: &[StatusUpdate],
    ) -> Result<Option<AckMerged>, LedgerError> {
        self.atomically(|l| {
            let merged = merge_statuses(l, wamid, updates, 0)?;
            Ok(merged.map(|(changed, status)| AckMerged {
                changed: changed > 0,
                status: status.map_or(Status::Other, |s| Status::of(&s)),
            }))
        })
    }

    /// Records that `run` added `our_url` to `channel`'s webhooks, before the change is made,
    /// so a crash right after the change still leaves the way back.
    pub fn record_webhook_registration(
        &mut self,
        run: Option<RunId>,
        channel: &str,
        our_url: &str,
        original_urls: &[String],
        turned_acks_on: bool,
        at: DateTime<Utc>,
    ) -> Result<i64, LedgerError> {
        self.conn
            .prepare_cached(
                "INSERT INTO webhook_registrations
                     (run_id, channel, our_url, original_urls, turned_acks_on, registered_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                run,
                channel,
                our_url,
                encode_params(original_urls)?,
                turned_acks_on,
                ts(&at)
            ])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The registrations on `channel` not undone yet, oldest first.
    pub fn open_webhook_registrations(
        &self,
        channel: &str,
    ) -> Result<Vec<Registration>, LedgerError> {
        let sql = "SELECT id, our_url, original_urls, turned_acks_on
             FROM webhook_registrations WHERE channel = ?1 AND restored_at IS NULL ORDER BY id";
        self.all(sql, [channel], |r| {
            let urls: String = r.get(2)?;
            Ok(Registration {
                id: r.get(0)?,
                our_url: r.get(1)?,
                original_urls: serde_json::from_str(&urls).unwrap_or_default(),
                turned_acks_on: r.get(3)?,
            })
        })
    }

    /// Marks a registration undone.
    pub fn webhook_restored(&mut self, id: i64, at: DateTime<Utc>) -> Result<(), LedgerError> {
        self.conn
            .prepare_cached("UPDATE webhook_registrations SET restored_at = ?2 WHERE id = ?1")?
            .execute(params![id, ts(&at)])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::fixtures::{st, with_message};

    /// The ack's merge, as the tracker reads it: moved or not, and whether
    /// the message now has a proof of delivery.
    fn merged(changed: bool, proved: bool) -> Option<(bool, bool)> {
        Some((changed, proved))
    }

    fn read(m: Option<AckMerged>) -> Option<(bool, bool)> {
        m.map(|m| (m.changed, m.status.proves_delivery()))
    }

    #[test]
    fn an_ack_merges_like_a_poll_without_counting_one() {
        let (mut l, _run) = with_message();
        let m = read(l.record_ack("w1", &[st("w1", "sent", 100)]).unwrap());
        assert_eq!(m, merged(true, false));
        let m = read(l.record_ack("w1", &[st("w1", "read", 300)]).unwrap());
        assert_eq!(m, merged(true, true));
        // Out of order and repeated: nothing moves back.
        for s in ["delivered", "sent", "failed", "read"] {
            let m = read(l.record_ack("w1", &[st("w1", s, 200)]).unwrap());
            assert_eq!(m, merged(false, true));
        }
        let info = l.message("w1").unwrap().unwrap();
        assert_eq!(info.status.as_deref(), Some("read"));
        assert_eq!(info.polls, 0);
        assert_eq!(
            l.record_ack("nope", &[st("nope", "read", 1)]).unwrap(),
            None
        );
        assert_eq!(l.is_final("nope").unwrap(), None);
    }

    #[test]
    fn a_pushed_failure_is_final_but_not_settled() {
        let (mut l, _run) = with_message();
        let m = read(l.record_ack("w1", &[st("w1", "failed", 100)]).unwrap());
        assert_eq!(m, merged(true, false));
        assert_eq!(l.is_final("w1").unwrap(), Some(true));
        let m = read(l.record_ack("w1", &[st("w1", "read", 200)]).unwrap());
        assert_eq!(m, merged(true, true));
    }

    #[test]
    fn a_registration_stays_open_until_restored() {
        let (mut l, run) = with_message();
        let urls = vec!["https://other.example/a".to_string()];
        let id = l
            .record_webhook_registration(Some(run), "C1", "https://us/h", &urls, true, Utc::now())
            .unwrap();
        let open = l.open_webhook_registrations("C1").unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].original_urls, urls);
        assert!(open[0].turned_acks_on);
        assert!(l.open_webhook_registrations("C2").unwrap().is_empty());
        l.webhook_restored(id, Utc::now()).unwrap();
        assert!(l.open_webhook_registrations("C1").unwrap().is_empty());
    }
}
