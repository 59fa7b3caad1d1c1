//! The ledger's upkeep on the command line: `prune`, `backup`, `ledger`. Each names its ledger
//! (no default): upkeep on a ledger that is not there creates nothing and says so.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// A prune cut of at least a day: the run going on now, and its report, are never pruned.
fn older_than(s: &str) -> Result<Duration, String> {
    let d = crate::duration::parse(s)?;
    if d < Duration::from_secs(86_400) {
        return Err(format!(
            "`{s}` is under a day; prune keeps at least the last day (write it like 400d)"
        ));
    }
    Ok(d)
}

/// `handoff prune`.
#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// The ledger to prune.
    #[arg(long)]
    pub ledger: PathBuf,
    /// Prune runs started longer ago than this (`400d`), keeping what cross-night dedup needs:
    /// the newest message of every order, its attempt and statuses, unsettled doubts.
    #[arg(long, value_parser = older_than)]
    pub older_than: Duration,
    /// Count what would be deleted and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `handoff backup`.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// Where the copy goes (replaced atomically if it exists).
    pub path: PathBuf,
    /// The ledger to copy.
    #[arg(long)]
    pub ledger: PathBuf,
}

/// `handoff ledger`.
#[derive(Debug, Clone, Args)]
pub struct LedgerArgs {
    /// The ledger to describe.
    #[arg(long)]
    pub ledger: PathBuf,
    /// Give free pages back to the file system (`VACUUM`); refused while a run holds the ledger.
    #[arg(long)]
    pub vacuum: bool,
}
