//! The ledger's upkeep on the command line: `prune`, `backup`, `ledger`. `ledger` and `backup`
//! default to the ledger in the current folder, as `runs` and `report` do; `prune`, which
//! deletes, acts only on a ledger named. Upkeep on a ledger that is not there creates nothing
//! and says so.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::args::LEDGER_HERE;
use super::ledger_args::{LEDGER_READ, LEDGER_READ_LONG};

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
    /// The ledger to prune (required: prune deletes).
    ///
    /// Required, unlike on the commands that only read the ledger: prune
    /// deletes, so it acts only on a ledger you named, never on whatever
    /// handoff.ledger.sqlite the current folder holds.
    #[arg(long, value_name = "FILE")]
    pub ledger: PathBuf,
    /// Prune runs started longer ago than this (`400d`), keeping what cross-night dedup needs:
    /// the newest message of every order, its attempt and statuses, unsettled doubts.
    #[arg(long, value_parser = older_than, value_name = "DURATION")]
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
    #[arg(long, default_value = LEDGER_HERE, value_name = "FILE")]
    #[arg(help = LEDGER_READ, long_help = LEDGER_READ_LONG)]
    pub ledger: PathBuf,
}

/// `handoff ledger`.
#[derive(Debug, Clone, Args)]
pub struct LedgerArgs {
    #[arg(long, default_value = LEDGER_HERE, value_name = "FILE")]
    #[arg(help = LEDGER_READ, long_help = LEDGER_READ_LONG)]
    pub ledger: PathBuf,
    /// Give free pages back to the file system (`VACUUM`); refused while a run holds the ledger.
    #[arg(long)]
    pub vacuum: bool,
}
