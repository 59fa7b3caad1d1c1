//! The single owner of the ledger during a run.
//!
//! `rusqlite::Connection` is not `Sync`, and SQLite wants one writer. So one
//! thread owns the [`Ledger`] and runs the jobs that senders, pollers and
//! the input stage hand it, in the order they arrive; callers await the
//! answer. A sender awaits its intent's commit before its request leaves,
//! which is what makes a crash at any instant recoverable.

use std::thread;

use tokio::sync::{mpsc, oneshot};

use crate::ledger::Ledger;

type Job = Box<dyn FnOnce(&mut Ledger) + Send>;

/// A cheap handle to the ledger thread.
#[derive(Clone)]
pub struct Recorder {
    jobs: mpsc::UnboundedSender<Job>,
}

/// The ledger thread went away (it panicked): nothing more can be recorded,
/// so nothing more may be sent.
#[derive(Debug, thiserror::Error)]
#[error("the ledger thread has stopped")]
pub struct RecorderGone;

impl Recorder {
    /// Moves `ledger` onto its own thread. Join the handle after every
    /// `Recorder` clone is dropped to get the ledger back.
    pub fn start(mut ledger: Ledger) -> (Recorder, thread::JoinHandle<Ledger>) {
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        let handle = thread::Builder::new()
            .name("ledger".into())
            .spawn(move || {
                while let Some(job) = queue.blocking_recv() {
                    job(&mut ledger);
                }
                ledger
            })
            .expect("failed to spawn the ledger thread");
        (Recorder { jobs }, handle)
    }

    /// Runs `f` on the ledger thread and returns its result.
    pub async fn call<R, F>(&self, f: F) -> Result<R, RecorderGone>
    where
        F: FnOnce(&mut Ledger) -> R + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |ledger: &mut Ledger| {
                let _ = tx.send(f(ledger));
            }))
            .map_err(|_| RecorderGone)?;
        rx.await.map_err(|_| RecorderGone)
    }
}
