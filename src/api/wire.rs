//! The 1MSG contract as serde types, shared by our client and our simulator
//! so the two cannot drift apart. Field names follow the wire (camelCase where
//! 1MSG uses it); every field 1MSG documents as optional is optional here,
//! because the real API is not uniform (see `shared/docs/1msg-api.md` §3).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `language` in a sendTemplate body; `policy` is always `deterministic`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Language {
    pub policy: String,
    pub code: String,
}

impl Language {
    pub(crate) fn deterministic(code: &str) -> Self {
        Language {
            policy: "deterministic".into(),
            code: code.into(),
        }
    }
}

/// One Cloud-API component object in `params` (we only fill `body`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Component {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub parameters: Vec<Parameter>,
}

/// A body parameter; only `text` is used by the partner-delivery template.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Parameter {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// What our client POSTs to `sendTemplate`. The token travels in the
/// `Authorization` header, never in this body or the URL, so it cannot leak
/// through a logged URL or a request dump.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SendTemplateRequest<'a> {
    pub phone: &'a str,
    pub template: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<&'a str>,
    pub language: Language,
    pub params: Vec<Component>,
}

impl<'a> SendTemplateRequest<'a> {
    /// A request whose body variables are `texts`, in order.
    pub(crate) fn with_body(
        phone: &'a str,
        template: &'a str,
        namespace: Option<&'a str>,
        language: &str,
        texts: &[&str],
    ) -> Self {
        SendTemplateRequest {
            phone,
            template,
            namespace,
            language: Language::deterministic(language),
            params: vec![Component {
                kind: "body".into(),
                parameters: texts
                    .iter()
                    .map(|t| Parameter {
                        kind: "text".into(),
                        text: Some((*t).to_string()),
                    })
                    .collect(),
            }],
        }
    }
}

/// The answer to `sendTemplate`, successful or not. `sent:true` with an `id`
/// is acceptance; `sent:false` carries a Meta error in `message`/`error`, or a
/// `jobId` when the send was queued.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct SendTemplateResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    #[serde(default, rename = "jobId", skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct ErrorData {
    pub details: String,
}

/// `GET hookInfo?messageId=` → the raw provider status hooks, in arrival order.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct HookInfoResponse {
    #[serde(default)]
    pub hooks: Vec<Hook>,
}

/// A Meta status object as 1MSG stores it. `timestamp` is a string of unix
/// seconds on the wire. Its `conversation` and `pricing` objects are not
/// read: nothing in the reconciliation needs them, and building them as
/// JSON maps on every poll cost more than the rest of the hook.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Hook {
    #[serde(default)]
    pub id: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<HookError>>,
}

impl Hook {
    /// The provider's time of this status, whether it came as a string or a
    /// number of unix seconds.
    pub(crate) fn unix_seconds(&self) -> Option<i64> {
        match self.timestamp.as_ref()? {
            Value::String(s) => s.trim().parse().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }
}

/// The error on a `failed` status hook.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct HookError {
    pub code: i64,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
}

/// `GET templates`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct TemplatesResponse {
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub templates: Vec<TemplateInfo>,
}

/// One template as `/templates` lists it. `language` may be a string or an
/// object with `code`; `components` may be an array or a JSON string; the
/// namespace may sit in `message_template_namespace` instead.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TemplateInfo {
    #[serde(default)]
    pub id: Option<Value>,
    pub name: String,
    #[serde(default)]
    pub language: Option<Value>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template_namespace: Option<String>,
    #[serde(default)]
    pub rejected_reason: Option<String>,
    #[serde(default)]
    pub components: Option<Value>,
}

impl TemplateInfo {
    pub(crate) fn language_code(&self) -> Option<&str> {
        match self.language.as_ref()? {
            Value::String(s) => Some(s),
            Value::Object(o) => o.get("code").and_then(Value::as_str),
            _ => None,
        }
    }

    pub(crate) fn namespace(&self) -> Option<&str> {
        self.namespace
            .as_deref()
            .or(self.message_template_namespace.as_deref())
            .filter(|s| !s.is_empty())
    }

    /// The components as an array, decoding the stringified form.
    pub(crate) fn component_list(&self) -> Vec<Value> {
        match &self.components {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::String(s)) => serde_json::from_str::<Vec<Value>>(s).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The BODY component's text, if any.
    pub(crate) fn body_text(&self) -> Option<String> {
        self.component_list().into_iter().find_map(|c| {
            let kind = c.get("type")?.as_str()?;
            if kind.eq_ignore_ascii_case("body") {
                c.get("text")?.as_str().map(str::to_string)
            } else {
                None
            }
        })
    }
}

/// Counts the distinct `{{n}}` placeholders in a template text.
pub(crate) fn count_variables(text: &str) -> usize {
    let mut seen = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        rest = &rest[start + 2..];
        if let Some(end) = rest.find("}}") {
            let inner = rest[..end].trim();
            if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit()) {
                seen.insert(inner.to_string());
            }
            rest = &rest[end + 2..];
        } else {
            break;
        }
    }
    seen.len()
}

/// `GET messages` (history). `notice` is set, and `messages` empty, when the
/// channel keeps no history.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct MessagesResponse {
    #[serde(default)]
    pub messages: Vec<HistoryMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HistoryMessage {
    #[serde(default)]
    pub message_number: Option<u64>,
    pub id: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub from_me: Option<bool>,
    #[serde(default, rename = "self")]
    pub is_self: Option<Value>,
    #[serde(default)]
    pub is_forwarded: Option<bool>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub time: Option<Value>,
    #[serde(default)]
    pub chat_id: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub sender_name: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub quoted_msg_id: Option<String>,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub chat_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_distinct_variables() {
        assert_eq!(
            count_variables(
                "Hello, {{1}}! Order #{{2}} for \"{{3}}\" has been delivered to your partner pickup point. {{4}}."
            ),
            4
        );
        assert_eq!(count_variables("{{1}} and {{1}}"), 1);
        assert_eq!(count_variables("no variables"), 0);
        assert_eq!(count_variables("{{ 2 }} {{x}} {{3"), 1);
    }

    #[test]
    fn template_info_tolerates_the_shapes_seen_in_the_wild() {
        let t: TemplateInfo = serde_json::from_value(serde_json::json!({
            "name": "t", "language": {"code": "en_US"}, "status": "APPROVED",
            "message_template_namespace": "ns1",
            "components": "[{\"type\":\"BODY\",\"text\":\"Hi {{1}}\"}]"
        }))
        .unwrap();
        assert_eq!(t.language_code(), Some("en_US"));
        assert_eq!(t.namespace(), Some("ns1"));
        assert_eq!(t.body_text().as_deref(), Some("Hi {{1}}"));
    }

    #[test]
    fn hook_timestamp_as_string_or_number() {
        let h: Hook =
            serde_json::from_str(r#"{"id":"w","status":"sent","timestamp":"1654864094"}"#).unwrap();
        assert_eq!(h.unix_seconds(), Some(1654864094));
        let h: Hook =
            serde_json::from_str(r#"{"id":"w","status":"sent","timestamp":1654864094}"#).unwrap();
        assert_eq!(h.unix_seconds(), Some(1654864094));
    }
}
