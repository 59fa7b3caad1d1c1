//! The classification of every `sendTemplate` answer into one decision,
//! and the types that carry it, apart from the HTTP side so the table can
//! be read and tested on its own.
//!
//! The classification is the heart of "nothing sent twice": 1MSG has no
//! idempotency key, so a send is retried only when the request provably did
//! not reach the API or was refused for pace; anything that *may* have been
//! accepted is `Ambiguous` and never resent automatically
//! (`shared/docs/reliability.md` §1–2). There is deliberately no retry
//! middleware on the client.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::wire::SendTemplateResponse;

/// Why the whole run must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fatal {
    /// 401/403: the token or the channel is wrong (exit 77).
    Credentials,
    /// The template, its language or its parameters do not fit (exit 78).
    Configuration,
    /// The API is down: a run of 5xx or timeouts (exit 69).
    Unavailable,
}

/// Why a send may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryKind {
    /// The connection could not be made: the request never left.
    Connect,
    /// HTTP 429: every sender pauses until `after`.
    TooManyRequests,
    /// Meta 130429: the channel's throughput; slow down globally.
    Throughput,
    /// Meta 131056: this recipient was sent to too soon; re-pace it only.
    PairRate,
    /// Meta 131000: "something went wrong", explicitly not processed.
    Transient,
}

/// The decision about one `sendTemplate` answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SendClass {
    /// `sent:true` with an id: store the wamid at once.
    Accepted { wamid: String },
    /// Provably not processed; may be sent again after `after` (if given).
    Retry {
        kind: RetryKind,
        after: Option<Duration>,
    },
    /// May or may not have been accepted: never resent automatically.
    Ambiguous,
    /// Refused for this row: `rejected`.
    Rejected,
    /// Refused in a way that will refuse every row: stop the run.
    Fatal(Fatal),
}

/// One answer with everything the ledger and the report keep of it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SendAnswer {
    pub class: SendClass,
    pub http_status: Option<u16>,
    pub error_code: Option<i64>,
    /// Human text: the API's message, or what went wrong on the wire.
    pub detail: Option<String>,
}

/// A failure of a read-only call (templates, hookInfo, messages).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("the API refused our credentials (HTTP {status})")]
    Credentials { status: u16 },
    #[error("the API answered HTTP {status}: {detail}")]
    Status { status: u16, detail: String },
    #[error("failed to reach the API: {0}")]
    Transport(String),
    #[error("the API's answer could not be read: {0}")]
    Body(String),
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

/// The text of an `{"error": …}` body, or the raw body, shortened.
pub(super) fn error_text(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(v) => message_of(&v).unwrap_or_else(|| v.to_string()),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    shorten(text.trim(), 300)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// The human message of an error body, looking where 1MSG puts it:
/// `message`, then `error` as a string, then Meta's error object.
fn message_of(v: &Value) -> Option<String> {
    if let Some(m) = v.get("message").and_then(Value::as_str) {
        return Some(m.to_string());
    }
    match v.get("error")? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => ["error_user_msg", "error_user_title", "message"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))
            .map(str::to_string),
        _ => None,
    }
}

/// The Meta error code of a `sent:false` answer: `error.code`,
/// `error.error_code`, or `(#NNN)` in the message.
fn meta_code(r: &SendTemplateResponse) -> Option<i64> {
    if let Some(Value::Object(o)) = &r.error {
        for key in ["code", "error_code"] {
            match o.get(key) {
                Some(Value::Number(n)) => return n.as_i64(),
                Some(Value::String(s)) => {
                    if let Ok(n) = s.parse() {
                        return Some(n);
                    }
                }
                _ => {}
            }
        }
    }
    let text = r.message.as_deref()?;
    let start = text.find("(#")? + 2;
    let end = start + text[start..].find(')')?;
    text[start..end].parse().ok()
}

/// What a status alone says: an error status whatever its body, or a
/// status whose body could not be read.
pub(super) fn classify_status_only(status: StatusCode, retry_after: Option<Duration>) -> SendClass {
    match status.as_u16() {
        401 | 403 => SendClass::Fatal(Fatal::Credentials),
        429 => SendClass::Retry {
            kind: RetryKind::TooManyRequests,
            after: retry_after,
        },
        400 | 404 | 422 => SendClass::Rejected,
        // 5xx, a 2xx cut off, anything unexpected: the request reached the
        // API and we cannot know what it did.
        _ => SendClass::Ambiguous,
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
    };
    if !status.is_success() {
        // 1MSG's 401 text echoes the token it was given ("Wrong token
        // \"xxx…xxx\""), barely masked: never carry it into a report or log.
        let detail = Some(if matches!(code, 401 | 403) {
            format!("the API refused the token for this channel (HTTP {code})")
        } else {
            error_text(body)
        });
        return answer(classify_status_only(status, retry_after), None, detail);
    }
    let parsed: SendTemplateResponse = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(_) => {
            return answer(
                SendClass::Ambiguous,
                None,
                Some(format!(
                    "HTTP {code} with an unreadable body: {}",
                    shorten(&String::from_utf8_lossy(body), 200)
                )),
            );
        }
    };
    match (parsed.sent, parsed.id.as_deref()) {
        (Some(true), Some(id)) if !id.trim().is_empty() => {
            return answer(
                SendClass::Accepted {
                    wamid: id.trim().to_string(),
                },
                None,
                None,
            );
        }
        (Some(true), _) => {
            return answer(
                SendClass::Ambiguous,
                None,
                Some("the API said sent:true but gave no message id".into()),
            );
        }
        _ => {}
    }
    if let Some(job) = &parsed.job_id {
        return answer(
            SendClass::Ambiguous,
            None,
            Some(format!(
                "the API queued the send as job {job} and gave no message id"
            )),
        );
    }
    let meta = meta_code(&parsed);
    let detail = message_of(&serde_json::to_value(&parsed).unwrap_or_default())
        .or_else(|| Some("the API answered sent:false without a reason".into()));
    let class = match meta {
        Some(130429) => SendClass::Retry {
            kind: RetryKind::Throughput,
            after: None,
        },
        Some(131056) => SendClass::Retry {
            kind: RetryKind::PairRate,
            after: None,
        },
        Some(131000) => SendClass::Retry {
            kind: RetryKind::Transient,
            after: None,
        },
        Some(132000 | 132001 | 132015 | 132016) => SendClass::Fatal(Fatal::Configuration),
        _ => SendClass::Rejected,
    };
    answer(class, meta, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> SendAnswer {
        classify(StatusCode::OK, None, body.as_bytes())
    }

    #[test]
    fn acceptance_needs_sent_true_and_an_id() {
        assert_eq!(
            ok(r#"{"sent":true,"id":"wamid.1","message":"Sent to 1@c.us"}"#).class,
            SendClass::Accepted {
                wamid: "wamid.1".into()
            }
        );
        assert_eq!(ok(r#"{"sent":true}"#).class, SendClass::Ambiguous);
        assert_eq!(ok("not json").class, SendClass::Ambiguous);
        assert_eq!(
            ok(r#"{"sent":false,"message":"queued","jobId":"j1"}"#).class,
            SendClass::Ambiguous
        );
    }

    #[test]
    fn meta_codes_decide_retry_reject_or_stop() {
        let a = ok(r#"{"sent":false,"message":"(#131056) pair rate limit hit"}"#);
        assert_eq!(a.error_code, Some(131056));
        assert!(matches!(
            a.class,
            SendClass::Retry {
                kind: RetryKind::PairRate,
                ..
            }
        ));
        let a = ok(r#"{"sent":false,"message":"x","error":{"code":130429,"message":"x"}}"#);
        assert!(matches!(
            a.class,
            SendClass::Retry {
                kind: RetryKind::Throughput,
                ..
            }
        ));
        let a = ok(r#"{"sent":false,"message":"(#132001) Template name does not exist"}"#);
        assert_eq!(a.class, SendClass::Fatal(Fatal::Configuration));
        let a = ok(r#"{"sent":false,"message":"rejected"}"#);
        assert_eq!(a.class, SendClass::Rejected);
        assert_eq!(a.detail.as_deref(), Some("rejected"));
        let a = ok(r#"{"sent":false,"error":{"error_code":"131026","message":"undeliverable"}}"#);
        assert_eq!(a.error_code, Some(131026));
        assert_eq!(a.class, SendClass::Rejected);
    }

    #[test]
    fn http_statuses() {
        let c =
            |s: u16| classify(StatusCode::from_u16(s).unwrap(), None, b"{\"error\":\"x\"}").class;
        assert_eq!(c(401), SendClass::Fatal(Fatal::Credentials));
        assert_eq!(c(403), SendClass::Fatal(Fatal::Credentials));
        assert_eq!(c(400), SendClass::Rejected);
        assert_eq!(c(500), SendClass::Ambiguous);
        assert_eq!(c(503), SendClass::Ambiguous);
        let a = classify(
            StatusCode::TOO_MANY_REQUESTS,
            Some(Duration::from_secs(3)),
            b"{\"error\":\"Too many requests\"}",
        );
        assert_eq!(
            a.class,
            SendClass::Retry {
                kind: RetryKind::TooManyRequests,
                after: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(a.detail.as_deref(), Some("Too many requests"));
    }

    #[test]
    fn a_refused_token_is_never_echoed() {
        let a = classify(
            StatusCode::UNAUTHORIZED,
            None,
            br#"{"error":"Wrong token \"xxxRY-SECRET-VALUExxx\" for channel \"1\"."}"#,
        );
        let detail = a.detail.unwrap();
        assert!(!detail.contains("SECRET"), "{detail}");
        assert!(detail.contains("HTTP 401"));
    }

    #[test]
    fn retry_after_in_both_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        let later = chrono::Utc::now() + chrono::Duration::seconds(30);
        let d = parse_retry_after(&later.to_rfc2822()).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
