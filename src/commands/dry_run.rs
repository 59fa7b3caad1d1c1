//! `--dry-run` of `run` and `rerun`: every row taken as the command would
//! take it, decided by [`crate::fate`] against the ledger as it is (read,
//! never written), and shown: the first messages as partners will read
//! them, and every row that will not be sent with why. What it says it
//! will send is what the command then sends, given the same ledger.

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;

use super::preflight::Template;
use crate::api::client::Client;
use crate::cli::SendArgs;
use crate::delivery::Rules;
use crate::error::Failure;
use crate::exit;
use crate::fate::Fate;
use crate::ingest::{Deciding, FirstRows, Judged, fate_of, reason};
use crate::input::{InputReader, ProblemSummary, RawRow};
use crate::ledger::{Ledger, LedgerError, Suppression};

/// How many rendered messages a dry run shows.
const PREVIEW: usize = 3;
/// How many rows that will not be sent are listed.
const LISTED: usize = 30;

/// What the dry run shows, besides the rows.
pub(super) struct Preview<'a> {
    pub(super) rules: &'a Rules,
    pub(super) template: &'a Template,
    /// The daily budget, and `--resend-unknown`: a doubt the history does
    /// not find is sent.
    pub(super) send: &'a SendArgs,
    /// How the rows are decided besides: `run --resend-changed`, `rerun
    /// --force`.
    pub(super) resend_changed: bool,
    pub(super) force: bool,
    /// The phones the channel lists as blocked (none when it cannot say).
    pub(super) blocked: Vec<String>,
}

/// What the dry run found.
#[derive(Default)]
struct Tally {
    rows: u64,
    send: u64,
    again: u64,
    reused: u64,
    held: u64,
    in_doubt: u64,
    over_budget: u64,
    suppressed: u64,
    invalid: u64,
    duplicate: u64,
    previews: Vec<String>,
    listed: Vec<String>,
}

/// The ledger a dry run reads: the file, opened read-only, when it exists;
/// an empty one in memory when it does not (the run would create it). A
/// ledger the command would refuse (a rehearsal's for a real run, or the
/// other way round) is refused here too.
pub(super) fn read_ledger(path: &Path, simulated: bool) -> Result<Ledger, Failure> {
    let opened = if path.exists() {
        Ledger::open_read_only(path)
    } else {
        Ledger::open_in_memory()
    };
    let ledger = opened.map_err(|e| Failure::of(exit::CONFIG, e))?;
    super::session::one_kind_of_run(&ledger, path, simulated)?;
    Ok(ledger)
}

/// The phones the channel lists as blocked, which the command will
/// suppress before it decides; none when the channel cannot say.
pub(super) async fn blocked(client: &Client) -> Vec<String> {
    client
        .blocked_users()
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Takes every row of `reader` as the command would (`judged`), decides
/// it, and prints what it would do; `0` when no row is invalid, else `10`.
pub(super) fn dry_run(
    reader: InputReader,
    mut judged: impl FnMut(RawRow) -> Result<Judged, Failure>,
    ledger: &Ledger,
    preview: &Preview<'_>,
) -> Result<u8, Failure> {
    let mut seen = SeenKeys::new()
        .map_err(|e| Failure::because(exit::INTERNAL, "failed to start the dry run", e))?;
    let daily = preview.send.daily_recipients;
    let mut deciding = Deciding::new(ledger, preview.resend_changed, daily, preview.force)
        .map_err(|e| Failure::of(exit::CONFIG, e))?;
    // The command puts the partners file's opted-out contacts and the
    // channel's blocked users on the suppression list before it decides; a
    // dry run writes nothing, so it holds them back here, as the command
    // will (`--force` sets the list aside in both).
    if !preview.force {
        let opted_out = preview.rules.directory.iter().flat_map(|d| d.opted_out());
        let blocked = preview.blocked.iter().map(String::as_str);
        let suppressed = Arc::make_mut(&mut deciding.limits.suppressed);
        for phone in opted_out.chain(blocked) {
            suppressed
                .entry(phone.to_string())
                .or_insert_with(|| Suppression {
                    phone: phone.to_string(),
                    since: Utc::now(),
                    refused: None,
                });
        }
    }
    let mut t = Tally::default();
    let mut summary = ProblemSummary::new(reader.file_name());
    for raw in reader {
        let j = judged(raw.map_err(super::unreadable)?)?;
        let (fate, _) =
            fate_of(ledger, &mut seen, &j, &deciding).map_err(|e| Failure::of(exit::CONFIG, e))?;
        t.take(&j, &fate, preview, &mut summary);
    }
    t.print(preview.send.resend_unknown);
    eprint!("{summary}");
    Ok(if t.invalid == 0 {
        exit::OK
    } else {
        exit::NEEDS_ATTENTION
    })
}

impl Tally {
    /// One row and its fate.
    fn take(&mut self, j: &Judged, fate: &Fate, p: &Preview<'_>, summary: &mut ProblemSummary) {
        self.rows += 1;
        let (n, line) = (j.raw.row, j.raw.line);
        let key = j.key().unwrap_or_default();
        let at = format!("  row {n} (order `{key}`)");
        // The command's word on a held row (a rerun: why, and what the file
        // changed), after what the fate says.
        let note = j
            .note
            .as_ref()
            .map(|n| format!("; {n}"))
            .unwrap_or_default();
        match (fate, &j.result) {
            (Fate::Send { replaces, changes }, Ok(d)) => {
                match replaces {
                    Some(_) => self.again += 1,
                    None => self.send += 1,
                }
                if self.previews.len() < PREVIEW {
                    let replacing = match (replaces, changes.is_empty()) {
                        (Some(w), true) => format!(", replacing {w}, which failed"),
                        (Some(w), false) => format!(", replacing {w}"),
                        (None, _) => String::new(),
                    };
                    self.previews.push(format!(
                        "To +{} (row {n}, order {}{replacing}):\n  {}{}",
                        d.phone,
                        d.order_key,
                        d.render(&p.rules.body_template),
                        p.template
                            .button
                            .as_ref()
                            .map(|b| format!("\n  [{b}]"))
                            .unwrap_or_default()
                    ));
                }
            }
            (Fate::Invalid | Fate::Send { .. }, Err(problem)) => {
                self.invalid += 1;
                summary.add(line, problem);
                self.list(format!("  row {n}: {}", reason(&j.raw, problem)));
            }
            (Fate::Invalid, Ok(_)) => {}
            (Fate::Duplicate { .. }, _) => {
                self.duplicate += 1;
                let why = fate.reason(line, key).unwrap_or_default();
                summary.add_duplicate(line, &format!("row {n}: {why}"));
                self.list(format!("  row {n}: {why}"));
            }
            (Fate::Reused { wamid, changed, .. }, _) => {
                self.reused += 1;
                let changed = match changed.is_empty() {
                    true => String::new(),
                    false => format!(
                        "; changed since: {} (--resend-changed sends the corrected message)",
                        changed.join(", ")
                    ),
                };
                self.list(format!(
                    "{at}: not sent again: already accepted as {wamid}{changed}{note}"
                ));
            }
            (Fate::LookUp | Fate::Unknown { .. }, _) => {
                self.in_doubt += 1;
                let then = if p.send.resend_unknown {
                    "sent unless it is found there (--resend-unknown)"
                } else {
                    "sent only if that shows it was not accepted"
                };
                self.list(format!(
                    "{at}: its earlier send is in doubt; it is looked up in the message \
                     history first, and {then}"
                ));
            }
            (Fate::Suppressed(_), _) => {
                self.suppressed += 1;
                let why = fate.reason(line, key).unwrap_or_default();
                self.list(format!("{at}: {why}"));
            }
            (Fate::OverBudget { .. }, _) => {
                self.over_budget += 1;
                let why = fate.reason(line, key).unwrap_or_default();
                self.list(format!("{at}: {why}"));
            }
            (Fate::NotSelected(outcome), _) => {
                self.held += 1;
                self.list(format!(
                    "{at}: not sent: outcome `{}` in the file{note}",
                    outcome.as_str()
                ));
            }
            // Decided after a send's outcome, which a dry run never has.
            (Fate::Fallback { .. }, _) => {}
        }
    }

    /// Lists a row that will not be sent, up to [`LISTED`] of them.
    fn list(&mut self, line: String) {
        if self.listed.len() < LISTED {
            self.listed.push(line);
        }
    }

    fn print(&self, resend_unknown: bool) {
        println!("Dry run: nothing was sent and nothing recorded.");
        let again = match self.again {
            0 => String::new(),
            n => format!(" ({n} of them again, after an earlier message)"),
        };
        let mut more = String::new();
        for (n, what) in [
            (self.reused, "already sent"),
            (self.held, "held as the file has them"),
            (self.in_doubt, "in doubt"),
            (self.over_budget, "past the daily budget"),
            (self.suppressed, "to suppressed phones"),
        ] {
            if n > 0 {
                more.push_str(&format!(", {n} {what}"));
            }
        }
        println!(
            "{} rows: {} to send{again}, {} invalid, {} duplicate{more}.",
            self.rows,
            self.send + self.again,
            self.invalid,
            self.duplicate,
        );
        if self.in_doubt > 0 && resend_unknown {
            println!(
                "{} row(s) in doubt are sent too if the message history does not find them.",
                self.in_doubt
            );
        }
        if !self.previews.is_empty() {
            println!("\nThe first messages, as partners will read them:\n");
            for p in &self.previews {
                println!("{p}\n");
            }
        }
        if !self.listed.is_empty() {
            println!("Rows that will not be sent:");
            for p in &self.listed {
                println!("{p}");
            }
            let not_sent = self.rows - self.send - self.again;
            if not_sent > self.listed.len() as u64 {
                println!("  … and {} more", not_sent - self.listed.len() as u64);
            }
        }
    }
}

/// The order keys a dry run has seen, in a throwaway SQLite file rather
/// than in memory, so checking a million-row export for duplicates does not
/// hold a million keys. SQLite's temporary database (the empty file name)
/// is unlinked as soon as it is opened, so nothing is left behind however
/// the process ends.
pub(super) struct SeenKeys {
    conn: rusqlite::Connection,
    /// Inserts in the open transaction (committed every 10,000: one
    /// statement a transaction would cost a file write per row).
    pending: u32,
}

impl SeenKeys {
    pub(super) fn new() -> rusqlite::Result<SeenKeys> {
        let conn = rusqlite::Connection::open("")?;
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE seen (order_key TEXT PRIMARY KEY, row INTEGER NOT NULL) WITHOUT ROWID;
             BEGIN;",
        )?;
        Ok(SeenKeys { conn, pending: 0 })
    }
}

impl FirstRows for SeenKeys {
    /// The row that first had `key`, or `None` (and `row` is remembered).
    fn first(&mut self, _: &Ledger, key: &str, row: u64) -> Result<Option<u64>, LedgerError> {
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
        Ok(self
            .conn
            .prepare_cached("SELECT row FROM seen WHERE order_key = ?1")?
            .query_row([key], |r| r.get(0))
            .map(Some)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_keys_answer_the_first_row() {
        let mut seen = SeenKeys::new().unwrap();
        let l = Ledger::open_in_memory().unwrap();
        assert_eq!(seen.first(&l, "A", 1).unwrap(), None);
        assert_eq!(seen.first(&l, "B", 2).unwrap(), None);
        assert_eq!(seen.first(&l, "A", 3).unwrap(), Some(1));
        assert_eq!(seen.first(&l, "A", 4).unwrap(), Some(1));
    }
}
