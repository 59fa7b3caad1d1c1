//! `GET templates` answers, read template by template. The list may be the
//! documented `{"total": N, "templates": […]}`, a bare array, carry `total`
//! as a text, or an `error` object that is the API's own failure (not "no
//! such template"); a template's namespace may sit under any of three
//! names, or only on its siblings (docs/real-api.md, A5 and B6).

use serde_json::Value;

use super::loose;

/// The keys a template's namespace is found under, in the order the
/// vendor's own n8n node reads them.
const NAMESPACE_KEYS: [&str; 3] = [
    "namespace",
    "message_template_namespace",
    "messageTemplateNamespace",
];

/// One template as `/templates` lists it. `language` may be a string or an
/// object with `code`; `components` may be an array or a JSON string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TemplateInfo {
    pub name: String,
    pub language: Option<Value>,
    pub status: Option<String>,
    /// The template's own namespace, under whichever key it came.
    pub namespace: Option<String>,
    pub components: Option<Value>,
    /// Meta's category (`UTILITY`, `MARKETING`, …), upper case; Meta may
    /// change it by itself.
    pub category: Option<String>,
    /// Meta's quality rating (`GREEN`, `YELLOW`, `RED`, `UNKNOWN`), upper
    /// case: `quality_score.score`, or `quality_score` as a text.
    pub quality: Option<String>,
}

/// One page of `/templates`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TemplatesPage {
    pub templates: Vec<TemplateInfo>,
    /// Items that were not a template with a name.
    pub skipped: u64,
    pub total: Option<u64>,
    /// The API's own error, when the page came with one and no template.
    pub error: Option<String>,
}

impl TemplatesPage {
    /// Items on the page, readable or not.
    pub(crate) fn len(&self) -> usize {
        self.templates.len() + self.skipped as usize
    }
}

/// A page from the answer's JSON; `Err` when it holds no list.
pub(crate) fn read_templates(body: &Value) -> Result<TemplatesPage, String> {
    let list = match body {
        Value::Array(a) => a.as_slice(),
        Value::Object(o) => match o.get("templates") {
            Some(Value::Array(a)) => a.as_slice(),
            Some(Value::Null) | None => &[],
            Some(_) => return Err("its `templates` is not a list".into()),
        },
        _ => return Err(format!("the answer is not a list: {body}")),
    };
    let mut page = TemplatesPage {
        total: loose::field(body, "total", loose::int).and_then(|t| u64::try_from(t).ok()),
        ..TemplatesPage::default()
    };
    for item in list {
        match TemplateInfo::from_value(item) {
            Some(t) => page.templates.push(t),
            None => page.skipped += 1,
        }
    }
    if page.templates.is_empty() {
        page.error = body.get("error").and_then(error_text);
        if page.error.is_none() && body.is_object() && body.get("templates").is_none() {
            return Err(format!("the answer holds no `templates`: {body}"));
        }
    }
    Ok(page)
}

/// The text of an `error` field: a string, or an object's message.
fn error_text(e: &Value) -> Option<String> {
    match e {
        Value::Null => None,
        Value::String(s) => Some(s.clone()).filter(|s| !s.trim().is_empty()),
        Value::Object(o) if o.is_empty() => None,
        Value::Object(o) => Some(
            ["message", "error_user_msg", "title", "error"]
                .iter()
                .find_map(|k| o.get(*k).and_then(loose::text))
                .unwrap_or_else(|| e.to_string()),
        ),
        other => Some(other.to_string()),
    }
}

impl TemplateInfo {
    /// A template, or `None` when the item has no name.
    pub(crate) fn from_value(v: &Value) -> Option<TemplateInfo> {
        if !v.is_object() {
            return None;
        }
        Some(TemplateInfo {
            name: loose::field(v, "name", loose::text)?,
            language: v.get("language").filter(|l| !l.is_null()).cloned(),
            status: loose::field(v, "status", loose::text),
            namespace: loose::first(v, &NAMESPACE_KEYS, loose::text),
            components: v.get("components").filter(|c| !c.is_null()).cloned(),
            category: loose::field(v, "category", loose::text).map(|c| c.to_ascii_uppercase()),
            quality: v
                .get("quality_score")
                .and_then(|q| loose::field(q, "score", loose::text).or_else(|| loose::text(q)))
                .map(|q| q.to_ascii_uppercase()),
        })
    }

    pub(crate) fn language_code(&self) -> Option<&str> {
        match self.language.as_ref()? {
            Value::String(s) => Some(s),
            Value::Object(o) => o.get("code").and_then(Value::as_str),
            _ => None,
        }
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

/// The namespace every template that names one agrees on: on some channels
/// only the siblings of a template carry it (the n8n node's rule: used only
/// when all listed namespaces are the same).
pub(crate) fn shared_namespace(templates: &[TemplateInfo]) -> Option<&str> {
    let mut found = templates.iter().filter_map(|t| t.namespace.as_deref());
    let first = found.next()?;
    found.all(|n| n == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: Value) -> TemplatesPage {
        read_templates(&v).unwrap()
    }

    #[test]
    fn template_info_tolerates_the_shapes_seen_in_the_wild() {
        let t = TemplateInfo::from_value(&json!({
            "name": "t", "language": {"code": "en_US"}, "status": "APPROVED",
            "message_template_namespace": "ns1",
            "components": "[{\"type\":\"BODY\",\"text\":\"Hi {{1}}\"}]"
        }))
        .unwrap();
        assert_eq!(t.language_code(), Some("en_US"));
        assert_eq!(t.namespace.as_deref(), Some("ns1"));
        assert_eq!(t.body_text().as_deref(), Some("Hi {{1}}"));
        let camel =
            TemplateInfo::from_value(&json!({"name": "t", "messageTemplateNamespace": "ns2"}));
        assert_eq!(camel.unwrap().namespace.as_deref(), Some("ns2"));
        let empty = TemplateInfo::from_value(
            &json!({"name": "t", "namespace": "", "messageTemplateNamespace": "ns3"}),
        );
        assert_eq!(empty.unwrap().namespace.as_deref(), Some("ns3"));
    }

    #[test]
    fn category_and_quality_are_read_in_either_shape_and_case() {
        let t = TemplateInfo::from_value(&json!({
            "name": "t", "category": "marketing", "quality_score": {"score": "red", "date": 1}
        }))
        .unwrap();
        assert_eq!(t.category.as_deref(), Some("MARKETING"));
        assert_eq!(t.quality.as_deref(), Some("RED"));
        let flat = TemplateInfo::from_value(&json!({"name": "t", "quality_score": "YELLOW"}));
        assert_eq!(flat.unwrap().quality.as_deref(), Some("YELLOW"));
        let none = TemplateInfo::from_value(&json!({"name": "t", "quality_score": null})).unwrap();
        assert_eq!((none.category, none.quality), (None, None));
    }

    #[test]
    fn a_bare_array_a_string_total_and_odd_items() {
        let p = read(json!([{"name": "a", "id": 1}, {"name": "b"}]));
        assert_eq!(p.templates.len(), 2);
        assert_eq!(p.total, None);
        let p = read(json!({"total": "2", "templates": [{"name": "a"}, {"id": 7}, "x"]}));
        assert_eq!(p.total, Some(2));
        assert_eq!(p.templates.len(), 1);
        assert_eq!((p.skipped, p.len()), (2, 3));
        let p = read(json!({"total": 0, "templates": []}));
        assert_eq!(
            p,
            TemplatesPage {
                total: Some(0),
                ..TemplatesPage::default()
            }
        );
    }

    #[test]
    fn an_error_object_is_the_apis_failure() {
        let p = read(
            json!({"templates": [], "error": {"code": 190, "message": "Error validating access token"}}),
        );
        assert_eq!(p.error.as_deref(), Some("Error validating access token"));
        let p = read(json!({"error": "Channel is not connected"}));
        assert_eq!(p.error.as_deref(), Some("Channel is not connected"));
        // An error beside templates does not hide them.
        let p = read(json!({"templates": [{"name": "a"}], "error": {"message": "page 2 failed"}}));
        assert_eq!((p.templates.len(), p.error), (1, None));
        assert!(read_templates(&json!({"unexpected": true})).is_err());
        assert!(read_templates(&json!("no")).is_err());
    }

    #[test]
    fn a_namespace_shared_by_siblings() {
        let t = |name: &str, ns: Option<&str>| TemplateInfo {
            name: name.into(),
            language: None,
            status: None,
            namespace: ns.map(str::to_string),
            components: None,
            category: None,
            quality: None,
        };
        assert_eq!(
            shared_namespace(&[t("a", None), t("b", Some("n")), t("c", Some("n"))]),
            Some("n")
        );
        assert_eq!(
            shared_namespace(&[t("b", Some("n")), t("c", Some("m"))]),
            None
        );
        assert_eq!(shared_namespace(&[t("a", None)]), None);
    }
}
