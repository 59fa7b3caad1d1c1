//! `--fallback backup`: after this run's sends, an order whose message to
//! its partner's contact provably cannot arrive is written to the
//! partner's next contact, once. The proof is [`fate::fallback`]'s to
//! judge; this waits for it (a status still to come is no proof, and no
//! reason either) while tracking lasts, and sends what it decides.

use std::time::Duration;

use tokio::time::Instant;

use crate::delivery::{Directory, Rules, revalidate};
use crate::error::Failure;
use crate::fate::{self, Fate, Known};
use crate::ledger::{Ledger, LedgerError, RunId};
use crate::send::{Job, Stop};

use super::session::Session;

/// How often the ledger is read again for the proofs tracking brings.
const RECHECK: Duration = Duration::from_millis(200);

/// A send to a partner's next contact, with what the row now says.
struct Fallback {
    job: Job,
    contact: String,
    note: String,
}

/// Writes to the next contact of every order of this run whose message
/// cannot arrive, while tracking may still bring such proofs (`wait`, from
/// now); `send` sends the jobs and returns how it stopped, if it did.
pub(super) async fn fall_back<F, Fut>(
    s: &Session,
    rules: &Rules,
    wait: Duration,
    daily: Option<usize>,
    send: F,
) -> Result<Option<Stop>, Failure>
where
    F: Fn(Vec<Job>) -> Fut,
    Fut: std::future::Future<Output = Option<Stop>>,
{
    let Some(directory) = rules.directory.clone() else {
        return Ok(None);
    };
    let deadline = Instant::now() + wait;
    loop {
        let (run, d, r) = (s.run_id, directory.clone(), rules.clone());
        let (due, waiting) = s.recorder.read(move |l| due(l, run, &d, &r, daily)).await?;
        if !due.is_empty() {
            let mut jobs = Vec::with_capacity(due.len());
            for f in due {
                let (row, contact, note) = (f.job.row, f.contact, f.note);
                s.recorder.set_contact(run, row, contact, note).await?;
                jobs.push(f.job);
            }
            s.progress.will_send(jobs.len() as u64);
            if let Some(stop) = send(jobs).await {
                return Ok(Some(stop));
            }
            continue;
        }
        if waiting == 0 || Instant::now() >= deadline || s.interrupt.borrow().is_some() {
            return Ok(None);
        }
        tokio::time::sleep(RECHECK).await;
    }
}

/// The fallbacks [`fate::fallback`] decides for the rows of `run` now, and
/// how many rows may still get one (their message not final yet).
fn due(
    l: &Ledger,
    run: RunId,
    directory: &Directory,
    rules: &Rules,
    daily: Option<usize>,
) -> Result<(Vec<Fallback>, usize), LedgerError> {
    let (mut due, mut waiting) = (Vec::new(), 0);
    // The suppression list and the daily budget hold a next contact back
    // as they hold any row ([`fate::within`]).
    let since = chrono::Utc::now() - fate::budget::WINDOW;
    let limits = fate::Limits {
        suppressed: std::sync::Arc::new(l.suppressions(&crate::codes::REFUSALS)?),
        budget: match daily {
            Some(limit) => Some(fate::Budget::new(limit, l.recipients_since(since)?)),
            None => None,
        },
    };
    for row in l.contact_rows(run)? {
        let contacts = directory.contacts(&row.partner_id);
        let tried = l.phones_tried(&row.order_key)?;
        if contacts.iter().all(|c| tried.contains(&c.phone)) {
            continue;
        }
        let known = Known {
            message: l.accepted_message(&row.order_key)?,
            last: l.last_attempt(&row.order_key)?,
            doubts: l.doubts(&row.order_key)?,
            was_in_doubt: l.ever_in_doubt(&row.order_key)?,
            ..Known::default()
        };
        let Some(fate) = fate::fallback::fallback(&known, &tried, contacts) else {
            waiting += usize::from(known.message.as_ref().is_some_and(|m| !m.is_final));
            continue;
        };
        let (Fate::Fallback { to, .. }, Ok(mut delivery)) = (&fate, revalidate(&row.fields, rules))
        else {
            continue;
        };
        delivery.phone.clone_from(&to.phone);
        delivery.language.clone_from(&to.language);
        if !matches!(
            fate::within(fate.clone(), Some(&delivery), &limits),
            Fate::Fallback { .. }
        ) {
            continue;
        }
        let attempts = known
            .last
            .filter(|a| a.run_id == run)
            .map_or(0, |a| a.attempt_no);
        due.push(Fallback {
            contact: to.label.clone(),
            note: fate.note().unwrap_or_default(),
            job: Job {
                row: row.row,
                delivery,
                attempts,
            },
        });
    }
    Ok((due, waiting))
}
