//! The commands, one file each (xsv's `cmd/`): `run` (the nightly job),
//! `rerun` (the rows of a reconciliation that may be sent again), `track`
//! (statuses, the morning after) and the dry run; `simulate` is the
//! simulator crate's own (`handoff_sim::cli`). The sending ones share a
//! session (lock, ledger, recorder), the send-and-track step and the finish
//! (report, exit code, summary):
//!
//! rows → ingest → settle doubts → send + track (side by side) → settle → report.
//!
//! Every failure becomes a [`Failure`](crate::error::Failure) carrying the
//! documented exit code and its cause chain; a bad row is never a failure,
//! it is data.

mod backup;
mod deliver;
mod directory;
mod dry_run;
mod fallback;
mod finish;
mod history;
mod ledger;
mod needs;
mod preflight;
mod prune;
mod receive;
mod record;
mod report;
mod rerun;
mod run;
mod runs;
mod session;
mod suppressions;
mod track;

pub(crate) use backup::backup;
pub(crate) use history::history;
pub(crate) use ledger::ledger;
pub(crate) use prune::prune;
pub(crate) use receive::receive;
pub(crate) use record::{Sinks, on_failure, recorded};
pub(crate) use report::report;
pub(crate) use rerun::rerun;
pub(crate) use run::run;
pub(crate) use runs::runs;
pub(crate) use suppressions::suppressions;
pub(crate) use track::track;

/// An input that cannot be read (or a row of it), as the command's failure:
/// its own exit code (65 or 66) and message.
fn unreadable(e: crate::input::InputError) -> crate::error::Failure {
    crate::error::Failure::new(e.exit_code(), e.to_string())
}
