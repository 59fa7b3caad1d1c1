//! A record on every exit: the metrics file, the Pushgateway and the JSON
//! summary are written however a sending command ends, so an alert on
//! `handoff_exit_code` also sees the nights refused by preflight (77, 78,
//! 69) or stopped by an error. A finished run writes them in `finish`,
//! with its counts; a command that fails writes them here, with what it
//! got to before the failure.
//!
//! What the command got to is kept in one process-wide slot rather than
//! threaded through every stage: a failure can surface from any of them,
//! and only `app` (which sees every ending) reads it.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::api::client::Client;
use crate::cli::OutputArgs;
use crate::error::Failure;
use crate::ledger::RunId;
use crate::progress::Progress;
use crate::report::Summary;
use crate::report::metrics::{self, RunMetrics};

/// What a command got to, for the record of a failure.
#[derive(Clone, Default)]
struct Partial {
    started: Option<(DateTime<Utc>, Instant)>,
    run_id: Option<RunId>,
    ledger: Option<PathBuf>,
    report: Option<PathBuf>,
    client: Option<Client>,
    progress: Option<Progress>,
}

static PARTIAL: Mutex<Option<Partial>> = Mutex::new(None);

fn with(f: impl FnOnce(&mut Partial)) {
    if let Ok(mut slot) = PARTIAL.lock() {
        f(slot.get_or_insert_with(Partial::default));
    }
}

/// When the command started: now, the first time it is asked.
pub(super) fn started() -> (DateTime<Utc>, Instant) {
    let mut at = (Utc::now(), Instant::now());
    with(|p| at = *p.started.get_or_insert(at));
    at
}

/// The client, once connected: its request counts go into the metrics.
pub(super) fn connected(client: &Client) {
    with(|p| p.client = Some(client.clone()));
}

/// The run recorded in the ledger, with its paths and progress.
pub(super) fn opened(run_id: RunId, ledger: PathBuf, report: PathBuf, progress: &Progress) {
    with(|p| {
        p.run_id = Some(run_id);
        p.ledger = Some(ledger);
        p.report = Some(report);
        p.progress = Some(progress.clone());
    });
}

/// Where a run's record goes: the outputs of [`OutputArgs`] that every
/// ending writes.
pub(crate) struct Sinks {
    metrics_file: Option<PathBuf>,
    summary_json: Option<PathBuf>,
    pushgateway: Option<String>,
}

impl Sinks {
    pub(crate) fn of(output: &OutputArgs) -> Sinks {
        Sinks {
            metrics_file: output.metrics_file.clone(),
            summary_json: output.summary_json.clone(),
            pushgateway: output.pushgateway.clone(),
        }
    }

    /// The sinks named on a command line clap refused (a bad flag value is
    /// a night that failed too): the last `--metrics-file`,
    /// `--summary-json` and `--pushgateway` of a sending subcommand, read
    /// without clap, none of them if it names none (the JSON summary still
    /// goes to stdout); `None` for other subcommands and for dry runs.
    pub(crate) fn from_raw(args: &[std::ffi::OsString]) -> Option<Sinks> {
        let sub = args.get(1)?.to_string_lossy();
        if !crate::cli::settings::READERS.contains(&sub.as_ref())
            || args.iter().any(|a| a == "--dry-run")
        {
            return None;
        }
        let last = |flag| crate::cli::settings::last_flag(&args[2..], flag);
        Some(Sinks {
            metrics_file: last("--metrics-file").map(PathBuf::from),
            summary_json: last("--summary-json").map(PathBuf::from),
            pushgateway: last("--pushgateway"),
        })
    }
}

/// Runs a sending command; if it fails, writes the metrics and the JSON
/// summary of the failure to `output`'s sinks (none for a dry run) before
/// the error is printed.
pub(crate) async fn recorded(
    output: Option<&OutputArgs>,
    command: impl Future<Output = Result<u8, Failure>>,
) -> Result<u8, Failure> {
    started();
    let result = command.await;
    if let (Some(output), Err(failure)) = (output, &result) {
        on_failure(&Sinks::of(output), failure).await;
    }
    result
}

/// A time as the JSON outputs give it: RFC 3339, UTC, to the millisecond.
pub(super) fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `started_at`, `finished_at` and `duration_seconds`, added to a summary
/// (an object).
pub(super) fn stamp(line: &mut Value) {
    let (at, clock) = started();
    line["started_at"] = rfc3339(&at).into();
    line["finished_at"] = rfc3339(&Utc::now()).into();
    line["duration_seconds"] = ((clock.elapsed().as_secs_f64() * 1000.0).round() / 1000.0).into();
}

/// The metrics of a run that ended with `code`.
pub(super) fn run_metrics(code: u8, summary: &Summary, client: Option<&Client>) -> RunMetrics {
    let (_, clock) = started();
    RunMetrics {
        finished_at: Utc::now().timestamp_millis() as f64 / 1000.0,
        duration_seconds: clock.elapsed().as_secs_f64(),
        exit_code: code,
        summary: summary.clone(),
        requests: client.map(Client::requests).unwrap_or_default(),
    }
}

/// Writes the metrics file (an error is returned: it is a missing output)
/// and pushes to the Pushgateway (an error is only a warning: monitoring
/// must not fail a night).
pub(super) async fn write_metrics(output: &Sinks, m: &RunMetrics) -> Result<(), String> {
    let written = match &output.metrics_file {
        Some(path) => metrics::write_file(path, m)
            .map_err(|e| format!("failed to write the metrics file `{}`: {e}", path.display())),
        None => Ok(()),
    };
    if let Some(url) = &output.pushgateway
        && let Err(e) = metrics::push(url, m).await
    {
        tracing::warn!(error = %e, "the metrics were not pushed");
    }
    written
}

/// Writes the JSON summary to `--summary-json`, if given.
pub(super) fn write_summary(output: &Sinks, line: &Value) -> Result<(), String> {
    let Some(path) = &output.summary_json else {
        return Ok(());
    };
    crate::report::write_atomic(path, |w| {
        use std::io::Write;
        writeln!(w, "{line}")
    })
    .map_err(|e| format!("failed to write the JSON summary `{}`: {e}", path.display()))
}

/// The record of a command that failed: metrics with its exit code, and a
/// summary line (stdout and `--summary-json`) with the error.
pub(crate) async fn on_failure(output: &Sinks, failure: &Failure) {
    let mut partial = Partial::default();
    with(|p| partial = p.clone());
    if let Some(p) = &partial.progress {
        p.finish();
    }
    let code = failure.code();
    let m = run_metrics(code, &Summary::default(), partial.client.as_ref());
    if let Err(e) = write_metrics(output, &m).await {
        eprintln!("error: {e}");
    }
    let mut line = json!({
        "run_id": partial.run_id,
        "rows": 0,
        "outcomes": {},
        "sent_this_run": partial.progress.as_ref().map_or(0, Progress::accepted_count),
        "reused": 0,
        "exit_code": code,
        "error": failure.message(),
        "report": partial.report.map(|p| p.display().to_string()),
        "ledger": partial.ledger.map(|p| p.display().to_string()),
    });
    stamp(&mut line);
    crate::progress::print_summary(&format!("{line}\n"));
    if let Err(e) = write_summary(output, &line) {
        eprintln!("error: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<std::ffi::OsString> {
        list.iter().map(Into::into).collect()
    }

    #[test]
    fn a_refused_command_line_still_names_its_sinks() {
        let s = Sinks::from_raw(&args(&[
            "handoff",
            "run",
            "in.csv",
            "--metrics-file",
            "a.prom",
            "--metrics-file=b.prom",
            "--summary-json",
            "s.json",
        ]))
        .unwrap();
        assert_eq!(
            s.metrics_file,
            Some(PathBuf::from("b.prom")),
            "the last wins"
        );
        assert_eq!(s.summary_json, Some(PathBuf::from("s.json")));
        assert!(s.pushgateway.is_none());
        let none = |list: &[&str]| Sinks::from_raw(&args(list)).is_none();
        let bare = Sinks::from_raw(&args(&["handoff", "run", "in.csv"])).unwrap();
        assert!(
            bare.metrics_file.is_none()
                && bare.summary_json.is_none()
                && bare.pushgateway.is_none(),
            "nothing asked for but the summary on stdout"
        );
        assert!(none(&[
            "handoff",
            "run",
            "x",
            "--dry-run",
            "--metrics-file",
            "m"
        ]));
        assert!(none(&["handoff", "simulate", "--metrics-file", "m"]));
        let after_dashes = Sinks::from_raw(&args(&["handoff", "run", "--", "--metrics-file", "m"]));
        assert!(
            after_dashes.unwrap().metrics_file.is_none(),
            "what follows -- is no flag"
        );
    }
}
