//! `handoff rerun --dry-run`: every row of the file taken as the rerun
//! would take it ([`super::plan`]), against the ledger as it is, and shown:
//! the messages that would be sent, as partners would read them, and every
//! other row with why it would not be. Nothing is sent and nothing is
//! recorded; the ledger is only read.

use std::collections::HashMap;
use std::path::Path;

use super::plan::{self, Ask, BackRow, Earlier};
use crate::commands::preflight::Template;
use crate::error::Failure;
use crate::exit;
use crate::ingest::{Pass, duplicate_reason, reason};
use crate::input::InputReader;
use crate::ledger::Ledger;
use crate::report::read_back::BackColumns;

/// How many messages are shown as partners would read them.
const PREVIEW: usize = 3;
/// How many rows that would not be sent are listed.
const LISTED: usize = 30;

/// What the rerun is asked to do with the file.
pub(in crate::commands) struct Plan<'a> {
    pub(in crate::commands) columns: &'a BackColumns,
    pub(in crate::commands) ask: &'a Ask<'a>,
    pub(in crate::commands) template: &'a Template,
}

/// What the dry run found.
#[derive(Default)]
struct Tally {
    rows: u64,
    send: u64,
    again: u64,
    in_doubt: u64,
    held: u64,
    invalid: u64,
    duplicate: u64,
    previews: Vec<String>,
    listed: Vec<String>,
}

/// Takes every row as the rerun would and prints what it would do; `0`
/// when every row it would send is valid, else `10`.
pub(in crate::commands) fn dry_run(
    reader: InputReader,
    plan: &Plan<'_>,
    ledger: &Path,
) -> Result<u8, Failure> {
    let ledger = Ledger::open(ledger).map_err(|e| Failure::of(exit::CONFIG, e))?;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut t = Tally::default();
    for item in reader {
        let raw = item.map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
        let row = plan::back_row(raw, plan.columns);
        t.rows += 1;
        let lookup = plan::lookups(std::slice::from_ref(&row));
        let earlier = plan::messages(&ledger, &lookup)
            .map_err(|e| Failure::of(exit::CONFIG, e))?
            .pop()
            .unwrap_or_default();
        t.take(&ledger, row, &earlier, plan, &mut seen)?;
    }
    t.print();
    Ok(if t.invalid == 0 {
        exit::OK
    } else {
        exit::NEEDS_ATTENTION
    })
}

impl Tally {
    /// One row, as the rerun would take it.
    fn take(
        &mut self,
        ledger: &Ledger,
        row: BackRow,
        earlier: &Earlier,
        plan: &Plan<'_>,
        seen: &mut HashMap<String, u64>,
    ) -> Result<(), Failure> {
        let j = plan::judge_back(row, earlier, plan.ask);
        let message = earlier.message.as_ref();
        let (n, key) = (j.raw.row, j.raw.fields.order_key().to_string());
        let at = format!("  row {n} (order `{key}`)");
        // As the ledger checks: held rows by their order number, rows to
        // send when they are valid.
        let checked = !key.is_empty() && (matches!(j.pass, Pass::Hold(_)) || j.result.is_ok());
        let first = checked.then(|| seen.get(&key).copied()).flatten();
        if let Some(first) = first {
            self.duplicate += 1;
            self.list(format!("{at}: {}", duplicate_reason(&key, first)));
            return Ok(());
        }
        if let Pass::Hold(outcome) = j.pass {
            seen.entry(key).or_insert(n);
            self.held += 1;
            let why = match message {
                Some(m) => format!(
                    "not sent again: {} as {} (run {}){}",
                    m.status.as_deref().unwrap_or("accepted"),
                    m.wamid,
                    m.run_id,
                    j.note.map(|n| format!("; {n}")).unwrap_or_default()
                ),
                None => format!(
                    "not sent: outcome `{}` in the file{}",
                    outcome.as_str(),
                    j.note.map(|n| format!("; {n}")).unwrap_or_default()
                ),
            };
            self.list(format!("{at}: {why}"));
            return Ok(());
        }
        let d = match &j.result {
            Err(p) => {
                self.invalid += 1;
                self.list(format!("{at}: {}", reason(&j.raw, p)));
                return Ok(());
            }
            Ok(d) => d,
        };
        seen.entry(key).or_insert(n);
        let doubts = ledger
            .doubts(&d.order_key)
            .map_err(|e| Failure::of(exit::CONFIG, e))?;
        match message {
            Some(m) if plan::failed(m) => self.again += 1,
            _ if !doubts.is_empty() => {
                self.in_doubt += 1;
                self.list(format!(
                    "{at}: its earlier send is in doubt; it is looked up in the message \
                     history first and sent only if that shows it was not accepted"
                ));
                return Ok(());
            }
            _ => self.send += 1,
        }
        if self.previews.len() < PREVIEW {
            let replaces = message
                .map(|m| format!(", replacing {}, which failed", m.wamid))
                .unwrap_or_default();
            self.previews.push(format!(
                "To +{} (row {n}, order {}{replaces}):\n  {}{}",
                d.phone,
                d.order_key,
                d.render(&plan.ask.rules.body_template),
                plan.template
                    .button
                    .as_ref()
                    .map(|b| format!("\n  [{b}]"))
                    .unwrap_or_default()
            ));
        }
        Ok(())
    }

    /// Lists a row that would not be sent, up to [`LISTED`] of them.
    fn list(&mut self, line: String) {
        if self.listed.len() < LISTED {
            self.listed.push(line);
        }
    }

    fn print(&self) {
        println!("Dry run of the rerun: nothing was sent and nothing recorded.");
        println!(
            "{} rows: {} would be sent ({} of them again, after a failed message), \
             {} not sent (held or already accepted), {} invalid, {} duplicate, {} in doubt.",
            self.rows,
            self.send + self.again,
            self.again,
            self.held,
            self.invalid,
            self.duplicate,
            self.in_doubt,
        );
        if !self.previews.is_empty() {
            println!("\nThe first messages, as partners would read them:\n");
            for p in &self.previews {
                println!("{p}\n");
            }
        }
        if !self.listed.is_empty() {
            println!("Rows that would not be sent:");
            for l in &self.listed {
                println!("{l}");
            }
            let not_sent = self.held + self.invalid + self.duplicate + self.in_doubt;
            if not_sent > self.listed.len() as u64 {
                println!("  … and {} more", not_sent - self.listed.len() as u64);
            }
        }
    }
}
