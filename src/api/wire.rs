//! What we send to 1MSG, as serde types shared by our client and our
//! simulator so the two cannot drift apart. What 1MSG answers is not typed
//! here: the real API is not uniform (docs/real-api.md), so
//! each answer is read field by field from JSON (`hooks.rs`, `history.rs`,
//! `templates.rs`, `classify.rs`).

use serde::{Deserialize, Serialize};

/// `language` in a sendTemplate body; `policy` is always `deterministic`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Language {
    pub policy: String,
    pub code: String,
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

/// What our client POSTs to `sendTemplate`. The token is never in this
/// body (it travels in the `Authorization` header or the query), so a
/// request dump cannot leak it.
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
            language: Language {
                policy: "deterministic".into(),
                code: language.into(),
            },
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

/// Counts the distinct `{{n}}` placeholders in a template text. An
/// unclosed `{{` before one (`{{1 {{2}}`) is text: the placeholder is the
/// last `{{` before the `}}`, as Meta reads it.
pub(crate) fn count_variables(text: &str) -> usize {
    let mut seen = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        rest = &rest[start + 2..];
        if let Some(end) = rest.find("}}") {
            let inner = rest[..end].rsplit("{{").next().unwrap_or_default().trim();
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
        assert_eq!(count_variables("{{1 {{2}} and {{3}}"), 2);
    }
}
