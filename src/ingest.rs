//! Which rows to send: each row read is judged (valid or not), then
//! decided against the ledger, a batch at a time: a duplicate of an earlier
//! row of this file, an order an earlier run already sent (reused, or
//! changed), an order whose earlier send is in doubt (settled later, see
//! [`crate::settle`]), or a row to send. The decisions are made with
//! read-only lookups and recorded by the recorder in the same transaction.

use std::collections::HashMap;

use tracing::info;

use crate::delivery::{Delivery, Rules, validate};
use crate::error::Failure;
use crate::input::{Field, RawRow, RowProblem, echo, shorten_quoted};
use crate::ledger::{Doubt, Ledger, LedgerError, MessageInfo, RowRecord, RunId, Status, Verdict};
use crate::progress::Progress;
use crate::recorder::Recorder;
use crate::report::Outcome;

/// How many rows go to the ledger in one transaction.
const ROW_BATCH: usize = 1000;

/// What a command wants done with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pass {
    /// `run`: send unless sent before.
    Normal,
    /// `rerun`, a selected row: send unless sent before, and send again
    /// when its earlier message failed.
    Resend,
    /// `rerun`, a row not selected: never send; report what is known.
    Hold(Outcome),
}

/// A row read and judged, before the ledger decides about earlier runs.
pub(crate) struct Judged {
    pub raw: RawRow,
    pub result: Result<Delivery, RowProblem>,
    pub pass: Pass,
    /// What the command has to say about the row (a rerun: what the file
    /// changed that was not sent); it goes into the row's notes.
    pub note: Option<String>,
}

/// A problem's message quotes the value it judged; a long value (a 50 MB
/// line) is cut there to a prefix and its length, so the report, the dry
/// run and the summary stay readable.
pub(crate) fn judge(raw: RawRow, rules: &Rules, pass: Pass) -> Judged {
    let result = match &raw.problem {
        Some(p) => Err(p.clone()),
        None => validate(&raw.fields, rules).map_err(|mut p| {
            let values = Field::ALL.map(|f| raw.fields.get(f));
            if let Some(short) = shorten_quoted(&p.message, &values) {
                p.message = short;
            }
            p
        }),
    };
    Judged {
        raw,
        result,
        pass,
        note: None,
    }
}

/// Why an invalid row is not sent, as the report and the dry run say it.
pub(crate) fn reason(raw: &RawRow, p: &RowProblem) -> String {
    format!("line {}: {p}", raw.line)
}

/// Why a row whose order number an earlier row of the file has is not
/// sent; one wording for the report, the dry run and the problems block.
pub(crate) fn duplicate_reason(key: &str, first_row: u64) -> String {
    format!("order number `{key}` already appears in row {first_row}; not sent twice")
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
    resend_changed: bool,
) -> Result<Decided, Failure> {
    let mut decided = Decided::default();
    let mut batch = Vec::with_capacity(ROW_BATCH);
    let mut rows = rows.peekable();
    while let Some(row) = rows.next() {
        batch.push(row?);
        if batch.len() >= ROW_BATCH || rows.peek().is_none() {
            let taken = std::mem::take(&mut batch);
            progress.validated(taken.len() as u64);
            let more = record_batch(recorder, run, taken, resend_changed).await?;
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
    resend_changed: bool,
) -> Result<Decided, Failure> {
    recorder
        .record_rows(run, move |l| {
            let mut batch = Batch {
                run,
                resend_changed,
                in_batch: HashMap::new(),
                decided: Decided::default(),
            };
            let records = rows
                .into_iter()
                .map(|j| batch.decide(l, j))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((records, batch.decided))
        })
        .await
}

/// One batch's decisions so far.
struct Batch {
    run: RunId,
    resend_changed: bool,
    /// Rows of this batch are recorded at its end: they are looked up here.
    in_batch: HashMap<String, u64>,
    decided: Decided,
}

/// What is recorded about one row besides its fields.
struct Decision {
    verdict: Verdict,
    reason: Option<String>,
    notes: Option<String>,
}

impl Batch {
    fn decide(&mut self, l: &Ledger, j: Judged) -> Result<RowRecord, LedgerError> {
        if let Pass::Hold(outcome) = j.pass {
            let decision = self.decide_held(l, &j, outcome)?;
            return Ok(row_record(&j, decision));
        }
        let mut decision = match &j.result {
            Err(p) => Decision {
                verdict: Verdict::Invalid,
                reason: Some(reason(&j.raw, p)),
                notes: None,
            },
            Ok(_) => Decision {
                verdict: Verdict::Send,
                reason: None,
                notes: None,
            },
        };
        if let Ok(d) = &j.result {
            self.duplicate(l, &j.raw, &d.order_key, &mut decision)?;
            if decision.verdict == Verdict::Send {
                self.against_earlier(l, &j, d, &mut decision)?;
            }
        }
        if decision.verdict == Verdict::Send && j.result.is_ok() {
            self.decided.to_send += 1;
            // The command's word on a row it sends (a rerun's --force).
            if let Some(n) = &j.note {
                decision.notes = Some(match decision.notes.take() {
                    Some(a) => format!("{a}; {n}"),
                    None => n.clone(),
                });
            }
        }
        Ok(row_record(&j, decision))
    }

    /// An earlier row of this file (in this batch or an earlier one) with
    /// the same order key makes this one a duplicate.
    fn duplicate(
        &mut self,
        l: &Ledger,
        raw: &RawRow,
        key: &str,
        decision: &mut Decision,
    ) -> Result<(), LedgerError> {
        let first = match self.in_batch.get(key) {
            Some(row) => Some(*row),
            None => l.first_valid_row(self.run, key)?,
        };
        match first {
            Some(first) => {
                decision.verdict = Verdict::Duplicate;
                decision.reason = Some(format!(
                    "line {}: {}",
                    raw.line,
                    duplicate_reason(key, first)
                ));
            }
            None => {
                self.in_batch.insert(key.to_string(), raw.row);
            }
        }
        Ok(())
    }

    /// A rerun row that is not to be sent: its outcome is what the ledger
    /// knows of its order, never what its cells would make of it now (a
    /// phone a spreadsheet rounded does not make a delivered row invalid).
    fn decide_held(
        &mut self,
        l: &Ledger,
        j: &Judged,
        outcome: Outcome,
    ) -> Result<Decision, LedgerError> {
        let key = j.raw.fields.order_key();
        let mut decision = Decision {
            verdict: Verdict::Skipped,
            reason: None,
            notes: j.note.clone(),
        };
        if !key.is_empty() {
            self.duplicate(l, &j.raw, key, &mut decision)?;
        }
        if decision.verdict != Verdict::Duplicate {
            let earlier = match key {
                "" => None,
                key => l.accepted_message(key)?,
            };
            self.held(earlier.as_ref(), outcome, &mut decision);
        }
        Ok(decision)
    }

    /// What earlier runs did with this order: reused, changed, failed (sent
    /// again), in doubt, or nothing (send).
    fn against_earlier(
        &mut self,
        l: &Ledger,
        j: &Judged,
        d: &Delivery,
        decision: &mut Decision,
    ) -> Result<(), LedgerError> {
        let earlier = l.accepted_message(&d.order_key)?;
        let failed_before = earlier.as_ref().is_some_and(|m| {
            m.is_final && m.status.as_deref().map(Status::of) == Some(Status::Failed)
        });
        if let Some(earlier) = earlier.filter(|_| !(j.pass == Pass::Resend && failed_before)) {
            self.sent_before(&earlier, d, decision);
        } else if failed_before {
            decision.notes = Some(format!(
                "sent again: the earlier message {} failed",
                l.accepted_message(&d.order_key)?
                    .map(|m| m.wamid)
                    .unwrap_or_default()
            ));
        } else {
            let doubts = l.doubts(&d.order_key)?;
            if !doubts.is_empty() {
                decision.verdict = Verdict::Unknown;
                self.decided.doubts.push(DoubtRow {
                    row: j.raw.row,
                    delivery: d.clone(),
                    doubts,
                });
            }
        }
        Ok(())
    }

    /// A rerun row that was not selected: never sent; what is known of it.
    fn held(&mut self, earlier: Option<&MessageInfo>, outcome: Outcome, decision: &mut Decision) {
        match earlier {
            Some(m) => {
                decision.verdict = Verdict::Reused;
                if !m.is_final {
                    self.decided.open.push(m.wamid.clone());
                }
            }
            None => {
                decision.verdict = match outcome {
                    Outcome::Duplicate => Verdict::Duplicate,
                    Outcome::Unknown => Verdict::Unknown,
                    _ => Verdict::Skipped,
                };
                decision.reason = Some(format!(
                    "not selected for this rerun (outcome `{}` in the file)",
                    outcome.as_str()
                ));
            }
        }
    }

    /// An order an earlier run sent: reused, unless it changed and
    /// `--resend-changed` asks for the corrected message.
    fn sent_before(&mut self, earlier: &MessageInfo, d: &Delivery, decision: &mut Decision) {
        let changed = changes(earlier, d);
        if changed.is_empty() || !self.resend_changed {
            decision.verdict = Verdict::Reused;
            if !earlier.is_final {
                self.decided.open.push(earlier.wamid.clone());
            }
            if !changed.is_empty() {
                decision.reason = Some(format!(
                    "changed since {} was accepted: {}; not resent (--resend-changed sends the corrected message)",
                    earlier.wamid,
                    changed.join(", ")
                ));
            }
        } else {
            decision.notes = Some(format!(
                "resent with changed data ({}); replaces {}",
                changed.join(", "),
                earlier.wamid
            ));
        }
    }
}

/// What changed between the message already accepted for an order and this
/// row, if anything.
fn changes(earlier: &MessageInfo, d: &Delivery) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(phone) = earlier.phone.as_deref()
        && phone != d.phone
    {
        // Both are normalised digits (the earlier one as the ledger kept it).
        out.push(format!("phone {phone} → {}", d.phone));
    }
    let names = [
        "partner_name",
        "order_number",
        "product_name",
        "delivery_note",
    ];
    for ((name, old), new) in names.iter().zip(&earlier.params).zip(d.params()) {
        if old != new {
            out.push(format!("{name} {} → {}", echo(old), echo(new)));
        }
    }
    out
}

/// The ledger's row: the fields as read, the normalised phone and order
/// key when the row is valid, and the decision.
fn row_record(j: &Judged, decision: Decision) -> RowRecord {
    let raw = &j.raw;
    let Decision {
        verdict,
        reason,
        mut notes,
    } = decision;
    let judged = match j.pass {
        // Held rows were not judged by their cells: recorded as read.
        Pass::Hold(_) => None,
        _ => Some(&j.result),
    };
    let (phone, order_key) = match judged {
        Some(Ok(d)) => {
            let cleaning = (!d.notes.is_empty()).then(|| d.notes.join("; "));
            notes = match (cleaning, notes) {
                (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                (a, b) => a.or(b),
            };
            (d.phone.clone(), Some(d.order_key.clone()))
        }
        _ => (
            raw.fields.partner_phone.clone(),
            Some(raw.fields.order_number.trim().to_string()).filter(|k| !k.is_empty()),
        ),
    };
    RowRecord {
        row: raw.row,
        line: raw.line,
        order_key,
        partner_name: raw.fields.partner_name.clone(),
        phone,
        order_number: raw.fields.order_number.clone(),
        product_name: raw.fields.product_name.clone(),
        delivery_note: raw.fields.delivery_note.clone(),
        verdict,
        reason,
        // Held rows were not judged: no problem class, whatever the cells.
        problem: match (judged, verdict) {
            (Some(Err(p)), Verdict::Invalid) => Some(p.kind.name().to_string()),
            _ => None,
        },
        notes,
        extra: (!raw.extra.is_empty())
            .then(|| serde_json::to_string(&raw.extra).unwrap_or_default()),
    }
}
