//! How a sending command ends: the report written from the ledger, the
//! exit code picked, the workbook, metrics and summary written, the run's
//! end recorded, and the summary printed.

use std::path::Path;

use chrono::Utc;
use serde_json::json;
use tracing::info;

use crate::cli::{OutputArgs, SendingArgs};
use crate::delivery::Rules;
use crate::error::Failure;
use crate::exit;
use crate::ingest::Decided;
use crate::ledger::RunId;
use crate::report::{self, ReportRow, Summary};
use crate::send::Stop;

use super::deliver::{Delivered, deliver};
use super::session::Session;

/// The rest of a sending command once its rows are recorded: settle, send
/// and track, then the report of this run and its exit code.
pub(super) async fn deliver_and_finish(
    s: Session,
    decided: Decided,
    rules: &Rules,
    args: &SendingArgs,
    out: &Path,
) -> Result<u8, Failure> {
    let delivered = deliver(&s, decided, rules, args).await?;
    let run_id = s.run_id;
    finish(s, run_id, out, &args.output, delivered).await
}

/// Writes the report of `report_run` from the ledger, prints the summary,
/// records the end of the session's run and returns the exit code.
pub(super) async fn finish(
    s: Session,
    report_run: RunId,
    out: &Path,
    output: &OutputArgs,
    delivered: Delivered,
) -> Result<u8, Failure> {
    s.progress.finish();
    let extra = s
        .recorder
        .read(move |l| l.extra_columns(report_run))
        .await?;
    let untracked = delivered.tracked.untracked.clone();
    let (summary, rows) = write_report(
        &s,
        report_run,
        out,
        &extra,
        untracked,
        output.xlsx.is_some(),
    )
    .await?;

    let webhook = webhook_summary(&delivered);
    let Delivered { stop, tracked, .. } = delivered;
    let interrupted = s.interrupt.borrow().clone();
    let code = exit::for_run(
        stop.as_ref().map(Stop::exit_kind),
        interrupted.is_some(),
        tracked.credentials_refused,
        summary.all_fine(),
    );
    if let Some(path) = &output.xlsx {
        crate::report::workbook::write(path, &rows, &extra, &summary, report_run, code).map_err(
            |e| {
                Failure::because(
                    exit::CONFIG,
                    format!("failed to write the workbook `{}`", path.display()),
                    e,
                )
            },
        )?;
    }
    drop(rows);
    s.recorder.finish_run(s.run_id, code, Utc::now()).await?;
    write_metrics(&s, output, code, &summary).await?;
    let Session {
        recorder,
        ledger_thread,
        ledger_path,
        started,
        run_id,
        ..
    } = s;
    drop(recorder);
    let _ = tokio::task::spawn_blocking(move || ledger_thread.join()).await;

    // An interrupt during tracking (after the sends) still stops the run.
    let stopped = stop.as_ref().map(Stop::describe).or(interrupted);
    info!(
        exit_code = code,
        rows = summary.rows,
        outcomes = %serde_json::to_string(&summary.outcomes).unwrap_or_default(),
        stopped = stopped.as_deref().unwrap_or("-"),
        report = %out.display(),
        "run finished"
    );
    if !output.quiet {
        eprint!("{}", summary.table());
        if let Some(s) = &stopped {
            eprintln!("stopped early: {s}; rows not sent are `skipped`");
        }
        if let Some(problem) = &tracked.problem {
            eprintln!("tracking: {problem}");
        }
        eprintln!("report: {}", out.display());
    }
    let line = json!({
        "run_id": run_id,
        "rows": summary.rows,
        "outcomes": summary.outcomes,
        "exit_code": code,
        "stopped": stopped,
        "polls": tracked.polls,
        "webhook": webhook,
        "statuses_unavailable": tracked.statuses_unavailable,
        "unreadable_hooks": tracked.unreadable_hooks,
        "tracking_problem": tracked.problem,
        "report": out.display().to_string(),
        "ledger": ledger_path.display().to_string(),
        "duration_seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    });
    println!("{line}");
    if let Some(path) = &output.summary_json {
        report::write_atomic(path, |w| {
            use std::io::Write;
            writeln!(w, "{line}")
        })
        .map_err(|e| {
            Failure::because(
                exit::CONFIG,
                format!("failed to write `{}`", path.display()),
                e,
            )
        })?;
    }
    Ok(code)
}

/// What the webhook receiver saw, and how many messages it made final
/// (none of them polled after), for the summary line; null without one.
fn webhook_summary(delivered: &Delivered) -> serde_json::Value {
    match &delivered.webhook {
        Some(counts) => {
            let mut v = json!(counts);
            v["pushed_finals"] = json!(delivered.tracked.pushed_finals);
            v
        }
        None => serde_json::Value::Null,
    }
}

/// Writes the report on the ledger thread as the query yields its rows: a
/// million-row night is never held whole (unless a workbook is asked for,
/// which needs every row at once; then the rows are returned). `untracked`
/// is why tracking could not work, said in each pending row.
async fn write_report(
    s: &Session,
    report_run: RunId,
    out: &Path,
    extra: &[String],
    untracked: Option<String>,
    keep: bool,
) -> Result<(Summary, Vec<ReportRow>), Failure> {
    let (path, columns) = (out.to_path_buf(), extra.to_vec());
    let written = s
        .recorder
        .read(move |l| {
            let mut summary = Summary::default();
            let mut kept = Vec::new();
            Ok(report::write_csv_from(&path, &columns, |emit| {
                l.each_report_row(report_run, |f| -> std::io::Result<()> {
                    let mut r = report::reconcile(f, report_run);
                    if let Some(why) = &untracked {
                        report::untracked(&mut r, why);
                    }
                    summary.add(r.outcome);
                    emit(&r)?;
                    if keep {
                        kept.push(r);
                    }
                    Ok(())
                })
            })
            .map(|()| (summary, kept)))
        })
        .await?;
    written.map_err(|e| {
        Failure::because(
            exit::CONFIG,
            format!("failed to write the report `{}`", out.display()),
            e,
        )
    })
}

/// The metrics file and the Pushgateway, if asked for.
async fn write_metrics(
    s: &Session,
    output: &OutputArgs,
    code: u8,
    summary: &Summary,
) -> Result<(), Failure> {
    let metrics = crate::report::metrics::RunMetrics {
        finished_at: Utc::now().timestamp_millis() as f64 / 1000.0,
        duration_seconds: s.started.elapsed().as_secs_f64(),
        exit_code: code,
        summary: summary.clone(),
        requests: s.client.requests(),
    };
    if let Some(path) = &output.metrics_file {
        crate::report::metrics::write_file(path, &metrics).map_err(|e| {
            Failure::because(
                exit::CONFIG,
                format!("failed to write the metrics file `{}`", path.display()),
                e,
            )
        })?;
    }
    if let Some(url) = &output.pushgateway
        && let Err(e) = crate::report::metrics::push(url, &metrics).await
    {
        // The run itself is done and its report written: a monitoring
        // hiccup must not turn a good night into a failed one.
        eprintln!("warning: {e}");
    }
    Ok(())
}
