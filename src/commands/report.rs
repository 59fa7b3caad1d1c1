//! `handoff report --run N`: a past run's reconciliation written again from
//! the ledger alone. No request leaves: the statuses are those the ledger
//! recorded (run `handoff track` first for newer ones), so finance can get
//! last Tuesday's file back, or this morning's with the workbook, without
//! touching the API.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::cli::ReportArgs;
use crate::error::Failure;
use crate::exit;
use crate::ledger::{Ledger, LedgerError, RunId, RunInfo};
use crate::report::{self, ReportRow, Summary};

/// Opens a ledger that must exist, for every command that only reads or
/// keeps one: opening one that is not there would create an empty file and
/// report, prune or copy nothing while saying all is well.
pub(super) fn open_ledger(path: &Path) -> Result<Ledger, Failure> {
    if !path.is_file() {
        return Err(Failure::new(
            exit::NO_INPUT,
            format!(
                "no ledger at `{}`: give --ledger, the one `handoff run` used",
                path.display()
            ),
        ));
    }
    Ledger::open(path).map_err(|e| Failure::of(exit::CONFIG, e))
}

/// The ledger's runs named for a person: `1, 2, 4 (rerun)`.
pub(super) fn run_list(runs: &[RunInfo]) -> String {
    if runs.is_empty() {
        return "it holds no run".into();
    }
    let names: Vec<String> = runs
        .iter()
        .map(|r| format!("{} ({})", r.run_id, r.kind))
        .collect();
    format!("it holds runs {}", names.join(", "))
}

/// The run `--run` names, or a usage error naming the runs there are: a
/// typo must not read as "nothing happened that night".
pub(super) fn known_run(l: &Ledger, run: RunId) -> Result<RunInfo, Failure> {
    let ledger = |e: LedgerError| Failure::of(exit::CONFIG, e);
    match l.run(run).map_err(ledger)? {
        Some(info) => Ok(info),
        None => Err(Failure::new(
            exit::CONFIG,
            format!(
                "there is no run {run} in the ledger: {}; `handoff runs` lists them",
                run_list(&l.runs().map_err(ledger)?)
            ),
        )),
    }
}

/// A run that has rows (a `run` or `rerun`), named by `--run`; a `track`
/// run reports another run's rows and has none of its own.
pub(super) fn send_run(l: &Ledger, run: RunId) -> Result<RunInfo, Failure> {
    let info = known_run(l, run)?;
    if info.kind != "track" {
        return Ok(info);
    }
    Err(Failure::new(
        exit::CONFIG,
        format!(
            "run {run} is a `track` run, which has no rows of its own: give the run it \
             tracked; {}",
            run_list(&l.runs().map_err(|e| Failure::of(exit::CONFIG, e))?)
        ),
    ))
}

/// The counts by outcome of a run's rows, as its report would say now,
/// each row handed to `each` in order.
pub(super) fn reconcile_run(
    l: &Ledger,
    run: RunId,
    mut each: impl FnMut(&ReportRow) -> std::io::Result<()>,
) -> std::io::Result<Summary> {
    let mut summary = Summary::default();
    l.each_report_row(run, |f| -> std::io::Result<()> {
        let r = report::reconcile(f, run);
        summary.add(r.outcome);
        each(&r)
    })?;
    Ok(summary)
}

/// `handoff report`: writes the reconciliation of a run (and its workbook)
/// from the ledger; `0` when every row is delivered or read, else `10`.
pub(crate) fn report(args: &ReportArgs) -> Result<u8, Failure> {
    let l = open_ledger(&args.ledger)?;
    let ledger = |e: LedgerError| Failure::of(exit::CONFIG, e);
    let run = match args.run {
        Some(r) => send_run(&l, r)?,
        None => {
            let latest = l.last_send_run().map_err(ledger)?.ok_or_else(|| {
                Failure::new(exit::CONFIG, "the ledger holds no run or rerun to report")
            })?;
            send_run(&l, latest)?
        }
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("reconciliation-run-{}.csv", run.run_id)));
    let extra = l.extra_columns(run.run_id).map_err(ledger)?;
    let mut kept = Vec::new();
    let keep = args.xlsx.is_some();
    let mut summary = Summary::default();
    report::write_csv_from(&out, &extra, |emit| {
        summary = reconcile_run(&l, run.run_id, |r| {
            if keep {
                kept.push(r.clone());
            }
            emit(r)
        })?;
        Ok(())
    })
    .map_err(|e| {
        Failure::because(
            exit::CONFIG,
            format!("failed to write the report `{}`", out.display()),
            e,
        )
    })?;
    let code = if summary.all_fine() {
        exit::OK
    } else {
        exit::NEEDS_ATTENTION
    };
    if let Some(path) = &args.xlsx {
        // The workbook's summary names how the run ended, as it ended.
        let ended = run
            .exit_code
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(code);
        let book = super::finish::Book {
            rows: &kept,
            extra: &extra,
            summary: &summary,
            run_id: run.run_id,
            exit_code: ended,
        };
        let header = l.run(run.run_id).map_err(ledger)?;
        super::finish::write_workbook(path, &book, header, args.timezone).map_err(|e| {
            Failure::because(
                exit::CONFIG,
                format!("failed to write the workbook `{}`", path.display()),
                e,
            )
        })?;
    }
    if !args.quiet {
        eprint!("{}", summary.table());
        eprintln!("report of run {}: {}", run.run_id, out.display());
    }
    let line = json!({
        "run_id": run.run_id,
        "rows": summary.rows,
        "outcomes": summary.outcomes,
        "exit_code": code,
        "report": out.display().to_string(),
        "workbook": args.xlsx.as_ref().map(|p| p.display().to_string()),
    });
    println!("{line}");
    Ok(code)
}
