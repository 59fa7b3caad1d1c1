//! Reading a sendTemplate body the way 1MSG does: the fields it requires
//! before it looks at anything (400 when missing), and the text rules Meta
//! applies to each parameter (132018).

use serde_json::Value;

/// A sendTemplate body with the fields 1MSG requires.
pub(super) struct SendBody {
    pub template: String,
    pub language: String,
    pub phone: String,
    pub namespace: Option<String>,
    pub params: Vec<String>,
}

/// The body's fields, or the 400 text for the first one missing or wrong.
pub(super) fn read(body: &Value) -> Result<SendBody, String> {
    let template = body
        .get("template")
        .and_then(Value::as_str)
        .ok_or("template is not defined")?
        .to_string();
    let language = body
        .get("language")
        .and_then(|l| l.get("code"))
        .and_then(Value::as_str)
        .ok_or("language is not defined (expected {\"policy\":\"deterministic\",\"code\":\"en\"})")?
        .to_string();
    let phone = recipient(body)?;
    let namespace = body
        .get("namespace")
        .and_then(Value::as_str)
        .map(str::to_string);
    let params = body_params(body.get("params"))?;
    Ok(SendBody {
        template,
        language,
        phone,
        namespace,
        params,
    })
}

/// The recipient's digits from `phone` (string or integer) or `chatId`.
fn recipient(body: &Value) -> Result<String, String> {
    let raw = match (body.get("phone"), body.get("chatId")) {
        (Some(Value::String(s)), _) => s.clone(),
        (Some(Value::Number(n)), _) => n.to_string(),
        (Some(_), _) => return Err("phone must be a string or a number".into()),
        (None, Some(Value::String(c))) => match c.strip_suffix("@c.us") {
            Some(digits) => digits.to_string(),
            None => return Err(format!("chatId `{c}` is not of the form <phone>@c.us")),
        },
        (None, Some(_)) => return Err("chatId must be a string".into()),
        (None, None) => return Err("phone or chatId is required".into()),
    };
    if raw.len() < 6 || raw.len() > 15 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "phone `{raw}` is invalid: use 6 to 15 digits with the country code, no + or spaces"
        ));
    }
    Ok(raw)
}

/// The text parameters of the `body` component, in order.
fn body_params(params: Option<&Value>) -> Result<Vec<String>, String> {
    let list = match params {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err("params must be an array of components".into()),
    };
    let mut out = Vec::new();
    for component in list {
        let kind = component.get("type").and_then(Value::as_str).ok_or(
            "each params component needs a type (header, body or button); a list of strings is not accepted",
        )?;
        let parameters = component
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if kind.eq_ignore_ascii_case("body") {
            for p in parameters {
                let text = match p.get("text") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => p
                        .get("currency")
                        .or_else(|| p.get("date_time"))
                        .and_then(|v| v.get("fallback_value"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                };
                out.push(text);
            }
        } else {
            // Header and button parameters count against the template too;
            // our templates have none, so any is a count mismatch.
            out.extend(parameters.iter().map(|_| String::new()));
        }
    }
    Ok(out)
}

/// What WhatsApp refuses in a text parameter (error 132018).
pub(super) fn param_problem(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() {
        Some("is empty")
    } else if text.contains('\n') || text.contains('\r') {
        Some("contains a new line")
    } else if text.contains('\t') {
        Some("contains a tab")
    } else if text.contains("     ") {
        Some("contains more than 4 consecutive spaces")
    } else {
        None
    }
}
