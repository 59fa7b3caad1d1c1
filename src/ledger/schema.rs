//! The schema and its migrations: the only place that knows the file's layout and version, so a
//! schema change is one appended migration.

use rusqlite::{Connection, TransactionBehavior};

use super::LedgerError;
pub(super) use super::migrations::MIGRATIONS;

/// Brings the schema up to the newest version, every pending step in one transaction: a new
/// ledger is created with one commit (one fsync, not one per step: a run's start waits for
/// it), and a step that fails leaves the file at the version it had.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), LedgerError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read inside the write transaction, so two processes opening at once cannot both
    // apply the same step.
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let supported = supported(found)?;
    if found == supported {
        return Ok(());
    }
    for version in found + 1..=supported {
        tx.execute_batch(MIGRATIONS[version as usize - 1])
            .map_err(|source| LedgerError::Migrate { version, source })?;
    }
    let done = |source| LedgerError::Migrate {
        version: supported,
        source,
    };
    tx.pragma_update(None, "user_version", supported)
        .map_err(done)?;
    tx.commit().map_err(done)
}

/// The schema version this build reads and writes, unless a file's version `found` is newer.
pub(super) fn supported(found: i64) -> Result<i64, LedgerError> {
    let supported = MIGRATIONS.len() as i64;
    if found > supported {
        return Err(LedgerError::SchemaTooNew { found, supported });
    }
    Ok(supported)
}

#[cfg(test)]
mod tests;
