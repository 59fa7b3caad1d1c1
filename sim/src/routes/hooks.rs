//! `GET hookInfo?messageId=`: the statuses that have "arrived" for a
//! message, in the shape the scenario asks for (`hooks.shape`).

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::auth::Authorized;
use super::reply::error;
use crate::scenario::{HookShape, Hooks, UnknownMessage, meta_error_title};
use crate::state::{Message, PlannedHook};
use crate::webhook::ack_json;

pub(super) async fn hook_info(
    State(state): State<Shared>,
    Authorized(query): Authorized,
) -> Response {
    let Some(id) = query.get("messageId").filter(|s| !s.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "messageId is required");
    };
    match state.message(id) {
        Some(message) => {
            let hooks = hooks_json(&state.scenario.hooks, &message, Instant::now());
            Json(json!({ "hooks": hooks })).into_response()
        }
        None => match state.scenario.templates_list.unknown_message {
            UnknownMessage::Empty => Json(json!({"hooks": []})).into_response(),
            UnknownMessage::NotFound => {
                error(StatusCode::NOT_FOUND, format!("Message {id} not found"))
            }
        },
    }
}

/// The hooks of `m` that have arrived by `now`, shaped.
fn hooks_json(words: &Hooks, m: &Message, now: Instant) -> Vec<Value> {
    let arrived = m.hooks_at(now);
    let pricing = words.pricing.as_str();
    let meta_hook = |h| meta_hook(m, h, pricing);
    match words.shape {
        HookShape::Meta => arrived.map(meta_hook).collect(),
        HookShape::NormalizedAck => arrived.map(|h| ack_json(m, h)).collect(),
        HookShape::RawEnvelope => arrived.map(|h| envelope(meta_hook(h))).collect(),
        HookShape::LooseTypes => {
            let mut out = Vec::new();
            for (i, h) in arrived.enumerate() {
                out.push(loosen(m, h, meta_hook(h)));
                if i == 0 {
                    out.push(without_status(m, h, pricing));
                }
            }
            out
        }
    }
}

/// A Meta status object, with `errors[]` on a failure.
fn meta_hook(m: &Message, h: &PlannedHook, pricing_type: &str) -> Value {
    let mut hook = json!({
        "id": m.wamid,
        "type": "message",
        "status": h.status,
        "timestamp": m.unix_time_of(h.after).to_string(),
        "recipient_id": m.phone,
    });
    if h.error.is_none() {
        hook["conversation"] = json!({
            "id": format!("conv{:012}", m.number),
            "origin": {"type": "utility"},
            "expiration_timestamp": m.unix_time_of(h.after) + 86_400,
        });
        if let Some(pricing) = pricing(m, pricing_type) {
            hook["pricing"] = pricing;
        }
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
}

/// `hook` inside Meta's webhook envelope, as `rawHooks` forwards it: the
/// status sits at `entry[0].changes[0].value.statuses[0]`.
fn envelope(hook: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550009999", "phone_number_id": "106540352242922"},
                    "statuses": [hook],
                },
            }],
        }],
    })
}

/// Numbers where Meta writes strings and the other way round, and an empty
/// `error_data`.
fn loosen(m: &Message, h: &PlannedHook, mut hook: Value) -> Value {
    hook["recipient_id"] = json!(m.phone.parse::<u64>().unwrap_or_default());
    hook["timestamp"] = json!(m.unix_time_of(h.after));
    if let Some(errors) = hook.get_mut("errors").and_then(Value::as_array_mut) {
        for e in errors {
            e["code"] = json!(h.error.unwrap_or_default().to_string());
            e["error_data"] = json!({});
        }
    }
    hook
}

/// A hook that carries no status (a pricing update), which a reader must
/// skip rather than fail on.
fn without_status(m: &Message, h: &PlannedHook, pricing_type: &str) -> Value {
    json!({
        "id": m.wamid,
        "type": "message",
        "timestamp": m.unix_time_of(h.after),
        "recipient_id": m.phone.parse::<u64>().unwrap_or_default(),
        "pricing": pricing(m, pricing_type),
    })
}

/// Meta's `pricing` object of a status (no amount: the price comes from a
/// rate card), or none when the scenario's `hooks.pricing` is `none`.
fn pricing(m: &Message, pricing_type: &str) -> Option<Value> {
    (pricing_type != "none").then(|| {
        json!({
            "billable": pricing_type == "regular",
            "category": m.category,
            "pricing_model": "PMP",
            "type": pricing_type,
        })
    })
}
