//! Which rows to send: each row read is judged (valid or not), then its
//! order's facts are read from the ledger ([`known`]) and [`crate::fate`]
//! decides, a batch at a time: a duplicate of an earlier row of this file,
//! an order an earlier run already sent (reused, or changed), an order
//! whose earlier send is in doubt (settled later, see [`crate::settle`]),
//! or a row to send. The facts come from read-only lookups, and the rows
//! are recorded by the recorder in the same transaction.

use std::collections::HashMap;

use tracing::info;

use crate::delivery::{Contact, Delivery, Rules, validate};
use crate::error::Failure;
use crate::fate::{self, Ask, Fate, Known};
use crate::input::{Field, RawRow, RowProblem, shorten_quoted};
use crate::ledger::{Doubt, Ledger, LedgerError, RunId};
use crate::progress::Progress;
use crate::recorder::Recorder;

mod record;

use record::{row_record, written_to};

/// How many rows go to the ledger in one transaction.
const ROW_BATCH: usize = 1000;

/// A row read and judged, before the ledger decides about earlier runs.
pub(crate) struct Judged {
    pub raw: RawRow,
    pub result: Result<Delivery, RowProblem>,
    pub ask: Ask,
    /// What the command has to say about the row (a rerun: what the file
    /// changed that was not sent); it goes into the row's notes.
    pub note: Option<String>,
    /// The contacts of the row's partner (`--partners`), in the order
    /// they are written to: the row is for the first.
    pub partner_contacts: Vec<Contact>,
}

impl Judged {
    /// The order key the row's facts are looked up by: a held row's as the
    /// file has it (it is not judged by its cells), another's when it is
    /// valid.
    pub(crate) fn key(&self) -> Option<&str> {
        match (self.ask, &self.result) {
            (Ask::Hold(_), _) => Some(self.raw.fields.order_key()).filter(|k| !k.is_empty()),
            (_, Ok(d)) => Some(&d.order_key),
            (_, Err(_)) => None,
        }
    }
}

/// A problem's message quotes the value it judged; a long value (a 50 MB
/// line) is cut there to a prefix and its length, so the report, the dry
/// run and the summary stay readable.
///
/// With a partners file the row's partner name and phone come from it
/// first ([`Directory::resolve`](crate::delivery::Directory::resolve)),
/// and where it disagrees with the row is among the row's warnings.
pub(crate) fn judge(mut raw: RawRow, rules: &Rules, ask: Ask) -> Judged {
    // A held row is never sent: it keeps what it was sent with.
    let resolved = match (&raw.problem, &rules.directory, ask) {
        (_, _, Ask::Hold(_)) | (Some(_), _, _) | (_, None, _) => None,
        (None, Some(directory), _) => Some(directory.resolve(&mut raw.fields, rules)),
    };
    let result = match (&raw.problem, &resolved) {
        (Some(p), _) | (None, Some(Err(p))) => Err(p.clone()),
        (None, _) => validate(&raw.fields, rules).map_err(|mut p| {
            let values = Field::ALL.map(|f| raw.fields.get(f));
            if let Some(short) = shorten_quoted(&p.message, &values) {
                p.message = short;
            }
            p
        }),
    };
    let (result, partner_contacts) = match (result, resolved) {
        (Ok(mut d), Some(Ok(r))) => {
            d.warnings.splice(0..0, r.warnings);
            (Ok(d), r.contacts)
        }
        (result, _) => (result, Vec::new()),
    };
    Judged {
        raw,
        result,
        ask,
        note: None,
        partner_contacts,
    }
}

/// Why an invalid row is not sent, as the report and the dry run say it.
pub(crate) fn reason(raw: &RawRow, p: &RowProblem) -> String {
    format!("line {}: {p}", raw.line)
}

/// Where a row's first row with the same order key is found: in the ledger
/// for a run that records its rows, in a dry run's own list for one that
/// records nothing.
pub(crate) trait FirstRows {
    /// The first row that had `key`, or `None` (and `row` is remembered as
    /// that first one).
    fn first(&mut self, l: &Ledger, key: &str, row: u64) -> Result<Option<u64>, LedgerError>;
}

/// What the ledger holds for the row's order: only what the decision can
/// use (a duplicate's order is not looked up further, a message makes the
/// doubts moot unless it failed and a send to the partner's next contact
/// followed, a held row is never looked up in the history).
pub(crate) fn known(
    l: &Ledger,
    seen: &mut impl FirstRows,
    j: &Judged,
) -> Result<Known, LedgerError> {
    let Some(key) = j.key() else {
        return Ok(Known::default());
    };
    let first_row = seen.first(l, key, j.raw.row)?;
    if first_row.is_some() {
        return Ok(Known {
            first_row,
            ..Known::default()
        });
    }
    let message = l.accepted_message(key)?;
    let doubts = match (&message, j.ask) {
        (None, Ask::Send | Ask::Again) => l.doubts(key)?,
        (Some(m), Ask::Send | Ask::Again) if crate::fate::failed(m) => l.doubts(key)?,
        _ => Vec::new(),
    };
    Ok(Known {
        message,
        doubts,
        contacts: j.partner_contacts.iter().map(|c| c.phone.clone()).collect(),
        ..Known::default()
    })
}

/// A row's fate, from what the ledger holds for its order and what is
/// left of the daily budget.
pub(crate) fn fate_of(
    l: &Ledger,
    seen: &mut impl FirstRows,
    j: &Judged,
    how: &Deciding,
) -> Result<(Fate, Known), LedgerError> {
    let known = known(l, seen, j)?;
    let valid = j.result.as_ref().ok();
    let fate = fate::decide(j.ask, valid, &known, how.resend_changed);
    Ok((fate::within(fate, valid, &how.limits), known))
}

/// How a command decides its rows, besides the ledger.
#[derive(Debug, Clone, Default)]
pub(crate) struct Deciding {
    /// `--resend-changed`.
    pub resend_changed: bool,
    /// The phones suppressed, and `--daily-recipients` with the
    /// recipients of the last 24 hours.
    pub limits: fate::Limits,
}

impl Deciding {
    /// `--daily-recipients` and the phones suppressed, read against the
    /// ledger now; `forced` (a rerun's `--force`, a person's decision on
    /// the rows it names) leaves the suppression list aside.
    pub(crate) fn new(
        l: &Ledger,
        resend_changed: bool,
        daily_recipients: Option<usize>,
        forced: bool,
    ) -> Result<Deciding, LedgerError> {
        let budget = match daily_recipients {
            Some(limit) => {
                let recent = l.recipients_since(chrono::Utc::now() - fate::budget::WINDOW)?;
                info!(
                    budget = limit,
                    recipients = recent.len(),
                    "daily recipient budget: partners messaged in the last 24 hours"
                );
                Some(fate::Budget::new(limit, recent))
            }
            None => None,
        };
        let suppressed = match forced {
            true => Default::default(),
            false => l.suppressions(&crate::codes::REFUSALS)?,
        };
        if !suppressed.is_empty() {
            info!(
                phones = suppressed.len(),
                "phones suppressed: never messaged"
            );
        }
        Ok(Deciding {
            resend_changed,
            limits: fate::Limits {
                suppressed: std::sync::Arc::new(suppressed),
                budget,
            },
        })
    }
}

/// What the ledger decided about a batch of rows.
#[derive(Default)]
pub(crate) struct Decided {
    /// How many new orders to send (read back from the ledger by the send
    /// stage, not kept here).
    pub to_send: u64,
    /// Earlier runs' messages that are not final yet: track them again.
    pub open: Vec<String>,
    /// Orders whose earlier send is in doubt: settle before sending.
    pub doubts: Vec<DoubtRow>,
    /// The phones suppressed when the rows were decided. A doubt is never
    /// held back before its look-up; one the look-up lets go is held back
    /// by them, as any row.
    pub suppressed: std::sync::Arc<HashMap<String, crate::ledger::Suppression>>,
}

/// A row whose order has a doubtful earlier send and no accepted message.
pub(crate) struct DoubtRow {
    pub row: u64,
    pub delivery: Delivery,
    pub doubts: Vec<Doubt>,
}

/// Records every row in the ledger, in batches, and decides what to send.
pub(crate) async fn ingest(
    recorder: &Recorder,
    progress: &Progress,
    run: RunId,
    rows: impl Iterator<Item = Result<Judged, Failure>>,
    how: &Deciding,
) -> Result<Decided, Failure> {
    let mut decided = Decided {
        suppressed: how.limits.suppressed.clone(),
        ..Decided::default()
    };
    let mut batch = Vec::with_capacity(ROW_BATCH);
    let mut rows = rows.peekable();
    while let Some(row) = rows.next() {
        batch.push(row?);
        if batch.len() >= ROW_BATCH || rows.peek().is_none() {
            let taken = std::mem::take(&mut batch);
            progress.validated(taken.len() as u64);
            let more = record_batch(recorder, run, taken, how.clone()).await?;
            decided.to_send += more.to_send;
            decided.open.extend(more.open);
            decided.doubts.extend(more.doubts);
        }
    }
    info!(
        to_send = decided.to_send,
        in_doubt = decided.doubts.len(),
        "rows recorded"
    );
    Ok(decided)
}

/// Records a batch of rows and decides each. It all happens on the ledger
/// thread, which finds earlier rows through an index, so memory does not
/// grow with the file.
pub(crate) async fn record_batch(
    recorder: &Recorder,
    run: RunId,
    rows: Vec<Judged>,
    how: Deciding,
) -> Result<Decided, Failure> {
    recorder
        .record_rows(run, move |l| {
            let mut seen = InRun {
                run,
                in_batch: HashMap::new(),
            };
            let mut decided = Decided::default();
            let records = rows
                .into_iter()
                .map(|j| {
                    let (fate, known) = fate_of(l, &mut seen, &j, &how)?;
                    let to = written_to(&j, &fate, &known);
                    let record = row_record(&j, &fate, &to);
                    let to = to
                        .send_to()
                        .map(|(p, l)| (p.to_string(), l.map(str::to_string)));
                    decided.take(&j, &fate, known, to);
                    Ok(record)
                })
                .collect::<Result<Vec<_>, LedgerError>>()?;
            Ok((records, decided))
        })
        .await
}

/// The first rows of a run's order keys: this batch's (recorded at its
/// end) in memory, earlier batches' in the ledger.
struct InRun {
    run: RunId,
    in_batch: HashMap<String, u64>,
}

impl FirstRows for InRun {
    fn first(&mut self, l: &Ledger, key: &str, row: u64) -> Result<Option<u64>, LedgerError> {
        let first = match self.in_batch.get(key) {
            Some(row) => Some(*row),
            None => l.first_valid_row(self.run, key)?,
        };
        if first.is_none() {
            self.in_batch.insert(key.to_string(), row);
        }
        Ok(first)
    }
}

impl Decided {
    /// What the stages after this one do with a row's fate: send it, track
    /// its message, or settle its doubts first (looked up, and sent again,
    /// at `to`: the phone and language the doubtful send went to).
    fn take(
        &mut self,
        j: &Judged,
        fate: &Fate,
        known: Known,
        to: Option<(String, Option<String>)>,
    ) {
        match (fate, &j.result) {
            (Fate::Send { .. }, Ok(_)) => self.to_send += 1,
            (Fate::Reused { wamid, open, .. }, _) if *open => self.open.push(wamid.clone()),
            (Fate::LookUp, Ok(d)) => self.doubts.push(DoubtRow {
                row: j.raw.row,
                delivery: match to {
                    Some((phone, language)) => Delivery {
                        phone,
                        language,
                        ..d.clone()
                    },
                    None => d.clone(),
                },
                doubts: known.doubts,
            }),
            _ => {}
        }
    }
}
