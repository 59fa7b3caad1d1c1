//! The classification of every `sendTemplate` answer into one decision,
//! and the types that carry it, apart from the HTTP side so the table can
//! be read and tested on its own.
//!
//! The classification is the heart of "nothing sent twice": 1MSG has no
//! idempotency key, so a send is retried only when the request provably did
//! not reach the API or was refused for pace; anything that *may* have been
//! accepted is `Ambiguous` and never resent automatically
//! (docs/sending.md, "Nothing twice"). There is deliberately no retry
//! middleware on the client.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::detail::{error_text, message_of, shorten};
use super::loose;

/// The `message_status` of a send answer that Meta holds for a quality
/// check, kept as the message's first status until a later one replaces it.
pub const HELD: &str = "held_for_quality_assessment";

/// Why the whole run must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fatal {
    /// 401/403: the token or the channel is wrong (exit 77).
    Credentials,
    /// The template, its language or its parameters do not fit (exit 78).
    Configuration,
    /// The API is down: a run of 5xx or timeouts (exit 69).
    Unavailable,
}

/// Why a send may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryKind {
    /// The connection could not be made: the request never left.
    Connect,
    /// HTTP 429: every sender pauses (for the answer's `Retry-After`).
    TooManyRequests,
    /// Meta 130429: the channel's throughput; slow down globally.
    Throughput,
    /// Meta 131056: this recipient was sent to too soon; re-pace it only.
    PairRate,
    /// Meta 131000: "something went wrong", explicitly not processed.
    Transient,
    /// HTTP 503 (maintenance, a proxy's rate limit, no upstream): the
    /// request was not processed; every sender pauses, as for a 429, and a
    /// run of them is an outage like refused connections.
    Unavailable,
}

/// What a doubtful answer said about whether the API took the send: the
/// one fact settling a doubt decides on, carried as a type from here to the
/// ledger, never read back out of the answer's words. Ordered by the
/// strength of the claim, so that of several doubtful answers to one order
/// the strongest counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Taken {
    /// Nothing: no answer, a 5xx, a timeout, an unreadable body.
    Unsaid,
    /// Named a message id in `id` without a `sent` to read: the API gave
    /// the send an id, so it took it.
    NamedId,
    /// Accepted without telling its id: queued (a job id instead of a
    /// wamid), or `sent:true` without an id. Never resent on a history's
    /// silence: only `--resend-unknown` sends it.
    WithoutId,
}

/// How one `sendTemplate` answer is classified: what the send stage does
/// next and, the same value, what the ledger keeps of the attempt
/// (`attempts.result` and its `kind` and `named_id`), so the two cannot
/// drift apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendClass {
    /// `sent:true` with an id: store the wamid at once.
    Accepted { wamid: String },
    /// Provably not processed; may be sent again (after the answer's
    /// `Retry-After`, if it gave one).
    Retry(RetryKind),
    /// May or may not have been accepted: never resent automatically.
    /// `named_id`: an id the answer named (its `id`, or a `message` that
    /// looks like one), to look for in `hookInfo` and the history.
    Ambiguous {
        taken: Taken,
        named_id: Option<String>,
    },
    /// Refused for this row: `rejected`.
    Rejected,
    /// Refused in a way that will refuse every row: stop the run.
    Fatal(Fatal),
}

impl SendClass {
    /// A doubt whose answer said nothing (a lost connection, a 5xx).
    pub(crate) const UNSAID: SendClass = SendClass::Ambiguous {
        taken: Taken::Unsaid,
        named_id: None,
    };

    /// The word `attempts.result` stores, as `handoff history` shows it.
    pub fn as_str(&self) -> &'static str {
        match self {
            SendClass::Accepted { .. } => "accepted",
            SendClass::Retry(_) => "retry",
            SendClass::Ambiguous { .. } => "ambiguous",
            SendClass::Rejected => "rejected",
            SendClass::Fatal(_) => "fatal",
        }
    }
}

/// One answer with everything the ledger and the report keep of it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SendAnswer {
    pub class: SendClass,
    pub http_status: Option<u16>,
    pub error_code: Option<i64>,
    /// Human text: the API's message, or what went wrong on the wire.
    pub detail: Option<String>,
    /// The answer's `Retry-After`: how long every sender waits before a
    /// retry, when the API said.
    pub retry_after: Option<Duration>,
    /// An acceptance Meta holds for a quality check
    /// (`message_status: held_for_quality_assessment`): the message's first
    /// status, until a later one replaces it.
    pub held: bool,
}

/// A failure of a read-only call (templates, hookInfo, messages).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// 401/403 on `route`. `said` is a 403's own text (`: …`, redacted)
    /// or empty: a 401's text echoes the token and is never kept.
    #[error("the API refused our credentials on {route} (HTTP {status}){said}")]
    Credentials {
        route: &'static str,
        status: u16,
        said: String,
    },
    #[error("the API answered HTTP {status}: {detail}")]
    Status { status: u16, detail: String },
    #[error("failed to reach the API: {0}")]
    Transport(String),
    #[error("the API's answer could not be read: {0}")]
    Body(String),
    /// A 2xx whose body is the API's own error (`{"error": {…}}`).
    #[error("the API answered with an error: {0}")]
    Answered(String),
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// What a status alone says: an error status whatever its body, or a
/// status whose body could not be read.
pub(super) fn classify_status_only(status: StatusCode) -> SendClass {
    match status.as_u16() {
        401 | 403 => SendClass::Fatal(Fatal::Credentials),
        429 => SendClass::Retry(RetryKind::TooManyRequests),
        503 => SendClass::Retry(RetryKind::Unavailable),
        400 | 404 | 422 => SendClass::Rejected,
        // 5xx, a 2xx cut off, anything unexpected: the request reached the
        // API and we cannot know what it did.
        _ => SendClass::UNSAID,
    }
}

/// The Meta error code of a `sent:false` answer: `error.code`,
/// `error.error_code` (a number or a text), or `(#NNN)` in the message.
fn meta_code(v: &Value) -> Option<i64> {
    if let Some(e @ Value::Object(_)) = v.get("error")
        && let Some(code) = loose::first(e, &["code", "error_code"], loose::int)
    {
        return Some(code);
    }
    v.get("message")
        .and_then(Value::as_str)
        .and_then(loose::code_in_text)
}

/// Whether a text looks like a message id rather than a sentence: the
/// vendor's own SDK test puts the id in `message`.
fn looks_like_id(text: &str) -> bool {
    text.starts_with("wamid.")
        || (text.len() >= 20
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_=.+/".contains(c)))
}

/// The longest `message` taken (and shown whole) as a message id.
const ID_IN_MESSAGE_MAX: usize = 120;

/// The parts of a 2xx answer the decision needs, each read leniently
/// (`sent` as a boolean, a text or 0/1; `id` and `jobId` as a text or a
/// number), so an odd type makes a doubt, never an unreadable answer.
struct Fields<'a> {
    /// `sent` when present and not null, as it came.
    sent_raw: Option<&'a Value>,
    sent: Option<bool>,
    id: Option<String>,
    job: Option<String>,
    message: Option<&'a str>,
    /// The Cloud API's own acceptance, as 1MSG may forward it:
    /// `messages[0].id` (its `message_status` `accepted`, or
    /// `held_for_quality_assessment` when Meta holds it for a quality
    /// check: accepted all the same, and tracked).
    cloud_id: Option<String>,
    /// Its `messages[0].message_status`.
    cloud_status: Option<&'a str>,
}

impl<'a> Fields<'a> {
    fn of(v: &'a Value) -> Self {
        let sent_raw = v.get("sent").filter(|s| !s.is_null());
        let cloud = v.get("messages").and_then(|m| m.get(0));
        Fields {
            sent_raw,
            sent: sent_raw.and_then(loose::flag),
            id: loose::field(v, "id", loose::text),
            job: loose::field(v, "jobId", loose::text),
            message: v
                .get("message")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|m| !m.is_empty()),
            cloud_id: cloud.and_then(|m| loose::field(m, "id", loose::text)),
            cloud_status: cloud
                .and_then(|m| m.get("message_status"))
                .and_then(Value::as_str),
        }
    }

    /// A `message` that looks like a message id, whole: the vendor's SDK
    /// puts the id there. One too long to show whole is not taken.
    fn id_in_message(&self) -> Option<&'a str> {
        self.message
            .filter(|m| looks_like_id(m) && m.chars().count() <= ID_IN_MESSAGE_MAX)
    }

    /// Whether the answer says the send was queued: a job id, or a
    /// `message` that says so.
    fn queued(&self) -> bool {
        self.job.is_some()
            || self
                .message
                .is_some_and(|m| m.to_ascii_lowercase().contains("queued"))
    }

    /// A doubt whose answer said `taken`, with the id it named, if any:
    /// its `id`, else an id in its `message`.
    fn doubt(&self, taken: Taken) -> SendClass {
        SendClass::Ambiguous {
            taken,
            named_id: self
                .id
                .clone()
                .or_else(|| self.id_in_message().map(str::to_string)),
        }
    }

    /// What else the answer said, for a doubt's detail.
    fn also(&self, with_id: bool) -> String {
        let mut out = String::new();
        if with_id && let Some(id) = &self.id {
            out.push_str(&format!("; it named the id `{id}`"));
        }
        if let Some(job) = &self.job {
            out.push_str(&format!("; queued as job {job}"));
        }
        match self.message {
            Some(m) if looks_like_id(m) => out.push_str(&format!(
                "; its `message` is `{}`, which may be the message id",
                shorten(m, ID_IN_MESSAGE_MAX)
            )),
            Some(m) => out.push_str(&format!("; the API said: {}", shorten(m, 200))),
            None => {}
        }
        out
    }
}

/// Classifies a complete answer. Public so the table can be unit-tested.
pub(crate) fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> SendAnswer {
    let code = status.as_u16();
    let answer = |class, error_code, detail: Option<String>| SendAnswer {
        class,
        http_status: Some(code),
        error_code,
        detail,
        retry_after,
        held: false,
    };
    if !status.is_success() {
        // 1MSG's 401 text echoes the token it was given ("Wrong token
        // \"xxx…xxx\""), barely masked: never carry it into a report or log.
        // A 403 is a plain-text refusal of a trial or blocked channel that
        // says what to fix; the client redacts the token from it anyway.
        let detail = match code {
            401 => "the API refused the token for this channel (HTTP 401)".to_string(),
            403 => format!(
                "the API refused this channel (HTTP 403): {}",
                error_text(body)
            ),
            _ => error_text(body),
        };
        return answer(classify_status_only(status), None, Some(detail));
    }
    let v = match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.is_object() => v,
        _ => {
            return answer(
                SendClass::UNSAID,
                None,
                Some(format!(
                    "HTTP {code} with an unreadable body: {}",
                    error_text(body)
                )),
            );
        }
    };
    let f = Fields::of(&v);
    let accepted = |wamid: &String| {
        let wamid = wamid.clone();
        answer(SendClass::Accepted { wamid }, None, None)
    };
    if f.sent != Some(false)
        && let Some(id) = &f.cloud_id
    {
        return SendAnswer {
            held: f.cloud_status == Some(HELD),
            ..accepted(id)
        };
    }
    match f.sent {
        Some(true) => match &f.id {
            Some(id) => accepted(id),
            None => answer(
                f.doubt(Taken::WithoutId),
                None,
                Some(format!(
                    "sent:true: accepted without a message id{}",
                    f.also(false)
                )),
            ),
        },
        None => {
            let head = match f.sent_raw {
                Some(raw) => format!("the answer's `sent` field ({raw}) is neither true nor false"),
                None => "the answer had no `sent` field".to_string(),
            };
            let also = f.also(true);
            let detail = if also.is_empty() {
                format!("{head}: {}", shorten(&v.to_string(), 200))
            } else {
                format!("{head}{also}")
            };
            let taken = if f.queued() {
                Taken::WithoutId
            } else if f.id.is_some() {
                Taken::NamedId
            } else {
                Taken::Unsaid
            };
            answer(f.doubt(taken), None, Some(detail))
        }
        Some(false) => {
            let (class, error_code, detail) = sent_false(&v, &f);
            answer(class, error_code, Some(detail))
        }
    }
}

/// A `sent:false` answer: queued (a doubt), a Meta code (retry, stop or
/// reject), or a plain refusal of this row.
fn sent_false(v: &Value, f: &Fields<'_>) -> (SendClass, Option<i64>, String) {
    if f.queued() {
        let detail = match (&f.job, f.message) {
            (Some(job), _) => {
                format!("the API queued the send as job {job} and gave no message id")
            }
            (None, m) => format!(
                "the API queued the send ({}) and gave no job or message id",
                shorten(m.unwrap_or_default(), 200)
            ),
        };
        let queued = SendClass::Ambiguous {
            taken: Taken::WithoutId,
            named_id: None,
        };
        return (queued, None, detail);
    }
    let meta = meta_code(v);
    let detail =
        message_of(v).unwrap_or_else(|| "the API answered sent:false without a reason".into());
    let class = match meta {
        Some(130429) => SendClass::Retry(RetryKind::Throughput),
        Some(131056) => SendClass::Retry(RetryKind::PairRate),
        Some(131000) => SendClass::Retry(RetryKind::Transient),
        Some(132000 | 132001 | 132015 | 132016) => SendClass::Fatal(Fatal::Configuration),
        // 1MSG's own plain refusal when it is overloaded ("Too many
        // requests. Please try again later."): nothing was sent, so it is
        // tried again after a pause, like a 429.
        _ if says_overloaded(&detail) => SendClass::Retry(RetryKind::TooManyRequests),
        _ => SendClass::Rejected,
    };
    (class, meta, detail)
}

/// Whether a refusal's words say the API is overloaded or limiting our
/// rate. Words we do not recognise say nothing: such a refusal stays one.
fn says_overloaded(text: &str) -> bool {
    const WORDS: [&str; 6] = [
        "too many requests",
        "rate limit",
        "rate-limit",
        "ratelimit",
        "overload",
        "throttl",
    ];
    let text = text.to_ascii_lowercase();
    WORDS.iter().any(|w| text.contains(w))
}

#[cfg(test)]
mod tests;
