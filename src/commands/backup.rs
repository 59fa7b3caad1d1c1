//! `handoff backup PATH`: a copy of the ledger that can be taken while the nightly run writes,
//! and that a crash during the copy never leaves half-written at PATH.

use std::fs::{self, File};

use super::ledger::internal;
use super::report::open_ledger;
use crate::cli::BackupArgs;
use crate::error::Failure;
use crate::exit;

/// Copies the ledger to a temporary file beside PATH with SQLite's online backup, fsyncs it
/// and renames it over PATH.
pub(crate) fn backup(args: &BackupArgs) -> Result<u8, Failure> {
    let l = open_ledger(&args.ledger)?;
    if args.path.is_dir() {
        let why = format!(
            "`{}` is a directory; name the backup file",
            args.path.display()
        );
        return Err(Failure::new(exit::CONFIG, why));
    }
    let name = args.path.file_name().map_or_else(
        || "ledger-backup".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let tmp = args
        .path
        .with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    l.backup_to(&tmp).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        match e {
            crate::ledger::LedgerError::Open { .. } => Failure::of(exit::CONFIG, e),
            e => internal(e),
        }
    })?;
    let placed = (|| {
        // The copy holds what the ledger holds (phone numbers): no more readable than it.
        fs::set_permissions(&tmp, fs::metadata(&args.ledger)?.permissions())?;
        File::open(&tmp)?.sync_all()?;
        fs::rename(&tmp, &args.path)?;
        if let Some(dir) = args.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        Ok::<_, std::io::Error>(())
    })();
    placed.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        let context = format!("failed to put the backup at `{}`", args.path.display());
        Failure::because(exit::CONFIG, context, e)
    })?;
    let bytes = fs::metadata(&args.path).map_or(0, |m| m.len());
    println!(
        "backed up `{}` to `{}` ({bytes} bytes, checked)",
        args.ledger.display(),
        args.path.display()
    );
    Ok(exit::OK)
}
