//! The monotonic status merge: late, repeated and out-of-order `hookInfo` answers never move a
//! message's status backwards.

use rusqlite::{Connection, OptionalExtension, params};

use super::codec::ts;
use super::{LedgerError, StatusUpdate};

/// A status as 1MSG reports it, classified in this one place (ASCII case
/// ignored); the ledger keeps the text itself verbatim, since the API may
/// answer values we do not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Sent,
    Delivered,
    Read,
    /// `failed` or `undelivered`.
    Failed,
    /// Any other value (`deleted`, `viewed`, …): kept, never final.
    Other,
}

impl Status {
    pub fn of(text: &str) -> Status {
        const NAMES: &[(&str, Status)] = &[
            ("sent", Status::Sent),
            ("delivered", Status::Delivered),
            ("read", Status::Read),
            ("failed", Status::Failed),
            ("undelivered", Status::Failed),
        ];
        NAMES
            .iter()
            .find(|(name, _)| text.eq_ignore_ascii_case(name))
            .map_or(Status::Other, |&(_, s)| s)
    }

    /// Rank for [`merge_status`]; `None` for values we do not know.
    fn rank(self) -> Option<u8> {
        match self {
            Status::Sent => Some(1),
            Status::Delivered => Some(2),
            Status::Read => Some(3),
            Status::Failed => Some(4),
            Status::Other => None,
        }
    }

    /// Whether it ends polling: delivered, read, failed or undelivered.
    pub fn is_final(self) -> bool {
        self.rank().is_some_and(|rank| rank >= 2)
    }
}

/// Rank of a known status for [`merge_status`]; `None` for values we do not know.
fn status_rank(status: &str) -> Option<u8> {
    Status::of(status).rank()
}

/// Decides whether status `new` replaces the merged status `current` of a message.
///
/// Exists because `hookInfo` answers arrive late, repeated and out of order: the merge must be
/// monotonic. `read` > `delivered` > `sent`; `failed`/`undelivered` win over everything; a lower
/// or equal rank never replaces. An unknown value (e.g. `deleted`) replaces only an absent
/// status; any known status replaces an unknown one. Comparison ignores ASCII case.
pub fn merge_status(current: Option<&str>, new: &str) -> bool {
    let Some(current) = current else {
        return true;
    };
    match (status_rank(current), status_rank(new)) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(cur), Some(new)) => new > cur,
    }
}

/// Whether a status ends polling: delivered, read, failed or undelivered.
pub fn is_final_status(status: &str) -> bool {
    Status::of(status).is_final()
}

/// Merges `updates` (all for `wamid`) into its message and history and adds `polls` to its
/// poll counter. `None` if the ledger has no such message.
pub(super) fn merge_statuses(
    conn: &Connection,
    wamid: &str,
    updates: &[StatusUpdate],
    polls: u32,
) -> Result<Option<usize>, LedgerError> {
    let current = conn
        .prepare_cached("SELECT status FROM messages WHERE wamid = ?1")?
        .query_row([wamid], |r| r.get::<_, Option<String>>(0))
        .optional()?;
    let Some(mut current) = current else {
        return Ok(None);
    };
    let mut hist = conn.prepare_cached(
        "INSERT INTO status_history (wamid, status, status_at, error_code, error_title, seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (wamid, status) DO NOTHING",
    )?;
    let mut merged = None;
    let mut changed = 0;
    for u in updates {
        let status_at = u.status_at.as_ref().map(ts);
        hist.execute(params![
            wamid,
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
    // Only the last status merged stands, so one write does, and it
    // counts the poll too.
    if let Some((u, status_at)) = merged {
        conn.prepare_cached(
            "UPDATE messages SET status = ?2, status_at = ?3, error_code = ?4,
                 error_title = ?5, final = ?6, polls = polls + ?7
             WHERE wamid = ?1",
        )?
        .execute(params![
            wamid,
            u.status,
            status_at,
            u.error_code,
            u.error_title,
            is_final_status(&u.status),
            polls
        ])?;
    } else if polls > 0 {
        conn.prepare_cached("UPDATE messages SET polls = polls + ?2 WHERE wamid = ?1")?
            .execute(params![wamid, polls])?;
    }
    Ok(Some(changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_is_classified_once_whatever_its_case() {
        assert_eq!(Status::of("READ"), Status::Read);
        assert_eq!(Status::of("undelivered"), Status::Failed);
        assert_eq!(Status::of("viewed"), Status::Other);
        assert!(Status::of("Delivered").is_final());
        assert!(!Status::of("sent").is_final());
        assert!(!Status::of("deleted").is_final());
    }

    #[test]
    fn merge_status_is_monotonic() {
        assert!(merge_status(None, "sent"));
        assert!(merge_status(None, "deleted"));
        assert!(merge_status(Some("sent"), "delivered"));
        assert!(merge_status(Some("sent"), "read"));
        assert!(merge_status(Some("delivered"), "read"));
        assert!(!merge_status(Some("read"), "delivered"));
        assert!(!merge_status(Some("read"), "sent"));
        assert!(!merge_status(Some("delivered"), "delivered"));
        assert!(merge_status(Some("read"), "failed"));
        assert!(merge_status(Some("delivered"), "undelivered"));
        assert!(!merge_status(Some("failed"), "read"));
        assert!(!merge_status(Some("failed"), "undelivered"));
        assert!(!merge_status(Some("failed"), "failed"));
        assert!(!merge_status(Some("sent"), "deleted"));
        assert!(!merge_status(Some("failed"), "deleted"));
        assert!(merge_status(Some("deleted"), "sent"));
        assert!(merge_status(Some("Sent"), "READ"));
        assert!(is_final_status("delivered") && is_final_status("read"));
        assert!(is_final_status("failed") && is_final_status("undelivered"));
        assert!(!is_final_status("sent") && !is_final_status("deleted"));
    }
}
