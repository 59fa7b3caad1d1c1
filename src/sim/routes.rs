//! The HTTP face of the simulated channel: the 1MSG routes under
//! `/{instanceId}/` and the `/__sim` introspection routes.
//!
//! Answers follow `shared/docs/1msg-api.md`: rejections by Meta are HTTP 200
//! with `sent:false`; request and credential problems are 4xx with
//! `{"error": "..."}`; the validation order is that of its §10.2.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use super::scenario::{Fault, StatusCase, UnknownMessage, meta_error_title};
use super::server::Killer;
use super::state::{AnswerDelivery, Decision, Message, SendRequest, SimState, unix_seconds};
use super::webhook;
use crate::api::wire::count_variables;

type Shared = Arc<SimState>;

pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/__sim/messages", get(sim_messages))
        .route("/__sim/stats", get(sim_stats))
        .route("/__sim/revoke", post(sim_revoke))
        .route("/{instance}/sendTemplate", post(send_template))
        .route("/{instance}/hookInfo", get(hook_info))
        .route("/{instance}/templates", get(templates))
        .route("/{instance}/status", get(status))
        .route("/{instance}/me", get(me))
        .route("/{instance}/webhook", get(get_webhook).post(set_webhook))
        .route("/{instance}/settings", get(get_settings).post(set_settings))
        .route("/{instance}/messages", get(messages))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .with_state(state)
}

/// Counts every answer by route and status for `/__sim/stats`.
async fn count_requests(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let route = req
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let response = next.run(req).await;
    state.count(&route, response.status().as_str());
    response
}

fn error(status: StatusCode, text: impl Into<String>) -> Response {
    (status, Json(json!({ "error": text.into() }))).into_response()
}

/// The 401 answer, shaped like the old spec's. The token is masked the way
/// the real API's example masks it, so a log of this answer leaks little.
fn wrong_token(token: Option<&str>, instance: &str) -> Response {
    let shown = match token {
        Some(t) if t.chars().count() > 6 => {
            let middle: String = t.chars().skip(3).take(t.chars().count() - 6).collect();
            format!("xxx{middle}xxx")
        }
        Some(_) => "xxx".into(),
        None => String::new(),
    };
    error(
        StatusCode::UNAUTHORIZED,
        format!(
            "Wrong token \"{shown}\" for channel \"{instance}\". Please provide token as a GET parameter."
        ),
    )
}

/// The token from the body, then the query, then `Authorization` (with or
/// without `Bearer`), in the precedence 1MSG documents.
fn find_token<'a>(
    body: Option<&'a Value>,
    query: &'a HashMap<String, String>,
    headers: &'a HeaderMap,
) -> Option<&'a str> {
    if let Some(t) = body.and_then(|b| b.get("token")).and_then(Value::as_str) {
        return Some(t);
    }
    if let Some(t) = query.get("token") {
        return Some(t.as_str());
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    // The scheme name is case-insensitive (RFC 9110 §11.1); a bare token
    // is accepted too, as the vendor's MCP server does.
    match auth.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => Some(rest.trim()),
        _ => Some(auth),
    }
}

/// A request whose query or `Authorization` header opens the channel (the
/// GET routes, which have no body); it hands on the query parameters.
struct Authorized(HashMap<String, String>);

impl axum::extract::FromRequestParts<Shared> for Authorized {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Shared,
    ) -> Result<Self, Response> {
        let Path(instance) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Query(query) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        authorize(state, &instance, find_token(None, &query, &parts.headers)).map_err(|r| *r)?;
        Ok(Authorized(query))
    }
}

/// Checks instance and token; `Err` is the 401 to return.
fn authorize(state: &SimState, instance: &str, token: Option<&str>) -> Result<(), Box<Response>> {
    if instance == state.scenario.instance_id && state.token_ok(token) {
        Ok(())
    } else {
        Err(Box::new(wrong_token(token, instance)))
    }
}

fn refused(code: i64, details: &str) -> Response {
    let title = meta_error_title(code);
    Json(json!({
        "sent": false,
        "message": format!("(#{code}) {title}"),
        "error": {"code": code, "message": format!("(#{code}) {title}"), "error_data": {"details": details}},
    }))
    .into_response()
}

#[expect(
    clippy::too_many_lines,
    reason = "the real API's checks in the order it answers them; issue 12 reworks this handler"
)]
async fn send_template(
    State(state): State<Shared>,
    Path(instance): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    killer: Option<Extension<Killer>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Result<Value, _> = serde_json::from_slice(&body);
    let token = find_token(parsed.as_ref().ok(), &query, &headers);
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

    // Request shape: the fields 1MSG requires before it looks at anything.
    let Some(template_name) = body.get("template").and_then(Value::as_str) else {
        return error(StatusCode::BAD_REQUEST, "template is not defined");
    };
    let Some(language) = body
        .get("language")
        .and_then(|l| l.get("code"))
        .and_then(Value::as_str)
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "language is not defined (expected {\"policy\":\"deterministic\",\"code\":\"en\"})",
        );
    };
    let phone = match recipient(&body) {
        Ok(p) => p,
        Err(text) => return error(StatusCode::BAD_REQUEST, text),
    };
    let namespace = body
        .get("namespace")
        .and_then(Value::as_str)
        .map(str::to_string);
    let params = match body_params(body.get("params")) {
        Ok(p) => p,
        Err(text) => return error(StatusCode::BAD_REQUEST, text),
    };

    let fate = state.fate(&phone);
    if matches!(
        fate.fault,
        Some(Fault::DropBefore | Fault::Error5xx | Fault::TooManyRequests)
    ) {
        state.spend(&fate);
    }
    match fate.fault {
        Some(Fault::DropBefore) => {
            state.note_fault("drop_before");
            state.count("sendTemplate", "dropped");
            return drop_connection(killer).await;
        }
        Some(Fault::Error5xx) => {
            state.note_fault("5xx");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
        }
        Some(Fault::TooManyRequests) => {
            state.note_fault("429");
            return too_many(state.scenario.limits.retry_after.as_secs().max(1));
        }
        _ => {}
    }

    // Meta's template checks, in order.
    let Some(template) = state
        .templates
        .iter()
        .find(|t| t.name == template_name && t.language == language)
    else {
        state.note_refusal(132001);
        return refused(
            132001,
            &format!("template name ({template_name}) does not exist in {language}"),
        );
    };
    match template.status.to_ascii_lowercase().as_str() {
        "approved" => {}
        "paused" => {
            state.note_refusal(132015);
            return refused(132015, &format!("template {template_name} is paused"));
        }
        "disabled" => {
            state.note_refusal(132016);
            return refused(132016, &format!("template {template_name} is disabled"));
        }
        other => {
            state.note_refusal(132001);
            return refused(
                132001,
                &format!("template {template_name} is not approved (status {other})"),
            );
        }
    }
    let expected = count_variables(&template.body);
    if params.len() != expected {
        state.note_refusal(132000);
        return refused(
            132000,
            &format!(
                "body: number of localizable_params ({}) does not match the expected number of params ({expected})",
                params.len()
            ),
        );
    }
    if let Some((i, why)) = params
        .iter()
        .enumerate()
        .find_map(|(i, p)| param_problem(p).map(|why| (i, why)))
    {
        state.note_refusal(132018);
        return refused(132018, &format!("body parameter {{{{{}}}}}: {why}", i + 1));
    }
    let rendered = render(&template.body, &params);
    let length = rendered.encode_utf16().count();
    if length > 1024 {
        state.note_refusal(132005);
        return refused(
            132005,
            &format!("hydrated body length ({length}) is greater than the limit (1024)"),
        );
    }
    if let Some(code) = fate.reject {
        state.spend(&fate);
        state.note_refusal(code);
        return refused(code, "refused by the scenario");
    }

    let decision = state.admit(
        SendRequest {
            phone: &phone,
            template,
            namespace,
            params,
            body: rendered,
        },
        &fate,
    );
    let response_delay = state.scenario.latency.response.pick(state.draw());
    match decision {
        Decision::TooManyRequests { retry_after } => {
            sleep(response_delay).await;
            too_many(retry_after)
        }
        Decision::Refused { code, details } => {
            state.note_refusal(code);
            sleep(response_delay).await;
            refused(code, &details)
        }
        Decision::Accepted { wamid, delivery } => {
            webhook::schedule(&state, &wamid);
            match delivery {
                AnswerDelivery::DropAfter => {
                    state.note_fault("drop_after");
                    state.count("sendTemplate", "dropped");
                    sleep(response_delay).await;
                    drop_connection(killer).await
                }
                AnswerDelivery::Queued { job_id } => {
                    state.note_fault("queued");
                    sleep(response_delay).await;
                    Json(json!({"sent": false, "message": "queued", "jobId": format!("job-{job_id}")}))
                        .into_response()
                }
                AnswerDelivery::Slow => {
                    state.note_fault("slow");
                    sleep(state.scenario.faults.slow_delay).await;
                    accepted(&wamid, &phone)
                }
                AnswerDelivery::Normal => {
                    sleep(response_delay).await;
                    accepted(&wamid, &phone)
                }
            }
        }
    }
}

fn accepted(wamid: &str, phone: &str) -> Response {
    Json(json!({
        "sent": true,
        "id": wamid,
        "message": format!("Sent to {phone}@c.us"),
        "description": "Message has been sent to the provider",
    }))
    .into_response()
}

fn too_many(retry_after: u64) -> Response {
    let mut resp = error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    resp
}

async fn sleep(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

/// Closes the connection without an answer. Without a killer (the router
/// served by something other than [`super::server`]) the best we can do is a
/// 502, which a client must treat just as ambiguously.
async fn drop_connection(killer: Option<Extension<Killer>>) -> Response {
    match killer {
        Some(Extension(k)) => {
            k.kill();
            std::future::pending::<()>().await;
            unreachable!("the connection is gone")
        }
        None => error(StatusCode::BAD_GATEWAY, "connection dropped"),
    }
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
fn param_problem(text: &str) -> Option<&'static str> {
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

fn render(body: &str, params: &[String]) -> String {
    let mut out = body.to_string();
    for (i, p) in params.iter().enumerate() {
        out = out.replace(&format!("{{{{{}}}}}", i + 1), p);
    }
    out
}

async fn hook_info(State(state): State<Shared>, Authorized(query): Authorized) -> Response {
    let Some(id) = query.get("messageId").filter(|s| !s.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "messageId is required");
    };
    match state.message(id) {
        Some(message) => {
            Json(json!({ "hooks": hooks_json(&message, Instant::now()) })).into_response()
        }
        None => match state.scenario.templates_list.unknown_message {
            UnknownMessage::Empty => Json(json!({"hooks": []})).into_response(),
            UnknownMessage::NotFound => {
                error(StatusCode::NOT_FOUND, format!("Message {id} not found"))
            }
        },
    }
}

/// Meta status objects for the hooks that have arrived.
fn hooks_json(m: &Message, now: Instant) -> Vec<Value> {
    m.hooks_at(now)
        .map(|h| {
            let mut hook = json!({
                "id": m.wamid,
                "type": "message",
                "status": h.status,
                "timestamp": m.unix_time_of(h.after).to_string(),
                "recipient_id": m.phone,
            });
            if h.status != "failed" {
                hook["conversation"] = json!({
                    "id": format!("conv{:012}", m.number),
                    "origin": {"type": "utility"},
                    "expiration_timestamp": m.unix_time_of(h.after) + 86_400,
                });
                hook["pricing"] =
                    json!({"billable": true, "category": "utility", "pricing_model": "PMP"});
            }
            if let Some(code) = h.error {
                hook["errors"] = json!([{
                    "code": code,
                    "title": meta_error_title(code),
                    "message": meta_error_title(code),
                    "error_data": {"details": meta_error_title(code)},
                }]);
            }
            hook
        })
        .collect()
}

async fn templates(State(state): State<Shared>, Authorized(query): Authorized) -> Response {
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
    if state.scenario.templates_list.ignore_offset {
        offset = 0;
    }
    let all: Vec<Value> = state
        .templates
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let status = match state.scenario.templates_list.status_case {
                StatusCase::Lower => t.status.to_ascii_lowercase(),
                StatusCase::Upper => t.status.to_ascii_uppercase(),
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
                "category": t.category,
                "status": status,
                "namespace": t.namespace,
                "rejected_reason": "NONE",
                "components": components,
            })
        })
        .collect();
    let total = all.len();
    let page: Vec<Value> = all.into_iter().skip(offset).take(limit).collect();
    Json(json!({"total": total, "templates": page})).into_response()
}

async fn status(State(state): State<Shared>, _: Authorized) -> Response {
    Json(json!({
        "status": state.scenario.channel_status,
        "accountStatus": "active",
        "mm_lite_available": false,
    }))
    .into_response()
}

async fn me(_: Authorized) -> Response {
    Json(json!({
        "about": "Simulated 1MSG channel",
        "address": "",
        "description": "handoff simulator",
        "email": "",
        "phone": "15550009999",
        "vertical": "OTHER",
        "photo": null,
        "websites": [],
    }))
    .into_response()
}

async fn get_webhook(State(state): State<Shared>, _: Authorized) -> Response {
    let urls = state.lock().settings.webhook_url.clone();
    Json(json!({"webhookUrl": urls})).into_response()
}

/// `webhookUrl` as a string, a comma-separated string or an array.
fn parse_urls(v: &Value) -> Result<Vec<String>, String> {
    let urls: Vec<String> = match v {
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        Value::Array(a) => a
            .iter()
            .map(|u| {
                u.as_str()
                    .map(str::to_string)
                    .ok_or("webhookUrl entries must be strings")
            })
            .collect::<Result<_, _>>()?,
        _ => return Err("webhookUrl must be a string or an array of strings".into()),
    };
    if urls.len() > 5 {
        return Err(format!(
            "at most 5 webhook URLs are allowed, got {}",
            urls.len()
        ));
    }
    if let Some(bad) = urls
        .iter()
        .find(|u| !(u.starts_with("http://") || u.starts_with("https://")))
    {
        return Err(format!("webhook URL `{bad}` is not an http(s) URL"));
    }
    Ok(urls)
}

async fn set_webhook(
    State(state): State<Shared>,
    Path(instance): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    if let Err(resp) = authorize(
        &state,
        &instance,
        find_token(parsed.as_ref(), &query, &headers),
    ) {
        return *resp;
    }
    let Some(value) = parsed.as_ref().and_then(|b| b.get("webhookUrl")) else {
        return error(StatusCode::BAD_REQUEST, "webhookUrl is required");
    };
    match parse_urls(value) {
        Ok(urls) if urls.is_empty() => error(
            StatusCode::BAD_REQUEST,
            "webhookUrl must not be empty; clear it with POST settings {\"webhookUrl\":\"\"}",
        ),
        Ok(urls) => {
            let message = urls.join(",");
            state.lock().settings.webhook_url = urls;
            Json(json!({"set": true, "message": message})).into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

async fn get_settings(State(state): State<Shared>, _: Authorized) -> Response {
    let settings = state.lock().settings.clone();
    Json(settings).into_response()
}

async fn set_settings(
    State(state): State<Shared>,
    Path(instance): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Result<Value, _> = serde_json::from_slice(&body);
    if let Err(resp) = authorize(
        &state,
        &instance,
        find_token(parsed.as_ref().ok(), &query, &headers),
    ) {
        return *resp;
    }
    let Ok(Value::Object(fields)) = parsed else {
        return error(
            StatusCode::BAD_REQUEST,
            "Request body must be a JSON object",
        );
    };
    let mut changed = serde_json::Map::new();
    let mut guard = state.lock();
    // Work on a copy: a request refused for one field changes nothing.
    let mut updated = guard.settings.clone();
    let settings = &mut updated;
    for (key, value) in fields {
        match key.as_str() {
            "token" => continue,
            "webhookUrl" => match parse_urls(&value) {
                Ok(urls) => settings.webhook_url = urls,
                Err(e) => return error(StatusCode::BAD_REQUEST, e),
            },
            "ackNotificationsOn"
            | "guaranteedHooks"
            | "rawHooks"
            | "template_analytics_enabled"
            | "cta_url_link_tracking_opted_out" => {
                let Some(flag) = value.as_bool() else {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!("{key} must be true or false"),
                    );
                };
                let slot = match key.as_str() {
                    "ackNotificationsOn" => &mut settings.ack_notifications_on,
                    "guaranteedHooks" => &mut settings.guaranteed_hooks,
                    "rawHooks" => &mut settings.raw_hooks,
                    "template_analytics_enabled" => &mut settings.template_analytics_enabled,
                    _ => &mut settings.cta_url_link_tracking_opted_out,
                };
                *slot = flag;
            }
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown setting `{other}`"),
                );
            }
        }
        changed.insert(key, value);
    }
    let mut answer = serde_json::to_value(&updated).unwrap_or_default();
    guard.settings = updated;
    answer["update"] = Value::Object(changed);
    Json(answer).into_response()
}

async fn messages(State(state): State<Shared>, Authorized(query): Authorized) -> Response {
    if !state.scenario.history.enabled {
        return Json(json!({
            "messages": [],
            "notice": "Message history is not stored for this channel. Enable history storage to use this method.",
        }))
        .into_response();
    }
    let num = |key: &str| query.get(key).and_then(|v| v.parse::<u64>().ok());
    let chat_id = query.get("chatId").map(String::as_str);
    let msg_id = query.get("msgId").map(String::as_str);
    let (min_time, max_time) = (num("min_time"), num("max_time"));
    let (after_number, before_number) = (num("lastMessageNumber"), num("firstMessageNumber"));
    let limit = num("limit").unwrap_or(100);
    let newest_first = query.get("last").is_some_and(|v| v == "true" || v == "1");
    let now = Instant::now();
    let queued_delay = state.scenario.faults.queued_delay;
    let inner = state.lock();
    let mut found: Vec<&Message> = inner
        .messages
        .iter()
        // A queued message exists in history only once it was really sent.
        .filter(|m| m.job_id.is_none() || now >= m.accepted_instant + queued_delay)
        .filter(|m| chat_id.is_none_or(|c| c == format!("{}@c.us", m.phone)))
        .filter(|m| msg_id.is_none_or(|id| id == m.wamid))
        .filter(|m| {
            let t = unix_seconds(m.accepted_at);
            min_time.is_none_or(|min| t >= min) && max_time.is_none_or(|max| t <= max)
        })
        .filter(|m| after_number.is_none_or(|n| m.number > n))
        .filter(|m| before_number.is_none_or(|n| m.number < n))
        .collect();
    if newest_first {
        found.reverse();
    }
    if limit > 0 {
        found.truncate(limit as usize);
    }
    let list: Vec<Value> = found
        .iter()
        .map(|m| {
            json!({
                "messageNumber": m.number,
                "id": m.wamid,
                "body": m.body,
                "fromMe": true,
                "self": 0,
                "isForwarded": false,
                "author": format!("{}@c.us", m.phone),
                "time": unix_seconds(m.accepted_at),
                "chatId": format!("{}@c.us", m.phone),
                "type": "template",
                "senderName": "",
                "caption": null,
                "quotedMsgId": null,
                "metadata": {"template": m.template, "language": m.language, "namespace": m.namespace},
                "chatName": m.phone,
            })
        })
        .collect();
    Json(json!({"messages": list})).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "could not find that method")
}

async fn sim_messages(State(state): State<Shared>) -> Response {
    let now = Instant::now();
    let inner = state.lock();
    let list: Vec<Value> = inner
        .messages
        .iter()
        .map(|m| {
            let at: chrono::DateTime<chrono::Utc> = m.accepted_at.into();
            json!({
                "number": m.number,
                "wamid": m.wamid,
                "phone": m.phone,
                "template": m.template,
                "namespace": m.namespace,
                "language": m.language,
                "params": m.params,
                "body": m.body,
                "accepted_at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "accepted_unix_ms": at.timestamp_millis(),
                "status": m.status_at(now),
                "job_id": m.job_id,
            })
        })
        .collect();
    Json(json!({"count": list.len(), "messages": list})).into_response()
}

async fn sim_stats(State(state): State<Shared>) -> Response {
    let stats = state.lock().stats.clone();
    Json(stats).into_response()
}

async fn sim_revoke(State(state): State<Shared>) -> Response {
    state.revoke_token();
    Json(json!({"revoked": true})).into_response()
}
