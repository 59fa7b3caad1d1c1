//! The command line: subcommands and flags. Each `///` comment is the
//! `--help` text. Nothing downstream sees clap: [`crate::app`] turns these
//! into validated settings.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::ledger_args::{HistoryArgs, ReportArgs, RunsArgs};
use super::lifecycle_args::{BackupArgs, LedgerArgs, PruneArgs};
use super::sim_args::SimulateArgs;
use super::webhook_args::{ReceiveArgs, WebhookArgs};

#[derive(Debug, Parser)]
#[command(name = "handoff", version, about, long_about = None, args_override_self = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The nightly job: validate the deliveries CSV, send each partner the
    /// WhatsApp template, track every message, write the reconciliation.
    Run(RunArgs),
    /// Send again the rows of a reconciliation whose outcome allows it
    /// (failed, rejected, invalid, skipped), using the data in that file; a
    /// failed row only when its data changed or its error may pass.
    Rerun(RerunArgs),
    /// Poll the statuses of messages not final yet (the morning after) and
    /// rewrite the report.
    Track(TrackArgs),
    /// List the ledger's runs: kind, input, start, end, exit code, rows by
    /// outcome. Reads the ledger only.
    Runs(RunsArgs),
    /// Write any past run's reconciliation (CSV, workbook) again from the
    /// ledger alone; nothing is sent or polled.
    Report(ReportArgs),
    /// Every row, attempt, message and status the ledger holds for one
    /// order number, across nights.
    History(HistoryArgs),
    /// Delete what old runs hold beyond what cross-night dedup needs.
    Prune(PruneArgs),
    /// Copy the ledger to PATH with SQLite's online backup; safe while a run writes.
    Backup(BackupArgs),
    /// Show the ledger's size and what fills it; `--vacuum` gives free pages back.
    Ledger(LedgerArgs),
    /// Receive 1MSG's status pushes for as long as it runs (Ctrl-C or
    /// SIGTERM ends it), recording them into the ledger for any run, so
    /// `handoff track` finds them final.
    Receive(ReceiveArgs),
    /// Run a local 1MSG API simulator in the foreground (for rehearsals and
    /// tests); stop it with Ctrl-C.
    Simulate(SimulateArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff): `handoff man run > handoff-run.1`; or write
    /// every page with `--out-dir /usr/local/share/man/man1`.
    Man {
        /// The subcommand whose page to print (`handoff(1)` if none).
        subcommand: Option<String>,
        /// Write the pages (all of them, or the one named) into this
        /// directory as handoff.1, handoff-run.1, … instead of printing.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Print the effective settings of `handoff run` and where each comes
    /// from (flag, environment, settings file, default); the token redacted.
    Config {
        /// The settings file; default `handoff.toml` here, if there is one.
        #[arg(long)]
        config: Option<PathBuf>,
        /// `run` flags to include, as you would give them (after `--`).
        #[arg(last = true)]
        flags: Vec<String>,
    },
}

fn duration(s: &str) -> Result<Duration, String> {
    crate::duration::parse(s)
}

/// A wait that zero would break (a timeout, the first poll's delay).
fn positive_duration(s: &str) -> Result<Duration, String> {
    crate::duration::parse_positive(s)
}

/// Where each API request carries the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenInArg {
    /// `Authorization: Bearer <token>`.
    Header,
    /// `?token=<token>` in the query string, as the API's specs declare.
    Query,
}

/// `--map field="Header"`: which column holds a field.
fn mapping(s: &str) -> Result<(crate::input::Field, String), String> {
    let (field, header) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` should look like order_number=\"Order No\""))?;
    let field = field.trim().parse().map_err(|e| format!("{e}"))?;
    let header = header.trim().trim_matches('"').to_string();
    if header.is_empty() {
        return Err(format!("`{s}` names no column"));
    }
    Ok((field, header))
}

fn country(s: &str) -> Result<crate::delivery::Country, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn delimiter(s: &str) -> Result<u8, String> {
    match s {
        "," | "comma" => Ok(b','),
        ";" | "semicolon" => Ok(b';'),
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        "|" | "pipe" => Ok(b'|'),
        other => Err(format!(
            "`{other}` is not a delimiter we read; use , ; tab or |"
        )),
    }
}

fn positive_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if r > 0.0 && r.is_finite() {
        Ok(r)
    } else {
        Err(format!("`{s}` must be above 0"))
    }
}

/// Where the messages go.
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// 1MSG API base URL.
    #[arg(long, env = "ONEMSG_API_URL", default_value = "https://api.1msg.io")]
    pub api_url: String,
    /// The channel (instance) id.
    #[arg(long, env = "ONEMSG_CHANNEL_ID")]
    pub channel: Option<String>,
    /// A file holding the API token (the token is never taken from a flag
    /// value, which would show in `ps` and shell history). Else
    /// `ONEMSG_TOKEN`.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// The approved template's name.
    #[arg(
        long,
        env = "ONEMSG_TEMPLATE",
        default_value = "partner_delivery_confirmation"
    )]
    pub template: String,
    /// The template namespace; by default the one `/templates` reports.
    #[arg(long, env = "ONEMSG_NAMESPACE")]
    pub namespace: Option<String>,
    /// The template's language code.
    #[arg(long, env = "ONEMSG_LANGUAGE", default_value = "en")]
    pub language: String,
    /// Per-request timeout.
    #[arg(long, default_value = "30s", value_parser = positive_duration)]
    pub request_timeout: Duration,
    /// Where each request carries the token: `header` (Authorization:
    /// Bearer) or `query` (`?token=`, where the API's specs put it; for a
    /// channel whose hookInfo or messages refuse the header). A URL with
    /// the token is never logged or shown.
    #[arg(long, env = "ONEMSG_TOKEN_IN", value_enum, default_value = "header")]
    pub token_in: TokenInArg,
}

/// How fast and how persistently to send.
#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    /// Messages per second for the channel.
    #[arg(long, default_value = "20", value_parser = positive_rate)]
    pub rate: f64,
    /// Minimum spacing between two messages to one recipient (Meta's pair
    /// rate is about one per 6 s).
    #[arg(long, default_value = "6s", value_parser = duration)]
    pub pair_interval: Duration,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Attempts per row for sends that provably did not go through.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
    /// Send rows whose earlier send is `unknown` (may or may not have been
    /// accepted, and the API's history cannot tell), after you decided a
    /// second message is better than none.
    #[arg(long)]
    pub resend_unknown: bool,
    /// How long after an uncertain send to look it up in 1MSG's message
    /// history; also the first pause between two look-ups of a doubt still
    /// open (then twice that, and so on, at most 30 s apart).
    #[arg(long, default_value = "5s", value_parser = positive_duration)]
    pub lookup_after: Duration,
    /// How long after the sends to keep looking uncertain sends up in the
    /// message history (the run ends later by up to this much while one is
    /// not found); `0s` looks each up once. A doubt still open then is
    /// `unknown`, with how often it was looked up.
    #[arg(long, default_value = "60s", value_parser = duration)]
    pub lookup_for: Duration,
    /// Trust this channel's message history as complete: a send whose
    /// answer was lost, and which the history does not show, is sent again
    /// (never one the API accepted without an id). RISK: a partner messaged
    /// twice. 1MSG says its history may be disabled or incomplete; it may be
    /// paged, may lag behind a send, may ignore its time filters, and an
    /// outgoing template's text may not carry the order number we look for.
    /// Use it only once you checked on this channel that every message sent
    /// shows in the history, with its text, within --lookup-after. Without
    /// it such a row is `unknown`: check the 1MSG cabinet, then
    /// --resend-unknown sends it.
    #[arg(long)]
    pub history_proves_absence: bool,
    /// Send only before this local time (HH:MM): a run that starts later,
    /// or reaches it, stops sending (the rest `skipped`, exit 75), so
    /// partners are not woken at night.
    #[arg(long, value_parser = clock)]
    pub not_after: Option<chrono::NaiveTime>,
    /// With --not-after: send only from this local time on (HH:MM).
    #[arg(long, default_value = "06:00", value_parser = clock)]
    pub not_before: chrono::NaiveTime,
}

fn clock(s: &str) -> Result<chrono::NaiveTime, String> {
    chrono::NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| format!("`{s}` is not a time of day; write it like 22:00"))
}

/// How to follow statuses.
#[derive(Debug, Clone, Args)]
pub struct PollArgs {
    /// hookInfo calls per second.
    #[arg(long, default_value = "40", value_parser = positive_rate)]
    pub poll_rate: f64,
    /// Delay from acceptance to a message's first status poll (then at
    /// about 1.5× that delay, 1.5² × …, at most a minute apart).
    #[arg(long, default_value = "3500ms", value_parser = positive_duration)]
    pub first_poll: Duration,
    /// How long to keep polling statuses after the last send; messages not
    /// final by then are `pending`.
    #[arg(long, default_value = "10m", value_parser = duration)]
    pub track_for: Duration,
}

/// Where results go.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// A settings file (TOML) whose values sit between the environment and
    /// the defaults; default `handoff.toml` in the working directory, if
    /// there is one.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The ledger (SQLite) that remembers every send across runs. Keep the
    /// same one every night: it is what stops an order being notified twice.
    /// Default: handoff.ledger.sqlite beside the report.
    #[arg(long)]
    pub ledger: Option<PathBuf>,
    /// Also write the JSON summary to this file.
    #[arg(long)]
    pub summary_json: Option<PathBuf>,
    /// Also write the reconciliation as an Excel workbook (phones, wamids
    /// and order numbers as text; a summary sheet).
    #[arg(long)]
    pub xlsx: Option<PathBuf>,
    /// Write Prometheus metrics to this file at the end (for node_exporter's
    /// textfile collector), atomically.
    #[arg(long)]
    pub metrics_file: Option<PathBuf>,
    /// Push the metrics to this Prometheus Pushgateway at the end (job
    /// `handoff`); the success timestamp is pushed only on success.
    #[arg(long)]
    pub pushgateway: Option<String>,
    /// The time zone (an IANA name such as Europe/Berlin) of --not-after
    /// and --not-before and of the workbook's date cells; default the
    /// machine's.
    #[arg(long)]
    pub timezone: Option<chrono_tz::Tz>,
    /// No progress output, and only warnings in the log.
    #[arg(long, short)]
    pub quiet: bool,
    /// Log lines on stderr: `text` for people, `json` (one object a line)
    /// for journald, Kubernetes and log shippers.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// The least important log level shown: error, warn, info, debug.
    #[arg(long)]
    pub log_level: Option<tracing::Level>,
    /// Colours in the text log: `auto` (on a terminal, unless NO_COLOR is
    /// set), `always` or `never`.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: super::Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The deliveries CSV exported by the TMS/OMS.
    pub input: PathBuf,
    /// Where to write the reconciliation CSV.
    #[arg(long, default_value = "reconciliation.csv")]
    pub out: PathBuf,
    /// Start the built-in 1MSG simulator on a loopback port and run against
    /// it: no credentials, no network, nobody messaged.
    #[arg(long)]
    pub simulate: bool,
    /// With --simulate: how rude the embedded simulator is. `hostile` plays
    /// the real API's documented variants at once (see `handoff simulate
    /// --profile`); pair it with --token-in query, as that profile refuses
    /// the header outside sendTemplate and templates.
    #[arg(
        long,
        value_name = "PROFILE",
        requires = "simulate",
        default_value = "default"
    )]
    pub simulate_profile: String,
    /// Validate, check the template, show the first messages as partners
    /// would read them, and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Send again orders whose phone or text changed since their message
    /// was accepted (the report shows both wamids).
    #[arg(long)]
    pub resend_changed: bool,
    /// Which column holds a field, e.g. --map order_number="Order No".
    /// Fields: partner_name, partner_phone, order_number, product_name,
    /// delivery_note, and country (each row's phone country, a region or a
    /// calling code; read only when mapped, e.g. --map country="Country").
    #[arg(long = "map", value_parser = mapping)]
    pub map: Vec<(crate::input::Field, String)>,
    /// The input's delimiter (, ; tab |); detected from the headers if not given.
    #[arg(long, value_parser = delimiter)]
    pub delimiter: Option<u8>,
    /// The input's encoding when it is not UTF-8 (windows-1252, cp1251, latin1, …).
    #[arg(long)]
    pub encoding: Option<String>,
    /// With a workbook (.xlsx, .xls, .ods): the sheet to read (the first by default).
    #[arg(long)]
    pub sheet: Option<String>,
    /// Carry the input's other columns (a delivery date, a carrier, a cost
    /// centre) into the reconciliation and the workbook, after ours.
    #[arg(long)]
    pub keep_columns: bool,
    /// Refuse an input with more rows than this before sending anything (a
    /// runaway export).
    #[arg(long)]
    pub max_rows: Option<u64>,
    /// Refuse an input with fewer rows than this before sending anything:
    /// a header-only or truncated export exits 65 instead of a quiet 0.
    /// `0` accepts an empty file.
    #[arg(long, default_value_t = 1)]
    pub min_rows: u64,
    #[command(flatten)]
    pub sending: SendingArgs,
}

/// What both sending commands (`run`, `rerun`) take besides their input:
/// declared once, so the two cannot drift apart.
#[derive(Debug, Args)]
pub struct SendingArgs {
    /// The country of national phone numbers (`0151…`, `8 (912)…`): a region
    /// (DE, RU) or a calling code (49, 7); a row's country column (--map
    /// country=…) wins. Without either, a phone starting with 0 is invalid.
    /// A phone that reads as a valid number both as a national number and
    /// as international digits is invalid (ambiguous): write it with + .
    #[arg(long, value_parser = country)]
    pub default_country: Option<crate::delivery::Country>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub send: SendArgs,
    #[command(flatten)]
    pub poll: PollArgs,
    #[command(flatten)]
    pub webhook: WebhookArgs,
}

#[derive(Debug, Args)]
pub struct RerunArgs {
    /// A reconciliation written by `handoff run` (or `rerun`), with the data
    /// fixed where needed (a corrected phone number, say): the CSV as we
    /// wrote it or as a spreadsheet saved it (`;`, another encoding, a BOM),
    /// or a workbook (the `--xlsx` one, or the CSV saved as .xlsx).
    pub reconciliation: PathBuf,
    /// Only rows with these outcomes (of failed, rejected, invalid,
    /// skipped); all four by default. Rows delivered, read, pending,
    /// duplicate or unknown are never sent by a rerun.
    #[arg(long, value_delimiter = ',', value_parser = rerun_outcome)]
    pub only: Vec<crate::report::Outcome>,
    /// Where to write this rerun's reconciliation (every row of the file).
    /// Default: `<file>-rerun.csv` beside the file, or `<file>-rerun-2.csv`,
    /// `-rerun-3.csv`, … when an earlier rerun's report is there.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Show what the rerun would send, and why not the rest; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Send `failed` rows again even when their data is unchanged and their
    /// error says it fails the same way (opted out, not on WhatsApp) or not
    /// yet (a day's wait). Never sends a delivered, read or pending row.
    #[arg(long)]
    pub force: bool,
    /// The file's delimiter (, ; tab |); detected from the headers if not given.
    #[arg(long, value_parser = delimiter)]
    pub delimiter: Option<u8>,
    /// The file's encoding when it is not UTF-8 (Calc and Excel in Western
    /// Europe save CSV as windows-1252).
    #[arg(long)]
    pub encoding: Option<String>,
    /// With a workbook: the sheet to read (the first by default).
    #[arg(long)]
    pub sheet: Option<String>,
    #[command(flatten)]
    pub sending: SendingArgs,
}

fn rerun_outcome(s: &str) -> Result<crate::report::Outcome, String> {
    use crate::report::Outcome;
    match Outcome::parse(s.trim()) {
        Some(o @ (Outcome::Failed | Outcome::Rejected | Outcome::Invalid | Outcome::Skipped)) => {
            Ok(o)
        }
        Some(o) => Err(format!(
            "`{}` rows are never sent again by a rerun; choose from failed, rejected, invalid, skipped",
            o.as_str()
        )),
        None => Err(format!(
            "`{s}` is not an outcome; choose from failed, rejected, invalid, skipped"
        )),
    }
}

#[derive(Debug, Args)]
pub struct TrackArgs {
    /// Where to rewrite the reconciliation of the tracked run.
    #[arg(long, default_value = "reconciliation.csv")]
    pub out: PathBuf,
    /// The run whose report to rewrite; default the latest run or rerun.
    #[arg(long)]
    pub run: Option<i64>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub poll: PollArgs,
}
