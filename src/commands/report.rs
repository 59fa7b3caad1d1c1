//! `handoff report --run N`: a past run's reconciliation written again from
//! the ledger alone. No request leaves: the statuses are those the ledger
//! recorded (run `handoff track` first for newer ones), so finance can get
//! last Tuesday's file back, or this morning's with the workbook, without
//! touching the API.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;

use crate::cli::ReportArgs;
use crate::error::Failure;
use crate::exit;
use crate::ledger::{Ledger, LedgerError, RunId, RunInfo};
use crate::report::cost::RateCard;
use crate::report::workbook::Book;
use crate::report::{self, ReportRow, Summary};

/// Opens a ledger that must exist, for every command that only reads or
/// keeps one: opening one that is not there would create an empty file and
/// report, prune or copy nothing while saying all is well.
pub(super) fn open_ledger(path: &Path) -> Result<Ledger, Failure> {
    if !path.is_file() {
        let why = format!(
            "no ledger at `{}`: give --ledger, the one `handoff run` used",
            path.display()
        );
        return Err(Failure::new(exit::NO_INPUT, why));
    }
    Ledger::open(path).map_err(|e| Failure::of(exit::CONFIG, e))
}

/// The run `--run` names, if it has rows (a `run` or `rerun`), or a usage
/// error naming the runs there are: a typo must not read as "nothing
/// happened that night", and a `track` run reports another run's rows and
/// has none of its own.
pub(super) fn send_run(l: &Ledger, run: RunId) -> Result<RunInfo, Failure> {
    let ledger = |e: LedgerError| Failure::of(exit::CONFIG, e);
    let tracked = match l.run(run).map_err(ledger)? {
        Some(info) if info.kind != "track" => return Ok(info),
        Some(_) => true,
        None => false,
    };
    let runs = l.runs().map_err(ledger)?;
    let names: Vec<String> = runs
        .iter()
        .map(|r| format!("{} ({})", r.run_id, r.kind))
        .collect();
    let holds = match names.is_empty() {
        true => "it holds no run".to_string(),
        false => format!("it holds runs {}", names.join(", ")),
    };
    Err(Failure::new(
        exit::CONFIG,
        match tracked {
            true => format!(
                "run {run} is a `track` run, which has no rows of its own: give the run it \
                 tracked; {holds}"
            ),
            false => {
                format!("there is no run {run} in the ledger: {holds}; `handoff runs` lists them")
            }
        },
    ))
}

/// How a run's rows are reconciled for its report.
#[derive(Clone, Default)]
pub(super) struct Reconciling {
    /// Whether this command sent the run's messages (its `sent_this_run`;
    /// `track` rewrites an earlier run's report).
    pub(super) sent_here: bool,
    /// Why tracking could not work, said in each pending row.
    pub(super) untracked: Option<String>,
    /// The prices each row's cost is estimated with (`--rate-card`).
    pub(super) rates: Option<Arc<RateCard>>,
}

/// A run's rows as its report would say them now, in order, each handed
/// to `emit`; their counts by outcome.
pub(super) fn reconcile_run(
    l: &Ledger,
    run: RunId,
    how: &Reconciling,
    mut emit: impl FnMut(&ReportRow) -> std::io::Result<()>,
) -> std::io::Result<Summary> {
    let mut summary = Summary::default();
    summary.cost.rated = how.rates.is_some();
    l.each_report_row(run, |f| -> std::io::Result<()> {
        let mut r = report::reconcile(f, run);
        if let Some(why) = &how.untracked {
            report::untracked(&mut r, why);
        }
        report::estimate(&mut r, how.rates.as_deref());
        summary.add_row(&r, how.sent_here);
        emit(&r)
    })?;
    Ok(summary)
}

/// Writes a run's report to `out` and its rows to `book` as the query
/// yields them, so a million-row night is never held whole; without a path
/// it only counts (the report could not be written, the rest can).
pub(super) fn write_run_report(
    l: &Ledger,
    run: RunId,
    out: Option<&Path>,
    extra: &[String],
    how: &Reconciling,
    mut book: Option<&mut Book>,
) -> std::io::Result<Summary> {
    let mut done = Summary::default();
    let mut produce = |emit: &mut dyn FnMut(&ReportRow) -> std::io::Result<()>| {
        done = reconcile_run(l, run, how, |r| {
            if let Some(book) = book.as_deref_mut() {
                book.add(r);
            }
            emit(r)
        })?;
        Ok(())
    };
    match out {
        Some(path) => report::write_csv_from(path, extra, produce)?,
        None => produce(&mut |_| Ok(()))?,
    }
    Ok(done)
}

/// `handoff report`: writes the reconciliation of a run (and its workbook)
/// from the ledger; `0` when every row is delivered or read, else `10`.
pub(crate) fn report(args: &ReportArgs) -> Result<u8, Failure> {
    let l = open_ledger(&args.ledger)?;
    let ledger = |e: LedgerError| Failure::of(exit::CONFIG, e);
    let wanted = match args.run {
        Some(r) => r,
        None => l.last_send_run().map_err(ledger)?.ok_or_else(|| {
            Failure::new(exit::CONFIG, "the ledger holds no run or rerun to report")
        })?,
    };
    let run = send_run(&l, wanted)?;
    let unwritten = |what: &'static str, path: &Path| {
        let path = path.display().to_string();
        move |e| {
            let context = format!("failed to write the {what} `{path}`");
            Failure::because(exit::CONFIG, context, e)
        }
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("reconciliation-run-{}.csv", run.run_id)));
    let extra = l.extra_columns(run.run_id).map_err(ledger)?;
    let mut book = args
        .xlsx
        .as_deref()
        .map(|path| Book::new(path, &extra, args.timezone));
    let how = Reconciling {
        rates: super::session::rate_card(args.rate_card.as_deref())?,
        ..Reconciling::default()
    };
    let summary = write_run_report(&l, run.run_id, Some(&out), &extra, &how, book.as_mut())
        .map_err(unwritten("report", &out))?;
    let code = if summary.all_fine() {
        exit::OK
    } else {
        exit::NEEDS_ATTENTION
    };
    if let (Some(path), Some(book)) = (&args.xlsx, book) {
        // The workbook's summary names how the run ended, as it ended.
        let ended = run
            .exit_code
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(code);
        let info = l.run(run.run_id).map_err(ledger)?;
        book.write(path, &summary, run.run_id, ended, info)
            .map_err(unwritten("workbook", path))?;
    }
    if !args.quiet {
        eprint!("{}", summary.table());
        eprintln!("report of run {}: {}", run.run_id, out.display());
    }
    let line = json!({
        "run_id": run.run_id,
        "rows": summary.rows,
        "outcomes": summary.outcomes,
        "cost": summary.cost,
        "exit_code": code,
        "report": out.display().to_string(),
        "workbook": args.xlsx.as_ref().map(|p| p.display().to_string()),
    });
    println!("{line}");
    Ok(code)
}
