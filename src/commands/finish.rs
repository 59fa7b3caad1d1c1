//! How a sending command ends: the report written from the ledger, the
//! exit code picked, the workbook, metrics and summary written, the run's
//! end recorded, and the summary printed.

use std::path::Path;

use chrono::Utc;
use serde_json::json;
use tracing::info;

use crate::cli::OutputArgs;
use crate::error::Failure;
use crate::exit;
use crate::ledger::RunId;
use crate::ledger::RunInfo;
use crate::report::workbook::Book;
use crate::report::{DailyRecipients, Summary};
use crate::send::Stop;

use super::deliver::Delivered;
use super::needs::Next;
use super::record;
use super::report::{Reconciling, write_run_report};
use super::session::Session;

/// An output that could not be written after the sends: the rest are
/// written, and the command that writes this one again is named.
struct Missing {
    error: String,
    again: String,
}

/// Writes the report of `report_run` from the ledger, prints the summary,
/// records the end of the session's run and returns the exit code. An
/// output that fails to write does not stop the others: the messages are
/// sent, and every record of them that can be written is.
pub(super) async fn finish(
    s: Session,
    report_run: RunId,
    out: &Path,
    output: &OutputArgs,
    delivered: Delivered,
) -> Result<u8, Failure> {
    s.progress.finish();
    let workbook = output.workbook(out);
    let mut missing = Vec::new();
    let again = |flag: &str, path: &Path| rewrite(&s, report_run, flag, path);
    // The files written, for the person reading the end of the run.
    let mut written: Vec<&Path> = Vec::new();
    let (mut summary, book, failed) = report_rows(
        &s,
        report_run,
        out,
        delivered.tracked.untracked.clone(),
        workbook.as_deref(),
        output,
    )
    .await?;
    match failed {
        None => written.push(out),
        Some(e) => missing.push(Missing {
            error: format!("failed to write the report `{}`: {e}", out.display()),
            again: again("--out", out),
        }),
    }
    summary.daily_recipients = daily_recipients(&s, delivered.daily_recipients).await?;
    let (stop, tracked, webhook) = (delivered.stop, delivered.tracked, delivered.webhook);
    let interrupted = s.interrupt.borrow().clone();
    let mut code = exit::for_run(
        stop.as_ref().map(Stop::exit_kind),
        interrupted.is_some(),
        tracked.credentials_refused,
        summary.all_fine(),
    );
    // One end for the run's record and for the workbook's Summary, which
    // is written before the end is recorded.
    let ended = Utc::now();
    if let (Some(path), Some(book)) = (&workbook, book) {
        let run = ended_run(&s, report_run, ended).await?;
        match book.write(path, &summary, report_run, code, run) {
            Ok(()) => written.push(path),
            Err(e) => missing.push(Missing {
                error: format!("failed to write the workbook `{}`: {e}", path.display()),
                again: again("--xlsx", path),
            }),
        }
    }
    let people = Written {
        out,
        files: written,
        ledger: s.ledger_path.clone(),
        next: Next::new(
            out,
            &s.ledger_path,
            output.ledger.is_some(),
            s.conn.target.simulated(),
        ),
        list_sent: s.kind == "rerun",
    };
    code = incomplete(code, &missing);
    let metrics = record::run_metrics(code, &summary, Some(&s.conn.client));
    if let Err(error) = record::write_metrics(&record::Sinks::of(output), &metrics).await {
        missing.push(Missing {
            error,
            again: "the next run writes it again; the summary on stdout has the same counts".into(),
        });
        code = incomplete(code, &missing);
    }
    s.recorder.finish_run(s.run_id, code, ended).await?;
    drop(s.recorder);
    let _ = tokio::task::spawn_blocking(move || s.ledger_thread.join()).await;

    // An interrupt during tracking (after the sends) still stops the run.
    let stopped = stop.as_ref().map(Stop::describe).or(interrupted);
    let mut line = tell(
        &summary,
        code,
        stopped.as_deref(),
        &tracked,
        &people,
        output,
        webhook,
    );
    line["run_id"] = s.run_id.into();
    record::stamp(&mut line);
    line["unwritten"] = missing.iter().map(|m| m.error.clone()).collect();
    if let Err(error) = record::write_summary(&record::Sinks::of(output), &line) {
        missing.push(Missing {
            error,
            again: "the summary line on stdout is the same".into(),
        });
        code = incomplete(code, &missing);
        line["exit_code"] = code.into();
    }
    line["unwritten"] = missing.iter().map(|m| m.error.clone()).collect();
    for m in &missing {
        tracing::error!(rewrite = %m.again, "{}; the messages were sent and are in the ledger", m.error);
    }
    crate::progress::print_summary(&format!("{line}\n"));
    Ok(code)
}

/// The run as the workbook's Summary tells it: ended at `ended` when it is
/// this command's own (its end is recorded after the workbook).
async fn ended_run(
    s: &Session,
    report_run: RunId,
    ended: chrono::DateTime<Utc>,
) -> Result<Option<RunInfo>, Failure> {
    let mut run = s.recorder.read(move |l| l.run(report_run)).await?;
    if let Some(r) = run.as_mut().filter(|r| r.run_id == s.run_id) {
        r.finished_at.get_or_insert(ended);
    }
    Ok(run)
}

/// A night with an output missing is not a complete one: a code that says
/// it is (0, 10) becomes 78.
fn incomplete(code: u8, missing: &[Missing]) -> u8 {
    match code {
        exit::OK | exit::NEEDS_ATTENTION if !missing.is_empty() => exit::CONFIG,
        code => code,
    }
}

/// What the end of a run names for people: the files written and the
/// commands that come next.
struct Written<'a> {
    out: &'a Path,
    /// The report and the workbook, those that were written.
    files: Vec<&'a Path>,
    ledger: std::path::PathBuf,
    next: Next,
    /// List the rows this command sent (a rerun's few, not a night's).
    list_sent: bool,
}

/// The end of the run for a person (the table) or a log shipper (one
/// event with the outcomes as an object; the tracking problem, if any, was
/// logged by the tracker already); and the JSON summary for stdout (its
/// id, ledger and times are added).
fn tell(
    summary: &Summary,
    code: u8,
    stopped: Option<&str>,
    tracked: &crate::track::TrackSummary,
    people: &Written<'_>,
    output: &OutputArgs,
    webhook: Option<crate::webhook::Counts>,
) -> serde_json::Value {
    let out = people.out;
    info!(
        exit_code = code,
        rows = summary.rows,
        sent_this_run = summary.sent_this_run,
        reused = summary.reused,
        outcomes = ?crate::logging::Json(&summary.outcomes),
        stopped,
        report = %out.display(),
        "run finished"
    );
    if !output.quiet && !crate::logging::is_json() {
        eprint!("{}", summary.table());
        if let Some(s) = stopped {
            eprintln!("stopped early: {s}; rows not sent are `skipped`");
        }
        if let Some(problem) = &tracked.problem {
            eprintln!("tracking: {problem}");
        }
        eprint!(
            "{}",
            super::needs::tell(&summary.needs, &people.next, people.list_sent)
        );
        let files: Vec<String> = people
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect();
        eprintln!(
            "Written: {}; the ledger: {}",
            files.join(", "),
            people.ledger.display()
        );
    }
    json!({
        "rows": summary.rows,
        "outcomes": summary.outcomes,
        "sent_this_run": summary.sent_this_run,
        "reused": summary.reused,
        "cost": summary.cost,
        "daily_recipients": summary.daily_recipients,
        "exit_code": code,
        "stopped": stopped,
        "polls": tracked.polls,
        "statuses_unavailable": tracked.statuses_unavailable,
        "unreadable_hooks": tracked.unreadable_hooks,
        "tracking_problem": tracked.problem,
        "report": out.display().to_string(),
        "ledger": people.ledger.display().to_string(),
        // What the webhook receiver saw, and how many messages it made
        // final (none of them polled after); null without one.
        "webhook": webhook.map(|w| {
            let mut w = json!(w);
            w["pushed_finals"] = tracked.pushed_finals.into();
            w
        }),
    })
}

/// How much of the daily recipient budget the last 24 hours used, this
/// run's messages included.
async fn daily_recipients(
    s: &Session,
    limit: Option<usize>,
) -> Result<Option<DailyRecipients>, Failure> {
    let Some(limit) = limit else {
        return Ok(None);
    };
    let since = Utc::now() - crate::fate::budget::WINDOW;
    let used = s.recorder.read(move |l| l.recipients_since(since)).await?;
    Ok(Some(DailyRecipients {
        limit,
        used: used.len(),
    }))
}

/// The command that writes an output of `report_run` again.
fn rewrite(s: &Session, report_run: RunId, flag: &str, path: &Path) -> String {
    format!(
        "handoff report --run {report_run} --ledger {} {flag} {}",
        s.ledger_path.display(),
        path.display()
    )
}

/// The report and the workbook's rows (the run's extra columns in both,
/// each pending row saying why it is `untracked`, if tracking could not
/// work), in one pass over the ledger; when
/// the report cannot be written (its error is returned), the rows are
/// counted and the workbook's read again, whole, in a second pass.
async fn report_rows(
    s: &Session,
    report_run: RunId,
    out: &Path,
    untracked: Option<String>,
    workbook: Option<&Path>,
    output: &OutputArgs,
) -> Result<(Summary, Option<Book>, Option<std::io::Error>), Failure> {
    let extra = &s
        .recorder
        .read(move |l| l.extra_columns(report_run))
        .await?;
    let how = &Reconciling {
        sent_here: report_run == s.run_id,
        untracked,
        rates: s.rates.clone(),
    };
    let book = || workbook.map(|path| Book::new(path, extra, output.timezone));
    match write_report(s, report_run, extra, how, Some(out), book()).await? {
        (Ok(summary), book) => Ok((summary, book, None)),
        (Err(e), _) => {
            let (summary, book) = write_report(s, report_run, extra, how, None, book()).await?;
            let summary = summary
                .map_err(|e| Failure::because(exit::INTERNAL, "failed to count the report", e))?;
            Ok((summary, book, Some(e)))
        }
    }
}

/// One pass over a run's rows on the ledger thread (see
/// [`write_run_report`]): the report to `out` (`None`: only counted, the
/// report could not be written) and the rows of `book`; the outer error is
/// the recorder's, the inner the file's. The book comes back to be
/// finished once the run's exit code is known.
async fn write_report(
    s: &Session,
    report_run: RunId,
    extra: &[String],
    how: &Reconciling,
    out: Option<&Path>,
    mut book: Option<Book>,
) -> Result<(std::io::Result<Summary>, Option<Book>), Failure> {
    let (path, columns, how) = (out.map(Path::to_path_buf), extra.to_vec(), how.clone());
    s.recorder
        .read(move |l| {
            let summary = write_run_report(
                l,
                report_run,
                path.as_deref(),
                &columns,
                &how,
                book.as_mut(),
            );
            Ok((summary, book))
        })
        .await
}
