//! The channel's other routes: `status`, `me`, `webhook` and `settings`.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::auth::{Authorized, authorize, find_token};
use super::reply::error;

pub(super) async fn status(State(state): State<Shared>, _: Authorized) -> Response {
    Json(json!({
        "status": state.channel_status(),
        "accountStatus": "active",
        "mm_lite_available": false,
    }))
    .into_response()
}

pub(super) async fn me(_: Authorized) -> Response {
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

/// `GET blockedUsers` (1MSG's newer SDKs): the users blocked on the
/// channel, each as a `wa_id`; the real item's shape is not documented.
pub(super) async fn blocked_users(State(state): State<Shared>, _: Authorized) -> Response {
    let users: Vec<_> = state
        .scenario
        .blocked_users
        .iter()
        .map(|phone| json!({ "wa_id": phone }))
        .collect();
    Json(json!({ "blockedUsers": users })).into_response()
}

pub(super) async fn get_webhook(State(state): State<Shared>, _: Authorized) -> Response {
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

pub(super) async fn set_webhook(
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
        find_token(&state, "webhook", parsed.as_ref(), &query, &headers),
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

pub(super) async fn get_settings(State(state): State<Shared>, _: Authorized) -> Response {
    let settings = state.lock().settings.clone();
    Json(settings).into_response()
}

pub(super) async fn set_settings(
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
        find_token(&state, "settings", parsed.as_ref().ok(), &query, &headers),
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
