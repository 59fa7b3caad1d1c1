//! `handoff history ORDER`: one order's story across nights, for the
//! person a partner calls ("did you message me? to which number?"): each
//! run's row for it, each attempt and what the API answered, each message
//! and every status 1MSG reported for it.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::cli::HistoryArgs;
use crate::error::Failure;
use crate::exit;
use crate::ledger::{AttemptInfo, OrderHistory, OrderMessage, StatusUpdate};

use super::record::rfc3339;
use super::report::open_ledger;
use super::runs::when;

/// `handoff history`: `0`, whether the ledger knows the order or not (the
/// JSON's empty lists, or the table's one line, say which).
pub(crate) fn history(args: &HistoryArgs) -> Result<u8, Failure> {
    let l = open_ledger(&args.read.ledger)?;
    let key = args.order.trim();
    let h = l
        .order_history(key)
        .map_err(|e| Failure::of(exit::CONFIG, e))?;
    let text = if args.read.json {
        format!("{}\n", as_json(key, &h))
    } else {
        table(key, &h)
    };
    print!("{text}");
    Ok(exit::OK)
}

fn status_json(s: &StatusUpdate) -> Value {
    json!({
        "status": s.status,
        "status_at": s.status_at.as_ref().map(rfc3339),
        "error_code": s.error_code,
        "error_title": s.error_title,
        "seen_at": rfc3339(&s.seen_at),
    })
}

fn attempt_json(a: &AttemptInfo) -> Value {
    json!({
        "run_id": a.run_id,
        "attempt": a.attempt_no,
        "phone": a.phone,
        "params": a.params,
        "intent_at": rfc3339(&a.intent_at),
        "answered_at": a.answered_at.as_ref().map(rfc3339),
        "result": a.result.as_ref().map(|r| r.as_str()),
        "http_status": a.http_status,
        "error_code": a.error_code,
        "error_detail": a.error_detail,
        "wamid": a.wamid,
    })
}

fn message_json(m: &OrderMessage) -> Value {
    json!({
        "wamid": m.message.wamid,
        "run_id": m.message.run_id,
        "channel": m.channel,
        "phone": m.message.phone,
        "accepted_at": rfc3339(&m.message.accepted_at),
        "status": m.message.status,
        "final": m.message.is_final,
        "statuses": m.statuses.iter().map(status_json).collect::<Vec<_>>(),
    })
}

fn as_json(key: &str, h: &OrderHistory) -> Value {
    let rows: Vec<Value> = h
        .rows
        .iter()
        .map(|r| {
            json!({
                "run_id": r.run_id,
                "kind": r.kind,
                "channel": r.channel,
                "run_started_at": rfc3339(&r.run_started_at),
                "row": r.row,
                "line": r.line,
                "phone": r.phone,
                "verdict": r.verdict.as_str(),
                "reason": r.reason,
                "notes": r.notes,
            })
        })
        .collect();
    json!({
        "order_number": key,
        "rows": rows,
        "attempts": h.attempts.iter().map(attempt_json).collect::<Vec<_>>(),
        "messages": h.messages.iter().map(message_json).collect::<Vec<_>>(),
    })
}

/// What an attempt's answer says, in a few words.
fn answer(a: &AttemptInfo) -> String {
    let mut said = match (&a.result, &a.wamid) {
        (None, _) => "no answer recorded (the send is in doubt)".to_string(),
        (Some(_), Some(w)) => format!("accepted as {w}"),
        (Some(r), None) => r.as_str().to_string(),
    };
    said.extend(a.http_status.map(|h| format!(", HTTP {h}")));
    said.extend(a.error_code.map(|c| format!(", code {c}")));
    said.extend(a.error_detail.as_ref().map(|d| format!(": {d}")));
    said
}

fn status_line(s: &StatusUpdate) -> String {
    let at = s.status_at.as_ref().unwrap_or(&s.seen_at);
    let mut line = format!("      {}  {}", when(at), s.status);
    line.extend(s.error_code.map(|c| format!(" (code {c})")));
    line.extend(s.error_title.as_ref().map(|t| format!(": {t}")));
    line.push('\n');
    line
}

/// The story grouped by run, oldest first: the run's row, then its
/// attempts, each accepted one with its message's statuses.
fn table(key: &str, h: &OrderHistory) -> String {
    if h.is_empty() {
        return format!("The ledger holds nothing about order `{key}`.\n");
    }
    let mut out = format!("Order `{key}`\n");
    let runs: BTreeSet<i64> = h
        .rows
        .iter()
        .map(|r| r.run_id)
        .chain(h.attempts.iter().map(|a| a.run_id))
        .chain(h.messages.iter().map(|m| m.message.run_id))
        .collect();
    for run in runs {
        let rows: Vec<_> = h.rows.iter().filter(|r| r.run_id == run).collect();
        let message = h.messages.iter().find(|m| m.message.run_id == run);
        match (rows.first(), message) {
            (Some(r), _) => out.push_str(&format!(
                "run {run} ({} on channel {}, started {})\n",
                r.kind,
                r.channel,
                when(&r.run_started_at)
            )),
            (None, Some(m)) => out.push_str(&format!("run {run} (channel {})\n", m.channel)),
            (None, None) => out.push_str(&format!("run {run}\n")),
        }
        for r in rows {
            out.push_str(&format!(
                "  row {} (line {}), phone {}: {}",
                r.row,
                r.line,
                r.phone,
                r.verdict.as_str()
            ));
            for text in [&r.reason, &r.notes].into_iter().flatten() {
                out.push_str(&format!("; {text}"));
            }
            out.push('\n');
        }
        for a in h.attempts.iter().filter(|a| a.run_id == run) {
            out.push_str(&format!(
                "  {}  attempt {} to {}: {}\n",
                when(&a.intent_at),
                a.attempt_no,
                a.phone,
                answer(a)
            ));
            let message = a
                .wamid
                .as_ref()
                .and_then(|w| h.messages.iter().find(|m| &m.message.wamid == w));
            for s in message.into_iter().flat_map(|m| &m.statuses) {
                out.push_str(&status_line(s));
            }
        }
        // A message with no attempt of its own (found in 1MSG's history
        // after a lost answer).
        for m in h.messages.iter().filter(|m| {
            m.message.run_id == run
                && !h
                    .attempts
                    .iter()
                    .any(|a| a.wamid.as_ref() == Some(&m.message.wamid))
        }) {
            out.push_str(&format!(
                "  {}  message {} to {}\n",
                when(&m.message.accepted_at),
                m.message.wamid,
                m.message.phone.as_deref().unwrap_or("-")
            ));
            for s in &m.statuses {
                out.push_str(&status_line(s));
            }
        }
    }
    out
}
