//! The partners file of a sending command (`--partners`): read before
//! anything is sent (the template languages its contacts need are
//! `session::connect`'s to check), and its opted-out
//! contacts put on the suppression list before any row is decided.

use std::sync::Arc;

use chrono::Utc;
use tracing::warn;

use super::session::Held;
use crate::cli::SendingArgs;
use crate::codes::REFUSALS;
use crate::delivery::{Directory, Rules};
use crate::error::Failure;
use crate::exit;

/// The partners file (`--partners`), read before anything is sent: one
/// that cannot be read, or has no partner id column, is a misconfiguration
/// that stops the command. Its rows that cannot be used are said once,
/// each with its line, and cost only their contact.
pub(super) fn directory(sending: &SendingArgs) -> Result<Option<Arc<Directory>>, Failure> {
    let Some(path) = &sending.partners else {
        return Ok(None);
    };
    let (directory, problems) =
        crate::delivery::load_directory(path, sending.default_country.as_ref()).map_err(|e| {
            Failure::new(exit::CONFIG, format!("--partners: {e}; nothing was sent"))
        })?;
    for (line, p) in &problems {
        let file = &directory.file;
        if crate::logging::is_json() {
            warn!(file = %file, line, problem = %p, "a partners row not used");
        } else {
            let said = format!("{file} line {line}: {p}; this contact is not used\n");
            let _ = crate::progress::write_stderr(said.as_bytes());
        }
    }
    Ok(Some(Arc::new(directory)))
}

/// The contacts the partners file says opted out join the suppression
/// list before any row is decided, as a phone suppressed by hand: a
/// partner who asked for no more messages gets none, for every order and
/// every partner that uses the phone, until a person lifts it (`handoff
/// suppressions remove`), whatever later files say. One already suppressed
/// keeps its date.
pub(super) fn suppress_opted_out(held: &Held, rules: &Rules) -> Result<(), Failure> {
    let Some(directory) = rules.directory.as_deref() else {
        return Ok(());
    };
    let added = held
        .ledger
        .suppress_new(directory.opted_out(), &REFUSALS, Utc::now());
    added.map(drop).map_err(|e| Failure::of(exit::CONFIG, e))
}
