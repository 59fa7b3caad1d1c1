//! The templates a channel owns and the rules that decide, per recipient,
//! what happens to a send: its fault, its refusal, its life of statuses.

use serde::{Deserialize, Serialize};

use super::channel::Fault;
use super::{DEFAULT_BODY, DEFAULT_NAMESPACE, DEFAULT_TEMPLATE};

/// One template the channel owns.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemplateSpec {
    pub name: String,
    pub language: String,
    /// approved, pending, rejected, paused, disabled.
    pub status: String,
    /// `UTILITY`, `MARKETING`, `AUTHENTICATION`, as Meta categorises it.
    pub category: String,
    /// Meta's quality rating: `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    pub quality: String,
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
            quality: "GREEN".into(),
            namespace: DEFAULT_NAMESPACE.into(),
            body: DEFAULT_BODY.into(),
            button: "Handoff details".into(),
            button_url: "https://partners.example.com/handoff".into(),
        }
    }
}

impl TemplateSpec {
    /// The body with `{{n}}` replaced by the n-th parameter: the text the
    /// partner reads.
    pub fn render(&self, params: &[String]) -> String {
        let mut out = self.body.clone();
        for (i, p) in params.iter().enumerate() {
            out = out.replace(&format!("{{{{{}}}}}", i + 1), p);
        }
        out
    }

    /// How many distinct variables (`{{1}}`, `{{2}}`, …) the body has: the
    /// parameter count a send must bring.
    pub fn variables(&self) -> usize {
        let mut seen = std::collections::BTreeSet::new();
        let mut rest = self.body.as_str();
        while let Some(start) = rest.find("{{") {
            rest = &rest[start + 2..];
            let Some(end) = rest.find("}}") else { break };
            let inner = rest[..end].trim();
            if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit()) {
                seen.insert(inner);
            }
            rest = &rest[end + 2..];
        }
        seen.len()
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
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
    /// sent → delivered → `viewed` (the old spec's word for read).
    Viewed,
    /// sent → delivered → `played`.
    Played,
    /// sent → `undelivered` with `error`.
    Undelivered,
    /// sent → delivered → read → `deleted`.
    Deleted,
    /// sent → failed (with `error`) → read: the failure was wrong, the
    /// partner read it.
    FailedThenRead,
    /// sent → read → failed (with `error`): a late, incoherent failure.
    ReadThenFailed,
}

impl Outcome {
    /// The scenario's name for it (`failed_then_read`).
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Read => "read",
            Outcome::Delivered => "delivered",
            Outcome::Sent => "sent",
            Outcome::Failed => "failed",
            Outcome::Silent => "silent",
            Outcome::Viewed => "viewed",
            Outcome::Played => "played",
            Outcome::Undelivered => "undelivered",
            Outcome::Deleted => "deleted",
            Outcome::FailedThenRead => "failed_then_read",
            Outcome::ReadThenFailed => "read_then_failed",
        }
    }
}

/// Matches recipients and decides what happens to their messages.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
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
