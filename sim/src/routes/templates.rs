//! `GET templates`: the channel's templates, paged, in the shape the
//! scenario asks for (`[templates_list]`), failing first if it says so.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::auth::Authorized;
use super::reply::{error, failure};
use crate::scenario::{ListShape, StatusCase, TemplateSpec};

pub(super) async fn templates(
    State(state): State<Shared>,
    Authorized(query): Authorized,
) -> Response {
    let list = &state.scenario.templates_list;
    if state.templates_request_fails() {
        state.note_fault(&format!("templates_{}", list.fail_status));
        let status =
            StatusCode::from_u16(list.fail_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let limits = &state.scenario.limits;
        let retry_after = (!limits.omit_retry_after).then(|| limits.retry_after.as_secs().max(1));
        return failure(status, retry_after);
    }
    let number = |key: &str, default: usize| -> Result<usize, String> {
        match query.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("{key} must be a whole number")),
        }
    };
    let (limit, mut offset) = match (number("limit", 100), number("offset", 0)) {
        (Ok(l), Ok(o)) => (l, o),
        (Err(e), _) | (_, Err(e)) => return error(StatusCode::BAD_REQUEST, e),
    };
    if list.error_object {
        // NEW's ListTemplates200Response: Meta refused, so the list is empty.
        return Json(json!({
            "templates": [],
            "error": {"code": 190, "message": "Error validating access token: Session has expired"},
        }))
        .into_response();
    }
    if list.ignore_offset {
        offset = 0;
    }
    let all: Vec<Value> = state
        .templates
        .iter()
        .enumerate()
        .map(|(i, t)| template_json(i, t, state.template_now(t), list.status_case))
        .collect();
    let total = all.len();
    let page: Vec<Value> = all.into_iter().skip(offset).take(limit).collect();
    let total = if list.total_as_string {
        json!(total.to_string())
    } else {
        json!(total)
    };
    match list.shape {
        ListShape::Object => Json(json!({"total": total, "templates": page})),
        ListShape::BareArray => Json(Value::Array(page)),
    }
    .into_response()
}

fn template_json(
    i: usize,
    t: &TemplateSpec,
    (status, category): (&str, &str),
    case: StatusCase,
) -> Value {
    let status = match case {
        StatusCase::Lower => status.to_ascii_lowercase(),
        StatusCase::Upper => status.to_ascii_uppercase(),
    };
    let mut components = vec![json!({"type": "BODY", "text": t.body})];
    if !t.button.is_empty() {
        components.push(json!({"type": "BUTTONS", "buttons": [
            {"type": "URL", "text": t.button, "url": t.button_url}
        ]}));
    }
    json!({
        "id": (7700 + i).to_string(),
        "name": t.name,
        "language": t.language,
        "category": category,
        "status": status,
        "quality_score": {"score": t.quality},
        "namespace": t.namespace,
        "rejected_reason": "NONE",
        "components": components,
    })
}
