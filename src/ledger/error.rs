//! What the ledger can fail with, in one type, so every caller maps one error to the CLI's
//! internal-error exit.

use std::path::PathBuf;

use super::{AttemptId, RunId};

/// Everything that can go wrong in the ledger; the CLI maps all of these to an internal error.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The file could not be opened or configured (missing directory, not a database, locked).
    #[error("failed to open ledger `{}`", path.display())]
    Open {
        /// The path that was given to [`Ledger::open`](super::Ledger::open).
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The file was written by a newer `handoff` whose schema this build does not know.
    #[error(
        "ledger schema version {found} is newer than this build supports ({supported}); \
         use a newer handoff"
    )]
    SchemaTooNew {
        /// `PRAGMA user_version` found in the file.
        found: i64,
        /// The newest version this build can migrate to.
        supported: i64,
    },
    /// A dry run found a ledger written by an older `handoff`: it reads the
    /// file without writing, so it does not migrate it.
    #[error(
        "ledger `{}` has schema version {found}, older than this build's {supported}; \
         a dry run does not change the ledger: run `handoff ledger --ledger {}` once to \
         bring it up to date",
        path.display(),
        path.display()
    )]
    SchemaTooOld {
        /// The file.
        path: PathBuf,
        /// `PRAGMA user_version` found in the file.
        found: i64,
        /// The version this build reads.
        supported: i64,
    },
    /// A schema migration failed; the file is left at the version it had.
    #[error("failed to migrate the ledger schema to version {version}")]
    Migrate {
        /// The version that could not be reached.
        version: i64,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// A run id that is not in the ledger.
    #[error("run {0} is not in the ledger")]
    UnknownRun(RunId),
    /// A (run, row) pair that is not in the ledger.
    #[error("row {row} of run {run} is not in the ledger")]
    UnknownRow {
        /// The run.
        run: RunId,
        /// The 1-based data row.
        row: u64,
    },
    /// An attempt id that is not in the ledger.
    #[error("attempt {0} is not in the ledger")]
    UnknownAttempt(AttemptId),
    /// An attempt already has an answer; answers are written once (a second one is a bug).
    #[error("attempt {attempt} already has the answer `{result}`")]
    AlreadyAnswered {
        /// The attempt.
        attempt: AttemptId,
        /// The answer already recorded.
        result: String,
    },
    /// The API returned a wamid that an earlier attempt already holds.
    #[error("wamid `{wamid}` is already recorded for attempt {existing:?}")]
    DuplicateWamid {
        /// The wamid in the new answer.
        wamid: String,
        /// The attempt that recorded it first.
        existing: Option<AttemptId>,
    },
    /// A list of strings (template parameters, kept headers, webhook URLs) could not be encoded
    /// as JSON.
    #[error("failed to encode template parameters")]
    Params(#[source] serde_json::Error),
    /// Any other SQLite error (I/O, constraint, corrupt value).
    #[error("ledger database error")]
    Sqlite(#[from] rusqlite::Error),
}

impl LedgerError {
    /// A failure the ledger found itself, reported as SQLite's `code` with `message`.
    pub(super) fn sqlite(code: std::ffi::c_int, message: String) -> Self {
        let code = rusqlite::ffi::Error::new(code);
        LedgerError::Sqlite(rusqlite::Error::SqliteFailure(code, Some(message)))
    }
}

impl From<LedgerError> for std::io::Error {
    fn from(e: LedgerError) -> Self {
        std::io::Error::other(e)
    }
}
