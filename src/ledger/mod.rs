//! The ledger: the SQLite file that is the single source of truth of `handoff`.
//!
//! Every run, every input row, every send attempt (its *intent* committed before the HTTP request
//! leaves, its *answer* after), every accepted message (wamid) and every status 1MSG reported is
//! recorded here. The reconciliation CSV is a view of this file, and a rerun after a crash reads it
//! to avoid sending an already-accepted order twice.
//!
//! Durability: WAL journal with `synchronous=FULL`, so a committed intent survives a host crash
//! (a power cut after the commit loses nothing). Every write method is its own transaction; batch methods commit once per
//! batch.
//!
//! Times are stored as integer milliseconds since the Unix epoch (UTC), which sort in time order
//! and take a quarter of the room RFC 3339 text took (schema 11); they are shown as RFC 3339.

mod answer;
mod attempts;
mod budget;
mod codec;
mod connection;
mod contacts;
mod doubts;
mod error;
#[cfg(test)]
mod fixtures;
mod groups;
mod history;
mod messages;
mod migrations;
mod prune;
mod records;
mod report;
mod rows;
mod runs;
mod schema;
mod size;
mod status;
mod suppressions;
mod verdict;
mod webhooks;

pub use crate::api::classify::{Fatal, RetryKind, SendClass, Taken};
pub use crate::api::hooks::Pricing;
pub use connection::Ledger;
pub use contacts::{ContactRow, NewContact};
pub use error::LedgerError;
pub use history::{OrderHistory, OrderMessage, OrderRow};
pub use prune::Pruned;
pub use records::{
    Answer, AttemptId, AttemptInfo, Doubt, Intent, MessageInfo, RowRecord, RunId, RunMeta,
    StatusUpdate,
};
pub use report::ReportFacts;
pub use runs::RunInfo;
pub use size::LedgerSize;
pub use status::{HELD, Status};
pub use suppressions::Suppression;
pub use verdict::Verdict;
pub use webhooks::{AckMerged, Registration};
