//! `hookInfo` answers, read hook by hook. The documented answer is
//! `{"hooks":[Meta status objects]}`, but a real one may carry hooks in
//! 1MSG's normalized ack shape (`{id, status, chatId, phone, error:"text"}`),
//! a raw Meta envelope (`{"entry":[{"changes":[{"value":{"statuses":[…]}}]}]}`),
//! loose types (`code` as text, `error_data: {}`, a number as
//! `recipient_id`), `hooks: null`, or a bare array
//! (docs/real-api.md, B1). One unreadable hook must not hide a
//! `failed` beside it, so each is read on its own and an unreadable one is
//! skipped and counted.

use serde_json::Value;

use super::loose;

/// How deep arrays and wrappers are followed: a Meta envelope inside
/// `hooks` puts its statuses ten levels down.
const MAX_DEPTH: usize = 16;

/// One status of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hook {
    /// The status word, lower case (`sent`, `delivered`, `read`, `failed`,
    /// or whatever else the provider said).
    pub status: String,
    /// The provider's time of this status.
    pub unix_seconds: Option<i64>,
    /// The Meta error code, when the hook carries one as a number.
    pub error_code: Option<i64>,
    /// The error's human text: Meta's title or message, or the normalized
    /// ack's `error` text.
    pub error_title: Option<String>,
    /// Meta's `pricing` object, when the hook carries one.
    pub pricing: Option<Pricing>,
}

/// What Meta says a message is billed as (`pricing {billable, category,
/// pricing_model, type}`): no amount, which only a rate card gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    /// Whether the message is charged (`type: regular`); a free one
    /// (`free_customer_service`, `free_entry_point`) is not.
    pub billable: Option<bool>,
    /// The category it is billed as, lower case (`utility`, `marketing`,
    /// `authentication`, `service`; before July 2025 `business_initiated`).
    pub category: Option<String>,
}

/// What `hookInfo` said about one message: its hooks, and how many items
/// in the answer could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HookInfo {
    pub hooks: Vec<Hook>,
    /// Items of the answer that were not a hook with a status (counted,
    /// never fatal).
    pub skipped: u64,
    /// The answer was a 404. Some deployments answer so for a message with
    /// no hooks yet, so one 404 is "nothing yet"; a route that answers 404
    /// for every message is a route that does not work, which only the
    /// tracker, seeing every message, can tell.
    pub not_found: bool,
}

/// Every hook in a `hookInfo` answer, whatever its wrapping.
pub(crate) fn read_hooks(body: &Value) -> HookInfo {
    let mut out = HookInfo::default();
    collect(body, &mut out, 0);
    out
}

fn collect(v: &Value, out: &mut HookInfo, depth: usize) {
    if depth > MAX_DEPTH {
        out.skipped += 1;
        return;
    }
    match v {
        Value::Null => {}
        Value::Object(o) if o.is_empty() => {}
        Value::Array(items) => {
            for item in items {
                collect(item, out, depth + 1);
            }
        }
        Value::Object(o) => {
            // Wrappers: the documented `hooks`, a webhook's `ack`, a raw
            // Meta envelope's `entry[].changes[].value.statuses`.
            let mut wrapped = false;
            for key in ["hooks", "ack", "entry", "changes", "value", "statuses"] {
                if let Some(inner) = o.get(key)
                    && (key != "value" || inner.is_object())
                {
                    collect(inner, out, depth + 1);
                    wrapped = true;
                }
            }
            if !wrapped {
                match hook(v) {
                    Some(h) => out.hooks.push(h),
                    None => out.skipped += 1,
                }
            }
        }
        _ => out.skipped += 1,
    }
}

/// One hook, or `None` when it names no status.
fn hook(v: &Value) -> Option<Hook> {
    let status = loose::field(v, "status", loose::text)?.to_ascii_lowercase();
    let unix_seconds = loose::first(v, &["timestamp", "time"], loose::unix_seconds);
    let (error_code, error_title) = error_of(v);
    Some(Hook {
        status,
        unix_seconds,
        error_code,
        error_title,
        pricing: v.get("pricing").and_then(pricing_of),
    })
}

/// A `pricing` object, read leniently: `billable` as a flag or a word,
/// and a `type` that says it where `billable` is missing.
fn pricing_of(p: &Value) -> Option<Pricing> {
    let kind = loose::field(p, "type", loose::text).map(|t| t.to_ascii_lowercase());
    let billable = loose::field(p, "billable", loose::flag).or(match kind.as_deref() {
        Some("regular") => Some(true),
        Some(t) if t.starts_with("free") => Some(false),
        _ => None,
    });
    let category = loose::field(p, "category", loose::text)
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty());
    (billable.is_some() || category.is_some()).then_some(Pricing { billable, category })
}

/// The error of a hook: Meta's `errors[0]` object, or 1MSG's `error`
/// (a text in the normalized ack, perhaps an object elsewhere).
fn error_of(v: &Value) -> (Option<i64>, Option<String>) {
    let meta = match v.get("errors") {
        Some(Value::Array(list)) => list.first(),
        Some(other @ Value::Object(_)) => Some(other),
        _ => None,
    };
    let error = meta.or_else(|| v.get("error"));
    match error {
        Some(Value::String(text)) if !text.trim().is_empty() => {
            (loose::code_in_text(text), Some(text.trim().to_string()))
        }
        Some(e @ Value::Object(_)) => {
            let title = loose::first(e, &["title", "message", "error_user_msg"], loose::text)
                .or_else(|| {
                    e.get("error_data")
                        .and_then(|d| loose::field(d, "details", loose::text))
                });
            let code = loose::first(e, &["code", "error_code"], loose::int)
                .or_else(|| title.as_deref().and_then(loose::code_in_text));
            (code, title)
        }
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> HookInfo {
        read_hooks(&serde_json::from_str(body).unwrap())
    }

    fn statuses(h: &HookInfo) -> Vec<&str> {
        h.hooks.iter().map(|h| h.status.as_str()).collect()
    }

    #[test]
    fn the_documented_example_verbatim() {
        // The old spec's `GetAckInfo` answer.
        let h = read(
            r#"{"hooks": [
              {"id": "gBGGeSaGViBfAgnlzOSHEwK9O6F", "type": "message", "status": "sent",
               "timestamp": "1654864094", "recipient_id": "556123122026",
               "conversation": {"id": "c1f5a3a1b9ff6f2e1c43fd31543137e0", "origin": {"type": "business_initiated"},
                                "expiration_timestamp": 1654943940},
               "pricing": {"billable": true, "category": "business_initiated", "pricing_model": "CBP"}}
            ]}"#,
        );
        assert_eq!(h.skipped, 0);
        assert_eq!(
            h.hooks,
            [Hook {
                status: "sent".into(),
                unix_seconds: Some(1_654_864_094),
                error_code: None,
                error_title: None,
                pricing: Some(Pricing {
                    billable: Some(true),
                    category: Some("business_initiated".into()),
                }),
            }]
        );
    }

    #[test]
    fn pricing_is_read_leniently() {
        let h = read(
            r#"{"hooks": [
              {"id": "w", "status": "delivered", "pricing": {"billable": "true", "category": "UTILITY", "type": "regular"}},
              {"id": "w", "status": "delivered", "pricing": {"category": "utility", "type": "free_customer_service"}},
              {"id": "w", "status": "sent", "pricing": {}},
              {"id": "w", "status": "sent"}
            ]}"#,
        );
        let p: Vec<_> = h.hooks.iter().map(|h| h.pricing.clone()).collect();
        let utility = |billable| {
            Some(Pricing {
                billable: Some(billable),
                category: Some("utility".into()),
            })
        };
        assert_eq!(p, [utility(true), utility(false), None, None]);
    }

    #[test]
    fn loose_types_lose_nothing() {
        let h = read(
            r#"{"hooks": [
              {"id": "w", "status": "sent", "timestamp": 1654864094, "recipient_id": 556123122026},
              {"id": "w", "status": "FAILED", "timestamp": "1654864099",
               "errors": [{"code": "131026", "title": "Message undeliverable", "error_data": {}}]},
              {"id": "w", "status": "failed", "errors": [{"code": 131049, "message": "not delivered"}]},
              {"id": "w", "status": "failed", "errors": [{"title": "x", "code": 131000}]}
            ]}"#,
        );
        assert_eq!(h.skipped, 0);
        assert_eq!(statuses(&h), ["sent", "failed", "failed", "failed"]);
        assert_eq!(h.hooks[0].unix_seconds, Some(1_654_864_094));
        assert_eq!(h.hooks[1].error_code, Some(131_026));
        assert_eq!(
            h.hooks[1].error_title.as_deref(),
            Some("Message undeliverable")
        );
        assert_eq!(h.hooks[2].error_code, Some(131_049));
        assert_eq!(h.hooks[2].error_title.as_deref(), Some("not delivered"));
    }

    #[test]
    fn a_hook_without_status_is_skipped_and_counted_not_fatal() {
        let h = read(
            r#"{"hooks": [{"id": "w", "timestamp": "1"}, 7, "x",
                          {"id": "w", "status": "failed", "errors": [{"code": 131026}]}]}"#,
        );
        assert_eq!(statuses(&h), ["failed"]);
        assert_eq!(h.skipped, 3);
        assert_eq!(h.hooks[0].error_code, Some(131_026));
    }

    #[test]
    fn null_hooks_and_a_bare_array() {
        assert_eq!(read(r#"{"hooks": null}"#), HookInfo::default());
        assert_eq!(read(r#"{"hooks": []}"#), HookInfo::default());
        let h = read(r#"[{"id":"w","status":"delivered","timestamp":"1654864100"}]"#);
        assert_eq!(statuses(&h), ["delivered"]);
    }

    #[test]
    fn the_normalized_ack_shape_with_a_text_error() {
        // A production integration's captured acks, as hooks.
        let h = read(
            r#"{"hooks": [
              {"id": "wamid.HBgM", "status": "delivered", "chatId": "573001112233@c.us",
               "phone": "573001112233", "bsuid": "CO.1234567890", "category": "utility", "userName": null},
              {"id": "wamid.HBgM", "status": "failed", "error": "User's number is part of an experiment",
               "phone": "573001112233", "chatId": "573001112233@c.us", "bsuid": "CO.1234567890"}
            ]}"#,
        );
        assert_eq!(h.skipped, 0);
        assert_eq!(statuses(&h), ["delivered", "failed"]);
        assert_eq!(h.hooks[1].error_code, None);
        assert_eq!(
            h.hooks[1].error_title.as_deref(),
            Some("User's number is part of an experiment")
        );
        // And the webhook's own wrapper.
        let h = read(r#"{"instanceId":"VID1","ack":[{"id":"w","status":"read"}]}"#);
        assert_eq!(statuses(&h), ["read"]);
    }

    #[test]
    fn a_raw_meta_envelope_inside_the_answer() {
        let envelope = r#"{"entry":[{"id":"1","changes":[{"field":"messages","value":{
            "messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},
            "statuses":[{"id":"wamid.1","status":"read","timestamp":"1654864200","recipient_id":"556123122026"}]}}]}]}"#;
        let h = read(&format!(
            r#"{{"hooks": [{{"id":"wamid.1","status":"sent","timestamp":"1654864094"}}, {envelope}]}}"#
        ));
        assert_eq!(statuses(&h), ["sent", "read"]);
        assert_eq!(h.skipped, 0);
        assert_eq!(h.hooks[1].unix_seconds, Some(1_654_864_200));
        // The envelope as the whole answer.
        assert_eq!(statuses(&read(envelope)), ["read"]);
    }
}
