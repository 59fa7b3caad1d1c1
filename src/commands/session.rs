//! What every sending command opens before its first row: the target and
//! its checked template, the ledger's lock, the ledger on its own thread
//! (the recorder), this command's run, the progress display and the stop
//! signal.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::watch;
use tracing::{info, warn};

use super::preflight::outputs;
use super::preflight::{Template, preflight};
use crate::api::client::Client;
use crate::cli::config::{Rehearsal, Target, target};
use crate::cli::{ApiArgs, OutputArgs, SendingArgs};
use crate::delivery::{Directory, Rules};
use crate::error::Failure;
use crate::exit;
use crate::input::InputReader;
use crate::ledger::{Ledger, RunId, RunMeta};
use crate::progress::{self, Progress};
use crate::recorder::Recorder;
use crate::report::cost::RateCard;
use crate::signal::{Interrupt, watch_signals};

/// A sending command's open ledger and everything it shares.
pub(super) struct Session {
    /// `run`, `rerun` or `track`.
    pub(super) kind: String,
    /// The target (with `--simulate` it owns the simulator, kept for the
    /// session's lifetime), its client and the checked template.
    pub(super) conn: Connection,
    pub(super) recorder: Recorder,
    pub(super) ledger_thread: std::thread::JoinHandle<Ledger>,
    pub(super) ledger_path: PathBuf,
    _lock: std::fs::File,
    /// This command's run in the ledger.
    pub(super) run_id: RunId,
    /// The prices the report estimates the night's cost with.
    pub(super) rates: Option<Arc<RateCard>>,
    pub(super) progress: Progress,
    pub(super) interrupt: Interrupt,
    /// Stops the run as a signal would (the sending window closing), with
    /// the reason the rows not sent and the summary show.
    pub(super) interrupt_tx: Arc<watch::Sender<Option<String>>>,
}

/// Where the messages go, a client for it, and the checked template.
pub(super) struct Connection {
    pub(super) target: Target,
    pub(super) client: Client,
    pub(super) template: Template,
}

/// Connects, checks the template (in `--language` and in each language
/// the contacts of `rows`' partners in `directory` are written in), and
/// warns about a missing namespace. `simulate`: the embedded simulator to
/// run, if this is a rehearsal.
pub(super) async fn connect(
    sending: &SendingArgs,
    simulate: Option<Rehearsal<'_>>,
    directory: Option<&Directory>,
    rows: InputReader,
) -> Result<Connection, Failure> {
    let api = &sending.api;
    let languages = languages(directory, rows, sending);
    let target = target(api, simulate).await?;
    let client = target.client(api)?;
    super::record::connected(&client);
    let template = preflight(&client, api, &target.channel, &languages).await?;
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

/// The template languages the rows of `reader` need besides `--language`:
/// their partners' contacts' (none without a partners file; every contact's
/// with `--fallback`).
fn languages(
    directory: Option<&Directory>,
    reader: impl Iterator<Item = Result<crate::input::RawRow, crate::input::InputError>>,
    sending: &SendingArgs,
) -> Vec<String> {
    let Some(directory) = directory else {
        return Vec::new();
    };
    let ids = reader.map_while(Result::ok).map(|r| r.fields.partner_id);
    directory.languages(ids, &sending.api.language, sending.fallback.is_some())
}

/// The validation rules for this template's body, for rows read from
/// `input` (`--default-country` for their national numbers, `directory`
/// for their partners).
pub(super) fn rules(
    template: &Template,
    sending: &SendingArgs,
    input: &InputReader,
    directory: Option<Arc<Directory>>,
) -> Rules {
    Rules {
        body_template: template.body.clone(),
        max_body_chars: crate::delivery::MAX_BODY_CHARS,
        default_country: sending.default_country.clone(),
        origin: Some(input.origin()),
        directory,
    }
}

/// Takes the lock, opens the ledger on its thread and records the run.
pub(super) async fn open_session(
    kind: &str,
    input: &Path,
    out: &Path,
    output: &OutputArgs,
    api: &ApiArgs,
    conn: Connection,
    held: Held,
) -> Result<Session, Failure> {
    if kind != "track" {
        suppress_blocked(&conn.client, &held.ledger).await;
    }
    let (recorder, ledger_thread) = Recorder::start(held.ledger);
    let meta = RunMeta {
        kind: kind.into(),
        input_path: Some(input.display().to_string()),
        api_url: conn.target.api_url.clone(),
        channel: conn.target.channel.clone(),
        simulated: conn.target.simulated(),
        template: api.template.clone(),
        language: api.language.clone(),
        started_at: Utc::now(),
    };
    let run_id = recorder.begin_run(meta).await?;
    crate::logging::set_run_id(run_id);
    let progress = Progress::new(progress::Mode::detect(
        output.quiet,
        crate::logging::is_json(),
    ));
    super::record::opened(run_id, held.path.clone(), out.to_path_buf(), &progress);
    info!(run_id, kind, input = %input.display(), ledger = %held.path.display(), "run started");
    let (interrupt_tx, interrupt) = watch::channel(None);
    let interrupt_tx = Arc::new(interrupt_tx);
    tokio::spawn(watch_signals(Arc::clone(&interrupt_tx)));
    Ok(Session {
        kind: kind.to_string(),
        conn,
        recorder,
        ledger_thread,
        ledger_path: held.path,
        _lock: held.lock,
        run_id,
        rates: held.rates,
        progress,
        interrupt,
        interrupt_tx,
    })
}

/// The phones the channel lists as blocked join the suppression list
/// before any row is decided, so none is sent a message that cannot
/// arrive and costs the number's quality; one already suppressed keeps
/// its date. A list that cannot be read is said and changes nothing.
async fn suppress_blocked(client: &Client, ledger: &Ledger) {
    let blocked = match client.blocked_users().await {
        Ok(list) => list.unwrap_or_default(),
        Err(e) => return warn!("the channel's blocked users could not be read: {e}"),
    };
    let phones = blocked.iter().map(String::as_str);
    match ledger.suppress_new(phones, &crate::codes::REFUSALS, Utc::now()) {
        Ok(0) => {}
        Ok(phones) => info!(
            phones,
            "the channel lists these phones as blocked: suppressed"
        ),
        Err(e) => warn!("the channel's blocked users could not be suppressed: {e}"),
    }
}

/// A rehearsal's acceptance proves nothing about a partner, so a ledger
/// holds rehearsals or real runs, never both: a real run would otherwise
/// take the rehearsal's messages for sent (and message nobody), and a
/// rehearsal would take real ones for rehearsed. Refused before anything
/// is recorded or sent (78), naming the ledger and the way out.
pub(super) fn one_kind_of_run(
    ledger: &Ledger,
    path: &Path,
    simulated: bool,
) -> Result<(), Failure> {
    let latest = ledger.latest_run(!simulated);
    let Some(other) = latest.map_err(|e| Failure::of(exit::CONFIG, e))? else {
        return Ok(());
    };
    let (holds, advice) = if simulated {
        (
            "real runs",
            format!(
                "a rehearsal (--simulate) reaches no partner and must not be mixed into it; \
                 rehearse with a ledger of its own (--ledger PATH; without --ledger a \
                 rehearsal keeps `{REHEARSAL_LEDGER}` beside --out)"
            ),
        )
    } else {
        (
            "rehearsals (--simulate)",
            "their messages reached no partner and would count as sent; give the real \
             runs a ledger of their own (--ledger PATH)"
                .to_string(),
        )
    };
    let why = format!(
        "the ledger `{}` holds {holds}, the latest run {} on channel {}: {advice}; nothing was sent",
        path.display(),
        other.run_id,
        other.channel,
    );
    Err(Failure::new(exit::CONFIG, why))
}

/// A sending command's ledger, taken before the first API request.
pub(super) struct Held {
    path: PathBuf,
    lock: std::fs::File,
    /// The ledger, before the recorder takes it.
    pub(super) ledger: Ledger,
    rates: Option<Arc<RateCard>>,
}

/// What a sending command checks and takes on this machine before the
/// first API request, each stopping it at once with its own code whether
/// the API is up or not: its webhook receiver (no secret off loopback, 78)
/// and its ledger ([`hold_ledger`]). `simulated`: a rehearsal's own ledger.
pub(super) fn check_local(
    out: &Path,
    sending: &SendingArgs,
    simulated: bool,
) -> Result<Held, Failure> {
    let w = &sending.webhook;
    if let Some(listen) = w.webhook_listen {
        crate::webhook::guarded(listen, w.webhook_secret.as_deref())?;
    }
    hold_ledger(out, &sending.output, simulated)
}

/// Takes the ledger: every output checked for being writable (78), the
/// lock held (another run on it: 75), the file opened and migrated, and
/// refused if it holds the other kind of run (78).
pub(super) fn hold_ledger(
    out: &Path,
    output: &OutputArgs,
    simulated: bool,
) -> Result<Held, Failure> {
    let path = ledger_path(output, out, simulated);
    check_outputs(out, output, &path)?;
    let rates = rate_card(output.rate_card.as_deref())?;
    let lock = lock_ledger(&path)?;
    let new_ledger = !path.exists();
    let ledger = Ledger::open(&path).map_err(|e| Failure::of(exit::CONFIG, e))?;
    one_kind_of_run(&ledger, &path, simulated)?;
    if new_ledger {
        new_ledger_notice(&path, output.ledger.is_none());
    }
    Ok(Held {
        path,
        lock,
        ledger,
        rates,
    })
}

/// The rate card (`--rate-card`), read before anything is sent: one that
/// cannot be used stops the command (78) rather than leave finance a night
/// without its estimate.
pub(super) fn rate_card(path: Option<&Path>) -> Result<Option<Arc<RateCard>>, Failure> {
    let card = path.map(RateCard::read).transpose();
    card.map(|c| c.map(Arc::new))
        .map_err(|e| Failure::of(exit::CONFIG, e))
}

/// Every file the command writes at the end, checked before the first send.
fn check_outputs(out: &Path, output: &OutputArgs, ledger: &Path) -> Result<(), Failure> {
    let workbook = output.workbook(out);
    outputs::check(&[
        ("report", Some(out), "--out"),
        ("ledger", Some(ledger), "--ledger"),
        ("workbook", workbook.as_deref(), "--xlsx"),
        (
            "metrics file",
            output.metrics_file.as_deref(),
            "--metrics-file",
        ),
        (
            "JSON summary",
            output.summary_json.as_deref(),
            "--summary-json",
        ),
    ])
}

/// A new ledger knows no earlier night: every order in the file will be
/// sent, even one another ledger remembers. Said on stderr whatever the
/// log level, since a second ledger beside another `--out` is how an
/// operator messages every partner twice.
fn new_ledger_notice(path: &Path, defaulted: bool) {
    let how = if defaulted {
        " (the default beside --out; pass --ledger to keep one ledger across nights)"
    } else {
        ""
    };
    warn!(
        ledger = %path.display(),
        "a new ledger was created{how}: it knows no earlier run, so every order of this file is sent"
    );
}

/// Takes the ledger's lock file (`<ledger>.lock`) for the whole run, so a
/// manual rerun that overlaps the nightly run exits instead of racing it.
/// The lock is the kernel's (flock): it goes away with the process, however
/// the process ends.
pub(super) fn lock_ledger(ledger: &Path) -> Result<std::fs::File, Failure> {
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
            let context = format!("failed to open the ledger lock `{}`", path.display());
            Failure::because(exit::CONFIG, context, e)
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
            let pid = match holder.trim() {
                "" => "unknown",
                pid => pid,
            };
            let why = format!(
                "another handoff run (pid {pid}) is using the ledger `{}`; nothing was sent; run again when it has finished",
                ledger.display()
            );
            Err(Failure::new(exit::TEMPFAIL, why))
        }
        Err(std::fs::TryLockError::Error(e)) => {
            let context = format!("failed to lock `{}`", path.display());
            Err(Failure::because(exit::CONFIG, context, e))
        }
    }
}

/// A rehearsal's default ledger: its own file, so a rehearsal with `--out`
/// in the production folder never meets the nights' ledger there.
const REHEARSAL_LEDGER: &str = "handoff.rehearsal.ledger.sqlite";

/// The ledger a command keeps: `--ledger`, else the default beside its
/// report (a rehearsal's own, so it never meets the nights' ledger).
pub(super) fn ledger_path(output: &OutputArgs, out: &Path, simulated: bool) -> PathBuf {
    output.ledger.clone().unwrap_or_else(|| match simulated {
        true => beside(out, REHEARSAL_LEDGER),
        false => beside(out, "handoff.ledger.sqlite"),
    })
}

/// A rehearsal with `profile`, its channel remembered beside `ledger`
/// (`handoff.rehearsal.ledger.sim.jsonl`), so a rehearsal's run, rerun and
/// track are one night on one channel; `None` when not rehearsing.
pub(super) fn rehearsal<'a>(profile: Option<&'a str>, ledger: &Path) -> Option<Rehearsal<'a>> {
    profile.map(|profile| Rehearsal {
        profile,
        memory: ledger.with_extension("sim.jsonl"),
    })
}

/// `name` in the report's directory.
fn beside(out: &Path, name: &str) -> PathBuf {
    match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.join(name),
        _ => PathBuf::from(name),
    }
}
