//! The ledger's one connection: opening, configuring it for durability and checking the file's
//! health, so every other job can assume a migrated, crash-safe database.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Params, Row};

use super::LedgerError;
use super::schema::{migrate, supported};

/// How long a connection waits for another process's lock before failing with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The ledger: one SQLite connection, owned by one thread.
///
/// Exists so that every other stage talks to durable state through one narrow, typed API
/// instead of SQL.
#[derive(Debug)]
pub struct Ledger {
    pub(super) conn: Connection,
}

impl Ledger {
    /// Opens (creating the file, not its directory, if needed) and migrates the ledger at `path`.
    ///
    /// Sets WAL, `synchronous=FULL`, foreign keys and a 5 s busy timeout, so committed intents
    /// survive a host crash and a concurrent reader (`sqlite3` in ops) does not fail the job.
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        Self::configured(path, Connection::open(path))
    }

    /// Opens a fresh private in-memory ledger; for tests and `--dry-run`.
    pub fn open_in_memory() -> Result<Self, LedgerError> {
        Self::configured(Path::new(":memory:"), Connection::open_in_memory())
    }

    /// Opens an existing ledger without writing to it, not even a
    /// migration: a dry run reads what the run would read and changes
    /// nothing.
    pub fn open_read_only(path: &Path) -> Result<Self, LedgerError> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let opened = Connection::open_with_flags(path, flags).and_then(|conn| {
            conn.busy_timeout(BUSY_TIMEOUT)?;
            let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            Ok((conn, found))
        });
        let (conn, found) = opened.map_err(|source| LedgerError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let supported = supported(found)?;
        if found < supported {
            return Err(LedgerError::SchemaTooOld {
                path: path.to_path_buf(),
                found,
                supported,
            });
        }
        Ok(Ledger { conn })
    }

    /// Configures `conn`, opened at `path`, for durability (see [`Ledger::open`]) and migrates
    /// it.
    /// Every row `sql` yields with `params`, as `read` reads it: the one place a query's rows
    /// are collected (into a `Vec`, a set, …).
    pub(super) fn all<T, C: FromIterator<T>>(
        &self,
        sql: &str,
        params: impl Params,
        read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<C, LedgerError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params, read)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The first row `sql` yields with `params`, as `read` reads it, if there is one.
    pub(super) fn first<T>(
        &self,
        sql: &str,
        params: impl Params,
        read: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        Ok(stmt.query_row(params, read).optional()?)
    }

    fn configured(path: &Path, conn: rusqlite::Result<Connection>) -> Result<Self, LedgerError> {
        let configured = conn.and_then(|conn| {
            conn.busy_timeout(BUSY_TIMEOUT)?;
            // Returns the resulting mode; an in-memory database stays "memory", and a file system
            // without WAL support keeps a rollback journal, which is still durable with FULL.
            let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            Ok(conn)
        });
        let mut conn = configured.map_err(|source| LedgerError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        migrate(&mut conn)?;
        Ok(Ledger { conn })
    }
}

#[cfg(test)]
mod tests {
    use crate::ledger::fixtures::intent;
    use rusqlite::Connection;

    use super::*;
    use crate::ledger::fixtures::{accepted, meta, p, row, t, with_message};
    use crate::ledger::schema::MIGRATIONS;
    use crate::ledger::{LedgerError, Verdict};

    #[test]
    fn file_ledger_is_durable_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("handoff.sqlite");
        let run = {
            let mut l = Ledger::open(&path).unwrap();
            let mode: String = l
                .conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
            let sync: i64 = l
                .conn
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap();
            assert_eq!(sync, 2, "synchronous=FULL");
            let fk: i64 = l
                .conn
                .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
                .unwrap();
            assert_eq!(fk, 1);
            let busy: i64 = l
                .conn
                .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
                .unwrap();
            assert_eq!(busy, 5_000);
            let version: i64 = l
                .conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(version, MIGRATIONS.len() as i64);

            let run = l.begin_run(&meta("run", t(0))).unwrap();
            l.record_rows(run, &[row(1, Some("A-1"), Verdict::Send)])
                .unwrap();
            let a = l
                .record_intent(&intent(run, "A-1", 1, "491711234567", &p(), t(10)))
                .unwrap();
            l.record_answer(a, &accepted("w1", t(20))).unwrap();
            l.record_intent(&intent(run, "B-2", 1, "491711234568", &p(), t(30)))
                .unwrap();
            run
        };
        let l = Ledger::open(&path).unwrap();
        assert_eq!(l.integrity_check().unwrap(), "ok");
        let facts = l.report_rows(run).unwrap();
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].wamid.as_deref(), Some("w1"));
        assert_eq!(l.doubts("B-2").unwrap().len(), 1);
        assert_eq!(l.accepted_message("A-1").unwrap().unwrap().params, p());
    }

    #[test]
    fn open_errors_name_the_path_and_refuse_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-dir").join("ledger.sqlite");
        let err = Ledger::open(&missing).unwrap_err();
        assert!(matches!(err, LedgerError::Open { .. }));
        assert!(err.to_string().contains("no-such-dir"), "{err}");

        let not_db = dir.path().join("garbage.sqlite");
        std::fs::write(
            &not_db,
            b"this is not a sqlite database, just some bytes....",
        )
        .unwrap();
        assert!(matches!(
            Ledger::open(&not_db),
            Err(LedgerError::Open { .. })
        ));

        let newer = dir.path().join("newer.sqlite");
        drop(Ledger::open(&newer).unwrap());
        Connection::open(&newer)
            .unwrap()
            .pragma_update(None, "user_version", 70)
            .unwrap();
        assert!(matches!(
            Ledger::open(&newer),
            Err(LedgerError::SchemaTooNew { found: 70, supported })
                if supported == MIGRATIONS.len() as i64
        ));
    }

    #[test]
    fn integrity_check_ok_in_memory() {
        let (l, _) = with_message();
        assert_eq!(l.integrity_check().unwrap(), "ok");
    }
}
