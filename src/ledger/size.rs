//! The ledger's size and what fills it, and giving freed pages back: what an operator needs to
//! see the file's growth coming and to decide when to prune.

use std::path::Path;

use rusqlite::{Connection, Params};

use super::codec::{get_opt_ts, rfc3339};
use super::{Ledger, LedgerError};

/// What the file holds and how big it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerSize {
    /// Bytes per page.
    pub page_size: u64,
    /// Pages in the database (the write-ahead log's committed pages included).
    pub page_count: u64,
    /// Pages free for reuse (after a prune), given back by [`Ledger::vacuum`].
    pub freelist_count: u64,
    /// Runs recorded.
    pub runs: u64,
    /// Input rows recorded.
    pub rows: u64,
    /// Send attempts recorded.
    pub attempts: u64,
    /// Accepted messages.
    pub messages: u64,
    /// Status observations.
    pub statuses: u64,
    /// The oldest run's start, RFC 3339 (none in an empty ledger).
    pub oldest_run: Option<String>,
}

impl LedgerSize {
    /// The database's bytes, `page_count × page_size`.
    pub fn bytes(&self) -> u64 {
        self.page_count * self.page_size
    }

    /// Bytes per accepted message, the figure that says how fast the file grows.
    pub fn bytes_per_message(&self) -> Option<u64> {
        (self.messages > 0).then(|| self.bytes() / self.messages)
    }
}

/// How often a busy backup step is tried again (50 ms apart) before the backup gives up.
const BACKUP_TRIES: u32 = 100;

/// The one number `sql` (a count or a pragma) reads.
pub(super) fn number(conn: &Connection, sql: &str, params: impl Params) -> rusqlite::Result<u64> {
    conn.query_row(sql, params, |r| r.get::<_, i64>(0))
        .map(|v| v as u64)
}

impl Ledger {
    /// Counts and sizes, read in one transaction so they agree with each other while a run
    /// writes.
    pub fn size(&mut self) -> Result<LedgerSize, LedgerError> {
        let tx = self.conn.transaction()?;
        let size = LedgerSize {
            runs: number(&tx, "SELECT COUNT(*) FROM runs", [])?,
            rows: number(&tx, "SELECT COUNT(*) FROM deliveries", [])?,
            attempts: number(&tx, "SELECT COUNT(*) FROM attempts", [])?,
            messages: number(&tx, "SELECT COUNT(*) FROM messages", [])?,
            statuses: number(&tx, "SELECT COUNT(*) FROM status_history", [])?,
            page_size: number(&tx, "PRAGMA page_size", [])?,
            page_count: number(&tx, "PRAGMA page_count", [])?,
            freelist_count: number(&tx, "PRAGMA freelist_count", [])?,
            oldest_run: tx
                .query_row("SELECT MIN(started_at) FROM runs", [], |r| get_opt_ts(r, 0))?
                .as_ref()
                .map(rfc3339),
        };
        tx.commit()?;
        Ok(size)
    }

    /// Rewrites the file without its free pages (`VACUUM`). Holds the write lock for as long as
    /// the copy takes: the caller makes sure no run is writing.
    pub fn vacuum(&mut self) -> Result<(), LedgerError> {
        self.conn.execute_batch("VACUUM")?;
        // Give the write-ahead log's copy of every page back too.
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Copies the whole ledger to a new database file at `dest` with SQLite's online backup, in
    /// one step: one read transaction, so the copy is one consistent moment of the file even
    /// while a run writes (WAL readers never block the writer, nor it them). `dest` is
    /// overwritten; the caller puts it in place atomically.
    pub fn backup_to(&self, dest: &Path) -> Result<(), LedgerError> {
        let mut copy = Connection::open(dest).map_err(|source| LedgerError::Open {
            path: dest.to_path_buf(),
            source,
        })?;
        {
            use rusqlite::backup::{Backup, StepResult};
            let backup = Backup::new(&self.conn, &mut copy)?;
            // -1: every page in one step. Busy or locked only while another connection holds
            // a lock a reader must wait for (a checkpoint's moment); `More` would mean a step
            // ended early. Either way the next step starts the copy again, consistently.
            for tries in 0.. {
                match backup.step(-1)? {
                    StepResult::Done => break,
                    _ if tries < BACKUP_TRIES => {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                    }
                    other => {
                        let unfinished = format!("the backup did not finish ({other:?})");
                        return Err(LedgerError::sqlite(rusqlite::ffi::SQLITE_BUSY, unfinished));
                    }
                }
            }
        }
        // One file, no -wal beside it: a copy that travels alone.
        copy.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
        let check: String = copy.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if check != "ok" {
            let failed = format!("the copy fails its check: {check}");
            return Err(LedgerError::sqlite(rusqlite::ffi::SQLITE_CORRUPT, failed));
        }
        copy.close().map_err(|(_, e)| LedgerError::Sqlite(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::fixtures::with_message;

    #[test]
    fn size_counts_every_table_and_bytes_per_message() {
        let (mut l, _run) = with_message();
        let s = l.size().unwrap();
        assert_eq!((s.runs, s.rows, s.attempts, s.messages), (1, 1, 1, 1));
        assert_eq!(s.page_size, 4096);
        assert!(s.page_count > 5, "{s:?}");
        assert_eq!(s.bytes_per_message(), Some(s.bytes()));
        assert_eq!(s.oldest_run.as_deref(), Some("2026-11-25T00:00:00.000Z"));
        assert_eq!(LedgerSize::default().bytes_per_message(), None);
    }

    #[test]
    fn a_backup_is_a_ledger_with_the_same_facts_and_vacuum_gives_pages_back() {
        let dir = tempfile::tempdir().unwrap();
        let (mut l, run) = with_message();
        let copy = dir.path().join("copy.sqlite");
        l.backup_to(&copy).unwrap();
        let mut b = Ledger::open(&copy).unwrap();
        assert_eq!(b.integrity_check().unwrap(), "ok");
        assert_eq!(b.report_rows(run).unwrap(), l.report_rows(run).unwrap());
        assert_eq!(
            b.accepted_message("A-1").unwrap(),
            l.accepted_message("A-1").unwrap()
        );
        assert_eq!(b.size().unwrap().messages, 1);

        let before = l.size().unwrap();
        l.conn.execute_batch("DELETE FROM status_history").unwrap();
        l.vacuum().unwrap();
        let after = l.size().unwrap();
        assert_eq!(after.freelist_count, 0);
        assert!(after.page_count <= before.page_count);
    }
}
