//! Which rows to send: duplicates within the file, orders already accepted
//! by an earlier run (reused, or changed), and orders whose earlier send is
//! in doubt, settled from the API's message history.

use std::collections::HashMap;

use crate::api::client::Client;
use crate::delivery::{Delivery, RowProblem, Rules, validate};
use crate::error::Failure;
use crate::input::RawRow;
use crate::ledger::{AttemptInfo, Doubt, MessageInfo, RowRecord, RunId, Verdict};
use crate::recorder::Recorder;
use crate::report::Outcome;
use crate::run::ledger_call;

/// What a command wants done with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// `run`: send unless sent before.
    Normal,
    /// `rerun`, a selected row: send unless sent before, and send again
    /// when its earlier message failed.
    Resend,
    /// `rerun`, a row not selected: never send; report what is known.
    Hold(Outcome),
}

/// A row read and judged, before the ledger decides about earlier runs.
pub struct Judged {
    pub raw: RawRow,
    pub result: Result<Delivery, RowProblem>,
    pub pass: Pass,
}

pub fn judge(raw: RawRow, rules: &Rules, pass: Pass) -> Judged {
    let result = match &raw.problem {
        Some(p) => Err(p.clone()),
        None => validate(&raw.fields, rules),
    };
    Judged { raw, result, pass }
}

pub fn reason(raw: &RawRow, p: &RowProblem) -> String {
    format!("line {}: {p}", raw.line)
}

/// The delivery an attempt sent, rebuilt from what the ledger kept of it.
pub fn delivery_from_attempt(a: &AttemptInfo) -> Option<Delivery> {
    let [partner_name, order_number, product_name, delivery_note] = a.params.as_slice() else {
        return None;
    };
    Some(Delivery {
        order_key: a.order_key.clone(),
        partner_name: partner_name.clone(),
        phone: a.phone.clone(),
        order_number: order_number.clone(),
        product_name: product_name.clone(),
        delivery_note: delivery_note.clone(),
        notes: Vec::new(),
    })
}

/// What the ledger decided about a batch of rows.
#[derive(Default)]
pub struct Decided {
    /// New orders to send.
    /// How many new orders to send (read back from the ledger by the send
    /// stage, not kept here).
    pub to_send: u64,
    /// Earlier runs' messages that are not final yet: track them again.
    pub open: Vec<String>,
    /// Orders whose earlier send is in doubt: settle before sending.
    pub doubts: Vec<DoubtRow>,
}

/// A row whose order has a doubtful earlier send and no accepted message.
pub struct DoubtRow {
    pub row: u64,
    pub delivery: Delivery,
    pub doubts: Vec<Doubt>,
}

/// What changed between the message already accepted for an order and this
/// row, if anything.
fn changes(earlier: &MessageInfo, d: &Delivery) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(phone) = earlier.phone.as_deref()
        && phone != d.phone
    {
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
            out.push(format!("{name} `{old}` → `{new}`"));
        }
    }
    out
}

/// Records a batch of rows and decides each: invalid, a duplicate of an
/// earlier row of this file, reused or changed (an earlier run sent it), in
/// doubt, or to send. It all happens on the ledger thread, which finds
/// earlier rows through an index, so memory does not grow with the file.
pub async fn record_batch(
    recorder: &Recorder,
    run: RunId,
    rows: Vec<Judged>,
    resend_changed: bool,
) -> Result<Decided, Failure> {
    let candidates: Vec<(Judged, (Verdict, Option<String>))> = rows
        .into_iter()
        .map(|j| {
            let verdict = match &j.result {
                Err(p) => (Verdict::Invalid, Some(reason(&j.raw, p))),
                Ok(_) => (Verdict::Send, None),
            };
            (j, verdict)
        })
        .collect();
    // One transaction for the batch's lookups and its rows: a read lock
    // taken once, not three times a row.
    ledger_call(recorder, move |l| l.atomically(|l| {
        let mut records = Vec::with_capacity(candidates.len());
        let mut decided = Decided::default();
        // Rows of this batch are recorded at its end: look them up here.
        let mut in_batch: HashMap<String, u64> = HashMap::new();
        for (j, (mut verdict, mut reason)) in candidates {
            let raw = &j.raw;
            let mut notes = None;
            if let Ok(d) = &j.result {
                let first = match in_batch.get(&d.order_key) {
                    Some(row) => Some(*row),
                    None => l.first_valid_row(run, &d.order_key)?,
                };
                match first {
                    Some(first) => {
                        verdict = Verdict::Duplicate;
                        reason = Some(format!(
                            "line {}: order number `{}` already appears in row {first}; not sent twice",
                            raw.line, d.order_key
                        ));
                    }
                    None => {
                        in_batch.insert(d.order_key.clone(), raw.row);
                    }
                }
            }
            if verdict == Verdict::Send
                && let Ok(d) = &j.result
            {
                let earlier = l.accepted_message(&d.order_key)?;
                let failed_before = earlier.as_ref().is_some_and(|m| {
                    m.is_final && matches!(m.status.as_deref(), Some("failed" | "undelivered"))
                });
                if let Pass::Hold(outcome) = j.pass {
                    match &earlier {
                        Some(m) => {
                            verdict = Verdict::Reused;
                            if !m.is_final {
                                decided.open.push(m.wamid.clone());
                            }
                        }
                        None => {
                            verdict = match outcome {
                                Outcome::Duplicate => Verdict::Duplicate,
                                Outcome::Unknown => Verdict::Unknown,
                                _ => Verdict::Skipped,
                            };
                            reason = Some(format!(
                                "not selected for this rerun (outcome `{}` in the file)",
                                outcome.as_str()
                            ));
                        }
                    }
                } else if let Some(earlier) =
                    earlier.filter(|_| !(j.pass == Pass::Resend && failed_before))
                {
                    let changed = changes(&earlier, d);
                    if changed.is_empty() || !resend_changed {
                        verdict = Verdict::Reused;
                        if !earlier.is_final {
                            decided.open.push(earlier.wamid.clone());
                        }
                        if !changed.is_empty() {
                            reason = Some(format!(
                                "changed since {} was accepted: {}; not resent (--resend-changed sends the corrected message)",
                                earlier.wamid,
                                changed.join(", ")
                            ));
                        }
                    } else {
                        notes = Some(format!(
                            "resent with changed data ({}); replaces {}",
                            changed.join(", "),
                            earlier.wamid
                        ));
                    }
                } else if failed_before {
                    notes = Some(format!(
                        "sent again: the earlier message {} failed",
                        l.accepted_message(&d.order_key)?
                            .map(|m| m.wamid)
                            .unwrap_or_default()
                    ));
                } else {
                    let doubts = l.doubts(&d.order_key)?;
                    if !doubts.is_empty() {
                        verdict = Verdict::Unknown;
                        decided.doubts.push(DoubtRow {
                            row: raw.row,
                            delivery: d.clone(),
                            doubts,
                        });
                    }
                }
            }
            let (phone, order_key) = match &j.result {
                Ok(d) => {
                    let cleaning = (!d.notes.is_empty()).then(|| d.notes.join("; "));
                    notes = match (cleaning, notes) {
                        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                        (a, b) => a.or(b),
                    };
                    (d.phone.clone(), Some(d.order_key.clone()))
                }
                Err(_) => (
                    raw.fields.partner_phone.clone(),
                    Some(raw.fields.order_number.trim().to_string()).filter(|k| !k.is_empty()),
                ),
            };
            records.push(RowRecord {
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
                notes,
                extra: (!raw.extra.is_empty())
                    .then(|| serde_json::to_string(&raw.extra).unwrap_or_default()),
            });
            if verdict == Verdict::Send && j.result.is_ok() {
                decided.to_send += 1;
            }
        }
        l.record_rows(run, &records)?;
        Ok(decided)
    }))
    .await
}

/// How the doubts of one order were settled.
pub enum Settled {
    /// Found in the history: the wamid is recorded; track it.
    Found(String),
    /// Proved not sent (or the user said send anyway): send it.
    Send,
    /// Still in doubt, with the reason shown in the report.
    Doubt(String),
}

/// Looks up one order's doubtful sends in the API's history and records
/// what it found.
pub async fn settle(
    client: &Client,
    recorder: &Recorder,
    template: &str,
    d: &Delivery,
    doubts: &[Doubt],
    resend_unknown: bool,
) -> Result<Settled, Failure> {
    let Some(latest) = doubts.last() else {
        return Ok(Settled::Send);
    };
    let first = doubts
        .first()
        .map_or(latest.attempt.intent_at, |x| x.attempt.intent_at);
    let what = latest
        .error_detail
        .clone()
        .unwrap_or_else(|| "the process stopped before the answer was recorded".into());
    let queued = doubts.iter().any(|x| {
        x.error_detail
            .as_deref()
            .is_some_and(|e| e.contains("queued"))
    });
    let finding = crate::resolve::look_up(client, &d.phone, &d.order_key, template, first).await;
    tracing::info!(
        order = %d.order_key,
        phone = %crate::logging::mask_phone(&d.phone),
        finding = ?finding,
        "an uncertain send looked up in the message history"
    );
    match finding {
        crate::resolve::Finding::Sent { wamid, at } => {
            let attempt = latest.attempt.attempt_id;
            let w = wamid.clone();
            ledger_call(recorder, move |l| {
                l.resolve_doubt(attempt, &w, at, "resolved: found in 1MSG's message history")
            })
            .await?;
            Ok(Settled::Found(wamid))
        }
        crate::resolve::Finding::NotSent if !queued => Ok(Settled::Send),
        _ if resend_unknown => Ok(Settled::Send),
        crate::resolve::Finding::NotSent => Ok(Settled::Doubt(format!(
            "may or may not have been accepted ({what}); 1MSG queued it and its history does not show it yet; never resent automatically (--resend-unknown sends it)"
        ))),
        crate::resolve::Finding::NoHistory => Ok(Settled::Doubt(format!(
            "may or may not have been accepted ({what}); this channel keeps no message history to check; never resent automatically (--resend-unknown sends it)"
        ))),
        crate::resolve::Finding::Failed(e) => Ok(Settled::Doubt(format!(
            "may or may not have been accepted ({what}); the message history could not be checked ({e}); never resent automatically (--resend-unknown sends it)"
        ))),
    }
}

/// The order keys a dry run has seen, in a throwaway SQLite file rather
/// than in memory, so checking a million-row export for duplicates does not
/// hold a million keys.
pub struct SeenKeys {
    conn: rusqlite::Connection,
    path: std::path::PathBuf,
    /// Inserts in the open transaction (committed every 10,000: one
    /// statement a transaction would cost a file write per row).
    pending: u32,
}

impl SeenKeys {
    pub fn new() -> rusqlite::Result<SeenKeys> {
        let path = std::env::temp_dir().join(format!(
            "handoff-dry-run-{}-{}.sqlite",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let conn = rusqlite::Connection::open(&path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE seen (order_key TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID;
             BEGIN;",
        )?;
        Ok(SeenKeys {
            conn,
            path,
            pending: 0,
        })
    }

    /// The row that first had `key`, or `None` (and `row` is remembered).
    pub fn first(&mut self, key: &str, row: u64) -> rusqlite::Result<Option<u64>> {
        let added = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO seen (order_key, row) VALUES (?1, ?2)")?
            .execute(rusqlite::params![key, row])?;
        if added == 1 {
            self.pending += 1;
            if self.pending >= 10_000 {
                self.conn.execute_batch("COMMIT; BEGIN;")?;
                self.pending = 0;
            }
            return Ok(None);
        }
        self.conn
            .prepare_cached("SELECT row FROM seen WHERE order_key = ?1")?
            .query_row([key], |r| r.get(0))
            .map(Some)
    }
}

impl Drop for SeenKeys {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_keys_answer_the_first_row_and_clean_up() {
        let mut seen = SeenKeys::new().unwrap();
        let path = seen.path.clone();
        assert_eq!(seen.first("A", 1).unwrap(), None);
        assert_eq!(seen.first("B", 2).unwrap(), None);
        assert_eq!(seen.first("A", 3).unwrap(), Some(1));
        assert_eq!(seen.first("A", 4).unwrap(), Some(1));
        assert!(path.exists());
        drop(seen);
        assert!(!path.exists());
    }
}
