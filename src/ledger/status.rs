//! The status merge: late, repeated and out-of-order `hookInfo` answers never move a message's
//! status backwards, and a proof of delivery is never overwritten by a failure.

use rusqlite::params;

use super::codec::ts;
use super::{Ledger, LedgerError, StatusUpdate};
pub use crate::api::classify::HELD;

/// A status as 1MSG reports it, classified in this one place (ASCII case
/// ignored); the ledger keeps the text itself verbatim, since the API may
/// answer values we do not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Sent,
    Delivered,
    /// `read`, and the old spec's `viewed` and EB's `played` (a voice or
    /// video message played), which say the same: the partner saw it.
    Read,
    /// `failed` or `undelivered`.
    Failed,
    /// `held_for_quality_assessment`: the send answer said Meta holds the
    /// message while it assesses the template's quality (it is released,
    /// or dropped, later). Accepted, not final; any other status replaces it.
    Held,
    /// Any other value (`deleted`, …): kept verbatim, never final, reported.
    Other,
}

impl Status {
    pub fn of(text: &str) -> Status {
        const NAMES: &[(&str, Status)] = &[
            ("sent", Status::Sent),
            ("delivered", Status::Delivered),
            ("read", Status::Read),
            ("viewed", Status::Read),
            ("played", Status::Read),
            ("failed", Status::Failed),
            ("undelivered", Status::Failed),
            (HELD, Status::Held),
        ];
        NAMES
            .iter()
            .find(|(name, _)| text.eq_ignore_ascii_case(name))
            .map_or(Status::Other, |&(_, s)| s)
    }

    /// Whether it proves the partner's phone got the message.
    pub fn proves_delivery(self) -> bool {
        matches!(self, Status::Delivered | Status::Read)
    }

    /// Whether it ends polling: delivered, read, failed or undelivered.
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Sent | Status::Held | Status::Other)
    }
}

/// Decides whether status `new` replaces the merged status `current` of a message.
///
/// Exists because `hookInfo` answers arrive late, repeated, out of order and sometimes
/// contradicting each other (`sent, failed, read`): the merge must be monotonic, and it must
/// never let a failure hide a proof of delivery, since a `failed` row may be sent again and a
/// partner who read the message would get it twice. So, as the production integration does
/// (EB `procesarAck`): `read` > `delivered` > `sent`; `failed` replaces `sent` (and an unknown
/// value) but not `delivered` or `read`; `delivered` or `read` after `failed` replaces it (the
/// report then shows the conflict, see the report's notes). A lower or equal rank never
/// replaces. An unknown value (e.g. `deleted`) replaces only an absent status; any known status
/// replaces an unknown one. `viewed`/`played` count as `read`, `undelivered` as `failed`.
/// Comparison ignores ASCII case.
pub(super) fn merge_status(current: Option<&str>, new: &str) -> bool {
    let Some(current) = current else {
        return true;
    };
    use Status::*;
    let rank = |s| {
        [Held, Sent, Failed, Delivered, Read]
            .iter()
            .position(|&r| r == s)
    };
    match (rank(Status::of(current)), rank(Status::of(new))) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(cur), Some(new)) => new > cur,
    }
}

/// Merges `updates` (all for `wamid`) into its message and history and adds `polls` to its
/// poll counter; returns how many updates changed the merged status, and the merged status
/// now. `None` if the ledger has no such message.
pub(super) fn merge_statuses(
    l: &Ledger,
    wamid: &str,
    updates: &[StatusUpdate],
    polls: u32,
) -> Result<Option<(usize, Option<String>)>, LedgerError> {
    let sql = "SELECT message_id, status FROM messages WHERE wamid = ?1";
    let found: Option<(i64, Option<String>)> =
        l.first(sql, [wamid], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let Some((message, mut current)) = found else {
        return Ok(None);
    };
    let conn = &l.conn;
    let mut hist = conn.prepare_cached(
        // `id`: the order of arrival among the message's statuses (schema 11 keys the history
        // by message and status alone).
        "INSERT INTO status_history (message_id, status, id, status_at, error_code,
             error_title, seen_at)
         VALUES (?1, ?2,
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM status_history WHERE message_id = ?1),
                 ?3, ?4, ?5, ?6)
         ON CONFLICT (message_id, status) DO NOTHING",
    )?;
    let mut merged = None;
    let mut changed = 0;
    for u in updates {
        let status_at = u.status_at.as_ref().map(ts);
        hist.execute(params![
            message,
            u.status,
            status_at,
            u.error_code,
            u.error_title,
            ts(&u.seen_at)
        ])?;
        if merge_status(current.as_deref(), &u.status) {
            current = Some(u.status.clone());
            merged = Some((u, status_at));
            changed += 1;
        }
    }
    // The latest pricing said stands (a delivered status's is Meta's last
    // word), whether or not its status moved the message.
    if let Some(p) = updates.iter().rev().find_map(|u| u.pricing.as_ref()) {
        conn.prepare_cached(
            "UPDATE messages SET billable = COALESCE(?2, billable),
                 pricing_category = COALESCE(?3, pricing_category)
             WHERE message_id = ?1
               AND (billable IS NOT COALESCE(?2, billable)
                    OR pricing_category IS NOT COALESCE(?3, pricing_category))",
        )?
        .execute(params![message, p.billable, p.category])?;
    }
    // Only the last status merged stands, so one write does, and it
    // counts the poll too.
    if let Some((u, status_at)) = merged {
        conn.prepare_cached(
            "UPDATE messages SET status = ?2, status_at = ?3, error_code = ?4,
                 error_title = ?5, final = ?6, polls = polls + ?7
             WHERE message_id = ?1",
        )?
        .execute(params![
            message,
            u.status,
            status_at,
            u.error_code,
            u.error_title,
            Status::of(&u.status).is_final(),
            polls
        ])?;
    } else if polls > 0 {
        conn.prepare_cached("UPDATE messages SET polls = polls + ?2 WHERE message_id = ?1")?
            .execute(params![message, polls])?;
    }
    Ok(Some((changed, current)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message Meta holds (the send answer's `message_status`) waits
    /// for its first real status: any replaces the hold, the hold replaces
    /// none of them, and it never ends polling.
    #[test]
    fn a_hold_is_replaced_by_any_status_and_is_not_final() {
        assert_eq!(Status::of(HELD), Status::Held);
        assert!(!Status::Held.is_final() && !Status::Held.proves_delivery());
        for s in ["sent", "delivered", "read", "failed"] {
            assert!(merge_status(Some(HELD), s), "{s} replaces the hold");
            assert!(!merge_status(Some(s), HELD), "the hold never replaces {s}");
        }
        assert!(merge_status(None, HELD));
    }

    #[test]
    fn a_status_is_classified_once_whatever_its_case() {
        assert_eq!(Status::of("READ"), Status::Read);
        assert_eq!(Status::of("viewed"), Status::Read);
        assert_eq!(Status::of("Played"), Status::Read);
        assert_eq!(Status::of("undelivered"), Status::Failed);
        assert_eq!(Status::of("deleted"), Status::Other);
        assert!(Status::of("Delivered").is_final());
        assert!(Status::of("viewed").is_final());
        assert!(!Status::of("sent").is_final());
        assert!(!Status::of("deleted").is_final());
        assert!(Status::of("played").proves_delivery());
        assert!(!Status::of("failed").proves_delivery());
    }

    #[test]
    fn merge_status_is_monotonic() {
        assert!(merge_status(None, "sent"));
        assert!(merge_status(None, "deleted"));
        assert!(merge_status(Some("sent"), "delivered"));
        assert!(merge_status(Some("sent"), "read"));
        assert!(merge_status(Some("delivered"), "read"));
        assert!(merge_status(Some("delivered"), "viewed"));
        assert!(!merge_status(Some("read"), "delivered"));
        assert!(!merge_status(Some("read"), "sent"));
        assert!(!merge_status(Some("read"), "played"));
        assert!(!merge_status(Some("delivered"), "delivered"));
        assert!(!merge_status(Some("failed"), "undelivered"));
        assert!(!merge_status(Some("failed"), "failed"));
        assert!(!merge_status(Some("failed"), "sent"));
        assert!(!merge_status(Some("sent"), "deleted"));
        assert!(!merge_status(Some("failed"), "deleted"));
        assert!(merge_status(Some("deleted"), "sent"));
        assert!(merge_status(Some("Sent"), "READ"));
        assert!(Status::of("delivered").is_final() && Status::of("read").is_final());
        assert!(Status::of("failed").is_final() && Status::of("undelivered").is_final());
        assert!(Status::of("viewed").is_final() && Status::of("played").is_final());
        assert!(!Status::of("sent").is_final() && !Status::of("deleted").is_final());
    }

    /// B2: a proof of delivery wins over a late failure, in either order.
    #[test]
    fn proof_of_delivery_wins_over_a_failure() {
        assert!(merge_status(Some("sent"), "failed"));
        assert!(merge_status(Some("sent"), "undelivered"));
        assert!(merge_status(Some("deleted"), "failed"));
        assert!(merge_status(Some("failed"), "read"));
        assert!(merge_status(Some("failed"), "delivered"));
        assert!(merge_status(Some("undelivered"), "viewed"));
        assert!(!merge_status(Some("read"), "failed"));
        assert!(!merge_status(Some("delivered"), "failed"));
        assert!(!merge_status(Some("viewed"), "undelivered"));
        let fold = |seq: &[&str]| {
            seq.iter().fold(None::<String>, |cur, s| {
                if merge_status(cur.as_deref(), s) {
                    Some((*s).to_string())
                } else {
                    cur
                }
            })
        };
        assert_eq!(fold(&["sent", "failed", "read"]).as_deref(), Some("read"));
        assert_eq!(fold(&["sent", "read", "failed"]).as_deref(), Some("read"));
        assert_eq!(
            fold(&["sent", "failed", "delivered", "failed"]).as_deref(),
            Some("delivered")
        );
        assert_eq!(fold(&["sent", "failed"]).as_deref(), Some("failed"));
        assert_eq!(fold(&["deleted", "sent"]).as_deref(), Some("sent"));
    }
}
