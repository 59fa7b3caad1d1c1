//! Settling doubts: a send that may or may not have been accepted is looked
//! up in 1MSG's message history (`GET messages`) before anyone gives up on
//! it. An outgoing message to that recipient, of our template, carrying the
//! order number, is the message: its wamid is recorded and tracked. A
//! history that answers and holds no such message proves nothing was sent,
//! so the order can be sent. A channel without history proves nothing; the
//! row stays `unknown` for a person to decide.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::api::client::Client;
use crate::api::wire::HistoryMessage;

/// How far before the intent the history is searched (clock skew).
const BEFORE: i64 = 120;

/// What the history says about one doubtful send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finding {
    /// The message was sent: its wamid and time.
    Sent { wamid: String, at: DateTime<Utc> },
    /// The history answered and holds no such message.
    NotFound,
    /// The channel keeps no history: nothing can be proved.
    NoHistory,
    /// The lookup itself failed.
    Failed(String),
}

/// Whether `body` mentions `order` as a whole token (`#10482` matches,
/// `#104821` does not).
pub(crate) fn carries_order(body: &str, order: &str) -> bool {
    let order = order.trim();
    if order.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(i) = body[from..].find(order) {
        let start = from + i;
        let end = start + order.len();
        let before = body[..start].chars().next_back();
        let after = body[end..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        if boundary(before) && boundary(after) {
            return true;
        }
        from = start + order.len().max(1);
        if from >= body.len() {
            break;
        }
    }
    false
}

/// Whether a history entry is our message for `order`.
pub(crate) fn is_our_message(m: &HistoryMessage, order: &str, template: &str) -> bool {
    if m.from_me == Some(false) {
        return false;
    }
    let template_matches = match m.metadata.as_ref().and_then(|v| v.get("template")) {
        Some(Value::String(t)) => t == template,
        _ => true,
    };
    template_matches && m.body.as_deref().is_some_and(|b| carries_order(b, order))
}

fn time_of(m: &HistoryMessage) -> Option<DateTime<Utc>> {
    let secs = match m.time.as_ref()? {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    DateTime::from_timestamp(secs, 0)
}

/// Looks for our message about `order` to `phone` sent since `since`.
pub(crate) async fn look_up(
    client: &Client,
    phone: &str,
    order: &str,
    template: &str,
    since: DateTime<Utc>,
) -> Finding {
    let min = since.timestamp() - BEFORE;
    let max = Utc::now().timestamp() + BEFORE;
    match client.messages(phone, min, max).await {
        Ok(None) => Finding::NoHistory,
        Ok(Some(messages)) => messages
            .iter()
            .find(|m| is_our_message(m, order, template))
            .map_or(Finding::NotFound, |m| Finding::Sent {
                wamid: m.id.clone(),
                at: time_of(m).unwrap_or(since),
            }),
        Err(e) => Finding::Failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_match_as_whole_tokens() {
        let body = "Hello, ACME! Order #10482 for \"Lamp\" has been delivered.";
        assert!(carries_order(body, "10482"));
        assert!(!carries_order(body, "1048"));
        assert!(!carries_order(body, "0482"));
        assert!(carries_order("Order #A-17.", "A-17"));
        assert!(!carries_order("Order #A-170.", "A-17"));
        assert!(!carries_order(body, ""));
        assert!(carries_order("x 5 y 5", "5"));
    }

    #[test]
    fn only_our_outgoing_template_message_counts() {
        let m = |from_me: bool, template: &str, body: &str| HistoryMessage {
            message_number: Some(1),
            id: "wamid.1".into(),
            body: Some(body.into()),
            from_me: Some(from_me),
            is_self: None,
            is_forwarded: None,
            author: None,
            time: Some(Value::from(1_700_000_000)),
            chat_id: None,
            kind: None,
            sender_name: None,
            caption: None,
            quoted_msg_id: None,
            metadata: Some(serde_json::json!({ "template": template })),
            chat_name: None,
        };
        assert!(is_our_message(&m(true, "t", "Order #7 ok"), "7", "t"));
        assert!(!is_our_message(&m(false, "t", "Order #7 ok"), "7", "t"));
        assert!(!is_our_message(&m(true, "other", "Order #7 ok"), "7", "t"));
        assert!(!is_our_message(&m(true, "t", "Order #8 ok"), "7", "t"));
        assert_eq!(
            time_of(&m(true, "t", "")).unwrap().timestamp(),
            1_700_000_000
        );
    }
}
