//! The flag groups the sending commands share (API, sending, polling,
//! output). Each `///` comment is the `--help` text. Nothing downstream
//! sees clap: [`crate::app`] turns these into validated settings.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

/// The headings that group the flags in `-h` and `--help`, in the order
/// they appear: where a flag is read, how it sends, how it follows the
/// messages, who it talks to, what it writes, what it logs.
pub(super) const INPUT: &str = "Input";
pub(super) const SENDING: &str = "Sending";
pub(super) const TRACKING: &str = "Tracking";
pub(super) const API: &str = "API";
pub(super) const OUTPUTS: &str = "Outputs";
pub(super) const LOGS: &str = "Logs";

/// `--ledger` on every command that reads or keeps the ledger without a
/// report of its own beside it (`runs`, `report`, `history`, `ledger`,
/// `backup`): the file `run` keeps beside a report in the current folder.
pub(super) const LEDGER_HERE: &str = "handoff.ledger.sqlite";

/// `-q` on every command that has it: one meaning everywhere.
pub(super) const QUIET: &str = "Only warnings and errors on stderr";
pub(super) const QUIET_LONG: &str = "Only warnings and errors on stderr: no progress, no summary \
    table, no banner, and the log at warn unless a log level is given. stdout is never quieted: \
    a command's JSON summary line is printed all the same.";

/// `--rate-card` on every command that writes a report.
pub(super) const RATE_CARD: &str = "Prices (CSV: market, category, price, currency, valid_from) \
    to estimate each delivered message's cost with";

/// `--log-format` and `--log-level`, the same on every command that logs.
pub(super) const LOG_FORMAT: &str = "text, or json for log shippers";
pub(super) const LOG_FORMAT_LONG: &str = "Log lines on stderr: `text` for people, `json` (one \
    object a line) for journald, Kubernetes and log shippers.";
pub(super) const LOG_LEVEL: &str =
    "The least important log level shown: error, warn, info, debug, trace";

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
#[command(next_help_heading = API)]
pub struct ApiArgs {
    /// 1MSG API base URL.
    #[arg(long, env = "ONEMSG_API_URL", default_value = "https://api.1msg.io")]
    #[arg(value_name = "URL", hide_short_help = true)]
    pub api_url: String,
    /// The channel (instance) id.
    #[arg(long, env = "ONEMSG_CHANNEL_ID", value_name = "ID")]
    pub channel: Option<String>,
    /// A file holding the API token; else ONEMSG_TOKEN.
    ///
    /// The token is never taken from a flag value, which would show in `ps`
    /// and shell history.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The approved template's name.
    #[arg(
        long,
        env = "ONEMSG_TEMPLATE",
        default_value = "partner_delivery_confirmation"
    )]
    #[arg(value_name = "NAME", hide_short_help = true)]
    pub template: String,
    /// The template namespace; by default the one `/templates` reports.
    #[arg(long, env = "ONEMSG_NAMESPACE", hide_short_help = true)]
    pub namespace: Option<String>,
    /// The template's language code.
    #[arg(long, env = "ONEMSG_LANGUAGE", default_value = "en")]
    #[arg(value_name = "CODE", hide_short_help = true)]
    pub language: String,
    /// Send even though Meta lists the template in this category.
    ///
    /// By default a template Meta does not list as UTILITY (e.g.
    /// `marketing`) stops the run, as Meta bills it otherwise and caps it
    /// per partner (131049); several with commas.
    #[arg(long, value_name = "CATEGORY", value_delimiter = ',')]
    #[arg(hide_short_help = true)]
    pub allow_category: Vec<String>,
    /// Per-request timeout.
    #[arg(long, default_value = "30s", value_parser = crate::duration::parse_positive)]
    #[arg(value_name = "DURATION", hide_short_help = true)]
    pub request_timeout: Duration,
    /// Where each request carries the token: `header` (Authorization:
    /// Bearer) or `query` (`?token=`, where the API's specs put it; for a
    /// channel whose hookInfo or messages refuse the header). A URL with
    /// the token is never logged or shown.
    #[arg(long, env = "ONEMSG_TOKEN_IN", value_enum, default_value = "header")]
    #[arg(hide_short_help = true)]
    pub(crate) token_in: crate::api::client::TokenIn,
}

/// How fast and how persistently to send.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = SENDING)]
pub struct SendArgs {
    /// Messages per second for the channel.
    #[arg(long, default_value = "20", value_parser = positive_rate)]
    #[arg(value_name = "N", hide_short_help = true)]
    pub rate: f64,
    /// Minimum spacing between two messages to one recipient (Meta's pair
    /// rate is about one per 6 s).
    #[arg(long, default_value = "6s", value_parser = crate::duration::parse)]
    #[arg(value_name = "DURATION", hide_short_help = true)]
    pub pair_interval: Duration,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    #[arg(value_name = "N", hide_short_help = true)]
    pub concurrency: u16,
    /// Attempts per row for sends that provably did not go through.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    #[arg(value_name = "N", hide_short_help = true)]
    pub max_attempts: u32,
    /// Send rows whose earlier send is `unknown` (may or may not have been
    /// accepted, and the API's history cannot tell), after you decided a
    /// second message is better than none.
    #[arg(long, hide_short_help = true)]
    pub resend_unknown: bool,
    /// At most N partners' phones messaged in any 24 hours; off by default.
    ///
    /// Counted from the ledger across runs (the channel's messaging limit,
    /// shared by the business portfolio): rows to new recipients past it
    /// are `skipped`, for a later run.
    #[arg(long, value_name = "N", hide_short_help = true)]
    #[arg(value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub daily_recipients: Option<usize>,
    /// How long after an uncertain send to look it up in 1MSG's message
    /// history; also the first pause between two look-ups of a doubt still
    /// open (then twice that, and so on, at most 30 s apart).
    #[arg(long, default_value = "5s", value_parser = crate::duration::parse_positive)]
    #[arg(value_name = "DURATION", hide_short_help = true)]
    pub lookup_after: Duration,
    /// How long after the sends to keep looking uncertain sends up in the
    /// message history (the run ends later by up to this much while one is
    /// not found); `0s` looks each up once. A doubt still open then is
    /// `unknown`, with how often it was looked up.
    #[arg(long, default_value = "60s", value_parser = crate::duration::parse)]
    #[arg(value_name = "DURATION", hide_short_help = true)]
    pub lookup_for: Duration,
    /// Trust this channel's message history as complete.
    ///
    /// RISK: a partner messaged twice. A send whose answer was lost, and
    /// which the history does not show, is sent again (never one the API
    /// accepted without an id).
    ///
    /// The history may lag behind a send, and 1MSG says it may be disabled
    /// or incomplete; it may be paged, may ignore its time filters, and an
    /// outgoing template's text may not carry the order number we look for.
    /// Use it only once you checked on this channel that every message sent
    /// shows in the history, with its text, within --lookup-after. Without
    /// it such a row is `unknown`: check the 1MSG cabinet, then
    /// --resend-unknown sends it.
    #[arg(long, hide_short_help = true)]
    pub history_proves_absence: bool,
    /// Send only before this local time.
    ///
    /// So partners are not woken at night: a run that starts later, or
    /// reaches it, stops sending; the rest are `skipped`, exit 75.
    #[arg(long, value_parser = clock, value_name = "HH:MM")]
    pub not_after: Option<chrono::NaiveTime>,
    /// With --not-after: send only from this local time on.
    #[arg(long, default_value = "06:00", value_parser = clock)]
    #[arg(value_name = "HH:MM", hide_short_help = true)]
    pub not_before: chrono::NaiveTime,
}

fn clock(s: &str) -> Result<chrono::NaiveTime, String> {
    chrono::NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| format!("`{s}` is not a time of day; write it like 22:00"))
}

/// How to follow statuses.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = TRACKING)]
pub struct PollArgs {
    /// hookInfo calls per second.
    #[arg(long, default_value = "40", value_parser = positive_rate)]
    #[arg(value_name = "N", hide_short_help = true)]
    pub poll_rate: f64,
    /// Delay from acceptance to a message's first status poll (then at
    /// about 1.5× that delay, 1.5² × …, at most a minute apart).
    #[arg(long, default_value = "3500ms", value_parser = crate::duration::parse_positive)]
    #[arg(value_name = "DURATION", hide_short_help = true)]
    pub first_poll: Duration,
    /// Poll this long after the sends.
    ///
    /// How long to keep polling statuses after the last send. Messages not final by then are `pending`; `handoff track` follows
    /// them later.
    #[arg(long, default_value = "10m", value_parser = crate::duration::parse)]
    #[arg(value_name = "DURATION")]
    pub track_for: Duration,
}

/// Where results go, and what is logged.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = OUTPUTS)]
pub struct OutputArgs {
    /// A settings file (TOML) whose values sit between the environment and
    /// the defaults; default `handoff.toml` in the working directory, if
    /// there is one.
    #[arg(long, value_name = "FILE", help_heading = None::<&str>)]
    #[arg(hide_short_help = true)]
    pub config: Option<PathBuf>,
    /// The ledger that remembers every send; keep one.
    ///
    /// Keep the same one every night.
    /// The ledger (SQLite) is what stops an order being notified twice.
    /// Default: handoff.ledger.sqlite beside the report
    /// (handoff.rehearsal.ledger.sqlite for a rehearsal, --simulate).
    #[arg(long, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
    /// Also write the JSON summary to this file.
    #[arg(long, value_name = "FILE", hide_short_help = true)]
    pub summary_json: Option<PathBuf>,
    /// Where to write the workbook; default beside the report (.xlsx).
    ///
    /// The reconciliation as an Excel workbook, the file people open:
    /// phones, wamids and order numbers are text in it, times are dates in
    /// --timezone, and sheets say how the night went, what needs whom and
    /// how each partner fared. Default: the report's name with .xlsx.
    #[arg(long, value_name = "FILE", overrides_with = "no_xlsx")]
    pub xlsx: Option<PathBuf>,
    /// Write no workbook, only the CSV report.
    #[arg(long, overrides_with = "xlsx", hide_short_help = true)]
    pub no_xlsx: bool,
    #[arg(long, value_name = "FILE", hide_short_help = true, help = RATE_CARD)]
    pub rate_card: Option<PathBuf>,
    /// Write Prometheus metrics to this file at the end (for node_exporter's
    /// textfile collector), atomically.
    #[arg(long, value_name = "FILE", hide_short_help = true)]
    pub metrics_file: Option<PathBuf>,
    /// Push the metrics to this Prometheus Pushgateway at the end (job
    /// `handoff`); the success timestamp is pushed only on success.
    #[arg(long, value_name = "URL", hide_short_help = true)]
    pub pushgateway: Option<String>,
    /// The time zone (an IANA name such as Europe/Berlin) of --not-after
    /// and --not-before and of the workbook's date cells; default the
    /// machine's.
    #[arg(long, value_name = "ZONE", hide_short_help = true)]
    pub timezone: Option<chrono_tz::Tz>,
    #[arg(long, short, help = QUIET, long_help = QUIET_LONG, help_heading = LOGS)]
    pub quiet: bool,
    #[arg(long, value_enum, default_value = "text", help_heading = LOGS)]
    #[arg(value_name = "FORMAT", hide_possible_values = true)]
    #[arg(help = LOG_FORMAT, long_help = LOG_FORMAT_LONG)]
    pub log_format: LogFormat,
    #[arg(long, value_name = "LEVEL", help_heading = LOGS, hide_short_help = true)]
    #[arg(help = LOG_LEVEL)]
    pub log_level: Option<tracing::Level>,
    /// Colours in the text log: `auto` (on a terminal, unless NO_COLOR is
    /// set), `always` or `never`.
    #[arg(long, value_enum, default_value = "auto", help_heading = LOGS)]
    #[arg(value_name = "WHEN", hide_short_help = true)]
    pub color: super::Color,
}

impl OutputArgs {
    /// The workbook a command that writes the report `out` writes: `--xlsx`,
    /// else `out` with `.xlsx` (not `out` itself), none with `--no-xlsx`.
    pub fn workbook(&self, out: &Path) -> Option<PathBuf> {
        if self.no_xlsx {
            return None;
        }
        let beside = || Some(out.with_extension("xlsx")).filter(|w| w != out);
        self.xlsx.clone().or_else(beside)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}
