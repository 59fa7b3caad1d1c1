//! One pushed body, read leniently. 1MSG's normalized body has no `type`:
//! an `ack[]` holds statuses, a `messages[]` inbound messages (and echoes),
//! and with `rawHooks` on the body is Meta's own envelope with
//! `entry[].changes[].value.statuses[]` (Meta's webhook envelope, which 1MSG forwards). Each
//! status item is read on its own with the same reader as `hookInfo`'s hooks,
//! so one odd item never hides the others.

use serde_json::Value;

use crate::api::hooks::{Hook, read_hooks};
use crate::api::loose;

/// What a body holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Pushed {
    /// (wamid, status) of every readable status item.
    pub acks: Vec<(String, Hook)>,
    /// Status items without an id or a status (counted, never fatal).
    pub skipped: u64,
    /// Inbound messages or echoes: not ours to record.
    pub messages: u64,
}

/// Why a body is refused.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refused {
    NotJson,
    /// JSON, but neither `ack`, `messages` nor a Meta envelope.
    UnknownShape,
}

pub(super) fn read(body: &[u8]) -> Result<Pushed, Refused> {
    let v: Value = serde_json::from_slice(body).map_err(|_| Refused::NotJson)?;
    let Value::Object(o) = &v else {
        return Err(Refused::UnknownShape);
    };
    if !["ack", "messages", "entry"]
        .iter()
        .any(|k| o.contains_key(*k))
    {
        return Err(Refused::UnknownShape);
    }
    let mut out = Pushed::default();
    if let Some(ack) = o.get("ack") {
        each(ack, &mut |item| status_item(item, &mut out));
    }
    if let Some(messages) = o.get("messages") {
        out.messages += messages.as_array().map_or(1, |a| a.len() as u64);
    }
    if let Some(entry) = o.get("entry") {
        each(entry, &mut |e| {
            each(e.get("changes").unwrap_or(&Value::Null), &mut |c| {
                let value = c.get("value").unwrap_or(&Value::Null);
                each(value.get("statuses").unwrap_or(&Value::Null), &mut |s| {
                    status_item(s, &mut out);
                });
                if let Some(m) = value.get("messages") {
                    out.messages += m.as_array().map_or(1, |a| a.len() as u64);
                }
            });
        });
    }
    Ok(out)
}

/// Calls `f` on each item of an array, or on a lone object.
fn each(v: &Value, f: &mut dyn FnMut(&Value)) {
    match v {
        Value::Array(items) => items.iter().for_each(f),
        Value::Object(_) => f(v),
        _ => {}
    }
}

fn status_item(item: &Value, out: &mut Pushed) {
    let id = loose::field(item, "id", loose::text).filter(|id| !id.trim().is_empty());
    let hook = read_hooks(item).hooks.into_iter().next();
    match (id, hook) {
        (Some(id), Some(hook)) => out.acks.push((id.trim().to_string(), hook)),
        _ => out.skipped += 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statuses(p: &Pushed) -> Vec<(&str, &str)> {
        p.acks
            .iter()
            .map(|(id, h)| (id.as_str(), h.status.as_str()))
            .collect()
    }

    #[test]
    fn the_production_ack_capture_verbatim() {
        let p = read(
            br#"{"instanceId": "VID182868781",
                 "ack": [{"id": "wamid.HBgM", "status": "delivered",
                          "chatId": "573001112233@c.us", "phone": "573001112233",
                          "bsuid": "CO.1234567890", "category": "utility", "userName": null},
                         {"id":"wamid.X","status":"failed","error":"User's number is part of an experiment",
                          "phone":"573001112233","chatId":"573001112233@c.us","bsuid":"CO.1"}]}"#,
        )
        .unwrap();
        assert_eq!(
            statuses(&p),
            [("wamid.HBgM", "delivered"), ("wamid.X", "failed")]
        );
        assert_eq!(
            p.acks[1].1.error_title.as_deref(),
            Some("User's number is part of an experiment")
        );
        assert_eq!(p.skipped, 0);
    }

    #[test]
    fn odd_items_are_counted_and_the_rest_kept() {
        let p = read(
            br#"{"ack": [{"status":"read"}, {"id":"w1"}, 7, {"id":"w2","status":"READ","extra":{"x":1}}]}"#,
        )
        .unwrap();
        assert_eq!(statuses(&p), [("w2", "read")]);
        assert_eq!(p.skipped, 3);
        let p = read(br#"{"ack": {"id":"w3","status":"sent"}}"#).unwrap();
        assert_eq!(statuses(&p), [("w3", "sent")]);
    }

    #[test]
    fn messages_and_a_raw_envelope() {
        let p = read(br#"{"instanceId":"X","messages":[{"id":"m","body":"Hi"}]}"#).unwrap();
        assert!(p.acks.is_empty());
        assert_eq!(p.messages, 1);
        let p = read(
            br#"{"entry":[{"changes":[{"value":{"statuses":[{"id":"w9","status":"delivered","timestamp":"1654864200"}]}}]}]}"#,
        )
        .unwrap();
        assert_eq!(statuses(&p), [("w9", "delivered")]);
        assert_eq!(p.acks[0].1.unix_seconds, Some(1_654_864_200));
    }

    #[test]
    fn not_json_and_unknown_shapes_are_refused() {
        assert_eq!(read(b"status=read"), Err(Refused::NotJson));
        assert_eq!(read(b""), Err(Refused::NotJson));
        assert_eq!(read(b"[1,2]"), Err(Refused::UnknownShape));
        assert_eq!(read(br#"{"hello":"world"}"#), Err(Refused::UnknownShape));
    }
}
