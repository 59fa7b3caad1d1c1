//! `handoff run`: the nightly job, stage by stage.
//!
//! input → preflight → ledger (rows) → send + track (concurrently) → report.
//! Every stage's failure becomes a [`Failure`] carrying the documented exit
//! code and one clear message; a bad row is never a failure, it is data.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::api::client::{ApiError, Client, Fatal, Timeouts, Token};
use crate::api::wire::{TemplateInfo, count_variables};
use crate::cli::RunArgs;
use crate::delivery::{Delivery, RowProblem, Rules, validate};
use crate::exit;
use crate::input::{self, InputOptions, RawRow};
use crate::ledger::{AttemptInfo, Doubt, Ledger, MessageInfo, RowRecord, RunId, RunMeta, Verdict};
use crate::progress::{self, Progress};
use crate::recorder::Recorder;
use crate::report::{self, Summary};
use crate::send::{self, Job, SendSettings, Stop};
use crate::sim;
use crate::track::{self, TrackSettings};

/// The job ends with this exit code and message.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// How many rows go to the ledger in one transaction.
const ROW_BATCH: usize = 1000;
/// How many rendered messages a dry run shows.
const PREVIEW: usize = 3;

/// Where the messages go, resolved from flags, environment or `--simulate`.
struct Target {
    api_url: String,
    channel: String,
    token: Token,
    _sim: Option<sim::SimHandle>,
}

async fn target(args: &RunArgs) -> Result<Target, Failure> {
    if args.simulate {
        let handle = sim::spawn(sim::Scenario::default()).await.map_err(|e| {
            Failure::new(
                exit::INTERNAL,
                format!("failed to start the simulator: {e}"),
            )
        })?;
        return Ok(Target {
            api_url: handle.base_url(),
            channel: handle.instance_id.clone(),
            token: Token::new(handle.token.clone()),
            _sim: Some(handle),
        });
    }
    let channel = args
        .channel
        .clone()
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| {
            Failure::new(
                exit::CONFIG,
                "no channel: set --channel or ONEMSG_CHANNEL_ID (or use --simulate to rehearse)",
            )
        })?;
    let token = read_token(args.token_file.as_deref())?;
    Ok(Target {
        api_url: args.api_url.clone(),
        channel,
        token,
        _sim: None,
    })
}

/// The token from `--token-file`, else `ONEMSG_TOKEN`. A token file others
/// can read is refused: it would be a secret in plain sight.
fn read_token(file: Option<&Path>) -> Result<Token, Failure> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::new(
                exit::CONFIG,
                format!("failed to read the token file `{}`: {e}", path.display()),
            )
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path)
                && meta.permissions().mode() & 0o077 != 0
            {
                return Err(Failure::new(
                    exit::CONFIG,
                    format!(
                        "the token file `{}` is readable by group or others; run `chmod 600 {}`",
                        path.display(),
                        path.display()
                    ),
                ));
            }
        }
        let token = text.trim_end_matches(['\n', '\r']).to_string();
        if token.trim().is_empty() {
            return Err(Failure::new(
                exit::CONFIG,
                format!("the token file `{}` is empty", path.display()),
            ));
        }
        return Ok(Token::new(token));
    }
    match std::env::var("ONEMSG_TOKEN") {
        Ok(t) if !t.trim().is_empty() => Ok(Token::new(t.trim_end_matches(['\n', '\r']))),
        _ => Err(Failure::new(
            exit::CONFIG,
            "no API token: give --token-file FILE or set ONEMSG_TOKEN (or use --simulate to rehearse)",
        )),
    }
}

/// What preflight learned about the template.
pub struct Template {
    pub namespace: Option<String>,
    pub body: String,
    pub button: Option<String>,
}

/// Checks, before any send, that the credentials work and the template
/// exists in our language, is approved and takes exactly four variables.
async fn preflight(client: &Client, args: &RunArgs, channel: &str) -> Result<Template, Failure> {
    let templates = client.templates().await.map_err(|e| match e {
        ApiError::Credentials { status } => Failure::new(
            exit::NO_PERM,
            format!(
                "the API refused our credentials for channel {channel} (HTTP {status}): check the token and the channel id; nothing was sent"
            ),
        ),
        ApiError::Status { status, .. } if status < 500 && status != 429 => Failure::new(
            exit::CONFIG,
            format!("failed to list the channel's templates: {e}; check --api-url and --channel; nothing was sent"),
        ),
        e => Failure::new(
            exit::UNAVAILABLE,
            format!("failed to list the channel's templates: {e}; nothing was sent, run again later"),
        ),
    })?;
    check_template(
        &templates,
        &args.template,
        &args.language,
        args.namespace.as_deref(),
    )
}

/// The template checks, apart from the HTTP call, so they can be tested.
pub fn check_template(
    templates: &[TemplateInfo],
    name: &str,
    language: &str,
    namespace: Option<&str>,
) -> Result<Template, Failure> {
    let named: Vec<&TemplateInfo> = templates.iter().filter(|t| t.name == name).collect();
    if named.is_empty() {
        let mut names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "template `{name}` does not exist on this channel (it has: {}); set --template; nothing was sent",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        ));
    }
    let Some(t) = named.iter().find(|t| t.language_code() == Some(language)) else {
        let langs: Vec<&str> = named.iter().filter_map(|t| t.language_code()).collect();
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "template `{name}` has no `{language}` translation (it has: {}); set --language; nothing was sent",
                langs.join(", ")
            ),
        ));
    };
    let status = t.status.clone().unwrap_or_default();
    if !status.eq_ignore_ascii_case("approved") {
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "template `{name}` ({language}) is {}, not approved; nothing was sent",
                if status.is_empty() {
                    "of unknown status".into()
                } else {
                    status.to_ascii_uppercase()
                }
            ),
        ));
    }
    let body = t.body_text().unwrap_or_default();
    let variables = count_variables(&body);
    let other_variables: usize = t
        .component_list()
        .iter()
        .filter(|c| {
            !c.get("type")
                .and_then(|k| k.as_str())
                .is_some_and(|k| k.eq_ignore_ascii_case("body"))
        })
        .map(|c| count_variables(&c.to_string()))
        .sum();
    if variables != 4 || other_variables != 0 {
        return Err(Failure::new(
            exit::CONFIG,
            format!(
                "template `{name}` ({language}) takes {variables} body variable(s){}; handoff fills exactly four (partner, order, product, note) in the body; nothing was sent",
                if other_variables > 0 {
                    format!(" and {other_variables} outside the body")
                } else {
                    String::new()
                }
            ),
        ));
    }
    let button = t.component_list().iter().find_map(|c| {
        c.get("buttons")?
            .as_array()?
            .first()?
            .get("text")?
            .as_str()
            .map(str::to_string)
    });
    Ok(Template {
        namespace: namespace
            .map(str::to_string)
            .or_else(|| t.namespace().map(str::to_string)),
        body,
        button,
    })
}

fn input_options(args: &RunArgs) -> InputOptions {
    InputOptions {
        delimiter: args.delimiter,
        encoding: args.encoding.clone(),
        column_map: args.map.clone(),
    }
}

fn open_input(args: &RunArgs) -> Result<input::InputReader, Failure> {
    input::open(&args.input, &input_options(args))
        .map_err(|e| Failure::new(e.exit_code(), e.to_string()))
}

/// A row read and judged, before the ledger decides about earlier runs.
struct Judged {
    raw: RawRow,
    result: Result<Delivery, RowProblem>,
}

fn judge(raw: RawRow, rules: &Rules) -> Judged {
    let result = match &raw.problem {
        Some(p) => Err(p.clone()),
        None => validate(&raw.fields, rules),
    };
    Judged { raw, result }
}

fn reason(raw: &RawRow, p: &RowProblem) -> String {
    format!("line {}: {p}", raw.line)
}

pub async fn run(args: RunArgs) -> Result<u8, Failure> {
    let started = Instant::now();
    let target = target(&args).await?;
    let reader = open_input(&args)?;
    let client = Client::new(
        &target.api_url,
        &target.channel,
        &target.token,
        Timeouts {
            request: args.request_timeout,
            ..Timeouts::default()
        },
    )
    .map_err(|e| Failure::new(exit::CONFIG, e.to_string()))?;
    let template = preflight(&client, &args, &target.channel).await?;
    if template.namespace.is_none() {
        eprintln!(
            "warning: template `{}` reports no namespace and none was configured; sending without one",
            args.template
        );
    }
    let rules = Rules {
        body_template: template.body.clone(),
        max_body_chars: crate::delivery::MAX_BODY_CHARS,
    };
    if args.dry_run {
        return dry_run(reader, &rules, &template);
    }

    let ledger_path = args
        .ledger
        .clone()
        .unwrap_or_else(|| default_ledger(&args.out));
    let _lock = lock_ledger(&ledger_path)?;
    let ledger =
        Ledger::open(&ledger_path).map_err(|e| Failure::new(exit::CONFIG, format!("{e}")))?;
    let (recorder, ledger_thread) = Recorder::start(ledger);
    let meta = RunMeta {
        kind: "run".into(),
        input_path: Some(args.input.display().to_string()),
        channel: target.channel.clone(),
        template: args.template.clone(),
        language: args.language.clone(),
        started_at: Utc::now(),
    };
    let run_id = ledger_call(&recorder, move |l| l.begin_run(&meta)).await?;
    let progress = Progress::new(progress::Mode::detect(args.quiet));

    // Input → ledger, in batches; decide duplicates and earlier sends.
    let mut decided = Decided::default();
    let mut first_row: HashMap<String, u64> = HashMap::new();
    let mut batch = Vec::with_capacity(ROW_BATCH);
    let mut reader = reader;
    loop {
        let next = reader.next();
        let end = next.is_none();
        if let Some(item) = next {
            let raw = item.map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
            batch.push(judge(raw, &rules));
        }
        if batch.len() >= ROW_BATCH || (end && !batch.is_empty()) {
            let rows = std::mem::take(&mut batch);
            progress.validated(rows.len() as u64);
            let more =
                record_batch(&recorder, run_id, rows, &mut first_row, args.resend_changed).await?;
            decided.jobs.extend(more.jobs);
            decided.open.extend(more.open);
            decided.doubts.extend(more.doubts);
        }
        if end {
            break;
        }
    }
    drop(first_row);
    let Decided {
        mut jobs,
        open: mut reused_open,
        doubts,
    } = decided;

    // Earlier runs' doubts: settle them from the history before sending.
    for doubt in doubts {
        let settled = settle(
            &client,
            &recorder,
            &args.template,
            &doubt.delivery,
            &doubt.doubts,
            args.resend_unknown,
        )
        .await?;
        let row = doubt.row;
        let (verdict, reason) = match settled {
            Settled::Found(wamid) => {
                reused_open.push(wamid);
                (
                    Verdict::Reused,
                    Some(
                        "an earlier send's answer was lost; found in 1MSG's message history"
                            .to_string(),
                    ),
                )
            }
            Settled::Send => {
                jobs.push(Job {
                    row,
                    delivery: doubt.delivery,
                    attempts: 0,
                });
                (Verdict::Send, None)
            }
            Settled::Doubt(reason) => (Verdict::Unknown, Some(reason)),
        };
        ledger_call(&recorder, move |l| {
            l.set_verdict(run_id, row, verdict, reason.as_deref())
        })
        .await?;
    }
    jobs.sort_by_key(|j| j.row);
    progress.will_send(jobs.len() as u64);

    // Send and track, concurrently.
    let (interrupt_tx, interrupt) = watch::channel(false);
    tokio::spawn(watch_signals(interrupt_tx));
    let (accepted_tx, accepted_rx) = mpsc::unbounded_channel();
    let tracker = tokio::spawn(track::run(
        TrackSettings {
            poll_rate: args.poll_rate,
            first_poll: args.first_poll,
            track_for: args.track_for,
        },
        client.clone(),
        recorder.clone(),
        progress.clone(),
        reused_open,
        accepted_rx,
        interrupt.clone(),
    ));
    let send_settings = SendSettings {
        run: run_id,
        template: args.template.clone(),
        namespace: template.namespace.clone(),
        language: args.language.clone(),
        rate: args.rate,
        pair_interval: args.pair_interval,
        concurrency: args.concurrency as usize,
        max_attempts: args.max_attempts,
    };
    let mut stop = send::run(
        send_settings.clone(),
        client.clone(),
        recorder.clone(),
        progress.clone(),
        jobs,
        accepted_tx.clone(),
        interrupt.clone(),
    )
    .await;

    // This run's doubts: look them up once the API has had time to record
    // them; found ones are tracked, proved-unsent ones are sent once more.
    if stop.is_none() && !*interrupt.borrow() {
        let doubts = ledger_call(&recorder, move |l| l.run_doubts(run_id)).await?;
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
                + chrono::Duration::from_std(args.lookup_after).unwrap_or_default();
            if let Ok(wait) = (due - Utc::now()).to_std() {
                tokio::time::sleep(wait).await;
            }
            let a = &latest.attempt;
            let Some(delivery) = delivery_from_attempt(a) else {
                continue;
            };
            match settle(&client, &recorder, &args.template, &delivery, &list, false).await? {
                Settled::Found(wamid) => {
                    let _ = accepted_tx.send(send::Accepted { wamid });
                }
                Settled::Send if a.attempt_no < args.max_attempts => {
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
            progress.will_send(again.len() as u64);
            stop = send::run(
                send_settings,
                client.clone(),
                recorder.clone(),
                progress.clone(),
                again,
                accepted_tx.clone(),
                interrupt.clone(),
            )
            .await;
        }
    }
    drop(accepted_tx);
    let tracked = tracker
        .await
        .map_err(|e| Failure::new(exit::INTERNAL, format!("the tracker failed: {e}")))?
        .map_err(|e| Failure::new(exit::INTERNAL, format!("the tracker failed: {e}")))?;
    progress.finish();

    // Report, from the ledger alone.
    let facts = ledger_call(&recorder, move |l| l.report_rows(run_id)).await?;
    let mut summary = Summary::default();
    let rows: Vec<_> = facts
        .into_iter()
        .map(|f| {
            let r = report::reconcile(f, run_id);
            summary.add(r.outcome);
            r
        })
        .collect();
    report::write_csv(&args.out, &rows).map_err(|e| {
        Failure::new(
            exit::CONFIG,
            format!("failed to write the report `{}`: {e}", args.out.display()),
        )
    })?;
    drop(rows);

    let interrupted = *interrupt.borrow();
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
        Some(Stop::Interrupted) => exit::TEMPFAIL,
        Some(Stop::Internal(_)) => exit::INTERNAL,
        None if interrupted => exit::TEMPFAIL,
        None if tracked.credentials_refused => exit::NO_PERM,
        None if summary.all_fine() => exit::OK,
        None => exit::NEEDS_ATTENTION,
    };
    ledger_call(&recorder, move |l| {
        l.finish_run(run_id, code as i32, Utc::now())
    })
    .await?;
    drop(recorder);
    let _ = tokio::task::spawn_blocking(move || ledger_thread.join()).await;

    let stopped = stop.as_ref().map(|s| match s {
        Stop::Fatal { kind, detail } => format!(
            "{}: {detail}",
            match kind {
                Fatal::Credentials => "the API refused our credentials",
                Fatal::Configuration => "the API refused the template or its parameters",
                Fatal::Unavailable => "the API was unavailable",
            }
        ),
        Stop::Interrupted => "interrupted".to_string(),
        Stop::Internal(e) => format!("internal error: {e}"),
    });
    if !args.quiet {
        eprint!("{}", summary.table());
        if let Some(s) = &stopped {
            eprintln!("stopped early: {s}; rows not sent are `skipped`");
        }
        eprintln!("report: {}", args.out.display());
    }
    let line = json!({
        "run_id": run_id,
        "rows": summary.rows,
        "outcomes": summary.outcomes,
        "exit_code": code,
        "stopped": stopped,
        "polls": tracked.polls,
        "report": args.out.display().to_string(),
        "ledger": ledger_path.display().to_string(),
        "duration_seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    });
    println!("{line}");
    if let Some(path) = &args.summary_json {
        report::write_atomic(path, |w| {
            use std::io::Write;
            writeln!(w, "{line}")
        })
        .map_err(|e| {
            Failure::new(
                exit::CONFIG,
                format!("failed to write `{}`: {e}", path.display()),
            )
        })?;
    }
    Ok(code)
}

/// The delivery an attempt sent, rebuilt from what the ledger kept of it.
fn delivery_from_attempt(a: &AttemptInfo) -> Option<Delivery> {
    let [partner_name, order_number, product_name, delivery_note] = a.params.as_slice() else {
        return None;
    };
    Some(Delivery {
        order_key: a.order_key.clone(),
        partner_name: partner_name.clone(),
        phone: a.phone.clone(),
        order_number: order_number.clone(),
        product_name: product_name.clone(),
        delivery_note: delivery_note.clone(),
        notes: Vec::new(),
    })
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
            Failure::new(
                exit::CONFIG,
                format!("failed to open the ledger lock `{}`: {e}", path.display()),
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
        Err(std::fs::TryLockError::Error(e)) => Err(Failure::new(
            exit::CONFIG,
            format!("failed to lock `{}`: {e}", path.display()),
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

async fn ledger_call<R, F>(recorder: &Recorder, f: F) -> Result<R, Failure>
where
    F: FnOnce(&mut Ledger) -> Result<R, crate::ledger::LedgerError> + Send + 'static,
    R: Send + 'static,
{
    recorder
        .call(f)
        .await
        .map_err(|e| Failure::new(exit::INTERNAL, e.to_string()))?
        .map_err(|e| Failure::new(exit::INTERNAL, format!("ledger: {e}")))
}

/// What the ledger decided about a batch of rows.
#[derive(Default)]
struct Decided {
    /// New orders to send.
    jobs: Vec<Job>,
    /// Earlier runs' messages that are not final yet: track them again.
    open: Vec<String>,
    /// Orders whose earlier send is in doubt: settle before sending.
    doubts: Vec<DoubtRow>,
}

/// A row whose order has a doubtful earlier send and no accepted message.
struct DoubtRow {
    row: u64,
    delivery: Delivery,
    doubts: Vec<Doubt>,
}

/// What changed between the message already accepted for an order and this
/// row, if anything.
fn changes(earlier: &MessageInfo, d: &Delivery) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(phone) = earlier.phone.as_deref()
        && phone != d.phone
    {
        out.push(format!("phone {phone} → {}", d.phone));
    }
    let names = [
        "partner_name",
        "order_number",
        "product_name",
        "delivery_note",
    ];
    for ((name, old), new) in names.iter().zip(&earlier.params).zip(d.params()) {
        if old != new {
            out.push(format!("{name} `{old}` → `{new}`"));
        }
    }
    out
}

/// Records a batch of rows: duplicates within the file are decided here,
/// earlier runs (reused, changed, in doubt) on the ledger thread.
async fn record_batch(
    recorder: &Recorder,
    run: RunId,
    rows: Vec<Judged>,
    first_row: &mut HashMap<String, u64>,
    resend_changed: bool,
) -> Result<Decided, Failure> {
    let mut candidates = Vec::with_capacity(rows.len());
    for j in rows {
        let verdict = match &j.result {
            Err(p) => (Verdict::Invalid, Some(reason(&j.raw, p))),
            Ok(d) => match first_row.get(&d.order_key) {
                Some(first) => (
                    Verdict::Duplicate,
                    Some(format!(
                        "line {}: order number `{}` already appears in row {first}; not sent twice",
                        j.raw.line, d.order_key
                    )),
                ),
                None => {
                    first_row.insert(d.order_key.clone(), j.raw.row);
                    (Verdict::Send, None)
                }
            },
        };
        candidates.push((j, verdict));
    }
    ledger_call(recorder, move |l| {
        let mut records = Vec::with_capacity(candidates.len());
        let mut decided = Decided::default();
        for (j, (mut verdict, mut reason)) in candidates {
            let raw = &j.raw;
            let mut notes = None;
            if verdict == Verdict::Send
                && let Ok(d) = &j.result
            {
                if let Some(earlier) = l.accepted_message(&d.order_key)? {
                    let changed = changes(&earlier, d);
                    if changed.is_empty() || !resend_changed {
                        verdict = Verdict::Reused;
                        if !earlier.is_final {
                            decided.open.push(earlier.wamid.clone());
                        }
                        if !changed.is_empty() {
                            reason = Some(format!(
                                "changed since {} was accepted: {}; not resent (--resend-changed sends the corrected message)",
                                earlier.wamid,
                                changed.join(", ")
                            ));
                        }
                    } else {
                        notes = Some(format!(
                            "resent with changed data ({}); replaces {}",
                            changed.join(", "),
                            earlier.wamid
                        ));
                    }
                } else {
                    let doubts = l.doubts(&d.order_key)?;
                    if !doubts.is_empty() {
                        verdict = Verdict::Unknown;
                        decided.doubts.push(DoubtRow {
                            row: raw.row,
                            delivery: d.clone(),
                            doubts,
                        });
                    }
                }
            }
            let (phone, order_key) = match &j.result {
                Ok(d) => {
                    let cleaning = (!d.notes.is_empty()).then(|| d.notes.join("; "));
                    notes = match (cleaning, notes) {
                        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                        (a, b) => a.or(b),
                    };
                    (d.phone.clone(), Some(d.order_key.clone()))
                }
                Err(_) => (
                    raw.fields.partner_phone.clone(),
                    Some(raw.fields.order_number.trim().to_string()).filter(|k| !k.is_empty()),
                ),
            };
            records.push(RowRecord {
                row: raw.row,
                line: raw.line,
                order_key,
                partner_name: raw.fields.partner_name.clone(),
                phone,
                order_number: raw.fields.order_number.clone(),
                product_name: raw.fields.product_name.clone(),
                delivery_note: raw.fields.delivery_note.clone(),
                verdict,
                reason,
                notes,
            });
            if verdict == Verdict::Send
                && let Ok(d) = j.result
            {
                decided.jobs.push(Job {
                    row: raw.row,
                    delivery: d,
                    attempts: 0,
                });
            }
        }
        l.record_rows(run, &records)?;
        Ok(decided)
    })
    .await
}

/// How the doubts of one order were settled.
enum Settled {
    /// Found in the history: the wamid is recorded; track it.
    Found(String),
    /// Proved not sent (or the user said send anyway): send it.
    Send,
    /// Still in doubt, with the reason shown in the report.
    Doubt(String),
}

/// Looks up one order's doubtful sends in the API's history and records
/// what it found.
async fn settle(
    client: &Client,
    recorder: &Recorder,
    template: &str,
    d: &Delivery,
    doubts: &[Doubt],
    resend_unknown: bool,
) -> Result<Settled, Failure> {
    let Some(latest) = doubts.last() else {
        return Ok(Settled::Send);
    };
    let first = doubts
        .first()
        .map_or(latest.attempt.intent_at, |x| x.attempt.intent_at);
    let what = latest
        .error_detail
        .clone()
        .unwrap_or_else(|| "the process stopped before the answer was recorded".into());
    let queued = doubts.iter().any(|x| {
        x.error_detail
            .as_deref()
            .is_some_and(|e| e.contains("queued"))
    });
    match crate::resolve::look_up(client, &d.phone, &d.order_key, template, first).await {
        crate::resolve::Finding::Sent { wamid, at } => {
            let attempt = latest.attempt.attempt_id;
            let w = wamid.clone();
            ledger_call(recorder, move |l| {
                l.resolve_doubt(attempt, &w, at, "resolved: found in 1MSG's message history")
            })
            .await?;
            Ok(Settled::Found(wamid))
        }
        crate::resolve::Finding::NotSent if !queued => Ok(Settled::Send),
        _ if resend_unknown => Ok(Settled::Send),
        crate::resolve::Finding::NotSent => Ok(Settled::Doubt(format!(
            "may or may not have been accepted ({what}); 1MSG queued it and its history does not show it yet; never resent automatically (--resend-unknown sends it)"
        ))),
        crate::resolve::Finding::NoHistory => Ok(Settled::Doubt(format!(
            "may or may not have been accepted ({what}); this channel keeps no message history to check; never resent automatically (--resend-unknown sends it)"
        ))),
        crate::resolve::Finding::Failed(e) => Ok(Settled::Doubt(format!(
            "may or may not have been accepted ({what}); the message history could not be checked ({e}); never resent automatically (--resend-unknown sends it)"
        ))),
    }
}

/// The first Ctrl-C or SIGTERM asks for a graceful stop; a second one ends
/// the process at once (the ledger makes the next run resume correctly).
async fn watch_signals(interrupt: watch::Sender<bool>) {
    crate::simulate::shutdown_signal().await;
    let _ = interrupt.send(true);
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
    let mut seen: HashMap<String, u64> = HashMap::new();
    let (mut rows, mut valid, mut invalid, mut duplicate) = (0u64, 0u64, 0u64, 0u64);
    let mut previews = Vec::new();
    let mut problems = Vec::new();
    for item in reader {
        let raw = item.map_err(|e| Failure::new(e.exit_code(), e.to_string()))?;
        rows += 1;
        let j = judge(raw, rules);
        match &j.result {
            Err(p) => {
                invalid += 1;
                if problems.len() < 20 {
                    problems.push(format!("  row {}: {}", j.raw.row, reason(&j.raw, p)));
                }
            }
            Ok(d) => {
                if let Some(first) = seen.get(&d.order_key) {
                    duplicate += 1;
                    if problems.len() < 20 {
                        problems.push(format!(
                            "  row {}: duplicate of row {first} (order {})",
                            j.raw.row, d.order_key
                        ));
                    }
                    continue;
                }
                seen.insert(d.order_key.clone(), j.raw.row);
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
    Ok(if invalid == 0 {
        exit::OK
    } else {
        exit::NEEDS_ATTENTION
    })
}
