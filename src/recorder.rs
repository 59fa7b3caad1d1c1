//! The single owner of the ledger during a run.
//!
//! `rusqlite::Connection` is not `Sync`, and SQLite wants one writer. So one
//! thread owns the [`Ledger`] and runs the jobs that senders, pollers and
//! the input stage hand it, in the order they arrive; callers await the
//! answer. A sender awaits its intent's commit before its request leaves,
//! which is what makes a crash at any instant recoverable.
//!
//! Group commit: the hot writes (intents, answers, statuses) come through
//! [`Recorder::grouped`]. When several are queued, the thread runs them all
//! in one transaction and answers each caller only after that transaction's
//! commit, so each caller still sees its own write durable, and a night of
//! sends costs one fsync per batch instead of two per message.
//!
//! One writer of run state: every write to the ledger during a command is
//! one of the named methods below, so what a run can change is listed in
//! one place. Stages read through [`Recorder::read`], which hands out a
//! shared `&Ledger` that cannot write.

mod webhooks;

use std::thread;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use crate::error::Failure;
use crate::exit;
use crate::ledger::{
    Answer, AttemptId, Intent, Ledger, LedgerError, RowRecord, RunId, RunMeta, StatusUpdate,
    Verdict,
};

/// The most jobs one group commit takes.
const MAX_GROUP: usize = 512;

/// Tells a grouped job's caller how its group's commit went.
type Reply = Box<dyn FnOnce(Result<(), &LedgerError>) + Send>;

enum Job {
    /// Runs on its own (it may open its own transaction).
    Alone(Box<dyn FnOnce(&mut Ledger) + Send>),
    /// Runs inside a group; answered after the group's commit.
    Grouped(Box<dyn FnOnce(&mut Ledger) -> Reply + Send>),
}

/// A cheap handle to the ledger thread.
#[derive(Clone)]
pub(crate) struct Recorder {
    jobs: mpsc::UnboundedSender<Job>,
}

/// The ledger thread went away (it panicked): nothing more can be recorded,
/// so nothing more may be sent.
#[derive(Debug, thiserror::Error)]
#[error("the ledger thread has stopped")]
pub(crate) struct RecorderGone;

impl Recorder {
    /// Moves `ledger` onto its own thread. Join the handle after every
    /// `Recorder` clone is dropped to get the ledger back.
    pub(crate) fn start(mut ledger: Ledger) -> (Recorder, thread::JoinHandle<Ledger>) {
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        let handle = thread::Builder::new()
            .name("ledger".into())
            .spawn(move || {
                let mut next = None;
                while let Some(job) = next.take().or_else(|| queue.blocking_recv()) {
                    match job {
                        Job::Alone(f) => f(&mut ledger),
                        Job::Grouped(f) => {
                            next = run_group(&mut ledger, f, &mut queue);
                        }
                    }
                }
                ledger
            })
            .expect("failed to spawn the ledger thread");
        (Recorder { jobs }, handle)
    }

    /// Runs `f` on the ledger thread and returns its result.
    async fn call<R, F>(&self, f: F) -> Result<R, RecorderGone>
    where
        F: FnOnce(&mut Ledger) -> R + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job = Job::Alone(Box::new(move |ledger: &mut Ledger| {
            let _ = tx.send(f(ledger));
        }));
        self.submit(job, rx).await
    }

    /// Queues `job` and awaits the answer it sends on `rx`.
    async fn submit<R>(&self, job: Job, rx: oneshot::Receiver<R>) -> Result<R, RecorderGone> {
        self.jobs.send(job).map_err(|_| RecorderGone)?;
        rx.await.map_err(|_| RecorderGone)
    }

    /// Runs `f` on the ledger thread, possibly in one transaction with
    /// other grouped jobs, and returns its result once that transaction is
    /// committed. `f` may only use the ledger methods that nest (see
    /// [`Ledger::begin_group`]). If the group's commit fails, the result is
    /// that error, whatever `f` returned.
    async fn grouped<R, F>(&self, f: F) -> Result<Result<R, LedgerError>, RecorderGone>
    where
        F: FnOnce(&mut Ledger) -> Result<R, LedgerError> + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job = Job::Grouped(Box::new(move |ledger: &mut Ledger| {
            let result = f(ledger);
            Box::new(move |commit: Result<(), &LedgerError>| {
                let _ = tx.send(match commit {
                    Ok(()) => result,
                    Err(e) => Err(LedgerError::Sqlite(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
                        Some(format!("the ledger commit failed: {e}")),
                    ))),
                });
            }) as Reply
        }));
        self.submit(job, rx).await
    }
}

/// The run-state writes, each one named for what it records. A ledger or
/// recorder failure here is a bug or a broken disk: exit 70 with its cause.
impl Recorder {
    /// Runs a read on the ledger thread (`&Ledger`: it cannot write).
    pub(crate) async fn read<R, F>(&self, f: F) -> Result<R, Failure>
    where
        F: FnOnce(&Ledger) -> Result<R, LedgerError> + Send + 'static,
        R: Send + 'static,
    {
        self.write(move |l| f(l)).await
    }

    /// Runs a write on the ledger thread; private, so every write has a name.
    async fn write<R, F>(&self, f: F) -> Result<R, Failure>
    where
        F: FnOnce(&mut Ledger) -> Result<R, LedgerError> + Send + 'static,
        R: Send + 'static,
    {
        settled(self.call(f).await)
    }

    /// Runs a hot write in a group commit (see [`Recorder::grouped`]).
    async fn write_grouped<R, F>(&self, f: F) -> Result<R, Failure>
    where
        F: FnOnce(&mut Ledger) -> Result<R, LedgerError> + Send + 'static,
        R: Send + 'static,
    {
        settled(self.grouped(f).await)
    }

    /// Records the intent of an attempt, durable before this returns, so
    /// its request never leaves ahead of it.
    pub(crate) async fn record_intent(&self, intent: Intent) -> Result<AttemptId, Failure> {
        self.write_grouped(move |l| l.record_intent(&intent)).await
    }

    /// Records the API's answer to an attempt.
    pub(crate) async fn record_answer(
        &self,
        attempt: AttemptId,
        answer: Answer,
    ) -> Result<(), Failure> {
        self.write_grouped(move |l| l.record_answer(attempt, &answer))
            .await
    }

    /// Records one poll of a message and the statuses it saw.
    pub(crate) async fn record_poll(
        &self,
        wamid: String,
        updates: Vec<StatusUpdate>,
    ) -> Result<usize, Failure> {
        self.write_grouped(move |l| l.record_poll(&wamid, &updates))
            .await
    }

    /// Records the start of a command's run.
    pub(crate) async fn begin_run(&self, meta: RunMeta) -> Result<RunId, Failure> {
        self.write(move |l| l.begin_run(&meta)).await
    }

    /// Records how a run ended.
    pub(crate) async fn finish_run(
        &self,
        run: RunId,
        code: u8,
        at: DateTime<Utc>,
    ) -> Result<(), Failure> {
        self.write(move |l| l.finish_run(run, i32::from(code), at))
            .await
    }

    /// Records the input's columns that the report carries (`--keep-columns`).
    pub(crate) async fn set_extra_columns(
        &self,
        run: RunId,
        headers: Vec<String>,
    ) -> Result<(), Failure> {
        self.write(move |l| l.set_extra_columns(run, &headers))
            .await
    }

    /// Decides a batch of rows with read-only lookups and records them, all
    /// in one transaction (the lookups take the WAL read lock once).
    pub(crate) async fn record_rows<D, F>(&self, run: RunId, decide: F) -> Result<D, Failure>
    where
        F: FnOnce(&Ledger) -> Result<(Vec<RowRecord>, D), LedgerError> + Send + 'static,
        D: Send + 'static,
    {
        self.write(move |l| {
            l.atomically(|l| {
                let (records, decided) = decide(l)?;
                l.record_rows(run, &records)?;
                Ok(decided)
            })
        })
        .await
    }

    /// Sets what a run does with a row, and why.
    pub(crate) async fn set_verdict(
        &self,
        run: RunId,
        row: u64,
        verdict: Verdict,
        reason: Option<String>,
        problem: Option<&'static str>,
    ) -> Result<(), Failure> {
        self.write(move |l| l.set_verdict(run, row, verdict, reason.as_deref(), problem))
            .await
    }

    /// Adds a note to a row of `run`.
    pub(crate) async fn add_note(&self, run: RunId, row: u64, note: String) -> Result<(), Failure> {
        self.write(move |l| l.add_note(run, row, &note)).await
    }

    /// Marks the rows to send that were never attempted `skipped`, with why.
    pub(crate) async fn skip_unattempted(
        &self,
        run: RunId,
        why: String,
        max_attempts: u32,
    ) -> Result<usize, Failure> {
        self.write(move |l| l.skip_unattempted(run, &why, max_attempts))
            .await
    }

    /// Records that a doubtful attempt was found in the message history.
    pub(crate) async fn resolve_doubt(
        &self,
        attempt: AttemptId,
        wamid: String,
        at: DateTime<Utc>,
        note: &'static str,
    ) -> Result<(), Failure> {
        self.write(move |l| l.resolve_doubt(attempt, &wamid, at, note))
            .await
    }
}

/// A job's answer as a command's result: a ledger or recorder failure is a
/// bug or a broken disk (exit 70, with its cause).
fn settled<R>(answer: Result<Result<R, LedgerError>, RecorderGone>) -> Result<R, Failure> {
    answer
        .map_err(|e| Failure::of(exit::INTERNAL, e))?
        .map_err(|e| Failure::of(exit::INTERNAL, e))
}

/// Runs `first` and the grouped jobs queued behind it in one transaction,
/// commits, then answers them. Returns the job that ended the group, if an
/// ungrouped one did.
fn run_group(
    ledger: &mut Ledger,
    first: Box<dyn FnOnce(&mut Ledger) -> Reply + Send>,
    queue: &mut mpsc::UnboundedReceiver<Job>,
) -> Option<Job> {
    if ledger.begin_group().is_err() {
        // No group: the job's own savepoints commit it on its own.
        first(ledger)(Ok(()));
        return None;
    }
    let mut replies = vec![first(ledger)];
    let mut next = None;
    while replies.len() < MAX_GROUP {
        match queue.try_recv() {
            Ok(Job::Grouped(f)) => replies.push(f(ledger)),
            Ok(other) => {
                next = Some(other);
                break;
            }
            Err(_) => break,
        }
    }
    let commit = ledger.commit_group();
    for reply in replies {
        reply(commit.as_ref().map(|_| ()));
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn grouped_and_lone_jobs_run_in_order_and_all_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sqlite");
        let (recorder, thread) = Recorder::start(Ledger::open(&path).unwrap());
        let meta = crate::ledger::RunMeta {
            kind: "run".into(),
            input_path: None,
            api_url: "http://127.0.0.1:1".into(),
            channel: "c".into(),
            simulated: false,
            template: "t".into(),
            language: "en".into(),
            started_at: chrono::Utc::now(),
        };
        let run = recorder
            .call(move |l| l.begin_run(&meta))
            .await
            .unwrap()
            .unwrap();
        // Many grouped writes queued at once, a lone read among them.
        let mut calls = Vec::new();
        for i in 0..200u32 {
            let r = recorder.clone();
            calls.push(tokio::spawn(async move {
                r.grouped(move |l| {
                    l.record_intent(&crate::ledger::Intent {
                        run,
                        order_key: format!("K{i}"),
                        attempt_no: 1,
                        phone: "4915100000".into(),
                        params: Vec::new(),
                        at: chrono::Utc::now(),
                        language: None,
                        contact: None,
                    })
                })
                .await
            }));
        }
        let count = recorder
            .call(move |l| l.run_doubts(run).map(|d| d.len()))
            .await
            .unwrap()
            .unwrap();
        assert!(count <= 200);
        let mut ids = Vec::new();
        for c in calls {
            ids.push(c.await.unwrap().unwrap().unwrap());
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 200, "every grouped write got its own attempt");
        drop(recorder);
        drop(thread.join().unwrap());
        // Durable: a fresh connection sees all 200.
        let l = Ledger::open(&path).unwrap();
        assert_eq!(l.run_doubts(run).unwrap().len(), 200);
    }
}
