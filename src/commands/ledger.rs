//! `handoff ledger`: the ledger's size and what fills it, so its growth is seen before the disk
//! fills; `--vacuum` gives pages freed by a prune back. Also the upkeep commands' mapping of
//! a ledger error.

use std::path::Path;

use super::report::open_ledger;
use super::session::lock_ledger;
use crate::cli::LedgerArgs;
use crate::error::Failure;
use crate::exit;
use crate::ledger::LedgerSize;

pub(super) fn internal(e: crate::ledger::LedgerError) -> Failure {
    Failure::of(exit::INTERNAL, e)
}

fn describe(path: &Path, s: &LedgerSize) -> String {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::fs::metadata(wal).map_or(0, |m| m.len());
    let per = s
        .bytes_per_message()
        .map_or_else(|| "-".to_string(), |b| b.to_string());
    format!(
        "ledger             {}\n\
         bytes              {} ({} pages of {}, {} free; write-ahead log {} bytes)\n\
         runs               {} (oldest started {})\n\
         rows               {}\n\
         attempts           {}\n\
         messages           {}\n\
         statuses           {}\n\
         bytes per message  {per}\n",
        path.display(),
        s.bytes(),
        s.page_count,
        s.page_size,
        s.freelist_count,
        wal,
        s.runs,
        s.oldest_run.as_deref().unwrap_or("-"),
        s.rows,
        s.attempts,
        s.messages,
        s.statuses,
    )
}

/// Prints the ledger's size; with `--vacuum`, first rewrites it without free pages, holding the
/// run lock so no run writes meanwhile (a run waits only 5 s for the ledger).
pub(crate) fn ledger(args: &LedgerArgs) -> Result<u8, Failure> {
    let mut l = open_ledger(&args.ledger)?;
    if args.vacuum {
        let _lock = lock_ledger(&args.ledger)?;
        let before = l.size().map_err(internal)?;
        l.vacuum().map_err(internal)?;
        let after = l.size().map_err(internal)?;
        println!(
            "vacuumed: {} bytes -> {} bytes",
            before.bytes(),
            after.bytes()
        );
    }
    let size = l.size().map_err(internal)?;
    print!("{}", describe(&args.ledger, &size));
    Ok(exit::OK)
}
