//! The send stage's input: the run's rows to send, read back from the
//! ledger a page at a time, so the night's work waits on disk and not in
//! memory.

use tokio::sync::mpsc;
use tracing::warn;

use super::Job;
use crate::delivery::Rules;
use crate::ledger::RunId;
use crate::recorder::Recorder;

/// Reads the run's rows to send from the ledger, a page at a time, and
/// hands them to the send stage through a bounded channel: the night's work
/// waits in the ledger, not in memory. The stored raw fields are validated
/// again, which gives the same delivery (cleaning is idempotent).
pub(crate) fn feed(recorder: Recorder, run_id: RunId, rules: Rules) -> mpsc::Receiver<Job> {
    const PAGE: u32 = 2_000;
    let (tx, rx) = mpsc::channel(PAGE as usize);
    tokio::spawn(async move {
        let mut after = 0;
        loop {
            let page = match recorder
                .read(move |l| l.send_rows(run_id, after, PAGE))
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    warn!(error = %e, "failed to read the rows to send");
                    return;
                }
            };
            let Some((last, _)) = page.last() else { return };
            after = *last;
            for (row, fields) in page {
                match crate::delivery::revalidate(&fields, &rules) {
                    Ok(delivery) => {
                        let job = Job {
                            row,
                            delivery,
                            attempts: 0,
                            before: 0,
                            contact: None,
                        };
                        if tx.send(job).await.is_err() {
                            return; // the send stage stopped
                        }
                    }
                    Err(p) => {
                        warn!(row, problem = %p, "a recorded row no longer validates; not sent")
                    }
                }
            }
        }
    });
    rx
}
