//! The simulator on the command line (`handoff simulate`): its flags, one
//! per scenario field worth turning from the command line, each overriding
//! the scenario file (or profile), and the foreground server they start.
//! Words (`template_name`, `loose_types`) are the scenario file's, read by
//! the scenario's own types so the two cannot drift; `-` may stand for `_`.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::de::{DeserializeOwned, IntoDeserializer};

use crate::Scenario;
use crate::duration::Span;
use crate::scenario::{
    CountMismatch, FailedWord, HistoryBody, HistoryWrapper, HookShape, ListShape, RateMode,
    ReadWord, StatusCase,
};

fn duration(s: &str) -> Result<Duration, String> {
    crate::duration::parse(s)
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

/// The flags `handoff simulate -h` shows; `--help` shows every flag.
const SHORT_HELP: [&str; 6] = ["listen", "scenario", "profile", "seed", "rate", "error_5xx"];

/// Headings of `handoff simulate --help`.
const CHANNEL: &str = "Channel";
const LIMITS: &str = "Limits";
const LATENCY: &str = "Latency";
const WEBHOOKS: &str = "Webhooks";

#[derive(Debug, Args)]
#[command(mut_args(|a| {
    let shown = SHORT_HELP.contains(&a.get_id().as_str());
    a.hide_short_help(!shown)
}))]
pub struct SimulateArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    #[arg(help_heading = CHANNEL)]
    pub listen: SocketAddr,
    /// A scenario file (TOML); the flags override its fields.
    ///
    /// Templates, rules, limits, faults, answer shapes: the flags below
    /// override its fields.
    #[arg(long, conflicts_with = "profile", value_name = "FILE", help_heading = CHANNEL)]
    pub scenario: Option<PathBuf>,
    /// A preset scenario: default, or hostile.
    ///
    /// `hostile` plays every variant of the real API at once (the same as
    /// sim/scenarios/hostile.toml).
    #[arg(long, value_parser = ["default", "hostile"], help_heading = CHANNEL)]
    #[arg(value_name = "NAME", hide_possible_values = true)]
    pub profile: Option<String>,
    /// The channel (instance) id.
    #[arg(long, value_name = "ID", help_heading = CHANNEL)]
    pub channel: Option<String>,
    /// The channel's API token.
    #[arg(long, help_heading = CHANNEL)]
    pub token: Option<String>,
    /// Seed for every random draw.
    #[arg(long, value_name = "N", help_heading = CHANNEL)]
    pub seed: Option<u64>,
    /// Channel rate limit in accepted messages per second (0 = off).
    #[arg(long, value_name = "N", help_heading = LIMITS)]
    pub rate: Option<u32>,
    /// How the channel refuses sends beyond the rate.
    #[arg(long, value_enum, value_name = "MODE", help_heading = LIMITS)]
    pub rate_mode: Option<RateModeArg>,
    /// Minimum spacing between two messages to one recipient (0 = off).
    #[arg(long, value_parser = duration, value_name = "DURATION", help_heading = LIMITS)]
    pub pair_interval: Option<Duration>,
    /// 429 answers carry no Retry-After.
    #[arg(long, help_heading = LIMITS)]
    pub omit_retry_after: bool,
    /// sendTemplate response latency, fixed (`50ms`) or a range (`20ms..200ms`).
    #[arg(long, value_parser = span, value_name = "SPAN", help_heading = LATENCY)]
    pub response_latency: Option<Span>,
    /// Acceptance → sent latency.
    #[arg(long, value_parser = span, value_name = "SPAN", help_heading = LATENCY)]
    pub sent_latency: Option<Span>,
    /// Sent → delivered latency.
    #[arg(long, value_parser = span, value_name = "SPAN", help_heading = LATENCY)]
    pub delivered_latency: Option<Span>,
    /// Delivered → read latency.
    #[arg(long, value_parser = span, value_name = "SPAN", help_heading = LATENCY)]
    pub read_latency: Option<Span>,
    /// Share of delivered messages that are read (0..1).
    #[arg(long, value_parser = probability, value_name = "P", help_heading = LATENCY)]
    pub read_ratio: Option<f64>,
    /// Share of status pushes (webhook acks) never sent (0..1).
    #[arg(long, value_parser = probability, value_name = "P", help_heading = WEBHOOKS)]
    pub webhook_drop: Option<f64>,
    /// Push acks after a random extra delay, so they overtake each other.
    #[arg(long, help_heading = WEBHOOKS)]
    pub webhook_out_of_order: bool,
    /// Push every ack twice.
    #[arg(long, help_heading = WEBHOOKS)]
    pub webhook_duplicate: bool,
    #[command(flatten)]
    pub faults: FaultArgs,
    #[command(flatten)]
    pub answers: AnswerArgs,
}

/// sendTemplate's faults: probabilities per request, their sum at most 1.
#[derive(Debug, Args)]
#[command(next_help_heading = "Faults (probabilities per sendTemplate, their sum at most 1)")]
pub struct FaultArgs {
    /// Probability of an HTTP 500 on sendTemplate (nothing accepted).
    #[arg(long, value_parser = probability, value_name = "P")]
    pub error_5xx: Option<f64>,
    /// Probability of closing the connection before processing.
    #[arg(long, value_parser = probability, value_name = "P")]
    pub drop_before: Option<f64>,
    /// Probability of accepting the message and then closing the connection.
    #[arg(long, value_parser = probability, value_name = "P")]
    pub drop_after: Option<f64>,
    /// Probability of answering an accepted send only after --slow-delay.
    #[arg(long, value_parser = probability, value_name = "P")]
    pub slow: Option<f64>,
    /// How long a --slow answer is held back (60s unless the scenario says otherwise).
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub slow_delay: Option<Duration>,
    /// Probability of answering `{"sent":false,"jobId":"job-…"}` and sending later.
    #[arg(long, value_parser = probability, value_name = "P")]
    pub queued: Option<f64>,
    /// How much later a queued message is sent.
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub queued_delay: Option<Duration>,
    /// Probability of `{"sent":false,"jobId":17}` (a numeric jobId), sent later.
    #[arg(long, value_parser = probability, value_name = "P")]
    pub queued_numeric_job: Option<f64>,
    /// Probability of accepting and answering `{"sent":true,"message":"Sent to …"}` (no id).
    #[arg(long, value_parser = probability, value_name = "P")]
    pub sent_no_id: Option<f64>,
    /// Probability of accepting and answering `{"sent":true,"message":"<wamid>"}`.
    #[arg(long, value_parser = probability, value_name = "P")]
    pub id_in_message: Option<f64>,
    /// Probability of accepting and answering `{"id":…,"message":…}` (no `sent`).
    #[arg(long, value_parser = probability, value_name = "P")]
    pub no_sent_field: Option<f64>,
    /// Probability of accepting and answering `"sent":"true"` (a string).
    #[arg(long, value_parser = probability, value_name = "P")]
    pub sent_as_string: Option<f64>,
    /// Probability of accepting under a numeric id (`"id":1234…`).
    #[arg(long, value_parser = probability, value_name = "P")]
    pub numeric_id: Option<f64>,
    /// Probability of a proxy's HTML 502 page (nothing accepted).
    #[arg(long = "html-502", value_parser = probability, value_name = "P")]
    pub html_502: Option<f64>,
    /// Probability of a proxy's HTML 504 page after accepting the message.
    #[arg(long = "html-504", value_parser = probability, value_name = "P")]
    pub html_504: Option<f64>,
    /// Probability of accepting and answering in the Cloud API's own shape
    /// (`messages[].id`, `message_status: accepted`, no `sent`).
    #[arg(long, value_parser = probability, value_name = "P")]
    pub cloud_shape: Option<f64>,
    /// Probability of accepting and holding the message for Meta's quality
    /// check (`message_status: held_for_quality_assessment`).
    #[arg(long, value_parser = probability, value_name = "P")]
    pub held_for_quality: Option<f64>,
    /// How long a held message waits before its first status.
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub held_delay: Option<Duration>,
    /// Probability of a 200 `{"sent":false,"message":"Too many requests. …"}` (nothing accepted).
    #[arg(long = "overload-200", value_parser = probability, value_name = "P")]
    pub overload_200: Option<f64>,
    /// Probability of an HTTP 503 page (nothing accepted).
    #[arg(long = "error-503", value_parser = probability, value_name = "P")]
    pub error_503: Option<f64>,
    /// After this many accepted sends, the token stops working.
    #[arg(long)]
    pub revoke_token_after: Option<u64>,
    /// After this many accepted sends, the channel disconnects.
    #[arg(long)]
    pub disconnect_after: Option<u64>,
    /// After this many accepted sends, Meta pauses the templates for low
    /// quality (sends refused with 132015).
    #[arg(long)]
    pub pause_template_after: Option<u64>,
    /// After this many accepted sends, Meta re-categorises the templates
    /// as MARKETING.
    #[arg(long)]
    pub recategorize_after: Option<u64>,
}

/// The shapes of the channel's answers and its checks.
#[derive(Debug, Args)]
#[command(next_help_heading = "Answers")]
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
    #[arg(long, value_parser = duration, value_name = "DURATION")]
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
    /// The templates' quality rating in the list: GREEN (default), YELLOW,
    /// RED or UNKNOWN.
    #[arg(long)]
    pub template_quality: Option<String>,
    /// The templates' category in the list: UTILITY (default), MARKETING
    /// or AUTHENTICATION.
    #[arg(long)]
    pub template_category: Option<String>,
    /// The statuses' `pricing.type`: regular (default, billable),
    /// free_customer_service, free_entry_point, or none (no `pricing`).
    #[arg(long)]
    pub pricing: Option<String>,
    /// A phone `GET blockedUsers` lists (repeat for more).
    #[arg(long = "blocked-user")]
    pub blocked_users: Vec<String>,
}

/// Sets `$field` from an `Option` flag when the flag was given.
macro_rules! set {
    ($flag:expr => $field:expr) => {
        if let Some(v) = $flag.clone() {
            $field = v;
        }
    };
}

/// Turns `$field` on when a switch flag was given.
macro_rules! on {
    ($flag:expr => $field:expr) => {
        if $flag {
            $field = true;
        }
    };
}

/// The scenario file, the profile or the default, with the flags applied on
/// top, checked as a file would be.
fn scenario_from(args: &SimulateArgs) -> Result<Scenario, String> {
    let mut s = match (&args.scenario, &args.profile) {
        (Some(path), _) => Scenario::load(path)?,
        (None, Some(name)) => Scenario::profile(name)?,
        (None, None) => Scenario::default(),
    };
    set!(args.channel => s.instance_id);
    set!(args.token => s.token);
    set!(args.seed => s.seed);
    set!(args.rate => s.limits.rate);
    set!(args.pair_interval => s.limits.pair_interval);
    on!(args.omit_retry_after => s.limits.omit_retry_after);
    set!(args.response_latency => s.latency.response);
    set!(args.sent_latency => s.latency.sent);
    set!(args.delivered_latency => s.latency.delivered);
    set!(args.read_latency => s.latency.read);
    set!(args.read_ratio => s.latency.read_ratio);
    set!(args.webhook_drop => s.webhooks.drop);
    on!(args.webhook_out_of_order => s.webhooks.out_of_order);
    on!(args.webhook_duplicate => s.webhooks.duplicate);
    if let Some(mode) = args.rate_mode {
        s.limits.rate_mode = match mode {
            RateModeArg::Http429 => RateMode::Http429,
            RateModeArg::Meta130429 => RateMode::Meta130429,
        };
    }
    apply_faults(&args.faults, &mut s);
    apply_answers(&args.answers, &mut s);
    s.check()?;
    Ok(s)
}

fn apply_faults(f: &FaultArgs, s: &mut Scenario) {
    let faults = &mut s.faults;
    set!(f.error_5xx => faults.error_5xx);
    set!(f.drop_before => faults.drop_before);
    set!(f.drop_after => faults.drop_after);
    set!(f.slow => faults.slow);
    set!(f.slow_delay => faults.slow_delay);
    set!(f.queued => faults.queued);
    set!(f.queued_delay => faults.queued_delay);
    set!(f.queued_numeric_job => faults.queued_numeric_job);
    set!(f.sent_no_id => faults.sent_no_id);
    set!(f.id_in_message => faults.id_in_message);
    set!(f.no_sent_field => faults.no_sent_field);
    set!(f.sent_as_string => faults.sent_as_string);
    set!(f.numeric_id => faults.numeric_id);
    set!(f.html_502 => faults.html_502);
    set!(f.html_504 => faults.html_504);
    set!(f.cloud_shape => faults.cloud_shape);
    set!(f.held_for_quality => faults.held_for_quality);
    set!(f.held_delay => faults.held_delay);
    set!(f.overload_200 => faults.overload_200);
    set!(f.error_503 => faults.error_503);
    if f.revoke_token_after.is_some() {
        faults.revoke_token_after = f.revoke_token_after;
    }
    if f.disconnect_after.is_some() {
        faults.disconnect_after = f.disconnect_after;
    }
    if f.pause_template_after.is_some() {
        faults.pause_template_after = f.pause_template_after;
    }
    if f.recategorize_after.is_some() {
        faults.recategorize_after = f.recategorize_after;
    }
}

fn apply_answers(a: &AnswerArgs, s: &mut Scenario) {
    set!(a.channel_status => s.channel_status);
    on!(a.require_namespace => s.require_namespace);
    set!(a.count_mismatch_as => s.count_mismatch_as);
    if a.header_routes.is_some() {
        s.auth.header_routes.clone_from(&a.header_routes);
    }
    let h = &mut s.history;
    if let Some(on) = a.history {
        h.enabled = on == OnOff::On;
    }
    set!(a.history_body => h.body);
    set!(a.history_lag => h.lag);
    set!(a.history_page_cap => h.page_cap);
    on!(a.history_ignore_time_filter => h.ignore_time_filter);
    set!(a.history_wrapper => h.wrapper);
    on!(a.history_numeric_flags => h.numeric_flags);
    on!(a.history_time_as_string => h.time_as_string);
    set!(a.history_others_in_chat => h.others_in_chat);
    let hooks = &mut s.hooks;
    set!(a.hooks_shape => hooks.shape);
    set!(a.read_as => hooks.read_as);
    set!(a.failed_as => hooks.failed_as);
    on!(a.deleted_after_read => hooks.deleted_after_read);
    on!(a.hooks_not_found => hooks.not_found_for_all);
    let list = &mut s.templates_list;
    if a.upper_case_status {
        list.status_case = StatusCase::Upper;
    }
    on!(a.ignore_offset => list.ignore_offset);
    set!(a.templates_shape => list.shape);
    on!(a.templates_total_as_string => list.total_as_string);
    on!(a.templates_error_object => list.error_object);
    set!(a.templates_fail_first => list.fail_first);
    set!(a.templates_fail_status => list.fail_status);
    set!(a.pricing => s.hooks.pricing);
    s.blocked_users.extend(a.blocked_users.iter().cloned());
    if a.template_quality.is_some() || a.template_category.is_some() {
        s.templates = s.template_list();
        for t in &mut s.templates {
            set!(a.template_quality => t.quality);
            set!(a.template_category => t.category);
        }
    }
}

/// `handoff simulate`: the scenario the flags describe, served on
/// `--listen` until `shutdown` resolves, after a banner on stdout that says
/// where and what (tests and benchmarks read its `base URL:` line). The
/// error is the sentence to show.
pub async fn run(
    args: SimulateArgs,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), String> {
    let scenario = scenario_from(&args)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("failed to listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("1MSG simulator listening");
    println!("  base URL:  http://{addr}");
    println!("  instance:  {}", scenario.instance_id);
    println!("  token:     {}", scenario.token);
    for t in scenario.template_list() {
        println!(
            "  template:  {} (language {}, namespace {}, status {})",
            t.name, t.language, t.namespace, t.status
        );
    }
    println!(
        "  limits:    {} msg/s, one message per {} to a recipient",
        scenario.limits.rate,
        crate::duration::format(scenario.limits.pair_interval)
    );
    if let Some(profile) = &args.profile {
        println!("  profile:   {profile}");
    }
    println!("  introspection: http://{addr}/__sim/messages  http://{addr}/__sim/stats");
    println!("Press Ctrl-C to stop.");
    crate::serve(listener, scenario, shutdown)
        .await
        .map_err(|e| e.to_string())?;
    eprintln!("simulator stopped");
    Ok(())
}
