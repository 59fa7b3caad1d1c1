//! `--fallback backup`: after this run's sends, an order whose message to
//! its partner's contact provably cannot arrive is written to the
//! partner's next contact, once. The proof is [`fate::fallback`]'s to
//! judge; this waits for it (a status still to come is no proof, and no
//! reason either) while tracking lasts, and sends what it decides.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::delivery::{Directory, Rules, revalidate};
use crate::error::Failure;
use crate::fate::{self, Fate, Known};
use crate::ledger::{Ledger, LedgerError, NewContact, RunId};
use crate::send::{Job, Stop};
use crate::track::Watched;

use super::session::Session;

/// How often the ledger is read again for the proofs tracking brings.
const RECHECK: Duration = Duration::from_millis(200);

/// Writes to the next contact of every order of this run whose message
/// cannot arrive, while tracking may still bring such proofs (`wait`, from
/// now); `send` sends the jobs and returns how it stopped, if it did.
pub(super) async fn fall_back<F, Fut>(
    s: &Session,
    rules: &Rules,
    wait: Duration,
    daily: Option<usize>,
    watched: Watched,
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
    // What earlier rounds learnt of each row.
    let seen = Arc::new(Mutex::new(Seen {
        watched,
        ..Seen::default()
    }));
    loop {
        let (run, d, r, done) = (s.run_id, directory.clone(), rules.clone(), seen.clone());
        let (jobs, waiting) = s
            .recorder
            .read(move |l| {
                due(
                    l,
                    run,
                    &d,
                    &r,
                    daily,
                    &mut done.lock().expect("not poisoned"),
                )
            })
            .await?;
        let held = std::mem::take(&mut seen.lock().expect("not poisoned").held);
        for (row, note) in held {
            s.recorder.add_note(s.run_id, row, note).await?;
        }
        if !jobs.is_empty() {
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

/// What the rounds of the fallback wait learnt of the rows of a run, so a
/// round reads the ledger only for rows that may have changed.
#[derive(Default)]
struct Seen {
    /// Rows whose fate no later status can change: not read again.
    settled: HashSet<u64>,
    /// Rows with a contact still untried whose message was open when last
    /// read: while it stays open, nothing is read of them.
    waiting: HashSet<u64>,
    /// The messages tracking still polls: a `read` may follow a `failed`
    /// among them, so it proves nothing yet.
    watched: Watched,
    /// Rows whose next contact the suppression list or the daily budget
    /// held back, with the note that says so, to be written.
    held: Vec<(u64, String)>,
}

/// The fallbacks [`fate::fallback`] decides for the rows of `run` now, and
/// how many rows may still get one (their message not final yet).
fn due(
    l: &Ledger,
    run: RunId,
    directory: &Directory,
    rules: &Rules,
    daily: Option<usize>,
    seen: &mut Seen,
) -> Result<(Vec<Job>, usize), LedgerError> {
    let (mut due, mut waiting) = (Vec::new(), 0);
    // Read only once a row has a fallback to hold back.
    let mut limits = None;
    for row in l.contact_rows(run)? {
        if seen.settled.contains(&row.row) {
            continue;
        }
        if row.open && seen.waiting.contains(&row.row) {
            waiting += 1;
            continue;
        }
        let contacts = directory.contacts(&row.partner_id);
        let tried = l.phones_tried(&row.order_key)?;
        if contacts.iter().all(|c| tried.contains(&c.phone)) {
            seen.settled.insert(row.row);
            continue;
        }
        if row.open {
            seen.waiting.insert(row.row);
            waiting += 1;
            continue;
        }
        seen.waiting.remove(&row.row);
        let known = Known {
            message: l.accepted_message(&row.order_key)?,
            last: l.last_attempt(&row.order_key)?,
            doubts: l.doubts(&row.order_key)?,
            was_in_doubt: l.ever_in_doubt(&row.order_key)?,
            ..Known::default()
        };
        // Still polled, its `failed` proves nothing yet: read again next round.
        if let Some(m) = &known.message
            && seen.watched.contains(&m.wamid)
        {
            waiting += 1;
            continue;
        }
        // Nothing a later status could change: its message is final.
        let (Some(fate), Ok(mut delivery)) = (
            fate::fallback::fallback(&known, &tried, contacts),
            revalidate(&row.fields, rules),
        ) else {
            seen.settled.insert(row.row);
            continue;
        };
        let Fate::Fallback { to, after } = &fate else {
            continue; // fate::fallback decides nothing else
        };
        delivery.phone.clone_from(&to.phone);
        delivery.language.clone_from(&to.language);
        let contact = NewContact {
            row: row.row,
            label: to.label.clone(),
            note: fate.note().unwrap_or_default(),
        };
        let limits = match &mut limits {
            Some(read) => read,
            unread => unread.insert(limits_now(l, daily)?),
        };
        let held = fate::within(fate.clone(), Some(&delivery), limits);
        if let Some(note) = fate::fallback::held_note(&held, after, to) {
            seen.held.push((row.row, note));
            seen.settled.insert(row.row);
            continue;
        }
        // Numbered on from this run's attempts to the order, which were
        // the contact's before: the next contact has --max-attempts of its own.
        let before = known
            .last
            .filter(|a| a.run_id == run)
            .map_or(0, |a| a.attempt_no);
        due.push(Job {
            row: row.row,
            delivery,
            attempts: before,
            before,
            contact: Some(contact),
        });
    }
    Ok((due, waiting))
}

/// The suppression list and the daily budget now: they hold a next
/// contact back as they hold any row ([`fate::within`]).
fn limits_now(l: &Ledger, daily: Option<usize>) -> Result<fate::Limits, LedgerError> {
    let since = chrono::Utc::now() - fate::budget::WINDOW;
    Ok(fate::Limits {
        suppressed: Arc::new(l.suppressions(&crate::codes::REFUSALS)?),
        budget: match daily {
            Some(limit) => Some(fate::Budget::new(limit, l.recipients_since(since)?)),
            None => None,
        },
    })
}
