//! `handoff run --dry-run`: every row validated and checked for duplicates
//! as the real run would, a few messages shown as partners will read them,
//! nothing sent and nothing recorded.

use super::preflight::Template;
use crate::delivery::Rules;
use crate::error::Failure;
use crate::exit;
use crate::ingest::{Pass, duplicate_reason, judge, reason};
use crate::input::{self, ProblemSummary};

/// How many rendered messages a dry run shows.
const PREVIEW: usize = 3;
/// How many rows that will not be sent are listed.
const LISTED: usize = 20;

/// What the dry run found.
#[derive(Default)]
struct Tally {
    rows: u64,
    valid: u64,
    invalid: u64,
    duplicate: u64,
    previews: Vec<String>,
    problems: Vec<String>,
}

/// Validates everything, shows a few messages as partners would read them,
/// and sends nothing.
pub(super) fn dry_run(
    reader: input::InputReader,
    rules: &Rules,
    template: &Template,
) -> Result<u8, Failure> {
    let mut seen = SeenKeys::new()
        .map_err(|e| Failure::because(exit::INTERNAL, "failed to start the dry run", e))?;
    let mut t = Tally::default();
    let mut summary = ProblemSummary::new(reader.file_name());
    for item in reader {
        let raw = item.map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
        t.rows += 1;
        let j = judge(raw, rules, Pass::Normal);
        let d = match &j.result {
            Err(p) => {
                t.invalid += 1;
                summary.add(j.raw.line, p);
                t.list(format!("  row {}: {}", j.raw.row, reason(&j.raw, p)));
                continue;
            }
            Ok(d) => d,
        };
        let first = seen
            .first(&d.order_key, j.raw.row)
            .map_err(|e| Failure::because(exit::INTERNAL, "dry run", e))?;
        if let Some(first) = first {
            t.duplicate += 1;
            let why = duplicate_reason(&d.order_key, first);
            summary.add_duplicate(j.raw.line, &format!("row {}: {why}", j.raw.row));
            t.list(format!("  row {}: line {}: {why}", j.raw.row, j.raw.line));
            continue;
        }
        t.valid += 1;
        if t.previews.len() < PREVIEW {
            t.previews.push(format!(
                "To +{} (row {}, order {}):\n  {}{}",
                d.phone,
                j.raw.row,
                d.order_key,
                d.render(&rules.body_template),
                template
                    .button
                    .as_ref()
                    .map(|b| format!("\n  [{b}]"))
                    .unwrap_or_default()
            ));
        }
    }
    t.print();
    eprint!("{summary}");
    Ok(if t.invalid == 0 {
        exit::OK
    } else {
        exit::NEEDS_ATTENTION
    })
}

impl Tally {
    /// Lists a row that will not be sent, up to [`LISTED`] of them.
    fn list(&mut self, line: String) {
        if self.problems.len() < LISTED {
            self.problems.push(line);
        }
    }

    fn print(&self) {
        println!("Dry run: nothing was sent.");
        println!(
            "{} rows: {} to send, {} invalid, {} duplicate.",
            self.rows, self.valid, self.invalid, self.duplicate
        );
        if !self.previews.is_empty() {
            println!("\nThe first messages, as partners will read them:\n");
            for p in &self.previews {
                println!("{p}\n");
            }
        }
        if !self.problems.is_empty() {
            println!("Rows that will not be sent:");
            for p in &self.problems {
                println!("{p}");
            }
            let not_sent = self.invalid + self.duplicate;
            if not_sent > self.problems.len() as u64 {
                println!("  … and {} more", not_sent - self.problems.len() as u64);
            }
        }
    }
}

/// The order keys a dry run has seen, in a throwaway SQLite file rather
/// than in memory, so checking a million-row export for duplicates does not
/// hold a million keys.
pub(super) struct SeenKeys {
    conn: rusqlite::Connection,
    path: std::path::PathBuf,
    /// Inserts in the open transaction (committed every 10,000: one
    /// statement a transaction would cost a file write per row).
    pending: u32,
}

impl SeenKeys {
    pub(super) fn new() -> rusqlite::Result<SeenKeys> {
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
    pub(super) fn first(&mut self, key: &str, row: u64) -> rusqlite::Result<Option<u64>> {
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
