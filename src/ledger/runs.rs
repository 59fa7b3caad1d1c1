//! Runs: each invocation's start, end and settings, which every other record hangs off.

use chrono::{DateTime, Utc};
use rusqlite::{Params, Row, params};

use super::codec::{encode_params, get_opt_ts, get_params, get_ts, ts};
use super::{Ledger, LedgerError, RunId, RunMeta};

/// A run as `handoff runs` lists it: what it was, on what, and how it
/// ended (`finished_at` empty: the process was killed, or is still going).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    pub run_id: RunId,
    /// `run`, `rerun` or `track`.
    pub kind: String,
    /// The input file (for `track`, the report it rewrote).
    pub input: Option<String>,
    /// The API's base URL; `None` for a run recorded before the ledger kept it.
    pub api_url: Option<String>,
    pub channel: String,
    /// A rehearsal (`run --simulate`).
    pub simulated: bool,
    pub template: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub exit_code: Option<i32>,
    /// How many input rows the run recorded (none for `track`).
    pub rows: u64,
}

const RUN_COLUMNS: &str = "r.run_id, r.kind, r.input_path, r.channel, r.template, r.started_at,
    r.finished_at, r.exit_code, (SELECT COUNT(*) FROM deliveries d WHERE d.run_id = r.run_id),
    r.api_url, r.simulated";

fn run_from_row(r: &Row<'_>) -> rusqlite::Result<RunInfo> {
    Ok(RunInfo {
        run_id: r.get(0)?,
        kind: r.get(1)?,
        input: r.get(2)?,
        channel: r.get(3)?,
        template: r.get(4)?,
        started_at: get_ts(r, 5)?,
        finished_at: get_opt_ts(r, 6)?,
        exit_code: r.get(7)?,
        rows: r.get(8)?,
        api_url: r.get(9)?,
        simulated: r.get(10)?,
    })
}

impl Ledger {
    /// Records the start of a run and returns its id; every other record hangs off it.
    pub fn begin_run(&mut self, meta: &RunMeta) -> Result<RunId, LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO runs (kind, input_path, channel, template, language, started_at,
                 api_url, simulated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        stmt.execute(params![
            meta.kind,
            meta.input_path,
            meta.channel,
            meta.template,
            meta.language,
            ts(&meta.started_at),
            meta.api_url,
            meta.simulated
        ])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records how a run ended; a run without `finished_at` was killed.
    pub fn finish_run(
        &mut self,
        run: RunId,
        exit_code: i32,
        at: DateTime<Utc>,
    ) -> Result<(), LedgerError> {
        let mut stmt = self
            .conn
            .prepare_cached("UPDATE runs SET finished_at = ?2, exit_code = ?3 WHERE run_id = ?1")?;
        match stmt.execute(params![run, ts(&at), exit_code])? {
            0 => Err(LedgerError::UnknownRun(run)),
            _ => Ok(()),
        }
    }

    /// Records the headers of the other columns a run keeps.
    pub fn set_extra_columns(&mut self, run: RunId, headers: &[String]) -> Result<(), LedgerError> {
        self.conn
            .prepare_cached("UPDATE runs SET extra_columns = ?2 WHERE run_id = ?1")?
            .execute(params![run, encode_params(headers)?])?;
        Ok(())
    }

    /// The headers of the other columns a run kept (none by default).
    pub fn extra_columns(&self, run: RunId) -> Result<Vec<String>, LedgerError> {
        let sql = "SELECT extra_columns FROM runs WHERE run_id = ?1";
        Ok(self
            .first(sql, [run], |r| get_params(r, 0))?
            .unwrap_or_default())
    }

    /// The runs `filter` (SQL after `FROM runs r`) selects, in its order.
    fn runs_where(&self, filter: &str, value: impl Params) -> Result<Vec<RunInfo>, LedgerError> {
        self.all(
            &format!("SELECT {RUN_COLUMNS} FROM runs r {filter}"),
            value,
            run_from_row,
        )
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunInfo>, LedgerError> {
        self.runs_where("ORDER BY r.run_id", [])
    }

    /// One run, if the ledger has it.
    pub fn run(&self, run: RunId) -> Result<Option<RunInfo>, LedgerError> {
        Ok(self.runs_where("WHERE r.run_id = ?1", [run])?.pop())
    }

    /// The latest rehearsal (`simulated`) or real run, if the ledger holds one: a command
    /// refuses a ledger that holds the other kind (see the schema's `SCHEMA_RUN_TARGET`).
    pub fn latest_run(&self, simulated: bool) -> Result<Option<RunInfo>, LedgerError> {
        let filter = "WHERE r.simulated = ?1 ORDER BY r.run_id DESC LIMIT 1";
        Ok(self.runs_where(filter, [simulated])?.pop())
    }

    /// The latest run that sent (`run` or `rerun`), whose report `handoff
    /// track` rewrites by default.
    pub fn last_send_run(&self) -> Result<Option<RunId>, LedgerError> {
        let sql = "SELECT MAX(run_id) FROM runs WHERE kind IN ('run', 'rerun')";
        Ok(self.first(sql, [], |r| r.get(0))?.flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::fixtures::{meta, t};

    #[test]
    fn begin_and_finish_run() {
        let mut l = Ledger::open_in_memory().unwrap();
        let r1 = l.begin_run(&meta("run", t(1_234))).unwrap();
        let r2 = l.begin_run(&meta("track", t(2_000))).unwrap();
        assert!(r2 > r1);
        l.finish_run(r1, 10, t(9_876)).unwrap();
        let (kind, started, finished, code): (String, i64, Option<i64>, Option<i32>) = l
            .conn
            .query_row(
                "SELECT kind, started_at, finished_at, exit_code FROM runs WHERE run_id = ?1",
                [r1],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(kind, "run");
        // Milliseconds since the epoch: 2026-11-25T00:00:01.234Z and …09.876Z.
        assert_eq!(started, 1_795_564_801_234);
        assert_eq!(finished, Some(1_795_564_809_876));
        assert_eq!(code, Some(10));
        assert!(matches!(
            l.finish_run(999, 0, t(0)),
            Err(LedgerError::UnknownRun(999))
        ));
        // The CHECK constraint rejects an unknown kind.
        assert!(l.begin_run(&meta("nightly", t(0))).is_err());
    }

    #[test]
    fn runs_list_how_each_ended_and_how_many_rows_it_read() {
        use crate::ledger::Verdict;
        use crate::ledger::fixtures::row;
        let mut l = Ledger::open_in_memory().unwrap();
        let r1 = l.begin_run(&meta("run", t(0))).unwrap();
        l.record_rows(
            r1,
            &[
                row(1, Some("A"), Verdict::Send),
                row(2, None, Verdict::Invalid),
            ],
        )
        .unwrap();
        l.finish_run(r1, 10, t(5_000)).unwrap();
        let r2 = l.begin_run(&meta("track", t(9_000))).unwrap();
        let runs = l.runs().unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!((runs[0].run_id, runs[0].rows), (r1, 2));
        assert_eq!(runs[0].exit_code, Some(10));
        assert_eq!(runs[0].finished_at, Some(t(5_000)));
        assert_eq!(runs[0].input.as_deref(), Some("deliveries.csv"));
        assert_eq!(
            (runs[1].kind.as_str(), runs[1].finished_at),
            ("track", None)
        );
        assert_eq!(l.run(r2).unwrap(), Some(runs[1].clone()));
        assert_eq!(l.run(99).unwrap(), None);
        assert_eq!(runs[0].api_url.as_deref(), Some("https://api.1msg.io"));
        assert!(!runs[0].simulated);
        // The latest of each kind: no rehearsal here.
        assert_eq!(l.latest_run(false).unwrap().map(|r| r.run_id), Some(r2));
        assert_eq!(l.latest_run(true).unwrap(), None);
        let mut rehearsal = meta("run", t(10_000));
        rehearsal.simulated = true;
        let r3 = l.begin_run(&rehearsal).unwrap();
        let found = l.latest_run(true).unwrap().unwrap();
        assert_eq!((found.run_id, found.simulated), (r3, true));
    }
}
