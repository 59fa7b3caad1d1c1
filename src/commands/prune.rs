//! `handoff prune`: keeps a ledger that every night adds to from growing without bound, without
//! ever forgetting that an order was sent.

use chrono::Utc;

use super::ledger::internal;
use super::report::open_ledger;
use crate::cli::PruneArgs;
use crate::error::Failure;
use crate::exit;

/// Prunes runs started before now − `--older-than`; safe while a run writes (one short
/// transaction per old run, no run lock).
pub(crate) fn prune(args: &PruneArgs) -> Result<u8, Failure> {
    let cut = chrono::Duration::from_std(args.older_than)
        .ok()
        .and_then(|d| Utc::now().checked_sub_signed(d))
        .ok_or_else(|| Failure::new(exit::CONFIG, "--older-than is too far back"))?;
    let mut l = open_ledger(&args.ledger)?;
    let n = l.prune(cut, args.dry_run).map_err(internal)?;
    let verb = if args.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    println!(
        "{} runs started before {}: {verb} {} input rows, {} attempts, {} messages, {} statuses, \
         {} whole runs; kept for dedup {} messages (the newest of each order) and {} attempts \
         (theirs, and unsettled doubts)",
        n.old_runs,
        cut.format("%Y-%m-%d %H:%M UTC"),
        n.rows,
        n.attempts,
        n.messages,
        n.statuses,
        n.runs,
        n.kept_messages,
        n.kept_attempts,
    );
    if !args.dry_run && n.rows + n.attempts + n.messages + n.statuses > 0 {
        println!(
            "the freed pages are reused by the next nights; `handoff ledger --vacuum --ledger {}` \
             gives them back now (when no run is going)",
            args.ledger.display()
        );
    }
    Ok(exit::OK)
}
