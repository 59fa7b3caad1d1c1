//! The flags of `handoff simulate`: one per scenario field worth turning
//! from the command line, each overriding the scenario file (or profile).
//! Words (`template_name`, `loose_types`) are the scenario file's, read by
//! the scenario's own types so the two cannot drift; `-` may stand for `_`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::de::{DeserializeOwned, IntoDeserializer};

use handoff_sim::duration::Span;
use handoff_sim::scenario::{
    CountMismatch, FailedWord, HistoryBody, HistoryWrapper, HookShape, ListShape, ReadWord,
};

fn duration(s: &str) -> Result<Duration, String> {
    handoff_sim::duration::parse(s)
}

fn span(s: &str) -> Result<Span, String> {
    Span::parse(s)
}

fn probability(s: &str) -> Result<f64, String> {
    let p: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number between 0 and 1"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("`{s}` is not between 0 and 1"))
    }
}

/// One of a scenario enum's words, as the scenario file writes it.
fn word<T: DeserializeOwned>(s: &str) -> Result<T, String> {
    let snake = s.trim().replace('-', "_");
    T::deserialize(snake.as_str().into_deserializer())
        .map_err(|e: serde::de::value::Error| format!("`{s}`: {e}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RateModeArg {
    /// HTTP 429 with Retry-After.
    Http429,
    /// HTTP 200 `sent:false` with Meta error 130429.
    Meta130429,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// A scenario file (TOML): templates, rules, limits, faults, answer
    /// shapes. Flags below override its fields.
    #[arg(long, conflicts_with = "profile")]
    pub scenario: Option<PathBuf>,
    /// A preset scenario: `default`, or `hostile` (every variant of the real
    /// API at once; the same as fixtures/scenarios/hostile.toml).
    #[arg(long, value_parser = ["default", "hostile"])]
    pub profile: Option<String>,
    /// The channel (instance) id.
    #[arg(long)]
    pub channel: Option<String>,
    /// The channel's API token.
    #[arg(long)]
    pub token: Option<String>,
    /// Seed for every random draw.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Channel rate limit in accepted messages per second (0 = off).
    #[arg(long)]
    pub rate: Option<u32>,
    /// How the channel refuses sends beyond the rate.
    #[arg(long, value_enum)]
    pub rate_mode: Option<RateModeArg>,
    /// Minimum spacing between two messages to one recipient (0 = off).
    #[arg(long, value_parser = duration)]
    pub pair_interval: Option<Duration>,
    /// 429 answers carry no Retry-After.
    #[arg(long)]
    pub omit_retry_after: bool,
    /// sendTemplate response latency, fixed (`50ms`) or a range (`20ms..200ms`).
    #[arg(long, value_parser = span)]
    pub response_latency: Option<Span>,
    /// Acceptance → sent latency.
    #[arg(long, value_parser = span)]
    pub sent_latency: Option<Span>,
    /// Sent → delivered latency.
    #[arg(long, value_parser = span)]
    pub delivered_latency: Option<Span>,
    /// Delivered → read latency.
    #[arg(long, value_parser = span)]
    pub read_latency: Option<Span>,
    /// Share of delivered messages that are read (0..1).
    #[arg(long, value_parser = probability)]
    pub read_ratio: Option<f64>,
    /// Share of status pushes (webhook acks) never sent (0..1).
    #[arg(long, value_parser = probability)]
    pub webhook_drop: Option<f64>,
    /// Push acks after a random extra delay, so they overtake each other.
    #[arg(long)]
    pub webhook_out_of_order: bool,
    /// Push every ack twice.
    #[arg(long)]
    pub webhook_duplicate: bool,
    #[command(flatten)]
    pub faults: FaultArgs,
    #[command(flatten)]
    pub answers: AnswerArgs,
}

/// sendTemplate's faults: probabilities per request, their sum at most 1.
#[derive(Debug, Args)]
pub struct FaultArgs {
    /// Probability of an HTTP 500 on sendTemplate (nothing accepted).
    #[arg(long, value_parser = probability)]
    pub error_5xx: Option<f64>,
    /// Probability of closing the connection before processing.
    #[arg(long, value_parser = probability)]
    pub drop_before: Option<f64>,
    /// Probability of accepting the message and then closing the connection.
    #[arg(long, value_parser = probability)]
    pub drop_after: Option<f64>,
    /// Probability of answering an accepted send only after --slow-delay.
    #[arg(long, value_parser = probability)]
    pub slow: Option<f64>,
    #[arg(long, value_parser = duration)]
    pub slow_delay: Option<Duration>,
    /// Probability of answering `{"sent":false,"jobId":"job-…"}` and sending later.
    #[arg(long, value_parser = probability)]
    pub queued: Option<f64>,
    /// How much later a queued message is sent.
    #[arg(long, value_parser = duration)]
    pub queued_delay: Option<Duration>,
    /// Probability of `{"sent":false,"jobId":17}` (a numeric jobId), sent later.
    #[arg(long, value_parser = probability)]
    pub queued_numeric_job: Option<f64>,
    /// Probability of accepting and answering `{"sent":true,"message":"Sent to …"}` (no id).
    #[arg(long, value_parser = probability)]
    pub sent_no_id: Option<f64>,
    /// Probability of accepting and answering `{"sent":true,"message":"<wamid>"}`.
    #[arg(long, value_parser = probability)]
    pub id_in_message: Option<f64>,
    /// Probability of accepting and answering `{"id":…,"message":…}` (no `sent`).
    #[arg(long, value_parser = probability)]
    pub no_sent_field: Option<f64>,
    /// Probability of accepting and answering `"sent":"true"` (a string).
    #[arg(long, value_parser = probability)]
    pub sent_as_string: Option<f64>,
    /// Probability of accepting under a numeric id (`"id":1234…`).
    #[arg(long, value_parser = probability)]
    pub numeric_id: Option<f64>,
    /// Probability of a proxy's HTML 502 page (nothing accepted).
    #[arg(long = "html-502", value_parser = probability)]
    pub html_502: Option<f64>,
    /// Probability of a proxy's HTML 504 page after accepting the message.
    #[arg(long = "html-504", value_parser = probability)]
    pub html_504: Option<f64>,
    /// After this many accepted sends, the token stops working.
    #[arg(long)]
    pub revoke_token_after: Option<u64>,
    /// After this many accepted sends, the channel disconnects.
    #[arg(long)]
    pub disconnect_after: Option<u64>,
}

/// The shapes of the channel's answers and its checks.
#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// What `/status` says; anything but `connected` makes sendTemplate
    /// answer `{"sent":false,"message":"Channel is not connected"}`.
    #[arg(long)]
    pub channel_status: Option<String>,
    /// sendTemplate without the template's namespace is a 422.
    #[arg(long)]
    pub require_namespace: bool,
    /// A wrong variable count: `meta` (200, 132000) or `http422`.
    #[arg(long, value_parser = word::<CountMismatch>)]
    pub count_mismatch_as: Option<CountMismatch>,
    /// The routes that take the token in `Authorization` (comma-separated,
    /// e.g. sendTemplate,templates); the others want `?token=`.
    #[arg(long, value_delimiter = ',')]
    pub header_routes: Option<Vec<String>>,
    /// Whether `GET messages` has history.
    #[arg(long, value_enum)]
    pub history: Option<OnOff>,
    /// Our template's `body` in history: rendered, template_name, empty.
    #[arg(long, value_parser = word::<HistoryBody>)]
    pub history_body: Option<HistoryBody>,
    /// A message shows in history only this long after acceptance.
    #[arg(long, value_parser = duration)]
    pub history_lag: Option<Duration>,
    /// At most this many history messages per answer, even for limit=0.
    #[arg(long)]
    pub history_page_cap: Option<u64>,
    /// History ignores min_time and max_time.
    #[arg(long)]
    pub history_ignore_time_filter: bool,
    /// The history list under `messages` or `data`.
    #[arg(long, value_parser = word::<HistoryWrapper>)]
    pub history_wrapper: Option<HistoryWrapper>,
    /// History's fromMe and isForwarded as 0/1.
    #[arg(long)]
    pub history_numeric_flags: bool,
    /// History's `time` as a string.
    #[arg(long)]
    pub history_time_as_string: bool,
    /// This many other messages in each partner's chat.
    #[arg(long)]
    pub history_others_in_chat: Option<u32>,
    /// hookInfo's shape: meta, normalized_ack, raw_envelope, loose_types.
    #[arg(long, value_parser = word::<HookShape>)]
    pub hooks_shape: Option<HookShape>,
    /// The word for read: read, viewed, played.
    #[arg(long, value_parser = word::<ReadWord>)]
    pub read_as: Option<ReadWord>,
    /// The word for failed: failed, undelivered.
    #[arg(long, value_parser = word::<FailedWord>)]
    pub failed_as: Option<FailedWord>,
    /// Every read message is then deleted.
    #[arg(long)]
    pub deleted_after_read: bool,
    /// hookInfo answers 404 "could not find that method" for every id.
    #[arg(long)]
    pub hooks_not_found: bool,
    /// `GET templates` answers statuses in upper case (APPROVED).
    #[arg(long)]
    pub upper_case_status: bool,
    /// `GET templates` ignores `offset`, as the real list sometimes does.
    #[arg(long)]
    pub ignore_offset: bool,
    /// `GET templates` as an object or a bare_array.
    #[arg(long, value_parser = word::<ListShape>)]
    pub templates_shape: Option<ListShape>,
    /// `GET templates` gives `total` as a string.
    #[arg(long)]
    pub templates_total_as_string: bool,
    /// `GET templates` answers no templates and an `error` object.
    #[arg(long)]
    pub templates_error_object: bool,
    /// The first N `GET templates` fail with --templates-fail-status.
    #[arg(long)]
    pub templates_fail_first: Option<u64>,
    /// 429, 500, 502, 503 (default) or 504.
    #[arg(long)]
    pub templates_fail_status: Option<u16>,
}
