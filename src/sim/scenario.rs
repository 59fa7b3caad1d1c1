//! What a simulated channel looks like and how it misbehaves: identity,
//! templates, limits, latencies, faults and per-recipient outcome rules.
//!
//! A scenario is a TOML file (`handoff simulate --scenario FILE`); every field
//! has a default, so an empty file is the default channel that
//! `handoff run --simulate` talks to. Flags override single fields on top.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::duration::{Span, serde_text};

/// The body text of the seed's template; the simulator's default template and
/// the message our users' partners read.
pub const DEFAULT_BODY: &str = "Hello, {{1}}! Order #{{2}} for \"{{3}}\" has been delivered to your partner pickup point. {{4}}.";
pub const DEFAULT_TEMPLATE: &str = "partner_delivery_confirmation";
pub const DEFAULT_NAMESPACE: &str = "c4f1d2a0_5e7b_4a39_9d61_0a8e3b7c2f15";
pub const DEFAULT_INSTANCE: &str = "SIM0001";
pub const DEFAULT_TOKEN: &str = "sim-token";

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Seeds every random draw (faults, latencies, outcome probabilities), so
    /// a run against the same scenario and the same requests replays exactly.
    pub seed: u64,
    pub instance_id: String,
    pub token: String,
    /// `GET status` answers this (`connected`, `disconnected`, …).
    pub channel_status: String,
    pub limits: Limits,
    pub latency: Latency,
    pub faults: Faults,
    pub templates_list: TemplatesList,
    pub history: History,
    pub webhooks: Webhooks,
    /// Replaces the default template list when non-empty.
    #[serde(rename = "template")]
    pub templates: Vec<TemplateSpec>,
    /// Evaluated in order; the first rule that matches a recipient decides.
    #[serde(rename = "rule")]
    pub rules: Vec<Rule>,
    /// When false, the built-in test-number rules (see [`builtin_rules`]) are
    /// not appended after the scenario's own rules.
    pub builtin_rules: bool,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            seed: 1,
            instance_id: DEFAULT_INSTANCE.into(),
            token: DEFAULT_TOKEN.into(),
            channel_status: "connected".into(),
            limits: Limits::default(),
            latency: Latency::default(),
            faults: Faults::default(),
            templates_list: TemplatesList::default(),
            history: History::default(),
            webhooks: Webhooks::default(),
            templates: Vec::new(),
            rules: Vec::new(),
            builtin_rules: true,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RateMode {
    /// HTTP 429 `{"error":…}` with `Retry-After` (1MSG's gateway).
    Http429,
    /// HTTP 200 `sent:false` with Meta's 130429 (Meta's throughput limit).
    Meta130429,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Accepted sends per second for the channel (Meta's default is 80); 0
    /// turns enforcement off (the stats still count).
    pub rate: u32,
    pub rate_mode: RateMode,
    /// The `Retry-After` a 429 carries, in whole seconds on the wire.
    #[serde(with = "serde_text")]
    pub retry_after: Duration,
    /// Minimum spacing between two sends to one recipient (Meta's pair rate,
    /// about one per 6 s); 0 turns it off.
    #[serde(with = "serde_text")]
    pub pair_interval: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate: 80,
            rate_mode: RateMode::Http429,
            retry_after: Duration::from_secs(1),
            pair_interval: Duration::from_secs(6),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Latency {
    /// Time to answer a sendTemplate request.
    pub response: Span,
    /// Acceptance → `sent`.
    pub sent: Span,
    /// `sent` → `delivered`.
    pub delivered: Span,
    /// `delivered` → `read`.
    pub read: Span,
    /// `sent` → `failed`, for recipients whose rule says failed.
    pub failed: Span,
    /// Share of delivered messages that are also read (0..=1).
    pub read_ratio: f64,
}

impl Default for Latency {
    fn default() -> Self {
        let ms = Duration::from_millis;
        Latency {
            response: Span::ZERO,
            sent: Span {
                min: ms(20),
                max: ms(100),
            },
            delivered: Span {
                min: ms(100),
                max: ms(600),
            },
            read: Span {
                min: ms(200),
                max: ms(1500),
            },
            failed: Span {
                min: ms(100),
                max: ms(600),
            },
            read_ratio: 0.7,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Probability that a sendTemplate answers 500 without processing.
    pub error_5xx: f64,
    /// Probability that the connection is closed before the request is
    /// processed: nothing is accepted.
    pub drop_before: f64,
    /// Probability that the request is processed (the message *is* accepted)
    /// and then the connection is closed: the client never hears.
    pub drop_after: f64,
    /// Probability that an accepted send answers only after `slow_delay`.
    pub slow: f64,
    #[serde(with = "serde_text")]
    pub slow_delay: Duration,
    /// Probability of `{"sent":false,"jobId":…}`; the message is sent after
    /// `queued_delay` without the client learning its wamid.
    pub queued: f64,
    #[serde(with = "serde_text")]
    pub queued_delay: Duration,
    /// After this many accepted sends, the token stops working (401), as
    /// when someone rotates it mid-run.
    pub revoke_token_after: Option<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            error_5xx: 0.0,
            drop_before: 0.0,
            drop_after: 0.0,
            slow: 0.0,
            slow_delay: Duration::from_secs(60),
            queued: 0.0,
            queued_delay: Duration::from_secs(2),
            revoke_token_after: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StatusCase {
    Lower,
    Upper,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownMessage {
    /// `200 {"hooks":[]}`.
    Empty,
    /// `404 {"error":…}`.
    NotFound,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemplatesList {
    /// `approved` (as the old spec and one production user see it) or
    /// `APPROVED` (as Meta writes it).
    pub status_case: StatusCase,
    /// Answer every page as if offset were 0, as the real list sometimes does.
    pub ignore_offset: bool,
    /// What `hookInfo` answers for a message id it never issued.
    pub unknown_message: UnknownMessage,
}

impl Default for TemplatesList {
    fn default() -> Self {
        TemplatesList {
            status_case: StatusCase::Lower,
            ignore_offset: false,
            unknown_message: UnknownMessage::Empty,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct History {
    /// When false, `GET messages` answers a `notice` and no messages.
    pub enabled: bool,
}

impl Default for History {
    fn default() -> Self {
        History { enabled: true }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Webhooks {
    /// Deliver each ack after a random extra delay, so acks can overtake
    /// each other.
    pub out_of_order: bool,
    /// Deliver every ack twice.
    pub duplicate: bool,
}

/// One template the channel owns.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemplateSpec {
    pub name: String,
    pub language: String,
    /// approved, pending, rejected, paused, disabled.
    pub status: String,
    pub category: String,
    pub namespace: String,
    pub body: String,
    /// A static URL button label; none when empty.
    pub button: String,
    pub button_url: String,
}

impl Default for TemplateSpec {
    fn default() -> Self {
        TemplateSpec {
            name: DEFAULT_TEMPLATE.into(),
            language: "en".into(),
            status: "approved".into(),
            category: "UTILITY".into(),
            namespace: DEFAULT_NAMESPACE.into(),
            body: DEFAULT_BODY.into(),
            button: "Handoff details".into(),
            button_url: "https://partners.example.com/handoff".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// sent → delivered → read (read only with `read_ratio`, unless forced).
    Read,
    /// sent → delivered, never read.
    Delivered,
    /// sent, then nothing: never delivered.
    Sent,
    /// sent → failed with `error`.
    Failed,
    /// No status hook at all.
    Silent,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    #[serde(rename = "5xx")]
    Error5xx,
    DropBefore,
    DropAfter,
    Slow,
    Queued,
    /// HTTP 429 regardless of the rate.
    TooManyRequests,
}

/// Matches recipients and decides what happens to their messages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rule {
    /// Exact phone numbers (digits).
    pub phones: Vec<String>,
    pub phone_prefix: Option<String>,
    pub phone_suffix: Option<String>,
    /// The asynchronous outcome of accepted messages.
    pub outcome: Option<Outcome>,
    /// Meta error code for `failed` (131026, 131050, 130472, 131049, …).
    pub error: Option<i64>,
    /// Refuse the send synchronously with this Meta code (`sent:false`).
    pub reject: Option<i64>,
    /// Inject this fault into the send.
    pub fault: Option<Fault>,
    /// Apply the rule to at most this many sends (then it stops matching),
    /// e.g. "the first send to this number gets a 5xx".
    pub times: Option<u64>,
    /// Chance (0..=1, under the seed) that a matching send takes the rule.
    pub probability: Option<f64>,
}

impl Rule {
    /// True when every phone condition the rule sets holds; a rule with no
    /// phone condition matches every recipient.
    pub fn matches_phone(&self, phone: &str) -> bool {
        (self.phones.is_empty() || self.phones.iter().any(|p| p == phone))
            && self
                .phone_prefix
                .as_ref()
                .is_none_or(|p| phone.starts_with(p.as_str()))
            && self
                .phone_suffix
                .as_ref()
                .is_none_or(|s| phone.ends_with(s.as_str()))
    }
}

/// Test numbers every simulated channel knows, in the fictional US 555-01xx
/// range, so a sample file can show each kind of failure without a scenario:
/// `1555010xxxx` not on WhatsApp (131026), `1555020xxxx` opted out (131050),
/// `1555030xxxx` in a Meta experiment (130472), `1555040xxxx` never delivered.
pub fn builtin_rules() -> Vec<Rule> {
    let failed = |prefix: &str, code: i64| Rule {
        phone_prefix: Some(prefix.into()),
        outcome: Some(Outcome::Failed),
        error: Some(code),
        ..Rule::default()
    };
    vec![
        failed("1555010", 131026),
        failed("1555020", 131050),
        failed("1555030", 130472),
        Rule {
            phone_prefix: Some("1555040".into()),
            outcome: Some(Outcome::Sent),
            ..Rule::default()
        },
    ]
}

/// Meta's title for an error code, as failed hooks and `sent:false` carry it.
pub fn meta_error_title(code: i64) -> &'static str {
    match code {
        130429 => "Rate limit hit",
        130472 => "User's number is part of an experiment",
        131000 => "Something went wrong",
        131026 => "Message undeliverable",
        131047 => "Re-engagement message",
        131048 => "Spam rate limit hit",
        131049 => "This message was not delivered to maintain healthy ecosystem engagement",
        131050 => "User has stopped marketing messages",
        131056 => "(Business Account, Consumer Account) pair rate limit hit",
        132000 => "Number of parameters does not match the expected number of params",
        132001 => "Template name does not exist in the translation",
        132005 => "Translated text too long",
        132007 => "Format character policy violated",
        132012 => "Parameter format does not match format in the created template",
        132015 => "Template is paused due to low quality",
        132016 => "Template is disabled due to low quality",
        132018 => "There was an issue with the parameters in your template",
        _ => "Unknown error",
    }
}

impl Scenario {
    pub fn load(path: &Path) -> Result<Scenario, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("failed to read scenario `{}`: {e}", path.display()))?;
        Scenario::from_toml(&text)
            .map_err(|e| format!("failed to parse scenario `{}`: {e}", path.display()))
    }

    pub fn from_toml(text: &str) -> Result<Scenario, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The templates the channel owns: the scenario's, or the default one.
    pub fn template_list(&self) -> Vec<TemplateSpec> {
        if self.templates.is_empty() {
            vec![TemplateSpec::default()]
        } else {
            self.templates.clone()
        }
    }

    /// The scenario's rules followed by the built-in test numbers.
    pub fn all_rules(&self) -> Vec<Rule> {
        let mut rules = self.rules.clone();
        if self.builtin_rules {
            rules.extend(builtin_rules());
        }
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_default_channel() {
        let s = Scenario::from_toml("").unwrap();
        assert_eq!(s.instance_id, "SIM0001");
        assert_eq!(s.token, "sim-token");
        assert_eq!(s.limits.rate, 80);
        assert_eq!(s.limits.pair_interval, Duration::from_secs(6));
        assert_eq!(s.template_list()[0].name, DEFAULT_TEMPLATE);
    }

    #[test]
    fn parses_a_full_scenario() {
        let s = Scenario::from_toml(
            r#"
            seed = 7
            [limits]
            rate = 10
            rate_mode = "meta130429"
            pair_interval = "500ms"
            [latency]
            response = "5ms..10ms"
            read_ratio = 1.0
            [faults]
            drop_after = 0.1
            revoke_token_after = 3
            [templates_list]
            status_case = "upper"
            ignore_offset = true
            [[template]]
            name = "paused_one"
            status = "paused"
            [[rule]]
            phones = ["491511111111"]
            outcome = "failed"
            error = 131050
            [[rule]]
            phone_prefix = "44"
            fault = "5xx"
            times = 1
            "#,
        )
        .unwrap();
        assert_eq!(s.limits.rate_mode, RateMode::Meta130429);
        assert_eq!(s.latency.response.max, Duration::from_millis(10));
        assert_eq!(s.faults.revoke_token_after, Some(3));
        assert_eq!(s.templates[0].body, DEFAULT_BODY);
        assert_eq!(s.rules[1].fault, Some(Fault::Error5xx));
        assert!(s.rules[0].matches_phone("491511111111"));
        assert!(!s.rules[0].matches_phone("491511111112"));
        assert!(s.rules[1].matches_phone("447700900123"));
        assert_eq!(s.all_rules().len(), 2 + builtin_rules().len());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = Scenario::from_toml("[limits]\nrte = 3").unwrap_err();
        assert!(err.contains("rte"), "{err}");
    }
}
