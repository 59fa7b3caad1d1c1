//! The commands that send: `run` (the nightly job), `rerun` (the rows of a
//! reconciliation that may be sent again) and `track` (statuses, the morning
//! after), stage by stage:
//!
//! rows → ledger → settle doubts → send + track (concurrently) → report.
//!
//! Every stage's failure becomes a [`Failure`] carrying the documented exit
//! code and one clear message; a bad row is never a failure, it is data.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tracing::{Instrument, info, warn};

use crate::api::client::{Client, Fatal};
use crate::cli::{ApiArgs, OutputArgs, PollArgs, RunArgs, SendArgs};
use crate::config::target;
use crate::decide::{
    Decided, Judged, Pass, Settled, delivery_from_attempt, judge, reason, record_batch, settle,
};
use crate::delivery::{ProblemSummary, Rules};
pub use crate::error::Failure;
use crate::exit;
use crate::input::{self, InputOptions};
use crate::ledger::{Doubt, Ledger, RunId, RunMeta, Verdict};
use crate::preflight::{Template, preflight};
use crate::progress::{self, Progress};
use crate::recorder::Recorder;
use crate::report::{self, Summary};
use crate::send::{self, Job, SendSettings, Stop};
use crate::track::{self, TrackSettings};

/// How many rows go to the ledger in one transaction.
const ROW_BATCH: usize = 1000;
/// How many rendered messages a dry run shows.
const PREVIEW: usize = 3;

/// A sending command's open ledger and everything it shares.
struct Session {
    started: Instant,
    /// Kept for its lifetime: with `--simulate` it owns the simulator.
    _target: crate::config::Target,
    client: Client,
    template: Template,
    recorder: Recorder,
    ledger_thread: std::thread::JoinHandle<Ledger>,
    ledger_path: PathBuf,
    _lock: std::fs::File,
    /// This command's run in the ledger.
    run_id: RunId,
    progress: Progress,
    interrupt: send::Interrupt,
    /// Stops the run as a signal would (the sending window closing), with
    /// the reason the rows not sent and the summary show.
    interrupt_tx: std::sync::Arc<watch::Sender<Option<String>>>,
}

/// Takes the lock, opens the ledger on its thread and records the run.
async fn open_session(
    kind: &str,
    input: &Path,
    out: &Path,
    output: &OutputArgs,
    api: &ApiArgs,
    conn: Connection,
) -> Result<Session, Failure> {
    let Connection {
        target,
        client,
        template,
    } = conn;
    let ledger_path = output.ledger.clone().unwrap_or_else(|| default_ledger(out));
    let lock = lock_ledger(&ledger_path)?;
    let ledger = Ledger::open(&ledger_path).map_err(|e| Failure::of(exit::CONFIG, e))?;
    let (recorder, ledger_thread) = Recorder::start(ledger);
    let meta = RunMeta {
        kind: kind.into(),
        input_path: Some(input.display().to_string()),
        channel: target.channel.clone(),
        template: api.template.clone(),
        language: api.language.clone(),
        started_at: Utc::now(),
    };
    let run_id = ledger_call(&recorder, move |l| l.begin_run(&meta)).await?;
    info!(run_id, kind, input = %input.display(), ledger = %ledger_path.display(), "run started");
    let (interrupt_tx, interrupt) = watch::channel(None);
    let interrupt_tx = std::sync::Arc::new(interrupt_tx);
    tokio::spawn(watch_signals(std::sync::Arc::clone(&interrupt_tx)));
    Ok(Session {
        started: Instant::now(),
        _target: target,
        client,
        template,
        recorder,
        ledger_thread,
        ledger_path,
        _lock: lock,
        run_id,
        progress: Progress::new(progress::Mode::detect(output.quiet)),
        interrupt,
        interrupt_tx,
    })
}

/// Records every row in the ledger, in batches, and decides what to send.
async fn ingest(
    s: &Session,
    rows: impl Iterator<Item = Result<Judged, Failure>>,
    resend_changed: bool,
) -> Result<Decided, Failure> {
    let mut decided = Decided::default();
    let mut batch = Vec::with_capacity(ROW_BATCH);
    let mut rows = rows.peekable();
    while let Some(row) = rows.next() {
        batch.push(row?);
        if batch.len() >= ROW_BATCH || rows.peek().is_none() {
            let taken = std::mem::take(&mut batch);
            s.progress.validated(taken.len() as u64);
            let more = record_batch(&s.recorder, s.run_id, taken, resend_changed).await?;
            decided.to_send += more.to_send;
            decided.open.extend(more.open);
            decided.doubts.extend(more.doubts);
        }
    }
    info!(
        to_send = decided.to_send,
        in_doubt = decided.doubts.len(),
        "rows recorded"
    );
    Ok(decided)
}

/// How the send and track stages ended.
struct Delivered {
    stop: Option<Stop>,
    tracked: track::TrackSummary,
}

/// Settles earlier doubts, then sends and tracks concurrently, then settles
/// this run's doubts (sending once more what the history proves unsent).
async fn deliver(
    s: &Session,
    decided: Decided,
    rules: &Rules,
    args: (&ApiArgs, &SendArgs, &PollArgs),
) -> Result<Delivered, Failure> {
    let (api, send_args, poll) = args;
    let run_id = s.run_id;
    let Decided {
        open: mut tracked_open,
        doubts,
        ..
    } = decided;

    // Earlier runs' doubts: settle them from the history before sending.
    for doubt in doubts {
        let settled = settle(
            &s.client,
            &s.recorder,
            &api.template,
            &doubt.delivery,
            &doubt.doubts,
            send_args.resend_unknown,
        )
        .await?;
        let row = doubt.row;
        let (verdict, reason) = match settled {
            Settled::Found(wamid) => {
                tracked_open.push(wamid);
                (
                    Verdict::Reused,
                    Some(
                        "an earlier send's answer was lost; found in 1MSG's message history"
                            .to_string(),
                    ),
                )
            }
            // Back to `send`: the feed below reads it from the ledger.
            Settled::Send => (Verdict::Send, None),
            Settled::Doubt(reason) => (Verdict::Unknown, Some(reason)),
        };
        ledger_call(&s.recorder, move |l| {
            l.set_verdict(run_id, row, verdict, reason.as_deref())
        })
        .await?;
    }

    // The sending window: closed now, nothing is sent; open, it closes the
    // run as a signal would when it ends.
    if let Some(not_after) = send_args.not_after {
        let window = crate::window::Window {
            not_before: send_args.not_before,
            not_after,
            tz: send_args.timezone,
        };
        if window.is_open(Utc::now()) {
            let closes = window.closes_in(Utc::now());
            let tx = std::sync::Arc::clone(&s.interrupt_tx);
            let described = window.describe();
            tokio::spawn(async move {
                tokio::time::sleep(closes).await;
                send::interrupt(
                    &tx,
                    &format!("the sending window {described} closed (--not-after)"),
                );
            });
        } else {
            // Nothing is sent: the send stage sees the interrupt at once and
            // the rows get its reason like any stop.
            warn!(window = %window.describe(), "outside the sending window: nothing is sent");
            send::interrupt(
                &s.interrupt_tx,
                &format!(
                    "the run is outside the sending window {} (--not-before/--not-after)",
                    window.describe()
                ),
            );
        }
    }
    let to_send = ledger_call(&s.recorder, move |l| l.count_send_rows(run_id)).await?;
    s.progress.will_send(to_send);
    let feed = feed_jobs(s.recorder.clone(), run_id, rules.clone());

    let (accepted_tx, accepted_rx) = mpsc::unbounded_channel();
    let tracker = tokio::spawn(track::run(
        track_settings(poll),
        s.client.clone(),
        s.recorder.clone(),
        s.progress.clone(),
        tracked_open,
        accepted_rx,
        s.interrupt.clone(),
    ));
    let send_settings = SendSettings {
        run: run_id,
        template: api.template.clone(),
        namespace: s.template.namespace.clone(),
        language: api.language.clone(),
        rate: send_args.rate,
        pair_interval: send_args.pair_interval,
        concurrency: send_args.concurrency as usize,
        max_attempts: send_args.max_attempts,
    };
    let send = |work| {
        send::run(
            send_settings.clone(),
            s.client.clone(),
            s.recorder.clone(),
            s.progress.clone(),
            work,
            accepted_tx.clone(),
            s.interrupt.clone(),
        )
    };
    let mut stop = send(send::Work::Feed(feed)).await;
    if stop.is_some() {
        // Rows the feed never reached keep the stop's reason, like the
        // queued ones the send stage marked.
        let why = send::skip_reason(stop.as_ref());
        ledger_call(&s.recorder, move |l| l.skip_unattempted(run_id, &why)).await?;
    }

    // This run's doubts: look them up once the API has had time to record
    // them; found ones are tracked, proved-unsent ones are sent once more.
    if stop.is_none() && s.interrupt.borrow().is_none() {
        let doubts = ledger_call(&s.recorder, move |l| l.run_doubts(run_id)).await?;
        let mut by_order: Vec<(String, Vec<Doubt>)> = Vec::new();
        for d in doubts {
            match by_order.iter_mut().find(|(k, _)| *k == d.attempt.order_key) {
                Some((_, list)) => list.push(d),
                None => by_order.push((d.attempt.order_key.clone(), vec![d])),
            }
        }
        let mut again = Vec::new();
        for (_, list) in by_order {
            let Some(latest) = list.last() else { continue };
            let due = latest.attempt.intent_at
                + chrono::Duration::from_std(send_args.lookup_after).unwrap_or_default();
            if let Ok(wait) = (due - Utc::now()).to_std() {
                tokio::time::sleep(wait).await;
            }
            let a = &latest.attempt;
            let Some(delivery) = delivery_from_attempt(a) else {
                continue;
            };
            match settle(
                &s.client,
                &s.recorder,
                &api.template,
                &delivery,
                &list,
                false,
            )
            .await?
            {
                Settled::Found(wamid) => {
                    let _ = accepted_tx.send(send::Accepted { wamid });
                }
                Settled::Send if a.attempt_no < send_args.max_attempts => {
                    again.push(Job {
                        row: 0,
                        delivery,
                        attempts: a.attempt_no,
                    });
                }
                Settled::Send | Settled::Doubt(_) => {}
            }
        }
        if !again.is_empty() {
            s.progress.will_send(again.len() as u64);
            stop = send(send::Work::Jobs(again)).await;
        }
    }
    drop(accepted_tx);
    let tracked = tracker
        .await
        .map_err(|e| Failure::because(exit::INTERNAL, "the tracker failed", e))?
        .map_err(|e| Failure::new(exit::INTERNAL, format!("the tracker failed: {e}")))?;
    Ok(Delivered { stop, tracked })
}

/// Reads the run's rows to send from the ledger, a page at a time, and
/// hands them to the send stage through a bounded channel: the night's work
/// waits in the ledger, not in memory. The stored raw fields are validated
/// again, which gives the same delivery (cleaning is idempotent).
fn feed_jobs(recorder: Recorder, run_id: RunId, rules: Rules) -> mpsc::Receiver<Job> {
    const PAGE: u32 = 2_000;
    let (tx, rx) = mpsc::channel(PAGE as usize);
    tokio::spawn(async move {
        let mut after = 0;
        loop {
            let page = match ledger_call(&recorder, move |l| l.send_rows(run_id, after, PAGE)).await
            {
                Ok(page) => page,
                Err(e) => {
                    warn!(error = %e, "failed to read the rows to send");
                    return;
                }
            };
            let Some((last, _)) = page.last() else { return };
            after = *last;
            for (row, fields) in page {
                match crate::delivery::revalidate(&fields, &rules) {
                    Ok(delivery) => {
                        let job = Job {
                            row,
                            delivery,
                            attempts: 0,
                        };
                        if tx.send(job).await.is_err() {
                            return; // the send stage stopped
                        }
                    }
                    Err(p) => {
                        warn!(row, problem = %p, "a recorded row no longer validates; not sent")
                    }
                }
            }
        }
    });
    rx
}

fn track_settings(poll: &PollArgs) -> TrackSettings {
    TrackSettings {
        poll_rate: poll.poll_rate,
        first_poll: poll.first_poll,
        track_for: poll.track_for,
    }
}

/// Writes the report of `report_run` from the ledger, prints the summary,
/// records the end of the session's run and returns the exit code.
async fn finish(
    s: Session,
    report_run: RunId,
    out: &Path,
    output: &OutputArgs,
    delivered: Delivered,
) -> Result<u8, Failure> {
    s.progress.finish();
    // The report is written on the ledger thread as the query yields its
    // rows: a million-row night is never held whole (unless a workbook is
    // asked for, which needs every row at once).
    let extra = ledger_call(&s.recorder, move |l| l.extra_columns(report_run)).await?;
    let (path, columns, keep) = (out.to_path_buf(), extra.clone(), output.xlsx.is_some());
    let written = s
        .recorder
        .call(move |l| {
            let mut summary = Summary::default();
            let mut kept = Vec::new();
            report::write_csv_from(&path, &columns, |emit| {
                l.each_report_row(report_run, |f| -> std::io::Result<()> {
                    let r = report::reconcile(f, report_run);
                    summary.add(r.outcome);
                    emit(&r)?;
                    if keep {
                        kept.push(r);
                    }
                    Ok(())
                })
            })
            .map(|()| (summary, kept))
        })
        .await
        .map_err(|e| Failure::of(exit::INTERNAL, e))?;
    let (summary, rows) = written.map_err(|e| {
        Failure::because(
            exit::CONFIG,
            format!("failed to write the report `{}`", out.display()),
            e,
        )
    })?;

    let Delivered { stop, tracked } = delivered;
    let interrupted = s.interrupt.borrow().clone();
    let code = match &stop {
        Some(Stop::Fatal {
            kind: Fatal::Credentials,
            ..
        }) => exit::NO_PERM,
        Some(Stop::Fatal {
            kind: Fatal::Configuration,
            ..
        }) => exit::CONFIG,
        Some(Stop::Fatal {
            kind: Fatal::Unavailable,
            ..
        }) => exit::UNAVAILABLE,
        Some(Stop::Interrupted(_)) => exit::TEMPFAIL,
        Some(Stop::Internal(_)) => exit::INTERNAL,
        None if interrupted.is_some() => exit::TEMPFAIL,
        None if tracked.credentials_refused => exit::NO_PERM,
        None if summary.all_fine() => exit::OK,
        None => exit::NEEDS_ATTENTION,
    };
    let run_id = s.run_id;
    if let Some(path) = &output.xlsx {
        crate::workbook::write(path, &rows, &extra, &summary, report_run, code).map_err(|e| {
            Failure::because(
                exit::CONFIG,
                format!("failed to write the workbook `{}`", path.display()),
                e,
            )
        })?;
    }
    drop(rows);
    ledger_call(&s.recorder, move |l| {
        l.finish_run(run_id, code as i32, Utc::now())
    })
    .await?;
    let metrics = crate::metrics::RunMetrics {
        finished_at: Utc::now().timestamp_millis() as f64 / 1000.0,
        duration_seconds: s.started.elapsed().as_secs_f64(),
        exit_code: code,
        summary: summary.clone(),
        requests: s.client.requests(),
    };
    if let Some(path) = &output.metrics_file {
        crate::metrics::write_file(path, &metrics).map_err(|e| {
            Failure::because(
                exit::CONFIG,
                format!("failed to write the metrics file `{}`", path.display()),
                e,
            )
        })?;
    }
    if let Some(url) = &output.pushgateway
        && let Err(e) = crate::metrics::push(url, &metrics).await
    {
        // The run itself is done and its report written: a monitoring
        // hiccup must not turn a good night into a failed one.
        eprintln!("warning: {e}");
    }
    let Session {
        recorder,
        ledger_thread,
        ledger_path,
        started,
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
        eprintln!("report: {}", out.display());
    }
    let line = json!({
        "run_id": run_id,
        "rows": summary.rows,
        "outcomes": summary.outcomes,
        "exit_code": code,
        "stopped": stopped,
        "polls": tracked.polls,
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

/// Where the messages go, a client for it, and the checked template.
struct Connection {
    target: crate::config::Target,
    client: Client,
    template: Template,
}

/// Connects, checks the template, and warns about a missing namespace.
async fn connect(api: &ApiArgs, simulate: bool) -> Result<Connection, Failure> {
    let target = target(api, simulate).await?;
    let client = target.client(api)?;
    let template = preflight(&client, api, &target.channel).await?;
    if template.namespace.is_none() {
        warn!(
            template = %api.template,
            "the template reports no namespace and none was configured; sending without one"
        );
    }
    info!(
        channel = %target.channel,
        template = %api.template,
        language = %api.language,
        namespace = template.namespace.as_deref().unwrap_or("-"),
        "preflight passed: the template is approved and takes four body variables"
    );
    Ok(Connection {
        target,
        client,
        template,
    })
}

fn rules(template: &Template) -> Rules {
    Rules {
        body_template: template.body.clone(),
        max_body_chars: crate::delivery::MAX_BODY_CHARS,
        ..Rules::default()
    }
}

/// `handoff run`: the nightly job.
pub async fn run(args: RunArgs) -> Result<u8, Failure> {
    crate::delivery::warm_up();
    let options = InputOptions {
        delimiter: args.delimiter,
        encoding: args.encoding.clone(),
        column_map: args.map.clone(),
    };
    let conn = connect(&args.api, args.simulate).await?;
    let mut reader = input::open(&args.input, &options)
        .map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
    if args.keep_columns {
        reader.keep_extra_columns();
    }
    let rules = Rules {
        default_country: args.default_country.clone(),
        origin: Some(reader.origin()),
        ..rules(&conn.template)
    };
    let problems = std::sync::Mutex::new(ProblemSummary::new(reader.file_name()));
    if args.dry_run {
        return dry_run(reader, &rules, &conn.template);
    }
    if let Some(max) = args.max_rows {
        // A first, cheap pass: a runaway export is refused before a single
        // row is recorded or sent.
        let rows = input::open(&args.input, &options)
            .map_err(|e| Failure::new(e.exit_code(), e.to_string()))?
            .count() as u64;
        if rows > max {
            return Err(Failure::new(
                exit::DATA,
                format!(
                    "`{}` has {rows} rows, more than --max-rows {max}; nothing was sent (check the export, or raise --max-rows)",
                    args.input.display()
                ),
            ));
        }
    }
    let s = open_session("run", &args.input, &args.out, &args.output, &args.api, conn).await?;
    if args.keep_columns {
        let (run_id, headers) = (s.run_id, reader.extra_headers());
        ledger_call(&s.recorder, move |l| l.set_extra_columns(run_id, &headers)).await?;
    }
    let span = tracing::info_span!("run", run_id = s.run_id);
    async {
        let rows = reader.map(|item| {
            item.map(|raw| {
                let j = judge(raw, &rules, Pass::Normal);
                if let (Err(p), Ok(mut summary)) = (&j.result, problems.lock()) {
                    summary.add(j.raw.line, p);
                }
                j
            })
            .map_err(|e| Failure::new(e.exit_code(), e.to_string()))
        });
        let decided = ingest(&s, rows, args.resend_changed).await?;
        let delivered = deliver(&s, decided, &rules, (&args.api, &args.send, &args.poll)).await?;
        let run_id = s.run_id;
        let code = finish(s, run_id, &args.out, &args.output, delivered).await?;
        if let Ok(summary) = problems.lock() {
            eprint!("{summary}");
        }
        Ok(code)
    }
    .instrument(span)
    .await
}

/// `handoff rerun`: the rows of a reconciliation that may be sent again,
/// with the data of that file.
pub async fn rerun(args: crate::cli::RerunArgs) -> Result<u8, Failure> {
    let file = &args.reconciliation;
    let outcomes = crate::rerun::outcomes(file)?;
    let selected = crate::rerun::selection(&args.only);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| crate::rerun::default_out(file));
    let conn = connect(&args.api, false).await?;
    let reader = input::open(file, &crate::rerun::input_options())
        .map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
    let rules = Rules {
        default_country: args.default_country.clone(),
        origin: Some(reader.origin()),
        ..rules(&conn.template)
    };
    let s = open_session("rerun", file, &out, &args.output, &args.api, conn).await?;
    let span = tracing::info_span!("rerun", run_id = s.run_id);
    let mut outcomes = outcomes.into_iter();
    async {
        let judging = &rules;
        let rows = reader.map(move |item| {
            let mut raw = item.map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
            crate::rerun::undo_neutralising(&mut raw.fields);
            let outcome = outcomes.next().flatten();
            let pass = match outcome {
                Some(o) if selected.contains(&o) => Pass::Resend,
                Some(o) => Pass::Hold(o),
                None => Pass::Hold(crate::report::Outcome::Unknown),
            };
            Ok(judge(raw, judging, pass))
        });
        let decided = ingest(&s, rows, false).await?;
        let delivered = deliver(&s, decided, &rules, (&args.api, &args.send, &args.poll)).await?;
        let run_id = s.run_id;
        finish(s, run_id, &out, &args.output, delivered).await
    }
    .instrument(span)
    .await
}

/// `handoff track`: polls the messages that are not final yet and rewrites
/// the report of a run.
pub async fn track(args: crate::cli::TrackArgs) -> Result<u8, Failure> {
    let target = target(&args.api, false).await?;
    let client = target.client(&args.api)?;
    // Tracking sends nothing, so no template check: only hookInfo is used.
    let conn = Connection {
        target,
        client,
        template: Template {
            namespace: None,
            body: String::new(),
            button: None,
        },
    };
    let ledger_path = args
        .output
        .ledger
        .clone()
        .unwrap_or_else(|| default_ledger(&args.out));
    if !ledger_path.exists() {
        return Err(Failure::new(
            exit::NO_INPUT,
            format!(
                "no ledger at `{}`: give --ledger, the one `handoff run` used",
                ledger_path.display()
            ),
        ));
    }
    let s = open_session(
        "track",
        &ledger_path,
        &args.out,
        &args.output,
        &args.api,
        conn,
    )
    .await?;
    let report_run = match args.run {
        Some(r) => r,
        None => ledger_call(&s.recorder, |l| l.last_send_run())
            .await?
            .ok_or_else(|| Failure::new(exit::NO_INPUT, "the ledger holds no run to track"))?,
    };
    let open: Vec<String> = ledger_call(&s.recorder, |l| l.open_messages())
        .await?
        .into_iter()
        .map(|m| m.wamid)
        .collect();
    info!(
        report_run,
        open = open.len(),
        "tracking the messages not final yet"
    );
    let (accepted_tx, accepted_rx) = mpsc::unbounded_channel();
    drop(accepted_tx);
    let tracked = track::run(
        track_settings(&args.poll),
        s.client.clone(),
        s.recorder.clone(),
        s.progress.clone(),
        open,
        accepted_rx,
        s.interrupt.clone(),
    )
    .await
    .map_err(|e| Failure::new(exit::INTERNAL, format!("the tracker failed: {e}")))?;
    finish(
        s,
        report_run,
        &args.out,
        &args.output,
        Delivered {
            stop: None,
            tracked,
        },
    )
    .await
}

/// Takes the ledger's lock file (`<ledger>.lock`) for the whole run, so a
/// manual rerun that overlaps the nightly run exits instead of racing it.
/// The lock is the kernel's (flock): it goes away with the process, however
/// the process ends.
fn lock_ledger(ledger: &Path) -> Result<std::fs::File, Failure> {
    use std::io::{Read, Seek, Write};
    let mut name = ledger.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| {
            Failure::because(
                exit::CONFIG,
                format!("failed to open the ledger lock `{}`", path.display()),
                e,
            )
        })?;
    match file.try_lock() {
        Ok(()) => {
            let _ = file.set_len(0);
            let _ = file.rewind();
            let _ = write!(file, "{}", std::process::id());
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            Err(Failure::new(
                exit::TEMPFAIL,
                format!(
                    "another handoff run (pid {}) is using the ledger `{}`; nothing was sent; run again when it has finished",
                    if holder.trim().is_empty() {
                        "unknown"
                    } else {
                        holder.trim()
                    },
                    ledger.display()
                ),
            ))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(Failure::because(
            exit::CONFIG,
            format!("failed to lock `{}`", path.display()),
            e,
        )),
    }
}

/// `handoff.ledger.sqlite` beside the report.
fn default_ledger(out: &Path) -> PathBuf {
    match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.join("handoff.ledger.sqlite"),
        _ => PathBuf::from("handoff.ledger.sqlite"),
    }
}

pub async fn ledger_call<R, F>(recorder: &Recorder, f: F) -> Result<R, Failure>
where
    F: FnOnce(&mut Ledger) -> Result<R, crate::ledger::LedgerError> + Send + 'static,
    R: Send + 'static,
{
    recorder
        .call(f)
        .await
        .map_err(|e| Failure::of(exit::INTERNAL, e))?
        .map_err(|e| Failure::of(exit::INTERNAL, e))
}

/// The first Ctrl-C or SIGTERM asks for a graceful stop; a second one ends
/// the process at once (the ledger makes the next run resume correctly).
async fn watch_signals(interrupt: std::sync::Arc<watch::Sender<Option<String>>>) {
    crate::simulate::shutdown_signal().await;
    send::interrupt(&interrupt, "interrupted by a signal (Ctrl-C or SIGTERM)");
    eprintln!(
        "stopping: no new sends; waiting for requests in flight (press Ctrl-C again to stop at once)"
    );
    crate::simulate::shutdown_signal().await;
    eprintln!("stopped at once");
    std::process::exit(i32::from(exit::TEMPFAIL));
}

/// Validates everything, shows a few messages as partners would read them,
/// and sends nothing.
fn dry_run(reader: input::InputReader, rules: &Rules, template: &Template) -> Result<u8, Failure> {
    let mut seen = crate::decide::SeenKeys::new()
        .map_err(|e| Failure::because(exit::INTERNAL, "failed to start the dry run", e))?;
    let (mut rows, mut valid, mut invalid, mut duplicate) = (0u64, 0u64, 0u64, 0u64);
    let mut previews = Vec::new();
    let mut problems = Vec::new();
    let mut summary = ProblemSummary::new(reader.file_name());
    for item in reader {
        let raw = item.map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
        rows += 1;
        let j = judge(raw, rules, Pass::Normal);
        match &j.result {
            Err(p) => {
                invalid += 1;
                summary.add(j.raw.line, p);
                if problems.len() < 20 {
                    problems.push(format!("  row {}: {}", j.raw.row, reason(&j.raw, p)));
                }
            }
            Ok(d) => {
                let first = seen
                    .first(&d.order_key, j.raw.row)
                    .map_err(|e| Failure::because(exit::INTERNAL, "dry run", e))?;
                if let Some(first) = first {
                    duplicate += 1;
                    summary.add_duplicate(
                        j.raw.line,
                        &format!(
                            "row {} repeats order {} of row {first}",
                            j.raw.row, d.order_key
                        ),
                    );
                    if problems.len() < 20 {
                        problems.push(format!(
                            "  row {}: duplicate of row {first} (order {})",
                            j.raw.row, d.order_key
                        ));
                    }
                    continue;
                }
                valid += 1;
                if previews.len() < PREVIEW {
                    previews.push(format!(
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
        }
    }
    println!("Dry run: nothing was sent.");
    println!("{rows} rows: {valid} to send, {invalid} invalid, {duplicate} duplicate.");
    if !previews.is_empty() {
        println!("\nThe first messages, as partners will read them:\n");
        for p in &previews {
            println!("{p}\n");
        }
    }
    if !problems.is_empty() {
        println!("Rows that will not be sent:");
        for p in &problems {
            println!("{p}");
        }
        if invalid + duplicate > problems.len() as u64 {
            println!(
                "  … and {} more",
                invalid + duplicate - problems.len() as u64
            );
        }
    }
    eprint!("{summary}");
    Ok(if invalid == 0 {
        exit::OK
    } else {
        exit::NEEDS_ATTENTION
    })
}
