//! `handoff runs`: what the ledger remembers of each invocation, so a
//! person can tell which night sent what, which run was killed (no end),
//! and which run id to give `report --run`, `track --run` or `history`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::cli::RunsArgs;
use crate::error::Failure;
use crate::exit;
use crate::ledger::RunInfo;
use crate::report::Summary;

use super::record::rfc3339;
use super::report::{Reconciling, open_ledger, reconcile_run};

/// A time as the table shows it: UTC, to the second.
pub(super) fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// `outcome n, outcome n, …` in the vocabulary's order.
fn counts(s: &Summary) -> String {
    let parts: Vec<String> = crate::report::Outcome::ALL
        .iter()
        .filter_map(|o| {
            let n = s.count(*o);
            (n > 0).then(|| format!("{} {n}", o.as_str()))
        })
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

fn as_json(r: &RunInfo, s: &Summary) -> Value {
    json!({
        "run_id": r.run_id,
        "kind": r.kind,
        "input": r.input,
        "api_url": r.api_url,
        "channel": r.channel,
        "simulated": r.simulated,
        "template": r.template,
        "started_at": rfc3339(&r.started_at),
        "finished_at": r.finished_at.as_ref().map(rfc3339),
        "exit_code": r.exit_code,
        "rows": r.rows,
        "outcomes": s.outcomes,
    })
}

/// `handoff runs`: one line per run, oldest first. The counts are what
/// each run's report says now (`handoff report --run N` writes it), so a
/// `pending` row a later `track` settled counts as delivered.
pub(crate) fn runs(args: &RunsArgs) -> Result<u8, Failure> {
    let l = open_ledger(&args.read.ledger)?;
    let runs = l.runs().map_err(|e| Failure::of(exit::CONFIG, e))?;
    let mut listed = Vec::with_capacity(runs.len());
    for r in runs {
        let summary = reconcile_run(&l, r.run_id, &Reconciling::default(), |_| Ok(()))
            .map_err(|e| Failure::because(exit::CONFIG, "failed to read the ledger", e))?;
        listed.push((r, summary));
    }
    let text = if args.read.json {
        let all: Vec<Value> = listed.iter().map(|(r, s)| as_json(r, s)).collect();
        format!(
            "{}\n",
            json!({"ledger": args.read.ledger.display().to_string(), "runs": all})
        )
    } else {
        table(&listed)
    };
    print!("{text}");
    Ok(exit::OK)
}

/// The channel a run sent on, and whether it was a rehearsal.
fn channel(r: &RunInfo) -> String {
    let simulated = if r.simulated { " (simulated)" } else { "" };
    format!("{}{simulated}", r.channel)
}

fn table(runs: &[(RunInfo, Summary)]) -> String {
    if runs.is_empty() {
        return "The ledger holds no run yet.\n".into();
    }
    // As wide as the longest count list and channel, so the columns line up.
    let widest = |f: &dyn Fn(&(RunInfo, Summary)) -> usize, least: usize| {
        runs.iter().map(f).max().unwrap_or(0).max(least)
    };
    let w = widest(&|(_, s)| counts(s).len(), 8);
    let c = widest(&|(r, _)| channel(r).len(), 7);
    let mut out = format!(
        "{:>4}  {:<5}  {:<20}  {:<20}  {:>4}  {:>6}  {:<w$}  {:<c$}  {}\n",
        "run", "kind", "started", "finished", "exit", "rows", "outcomes", "channel", "input"
    );
    for (r, s) in runs {
        let finished = r
            .finished_at
            .as_ref()
            .map_or_else(|| "- (did not finish)".into(), when);
        let code = r.exit_code.map_or_else(|| "-".into(), |c| c.to_string());
        out.push_str(&format!(
            "{:>4}  {:<5}  {:<20}  {:<20}  {:>4}  {:>6}  {:<w$}  {:<c$}  {}\n",
            r.run_id,
            r.kind,
            when(&r.started_at),
            finished,
            code,
            r.rows,
            counts(s),
            channel(r),
            r.input.as_deref().unwrap_or("-"),
        ));
    }
    out
}
