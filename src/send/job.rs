//! What the send stage is given and what it hands on: its settings, the
//! deliveries it works through, and the accepted messages track polls.
//! Plain data, so that run and track can name them without reaching into
//! how the stage schedules or sends.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::delivery::Delivery;
use crate::ledger::{NewContact, RunId};

#[derive(Debug, Clone)]
pub(crate) struct SendSettings {
    pub run: RunId,
    pub template: String,
    pub namespace: Option<String>,
    pub language: String,
    /// Messages per second for the channel.
    pub rate: f64,
    /// Minimum spacing between two sends to one recipient.
    pub pair_interval: Duration,
    pub concurrency: usize,
    pub max_attempts: u32,
}

/// One delivery waiting to be sent.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub row: u64,
    pub delivery: Delivery,
    /// Attempts of the order already made in this run: the next is
    /// numbered on from them.
    pub attempts: u32,
    /// Of those, the ones made before this job, to a contact before the
    /// fallback's (`--fallback backup`): they do not count against this
    /// contact's `--max-attempts`.
    pub before: u32,
    /// A fallback's next contact: the row moves to it with the intent of
    /// the first attempt, not before.
    pub contact: Option<NewContact>,
}

/// The deliveries a send stage works through.
pub(crate) enum Work {
    /// A short list (a second pass over doubts settled from the history).
    Jobs(Vec<Job>),
    /// The night's rows, fed from the ledger a window at a time.
    Feed(mpsc::Receiver<Job>),
}

/// A message accepted by the API, handed to the track stage.
#[derive(Debug, Clone)]
pub(crate) struct Accepted {
    pub wamid: String,
}
