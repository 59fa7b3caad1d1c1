//! The flag groups the sending commands share (API, sending, polling,
//! output). Each `///` comment is the `--help` text. Nothing downstream
//! sees clap: [`crate::app`] turns these into validated settings.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// `--map field="Header"`: which column holds a field.
pub(super) fn mapping(s: &str) -> Result<(crate::input::Field, String), String> {
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

pub(super) fn delimiter(s: &str) -> Result<u8, String> {
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
    /// Send even though Meta lists the template in this category (e.g.
    /// `marketing`): by default a template that is not UTILITY stops the
    /// run, as Meta bills it otherwise and caps it per partner (131049).
    #[arg(long, value_name = "CATEGORY", value_delimiter = ',')]
    pub allow_category: Vec<String>,
    /// Per-request timeout.
    #[arg(long, default_value = "30s", value_parser = crate::duration::parse_positive)]
    pub request_timeout: Duration,
    /// Where each request carries the token: `header` (Authorization:
    /// Bearer) or `query` (`?token=`, where the API's specs put it; for a
    /// channel whose hookInfo or messages refuse the header). A URL with
    /// the token is never logged or shown.
    #[arg(long, env = "ONEMSG_TOKEN_IN", value_enum, default_value = "header")]
    pub(crate) token_in: crate::api::client::TokenIn,
}

/// How fast and how persistently to send.
#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    /// Messages per second for the channel.
    #[arg(long, default_value = "20", value_parser = positive_rate)]
    pub rate: f64,
    /// Minimum spacing between two messages to one recipient (Meta's pair
    /// rate is about one per 6 s).
    #[arg(long, default_value = "6s", value_parser = crate::duration::parse)]
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
    /// At most this many distinct partners' phones messaged in any 24
    /// hours, counted from the ledger across runs (the channel's messaging
    /// limit, shared by the business portfolio): rows to new recipients
    /// past it are `skipped`, for a later run. Off by default.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub daily_recipients: Option<u64>,
    /// How long after an uncertain send to look it up in 1MSG's message
    /// history; also the first pause between two look-ups of a doubt still
    /// open (then twice that, and so on, at most 30 s apart).
    #[arg(long, default_value = "5s", value_parser = crate::duration::parse_positive)]
    pub lookup_after: Duration,
    /// How long after the sends to keep looking uncertain sends up in the
    /// message history (the run ends later by up to this much while one is
    /// not found); `0s` looks each up once. A doubt still open then is
    /// `unknown`, with how often it was looked up.
    #[arg(long, default_value = "60s", value_parser = crate::duration::parse)]
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

impl SendArgs {
    /// `--daily-recipients` as a count.
    pub fn daily_recipients(&self) -> Option<usize> {
        self.daily_recipients
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    }
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
    #[arg(long, default_value = "3500ms", value_parser = crate::duration::parse_positive)]
    pub first_poll: Duration,
    /// How long to keep polling statuses after the last send; messages not
    /// final by then are `pending`.
    #[arg(long, default_value = "10m", value_parser = crate::duration::parse)]
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
    /// Default: handoff.ledger.sqlite beside the report
    /// (handoff.rehearsal.ledger.sqlite for a rehearsal, --simulate).
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
