//! `POST sendTemplate`: 1MSG's checks in the order it answers them (token,
//! request shape, channel, template), then the limits, then the answer in
//! the shape the scenario draws for it.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Value, json};

use super::Shared;
use super::auth::{authorize, find_token};
use super::reply::{drop_connection, error, html_page, refused, sleep, too_many, unprocessable};
use super::request::{self, SendBody, param_problem};
use crate::scenario::{CountMismatch, Fault, TemplateSpec};
use crate::server::Killer;
use crate::state::{AnswerDelivery, Decision, SendRequest, SimState};
use crate::webhook;

pub(super) async fn send_template(
    State(state): State<Shared>,
    Path(instance): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    killer: Option<Extension<Killer>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Result<Value, _> = serde_json::from_slice(&body);
    let token = find_token(
        &state,
        "sendTemplate",
        parsed.as_ref().ok(),
        &query,
        &headers,
    );
    if let Err(resp) = authorize(&state, &instance, token) {
        return *resp;
    }
    let body = match parsed {
        Ok(Value::Object(map)) => Value::Object(map),
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Request body must be a JSON object",
            );
        }
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("Request body is not valid JSON: {e}"),
            );
        }
    };
    let req = match request::read(&body) {
        Ok(req) => req,
        Err(text) => return error(StatusCode::BAD_REQUEST, text),
    };
    if state.scenario.require_namespace && req.namespace.is_none() {
        state.note_fault("namespace_required");
        return unprocessable("namespace", "The namespace field is required.");
    }

    let fate = state.fate(&req.phone);
    if let Some(fault) = fate.fault.filter(|f| f.before_processing()) {
        state.spend(&fate);
        return unprocessed(&state, fault, killer).await;
    }
    if !state.connected() {
        // 1MSG's own plain-text refusal: no Meta code, nothing accepted.
        state.note_fault("not_connected");
        return Json(json!({"sent": false, "message": "Channel is not connected"})).into_response();
    }
    let (template, rendered) = match check_template(&state, &req) {
        Ok(checked) => checked,
        Err(resp) => return *resp,
    };
    if let Some(code) = fate.reject {
        state.spend(&fate);
        state.note_refusal(code);
        return refused(code, "refused by the scenario");
    }

    let decision = state.admit(
        SendRequest {
            phone: &req.phone,
            template,
            namespace: req.namespace.clone(),
            params: req.params.clone(),
            body: rendered,
        },
        &fate,
    );
    answer(&state, decision, &req.phone, killer).await
}

/// The answer to a request the fault stops before anything is processed.
async fn unprocessed(
    state: &SimState,
    fault: Fault,
    killer: Option<Extension<Killer>>,
) -> Response {
    match fault {
        Fault::DropBefore => {
            state.note_fault("drop_before");
            state.count("sendTemplate", "dropped");
            drop_connection(killer).await
        }
        Fault::TooManyRequests => {
            state.note_fault("429");
            too_many(retry_after(
                state,
                state.scenario.limits.retry_after.as_secs(),
            ))
        }
        Fault::Html502 => {
            state.note_fault("html_502");
            html_page(StatusCode::BAD_GATEWAY)
        }
        Fault::Overload200 => {
            state.note_fault("overload_200");
            let text = "Too many requests. Please try again later.";
            Json(json!({"sent": false, "message": text})).into_response()
        }
        Fault::Error503 => {
            state.note_fault("503");
            html_page(StatusCode::SERVICE_UNAVAILABLE)
        }
        _ => {
            state.note_fault("5xx");
            error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
        }
    }
}

/// The `Retry-After` a 429 carries, unless the scenario leaves it out.
fn retry_after(state: &SimState, secs: u64) -> Option<u64> {
    (!state.scenario.limits.omit_retry_after).then_some(secs.max(1))
}

/// Meta's template checks, in order; the template and the filled-in body,
/// or the refusal.
fn check_template<'a>(
    state: &'a SimState,
    req: &SendBody,
) -> Result<(&'a TemplateSpec, String), Box<Response>> {
    let refuse = |code: i64, details: String| {
        state.note_refusal(code);
        Box::new(refused(code, &details))
    };
    let (name, language) = (&req.template, &req.language);
    let Some(template) = state
        .templates
        .iter()
        .find(|t| &t.name == name && &t.language == language)
    else {
        return Err(refuse(
            132001,
            format!("template name ({name}) does not exist in {language}"),
        ));
    };
    if state.scenario.require_namespace && req.namespace.as_deref() != Some(&template.namespace) {
        state.note_fault("namespace_invalid");
        return Err(Box::new(unprocessable(
            "namespace",
            "The selected namespace is invalid.",
        )));
    }
    match state.template_now(template).0.to_ascii_lowercase().as_str() {
        "approved" => {}
        "paused" => return Err(refuse(132015, format!("template {name} is paused"))),
        "disabled" => return Err(refuse(132016, format!("template {name} is disabled"))),
        other => {
            return Err(refuse(
                132001,
                format!("template {name} is not approved (status {other})"),
            ));
        }
    }
    let (expected, got) = (template.variables(), req.params.len());
    if got != expected {
        return Err(match state.scenario.count_mismatch_as {
            CountMismatch::Meta => refuse(
                132000,
                format!(
                    "body: number of localizable_params ({got}) does not match the expected number of params ({expected})"
                ),
            ),
            CountMismatch::Http422 => {
                state.note_fault("count_mismatch_422");
                Box::new(unprocessable(
                    "params",
                    &format!(
                        "Template variable count mismatch: the template expects {expected} parameters, {got} given."
                    ),
                ))
            }
        });
    }
    if let Some((i, why)) = req
        .params
        .iter()
        .enumerate()
        .find_map(|(i, p)| param_problem(p).map(|why| (i, why)))
    {
        return Err(refuse(
            132018,
            format!("body parameter {{{{{}}}}}: {why}", i + 1),
        ));
    }
    let rendered = template.render(&req.params);
    let length = rendered.encode_utf16().count();
    if length > 1024 {
        return Err(refuse(
            132005,
            format!("hydrated body length ({length}) is greater than the limit (1024)"),
        ));
    }
    Ok((template, rendered))
}

/// The answer to a request that reached the limits.
async fn answer(
    state: &Shared,
    decision: Decision,
    phone: &str,
    killer: Option<Extension<Killer>>,
) -> Response {
    let response_delay = state.scenario.latency.response.pick(state.draw());
    let (wamid, delivery) = match decision {
        Decision::TooManyRequests { retry_after: secs } => {
            sleep(response_delay).await;
            return too_many(retry_after(state, secs));
        }
        Decision::Refused { code, details } => {
            state.note_refusal(code);
            sleep(response_delay).await;
            return refused(code, &details);
        }
        Decision::Accepted { wamid, delivery } => (wamid, delivery),
    };
    webhook::schedule(state, &wamid);
    if delivery != AnswerDelivery::Normal {
        state.note_fault(delivery.name());
    }
    if delivery == AnswerDelivery::Slow {
        sleep(state.scenario.faults.slow_delay).await;
    } else {
        sleep(response_delay).await;
    }
    let to = format!("Sent to {phone}@c.us");
    let description = "Message has been sent to the provider";
    let body = match delivery {
        AnswerDelivery::DropAfter => {
            state.count("sendTemplate", "dropped");
            return drop_connection(killer).await;
        }
        AnswerDelivery::Html504 => return html_page(StatusCode::GATEWAY_TIMEOUT),
        AnswerDelivery::Queued { job_id, numeric } => {
            let job = if numeric {
                json!(job_id)
            } else {
                json!(format!("job-{job_id}"))
            };
            json!({"sent": false, "message": "queued", "jobId": job})
        }
        AnswerDelivery::Normal | AnswerDelivery::Slow => {
            json!({"sent": true, "id": wamid, "message": to, "description": description})
        }
        AnswerDelivery::SentNoId => json!({"sent": true, "message": to}),
        AnswerDelivery::IdInMessage => json!({"sent": true, "message": wamid}),
        AnswerDelivery::NoSentField => json!({"id": wamid, "message": to}),
        AnswerDelivery::SentAsString => {
            json!({"sent": "true", "id": wamid, "message": to, "description": description})
        }
        AnswerDelivery::NumericId => {
            let id: u64 = wamid.parse().unwrap_or_default();
            json!({"sent": true, "id": id, "message": to, "description": description})
        }
        AnswerDelivery::CloudShape | AnswerDelivery::Held => {
            let status = match delivery {
                AnswerDelivery::Held => "held_for_quality_assessment",
                _ => "accepted",
            };
            json!({
                "messaging_product": "whatsapp",
                "contacts": [{"input": phone, "wa_id": phone}],
                "messages": [{"id": wamid, "message_status": status}],
            })
        }
    };
    Json(body).into_response()
}
